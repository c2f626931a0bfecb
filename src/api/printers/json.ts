/** Narrowing readers for stored JSON, so printers can walk objects without casts. */

import { isRecord } from "../types.js";

export type Path = ReadonlyArray<string | number>;

/** The value at `path` inside `v`, or undefined when any step is missing or of the wrong shape. */
export function at(v: unknown, ...path: Path): unknown {
  let cur = v;
  for (const step of path) {
    if (typeof step === "number") {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step];
    } else {
      if (!isRecord(cur)) return undefined;
      cur = cur[step];
    }
  }
  return cur;
}

/** A string, or "" (Go's zero value). */
export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** A string, or undefined when absent (Go's *string). */
export function optStr(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A finite number, or 0 (Go's zero value). */
export function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** A number, or undefined when absent (Go's *int32). */
export function optNum(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function bool(v: unknown): boolean {
  return v === true;
}

export function optBool(v: unknown): boolean | undefined {
  return typeof v === "boolean" ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/** A map of strings (labels, selectors), dropping non-string values. */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === "string") out[k] = val;
  return out;
}

/** An IntOrString rendered as Go's IntOrString.String(). */
export function intOrString(v: unknown): string {
  if (typeof v === "number") return String(Math.trunc(v));
  return str(v);
}
