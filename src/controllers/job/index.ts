/**
 * Job controller (upstream pkg/controller/job), the core of it:
 * - pods from the template (`<job>-<random>`; Indexed: `<job>-<index>-<random>` with the
 *   completion index annotation, label, JOB_COMPLETION_INDEX and hostname `<job>-<index>`), with the
 *   labels the API gave the template (job-name, controller-uid, batch.kubernetes.io/*), a controller
 *   reference and the `batch.kubernetes.io/job-tracking` finalizer;
 * - counting as upstream's finalizer tracking, so no finished pod is counted twice or lost across
 *   restarts: finished pods' uids go to status.uncountedTerminatedPods, then their finalizers are
 *   removed, then the uids move into succeeded/failed. A pod being deleted before it succeeded
 *   counts as failed; with restartPolicy OnFailure container restarts count as failures too;
 * - parallelism and completions (none: done once a pod succeeded and none is left running),
 *   backoffLimit with the pod-failure back-off (10 s doubling, at most 6 min, from the last
 *   failure), activeDeadlineSeconds, suspend (active pods deleted; Suspended condition, startTime
 *   reset on resume);
 * - conditions as 1.31+: SuccessCriteriaMet / FailureTarget at once, Complete / Failed once no pod
 *   is left running or terminating; completionTime; events as upstream's.
 * - podFailurePolicy (FailJob / FailIndex / Ignore / Count by exit code or pod condition),
 *   backoffLimitPerIndex with maxFailedIndexes (per-index failure counts on the pods' annotations,
 *   failedIndexes), successPolicy (SuccessPolicy), podReplacementPolicy Failed (a terminating pod
 *   holds its place until it has failed) — the rules in policy.ts.
 * Not yet: managedBy, adoption of orphans with manualSelector; ttlSecondsAfterFinished is its own
 * controller.
 */

import { isPodReady } from "../../api/pdb.js";
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import { ApiError } from "../../apiserver/errors.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { recordEvent } from "../events.js";
import { createPods, deletePods, type PodOwner } from "../podcontrol.js";
import type { ReconcileResult } from "../queue.js";
import { controllerOf } from "../refmanager.js";
import { rankForDeletion } from "../replicaset/index.js";
import { formatIndexes, matchPodFailurePolicy, matchSuccessPolicy, onlyReplaceFailed, parseIndexes } from "./policy.js";

export { formatIndexes, parseIndexes };

type Rec = Record<string, unknown>;

export const TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
const INDEX_KEY = "batch.kubernetes.io/job-completion-index";
const INDEX_FAILURES = "batch.kubernetes.io/job-index-failure-count";
const INDEX_IGNORED = "batch.kubernetes.io/job-index-ignored-failure-count";
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 6 * 60_000;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function phaseOf(pod: KObject): string {
  return String(rec(pod["status"])["phase"] ?? "");
}

/**
 * How a pod counts for its Job. A pod being deleted before it finished has failed (upstream counts
 * it so orphans never stay uncounted) — unless the Job only replaces Failed pods (podReplacementPolicy
 * Failed, or a podFailurePolicy): then it is terminating until its phase says.
 */
export function podOutcome(pod: KObject, terminalOnly = false): "succeeded" | "failed" | "active" | "terminating" {
  const phase = phaseOf(pod);
  if (phase === "Succeeded") return "succeeded";
  if (phase === "Failed") return "failed";
  if (pod.metadata.deletionTimestamp) return terminalOnly ? "terminating" : "failed";
  return "active";
}

function created(p: KObject): number {
  return Date.parse(p.metadata.creationTimestamp ?? "") || 0;
}

function annotationCount(pod: KObject | undefined, key: string): number {
  const n = Number(pod?.metadata.annotations?.[key] ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The pod-failure back-off after `failures` failures (10 s, 20 s, 40 s, ... at most 6 min). */
export function failureBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
}

function indexOf(pod: KObject): number | undefined {
  const v = pod.metadata.annotations?.[INDEX_KEY] ?? pod.metadata.labels?.[INDEX_KEY];
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The pod a Job's template makes; `index` for Indexed jobs. */
export function jobPod(job: KObject, index: number | undefined, extra: Record<string, string> = {}): KObject {
  const template = rec(rec(job["spec"])["template"]);
  const meta = rec(template["metadata"]);
  const labels = { ...(rec(meta["labels"]) as Record<string, string>) };
  const annotations = { ...(rec(meta["annotations"]) as Record<string, string>), ...extra };
  const spec = structuredClone(rec(template["spec"]));
  const name = job.metadata.name ?? "";
  if (index !== undefined) {
    labels[INDEX_KEY] = String(index);
    annotations[INDEX_KEY] = String(index);
    spec["hostname"] ??= `${name}-${index}`;
    const env = {
      name: "JOB_COMPLETION_INDEX",
      valueFrom: { fieldRef: { fieldPath: `metadata.labels['${INDEX_KEY}']` } },
    };
    for (const key of ["containers", "initContainers"]) {
      const list = spec[key];
      if (!Array.isArray(list)) continue;
      for (const c of list) {
        if (!isRecord(c)) continue;
        const e = Array.isArray(c["env"]) ? c["env"] : [];
        if (!e.some((x) => isRecord(x) && x["name"] === "JOB_COMPLETION_INDEX")) c["env"] = [...e, env];
      }
    }
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
      namespace: job.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      finalizers: [TRACKING_FINALIZER],
      ownerReferences: [
        {
          apiVersion: "batch/v1",
          kind: "Job",
          name,
          uid: job.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec,
  };
}

function conditionsOf(job: KObject): Rec[] {
  const c = rec(job["status"])["conditions"];
  return Array.isArray(c) ? c.filter(isRecord) : [];
}

function hasCondition(job: KObject, type: string): boolean {
  return conditionsOf(job).some((c) => c["type"] === type && c["status"] === "True");
}

export function isFinished(job: KObject): boolean {
  return hasCondition(job, "Complete") || hasCondition(job, "Failed");
}

function setCondition(conds: Rec[], type: string, status: string, reason: string, message: string, now: number): Rec[] {
  const at = rfc3339(now);
  const i = conds.findIndex((c) => c["type"] === type);
  const cond: Rec = { type, status, lastProbeTime: at, lastTransitionTime: at, reason, message };
  if (i < 0) return [...conds, cond];
  const prev = conds[i]!;
  if (prev["status"] === status && prev["reason"] === reason) return conds;
  return conds.map((c, j) => (j === i ? cond : c));
}

export interface JobControllerOptions {
  now?: () => number;
  /** How long pod changes are gathered before a Job is synced (default 1 s, upstream's syncJobBatchPeriod). */
  batchMs?: number;
}

export class JobController extends QueuedController {
  /** The index of pods by their controlling Job's uid (upstream's informer indexer by controller). */
  private readonly podsOfJob = new Map<string, Map<string, KObject>>();
  private readonly jobOfPod = new Map<string, string>();
  private readonly batchMs: number;

  constructor(client: LocalClient, opts: JobControllerOptions = {}) {
    super(client, "job", opts.now);
    this.batchMs = opts.batchMs ?? 1000;
  }

  private jobs(): ServedVersion {
    return this.client.resource("batch", "v1", "jobs");
  }

  private pods(): ServedVersion {
    return this.client.resource("", "v1", "pods");
  }

  protected watchAll(): void {
    this.watch(this.jobs(), (job) => this.queue.add(`${job.metadata.namespace}/${job.metadata.name}`));
    this.watch(this.pods(), (pod, deleted) => {
      const ref = controllerOf(pod);
      const uid = pod.metadata.uid ?? "";
      // the index: a pod is filed under the Job its reference names (and moved when that changes)
      const was = this.jobOfPod.get(uid);
      if (was !== undefined && (deleted || ref?.kind !== "Job" || ref.uid !== was)) {
        this.podsOfJob.get(was)?.delete(uid);
        if (this.podsOfJob.get(was)?.size === 0) this.podsOfJob.delete(was);
        this.jobOfPod.delete(uid);
      }
      if (ref?.kind === "Job" && !deleted) {
        let m = this.podsOfJob.get(ref.uid);
        if (!m) {
          m = new Map();
          this.podsOfJob.set(ref.uid, m);
        }
        m.set(uid, pod);
        this.jobOfPod.set(uid, ref.uid);
      }
      // pod changes are taken in batches, a second at a time, as upstream's syncJobBatchPeriod
      if (ref?.kind === "Job") this.queue.addAfter(`${pod.metadata.namespace}/${ref.name}`, this.batchMs);
      else if ((pod.metadata.finalizers ?? []).includes(TRACKING_FINALIZER) && pod.metadata.deletionTimestamp) {
        // a tracked pod whose Job reference is gone: nothing will count it, let it go
        void this.removeFinalizers([pod]);
      }
    });
  }

  override stop(): void {
    super.stop();
    this.podsOfJob.clear();
    this.jobOfPod.clear();
  }

  /** The pods whose controller is the Job `uid`, as the index holds them. */
  private podsOf(uid: string): KObject[] {
    return [...(this.podsOfJob.get(uid)?.values() ?? [])];
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    // the cache (and with it the pod index) caught up first: it holds this controller's own last
    // writes (pods and Job status)
    await this.client.sync();
    const job = this.client.get(this.jobs(), ns, name);
    if (!job) {
      const all = [...this.podsOfJob.values()].flatMap((m) => [...m.values()]);
      // the Job is gone: its pods must not keep the tracking finalizer (the garbage collector deletes them)
      await this.removeFinalizers(
        all.filter((p) => p.metadata.namespace === ns && controllerOf(p)?.name === name && !this.ownerAlive(p)),
      );
      return undefined;
    }
    const pods = this.podsOf(job.metadata.uid ?? "");
    if (job.metadata.deletionTimestamp || isFinished(job)) {
      await this.track(job, pods);
      return undefined;
    }
    return this.sync(job, pods);
  }

  /** A pod as the cache holds it now, if it is still that pod. */
  private fresh(pod: KObject): KObject | undefined {
    const cur = this.client.get(this.pods(), pod.metadata.namespace, pod.metadata.name ?? "");
    return cur && cur.metadata.uid === pod.metadata.uid ? cur : undefined;
  }

  private ownerAlive(pod: KObject): boolean {
    const ref = controllerOf(pod);
    if (!ref) return false;
    const job = this.client.get(this.jobs(), pod.metadata.namespace, ref.name);
    return job?.metadata.uid === ref.uid;
  }

  /**
   * Counts finished pods as upstream's trackJobStatusAndRemoveFinalizers: uids into
   * uncountedTerminatedPods, finalizers off, uids into the counters. Returns the job as written.
   */
  private async track(job: KObject, pods: KObject[]): Promise<KObject> {
    const status = rec(job["status"]);
    const uncounted = rec(status["uncountedTerminatedPods"]);
    const uSucceeded = new Set((Array.isArray(uncounted["succeeded"]) ? uncounted["succeeded"] : []).map(String));
    const uFailed = new Set((Array.isArray(uncounted["failed"]) ? uncounted["failed"] : []).map(String));
    const terminalOnly = onlyReplaceFailed(job);
    const spec = rec(job["spec"]);
    const perIndex = typeof spec["backoffLimitPerIndex"] === "number" ? spec["backoffLimitPerIndex"] : undefined;
    const finishedTracked = pods.filter((p) => {
      const o = podOutcome(p, terminalOnly);
      return (o === "succeeded" || o === "failed") && (p.metadata.finalizers ?? []).includes(TRACKING_FINALIZER);
    });
    const fresh = finishedTracked.filter(
      (p) => !uSucceeded.has(p.metadata.uid ?? "") && !uFailed.has(p.metadata.uid ?? ""),
    );
    let current = job;
    const failedIndexes = parseIndexes(status["failedIndexes"]);
    const before = failedIndexes.size;
    let counted = 0;
    for (const p of fresh) {
      if (podOutcome(p, terminalOnly) === "succeeded") {
        uSucceeded.add(p.metadata.uid ?? "");
        counted++;
        continue;
      }
      // a failure the podFailurePolicy ignores is not counted (its finalizer still goes)
      const match = isRecord(spec["podFailurePolicy"])
        ? matchPodFailurePolicy(spec["podFailurePolicy"], p)
        : { countFailed: true, action: undefined };
      if (!match.countFailed) continue;
      uFailed.add(p.metadata.uid ?? "");
      counted++;
      const i = indexOf(p);
      if (perIndex !== undefined && i !== undefined) {
        if (match.action === "FailIndex" || annotationCount(p, INDEX_FAILURES) >= perIndex) failedIndexes.add(i);
      }
    }
    if (counted > 0 || failedIndexes.size !== before) {
      current = await this.writeStatus(job, (s) => {
        s["uncountedTerminatedPods"] = { succeeded: [...uSucceeded], failed: [...uFailed] };
        if (perIndex !== undefined) s["failedIndexes"] = formatIndexes(failedIndexes);
      });
    }
    await this.removeFinalizers(finishedTracked);
    if (uSucceeded.size + uFailed.size === 0) return current;
    // a uid is counted once its pod no longer holds the finalizer (or is gone)
    // (read from the cache, which the removals above went through; a pod no longer there is not held)
    const stillHeld = new Set(
      pods
        .filter((p) => uSucceeded.has(p.metadata.uid ?? "") || uFailed.has(p.metadata.uid ?? ""))
        .map((p) => this.fresh(p))
        .filter((p): p is KObject => p !== undefined && (p.metadata.finalizers ?? []).includes(TRACKING_FINALIZER))
        .map((p) => p.metadata.uid ?? ""),
    );
    const indexed = rec(job["spec"])["completionMode"] === "Indexed";
    const doneIndexes = parseIndexes(status["completedIndexes"]);
    for (const p of pods) {
      if (uSucceeded.has(p.metadata.uid ?? "") && !stillHeld.has(p.metadata.uid ?? "")) {
        const i = indexOf(p);
        if (i !== undefined) doneIndexes.add(i);
      }
    }
    const countS = [...uSucceeded].filter((u) => !stillHeld.has(u));
    const countF = [...uFailed].filter((u) => !stillHeld.has(u));
    if (countS.length + countF.length === 0) return current;
    const completions = spec["completions"];
    return this.writeStatus(current, (s) => {
      const leftS = [...uSucceeded].filter((u) => stillHeld.has(u));
      const leftF = [...uFailed].filter((u) => stillHeld.has(u));
      s["uncountedTerminatedPods"] = {
        ...(leftS.length > 0 ? { succeeded: leftS } : {}),
        ...(leftF.length > 0 ? { failed: leftF } : {}),
      };
      if (indexed) {
        // only indexes below completions count, each once
        const valid = [...doneIndexes].filter((i) => typeof completions !== "number" || i < completions);
        s["completedIndexes"] = formatIndexes(valid);
        s["succeeded"] = valid.length;
      } else if (countS.length > 0) s["succeeded"] = Number(s["succeeded"] ?? 0) + countS.length;
      if (countF.length > 0) s["failed"] = Number(s["failed"] ?? 0) + countF.length;
    });
  }

  private async sync(job: KObject, podsIn: KObject[]): Promise<ReconcileResult> {
    const now = this.now();
    const spec = rec(job["spec"]);
    const current = await this.track(job, podsIn);
    // the pods as the tracking saw them: one that finished since is still active here (and counted by
    // the next sync), never uncounted and not running — which would start one pod too many
    const pods = podsIn;
    const status = rec(current["status"]);
    const terminalOnly = onlyReplaceFailed(job);
    const active = pods.filter((p) => podOutcome(p, terminalOnly) === "active");
    const terminating = pods.filter(
      (p) => p.metadata.deletionTimestamp && phaseOf(p) !== "Succeeded" && phaseOf(p) !== "Failed",
    );
    // (succeeded pods not counted yet, should their finalizer removal have failed, count here too)
    const uncounted = rec(status["uncountedTerminatedPods"]);
    const succeeded =
      Number(status["succeeded"] ?? 0) + (Array.isArray(uncounted["succeeded"]) ? uncounted["succeeded"].length : 0);
    const restartsOnFailure =
      rec(rec(spec["template"])["spec"])["restartPolicy"] === "OnFailure"
        ? active.reduce((n, p) => {
            const cs = rec(p["status"])["containerStatuses"];
            return n + (Array.isArray(cs) ? cs.reduce((m, c) => m + (Number(rec(c)["restartCount"]) || 0), 0) : 0);
          }, 0)
        : 0;
    const failed = Number(status["failed"] ?? 0) + restartsOnFailure;
    const completions = typeof spec["completions"] === "number" ? spec["completions"] : undefined;
    const parallelism = typeof spec["parallelism"] === "number" ? spec["parallelism"] : 1;
    const backoffLimit = typeof spec["backoffLimit"] === "number" ? spec["backoffLimit"] : 6;
    const perIndex = typeof spec["backoffLimitPerIndex"] === "number" ? spec["backoffLimitPerIndex"] : undefined;
    const deadline = typeof spec["activeDeadlineSeconds"] === "number" ? spec["activeDeadlineSeconds"] : undefined;
    const suspended = spec["suspend"] === true;
    const indexed = spec["completionMode"] === "Indexed";
    const failedIndexes = parseIndexes(status["failedIndexes"]);
    const completedIndexes = parseIndexes(status["completedIndexes"]);
    let conds = conditionsOf(current);

    // suspend / resume
    if (suspended) {
      await this.deletePods(job, active);
      if (!hasCondition(current, "Suspended")) {
        await this.event(job, "Normal", "Suspended", "Job suspended");
      }
      await this.writeStatus(current, (s) => {
        s["conditions"] = setCondition(conds, "Suspended", "True", "JobSuspended", "Job suspended", now);
        s["active"] = 0;
        s["ready"] = 0;
        s["terminating"] = terminating.length + active.length;
        delete s["startTime"];
      });
      return undefined;
    }
    const resumed = conds.some((c) => c["type"] === "Suspended" && c["status"] === "True");
    if (resumed) {
      conds = setCondition(conds, "Suspended", "False", "JobResumed", "Job resumed", now);
      await this.event(job, "Normal", "Resumed", "Job resumed");
    }
    const startTime = !resumed && typeof status["startTime"] === "string" ? status["startTime"] : rfc3339(now);

    // finished? (upstream syncJob's order; a success already decided stays one)
    const met = conds.find((x) => x["type"] === "SuccessCriteriaMet" && x["status"] === "True");
    const failure = met
      ? undefined
      : this.failureOf(job, conds, pods, {
          failed,
          backoffLimit,
          perIndex,
          failedIndexes,
          done: completedIndexes.size,
          completions,
          pastDeadline: deadline !== undefined && now - Date.parse(startTime) >= deadline * 1000,
        });
    const success = met
      ? { reason: String(met["reason"]), message: String(met["message"]) }
      : failure
        ? undefined
        : this.successOf(job, completedIndexes, succeeded, active.length);
    if (failure) {
      await this.deletePods(job, active);
      const settled = active.length === 0 && terminating.length === 0;
      if (!hasCondition(current, "FailureTarget")) {
        await this.event(job, "Warning", failure.reason, failure.message);
      }
      await this.writeStatus(current, (s) => {
        let c = setCondition(conds, "FailureTarget", "True", failure.reason, failure.message, now);
        if (settled) c = setCondition(c, "Failed", "True", failure.reason, failure.message, now);
        s["conditions"] = c;
        s["active"] = 0;
        s["ready"] = 0;
        s["terminating"] = terminating.length + active.length;
        s["startTime"] = startTime;
      });
      return settled ? undefined : { requeueAfterMs: 1000 };
    }
    if (success) {
      // what still runs is not needed (a success policy met; a work queue's first pod succeeded)
      await this.deletePods(job, active);
      const settled = active.length === 0 && terminating.length === 0;
      await this.writeStatus(current, (s) => {
        let c = setCondition(conds, "SuccessCriteriaMet", "True", success.reason, success.message, now);
        if (settled) c = setCondition(c, "Complete", "True", success.reason, success.message, now);
        s["conditions"] = c;
        s["active"] = 0;
        s["ready"] = 0;
        s["terminating"] = terminating.length + active.length;
        s["startTime"] = startTime;
        if (settled) s["completionTime"] = rfc3339(now);
      });
      if (settled) await this.event(job, "Normal", "Completed", "Job completed");
      return settled ? undefined : { requeueAfterMs: 1000 };
    }

    // how many should run (pods still terminating hold their place when only Failed pods are replaced)
    let want: number;
    if (completions === undefined) want = succeeded > 0 ? 0 : parallelism;
    else want = Math.min(parallelism, completions - succeeded - (perIndex !== undefined ? failedIndexes.size : 0));
    const holding = active.length + (terminalOnly ? terminating.length : 0);
    let result: ReconcileResult;
    let activeNow = active.length;
    if (active.length > want) {
      await this.deletePods(job, rankForDeletion(active, active, now).slice(0, active.length - want));
      activeNow = want;
    } else if (holding < want) {
      if (indexed) {
        const plan = this.indexesToStart(current, pods, completions ?? 0, want - holding, now);
        if (plan.waitMs !== undefined) result = { requeueAfterMs: plan.waitMs + 50 };
        activeNow += await this.createPods(job, plan.start);
      } else {
        const lastFailure = this.lastFailureAt(pods);
        const wait =
          lastFailure === undefined ? 0 : lastFailure + failureBackoffMs(Number(status["failed"] ?? 0)) - now;
        if (wait > 0) result = { requeueAfterMs: wait + 50 };
        else
          activeNow += await this.createPods(
            job,
            Array.from({ length: want - holding }, () => ({})),
          );
      }
    }
    await this.writeStatus(current, (s) => {
      s["conditions"] = conds;
      if (conds.length === 0) delete s["conditions"];
      s["startTime"] = startTime;
      s["ready"] = active.filter(isPodReady).length;
      s["terminating"] = terminating.length;
      // what runs after the creates and deletes above
      s["active"] = activeNow;
      if (perIndex !== undefined && s["failedIndexes"] === undefined) s["failedIndexes"] = "";
    });
    if (deadline !== undefined) {
      const left = Date.parse(startTime) + deadline * 1000 - now;
      if (result === undefined || (result.requeueAfterMs ?? Number.POSITIVE_INFINITY) > left) {
        result = { requeueAfterMs: Math.max(0, left) + 50 };
      }
    }
    return result;
  }

  /** Why the Job fails now, if it does (a FailureTarget already set stays the reason). */
  private failureOf(
    job: KObject,
    conds: Rec[],
    pods: KObject[],
    c: {
      failed: number;
      backoffLimit: number;
      perIndex: number | undefined;
      failedIndexes: Set<number>;
      done: number;
      completions: number | undefined;
      pastDeadline: boolean;
    },
  ): { reason: string; message: string } | undefined {
    const target = conds.find((x) => x["type"] === "FailureTarget" && x["status"] === "True");
    if (target) return { reason: String(target["reason"]), message: String(target["message"]) };
    const policy = rec(job["spec"])["podFailurePolicy"];
    if (isRecord(policy)) {
      for (const p of pods) {
        if (phaseOf(p) !== "Failed") continue;
        const m = matchPodFailurePolicy(policy, p);
        if (m.action === "FailJob") return { reason: "PodFailurePolicy", message: m.message ?? "" };
      }
    }
    if (c.failed > c.backoffLimit) {
      return { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" };
    }
    if (c.pastDeadline) return { reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" };
    if (c.perIndex !== undefined) {
      const max = rec(job["spec"])["maxFailedIndexes"];
      if (typeof max === "number" && c.failedIndexes.size > max) {
        return {
          reason: "MaxFailedIndexesExceeded",
          message: "Job has exceeded the specified maximal number of failed indexes",
        };
      }
      if (c.failedIndexes.size > 0 && c.done + c.failedIndexes.size >= (c.completions ?? 0)) {
        return { reason: "FailedIndexes", message: "Job has failed indexes" };
      }
    }
    return undefined;
  }

  /** Why the Job has succeeded, if it has: a successPolicy rule met, or its completions reached. */
  private successOf(
    job: KObject,
    completedIndexes: Set<number>,
    succeeded: number,
    active: number,
  ): { reason: string; message: string } | undefined {
    const spec = rec(job["spec"]);
    if (spec["completionMode"] === "Indexed" && isRecord(spec["successPolicy"])) {
      const m = matchSuccessPolicy(spec["successPolicy"], completedIndexes);
      if (m !== undefined) return { reason: "SuccessPolicy", message: m };
    }
    const completions = typeof spec["completions"] === "number" ? spec["completions"] : undefined;
    const done = completions !== undefined ? succeeded >= completions : succeeded > 0 && active === 0;
    return done ? { reason: "CompletionsReached", message: "Reached expected number of succeeded pods" } : undefined;
  }

  private lastFailureAt(pods: KObject[]): number | undefined {
    let last: number | undefined;
    for (const p of pods) {
      if (phaseOf(p) !== "Failed") continue;
      let t = Number.NaN;
      const cs = rec(p["status"])["containerStatuses"];
      if (Array.isArray(cs)) {
        for (const c of cs) {
          const f = Date.parse(String(rec(rec(rec(c)["state"])["terminated"])["finishedAt"] ?? ""));
          if (!Number.isNaN(f) && (Number.isNaN(t) || f > t)) t = f;
        }
      }
      if (Number.isNaN(t)) t = Date.parse(p.metadata.creationTimestamp ?? "");
      if (!Number.isNaN(t) && (last === undefined || t > last)) last = t;
    }
    return last;
  }

  /**
   * The lowest indexes neither completed (counted or not yet), failed, nor held by a pod, with the
   * annotations their pods carry (with backoffLimitPerIndex: the index's failure counts so far). An
   * index whose last pod failed waits out its back-off (per index with backoffLimitPerIndex).
   */
  private indexesToStart(
    job: KObject,
    pods: KObject[],
    completions: number,
    n: number,
    now: number,
  ): { start: Array<{ index: number; annotations: Record<string, string> }>; waitMs?: number } {
    const spec = rec(job["spec"]);
    const status = rec(job["status"]);
    const perIndex = typeof spec["backoffLimitPerIndex"] === "number";
    const terminalOnly = onlyReplaceFailed(job);
    const done = parseIndexes(status["completedIndexes"]);
    const failedIdx = perIndex ? parseIndexes(status["failedIndexes"]) : new Set<number>();
    const byIndex = new Map<number, KObject[]>();
    for (const p of pods) {
      const i = indexOf(p);
      if (i !== undefined) byIndex.set(i, [...(byIndex.get(i) ?? []), p]);
    }
    let globalWait = 0;
    if (!perIndex) {
      const last = this.lastFailureAt(pods);
      if (last !== undefined) globalWait = last + failureBackoffMs(Number(status["failed"] ?? 0)) - now;
    }
    const start: Array<{ index: number; annotations: Record<string, string> }> = [];
    let waitMs: number | undefined;
    for (let i = 0; i < completions && start.length < n; i++) {
      if (done.has(i) || failedIdx.has(i)) continue;
      const mine = byIndex.get(i) ?? [];
      if (mine.some((p) => podOutcome(p, terminalOnly) !== "failed")) continue;
      const annotations: Record<string, string> = {};
      let wait = globalWait;
      if (perIndex) {
        // the counts of the index's last pod, plus its own failure
        const last = [...mine].sort((a, b) => created(a) - created(b)).at(-1);
        let failures = annotationCount(last, INDEX_FAILURES);
        let ignored = annotationCount(last, INDEX_IGNORED);
        if (last) {
          const policy = spec["podFailurePolicy"];
          if (!isRecord(policy) || matchPodFailurePolicy(policy, last).countFailed) failures++;
          else ignored++;
          wait = (this.lastFailureAt([last]) ?? now) + failureBackoffMs(failures) - now;
        }
        annotations[INDEX_FAILURES] = String(failures);
        if (ignored > 0) annotations[INDEX_IGNORED] = String(ignored);
      }
      if (wait > 0) {
        waitMs = waitMs === undefined ? wait : Math.min(waitMs, wait);
        continue;
      }
      start.push({ index: i, annotations });
    }
    return { start, ...(waitMs !== undefined ? { waitMs } : {}) };
  }

  private podOwner(job: KObject): PodOwner {
    return {
      client: this.client,
      owner: { ...job, kind: "Job", apiVersion: "batch/v1" },
      component: "job-controller",
      now: this.now,
    };
  }

  /** Creates the pods in slow-start batches; returns how many were made (a refusal stops it). */
  private async createPods(
    job: KObject,
    which: Array<{ index?: number; annotations?: Record<string, string> }>,
  ): Promise<number> {
    const made = await createPods(
      this.podOwner(job),
      which.map((w) => jobPod(job, w.index, w.annotations)),
    );
    return made.created.length;
  }

  private async deletePods(job: KObject, pods: KObject[]): Promise<void> {
    await deletePods(this.podOwner(job), pods);
  }

  private async removeFinalizers(pods: KObject[]): Promise<void> {
    await Promise.all(
      pods.map((p) =>
        this.client
          .update(this.pods(), p.metadata.namespace, p.metadata.name ?? "", "", (o) => {
            if (o.metadata.uid !== p.metadata.uid) throw new ApiError(409, "Conflict", "recreated");
            o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== TRACKING_FINALIZER);
            if (o.metadata.finalizers.length === 0) delete o.metadata.finalizers;
            return o;
          })
          .catch((err: unknown) => {
            if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
          }),
      ),
    );
  }

  /** Writes the job's status through `edit` (on the current status); returns the job as stored. */
  private async writeStatus(job: KObject, edit: (status: Rec) => void): Promise<KObject> {
    const before = JSON.stringify(rec(job["status"]));
    const probe = structuredClone(rec(job["status"]));
    edit(probe);
    if (JSON.stringify(probe) === before) return job;
    return this.client.update(this.jobs(), job.metadata.namespace, job.metadata.name ?? "", "status", (o) => {
      const s = structuredClone(rec(o["status"]));
      edit(s);
      o["status"] = s;
      return o;
    });
  }

  private async event(obj: KObject, type: string, reason: string, message: string): Promise<void> {
    await recordEvent(
      this.client,
      { ...obj, kind: "Job", apiVersion: "batch/v1" },
      "job-controller",
      type,
      reason,
      message,
      this.now(),
    );
  }
}
