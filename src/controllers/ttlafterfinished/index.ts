/**
 * TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): a Job with
 * `spec.ttlSecondsAfterFinished` is deleted that many seconds after it finished (the transition
 * time of its Complete or Failed condition), in the foreground so its pods go first, with a uid
 * precondition. A TTL changed before it expires is honoured: the Job is looked at again then.
 */
import { isRecord, type KObject } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import type { ReconcileResult } from "../queue.js";

/** When a Job finished (its Complete/Failed condition turned True), ms; undefined while it runs. */
export function finishedAt(job: KObject): number | undefined {
  const conds = isRecord(job["status"]) ? job["status"]["conditions"] : undefined;
  if (!Array.isArray(conds)) return undefined;
  for (const c of conds) {
    if (!isRecord(c) || c["status"] !== "True" || (c["type"] !== "Complete" && c["type"] !== "Failed")) continue;
    const t = Date.parse(String(c["lastTransitionTime"] ?? ""));
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** When the Job expires, ms; undefined without a TTL or while it runs. */
export function expiresAt(job: KObject): number | undefined {
  const ttl = isRecord(job["spec"]) ? job["spec"]["ttlSecondsAfterFinished"] : undefined;
  if (typeof ttl !== "number" || ttl < 0) return undefined;
  const done = finishedAt(job);
  return done === undefined ? undefined : done + ttl * 1000;
}

export class TTLAfterFinishedController extends QueuedController {
  constructor(client: LocalClient, opts: { now?: () => number } = {}) {
    super(client, "ttlafterfinished", opts.now);
  }

  protected watchAll(): void {
    this.watch(this.client.resource("batch", "v1", "jobs"), (job, deleted) => {
      if (!deleted && !job.metadata.deletionTimestamp && expiresAt(job) !== undefined) {
        this.queue.add(`${job.metadata.namespace}/${job.metadata.name}`);
      }
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const jobs = this.client.resource("batch", "v1", "jobs");
    const job = this.client.get(jobs, ns, name);
    if (!job || job.metadata.deletionTimestamp) return undefined;
    const at = expiresAt(job);
    if (at === undefined) return undefined;
    const left = at - this.now();
    if (left > 0) return { requeueAfterMs: left + 10 };
    await this.client.delete(jobs, ns, name, {
      propagationPolicy: "Foreground",
      preconditions: { uid: job.metadata.uid ?? "" },
    });
    return undefined;
  }
}
