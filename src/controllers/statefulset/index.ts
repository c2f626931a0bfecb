/**
 * StatefulSet controller (upstream pkg/controller/statefulset): pods with a stable identity
 * `<set>-<ordinal>`, each with its own PersistentVolumeClaims `<template>-<set>-<ordinal>`.
 * - a sync claims the set's pods (selector and name, as upstream's ControllerRefManager with the
 *   isMemberOf filter) and ControllerRevisions, finds the current and update revisions (one
 *   ControllerRevision `<set>-<hash>` per template, history.ts), decides its steps in plan.ts and
 *   takes them in order, stopping at the first error (retried with backoff);
 * - OrderedReady makes pods one at a time in ordinal order and deletes the highest first; Parallel
 *   does not wait; RollingUpdate replaces pods from the highest ordinal down to the partition, at
 *   most maxUnavailable at once; OnDelete leaves that to the user;
 * - claims are made before their pod and kept unless persistentVolumeClaimRetentionPolicy says
 *   Delete (retention.ts: ownerReferences for the garbage collector);
 * - events as upstream's StatefulPodControl words them (SuccessfulCreate "create Pod web-0 in
 *   StatefulSet web successful", "create Claim www-web-0 Pod web-0 in StatefulSet web success",
 *   SuccessfulDelete, FailedCreate ..., RecreatingFailedPod);
 * - status: replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas,
 *   currentRevision, updateRevision, collisionCount, observedGeneration; the revision history is
 *   cut to revisionHistoryLimit (never a revision a pod or the status names).
 * Everything is derived from the pods, claims and revisions that exist: a restart makes no duplicates.
 */
import { canonical } from "../../api/canonical.js";
import { labelSelectorFromObject } from "../../api/selectors/index.js";
import type { KObject } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import { ApiError } from "../../apiserver/errors.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { recordEvent } from "../events.js";
import { safeHash } from "../hash.js";
import {
  currentRevision,
  ownedRevisions,
  REVISION_LABEL,
  type RevisionOwner,
  templatePatch,
  truncateHistory,
} from "../history.js";
import type { ReconcileResult } from "../queue.js";
import { claim, notFoundIsFine, selects } from "../refmanager.js";
import {
  claimsFor,
  identityMatches,
  isMemberOf,
  minReadySeconds,
  ordinalOf,
  rec,
  replicasOf,
  revisionOf,
  specOf,
  storageMatches,
  updateIdentity,
  updateStorage,
} from "./identity.js";
import { plan, type StatefulSetStatus, type Step } from "./plan.js";
import { claimOwnerRefs, claimOwnerUpToDate } from "./retention.js";

export { parentAndOrdinal } from "./identity.js";
export { type Plan, type PlanInput, plan, type Step } from "./plan.js";

const COMPONENT = "statefulset-controller";
const KIND = "StatefulSet";
const API_VERSION = "apps/v1";

export interface StatefulSetControllerOptions {
  /** The clock (default Date.now). */
  now?: () => number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function title(verb: string): string {
  return verb.charAt(0).toUpperCase() + verb.slice(1);
}

/** The revision's name for a collision count (upstream ControllerRevisionName(set, HashControllerRevision)). */
export function revisionHash(set: KObject, collisionCount: number): string {
  return safeHash(JSON.stringify(canonical(templatePatch(set))), collisionCount);
}

/** The set with a revision's template (upstream ApplyRevision). */
export function applyRevision(set: KObject, revision: KObject): KObject {
  const template = structuredClone(rec(rec(rec(revision["data"])["spec"])["template"]));
  delete template["$patch"];
  return { ...set, spec: { ...specOf(set), template } };
}

/** The status as upstream's JSON writes it (zero counts omitted, but replicas and availableReplicas). */
export function statusJSON(s: StatefulSetStatus): Record<string, unknown> {
  return {
    ...(s.observedGeneration ? { observedGeneration: s.observedGeneration } : {}),
    replicas: s.replicas,
    ...(s.readyReplicas ? { readyReplicas: s.readyReplicas } : {}),
    ...(s.currentReplicas ? { currentReplicas: s.currentReplicas } : {}),
    ...(s.updatedReplicas ? { updatedReplicas: s.updatedReplicas } : {}),
    ...(s.currentRevision ? { currentRevision: s.currentRevision } : {}),
    ...(s.updateRevision ? { updateRevision: s.updateRevision } : {}),
    collisionCount: s.collisionCount,
    availableReplicas: s.availableReplicas,
  };
}

export class StatefulSetController extends QueuedController {
  constructor(client: LocalClient, opts: StatefulSetControllerOptions = {}) {
    super(client, "statefulset", opts.now);
  }

  private get ssv(): ServedVersion {
    return this.client.resource("apps", "v1", "statefulsets");
  }

  private get podsv(): ServedVersion {
    return this.client.resource("", "v1", "pods");
  }

  private get pvcsv(): ServedVersion {
    return this.client.resource("", "v1", "persistentvolumeclaims");
  }

  protected watchAll(): void {
    this.watchOwners(this.ssv);
    this.watchDependents(this.podsv, [KIND], (pod) => this.selectingOwners(this.ssv, pod));
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    // a consistent read first: the cache then holds this controller's own last writes
    const all = (await this.client.listFresh(this.podsv, ns)).map((c) => c.obj);
    const cached = this.client.get(this.ssv, ns, name);
    if (!cached) return undefined;
    const set = structuredClone(cached);
    try {
      labelSelectorFromObject(specOf(set)["selector"]);
    } catch {
      // an invalid selector does not get better by retrying
      return undefined;
    }
    const owner: RevisionOwner = {
      client: this.client,
      owner: set,
      apiVersion: API_VERSION,
      kind: KIND,
      matches: (l) => selects(set, l),
    };
    const revisions = await ownedRevisions(owner);
    const pods = await this.claimPods(set, all);
    const status = rec(set["status"]);
    const prevCount = typeof status["collisionCount"] === "number" ? status["collisionCount"] : 0;
    const templateLabels = rec(rec(specOf(set)["template"])["metadata"])["labels"] as
      | Record<string, string>
      | undefined;
    const { revision: update, collisionCount } = await currentRevision(
      owner,
      revisions,
      {
        name: (count) => `${name}-${revisionHash(set, count)}`,
        labels: (count) => ({ ...templateLabels, [REVISION_LABEL]: revisionHash(set, count) }),
        annotations: set.metadata.annotations,
      },
      prevCount,
    );
    const current = revisions.find((r) => r.metadata.name === status["currentRevision"]) ?? update;
    const now = this.now();
    const p = plan({
      set,
      currentSet: applyRevision(set, current),
      updateSet: applyRevision(set, update),
      currentRevision: current.metadata.name ?? "",
      updateRevision: update.metadata.name ?? "",
      collisionCount,
      pods,
      claim: (n) => this.client.get(this.pvcsv, ns, n),
      now,
    });
    let failure: unknown;
    try {
      for (const step of p.steps) await this.take(set, step);
    } catch (err) {
      failure = err;
    }
    await this.writeStatus(set, p.status);
    const live = new Set([current.metadata.name ?? "", update.metadata.name ?? "", ...pods.map(revisionOf)]);
    const limit = specOf(set)["revisionHistoryLimit"];
    await truncateHistory(owner, revisions, live, typeof limit === "number" ? limit : 10);
    if (failure !== undefined) throw failure;
    // one more look when a ready pod will have been ready for minReadySeconds
    const minReady = minReadySeconds(set);
    if (minReady > 0 && p.status.availableReplicas !== replicasOf(set)) return { requeueAfterMs: minReady * 1000 };
    return undefined;
  }

  /**
   * The set's pods: those it controls or may adopt, whose labels match its selector and whose names
   * are `<set>-<n>` (upstream's isMemberOf filter); a pod it controls that no longer does is released.
   */
  private claimPods(set: KObject, all: KObject[]): Promise<KObject[]> {
    return claim(
      {
        client: this.client,
        sv: this.podsv,
        owner: set,
        apiVersion: API_VERSION,
        kind: KIND,
        matches: (l, o) => selects(set, l) && isMemberOf(set, o),
      },
      all,
    );
  }

  private async take(set: KObject, step: Step): Promise<void> {
    switch (step.op) {
      case "create":
        return this.createPod(set, step.pod);
      case "delete":
        return this.deletePod(set, step.pod, step.why);
      case "createClaims":
        return this.createClaims(set, step.pod);
      case "update":
        return this.updatePod(set, step.pod);
      case "retention":
        return this.fixClaimRefs(set, step.pod);
    }
  }

  /** The claims first, then the pod; then the claims' retention references (upstream CreateStatefulPod). */
  private async createPod(set: KObject, pod: KObject): Promise<void> {
    try {
      await this.createClaims(set, pod);
    } catch (err) {
      await this.podEvent("create", set, pod, err);
      throw err;
    }
    let made: KObject;
    try {
      made = (await this.client.registry.create(this.podsv, pod.metadata.namespace, pod, { dryRun: false })).obj;
    } catch (err) {
      // an AlreadyExists means the cache was behind: no event, just another look
      if (!(err instanceof ApiError && err.code === 409)) await this.podEvent("create", set, pod, err);
      throw err;
    }
    try {
      await this.fixClaimRefs(set, made);
    } catch (err) {
      await this.podEvent("update", set, made, err);
      throw err;
    }
    await this.podEvent("create", set, made);
  }

  /** Makes the claims of the pod that do not exist (upstream createPersistentVolumeClaims). */
  private async createClaims(set: KObject, pod: KObject): Promise<void> {
    const errors: string[] = [];
    for (const { claim: c } of claimsFor(set, ordinalOf(pod))) {
      const cname = c.metadata.name ?? "";
      const there = this.client.get(this.pvcsv, c.metadata.namespace, cname);
      if (there) {
        if (there.metadata.deletionTimestamp) errors.push(`pvc ${cname} is being deleted`);
        continue;
      }
      try {
        await this.client.registry.create(this.pvcsv, c.metadata.namespace, c, { dryRun: false });
        await this.claimEvent(set, pod, cname);
      } catch (err) {
        const exists = err instanceof ApiError && err.code === 409;
        errors.push(`failed to create PVC ${cname}: ${message(err)}`);
        if (!exists) await this.claimEvent(set, pod, cname, err);
      }
    }
    if (errors.length === 1) throw new Error(errors[0]);
    if (errors.length > 1) throw new Error(`[${errors.join(", ")}]`);
  }

  private async deletePod(set: KObject, pod: KObject, why: string): Promise<void> {
    const ns = set.metadata.namespace;
    if (why === "failed") {
      await this.event(
        set,
        "Warning",
        "RecreatingFailedPod",
        `StatefulSet ${ns}/${set.metadata.name} is recreating failed Pod ${pod.metadata.name}`,
      );
    } else if (why === "succeeded") {
      await this.event(
        set,
        "Normal",
        "RecreatingTerminatedPod",
        `StatefulSet ${ns}/${set.metadata.name} is recreating terminated Pod ${pod.metadata.name}`,
      );
    }
    try {
      await this.client.registry.delete(this.podsv, pod.metadata.namespace, pod.metadata.name ?? "", { dryRun: false });
    } catch (err) {
      await this.podEvent("delete", set, pod, err);
      // gone already: what the delete wanted
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    await this.podEvent("delete", set, pod);
  }

  /** Puts identity, storage and claim references right (upstream UpdateStatefulPod). */
  private async updatePod(set: KObject, pod: KObject): Promise<void> {
    try {
      await this.fixClaimRefs(set, pod);
      if (identityMatches(set, pod) && storageMatches(set, pod)) return;
      await this.client.update(this.podsv, pod.metadata.namespace, pod.metadata.name ?? "", "", (o) => {
        if (!identityMatches(set, o)) updateIdentity(set, o);
        if (!storageMatches(set, o)) updateStorage(set, o);
        return o;
      });
      if (!storageMatches(set, pod)) await this.createClaims(set, pod);
    } catch (err) {
      await this.podEvent("update", set, pod, err);
      throw err;
    }
    await this.podEvent("update", set, pod);
  }

  /** Sets the claims' ownerReferences per the retention policy (upstream UpdatePodClaimForRetentionPolicy). */
  private async fixClaimRefs(set: KObject, pod: KObject): Promise<void> {
    for (const { claim: c } of claimsFor(set, ordinalOf(pod))) {
      const cname = c.metadata.name ?? "";
      const there = this.client.get(this.pvcsv, c.metadata.namespace, cname);
      if (!there || claimOwnerUpToDate(there, set, pod)) continue;
      await this.client
        .update(this.pvcsv, c.metadata.namespace, cname, "", (o) => {
          const refs = claimOwnerRefs(o, set, pod);
          if (refs.length > 0) o.metadata.ownerReferences = refs;
          else delete o.metadata.ownerReferences;
          return o;
        })
        .catch((err) => {
          throw new Error(`could not update claim ${cname} for delete policy ownerRefs: ${message(err)}`);
        });
    }
  }

  private async writeStatus(set: KObject, s: StatefulSetStatus): Promise<void> {
    const next = statusJSON(s);
    // upstream writes the whole status (no conditions of its own) when a count or revision differs
    if (JSON.stringify(next) === JSON.stringify(rec(set["status"]))) return;
    await this.client
      .update(this.ssv, set.metadata.namespace, set.metadata.name ?? "", "status", (o) => {
        o["status"] = next;
        return o;
      })
      .catch(notFoundIsFine);
  }

  private async podEvent(verb: string, set: KObject, pod: KObject, err?: unknown): Promise<void> {
    const what = `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name}`;
    if (err === undefined) await this.event(set, "Normal", `Successful${title(verb)}`, `${what} successful`);
    else await this.event(set, "Warning", `Failed${title(verb)}`, `${what} failed error: ${message(err)}`);
  }

  private async claimEvent(set: KObject, pod: KObject, claimName: string, err?: unknown): Promise<void> {
    const s = set.metadata.name;
    if (err === undefined) {
      await this.event(
        set,
        "Normal",
        "SuccessfulCreate",
        `create Claim ${claimName} Pod ${pod.metadata.name} in StatefulSet ${s} success`,
      );
    } else {
      await this.event(
        set,
        "Warning",
        "FailedCreate",
        `create Claim ${claimName} for Pod ${pod.metadata.name} in StatefulSet ${s} failed error: ${message(err)}`,
      );
    }
  }

  private async event(set: KObject, type: string, reason: string, msg: string): Promise<void> {
    await recordEvent(this.client, set, COMPONENT, type, reason, msg, this.now());
  }
}
