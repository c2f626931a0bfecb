/**
 * Controller references as upstream's ControllerRefManager keeps them: an owner claims the objects
 * its selector matches — it releases the ones it controls whose labels no longer match, and adopts
 * matching ones that have no controller (unless the object or the owner is being deleted).
 */
import { labelSelectorFromObject } from "../api/selectors/index.js";
import { isRecord, type KObject, type OwnerReference } from "../api/types.js";
import type { ServedVersion } from "../apiserver/catalog.js";
import { ApiError } from "../apiserver/errors.js";
import type { LocalClient } from "./client.js";

/** The owner's spec.selector selects nothing (no matchLabels, no matchExpressions). */
export function selectsNothing(owner: KObject): boolean {
  const spec = isRecord(owner["spec"]) ? owner["spec"] : {};
  const sel = isRecord(spec["selector"]) ? spec["selector"] : {};
  const labels = isRecord(sel["matchLabels"]) ? sel["matchLabels"] : {};
  const exprs = sel["matchExpressions"];
  return Object.keys(labels).length === 0 && !(Array.isArray(exprs) && exprs.length > 0);
}

/** The owner's spec.selector takes these labels (an empty or invalid selector takes nothing). */
export function selects(owner: KObject, labels: Record<string, string>): boolean {
  if (selectsNothing(owner)) return false;
  try {
    return labelSelectorFromObject((owner["spec"] as Record<string, unknown>)["selector"]).matches(labels);
  } catch {
    return false;
  }
}

/** For writes whose object may be gone meanwhile. */
export function notFoundIsFine(err: unknown): void {
  if (!(err instanceof ApiError && err.code === 404)) throw err;
}

export function controllerOf(obj: KObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

/** The reference a controller puts on what it makes or adopts. */
export function controllerRef(owner: KObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface Claimer {
  client: LocalClient;
  /** The resource of the claimed objects. */
  sv: ServedVersion;
  owner: KObject;
  apiVersion: string;
  kind: string;
  /** The owner's selector (an empty selector matches nothing), and any other rule of membership. */
  matches: (labels: Record<string, string>, obj: KObject) => boolean;
}

/** Releases and adopts among `candidates`; returns the objects the owner controls afterwards. */
export async function claim(c: Claimer, candidates: KObject[]): Promise<KObject[]> {
  const out: KObject[] = [];
  for (const obj of candidates) {
    const ref = controllerOf(obj);
    const labels = obj.metadata.labels ?? {};
    if (ref?.uid === c.owner.metadata.uid) {
      if (c.matches(labels, obj)) out.push(obj);
      // owned but no longer matching: released, unless the owner is being deleted
      else if (!c.owner.metadata.deletionTimestamp) await release(c, obj);
      continue;
    }
    if (ref || !c.matches(labels, obj)) continue;
    if (obj.metadata.deletionTimestamp || c.owner.metadata.deletionTimestamp) continue;
    const adopted = await adopt(c, obj);
    if (adopted) out.push(adopted);
  }
  return out;
}

async function adopt(c: Claimer, obj: KObject): Promise<KObject | undefined> {
  let result: KObject | undefined;
  try {
    await c.client.update(c.sv, obj.metadata.namespace, obj.metadata.name ?? "", "", (o) => {
      // someone else took it meanwhile: leave it
      if (controllerOf(o)) throw new ApiError(409, "Conflict", "already controlled");
      o.metadata.ownerReferences = [
        ...(o.metadata.ownerReferences ?? []),
        controllerRef(c.owner, c.apiVersion, c.kind),
      ];
      result = o;
      return o;
    });
  } catch (err) {
    if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return undefined;
    throw err;
  }
  return result;
}

async function release(c: Claimer, obj: KObject): Promise<void> {
  try {
    await c.client.update(c.sv, obj.metadata.namespace, obj.metadata.name ?? "", "", (o) => {
      o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== c.owner.metadata.uid);
      if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
      return o;
    });
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
}
