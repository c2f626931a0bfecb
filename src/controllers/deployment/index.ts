/**
 * Deployment controller (upstream pkg/controller/deployment): a Deployment owns ReplicaSets, one
 * per pod template (`<deployment>-<pod-template-hash>`), and moves replicas from the old ones to the
 * new one:
 * - RollingUpdate: the new set grows while the total stays within replicas + maxSurge; old sets
 *   shrink while at least replicas - maxUnavailable stay available (unhealthy old pods first);
 * - Recreate: every old set goes to zero, and the new set is made once no old pod runs;
 * - a scale (spec.replicas) mid-rollout is shared among the active sets in proportion to their size;
 * - paused: scaling only, no rollout; Progressing reads DeploymentPaused / DeploymentResumed;
 * - revisions: the new set's `deployment.kubernetes.io/revision` is one more than the highest
 *   (a reused set keeps its older numbers in revision-history), copied to the Deployment; at most
 *   revisionHistoryLimit empty old sets are kept;
 * - status: replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
 *   Available (at least replicas - maxUnavailable available) and Progressing (NewReplicaSetCreated,
 *   FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable, or ProgressDeadlineExceeded after
 *   progressDeadlineSeconds without progress), ReplicaFailure copied from the new set;
 * - ScalingReplicaSet events as upstream words them.
 * `kubectl rollout undo` is client-side for apps/v1: it puts an old set's template back, and the
 * set with that template becomes the new one again.
 */

import { isRecord, type KObject } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import { ApiError } from "../../apiserver/errors.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { recordEvent } from "../events.js";
import type { ReconcileResult } from "../queue.js";
import { claim, controllerOf, controllerRef, notFoundIsFine, selects, selectsNothing } from "../refmanager.js";
import {
  annotationsOf,
  availableReplicas,
  byCreation,
  DESIRED_REPLICAS,
  type DeploymentStatus,
  findNewReplicaSet,
  getCondition,
  HASH_LABEL,
  isComplete,
  isProgressing,
  isRollingUpdate,
  isTimedOut,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  progressDeadline,
  proportionalSizes,
  REVISION,
  readyReplicas,
  reasons,
  rec,
  removeCondition,
  replicasOf,
  revisionOf,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusOf,
  statusReplicas,
  templateHash,
  templateOf,
} from "./util.js";

const COMPONENT = "deployment-controller";

export interface DeploymentControllerOptions {
  now?: () => number;
}

export class DeploymentController extends QueuedController {
  constructor(client: LocalClient, opts: DeploymentControllerOptions = {}) {
    super(client, "deployment", opts.now);
  }

  private get dsv(): ServedVersion {
    return this.client.resource("apps", "v1", "deployments");
  }

  private get rssv(): ServedVersion {
    return this.client.resource("apps", "v1", "replicasets");
  }

  protected watchAll(): void {
    this.watchOwners(this.dsv);
    this.watchDependents(this.rssv, ["Deployment"], (rs) => this.selectingOwners(this.dsv, rs));
    // Recreate waits for the old pods to be gone
    this.watch(this.client.resource("", "v1", "pods"), (pod, deleted) => {
      if (!deleted) return;
      const ref = controllerOf(pod);
      if (ref?.kind !== "ReplicaSet") return;
      const rs = this.client.get(this.rssv, pod.metadata.namespace, ref.name);
      const dref = rs && controllerOf(rs);
      if (dref?.kind !== "Deployment") return;
      const d = this.client.get(this.dsv, pod.metadata.namespace, dref.name);
      if (d && !isRollingUpdate(d)) this.queue.add(`${d.metadata.namespace}/${d.metadata.name}`);
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const cached = this.client.get(this.dsv, ns, name);
    if (!cached) return undefined;
    const d = structuredClone(cached);
    if (selectsNothing(d)) {
      await this.event(
        d,
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
      );
      const s = statusOf(d);
      if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 1))
        await this.writeStatus(d, { ...s, observedGeneration: d.metadata.generation ?? 1 });
      return undefined;
    }
    // copies: the steps below keep them up to date with what they write
    const sets = (await this.claimSets(d)).map((rs) => structuredClone(rs));
    if (d.metadata.deletionTimestamp) {
      const { newRS, old } = await this.syncRevision(d, sets, false);
      await this.syncStatus(d, newRS, old);
      return undefined;
    }
    await this.checkPaused(d);
    if (rec(d["spec"])["paused"] === true) return this.sync(d, sets);
    if (this.isScalingEvent(d, sets)) return this.sync(d, sets);
    return isRollingUpdate(d) ? this.rolloutRolling(d, sets) : this.rolloutRecreate(d, sets);
  }

  private async claimSets(d: KObject): Promise<KObject[]> {
    const candidates = (await this.client.list(this.rssv, d.metadata.namespace)).map((c) => c.obj);
    return claim(
      {
        client: this.client,
        sv: this.rssv,
        owner: d,
        apiVersion: "apps/v1",
        kind: "Deployment",
        matches: (l) => selects(d, l),
      },
      candidates,
    );
  }

  /** A scale of the Deployment not yet passed to its active sets (their desired-replicas annotation differs). */
  private isScalingEvent(d: KObject, sets: KObject[]): boolean {
    for (const rs of sets) {
      if (replicasOf(rs) <= 0) continue;
      const desired = Number(rs.metadata.annotations?.[DESIRED_REPLICAS]);
      if (Number.isInteger(desired) && desired !== replicasOf(d)) return true;
    }
    return false;
  }

  /** Scaling only (paused or a scale event): upstream `sync`. */
  private async sync(d: KObject, sets: KObject[]): Promise<ReconcileResult> {
    const { newRS, old } = await this.syncRevision(d, sets, false);
    await this.scale(d, newRS, old);
    if (rec(d["spec"])["paused"] === true) await this.cleanup(d, old);
    await this.syncStatus(d, newRS, old);
    return undefined;
  }

  private async scale(d: KObject, newRS: KObject | undefined, old: KObject[]): Promise<void> {
    const all = newRS ? [newRS, ...old] : old;
    const active = all.filter((rs) => replicasOf(rs) > 0);
    // one active set (or none: the newest) takes the whole scale
    const single =
      active.length === 0 ? (newRS ?? [...old].sort(byCreation).at(-1)) : active.length === 1 ? active[0] : undefined;
    if (single) {
      if (replicasOf(single) !== replicasOf(d)) await this.scaleSet(single, replicasOf(d), d);
      return;
    }
    // the new set is saturated: the old ones go
    if (
      newRS &&
      replicasOf(newRS) === replicasOf(d) &&
      newRS.metadata.annotations?.[DESIRED_REPLICAS] === String(replicasOf(d)) &&
      availableReplicas(newRS) === replicasOf(d)
    ) {
      for (const rs of old) if (replicasOf(rs) > 0) await this.scaleSet(rs, 0, d);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const sizes = proportionalSizes(d, active);
    for (const rs of active) await this.scaleSet(rs, sizes.get(rs.metadata.name ?? "") ?? replicasOf(rs), d);
  }

  private async rolloutRolling(d: KObject, sets: KObject[]): Promise<ReconcileResult> {
    const { newRS, old } = await this.syncRevision(d, sets, true);
    if (!newRS) return undefined;
    const all = [...old, newRS];
    // grow the new set
    const desired = replicasOf(d);
    if (replicasOf(newRS) !== desired) {
      const target = replicasOf(newRS) > desired ? desired : newRSNewReplicas(d, all, newRS);
      if (await this.scaleSet(newRS, target, d)) return this.syncRolloutStatus(d, newRS, old);
    }
    // shrink the old ones
    if (await this.reconcileOld(d, newRS, old)) return this.syncRolloutStatus(d, newRS, old);
    if (isComplete(d, statusOf(d))) await this.cleanup(d, old);
    return this.syncRolloutStatus(d, newRS, old);
  }

  /** Upstream reconcileOldReplicaSets: true when an old set was scaled down. */
  private async reconcileOld(d: KObject, newRS: KObject, old: KObject[]): Promise<boolean> {
    const oldCount = old.reduce((n, rs) => n + replicasOf(rs), 0);
    if (oldCount === 0) return false;
    const allCount = oldCount + replicasOf(newRS);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - availableReplicas(newRS);
    const maxScaledDown = allCount - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // unhealthy old pods go first: they do not count toward availability anyway
    let cleaned = 0;
    const active = old.filter((rs) => replicasOf(rs) > 0).sort(byCreation);
    for (const rs of active) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = replicasOf(rs) - availableReplicas(rs);
      if (unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      if (down <= 0) continue;
      await this.scaleSet(rs, replicasOf(rs) - down, d);
      cleaned += down;
    }
    // then available ones, oldest first, while enough stay available
    const available = availableReplicas(newRS) + old.reduce((n, rs) => n + availableReplicas(rs), 0);
    let scaledDown = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of active) {
        if (scaledDown >= total) break;
        const size = replicasOf(rs);
        if (size === 0) continue;
        const down = Math.min(size, total - scaledDown);
        await this.scaleSet(rs, size - down, d);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  private async rolloutRecreate(d: KObject, sets: KObject[]): Promise<ReconcileResult> {
    let { newRS, old } = await this.syncRevision(d, sets, false);
    let scaledDown = false;
    for (const rs of old) {
      if (replicasOf(rs) > 0 && (await this.scaleSet(rs, 0, d))) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(d, newRS, old);
    if (await this.oldPodsRunning(d, newRS, old)) return this.syncRolloutStatus(d, newRS, old);
    if (!newRS) ({ newRS, old } = await this.syncRevision(d, sets, true));
    if (!newRS) return undefined;
    await this.scaleSet(newRS, replicasOf(d), d);
    if (isComplete(d, statusOf(d))) await this.cleanup(d, old);
    return this.syncRolloutStatus(d, newRS, old);
  }

  /** Some pod of an old set has not terminated yet (upstream oldPodsRunning). */
  private async oldPodsRunning(d: KObject, newRS: KObject | undefined, old: KObject[]): Promise<boolean> {
    if (old.some((rs) => statusReplicas(rs) > 0)) return true;
    const oldUids = new Set(old.map((rs) => rs.metadata.uid));
    const pods = (await this.client.list(this.client.resource("", "v1", "pods"), d.metadata.namespace)).map(
      (c) => c.obj,
    );
    return pods.some((p) => {
      const ref = controllerOf(p);
      if (!ref || ref.uid === newRS?.metadata.uid || !oldUids.has(ref.uid)) return false;
      const phase = rec(p["status"])["phase"];
      return phase !== "Failed" && phase !== "Succeeded";
    });
  }

  /**
   * The new set (made when `create` and none has the template) and the old ones, with revisions
   * brought up to date on the sets and on the Deployment (upstream getAllReplicaSetsAndSyncRevision).
   */
  private async syncRevision(
    d: KObject,
    sets: KObject[],
    create: boolean,
  ): Promise<{ newRS: KObject | undefined; old: KObject[] }> {
    const existing = findNewReplicaSet(d, sets);
    const old = sets.filter((rs) => rs !== existing);
    const revision = maxRevision(old) + 1;
    const deadline = progressDeadline(d) !== undefined;
    const status = structuredClone(statusOf(d));
    if (existing) {
      let rs = existing;
      const copy = structuredClone(existing);
      const minReady = rec(d["spec"])["minReadySeconds"] ?? 0;
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, revision, true);
      if (annotationsChanged || (rec(copy["spec"])["minReadySeconds"] ?? 0) !== minReady) {
        rs = await this.updateSet(existing, (o) => {
          o.metadata.annotations = copy.metadata.annotations;
          rec(o["spec"])["minReadySeconds"] = minReady;
        });
      }
      await this.setRevision(d, rs.metadata.annotations?.[REVISION]);
      if (deadline && !getCondition(status, "Progressing")) {
        setCondition(
          status,
          newCondition(
            "Progressing",
            "True",
            reasons.foundNewRS,
            `Found new replica set "${rs.metadata.name}"`,
            this.now(),
          ),
        );
        await this.writeStatus(d, status);
      }
      return { newRS: rs, old };
    }
    if (!create) return { newRS: undefined, old };
    const template = structuredClone(templateOf(d));
    const hash = templateHash(templateOf(d), status.collisionCount);
    const meta = { ...rec(template["metadata"]) };
    meta["labels"] = { ...rec(meta["labels"]), [HASH_LABEL]: hash };
    template["metadata"] = meta;
    const selector = structuredClone(rec(rec(d["spec"])["selector"]));
    selector["matchLabels"] = { ...rec(selector["matchLabels"]), [HASH_LABEL]: hash };
    const name = `${d.metadata.name}-${hash}`;
    const rs: KObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels: meta["labels"] as Record<string, string>,
        ownerReferences: [controllerRef(d, "apps/v1", "Deployment")],
      },
      spec: {
        replicas: 0,
        ...(typeof rec(d["spec"])["minReadySeconds"] === "number"
          ? { minReadySeconds: rec(d["spec"])["minReadySeconds"] }
          : {}),
        selector,
        template,
      },
    };
    const replicas = newRSNewReplicas(d, [...old, rs], rs);
    rec(rs["spec"])["replicas"] = replicas;
    setNewReplicaSetAnnotations(d, rs, revision, false);
    let made: KObject;
    let existed = false;
    try {
      made = (await this.client.registry.create(this.rssv, d.metadata.namespace, rs, { dryRun: false })).obj;
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) {
        const there =
          this.client.get(this.rssv, d.metadata.namespace, name) ?? (await this.fetchSet(d.metadata.namespace, name));
        if (there && controllerOf(there)?.uid === d.metadata.uid && findNewReplicaSet(d, [there])) {
          // ours already (the cache was behind)
          made = there;
          existed = true;
        } else {
          // a hash collision: the next hash takes the collision count into account
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.writeStatus(d, status);
          throw new Error(
            `replica set ${name} already exists with another template; collisionCount is now ${status.collisionCount}`,
          );
        }
      } else {
        const message = `Failed to create new replica set "${name}": ${err instanceof Error ? err.message : String(err)}`;
        if (deadline) {
          setCondition(status, newCondition("Progressing", "False", reasons.failedRSCreate, message, this.now()));
          await this.writeStatus(d, status);
        }
        await this.event(d, "Warning", reasons.failedRSCreate, message);
        throw err;
      }
    }
    if (!existed && replicas > 0) {
      await this.event(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${name} to ${replicas}`);
    }
    await this.setRevision(d, String(revision));
    if (!existed && deadline) {
      setCondition(
        status,
        newCondition("Progressing", "True", reasons.newRSCreated, `Created new replica set "${name}"`, this.now()),
      );
      await this.writeStatus(d, status);
    }
    return { newRS: made, old };
  }

  private async fetchSet(ns: string | undefined, name: string): Promise<KObject | undefined> {
    try {
      return (await this.client.registry.get(this.rssv, ns, name)).obj;
    } catch {
      return undefined;
    }
  }

  /** The Deployment's revision annotation follows its new set's. */
  private async setRevision(d: KObject, revision: string | undefined): Promise<void> {
    if (revision === undefined || d.metadata.annotations?.[REVISION] === revision) return;
    annotationsOf(d)[REVISION] = revision;
    await this.client
      .update(this.dsv, d.metadata.namespace, d.metadata.name ?? "", "", (o) => {
        annotationsOf(o)[REVISION] = revision;
        return o;
      })
      .catch(notFoundIsFine);
  }

  /** Sets a set's size (and the desired/max annotations); an event when the size changed. True if it wrote. */
  private async scaleSet(rs: KObject, size: number, d: KObject): Promise<boolean> {
    const from = replicasOf(rs);
    const copy = structuredClone(rs);
    const annotationsChanged = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (from === size && !annotationsChanged) return false;
    const updated = await this.updateSet(rs, (o) => {
      o.metadata.annotations = { ...o.metadata.annotations, ...copy.metadata.annotations };
      rec(o["spec"])["replicas"] = size;
    });
    // later steps of this sync read the new size
    Object.assign(rs, updated);
    if (from !== size) {
      const how = from < size ? "up" : "down";
      await this.event(
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${how} replica set ${rs.metadata.name} to ${size} from ${from}`,
      );
    }
    return from !== size;
  }

  private async updateSet(rs: KObject, mutate: (o: KObject) => void): Promise<KObject> {
    let out = rs;
    await this.client.update(this.rssv, rs.metadata.namespace, rs.metadata.name ?? "", "", (o) => {
      mutate(o);
      out = o;
      return o;
    });
    return out;
  }

  /** Deletes the oldest empty old sets beyond revisionHistoryLimit (upstream cleanupDeployment). */
  private async cleanup(d: KObject, old: KObject[]): Promise<void> {
    const limit = rec(d["spec"])["revisionHistoryLimit"];
    if (typeof limit !== "number") return;
    const cleanable = old.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      const s = rec(rs["status"]);
      if (statusReplicas(rs) !== 0 || replicasOf(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 1) > Number(s["observedGeneration"] ?? 0)) continue;
      await this.client.delete(this.rssv, rs.metadata.namespace, rs.metadata.name ?? "");
    }
  }

  private calculateStatus(d: KObject, newRS: KObject | undefined, old: KObject[]): DeploymentStatus {
    const all = newRS ? [...old, newRS] : old;
    const available = all.reduce((n, rs) => n + availableReplicas(rs), 0);
    const total = all.reduce((n, rs) => n + statusReplicas(rs), 0);
    const prev = statusOf(d);
    const s: DeploymentStatus = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: total,
      updatedReplicas: statusReplicas(newRS),
      readyReplicas: all.reduce((n, rs) => n + readyReplicas(rs), 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: structuredClone(prev.conditions ?? []),
      ...(prev.collisionCount !== undefined ? { collisionCount: prev.collisionCount } : {}),
    };
    const now = this.now();
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(
        s,
        newCondition("Available", "True", reasons.available, "Deployment has minimum availability.", now),
      );
    } else {
      setCondition(
        s,
        newCondition("Available", "False", reasons.unavailable, "Deployment does not have minimum availability.", now),
      );
    }
    return s;
  }

  /** Status without progress bookkeeping (scaling, paused, being deleted). */
  private async syncStatus(d: KObject, newRS: KObject | undefined, old: KObject[]): Promise<void> {
    await this.writeStatus(d, this.calculateStatus(d, newRS, old));
  }

  /** Status with the Progressing condition and its deadline (upstream syncRolloutStatus). */
  private async syncRolloutStatus(d: KObject, newRS: KObject | undefined, old: KObject[]): Promise<ReconcileResult> {
    const s = this.calculateStatus(d, newRS, old);
    const now = this.now();
    const deadline = progressDeadline(d);
    if (deadline === undefined) removeCondition(s, "Progressing");
    const cur = getCondition(s, "Progressing");
    const complete = s.replicas === s.updatedReplicas && cur?.["reason"] === reasons.newRSAvailable;
    const what = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (deadline !== undefined && !complete) {
      if (isComplete(d, s)) {
        setCondition(
          s,
          newCondition("Progressing", "True", reasons.newRSAvailable, `${what} has successfully progressed.`, now),
        );
      } else if (isProgressing(d, s)) {
        const cond = newCondition("Progressing", "True", reasons.rsUpdated, `${what} is progressing.`, now);
        if (cur?.["status"] === "True") cond["lastTransitionTime"] = cur["lastTransitionTime"];
        removeCondition(s, "Progressing");
        setCondition(s, cond);
      } else if (isTimedOut(d, s, now)) {
        setCondition(
          s,
          newCondition("Progressing", "False", reasons.timedOut, `${what} has timed out progressing.`, now),
        );
      }
    }
    // the new set's ReplicaFailure first, else an old one's
    const failure = [...(newRS ? [newRS] : []), ...old]
      .flatMap((rs) => {
        const conds = rec(rs["status"])["conditions"];
        return Array.isArray(conds) ? conds.filter(isRecord) : [];
      })
      .find((c) => c["type"] === "ReplicaFailure");
    if (failure) {
      const t = failure["lastTransitionTime"];
      setCondition(s, {
        type: "ReplicaFailure",
        status: failure["status"],
        lastUpdateTime: t,
        lastTransitionTime: t,
        reason: failure["reason"],
        message: failure["message"],
      });
    } else {
      removeCondition(s, "ReplicaFailure");
    }
    const changed = await this.writeStatus(d, s);
    if (changed) return undefined;
    // no change: look again when the deadline would pass
    const p = getCondition(s, "Progressing");
    if (deadline === undefined || !p || p["reason"] === reasons.newRSAvailable || p["reason"] === reasons.timedOut)
      return undefined;
    const from = Date.parse(String(p["lastUpdateTime"] ?? ""));
    if (Number.isNaN(from)) return undefined;
    return { requeueAfterMs: Math.max(1000, from + deadline * 1000 - now + 1) };
  }

  /** Progressing reads DeploymentPaused / DeploymentResumed (upstream checkPausedConditions). */
  private async checkPaused(d: KObject): Promise<void> {
    if (progressDeadline(d) === undefined) return;
    const s = structuredClone(statusOf(d));
    const cond = getCondition(s, "Progressing");
    if (cond?.["reason"] === reasons.timedOut) return;
    const pausedCond = cond?.["reason"] === reasons.paused;
    const paused = rec(d["spec"])["paused"] === true;
    if (paused && !pausedCond) {
      setCondition(s, newCondition("Progressing", "Unknown", reasons.paused, "Deployment is paused", this.now()));
    } else if (!paused && pausedCond) {
      setCondition(s, newCondition("Progressing", "Unknown", reasons.resumed, "Deployment is resumed", this.now()));
    } else {
      return;
    }
    await this.writeStatus(d, s);
  }

  /** Writes the status when it differs; `d` holds it afterwards. True if written. */
  private async writeStatus(d: KObject, s: DeploymentStatus): Promise<boolean> {
    const next: Record<string, unknown> = {};
    // upstream's field order, zero counts omitted
    for (const k of [
      "observedGeneration",
      "replicas",
      "updatedReplicas",
      "readyReplicas",
      "availableReplicas",
      "unavailableReplicas",
    ] as const) {
      const v = s[k];
      if (typeof v === "number" && v !== 0) next[k] = v;
    }
    if (s.conditions && s.conditions.length > 0) next["conditions"] = s.conditions;
    if (s.collisionCount !== undefined) next["collisionCount"] = s.collisionCount;
    if (JSON.stringify(next) === JSON.stringify(rec(d["status"]))) return false;
    d["status"] = next;
    await this.client
      .update(this.dsv, d.metadata.namespace, d.metadata.name ?? "", "status", (o) => {
        o["status"] = next;
        return o;
      })
      .catch(notFoundIsFine);
    return true;
  }

  private async event(d: KObject, type: string, reason: string, message: string): Promise<void> {
    await recordEvent(this.client, d, COMPONENT, type, reason, message, this.now());
  }
}
