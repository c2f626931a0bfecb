/** CronJob schedules by table, and the CronJob controller on a live registry with a controlled clock. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CronJobController, jobNameFor, zonedRfc3339 } from "../../src/controllers/cronjob/index.js";
import { missedTimes, nextTime, parseSchedule } from "../../src/controllers/cronjob/schedule.js";
import { controllerOf } from "../../src/controllers/refmanager.js";
import { liveRegistry } from "./support.js";

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe("cron schedules", () => {
  const cases: Array<[string, string, string, string]> = [
    // schedule, zone, after, next
    ["*/1 * * * *", "UTC", "2026-12-04T03:27:05Z", "2026-12-04T03:28:00.000Z"],
    ["*/15 * * * *", "UTC", "2026-12-04T03:27:05Z", "2026-12-04T03:30:00.000Z"],
    ["0 9 * * mon-fri", "UTC", "2026-12-04T10:00:00Z", "2026-12-07T09:00:00.000Z"], // Fri → Mon
    ["@hourly", "UTC", "2026-12-04T03:00:00Z", "2026-12-04T04:00:00.000Z"],
    ["@daily", "UTC", "2026-12-04T03:00:00Z", "2026-12-05T00:00:00.000Z"],
    ["@weekly", "UTC", "2026-12-04T03:00:00Z", "2026-12-06T00:00:00.000Z"], // Sunday
    ["@monthly", "UTC", "2026-12-04T03:00:00Z", "2027-01-01T00:00:00.000Z"],
    ["@yearly", "UTC", "2026-12-04T03:00:00Z", "2027-01-01T00:00:00.000Z"],
    ["0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    ["30 2 * * 7", "UTC", "2026-12-04T00:00:00Z", "2026-12-06T02:30:00.000Z"], // 7 = Sunday
    ["0 0 1,15 * 1", "UTC", "2026-12-02T00:00:00Z", "2026-12-07T00:00:00.000Z"], // both day fields: either
    ["0 9 * * *", "Europe/Berlin", "2026-12-04T00:00:00Z", "2026-12-04T08:00:00.000Z"],
    ["0 9 * * *", "Asia/Tokyo", "2026-12-04T00:00:00Z", "2026-12-05T00:00:00.000Z"],
    // spring forward in Berlin: 02:30 does not exist on 29 March 2026
    ["30 2 * * *", "Europe/Berlin", "2026-03-28T02:00:00Z", "2026-03-30T00:30:00.000Z"],
  ];
  for (const [spec, tz, from, want] of cases) {
    it(`${spec} in ${tz} after ${from} → ${want}`, () => {
      assert.equal(iso(nextTime(parseSchedule(spec), at(from), tz)), want);
    });
  }

  it("rejects what robfig/cron rejects, with its words", () => {
    assert.throws(() => parseSchedule("* * * *"), /expected exactly 5 fields, found 4/);
    assert.throws(() => parseSchedule("61 * * * *"), /end of range \(61\) above maximum \(59\)/);
    assert.throws(() => parseSchedule("*/0 * * * *"), /step of range should be a positive number/);
    assert.throws(() => parseSchedule("@every 1h"), /unrecognized descriptor/);
    assert.throws(() => parseSchedule("x * * * *"), /failed to parse int from x/);
  });

  it("missed times: the most recent and how many, capped", () => {
    const every = parseSchedule("* * * * *");
    const m = missedTimes(every, at("2026-12-04T03:00:30Z"), at("2026-12-04T03:05:10Z"), "UTC");
    assert.equal(m.count, 5);
    assert.equal(iso(m.mostRecent), "2026-12-04T03:05:00.000Z");
    const lots = missedTimes(every, at("2026-12-01T00:00:00Z"), at("2026-12-04T03:05:10Z"), "UTC", 101);
    assert.equal(lots.count, 101);
    assert.equal(iso(lots.mostRecent), "2026-12-04T03:05:00.000Z");
  });

  it("job names are minutes since the epoch; the scheduled-timestamp annotation is in the zone", () => {
    // (the seed shows hello-1566286260: the pre-1.21 controller used seconds; upstream now uses minutes)
    assert.equal(jobNameFor("hello", at("2019-08-20T07:31:00Z")), "hello-26104771");
    assert.equal(zonedRfc3339(at("2026-12-04T08:00:00Z"), "Europe/Berlin"), "2026-12-04T09:00:00+01:00");
    assert.equal(zonedRfc3339(at("2026-12-04T08:00:00Z"), "UTC"), "2026-12-04T08:00:00Z");
  });
});

describe("CronJobController on a registry", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  let clock = at("2026-12-04T03:00:30Z");
  const ctl = new CronJobController(client, { now: () => clock });
  const cronjobs = () => client.resource("batch", "v1", "cronjobs");
  const jobs = () => client.resource("batch", "v1", "jobs");
  const jobsOf = async (uid: string | undefined) =>
    (await client.list(jobs(), "default"))
      .map((c) => c.obj)
      .filter((j) => controllerOf(j)?.uid === uid && !j.metadata.deletionTimestamp)
      .map((j) => j.metadata.name)
      .sort();
  const finishJob = async (name: string, type: "Complete" | "Failed") => {
    await client.update(jobs(), "default", name, "status", (o) => {
      o["status"] = {
        startTime: new Date(clock).toISOString().replace(/\.\d+Z$/, "Z"),
        ...(type === "Complete"
          ? { completionTime: new Date(clock).toISOString().replace(/\.\d+Z$/, "Z"), succeeded: 1 }
          : { failed: 1 }),
        conditions: [
          { type, status: "True", lastTransitionTime: new Date(clock).toISOString().replace(/\.\d+Z$/, "Z") },
        ],
      };
      return o;
    });
  };
  const create = async (name: string, spec: Record<string, unknown>) => {
    await client.ensure(cronjobs(), {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name, namespace: "default", creationTimestamp: "2026-12-04T03:00:00Z" },
      spec: {
        schedule: "*/1 * * * *",
        jobTemplate: {
          spec: {
            template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox" }] } },
          },
        },
        ...spec,
      },
    });
    return client.get(cronjobs(), "default", name)!;
  };
  before(async () => {
    await live.ready();
  });
  after(() => {
    ctl.stop();
    live.close();
  });

  it("runs once per schedule time under its minutes-since-epoch name, never twice", async () => {
    const cj = await create("hello", {});
    // created "now" by the server: its clock, not the one above; the first time is the next minute
    const created = Date.parse(cj.metadata.creationTimestamp ?? "");
    clock = Math.floor(created / 60_000) * 60_000 + 60_000 + 5_000;
    await ctl.reconcile("default/hello");
    const first = jobNameFor("hello", clock - 5_000);
    assert.deepEqual(await jobsOf(cj.metadata.uid), [first]);
    await ctl.reconcile("default/hello");
    assert.deepEqual(await jobsOf(cj.metadata.uid), [first], "a second look makes no second Job");
    const st = client.get(cronjobs(), "default", "hello")?.["status"] as Record<string, unknown>;
    assert.equal(st["lastScheduleTime"], new Date(clock - 5_000).toISOString().replace(/\.\d+Z$/, "Z"));
    assert.equal((st["active"] as Array<Record<string, unknown>>)[0]?.["name"], first);
    // Forbid: the next minute waits for the running one
    await client.update(cronjobs(), "default", "hello", "", (o) => {
      (o["spec"] as Record<string, unknown>)["concurrencyPolicy"] = "Forbid";
      return o;
    });
    clock += 60_000;
    await ctl.reconcile("default/hello");
    assert.deepEqual(await jobsOf(cj.metadata.uid), [first]);
    // it finishes: the next run starts, lastSuccessfulTime is set
    await finishJob(first, "Complete");
    await ctl.reconcile("default/hello");
    const second = jobNameFor("hello", Math.floor(clock / 60_000) * 60_000);
    assert.deepEqual(await jobsOf(cj.metadata.uid), [first, second].sort());
    const st2 = client.get(cronjobs(), "default", "hello")?.["status"] as Record<string, unknown>;
    assert.ok(typeof st2["lastSuccessfulTime"] === "string");
    // Replace: the running one goes, a new one comes
    await client.update(cronjobs(), "default", "hello", "", (o) => {
      (o["spec"] as Record<string, unknown>)["concurrencyPolicy"] = "Replace";
      return o;
    });
    clock += 60_000;
    await ctl.reconcile("default/hello");
    const third = jobNameFor("hello", Math.floor(clock / 60_000) * 60_000);
    const now = await jobsOf(cj.metadata.uid);
    assert.ok(now.includes(third) && !now.includes(second), now.join(" "));
  });

  it("keeps successfulJobsHistoryLimit finished Jobs, deleting the oldest", async () => {
    const cj = await create("hist", { successfulJobsHistoryLimit: 1 });
    const base = Math.floor(Date.parse(cj.metadata.creationTimestamp ?? "") / 60_000) * 60_000;
    const names: string[] = [];
    for (let i = 1; i <= 3; i++) {
      clock = base + i * 60_000 + 1000;
      await ctl.reconcile("default/hist");
      const n = jobNameFor("hist", base + i * 60_000);
      names.push(n);
      await finishJob(n, "Complete");
    }
    await ctl.reconcile("default/hist");
    assert.deepEqual(await jobsOf(cj.metadata.uid), [names[2]]);
  });

  it("suspend starts nothing; a deadline missed is reported, not run", async () => {
    const cj = await create("late", { suspend: true, startingDeadlineSeconds: 10 });
    const base = Math.floor(Date.parse(cj.metadata.creationTimestamp ?? "") / 60_000) * 60_000;
    clock = base + 60_000 + 1000;
    await ctl.reconcile("default/late");
    assert.deepEqual(await jobsOf(cj.metadata.uid), []);
    await client.update(cronjobs(), "default", "late", "", (o) => {
      (o["spec"] as Record<string, unknown>)["suspend"] = false;
      return o;
    });
    clock = base + 60_000 + 30_000; // 30 s after the time: past the 10 s deadline
    await ctl.reconcile("default/late");
    assert.deepEqual(await jobsOf(cj.metadata.uid), []);
    clock = base + 120_000 + 2_000; // 2 s after the next: within it
    await ctl.reconcile("default/late");
    assert.deepEqual(await jobsOf(cj.metadata.uid), [jobNameFor("late", base + 120_000)]);
  });
});
