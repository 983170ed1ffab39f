/** A Markdown table with padded columns, so it reads the same in a terminal and on GitHub. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAlign: readonly boolean[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length), 3));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (rightAlign[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}
