/**
 * CronJob controller (upstream pkg/controller/cronjob, v2): at each schedule time it creates a Job
 * `<cronjob>-<scheduled time in minutes since the epoch>` from the jobTemplate (a controller
 * reference, the scheduled-timestamp annotation), so a restart or a second look never makes the
 * same run twice (the name is taken). Missed runs: only the most recent missed time is started,
 * and not at all once it is older than startingDeadlineSeconds (MissSchedule); more than 100
 * missed since the last run says "too many missed start times" (TooManyMissedTimes).
 * concurrencyPolicy Allow / Forbid (JobAlreadyActive) / Replace (the running Jobs are deleted);
 * suspend; status.active, lastScheduleTime, lastSuccessfulTime; finished Jobs beyond
 * successfulJobsHistoryLimit (3) / failedJobsHistoryLimit (1) are deleted, oldest first, in the
 * background (their pods go with them).
 */
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import { ApiError } from "../../apiserver/errors.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { recordEvent } from "../events.js";
import { isFinished } from "../job/index.js";
import type { ReconcileResult } from "../queue.js";
import { controllerOf } from "../refmanager.js";
import { missedTimes, nextTime, parseSchedule, type Schedule, ScheduleError, validTimeZone } from "./schedule.js";

type Rec = Record<string, unknown>;

const SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";
const TOO_MANY_MISSED = 100;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

/** The Job name of a run: `<cronjob>-<minutes since the epoch>` (upstream getJobName). */
export function jobNameFor(cronJob: string, scheduled: number): string {
  return `${cronJob}-${Math.floor(scheduled / 60_000)}`;
}

function jobSucceeded(job: KObject): boolean {
  const c = rec(job["status"])["conditions"];
  return Array.isArray(c) && c.some((x) => isRecord(x) && x["type"] === "Complete" && x["status"] === "True");
}

function startOf(job: KObject): number {
  const t = rec(job["status"])["startTime"] ?? job.metadata.creationTimestamp;
  return Date.parse(String(t ?? "")) || 0;
}

export class CronJobController extends QueuedController {
  constructor(client: LocalClient, opts: { now?: () => number } = {}) {
    // upstream's --concurrent-cron-job-syncs default: five CronJobs handled at once
    super(client, "cronjob", opts.now, 5);
  }

  private cronjobs(): ServedVersion {
    return this.client.resource("batch", "v1", "cronjobs");
  }

  private jobs(): ServedVersion {
    return this.client.resource("batch", "v1", "jobs");
  }

  protected watchAll(): void {
    this.watch(this.cronjobs(), (cj, deleted) => {
      if (!deleted) this.queue.add(`${cj.metadata.namespace}/${cj.metadata.name}`);
    });
    this.watch(this.jobs(), (job) => {
      const ref = controllerOf(job);
      if (ref?.kind === "CronJob") this.queue.add(`${job.metadata.namespace}/${ref.name}`);
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const cj = this.client.get(this.cronjobs(), ns, name);
    if (!cj || cj.metadata.deletionTimestamp) return undefined;
    const spec = rec(cj["spec"]);
    const status = rec(cj["status"]);
    const now = this.now();
    const owned = (await this.client.list(this.jobs(), ns))
      .map((c) => c.obj)
      .filter((j) => controllerOf(j)?.uid === cj.metadata.uid);

    // what runs, what finished
    const activeRefs = Array.isArray(status["active"]) ? status["active"].filter(isRecord) : [];
    const byUid = new Map(owned.map((j) => [j.metadata.uid ?? "", j]));
    let lastSuccessful = Date.parse(String(status["lastSuccessfulTime"] ?? "")) || undefined;
    const active: Rec[] = [];
    for (const ref of activeRefs) {
      const job = byUid.get(String(ref["uid"] ?? ""));
      if (!job) {
        await this.event(cj, "Normal", "MissingJob", `Active job went missing: ${String(ref["name"])}`);
        continue;
      }
      if (isFinished(job)) {
        await this.event(
          cj,
          "Normal",
          "SawCompletedJob",
          `Saw completed job: ${job.metadata.name}, condition: ${jobSucceeded(job) ? "Complete" : "Failed"}`,
        );
        continue;
      }
      active.push(ref);
    }
    // a running Job of ours the list lost (a restart between create and status write)
    for (const job of owned) {
      if (!isFinished(job) && !active.some((r) => r["uid"] === job.metadata.uid)) active.push(this.refOf(job));
    }
    for (const job of owned) {
      if (!jobSucceeded(job)) continue;
      const done = Date.parse(String(rec(job["status"])["completionTime"] ?? ""));
      if (!Number.isNaN(done) && (lastSuccessful === undefined || done > lastSuccessful)) lastSuccessful = done;
    }
    await this.cleanHistory(cj, owned);

    let lastSchedule = Date.parse(String(status["lastScheduleTime"] ?? "")) || undefined;
    let requeue: number | undefined;
    let schedule: Schedule | undefined;
    const tz = typeof spec["timeZone"] === "string" && spec["timeZone"] !== "" ? spec["timeZone"] : undefined;
    const zone = tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    try {
      if (tz !== undefined && !validTimeZone(tz)) throw new ScheduleError(`unknown time zone ${tz}`);
      schedule = parseSchedule(String(spec["schedule"] ?? ""));
    } catch (err) {
      await this.event(
        cj,
        "Warning",
        tz !== undefined && !validTimeZone(tz) ? "UnknownTimeZone" : "UnparseableSchedule",
        `unparseable schedule: ${JSON.stringify(spec["schedule"])} : ${(err as Error).message}`,
      );
    }

    if (schedule && spec["suspend"] !== true) {
      const created = Date.parse(cj.metadata.creationTimestamp ?? "") || now;
      let earliest = lastSchedule ?? created;
      const deadline =
        typeof spec["startingDeadlineSeconds"] === "number" ? spec["startingDeadlineSeconds"] : undefined;
      if (deadline !== undefined) earliest = Math.max(earliest, now - deadline * 1000);
      const missed = missedTimes(schedule, earliest, now, zone, TOO_MANY_MISSED + 1);
      if (missed.count > TOO_MANY_MISSED) {
        await this.event(
          cj,
          "Warning",
          "TooManyMissedTimes",
          "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
        );
      }
      const scheduled = missed.mostRecent;
      if (scheduled !== undefined) {
        const name = jobNameFor(cj.metadata.name ?? "", scheduled);
        const policy = String(spec["concurrencyPolicy"] ?? "Allow");
        const tooLate = deadline !== undefined && scheduled + deadline * 1000 < now;
        const already = active.some((r) => r["name"] === name) || owned.some((j) => j.metadata.name === name);
        if (tooLate) {
          await this.event(
            cj,
            "Warning",
            "MissSchedule",
            `Missed scheduled time to start a job: ${rfc3339(scheduled)}`,
          );
        } else if (!already && policy === "Forbid" && active.length > 0) {
          await this.event(
            cj,
            "Normal",
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid",
          );
          // looked at again when the running Job finishes (its events wake this CronJob)
        } else if (!already) {
          if (policy === "Replace") {
            for (const ref of active.splice(0)) {
              await this.client.delete(this.jobs(), ns, String(ref["name"] ?? ""), {
                propagationPolicy: "Background",
              });
              await this.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${String(ref["name"])}`);
            }
          }
          const job = await this.createJob(cj, name, scheduled, zone);
          if (job) active.push(this.refOf(job));
          lastSchedule = scheduled;
        } else if (lastSchedule === undefined || scheduled > lastSchedule) {
          lastSchedule = scheduled;
        }
      }
      const next = nextTime(schedule, now, zone);
      if (next !== undefined) requeue = next - now + 100;
    }

    const next: Rec = {
      ...(active.length > 0 ? { active } : {}),
      ...(lastSchedule !== undefined ? { lastScheduleTime: rfc3339(lastSchedule) } : {}),
      ...(lastSuccessful !== undefined ? { lastSuccessfulTime: rfc3339(lastSuccessful) } : {}),
    };
    if (JSON.stringify(next) !== JSON.stringify(status)) {
      await this.client
        .update(this.cronjobs(), ns, name, "status", (o) => {
          o["status"] = next;
          return o;
        })
        .catch((err: unknown) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
    }
    return requeue !== undefined ? { requeueAfterMs: requeue } : undefined;
  }

  private refOf(job: KObject): Rec {
    return {
      kind: "Job",
      namespace: job.metadata.namespace,
      name: job.metadata.name,
      uid: job.metadata.uid,
      apiVersion: "batch/v1",
      resourceVersion: job.metadata.resourceVersion,
    };
  }

  private async createJob(cj: KObject, name: string, scheduled: number, zone: string): Promise<KObject | undefined> {
    const template = rec(rec(cj["spec"])["jobTemplate"]);
    const meta = rec(template["metadata"]);
    const job: KObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...(rec(meta["labels"]) as Record<string, string>) },
        annotations: {
          ...(rec(meta["annotations"]) as Record<string, string>),
          [SCHEDULED_TIMESTAMP]: zonedRfc3339(scheduled, zone),
        },
        ownerReferences: [
          {
            apiVersion: "batch/v1",
            kind: "CronJob",
            name: cj.metadata.name ?? "",
            uid: cj.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: structuredClone(rec(template["spec"])),
    };
    try {
      const created = await this.client.registry.create(this.jobs(), cj.metadata.namespace, job, { dryRun: false });
      await this.event(cj, "Normal", "SuccessfulCreate", `Created job ${name}`);
      return created.obj;
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) {
        // made before (a restart): ours if it names us
        const existing = this.client.get(this.jobs(), cj.metadata.namespace, name);
        return existing && controllerOf(existing)?.uid === cj.metadata.uid ? existing : undefined;
      }
      await this.event(cj, "Warning", "FailedCreate", `Error creating job: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async cleanHistory(cj: KObject, owned: KObject[]): Promise<void> {
    const spec = rec(cj["spec"]);
    const limits: Array<[KObject[], number]> = [
      [
        owned.filter((j) => isFinished(j) && jobSucceeded(j)),
        typeof spec["successfulJobsHistoryLimit"] === "number" ? spec["successfulJobsHistoryLimit"] : 3,
      ],
      [
        owned.filter((j) => isFinished(j) && !jobSucceeded(j)),
        typeof spec["failedJobsHistoryLimit"] === "number" ? spec["failedJobsHistoryLimit"] : 1,
      ],
    ];
    for (const [jobs, limit] of limits) {
      const old = jobs.filter((j) => !j.metadata.deletionTimestamp).sort((a, b) => startOf(a) - startOf(b));
      for (const j of old.slice(0, Math.max(0, old.length - limit))) {
        await this.client.delete(this.jobs(), j.metadata.namespace, j.metadata.name ?? "", {
          propagationPolicy: "Background",
          preconditions: { uid: j.metadata.uid ?? "" },
        });
        await this.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${j.metadata.name}`);
      }
    }
  }

  private async event(obj: KObject, type: string, reason: string, message: string): Promise<void> {
    await recordEvent(
      this.client,
      { ...obj, kind: "Job", apiVersion: "batch/v1" },
      "cronjob-controller",
      type,
      reason,
      message,
      this.now(),
    );
  }
}

/** RFC 3339 in a time zone (the scheduled-timestamp annotation): 2026-12-04T09:00:00+01:00. */
export function zonedRfc3339(ms: number, tz: string): string {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
  const localAsUtc = Date.UTC(
    Number(p["year"]),
    Number(p["month"]) - 1,
    Number(p["day"]),
    Number(p["hour"]) % 24,
    Number(p["minute"]),
    Number(p["second"]),
  );
  const offsetMin = Math.round((localAsUtc - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const off =
    offsetMin === 0
      ? "Z"
      : `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${p["year"]}-${p["month"]}-${p["day"]}T${String(Number(p["hour"]) % 24).padStart(2, "0")}:${p["minute"]}:${p["second"]}${off}`;
}
