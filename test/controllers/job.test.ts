/** The Job controller: its pure parts by table, and Jobs run on a live registry with pods finished by hand. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { GarbageCollector } from "../../src/controllers/garbagecollector/index.js";
import {
  failureBackoffMs,
  formatIndexes,
  JobController,
  jobPod,
  parseIndexes,
  podOutcome,
  TRACKING_FINALIZER,
} from "../../src/controllers/job/index.js";
import { controllerOf } from "../../src/controllers/refmanager.js";
import { expiresAt, TTLAfterFinishedController } from "../../src/controllers/ttlafterfinished/index.js";
import { liveRegistry, until } from "./support.js";

describe("job controller parts", () => {
  it("a pod's outcome: succeeded, failed (also when deleted before it succeeded), active", () => {
    const p = (phase: string, deleting = false): KObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
      status: { phase },
    });
    assert.equal(podOutcome(p("Succeeded")), "succeeded");
    assert.equal(podOutcome(p("Failed")), "failed");
    assert.equal(podOutcome(p("Running", true)), "failed");
    assert.equal(podOutcome(p("Succeeded", true)), "succeeded");
    assert.equal(podOutcome(p("Pending")), "active");
  });
  it("the failure back-off: 10 s doubling, at most 6 min", () => {
    assert.deepEqual([0, 1, 2, 3, 6, 20].map(failureBackoffMs), [0, 10_000, 20_000, 40_000, 320_000, 360_000]);
  });
  it("completed indexes fold into ranges and parse back", () => {
    assert.equal(formatIndexes([4, 0, 2, 1, 7, 8]), "0-2,4,7-8");
    assert.equal(formatIndexes([]), "");
    assert.deepEqual([...parseIndexes("0-2,4,7-8")], [0, 1, 2, 4, 7, 8]);
  });
  it("an Indexed pod carries its index (annotation, label, env, hostname) and the tracking finalizer", () => {
    const job: KObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "idx", namespace: "ns", uid: "u" },
      spec: {
        template: { metadata: { labels: { "job-name": "idx" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
    };
    const p = jobPod(job, 3);
    assert.equal(p.metadata.generateName, "idx-3-");
    assert.equal(p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"], "3");
    assert.equal(p.metadata.labels?.["batch.kubernetes.io/job-completion-index"], "3");
    assert.deepEqual(p.metadata.finalizers, [TRACKING_FINALIZER]);
    const spec = p["spec"] as { hostname: string; containers: Array<{ env: Array<{ name: string }> }> };
    assert.equal(spec.hostname, "idx-3");
    assert.equal(spec.containers[0]?.env[0]?.name, "JOB_COMPLETION_INDEX");
    assert.equal(jobPod(job, undefined).metadata.generateName, "idx-");
  });
});

describe("TTL after finished", () => {
  it("expires ttlSecondsAfterFinished after the Complete or Failed transition, not before it finished", () => {
    const job = (conds: Array<Record<string, unknown>>, ttl?: number): KObject => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j" },
      spec: ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl },
      status: { conditions: conds },
    });
    const done = { type: "Complete", status: "True", lastTransitionTime: "2026-06-01T12:00:00Z" };
    assert.equal(expiresAt(job([done], 100)), Date.parse("2026-06-01T12:01:40Z"));
    assert.equal(expiresAt(job([{ ...done, type: "Failed" }], 0)), Date.parse("2026-06-01T12:00:00Z"));
    assert.equal(expiresAt(job([done])), undefined);
    assert.equal(
      expiresAt(job([{ type: "SuccessCriteriaMet", status: "True", lastTransitionTime: "2026-06-01T12:00:00Z" }], 5)),
      undefined,
    );
  });
});

describe("JobController on a registry", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  const ctl = new JobController(client);
  const gc = new GarbageCollector(client);
  const ttl = new TTLAfterFinishedController(client);
  const jobs = () => client.resource("batch", "v1", "jobs");
  const pods = () => client.resource("", "v1", "pods");
  const podsOf = async (job: string) => {
    const uid = client.get(jobs(), "default", job)?.metadata.uid;
    return (await client.list(pods(), "default")).map((c) => c.obj).filter((p) => controllerOf(p)?.uid === uid);
  };
  const running = async (job: string) =>
    (await podsOf(job)).filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        !["Succeeded", "Failed"].includes(String((p["status"] as Record<string, unknown>)?.["phase"])),
    );
  const finish = async (
    pod: KObject,
    phase: "Succeeded" | "Failed",
    o2: { exitCode?: number; conditions?: Array<Record<string, unknown>> } = {},
  ) => {
    await client.update(pods(), "default", pod.metadata.name ?? "", "status", (o) => {
      o["status"] = {
        phase,
        ...(o2.conditions ? { conditions: o2.conditions } : {}),
        containerStatuses: [
          {
            name: "c",
            restartCount: 0,
            state: {
              terminated: {
                exitCode: o2.exitCode ?? (phase === "Succeeded" ? 0 : 1),
                finishedAt: new Date(Date.now() - 3_600_000).toISOString(),
              },
            },
          },
        ],
      };
      return o;
    });
  };
  const status = (job: string) => (client.get(jobs(), "default", job)?.["status"] ?? {}) as Record<string, unknown>;
  const cond = (job: string, type: string) =>
    ((status(job)["conditions"] as Array<Record<string, unknown>> | undefined) ?? []).find((c) => c["type"] === type);
  const create = (name: string, spec: Record<string, unknown>) =>
    client.ensure(jobs(), {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace: "default" },
      spec: {
        template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
        ...spec,
      },
    });

  before(async () => {
    await live.ready();
    ctl.start();
    gc.start();
    ttl.start();
  });
  after(() => {
    ctl.stop();
    gc.stop();
    ttl.stop();
    live.close();
  });

  it("runs completions with parallelism, counts each pod once, and completes", async () => {
    await create("work", { completions: 3, parallelism: 2 });
    const first = await until("2 running", async () =>
      (await running("work")).length === 2 ? running("work") : undefined,
    );
    assert.ok(first.every((p) => p.metadata.labels?.["job-name"] === "work"));
    assert.ok(first.every((p) => (p.metadata.finalizers ?? []).includes(TRACKING_FINALIZER)));
    for (const p of first) await finish(p, "Succeeded");
    await until("succeeded 2", () => (status("work")["succeeded"] === 2 ? true : undefined));
    // the counted pods no longer hold the finalizer; only one more runs (3 - 2)
    const third = await until("1 running", async () =>
      (await running("work")).length === 1 ? running("work") : undefined,
    );
    for (const p of await podsOf("work")) {
      if (p.metadata.name !== third[0]?.metadata.name) assert.deepEqual(p.metadata.finalizers ?? [], []);
    }
    await finish(third[0]!, "Succeeded");
    await until("Complete", () => cond("work", "Complete"));
    assert.equal(status("work")["succeeded"], 3);
    assert.equal(cond("work", "SuccessCriteriaMet")?.["reason"], "CompletionsReached");
    assert.ok(typeof status("work")["completionTime"] === "string");
    assert.deepEqual(status("work")["uncountedTerminatedPods"], {});
    // a second look changes nothing (no double count)
    await ctl.reconcile("default/work");
    assert.equal(status("work")["succeeded"], 3);
  });

  it("fails with BackoffLimitExceeded once failures pass backoffLimit", async () => {
    await create("flaky", { backoffLimit: 0 });
    const [p] = await until("1 running", async () =>
      (await running("flaky")).length === 1 ? running("flaky") : undefined,
    );
    await finish(p!, "Failed");
    const failed = await until("Failed", () => cond("flaky", "Failed"));
    assert.equal(failed["reason"], "BackoffLimitExceeded");
    assert.equal(failed["message"], "Job has reached the specified backoff limit");
    assert.equal(cond("flaky", "FailureTarget")?.["reason"], "BackoffLimitExceeded");
    assert.equal(status("flaky")["failed"], 1);
  });

  it("activeDeadlineSeconds fails the job and deletes its running pods", async () => {
    await create("slow", { activeDeadlineSeconds: 1 });
    await until("1 running", async () => ((await running("slow")).length === 1 ? true : undefined));
    const failed = await until("Failed", () => cond("slow", "Failed"), 15_000);
    assert.equal(failed["reason"], "DeadlineExceeded");
    assert.equal(failed["message"], "Job was active longer than specified deadline");
    assert.equal((await running("slow")).length, 0);
  });

  it("suspend deletes the running pods; resuming starts them again", async () => {
    await create("paused", { parallelism: 2, completions: 2 });
    await until("2 running", async () => ((await running("paused")).length === 2 ? true : undefined));
    await client.update(jobs(), "default", "paused", "", (o) => {
      (o["spec"] as Record<string, unknown>)["suspend"] = true;
      return o;
    });
    await until("Suspended", () => (cond("paused", "Suspended")?.["status"] === "True" ? true : undefined));
    await until("none running", async () => ((await running("paused")).length === 0 ? true : undefined));
    await client.update(jobs(), "default", "paused", "", (o) => {
      (o["spec"] as Record<string, unknown>)["suspend"] = false;
      return o;
    });
    await until("2 running again", async () => ((await running("paused")).length === 2 ? true : undefined));
    assert.equal(cond("paused", "Suspended")?.["reason"], "JobResumed");
  });

  it("Indexed: one pod per index, completedIndexes, and a failed index runs again", async () => {
    await create("idx", { completions: 3, parallelism: 3, completionMode: "Indexed", backoffLimit: 3 });
    const three = await until("3 running", async () =>
      (await running("idx")).length === 3 ? running("idx") : undefined,
    );
    const byIndex = new Map(three.map((p) => [p.metadata.labels?.["batch.kubernetes.io/job-completion-index"], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ["0", "1", "2"]);
    await finish(byIndex.get("0")!, "Succeeded");
    await finish(byIndex.get("2")!, "Succeeded");
    await finish(byIndex.get("1")!, "Failed");
    await until("completedIndexes 0,2", () => (status("idx")["completedIndexes"] === "0,2" ? true : undefined));
    // index 1 comes back (after the failure back-off, which the finishedAt an hour ago has passed)
    const again = await until("index 1 again", async () => {
      const r = await running("idx");
      return r.length === 1 && r[0]?.metadata.labels?.["batch.kubernetes.io/job-completion-index"] === "1"
        ? r
        : undefined;
    });
    await finish(again[0]!, "Succeeded");
    await until("Complete", () => cond("idx", "Complete"));
    assert.equal(status("idx")["completedIndexes"], "0-2");
    assert.equal(status("idx")["succeeded"], 3);
    assert.equal(status("idx")["failed"], 1);
  });

  it("ttlSecondsAfterFinished: a finished Job is deleted with its pods once the TTL has passed", async () => {
    await create("short", { ttlSecondsAfterFinished: 1 });
    const [p] = await until("1 running", async () =>
      (await running("short")).length === 1 ? running("short") : undefined,
    );
    await finish(p!, "Succeeded");
    await until("Complete", () => cond("short", "Complete"));
    const uid = client.get(jobs(), "default", "short")?.metadata.uid;
    await until("the Job gone", () => (client.get(jobs(), "default", "short") ? undefined : true), 15_000);
    const left = (await client.list(pods(), "default")).filter((c) => controllerOf(c.obj)?.uid === uid);
    assert.equal(left.length, 0);
  });

  it("deleting a Job takes its pods (finalizers released, garbage collected)", async () => {
    await create("gone", { parallelism: 2, completions: 4 });
    await until("2 running", async () => ((await running("gone")).length === 2 ? true : undefined));
    const uid = client.get(jobs(), "default", "gone")?.metadata.uid;
    await client.delete(jobs(), "default", "gone");
    await until("its pods gone", async () => {
      const left = (await client.list(pods(), "default")).filter((c) => controllerOf(c.obj)?.uid === uid);
      return left.length === 0 ? true : undefined;
    });
  });

  it("podFailurePolicy FailJob on an exit code fails the Job with the rule's message", async () => {
    await create("pfp", {
      backoffLimit: 6,
      podFailurePolicy: {
        rules: [{ action: "FailJob", onExitCodes: { containerName: "c", operator: "In", values: [42] } }],
      },
    });
    const [p] = await until("a pod", async () => {
      const r = await running("pfp");
      return r.length === 1 ? r : undefined;
    });
    await finish(p!, "Failed", { exitCode: 42 });
    const failed = await until("Failed", () => cond("pfp", "Failed"));
    assert.equal(failed["reason"], "PodFailurePolicy");
    assert.equal(
      failed["message"],
      `Container c for pod default/${p!.metadata.name} failed with exit code 42 matching FailJob rule at index 0`,
    );
    assert.equal(status("pfp")["failed"], 1);
  });

  it("podFailurePolicy Ignore on DisruptionTarget: not counted, the pod is replaced", async () => {
    await create("ign", {
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] },
    });
    const [p] = await until("a pod", async () => {
      const r = await running("ign");
      return r.length === 1 ? r : undefined;
    });
    await finish(p!, "Failed", { conditions: [{ type: "DisruptionTarget", status: "True" }] });
    const [q] = await until("a replacement", async () => {
      const r = await running("ign");
      return r.length === 1 && r[0]!.metadata.uid !== p!.metadata.uid ? r : undefined;
    });
    assert.equal(cond("ign", "Failed"), undefined);
    assert.equal(status("ign")["failed"] ?? 0, 0);
    await finish(q!, "Succeeded");
    await until("Complete", () => cond("ign", "Complete"));
  });

  it("backoffLimitPerIndex: an index failing past its limit is a failed index; the Job fails with FailedIndexes", async () => {
    await create("per", { completionMode: "Indexed", completions: 3, parallelism: 3, backoffLimitPerIndex: 1 });
    const first = await until("3 pods", async () => {
      const r = await running("per");
      return r.length === 3 ? r : undefined;
    });
    const byIndex = (ps: KObject[], i: number) =>
      ps.find((p) => p.metadata.labels?.["batch.kubernetes.io/job-completion-index"] === String(i))!;
    await finish(byIndex(first, 0), "Succeeded");
    await finish(byIndex(first, 2), "Succeeded");
    await finish(byIndex(first, 1), "Failed");
    // the retry of index 1 waits out its back-off (10 s after the failure, which was an hour ago) and carries its count
    const retry = await until("index 1 again", async () => {
      const r = (await running("per")).filter((p) => p.metadata.uid !== byIndex(first, 1).metadata.uid);
      return r.length === 1 ? r[0] : undefined;
    });
    assert.equal(retry!.metadata.annotations?.["batch.kubernetes.io/job-index-failure-count"], "1");
    await finish(retry!, "Failed");
    const failed = await until("Failed", () => cond("per", "Failed"));
    assert.equal(failed["reason"], "FailedIndexes");
    assert.equal(failed["message"], "Job has failed indexes");
    assert.equal(status("per")["failedIndexes"], "1");
    assert.equal(status("per")["completedIndexes"], "0,2");
  });

  it("successPolicy: index 0 succeeding completes the Job with SuccessPolicy and ends the other pods", async () => {
    await create("sp", {
      completionMode: "Indexed",
      completions: 3,
      parallelism: 3,
      successPolicy: { rules: [{ succeededIndexes: "0" }] },
    });
    const ps = await until("3 pods", async () => {
      const r = await running("sp");
      return r.length === 3 ? r : undefined;
    });
    const lead = ps.find((p) => p.metadata.labels?.["batch.kubernetes.io/job-completion-index"] === "0")!;
    await finish(lead, "Succeeded");
    const met = await until("SuccessCriteriaMet", () => cond("sp", "SuccessCriteriaMet"));
    assert.equal(met["reason"], "SuccessPolicy");
    assert.equal(met["message"], "Matched rules at index 0");
    const done = await until("Complete", () => cond("sp", "Complete"));
    assert.equal(done["reason"], "SuccessPolicy");
    assert.equal((await running("sp")).length, 0);
  });

  it("podReplacementPolicy Failed: a terminating pod gets no replacement until it has failed", async () => {
    await create("repl", { podReplacementPolicy: "Failed", backoffLimit: 3 });
    const [p] = await until("a pod", async () => {
      const r = await running("repl");
      return r.length === 1 ? r : undefined;
    });
    // the tracking finalizer holds the deleted pod (as a kubelet still stopping it would)
    await client.delete(pods(), "default", p!.metadata.name ?? "");
    await until("terminating counted", () => (status("repl")["terminating"] === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await running("repl")).length, 0);
    assert.equal(status("repl")["failed"] ?? 0, 0);
    await finish(p!, "Failed");
    await until("replaced", async () => ((await running("repl")).length === 1 ? true : undefined), 20_000);
    assert.equal(status("repl")["failed"], 1);
  });
});
