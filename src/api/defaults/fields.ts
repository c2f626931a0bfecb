/**
 * Field helpers that mirror Go's zero-value tests on the JSON form of an object.
 *
 * Upstream defaulters run on typed Go structs, so "unset" means the Go zero value: a nil pointer
 * (JSON absent or null), an empty string, a zero int. Each helper names which of these it treats
 * as unset; none of them replaces a value of the wrong JSON type (validation reports those).
 */
import { isRecord } from "../types.js";

export type Obj = Record<string, unknown>;

/** The object at `key`, or undefined when absent, null or not an object. */
export function child(o: Obj, key: string): Obj | undefined {
  const v = o[key];
  return isRecord(v) ? v : undefined;
}

/**
 * The object at `key`, created as {} when absent or null (a Go value struct, or a pointer the
 * defaulter allocates). Undefined when the field holds something that is not an object.
 */
export function ensure(o: Obj, key: string): Obj | undefined {
  const v = o[key];
  if (isRecord(v)) return v;
  if (v !== undefined && v !== null) return undefined;
  const made: Obj = {};
  o[key] = made;
  return made;
}

/** The objects in the array at `key` (entries that are not objects are skipped). */
export function items(o: Obj, key: string): Obj[] {
  const v = o[key];
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** True when a pointer field is nil: absent or null. */
export function isNil(v: unknown): boolean {
  return v === undefined || v === null;
}

/** Pointer field: set when absent or null. */
export function defaultPtr(o: Obj, key: string, value: unknown): void {
  if (isNil(o[key])) o[key] = value;
}

/** Value string field: set when absent, null or "". */
export function defaultString(o: Obj, key: string, value: string): void {
  const v = o[key];
  if (isNil(v) || v === "") o[key] = value;
}

/** Value integer field: set when absent, null or 0. */
export function defaultInt(o: Obj, key: string, value: number): void {
  const v = o[key];
  if (isNil(v) || v === 0) o[key] = value;
}

/** Slice or map field: true when absent, null or empty (Go `len(x) == 0`). */
export function isEmpty(v: unknown): boolean {
  if (isNil(v)) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isRecord(v)) return Object.keys(v).length === 0;
  return false;
}
