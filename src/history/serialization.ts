import type { ErrorLocation } from "../errors/errors.js";
import { NotSerializableError } from "../errors/errors.js";

/** Deeper values are refused: they are never legitimate data, and would exhaust the stack. */
const MAX_DEPTH = 256;

/** A value Perdure can store: what survives JSON unchanged. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Checks that `value` survives a JSON round trip unchanged, naming the first part that
 * does not. JSON.stringify alone would silently drop functions, turn NaN into null, Maps
 * into `{}` and Dates into strings — a durable engine must refuse those instead.
 *
 * Every input, result and output goes through here, so the walk keeps the keys on its way
 * down in a stack and spells the path out only for an error (building it for every value
 * made the check cost 1.5x a JSON.stringify of the same value).
 */
export function assertSerializable(value: unknown, path: string, where: ErrorLocation = {}): void {
  const seen = new Set<object>();
  const keys: (string | number)[] = [];
  const fail = (reason: string): never => {
    const at = path + keys.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");
    throw new NotSerializableError(at, reason, where);
  };
  const visit = (v: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) fail(`is nested more than ${MAX_DEPTH} levels deep`);
    switch (typeof v) {
      case "undefined":
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(v)) fail(`is ${v}, which JSON cannot represent`);
        return;
      case "bigint":
        fail("is a BigInt; pass it as a string (value.toString())");
        break;
      case "function":
        fail("is a function");
        break;
      case "symbol":
        fail("is a symbol");
        break;
    }
    if (v === null) return;
    const obj = v as object;
    if (seen.has(obj)) fail("refers back to itself (circular reference)");
    if (Array.isArray(obj)) {
      seen.add(obj);
      for (let i = 0; i < obj.length; i++) {
        // Holes are skipped, as forEach skips them (JSON writes them as null).
        if (!(i in obj)) continue;
        const item: unknown = obj[i];
        keys.push(i);
        if (item === undefined) fail("is undefined inside an array");
        visit(item, depth + 1);
        keys.pop();
      }
      seen.delete(obj);
      return;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = obj.constructor?.name ?? "object";
      const hint =
        obj instanceof Date ? "; pass date.toISOString() or date.getTime()" : "; convert it to a plain object or array";
      fail(`is a ${kind}${hint}`);
    }
    seen.add(obj);
    for (const key of Object.keys(obj)) {
      keys.push(key);
      visit((obj as Record<string, unknown>)[key], depth + 1);
      keys.pop();
    }
    seen.delete(obj);
  };
  visit(value, 0);
}

/** Serialises a checked value; `undefined` is stored as SQL NULL. */
export function encode(value: unknown, path: string, where: ErrorLocation = {}): string | null {
  assertSerializable(value, path, where);
  return value === undefined ? null : JSON.stringify(value);
}

/** Parses a stored value; SQL NULL reads back as `undefined`. */
export function decode(text: string | null | undefined): unknown {
  return text === null || text === undefined ? undefined : JSON.parse(text);
}
