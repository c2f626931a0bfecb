/**
 * Field sets as structured-merge-diff has them: a tree of path elements ("f:name",
 * `k:{"name":"nginx"}`, `v:"finalizer"`, "i:0") whose members are the owned fields, serialised as
 * metav1.FieldsV1. Plus the schema-aware walks apply needs: the set of fields a value sets, the
 * comparison of two values, and removal of fields.
 */
import type { SchemaNode } from "../schema/model.js";
import { isRecord } from "../types.js";
import { deepEqual } from "./values.js";

export class FieldSet {
  /** Path elements that are themselves owned (leaves, list items). */
  readonly members = new Set<string>();
  /** Path elements with owned fields below them. */
  readonly children = new Map<string, FieldSet>();

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  insert(path: readonly string[]): void {
    let cur: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) cur = cur.child(path[i] ?? "");
    const last = path[path.length - 1];
    if (last !== undefined) cur.members.add(last);
  }

  has(path: readonly string[]): boolean {
    let cur: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && cur; i++) cur = cur.children.get(path[i] ?? "");
    const last = path[path.length - 1];
    return cur !== undefined && last !== undefined && cur.members.has(last);
  }

  child(pe: string): FieldSet {
    let c = this.children.get(pe);
    if (!c) {
      c = new FieldSet();
      this.children.set(pe, c);
    }
    return c;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    out.addAll(other);
    return out;
  }

  private addAll(other: FieldSet): void {
    for (const m of other.members) this.members.add(m);
    for (const [pe, c] of other.children) this.child(pe).addAll(c);
  }

  clone(): FieldSet {
    const out = new FieldSet();
    out.addAll(this);
    return out;
  }

  /** Members of this set that are not members of `other` (member by member, as fieldpath.Set.Difference). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      const d = o ? c.difference(o) : c.clone();
      if (!d.isEmpty()) out.children.set(pe, d);
    }
    return out;
  }

  /** Removes whole subtrees: anything at or below a member of `other` (fieldpath.Set.RecursiveDifference). */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      if (other.members.has(pe)) continue;
      const o = other.children.get(pe);
      const d = o ? c.recursiveDifference(o) : c.clone();
      if (!d.isEmpty()) out.children.set(pe, d);
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (!o) continue;
      const d = c.intersection(o);
      if (!d.isEmpty()) out.children.set(pe, d);
    }
    return out;
  }

  /** Every member path, in FieldsV1 order. */
  paths(prefix: string[] = []): string[][] {
    const out: string[][] = [];
    for (const pe of sortPathElements([...new Set([...this.members, ...this.children.keys()])])) {
      if (this.members.has(pe)) out.push([...prefix, pe]);
      const c = this.children.get(pe);
      if (c) out.push(...c.paths([...prefix, pe]));
    }
    return out;
  }

  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const pe of sortPathElements([...new Set([...this.members, ...this.children.keys()])])) {
      const c = this.children.get(pe);
      const sub = c && !c.isEmpty() ? c.toFieldsV1() : {};
      out[pe] = this.members.has(pe) && c && !c.isEmpty() ? { ".": {}, ...sub } : sub;
    }
    return out;
  }

  static fromFieldsV1(v: unknown): FieldSet {
    const out = new FieldSet();
    if (!isRecord(v)) return out;
    for (const [pe, sub] of Object.entries(v)) {
      if (pe === ".") continue;
      if (!isRecord(sub) || Object.keys(sub).length === 0) {
        out.members.add(pe);
        continue;
      }
      if ("." in sub) out.members.add(pe);
      const c = FieldSet.fromFieldsV1(sub);
      if (!c.isEmpty()) out.children.set(pe, c);
    }
    return out;
  }
}

function peRank(pe: string): number {
  switch (pe.slice(0, 2)) {
    case "f:":
      return 0;
    case "k:":
      return 1;
    case "v:":
      return 2;
    default:
      return 3;
  }
}

export function sortPathElements(pes: string[]): string[] {
  return pes.sort((a, b) => {
    const r = peRank(a) - peRank(b);
    if (r !== 0) return r;
    if (a.startsWith("i:") && b.startsWith("i:")) return Number(a.slice(2)) - Number(b.slice(2));
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** A path as structured-merge-diff prints it: `.spec.containers[name="nginx"].image`, `.metadata.finalizers[="x"]`. */
export function pathString(path: readonly string[]): string {
  let out = "";
  for (const pe of path) {
    const body = pe.slice(2);
    switch (pe.slice(0, 2)) {
      case "f:":
        out += `.${body}`;
        break;
      case "k:": {
        const keys: unknown = JSON.parse(body);
        const parts = isRecord(keys) ? Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`) : [];
        out += `[${parts.join(",")}]`;
        break;
      }
      case "v:":
        out += `[=${body}]`;
        break;
      default:
        out += `[${body}]`;
    }
  }
  return out;
}

/** Canonical JSON: object keys sorted, as FieldsV1 keys and values are written. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(",")}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

// ---------------------------------------------------------------------------------------------
// Schema semantics (structured-merge-diff element relationships).

export type ListSemantics = { type: "atomic" } | { type: "set" } | { type: "map"; keys: string[] };

/** How apply treats a list: x-kubernetes-list-type, else the patch strategy, else atomic. */
export function listSemantics(schema: SchemaNode | undefined): ListSemantics {
  if (!schema) return { type: "atomic" };
  if (schema.listType === "map") return { type: "map", keys: schema.listMapKeys ?? [] };
  if (schema.listType === "set") return { type: "set" };
  if (schema.listType === "atomic") return { type: "atomic" };
  if (schema.patchStrategy?.includes("merge")) {
    return schema.patchMergeKey ? { type: "map", keys: [schema.patchMergeKey] } : { type: "set" };
  }
  return { type: "atomic" };
}

/** Values of key fields a list-map item lacks but upstream defaults (the OpenAPI v3 `default`). */
const keyDefaults: Record<string, unknown> = { protocol: "TCP" };

/** The path element of a list item, or undefined for atomic lists / items without keys. */
export function listItemPE(item: unknown, sem: ListSemantics): string | undefined {
  if (sem.type === "set") return `v:${canonicalJSON(item)}`;
  if (sem.type === "map") {
    if (!isRecord(item)) return undefined;
    const key: Record<string, unknown> = {};
    for (const k of sem.keys) {
      if (k in item && item[k] !== null) key[k] = item[k];
      else if (k in keyDefaults) key[k] = keyDefaults[k];
    }
    return `k:${canonicalJSON(key)}`;
  }
  return undefined;
}

/** Whether a value at this schema is tracked as one leaf (scalars, atomic maps/structs/lists). */
function isAtomic(value: unknown, schema: SchemaNode | undefined): boolean {
  if (Array.isArray(value)) return listSemantics(schema).type === "atomic" || schema?.kind !== "array";
  if (isRecord(value)) {
    if (!schema) return false;
    if (schema.mapType === "atomic") return true;
    return schema.kind === "scalar" || schema.kind === "array";
  }
  return true;
}

/** The schema of a struct field or map value. */
function childSchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  if (!schema) return undefined;
  if (schema.kind === "object") return schema.properties?.[key] ?? schema.additionalProperties;
  if (schema.kind === "map") return schema.additionalProperties;
  return undefined;
}

export interface UnknownFieldError {
  path: string;
}

/**
 * The fields a value sets (ToFieldSet): leaves, and list items of associative lists with their
 * contents. Empty and null maps set nothing. `onUnknown` is told about fields the schema lacks.
 */
export function toFieldSet(
  value: unknown,
  schema: SchemaNode | undefined,
  onUnknown?: (path: string[]) => void,
  onDuplicate?: (path: string[], pe: string) => void,
): FieldSet {
  const set = new FieldSet();
  walkSet(value, schema, [], set, onUnknown, onDuplicate);
  return set;
}

function walkSet(
  value: unknown,
  schema: SchemaNode | undefined,
  path: string[],
  set: FieldSet,
  onUnknown?: (path: string[]) => void,
  onDuplicate?: (path: string[], pe: string) => void,
): void {
  if (isAtomic(value, schema)) {
    if (path.length > 0) set.insert(path);
    return;
  }
  if (Array.isArray(value)) {
    const sem = listSemantics(schema);
    const seen = new Set<string>();
    for (const item of value) {
      const pe = listItemPE(item, sem);
      if (pe === undefined) continue;
      if (seen.has(pe)) onDuplicate?.(path, pe);
      seen.add(pe);
      const p = [...path, pe];
      set.insert(p);
      if (sem.type === "map") walkSet(item, schema?.items, p, set, onUnknown, onDuplicate);
    }
    return;
  }
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      const cs = childSchema(schema, k);
      const p = [...path, `f:${k}`];
      if (!cs && schema && schema.kind === "object" && !schema.preserveUnknownFields) onUnknown?.(p);
      if (isRecord(v) && Object.keys(v).length === 0 && !isAtomic(v, cs)) continue;
      if (v === null && cs && cs.kind !== "scalar" && cs.kind !== "unknown") continue;
      walkSet(v, cs, p, set, onUnknown, onDuplicate);
    }
  }
}

/** The value at a field path, navigating list items by key / value / index. */
export function valueAt(
  root: unknown,
  path: readonly string[],
  schema: SchemaNode | undefined,
): { found: boolean; value: unknown } {
  let cur: unknown = root;
  let s = schema;
  for (const pe of path) {
    const body = pe.slice(2);
    if (pe.startsWith("f:")) {
      if (!isRecord(cur) || !(body in cur)) return { found: false, value: undefined };
      cur = cur[body];
      s = childSchema(s, body);
      continue;
    }
    if (!Array.isArray(cur)) return { found: false, value: undefined };
    const sem = listSemantics(s);
    let next: unknown;
    let found = false;
    if (pe.startsWith("i:")) {
      const i = Number(body);
      found = i < cur.length;
      next = cur[i];
    } else {
      for (const item of cur) {
        if (listItemPE(item, sem) === pe) {
          next = item;
          found = true;
          break;
        }
      }
    }
    if (!found) return { found: false, value: undefined };
    cur = next;
    s = s?.items;
  }
  return { found: true, value: cur };
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** What changed between two values, field by field (typed.Compare). */
export function compare(oldValue: unknown, newValue: unknown, schema: SchemaNode | undefined): Comparison {
  const oldSet = toFieldSet(oldValue, schema);
  const newSet = toFieldSet(newValue, schema);
  const modified = new FieldSet();
  for (const p of oldSet.intersection(newSet).paths()) {
    const a = valueAt(oldValue, p, schema);
    const b = valueAt(newValue, p, schema);
    const last = p[p.length - 1] ?? "";
    // A list item that is in both is not itself modified: its fields are compared one by one.
    if (last.startsWith("k:") && isRecord(a.value) && isRecord(b.value)) continue;
    if (!deepEqual(a.value, b.value)) modified.insert(p);
  }
  return { added: newSet.difference(oldSet), modified, removed: oldSet.difference(newSet) };
}

/** Removes every member of `set` from `value` (struct fields, map keys, list items). Mutates. */
export function removeItems(value: unknown, set: FieldSet, schema: SchemaNode | undefined): void {
  if (Array.isArray(value)) {
    const sem = listSemantics(schema);
    for (let i = value.length - 1; i >= 0; i--) {
      const pe = sem.type === "atomic" ? `i:${i}` : listItemPE(value[i], sem);
      if (pe === undefined) continue;
      if (set.members.has(pe)) value.splice(i, 1);
      else {
        const c = set.children.get(pe);
        if (c) removeItems(value[i], c, schema?.items);
      }
    }
    return;
  }
  if (isRecord(value)) {
    for (const k of Object.keys(value)) {
      const pe = `f:${k}`;
      if (set.members.has(pe)) delete value[k];
      else {
        const c = set.children.get(pe);
        if (c) removeItems(value[k], c, childSchema(schema, k));
      }
    }
  }
}

/**
 * Merges an applied configuration into a live value (structured-merge-diff merge): structs and
 * granular maps merge field by field, associative lists merge item by item (live order kept for
 * items only live has), atomic values are replaced by the configuration's.
 */
export function mergeValues(live: unknown, config: unknown, schema: SchemaNode | undefined): unknown {
  if (config === undefined) return structuredClone(live);
  if (live === undefined || live === null || isAtomic(config, schema) || isAtomic(live, schema)) {
    return structuredClone(config);
  }
  if (Array.isArray(config)) {
    if (!Array.isArray(live)) return structuredClone(config);
    return mergeLists(live, config, schema);
  }
  if (isRecord(config)) {
    if (!isRecord(live)) return structuredClone(config);
    const out: Record<string, unknown> = structuredClone(live);
    for (const [k, v] of Object.entries(config)) {
      // An explicit null in the configuration leaves the field unset (a typed object has no null).
      if (v === null) {
        delete out[k];
        continue;
      }
      const cs = childSchema(schema, k);
      out[k] = k in out ? mergeValues(out[k], v, cs) : structuredClone(v);
    }
    return out;
  }
  return structuredClone(config);
}

function mergeLists(lhs: unknown[], rhs: unknown[], schema: SchemaNode | undefined): unknown[] {
  const sem = listSemantics(schema);
  const lPE = lhs.map((x) => listItemPE(x, sem) ?? "");
  const rPE = rhs.map((x) => listItemPE(x, sem) ?? "");
  const lIndex = new Map<string, number>();
  lPE.forEach((pe, i) => {
    if (!lIndex.has(pe)) lIndex.set(pe, i);
  });
  const rIndex = new Map<string, number>();
  rPE.forEach((pe, i) => {
    if (!rIndex.has(pe)) rIndex.set(pe, i);
  });
  const shared = rPE.filter((pe) => lIndex.has(pe));
  let nextShared = 0;
  const mergedR = new Set<string>();
  const out: unknown[] = [];
  const mergeItem = (pe: string): unknown => {
    const li = lIndex.get(pe);
    const ri = rIndex.get(pe);
    const l = li === undefined ? undefined : lhs[li];
    const r = ri === undefined ? undefined : rhs[ri];
    if (sem.type === "set") return structuredClone(r ?? l);
    return mergeValues(l, r, schema?.items);
  };
  let lI = 0;
  let rI = 0;
  while (lI < lhs.length || rI < rhs.length) {
    if (lI < lhs.length && rI < rhs.length) {
      const pe = lPE[lI] ?? "";
      if (pe === rPE[rI]) {
        mergedR.add(pe);
        out.push(mergeItem(pe));
        lI++;
        rI++;
        if (shared[nextShared] === pe) nextShared++;
        continue;
      }
      if (rIndex.has(pe) && nextShared < shared.length && shared[nextShared] !== pe) {
        lI++;
        continue;
      }
    }
    if (lI < lhs.length) {
      const pe = lPE[lI] ?? "";
      if (!rIndex.has(pe)) {
        out.push(structuredClone(lhs[lI]));
        lI++;
        continue;
      }
      if (mergedR.has(pe)) {
        lI++;
        continue;
      }
    }
    if (rI < rhs.length) {
      const pe = rPE[rI] ?? "";
      if (!mergedR.has(pe)) {
        mergedR.add(pe);
        out.push(mergeItem(pe));
      }
      rI++;
      if (shared[nextShared] === pe) nextShared++;
    }
  }
  return out;
}
