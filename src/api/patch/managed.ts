/**
 * metadata.managedFields bookkeeping, after k8s.io/apimachinery/pkg/util/managedfields/internal
 * (managedfieldsupdater, stripmeta, capmanagers, lastapplied*) and structured-merge-diff's Updater.
 */
import type { SchemaNode } from "../schema/model.js";
import { isRecord, type KObject, type ManagedFieldsEntry } from "../types.js";
import { compare, FieldSet, toFieldSet } from "./fieldset.js";

/** One managedFields entry with its field set decoded. */
export interface ManagerEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** The identity upstream keys managers by: appliers are one manager whatever the version they apply at. */
export function managerIdentity(e: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource">): string {
  return JSON.stringify([e.manager, e.operation, e.operation === "Apply" ? "" : e.apiVersion, e.subresource ?? ""]);
}

/** A manager as conflict messages print it: `"kubectl-client-side-apply" using apps/v1`, `"kubectl"`. */
export function printManager(e: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource">): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === "Update") s += ` using ${e.apiVersion}`;
  return s;
}

/** Decodes managedFields; undefined when an entry is malformed (upstream then falls back to the live object's). */
export function decodeManagedFields(entries: unknown): ManagerEntry[] | undefined {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) return undefined;
  const out: ManagerEntry[] = [];
  for (const e of entries) {
    if (!isRecord(e)) return undefined;
    const operation = e["operation"];
    if (operation !== "Apply" && operation !== "Update") return undefined;
    if (e["fieldsType"] !== undefined && e["fieldsType"] !== "FieldsV1") return undefined;
    const entry: ManagerEntry = {
      manager: typeof e["manager"] === "string" ? e["manager"] : "",
      operation,
      apiVersion: typeof e["apiVersion"] === "string" ? e["apiVersion"] : "",
      set: FieldSet.fromFieldsV1(e["fieldsV1"]),
    };
    if (typeof e["subresource"] === "string" && e["subresource"] !== "") entry.subresource = e["subresource"];
    if (typeof e["time"] === "string") entry.time = e["time"];
    out.push(entry);
  }
  return out;
}

/** Encodes managers in upstream's order: Apply before Update, then oldest first, then by name. */
export function encodeManagedFields(managers: ManagerEntry[]): ManagedFieldsEntry[] {
  const sorted = managers
    .filter((m) => !m.set.isEmpty())
    .sort((p, q) => {
      if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
      const pt = p.time ? Math.floor(Date.parse(p.time) / 1000) : 0;
      const qt = q.time ? Math.floor(Date.parse(q.time) / 1000) : 0;
      if (pt !== qt) return pt - qt;
      if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
      if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
      return (p.subresource ?? "") < (q.subresource ?? "") ? -1 : (p.subresource ?? "") > (q.subresource ?? "") ? 1 : 0;
    });
  return sorted.map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time !== undefined) e.time = m.time;
    e.fieldsType = "FieldsV1";
    e.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

/** Fields no manager ever owns (stripmeta.go). */
export const strippedFields: FieldSet = (() => {
  const s = new FieldSet();
  for (const p of [["f:apiVersion"], ["f:kind"], ["f:metadata"]]) s.insert(p);
  for (const f of [
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
  ]) {
    s.insert(["f:metadata", `f:${f}`]);
  }
  return s;
})();

/** Options shared by apply and update bookkeeping. */
export interface ManagedFieldsOptions {
  /** The kind's schema; undefined for schemaless custom resources (maps merge, lists are atomic). */
  schema: SchemaNode | undefined;
  /** The API version of the request (recorded on Update entries, checked against an apply body). */
  apiVersion: string;
  /** RFC 3339 time recorded on entries this write touches. */
  now: string;
  /** "status", "scale"... when the write is to a subresource. */
  subresource?: string;
  /**
   * Field paths (plain field names) the strategy resets for this endpoint, which no manager of it
   * owns. Default: ["status"] for the main resource, ["spec"] for the status subresource.
   */
  resetFields?: string[][];
}

export function resetFieldSet(opts: ManagedFieldsOptions): FieldSet {
  const paths = opts.resetFields ?? (opts.subresource === "status" ? [["spec"]] : opts.subresource ? [] : [["status"]]);
  const s = new FieldSet();
  for (const p of paths) s.insert(p.map((f) => `f:${f}`));
  return s;
}

/** A copy of an object without metadata.managedFields, as the field walks see it. */
/** The object without metadata.managedFields: a shallow view (only metadata is copied); read it, do not change it. */
export function withoutManagedFields(obj: KObject | undefined): Record<string, unknown> {
  if (!obj) return {};
  if (!isRecord(obj.metadata) || obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

function isResetManagedFields(entries: unknown): boolean {
  return Array.isArray(entries) && entries.length === 1 && isRecord(entries[0]) && Object.keys(entries[0]).length === 0;
}

/** Updaters beyond this many are folded into an "ancient-changes" entry per version (capmanagers.go). */
export const maxUpdateManagers = 10;

function capUpdateManagers(managers: ManagerEntry[]): ManagerEntry[] {
  const updaters = managers.filter((m) => m.operation === "Update");
  if (updaters.length <= maxUpdateManagers) return managers;
  const seconds = (m: ManagerEntry): number => (m.time ? Math.floor(Date.parse(m.time) / 1000) : 0);
  updaters.sort((a, b) => seconds(a) - seconds(b) || (managerIdentity(a) < managerIdentity(b) ? -1 : 1));
  let out = [...managers];
  const firstByVersion = new Map<string, ManagerEntry>();
  let length = updaters.length;
  for (const m of updaters) {
    if (length <= maxUpdateManagers) break;
    const first = firstByVersion.get(m.apiVersion);
    if (!first) {
      firstByVersion.set(m.apiVersion, m);
      continue;
    }
    let bucket = out.find(
      (x) => x.manager === "ancient-changes" && x.operation === "Update" && x.apiVersion === m.apiVersion,
    );
    if (!bucket) {
      bucket = { manager: "ancient-changes", operation: "Update", apiVersion: m.apiVersion, set: first.set };
      out = out.filter((x) => x !== first);
      out.push(bucket);
    }
    bucket.set = bucket.set.union(m.set);
    if (m.time !== undefined) bucket.time = m.time;
    out = out.filter((x) => x !== m);
    length--;
  }
  return out;
}

/**
 * Records a non-apply write (create, update, patch) by `manager`: fields it changed move to its
 * Update entry (taken from whoever owned them), fields it removed leave every entry. A write that
 * changes nothing leaves managedFields as they were. Managed fields sent in the request win over the
 * live object's when non-empty (`[{}]` resets them), as upstream's decodeLiveOrNew.
 */
export function updateManagedFields(
  oldObj: KObject | undefined,
  newObj: KObject,
  manager: string,
  opts: ManagedFieldsOptions,
): KObject {
  const requested = newObj.metadata?.managedFields;
  let managers: ManagerEntry[];
  if (isResetManagedFields(requested)) managers = [];
  else {
    const fromRequest = decodeManagedFields(requested);
    managers =
      fromRequest && fromRequest.length > 0
        ? fromRequest
        : (decodeManagedFields(oldObj?.metadata?.managedFields) ?? []);
  }
  const reset = resetFieldSet(opts);
  const oldV = withoutManagedFields(oldObj);
  const newV = withoutManagedFields(newObj);
  const cmp = compare(oldV, newV, opts.schema);
  const added = cmp.added.recursiveDifference(reset);
  const modified = cmp.modified.recursiveDifference(reset);
  const removed = cmp.removed.recursiveDifference(reset);
  const changed = added.union(modified);
  for (const m of managers) m.set = m.set.difference(changed).difference(removed);

  const opSet = changed.difference(strippedFields);
  if (!opSet.isEmpty()) {
    const self: Omit<ManagerEntry, "set" | "time"> = { manager, operation: "Update", apiVersion: opts.apiVersion };
    if (opts.subresource) self.subresource = opts.subresource;
    const id = managerIdentity(self);
    const existing = managers.find((m) => managerIdentity(m) === id);
    if (existing) {
      existing.set = existing.set.union(opSet);
      existing.time = opts.now;
    } else {
      managers.push({ ...self, time: opts.now, set: opSet });
    }
  }
  // a new top level and metadata; deeper values are shared with newObj, which callers hand over
  const result: KObject = { ...newObj, metadata: { ...newObj.metadata } };
  const encoded = encodeManagedFields(capUpdateManagers(managers.filter((m) => !m.set.isEmpty())));
  if (encoded.length > 0) result.metadata = { ...result.metadata, managedFields: encoded };
  else if (result.metadata) delete result.metadata.managedFields;
  return result;
}

/** The fields of an object as its manager would own them (stripped and reset fields left out). */
export function ownedFieldsOf(obj: Record<string, unknown>, opts: ManagedFieldsOptions): FieldSet {
  return toFieldSet(obj, opts.schema).recursiveDifference(resetFieldSet(opts)).difference(strippedFields);
}
