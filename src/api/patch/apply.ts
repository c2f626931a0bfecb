/**
 * Server-side apply (application/apply-patch+yaml), after structured-merge-diff's Updater.Apply and
 * the API server's field manager chain (last-applied upgrade and sync, before-first-apply).
 */
import { isRecord, type KObject, parseApiVersion } from "../types.js";
import { type ApplyConflict, ApplyConflictError, PatchError } from "./errors.js";
import { compare, FieldSet, mergeValues, pathString, removeItems, toFieldSet } from "./fieldset.js";
import {
  decodeManagedFields,
  encodeManagedFields,
  type ManagedFieldsOptions,
  type ManagerEntry,
  managerIdentity,
  ownedFieldsOf,
  printManager,
  resetFieldSet,
  strippedFields,
  withoutManagedFields,
} from "./managed.js";
import { deepEqual } from "./values.js";

export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

export interface ApplyOptions extends ManagedFieldsOptions {
  /** The field manager (fieldManager query parameter; required for apply). */
  manager: string;
  /** force=true: take fields other managers own instead of failing with a conflict. */
  force: boolean;
  /** What to do with fields the schema does not declare: "error" (default, as upstream) or "drop". */
  unknownFields?: "error" | "drop";
}

export interface ApplyResult {
  object: KObject;
}

/**
 * Applies `applied` (the decoded apply-patch+yaml body) on top of `live` (undefined: the object does
 * not exist yet and is being created by this apply). Returns the new object with managedFields set;
 * throws ApplyConflictError (409) or PatchError (400) for an invalid body.
 */
export function serverSideApply(live: KObject | undefined, applied: KObject, opts: ApplyOptions): ApplyResult {
  validateAppliedObject(applied, opts);
  const config = withoutManagedFields(applied);
  const gvkText = `${applied.apiVersion ?? ""}, Kind=${applied.kind ?? ""}`;
  const unknown: string[][] = [];
  const dupes: string[] = [];
  toFieldSet(
    config,
    opts.schema,
    (p) => unknown.push(p),
    (p, pe) => dupes.push(`${pathString(p)}: duplicate entries for key ${pathString([pe])}`),
  );
  if (dupes.length > 0)
    throw new PatchError(`failed to create typed patch object (${gvkText}): ${dupes.join(", ")}`, 400);
  if (unknown.length > 0) {
    if (opts.unknownFields === "drop") dropPaths(config, unknown, opts.schema);
    else {
      const first = unknown[0] ?? [];
      throw new PatchError(
        `failed to create typed patch object (${gvkText}): ${pathString(first)}: field not declared in schema`,
        400,
      );
    }
  }

  const liveV = withoutManagedFields(live);
  const managers = (live ? decodeManagedFields(live.metadata?.managedFields) : []) ?? [];
  if (live && managers.length === 0) {
    // An object nobody tracked yet: what it holds belongs to "before-first-apply".
    const owned = ownedFieldsOf(liveV, opts);
    if (!owned.isEmpty()) {
      managers.push({ manager: "before-first-apply", operation: "Update", apiVersion: opts.apiVersion, set: owned });
    }
  }

  const attempt = (force: boolean): { object: Record<string, unknown>; managers: ManagerEntry[] } => {
    const ms = managers.map((m) => ({ ...m }));
    const configSet = ownedFieldsOf(config, opts);
    const selfId: Omit<ManagerEntry, "set"> = {
      manager: opts.manager,
      operation: "Apply",
      apiVersion: opts.apiVersion,
    };
    if (opts.subresource) selfId.subresource = opts.subresource;
    const id = managerIdentity(selfId);
    let self = ms.find((m) => managerIdentity(m) === id);
    const lastSet = self?.set;
    const lastTime = self?.time;
    if (!self) {
      self = { ...selfId, set: configSet };
      ms.push(self);
    }
    self.apiVersion = opts.apiVersion;
    self.set = configSet;
    self.time = opts.now;

    const merged = mergeValues(liveV, config, opts.schema) as Record<string, unknown>;
    if (lastSet) {
      // Fields this manager applied before, no longer applies, and nobody else owns: remove them.
      let toRemove = lastSet.difference(configSet);
      for (const m of ms) if (m !== self) toRemove = toRemove.difference(m.set);
      removeItems(merged, toRemove, opts.schema);
    }

    // An apply that changes nothing is not a write: its entry keeps the time of the last change.
    if (lastSet && lastTime !== undefined && deepEqual(merged, liveV)) self.time = lastTime;

    const reset = resetFieldSet(opts);
    const cmp = compare(liveV, merged, opts.schema);
    const changed = cmp.added.union(cmp.modified).recursiveDifference(reset);
    const removed = cmp.removed.recursiveDifference(reset);
    const conflicts: { manager: ManagerEntry; set: FieldSet }[] = [];
    for (const m of ms) {
      if (m === self) continue;
      const c = m.set.intersection(changed);
      if (!c.isEmpty()) conflicts.push({ manager: m, set: c });
    }
    if (!force && conflicts.length > 0) throw conflictError(conflicts);
    for (const { manager, set } of conflicts) manager.set = manager.set.difference(set);
    for (const m of ms) if (m !== self) m.set = m.set.difference(removed);
    return { object: merged, managers: ms.filter((m) => !m.set.isEmpty()) };
  };

  let outcome: { object: Record<string, unknown>; managers: ManagerEntry[] };
  try {
    outcome = attempt(opts.force);
  } catch (err) {
    // kubectl's own server-side apply takes over fields its client-side apply set (lastappliedmanager.go).
    if (!(err instanceof ApplyConflictError) || opts.manager !== "kubectl") throw err;
    const allowed = allowedConflictsFromLastApplied(liveV, opts);
    if (!allowed) throw err;
    const remaining = err.conflicts.filter((c) => !allowed.has(c.field));
    if (remaining.length > 0) throw new ApplyConflictError(remaining);
    outcome = attempt(true);
  }

  const object = outcome.object as KObject;
  const meta: Record<string, unknown> = isRecord(object.metadata) ? object.metadata : {};
  object.metadata = meta;
  const encoded = encodeManagedFields(outcome.managers);
  if (encoded.length > 0) object.metadata.managedFields = encoded;
  syncLastApplied(live, object, applied, opts.manager);
  return { object };
}

function validateAppliedObject(applied: KObject, opts: ApplyOptions): void {
  if (!isRecord(applied)) throw new PatchError("apply patch must be an object", 400);
  if (applied.metadata?.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw new PatchError("metadata.managedFields must be nil", 400);
  }
  if (applied.apiVersion !== opts.apiVersion) {
    const specified = parseApiVersion(applied.apiVersion ?? "");
    throw new PatchError(
      `Incorrect version specified in apply patch. Specified patch version: ${specified.group === "" ? specified.version : `${specified.group}/${specified.version}`}, expected: ${opts.apiVersion}`,
      400,
    );
  }
}

function dropPaths(obj: Record<string, unknown>, paths: string[][], schema: ApplyOptions["schema"]): void {
  const set = new FieldSet();
  for (const p of paths) set.insert(p);
  removeItems(obj, set, schema);
}

function conflictError(conflicts: { manager: ManagerEntry; set: FieldSet }[]): ApplyConflictError {
  const list: ApplyConflict[] = [];
  for (const { manager, set } of conflicts) {
    for (const p of set.paths()) list.push({ manager: printManager(manager), field: pathString(p) });
  }
  return new ApplyConflictError(list);
}

/**
 * The fields kubectl's last-applied annotation recorded that still hold the values it recorded (as
 * printed paths), or undefined when there is no usable annotation.
 */
function allowedConflictsFromLastApplied(live: Record<string, unknown>, opts: ApplyOptions): Set<string> | undefined {
  const meta = live["metadata"];
  const annotations = isRecord(meta) ? meta["annotations"] : undefined;
  const raw = isRecord(annotations) ? annotations[lastAppliedAnnotation] : undefined;
  if (typeof raw !== "string" || raw === "") return undefined;
  let last: unknown;
  try {
    last = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isRecord(last) || last["apiVersion"] !== opts.apiVersion) return undefined;
  const cmp = compare(last, live, opts.schema);
  const lastSet = toFieldSet(last, opts.schema).difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
  return new Set(lastSet.paths().map((p) => pathString(p)));
}

/** kubectl's server-side apply keeps an existing last-applied annotation current (lastappliedupdater.go). */
function syncLastApplied(live: KObject | undefined, object: KObject, applied: KObject, manager: string): void {
  if (manager !== "kubectl") return;
  const had = live?.metadata?.annotations?.[lastAppliedAnnotation];
  if (typeof had !== "string" || had === "") return;
  const copy = structuredClone(applied);
  if (copy.metadata?.annotations) {
    delete copy.metadata.annotations[lastAppliedAnnotation];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  object.metadata.annotations = {
    ...(object.metadata.annotations ?? {}),
    [lastAppliedAnnotation]: JSON.stringify(copy),
  };
}

export { strippedFields };
