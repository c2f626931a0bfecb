/**
 * The arithmetic of the Deployment controller (upstream pkg/controller/deployment/util), pure so it
 * can be checked by table: template hashes, surge and unavailability fenceposts, how far a new
 * ReplicaSet may grow, proportional scaling, revisions and the Progressing/Available conditions.
 */

import { canonical } from "../../api/canonical.js";
import { scaledValue } from "../../api/intstr.js";
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import { safeHash } from "../hash.js";

type Rec = Record<string, unknown>;

export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
export const HASH_LABEL = "pod-template-hash";
/** Upstream keeps at most this many characters of revision history on a ReplicaSet. */
const MAX_HISTORY_CHARS = 2000;
/** Annotations of a Deployment that are not copied to its ReplicaSets. */
const NOT_COPIED = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  "deprecated.deployment.rollback.to",
]);

export const reasons = {
  newRSAvailable: "NewReplicaSetAvailable",
  rsUpdated: "ReplicaSetUpdated",
  timedOut: "ProgressDeadlineExceeded",
  foundNewRS: "FoundNewReplicaSet",
  newRSCreated: "NewReplicaSetCreated",
  failedRSCreate: "ReplicaSetCreateError",
  paused: "DeploymentPaused",
  resumed: "DeploymentResumed",
  available: "MinimumReplicasAvailable",
  unavailable: "MinimumReplicasUnavailable",
} as const;

export function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

/** The object's annotations, made when it has none. */
export function annotationsOf(obj: KObject): Record<string, string> {
  if (!obj.metadata.annotations) obj.metadata.annotations = {};
  return obj.metadata.annotations;
}

export function replicasOf(obj: KObject | undefined): number {
  const r = rec(obj?.["spec"])["replicas"];
  return typeof r === "number" ? r : obj ? 1 : 0;
}

function statusNumber(obj: KObject | undefined, field: string): number {
  const v = rec(obj?.["status"])[field];
  return typeof v === "number" ? v : 0;
}

export const statusReplicas = (rs: KObject | undefined) => statusNumber(rs, "replicas");
export const availableReplicas = (rs: KObject | undefined) => statusNumber(rs, "availableReplicas");
export const readyReplicas = (rs: KObject | undefined) => statusNumber(rs, "readyReplicas");

function strategy(d: KObject): Rec {
  return rec(rec(d["spec"])["strategy"]);
}

export function isRollingUpdate(d: KObject): boolean {
  return (strategy(d)["type"] ?? "RollingUpdate") === "RollingUpdate";
}

/** Surge rounds up, unavailability down; both zero means one may be unavailable (upstream ResolveFenceposts). */
export function fenceposts(d: KObject): { surge: number; unavailable: number } {
  const ru = rec(strategy(d)["rollingUpdate"]);
  const desired = replicasOf(d);
  const surge = scaledValue(ru["maxSurge"] ?? "25%", desired, true);
  let unavailable = scaledValue(ru["maxUnavailable"] ?? "25%", desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: KObject): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: KObject): number {
  const desired = replicasOf(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d).unavailable, desired);
}

/** FNV-1a of the template and the collision count, spelled as upstream's ComputeHash. */
export function templateHash(template: unknown, collisionCount?: number): string {
  return safeHash(JSON.stringify(canonical(template)), collisionCount);
}

function withoutHash(template: unknown): unknown {
  const t = structuredClone(rec(template));
  const meta = rec(t["metadata"]);
  if (isRecord(meta["labels"])) delete meta["labels"][HASH_LABEL];
  return canonical(t);
}

/** The two pod templates are the same but for the pod-template-hash label (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return JSON.stringify(withoutHash(a)) === JSON.stringify(withoutHash(b));
}

export function templateOf(obj: KObject): Rec {
  return rec(rec(obj["spec"])["template"]);
}

const created = (o: KObject) => Date.parse(o.metadata.creationTimestamp ?? "") || 0;

/** Oldest first, ties by name (upstream ReplicaSetsByCreationTimestamp). */
export function byCreation(a: KObject, b: KObject): number {
  return created(a) - created(b) || String(a.metadata.name).localeCompare(String(b.metadata.name));
}

/** The oldest ReplicaSet whose template is the Deployment's. */
export function findNewReplicaSet(d: KObject, sets: KObject[]): KObject | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoreHash(templateOf(rs), templateOf(d)));
}

export function revisionOf(obj: KObject): number {
  const v = obj.metadata.annotations?.[REVISION];
  const n = v === undefined ? 0 : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

export function maxRevision(sets: KObject[]): number {
  return sets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** Replicas the new ReplicaSet should have now (upstream NewRSNewReplicas). */
export function newRSNewReplicas(d: KObject, all: KObject[], newRS: KObject): number {
  const desired = replicasOf(d);
  if (!isRollingUpdate(d)) return desired;
  const current = all.reduce((n, rs) => n + replicasOf(rs), 0);
  const maxTotal = desired + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, desired - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

/** Writes the desired/max replicas annotations; true when they changed. */
export function setReplicasAnnotations(rs: KObject, desired: number, max: number): boolean {
  const a = annotationsOf(rs);
  const changed = a[DESIRED_REPLICAS] !== String(desired) || a[MAX_REPLICAS] !== String(max);
  a[DESIRED_REPLICAS] = String(desired);
  a[MAX_REPLICAS] = String(max);
  return changed;
}

/** Copies the Deployment's annotations (but its own bookkeeping) to a ReplicaSet; true when one changed. */
export function copyAnnotations(d: KObject, rs: KObject): boolean {
  let changed = false;
  const a = annotationsOf(rs);
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (NOT_COPIED.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * The annotations of the new ReplicaSet at `revision` (upstream SetNewReplicaSetAnnotations): a
 * reused ReplicaSet's old revision goes to its revision history. True when something changed.
 */
export function setNewReplicaSetAnnotations(d: KObject, rs: KObject, revision: number, exists: boolean): boolean {
  let changed = copyAnnotations(d, rs);
  const a = annotationsOf(rs);
  const old = a[REVISION];
  const oldRevision = revisionOf(rs);
  if (oldRevision < revision) {
    a[REVISION] = String(revision);
    changed = true;
    if (old !== undefined && old !== "") {
      const history = (a[REVISION_HISTORY] ?? "").split(",").filter((s) => s !== "");
      history.push(old);
      while (history.length > 1 && history.join(",").length > MAX_HISTORY_CHARS) history.shift();
      a[REVISION_HISTORY] = history.join(",");
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** How many replicas a ReplicaSet gains (or loses) in a proportional scale (upstream getReplicaSetFraction). */
function fraction(rs: KObject, d: KObject): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const total = replicasOf(d) + maxSurge(d);
  const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS]);
  const base = Number.isInteger(annotated) && annotated > 0 ? annotated : statusReplicas(d);
  if (base === 0) return 0;
  // Go's math.Round: halves away from zero
  const size = (replicasOf(rs) * total) / base;
  return Math.sign(size) * Math.round(Math.abs(size)) - replicasOf(rs);
}

/** Upstream GetProportion: a set's share of `toAdd`, bounded by what is left to add. */
export function proportion(rs: KObject, d: KObject, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const f = fraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(f, allowed) : Math.max(f, allowed);
}

/**
 * New sizes for the active ReplicaSets when a Deployment is scaled mid-rollout (upstream
 * DeploymentController.scale, the rolling-update branch): the extra (or missing) replicas are
 * shared in proportion to the sets' sizes, the rest going to the largest.
 */
export function proportionalSizes(d: KObject, active: KObject[]): Map<string, number> {
  const sizes = new Map<string, number>();
  const total = active.reduce((n, rs) => n + replicasOf(rs), 0);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - total;
  // larger first; ties: newer first when growing, older first when shrinking
  const sorted = [...active].sort(
    (a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)),
  );
  let added = 0;
  for (const rs of sorted) {
    const p = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
    sizes.set(rs.metadata.name ?? "", replicasOf(rs) + p);
    added += p;
  }
  const first = sorted[0];
  if (toAdd !== 0 && first) {
    const name = first.metadata.name ?? "";
    sizes.set(name, Math.max(0, (sizes.get(name) ?? 0) + toAdd - added));
  }
  return sizes;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Rec[];
  collisionCount?: number;
}

export function statusOf(d: KObject): DeploymentStatus {
  return rec(d["status"]) as DeploymentStatus;
}

export function getCondition(s: DeploymentStatus, type: string): Rec | undefined {
  return (s.conditions ?? []).find((c) => c["type"] === type);
}

export function newCondition(type: string, status: string, reason: string, message: string, now: number): Rec {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * Upstream SetDeploymentCondition: nothing changes when status and reason are the same; the
 * transition time is kept when only the reason changes; the condition goes last.
 */
export function setCondition(s: DeploymentStatus, cond: Rec): void {
  const cur = getCondition(s, String(cond["type"]));
  if (cur && cur["status"] === cond["status"] && cur["reason"] === cond["reason"]) return;
  const next = { ...cond };
  if (cur && cur["status"] === cond["status"]) next["lastTransitionTime"] = cur["lastTransitionTime"];
  s.conditions = [...(s.conditions ?? []).filter((c) => c["type"] !== cond["type"]), next];
}

export function removeCondition(s: DeploymentStatus, type: string): void {
  s.conditions = (s.conditions ?? []).filter((c) => c["type"] !== type);
}

export function progressDeadline(d: KObject): number | undefined {
  const v = rec(d["spec"])["progressDeadlineSeconds"];
  return typeof v === "number" && v < 2147483647 ? v : undefined;
}

/** Every replica is updated, present and available, and this generation was seen (upstream DeploymentComplete). */
export function isComplete(d: KObject, s: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return (
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
  );
}

/** The rollout moved since the last status (upstream DeploymentProgressing). */
export function isProgressing(d: KObject, s: DeploymentStatus): boolean {
  const old = statusOf(d);
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** The Progressing condition was last updated longer ago than the deadline (upstream DeploymentTimedOut). */
export function isTimedOut(d: KObject, s: DeploymentStatus, now: number): boolean {
  const deadline = progressDeadline(d);
  if (deadline === undefined) return false;
  const cond = getCondition(s, "Progressing");
  if (!cond || cond["reason"] === reasons.newRSAvailable) return false;
  if (cond["reason"] === reasons.timedOut) return true;
  const from = Date.parse(String(cond["lastUpdateTime"] ?? ""));
  return !Number.isNaN(from) && from + deadline * 1000 < now;
}
