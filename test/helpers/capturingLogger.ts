import type { Logger } from "../../src/index.js";

export interface CapturedLine {
  level: keyof Logger;
  message: string;
}

/** A Logger that keeps every line, to count what `ctx.log` wrote. */
export function capturingLogger(): Logger & { lines: CapturedLine[]; messages(level?: keyof Logger): string[] } {
  const lines: CapturedLine[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string): void => {
      lines.push({ level, message });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    messages: (level) => lines.filter((l) => level === undefined || l.level === level).map((l) => l.message),
  };
}
