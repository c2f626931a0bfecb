/** Small readers for untyped API JSON, and a deep equality check as apiequality.Semantic uses it for JSON. */

import { isRecord } from "../types.js";

export type Json = Record<string, unknown>;

export function rec(v: unknown): Json {
  return isRecord(v) ? v : {};
}

export function recOrUndef(v: unknown): Json | undefined {
  return isRecord(v) ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

export function strOrUndef(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

/** String map (labels, annotations, selectors); non-string values are stringified. */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) out[k] = typeof val === "string" ? val : String(val);
  return out;
}

/** Deep equality of JSON values; missing, null, "", false, [] and {} count as the same Go zero value. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const za = isZero(a);
  const zb = isZero(b);
  if (za || zb) return za && zb;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!jsonEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isRecord(v)) return Object.keys(v).length === 0;
  return false;
}

/** A deep copy of JSON data. */
export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
