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
 */
export function assertSerializable(value: unknown, path: string, where: ErrorLocation = {}): void {
  const seen = new Set<object>();
  const visit = (v: unknown, at: string, depth = 0): void => {
    if (depth > MAX_DEPTH) throw new NotSerializableError(at, `is nested more than ${MAX_DEPTH} levels deep`, where);
    switch (typeof v) {
      case "undefined":
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(v)) throw new NotSerializableError(at, `is ${v}, which JSON cannot represent`, where);
        return;
      case "bigint":
        throw new NotSerializableError(at, "is a BigInt; pass it as a string (value.toString())", where);
      case "function":
        throw new NotSerializableError(at, "is a function", where);
      case "symbol":
        throw new NotSerializableError(at, "is a symbol", where);
    }
    if (v === null) return;
    const obj = v as object;
    if (seen.has(obj)) throw new NotSerializableError(at, "refers back to itself (circular reference)", where);
    if (Array.isArray(obj)) {
      seen.add(obj);
      obj.forEach((item, i) => {
        if (item === undefined) throw new NotSerializableError(`${at}[${i}]`, "is undefined inside an array", where);
        visit(item, `${at}[${i}]`, depth + 1);
      });
      seen.delete(obj);
      return;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = obj.constructor?.name ?? "object";
      const hint =
        obj instanceof Date ? "; pass date.toISOString() or date.getTime()" : "; convert it to a plain object or array";
      throw new NotSerializableError(at, `is a ${kind}${hint}`, where);
    }
    seen.add(obj);
    for (const [key, item] of Object.entries(obj)) visit(item, `${at}.${key}`, depth + 1);
    seen.delete(obj);
  };
  visit(value, path);
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
