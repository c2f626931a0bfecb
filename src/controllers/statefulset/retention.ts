/**
 * persistentVolumeClaimRetentionPolicy as upstream's StatefulSetAutoDeletePVC keeps it: the claims'
 * ownerReferences say who takes them along when it goes (the garbage collector does the deleting):
 * - whenDeleted Retain, whenScaled Retain: no reference to the set or the pod;
 * - whenDeleted Delete: a controller reference to the set (while the ordinal is in range);
 * - whenScaled Delete: a controller reference to the pod once its ordinal is condemned;
 * claims with a stale reference (to an earlier set or pod of the same name) or another controller
 * are left alone; a claim still owned by an earlier pod of the ordinal blocks that pod's creation.
 */
import type { KObject, OwnerReference } from "../../api/types.js";
import { controllerRef } from "../refmanager.js";
import { claimName, claimsFor, claimTemplates, inOrdinalRange, ordinalOf, rec, specOf } from "./identity.js";

export interface RetentionPolicy {
  whenDeleted: "Retain" | "Delete";
  whenScaled: "Retain" | "Delete";
}

export function retentionPolicy(set: KObject): RetentionPolicy {
  const p = rec(specOf(set)["persistentVolumeClaimRetentionPolicy"]);
  return {
    whenDeleted: p["whenDeleted"] === "Delete" ? "Delete" : "Retain",
    whenScaled: p["whenScaled"] === "Delete" ? "Delete" : "Retain",
  };
}

const SET = { apiVersion: "apps/v1", kind: "StatefulSet" };
const POD = { apiVersion: "v1", kind: "Pod" };

function refs(o: KObject): OwnerReference[] {
  return o.metadata.ownerReferences ?? [];
}

/** A reference to an object of this kind and name but another uid (upstream hasStaleOwnerRef). */
function hasStaleRef(target: KObject, owner: KObject, kind: { apiVersion: string; kind: string }): boolean {
  return refs(target).some(
    (r) =>
      r.apiVersion === kind.apiVersion &&
      r.kind === kind.kind &&
      r.name === owner.metadata.name &&
      r.uid !== owner.metadata.uid,
  );
}

function hasRef(target: KObject, owner: KObject): boolean {
  return owner.metadata.uid !== undefined && refs(target).some((r) => r.uid === owner.metadata.uid);
}

function hasUnexpectedController(claim: KObject, set: KObject, pod: KObject): boolean {
  return refs(claim).some((r) => r.controller === true && r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid);
}

function hasOtherOwner(claim: KObject, set: KObject, pod: KObject): boolean {
  return refs(claim).some((r) => r.controller !== true && r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid);
}

/** The claim's references agree with the policy for this pod (upstream isClaimOwnerUpToDate). */
export function claimOwnerUpToDate(claim: KObject, set: KObject, pod: KObject): boolean {
  // managed by an earlier set or pod of the same name: not ours to touch
  if (hasStaleRef(claim, set, SET) || hasStaleRef(claim, pod, POD)) return true;
  if (hasUnexpectedController(claim, set, pod)) return !(hasRef(claim, set) || hasRef(claim, pod));
  if (hasOtherOwner(claim, set, pod)) return true;
  const p = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(set, pod);
  const wantSet = p.whenDeleted === "Delete" && !(p.whenScaled === "Delete" && scaledDown);
  const wantPod = p.whenScaled === "Delete" && scaledDown;
  return hasRef(claim, set) === wantSet && hasRef(claim, pod) === wantPod;
}

/** The claim's references after bringing them in line with the policy (upstream updateClaimOwnerRefForSetAndPod). */
export function claimOwnerRefs(claim: KObject, set: KObject, pod: KObject): OwnerReference[] {
  const unexpected = hasUnexpectedController(claim, set, pod);
  const mine = (r: OwnerReference) =>
    (r.uid === set.metadata.uid && r.kind === SET.kind) || (r.uid === pod.metadata.uid && r.kind === POD.kind);
  const out = refs(claim).filter((r) => !mine(r));
  if (unexpected) return out;
  const p = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(set, pod);
  if (p.whenScaled === "Delete" && scaledDown) out.push(controllerRef(pod, POD.apiVersion, POD.kind));
  else if (p.whenDeleted === "Delete") out.push(controllerRef(set, SET.apiVersion, SET.kind));
  return out;
}

/** Every existing claim of the pod agrees with the policy (upstream ClaimsMatchRetentionPolicy). */
export function claimsMatchRetention(
  set: KObject,
  pod: KObject,
  claim: (name: string) => KObject | undefined,
): boolean {
  const ordinal = ordinalOf(pod);
  return claimTemplates(set).every((t) => {
    const c = claim(claimName(set, t, ordinal));
    return c === undefined || claimOwnerUpToDate(c, set, pod);
  });
}

/**
 * With whenScaled Delete, a claim still referring to an earlier pod of this name (the pod to be made
 * has no uid yet) is on its way out: the pod waits for it (upstream PodClaimIsStale).
 */
export function claimIsStale(set: KObject, pod: KObject, claim: (name: string) => KObject | undefined): boolean {
  if (retentionPolicy(set).whenScaled === "Retain") return false;
  return claimsFor(set, ordinalOf(pod)).some(({ claim: c }) => {
    const there = claim(c.metadata.name ?? "");
    return there !== undefined && hasStaleRef(there, pod, POD);
  });
}
