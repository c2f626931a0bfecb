/**
 * What one sync of a StatefulSet does, decided without side effects (upstream
 * defaultStatefulSetControl.updateStatefulSet): the steps in the order upstream takes them and the
 * status the set gets.
 * 1. each replica (ordinals start..start+replicas-1, lowest first): a Failed or Succeeded pod is
 *    deleted and made again; a missing pod is made (at the current revision below the partition,
 *    else the update revision); a Pending pod gets its missing claims; a pod whose identity, storage
 *    or claim references drifted is updated. OrderedReady stops at the first pod it made or that is
 *    terminating, not Running and Ready, or not available for minReadySeconds;
 * 2. the claims of condemned pods (ordinals out of range) get their retention references;
 * 3. condemned pods are deleted, highest ordinal first: OrderedReady one at a time and only while the
 *    others are healthy (an unhealthy one may go if it is the first unhealthy pod);
 * 4. RollingUpdate: pods not at the update revision with ordinal index >= partition are deleted from
 *    the highest down, at most maxUnavailable (default 1, upstream MaxUnavailableStatefulSet, on since
 *    1.35) unavailable at once; OnDelete leaves them for the user.
 */
import { scaledValue } from "../../api/intstr.js";
import type { KObject } from "../../api/types.js";
import {
  claimsFor,
  endOrdinal,
  identityMatches,
  isCreated,
  isFailed,
  isHealthy,
  isMonotonic,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  minReadySeconds,
  newPod,
  ordinalOf,
  rec,
  replicasOf,
  revisionOf,
  specOf,
  startOrdinal,
  storageMatches,
} from "./identity.js";
import { claimIsStale, claimsMatchRetention } from "./retention.js";

export type Step =
  /** make the pod's missing claims, then the pod */
  | { op: "create"; pod: KObject }
  | { op: "delete"; pod: KObject; why: "failed" | "succeeded" | "condemned" | "update" }
  /** a Pending pod whose claims are missing */
  | { op: "createClaims"; pod: KObject }
  /** identity, storage or claim references drifted */
  | { op: "update"; pod: KObject }
  /** a condemned pod's claims need their retention references */
  | { op: "retention"; pod: KObject };

/** The controller-written status, in upstream's field order. */
export interface StatefulSetStatus {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
  availableReplicas: number;
}

export interface PlanInput {
  set: KObject;
  /** The set with the current revision's template. */
  currentSet: KObject;
  /** The set with the update revision's template (the set's own). */
  updateSet: KObject;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
  /** The set's pods (claimed, members by name). */
  pods: KObject[];
  /** A claim by name, from the cache. */
  claim: (name: string) => KObject | undefined;
  now: number;
}

export interface Plan {
  steps: Step[];
  status: StatefulSetStatus;
  /** Why OrderedReady stopped before the end, if it did. */
  blocked?: string;
}

export function partitionOf(set: KObject): number {
  const p = rec(rec(specOf(set)["updateStrategy"])["rollingUpdate"])["partition"];
  return typeof p === "number" ? p : 0;
}

export function isOnDelete(set: KObject): boolean {
  return rec(specOf(set)["updateStrategy"])["type"] === "OnDelete";
}

/** maxUnavailable of a RollingUpdate (default 1, a percentage of replicas rounded down, at least 1). */
export function maxUnavailableOf(set: KObject): number {
  const v = rec(rec(specOf(set)["updateStrategy"])["rollingUpdate"])["maxUnavailable"];
  const n = scaledValue(v ?? 1, replicasOf(set), false);
  return Math.max(1, n);
}

/**
 * The pod made for `ordinal`: from the current revision below the partition, else from the update
 * revision (upstream newVersionedStatefulSetPod).
 */
export function versionedPod(i: PlanInput, ordinal: number): KObject {
  const strategy = rec(specOf(i.set)["updateStrategy"]);
  const ru = strategy["rollingUpdate"];
  const start = startOrdinal(i.set);
  const status = rec(i.set["status"]);
  const current =
    (strategy["type"] === "RollingUpdate" &&
      ru === undefined &&
      ordinal < start + Number(status["currentReplicas"] ?? 0)) ||
    (ru !== undefined && ordinal < start + partitionOf(i.set));
  return current ? newPod(i.currentSet, ordinal, i.currentRevision) : newPod(i.updateSet, ordinal, i.updateRevision);
}

/** Replica and revision counts over pods (upstream computeReplicaStatus / updateStatus). */
export function countStatus(i: PlanInput, pods: KObject[]): StatefulSetStatus {
  const minReady = minReadySeconds(i.set);
  const s: StatefulSetStatus = {
    observedGeneration: i.set.metadata.generation ?? 1,
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    currentRevision: i.currentRevision,
    updateRevision: i.updateRevision,
    collisionCount: i.collisionCount,
    availableReplicas: 0,
  };
  for (const p of pods) {
    if (isCreated(p)) s.replicas++;
    if (isRunningAndReady(p)) {
      s.readyReplicas++;
      if (isRunningAndAvailable(p, minReady, i.now)) s.availableReplicas++;
    }
    if (isCreated(p) && !isTerminating(p)) {
      if (revisionOf(p) === i.currentRevision) s.currentReplicas++;
      if (revisionOf(p) === i.updateRevision) s.updatedReplicas++;
    }
  }
  return s;
}

/** A finished RollingUpdate makes the update revision current (upstream completeRollingUpdate). */
export function completeRollingUpdate(set: KObject, s: StatefulSetStatus): StatefulSetStatus {
  if (isOnDelete(set) || s.updatedReplicas !== s.replicas || s.readyReplicas !== s.replicas) return s;
  return { ...s, currentReplicas: s.updatedReplicas, currentRevision: s.updateRevision };
}

export function plan(i: PlanInput): Plan {
  const { set } = i;
  const start = startOrdinal(set);
  const count = Math.max(0, replicasOf(set));
  const monotonic = isMonotonic(set);
  const minReady = minReadySeconds(set);
  const replicas: KObject[] = new Array(count);
  const condemned: KObject[] = [];
  for (const p of i.pods) {
    const o = ordinalOf(p);
    if (o >= start && o <= endOrdinal(set)) replicas[o - start] = p;
    else if (o >= 0) condemned.push(p);
  }
  for (let k = 0; k < count; k++) replicas[k] ??= versionedPod(i, start + k);
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
  const firstUnhealthy = replicas.find((p) => !isHealthy(p)) ?? [...condemned].reverse().find((p) => !isHealthy(p));
  const steps: Step[] = [];
  const done = (blocked?: string): Plan => ({
    steps,
    status: completeRollingUpdate(set, countStatus(i, [...replicas, ...condemned])),
    ...(blocked ? { blocked } : {}),
  });
  if (set.metadata.deletionTimestamp) return done();

  // 1. the replicas, lowest ordinal first
  for (let k = 0; k < count; k++) {
    let pod = replicas[k]!;
    if (isFailed(pod) || isSucceeded(pod)) {
      steps.push({ op: "delete", pod, why: isFailed(pod) ? "failed" : "succeeded" });
      pod = versionedPod(i, start + k);
      replicas[k] = pod;
    }
    const name = pod.metadata.name ?? "";
    if (!isCreated(pod)) {
      if (claimIsStale(set, pod, i.claim)) {
        if (monotonic) return done(`${name} waits for the claims of its predecessor to go`);
        continue;
      }
      steps.push({ op: "create", pod });
      if (monotonic) return done(`${name} was just created`);
      continue;
    }
    if (isPending(pod) && claimsFor(set, start + k).some(({ claim }) => !i.claim(claim.metadata.name ?? ""))) {
      steps.push({ op: "createClaims", pod });
    }
    if (monotonic && isTerminating(pod)) return done(`${name} is terminating`);
    if (monotonic && !isRunningAndReady(pod)) return done(`${name} is not Running and Ready`);
    if (monotonic && !isRunningAndAvailable(pod, minReady, i.now)) return done(`${name} is not available`);
    if (identityMatches(set, pod) && storageMatches(set, pod) && claimsMatchRetention(i.updateSet, pod, i.claim))
      continue;
    steps.push({ op: "update", pod });
  }

  // 2. the claims of condemned pods
  for (const pod of condemned) {
    if (!claimsMatchRetention(i.updateSet, pod, i.claim)) steps.push({ op: "retention", pod });
  }

  // 3. condemned pods, highest ordinal first
  for (const pod of condemned) {
    const name = pod.metadata.name ?? "";
    if (isTerminating(pod)) {
      if (monotonic) return done(`${name} is terminating`);
      continue;
    }
    if (monotonic && pod !== firstUnhealthy && !isRunningAndAvailable(pod, minReady, i.now)) {
      return done(`${name} is not Running and Ready`);
    }
    steps.push({ op: "delete", pod, why: "condemned" });
    if (monotonic) return done(`${name} is being deleted`);
  }

  // 4. the rolling update
  const status = completeRollingUpdate(set, countStatus(i, [...replicas, ...condemned]));
  if (isOnDelete(set)) return { steps, status };
  const maxUnavailable = maxUnavailableOf(set);
  const unavailable = replicas.filter((p) => !isHealthy(p)).length;
  if (unavailable >= maxUnavailable) {
    return { steps, status, blocked: `${unavailable} pods unavailable, maxUnavailable ${maxUnavailable}` };
  }
  let deleted = 0;
  for (let k = count - 1; k >= partitionOf(set) && deleted < maxUnavailable - unavailable; k--) {
    const pod = replicas[k]!;
    if (revisionOf(pod) !== i.updateRevision && !isTerminating(pod)) {
      steps.push({ op: "delete", pod, why: "update" });
      deleted++;
    }
  }
  // upstream counts the pods it deletes for the update out of currentReplicas
  const current = countStatus(i, [...replicas, ...condemned]);
  return {
    steps,
    status: completeRollingUpdate(set, { ...current, currentReplicas: current.currentReplicas - deleted }),
  };
}
