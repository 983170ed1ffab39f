/** Number formatting shared by the report sections. */

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/** Latency with enough digits to show sub-millisecond figures. */
export function latency(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  return ms < 0.1 ? ms.toFixed(4) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/** A count with thousands separators: 100,000. */
export function count(n: number): string {
  return n.toLocaleString("en");
}
