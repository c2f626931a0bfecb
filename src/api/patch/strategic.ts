/**
 * Strategic merge patch, after k8s.io/apimachinery/pkg/util/strategicpatch (StrategicMergeMapPatch:
 * MergeParallelList and IgnoreUnmatchedNulls on). Field metadata comes from a SchemaNode instead of
 * Go struct tags.
 */
import { fieldSchema, type SchemaNode } from "../schema/model.js";
import { isRecord } from "../types.js";
import { PatchError } from "./errors.js";
import { scalarString } from "./values.js";

const directiveMarker = "$patch";
const retainKeysDirective = "$retainKeys";
const deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
const setElementOrderPrefix = "$setElementOrder";

type JSONMap = Record<string, unknown>;

const errBadPatchFormatForPrimitiveList = "invalid patch format of primitive list";
const errBadPatchFormatForRetainKeys = "invalid patch format of retainKeys";
const errBadPatchFormatForSetElementOrderList = "invalid patch format of setElementOrder list";

function bad(message: string): PatchError {
  return new PatchError(message, 400);
}

/** Go's %v of a JSON value, for error messages. */
function goString(v: unknown): string {
  if (isRecord(v)) {
    const parts = Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString(v[k])}`);
    return `map[${parts.join(" ")}]`;
  }
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  return scalarString(v);
}

function errNoMergeKey(m: JSONMap, mergeKey: string): PatchError {
  return bad(`map: ${goString(m)} does not contain declared merge key: ${mergeKey}`);
}

function errBadArgType(expected: string, actual: unknown): PatchError {
  return bad(`expected a ${expected}, but received a ${goType(actual)}`);
}

function goType(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  if (Array.isArray(v)) return "[]interface {}";
  if (isRecord(v)) return "map[string]interface {}";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  return "string";
}

/** Which Go reflect kind a JSON value decodes to; values of different kinds replace each other. */
function kindOf(v: unknown): "map" | "slice" | "string" | "float64" | "bool" | "nil" {
  if (v === null || v === undefined) return "nil";
  if (Array.isArray(v)) return "slice";
  if (isRecord(v)) return "map";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  return "string";
}

interface FieldMeta {
  schema: SchemaNode | undefined;
  /** "merge", "replace" or "" (retainKeys is handled by the $retainKeys directive itself). */
  strategy: string;
  mergeKey: string;
}

function lookupPatchMetadata(schema: SchemaNode | undefined, key: string): FieldMeta {
  const field = fieldSchema(schema, key);
  const strategies = (field?.patchStrategy ?? []).filter((s) => s !== "retainKeys");
  if (strategies.length > 1) throw bad(`unexpected patch strategy: ${field?.patchStrategy?.join(",")}`);
  return { schema: field, strategy: strategies[0] ?? "", mergeKey: field?.patchMergeKey ?? "" };
}

/** Applies a strategic merge patch to a copy of `original`. */
export function applyStrategicMergePatch(original: JSONMap, patch: unknown, schema: SchemaNode): JSONMap {
  if (!isRecord(patch)) throw bad("invalid JSON document");
  return mergeMap(structuredClone(original), structuredClone(patch), schema);
}

function mergeMap(original: JSONMap, patch: JSONMap, schema: SchemaNode | undefined): JSONMap {
  if (directiveMarker in patch) return handleDirectiveInMergeMap(patch[directiveMarker], patch);
  applyRetainKeysDirective(original, patch);
  mergePatchIntoOriginal(original, patch, schema);

  for (const [rawKey, patchV] of Object.entries(patch)) {
    let k = rawKey;
    let isDeleteList = false;
    if (k.startsWith(deleteFromPrimitiveListPrefix)) {
      k = extractKey(k, deleteFromPrimitiveListPrefix);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete original[k];
      continue;
    }
    const meta = lookupPatchMetadata(schema, k);
    if (!(k in original)) {
      // Not in the original: take the patch value, with its own directives resolved.
      if (isDeleteList) continue;
      original[k] = fromEmpty(patchV, meta);
      continue;
    }
    const originalV = original[k];
    if (kindOf(originalV) !== kindOf(patchV)) {
      original[k] = fromEmpty(patchV, meta);
      continue;
    }
    if (isRecord(originalV) && isRecord(patchV)) {
      original[k] = meta.strategy === "replace" ? stripDirectives(patchV) : mergeMap(originalV, patchV, meta.schema);
    } else if (Array.isArray(originalV) && Array.isArray(patchV)) {
      original[k] = mergeSliceHandler(originalV, patchV, meta, isDeleteList);
    } else {
      original[k] = patchV;
    }
  }
  return original;
}

/** A patch value for a field the original lacks: merged into an empty value so directives take effect. */
function fromEmpty(patchV: unknown, meta: FieldMeta): unknown {
  if (isRecord(patchV))
    return meta.strategy === "replace" ? stripDirectives(patchV) : mergeMap({}, patchV, meta.schema);
  if (Array.isArray(patchV)) return mergeSliceHandler([], patchV, meta, false);
  return patchV;
}

/** Removes directive keys from a value that replaces wholesale (there is nothing to merge it with). */
function stripDirectives(v: unknown): JSONMap {
  const out: JSONMap = {};
  if (!isRecord(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    if (k === directiveMarker || k === retainKeysDirective || k.startsWith(`${setElementOrderPrefix}/`)) continue;
    if (k.startsWith(`${deleteFromPrimitiveListPrefix}/`)) continue;
    out[k] = isRecord(x) ? stripDirectives(x) : x;
  }
  return out;
}

function handleDirectiveInMergeMap(directive: unknown, patch: JSONMap): JSONMap {
  if (directive === "replace") {
    delete patch[directiveMarker];
    return stripDirectives(patch);
  }
  if (directive === "delete") return {};
  throw bad(`unknown patch type: ${scalarString(directive)} in map: ${goString(patch)}`);
}

function extractKey(s: string, prefix: string): string {
  const i = s.indexOf("/");
  if (i < 0 || s.slice(0, i) !== prefix) {
    throw bad(
      prefix === deleteFromPrimitiveListPrefix
        ? errBadPatchFormatForPrimitiveList
        : errBadPatchFormatForSetElementOrderList,
    );
  }
  return s.slice(i + 1);
}

function applyRetainKeysDirective(original: JSONMap, patch: JSONMap): void {
  if (!(retainKeysDirective in patch)) return;
  const retain = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(retain)) throw bad(errBadPatchFormatForRetainKeys);
  const keep = new Set<unknown>(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (!keep.has(k)) throw bad(errBadPatchFormatForRetainKeys);
  }
  for (const k of Object.keys(original)) {
    if (!keep.has(k)) delete original[k];
  }
}

/** Processes `$setElementOrder/<field>` together with `<field>` and removes both from the patch. */
function mergePatchIntoOriginal(original: JSONMap, patch: JSONMap, schema: SchemaNode | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType("[]interface {}", order);
    const originalKey = extractKey(key, setElementOrderPrefix);
    const foundOriginal = originalKey in original;
    const foundPatch = originalKey in patch;
    const originalList = original[originalKey];
    const patchList = patch[originalKey];
    if (foundOriginal && !Array.isArray(originalList)) throw errBadArgType("[]interface {}", originalList);
    if (foundPatch && patchList !== null && !Array.isArray(patchList)) throw errBadArgType("[]interface {}", patchList);
    const originalItems: unknown[] = Array.isArray(originalList) ? originalList : [];
    const patchItemsIn: unknown[] = Array.isArray(patchList) ? patchList : [];
    const meta = lookupPatchMetadata(schema, originalKey);
    validatePatchWithSetOrderList(patchItemsIn, order, meta.mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalItems;
    else if (!foundOriginal && foundPatch) merged = mergeSliceHandler([], patchItemsIn, meta, false);
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalItems, patchItemsIn, meta, false);
    else continue;

    const isMap = elementKind(originalItems, patchItemsIn) === "map";
    const [patchItems, serverOnly] = isMap
      ? partitionMapsByPresentInList(merged, order, meta.mergeKey)
      : partitionPrimitivesByPresentInList(merged, order);
    original[originalKey] = normalizeElementOrder(patchItems, serverOnly, order, originalItems, meta.mergeKey, isMap);
    delete patch[originalKey];
  }
}

function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey !== "" ? extractToDeleteItems(patchList)[0] : patchList;
  let pi = 0;
  let oi = 0;
  while (pi < nonDelete.length && oi < order.length) {
    const item = nonDelete[pi];
    if (isRecord(item) && directiveMarker in item) {
      pi++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[oi], mergeKey)) pi++;
    oi++;
  }
  if (pi < nonDelete.length && oi >= order.length) {
    throw bad(
      `The order in patch list:\n${goString(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goString(order)}\n`,
    );
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === "") return left === right;
  if (!isRecord(left)) throw errBadArgType("map[string]interface {}", left);
  if (!isRecord(right)) throw errBadArgType("map[string]interface {}", right);
  if (!(mergeKey in left)) throw errNoMergeKey(left, mergeKey);
  if (!(mergeKey in right)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function mergeSliceHandler(original: unknown[], patch: unknown[], meta: FieldMeta, isDeleteList: boolean): unknown[] {
  if (meta.strategy === "merge") return mergeSlice(original, patch, meta, isDeleteList);
  return patch.map((x) => (isRecord(x) ? stripDirectives(x) : x));
}

/** The common kind of the elements of all lists (lists of lists and mixed lists are errors). */
function elementKind(...lists: unknown[][]): string | undefined {
  let kind: string | undefined;
  for (const l of lists) {
    for (const v of l) {
      const k = kindOf(v);
      if (kind === undefined) {
        kind = k;
        if (k === "slice") throw bad("lists of lists are not supported");
      } else if (kind !== k) {
        throw bad(`list element types are not identical: ${goString(lists)}`);
      }
    }
  }
  return kind;
}

function mergeSlice(originalIn: unknown[], patchIn: unknown[], meta: FieldMeta, isDeleteList: boolean): unknown[] {
  if (originalIn.length === 0 && patchIn.length === 0) return originalIn;
  const kind = elementKind(originalIn, patchIn);
  const mergeKey = meta.mergeKey;
  let original = originalIn;
  let patch = patchIn;
  let merged: unknown[];
  if (kind !== "map") {
    if (isDeleteList) {
      const del = new Set(patch);
      return original.filter((v) => !del.has(v));
    }
    merged = dedupeScalars([...original, ...patch]);
  } else {
    if (mergeKey === "") throw bad("cannot merge lists without merge key for type map");
    [original, patch] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements(original, patch, mergeKey, meta.schema?.items);
  }
  const isMap = kind === "map";
  const [patchItems, serverOnly] = isMap
    ? partitionMapsByPresentInList(merged, patch, mergeKey)
    : partitionPrimitivesByPresentInList(merged, patch);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, isMap);
}

function dedupeScalars(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.includes(v)) out.push(v);
  return out;
}

function mergeSliceWithSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
): [unknown[], unknown[]] {
  const rest: unknown[] = [];
  let replace = false;
  let orig = original;
  for (const v of patch) {
    if (!isRecord(v)) throw errBadArgType("map[string]interface {}", v);
    if (!(directiveMarker in v)) {
      rest.push(v);
      continue;
    }
    const directive = v[directiveMarker];
    if (directive === "delete") {
      if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
      const value = v[mergeKey];
      orig = orig.filter((o) => !(isRecord(o) && mergeKey in o && o[mergeKey] === value));
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw bad("merging lists cannot yet be specified in the patch");
    } else {
      throw bad(`unknown patch type: ${scalarString(directive)} in map: ${goString(v)}`);
    }
  }
  if (replace) return [rest.map((x) => mergeMap({}, x as JSONMap, undefined)), []];
  return [orig, rest];
}

function mergeSliceWithoutSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
  itemSchema: SchemaNode | undefined,
): unknown[] {
  const out = [...original];
  for (const v of patch) {
    if (!isRecord(v)) throw errBadArgType("map[string]interface {}", v);
    if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    const value = v[mergeKey];
    const idx = out.findIndex((o) => {
      if (!isRecord(o)) throw bad("value for key is not a map.");
      return mergeKey in o && o[mergeKey] === value;
    });
    const found = out[idx];
    if (idx >= 0 && isRecord(found)) out[idx] = mergeMap(found, v, itemSchema);
    else out.push(mergeMap({}, v, itemSchema));
  }
  return out;
}

function partitionPrimitivesByPresentInList(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inPatch = new Set(by);
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) (inPatch.has(v) ? patch : serverOnly).push(v);
  return [patch, serverOnly];
}

function partitionMapsByPresentInList(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isRecord(v)) throw errBadArgType("map[string]interface {}", v);
    if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    const value = v[mergeKey];
    const found = by.some((b) => {
      if (!isRecord(b)) throw bad("value for key is not a map.");
      return mergeKey in b && b[mergeKey] === value;
    });
    (found ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

function indexIn(list: unknown[], v: unknown, mergeKey: string, isMap: boolean): number {
  const val = (x: unknown): unknown => (isMap ? (isRecord(x) ? x[mergeKey] : undefined) : x);
  const target = val(v);
  return list.findIndex((x) => val(x) === target);
}

function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isRecord(v)) throw errBadArgType("map[string]interface {}", v);
    (v[directiveMarker] === "delete" ? del : keep).push(v);
  }
  return [keep, del];
}

function normalizeSliceOrder(toSortIn: unknown[], order: unknown[], mergeKey: string, isMap: boolean): unknown[] {
  let toSort = toSortIn;
  let toDelete: unknown[] = [];
  if (isMap) {
    for (const l of [toSort, order]) {
      for (const item of l) {
        if (!isRecord(item)) throw errBadArgType("map[string]interface {}", item);
        if (!(mergeKey in item)) throw errNoMergeKey(item, mergeKey);
      }
    }
    [toSort, toDelete] = extractToDeleteItems(toSort);
  }
  const keyed = toSort.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey, isMap) }));
  keyed.sort((a, b) => {
    if (a.at >= 0 && b.at >= 0 && a.at !== b.at) return a.at - b.at;
    return a.i - b.i;
  });
  return [...keyed.map((x) => x.v), ...toDelete];
}

function normalizeElementOrder(
  patchItems: unknown[],
  serverOnlyItems: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  isMap: boolean,
): unknown[] {
  const patch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, isMap);
  const serverOnly = normalizeSliceOrder(serverOnlyItems, serverOrder, mergeKey, isMap);
  return mergeSortedSlice(serverOnly, patch, serverOrder, mergeKey, isMap);
}

/** Interleaves server-only items (left) into patch items (right), keeping the live order where both are known. */
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  isMap: boolean,
): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, isMap);
      const ri = indexIn(serverOrder, right[j], mergeKey, isMap);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
