/** Small helpers for walking untyped OpenAPI JSON. */
import { isRecord } from "../types.js";

export type JsonObject = Record<string, unknown>;

export const DEFINITIONS_PREFIX = "#/definitions/";
export const PARAMETERS_PREFIX = "#/parameters/";

export function asObject(v: unknown): JsonObject | undefined {
  return isRecord(v) ? v : undefined;
}

export function asString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Calls `visit` for every `$ref` string found anywhere below `node`. */
export function forEachRef(node: unknown, visit: (ref: string) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) forEachRef(item, visit);
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") visit(value);
    else if (typeof value === "object" && value !== null) forEachRef(value, visit);
  }
}

/** Rewrites, in place, every `$ref` below `node` for which `rename` returns a new value. */
export function rewriteRefs(node: unknown, rename: (ref: string) => string | undefined): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item, rename);
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      const next = rename(value);
      if (next !== undefined) node[key] = next;
    } else if (typeof value === "object" && value !== null) {
      rewriteRefs(value, rename);
    }
  }
}

/** Names of the definitions `node` refers to directly. */
export function definitionRefs(node: unknown): string[] {
  const out: string[] = [];
  forEachRef(node, (ref) => {
    if (ref.startsWith(DEFINITIONS_PREFIX)) out.push(ref.slice(DEFINITIONS_PREFIX.length));
  });
  return out;
}

/**
 * The names of `roots` and every definition reachable from them through `$ref`s, restricted to names
 * `accept` allows (all when omitted). Unknown names are skipped.
 */
export function definitionClosure(
  definitions: Record<string, unknown>,
  roots: Iterable<string>,
  accept: (name: string) => boolean = () => true,
): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || !accept(name)) continue;
    const def = definitions[name];
    if (def === undefined) continue;
    seen.add(name);
    for (const next of definitionRefs(def)) if (!seen.has(next)) stack.push(next);
  }
  return seen;
}

/** A deep copy of plain JSON data. */
export function cloneJson<T>(v: T): T {
  return structuredClone(v);
}

/** Serializes with object keys sorted, so equal documents give equal bytes (and hashes). */
export function stableStringify(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isRecord(v)) return v;
  const out: JsonObject = {};
  for (const key of Object.keys(v).sort()) out[key] = sortKeys(v[key]);
  return out;
}
