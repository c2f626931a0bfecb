/** Event aggregation as client-go's events library does it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { EventRecorder, type EventSeries, microTime } from "../../src/scheduler/events.js";

function recorder(clock: { t: number }, opts: { maxQueued?: number } = {}) {
  const created: KObject[] = [];
  const series: Array<{ name: string; series: EventSeries }> = [];
  const r = new EventRecorder({
    now: () => clock.t,
    component: "default-scheduler",
    instance: "default-scheduler-host",
    maxQueued: opts.maxQueued,
    sink: {
      create: async (ev) => {
        created.push(ev);
      },
      updateSeries: async (_ns, name, s) => {
        series.push({ name, series: s });
        return created.some((e) => e.metadata.name === name);
      },
    },
  });
  return { r, created, series };
}

const pod = { apiVersion: "v1", kind: "Pod", namespace: "default", name: "web", uid: "u1" };

describe("event recorder", () => {
  it("writes an event once, as the scheduler's events look", async () => {
    const clock = { t: Date.parse("2024-05-01T10:00:00Z") };
    const { r, created } = recorder(clock);
    r.eventf(pod, undefined, "Normal", "Scheduled", "Binding", "Successfully assigned default/web to n1");
    await r.flushed();
    assert.equal(created.length, 1);
    const ev = created[0] as KObject;
    assert.match(ev.metadata.name ?? "", /^web\.[0-9a-f]+$/);
    assert.equal(ev.metadata.namespace, "default");
    assert.deepEqual(ev["involvedObject"], pod);
    assert.equal(ev["reason"], "Scheduled");
    assert.equal(ev["message"], "Successfully assigned default/web to n1");
    assert.equal(ev["type"], "Normal");
    assert.equal(ev["action"], "Binding");
    assert.equal(ev["reportingComponent"], "default-scheduler");
    assert.equal(ev["reportingInstance"], "default-scheduler-host");
    assert.deepEqual(ev["source"], { component: "default-scheduler" });
    assert.equal(ev["eventTime"], "2024-05-01T10:00:00.000000Z");
  });

  it("a repeat becomes a series of 2 at once; later repeats only bump the count until the series is written", async () => {
    const clock = { t: 1_000_000 };
    const { r, created, series } = recorder(clock);
    const msg = "0/1 nodes are available: 1 Insufficient cpu.";
    r.eventf(pod, undefined, "Warning", "FailedScheduling", "Scheduling", msg);
    clock.t += 1000;
    r.eventf(pod, undefined, "Warning", "FailedScheduling", "Scheduling", msg);
    await r.flushed();
    assert.equal(created.length, 1);
    assert.deepEqual(series.at(-1)?.series, { count: 2, lastObservedTime: microTime(1_001_000) });
    clock.t += 1000;
    r.eventf(pod, undefined, "Warning", "FailedScheduling", "Scheduling", msg);
    r.eventf(pod, undefined, "Warning", "FailedScheduling", "Scheduling", msg);
    await r.flushed();
    assert.equal(series.length, 1);
    // a different message is a different event
    r.eventf(
      pod,
      undefined,
      "Warning",
      "FailedScheduling",
      "Scheduling",
      "0/2 nodes are available: 2 Insufficient cpu.",
    );
    await r.flushed();
    assert.equal(created.length, 2);
  });

  it("drops events beyond the queue, as the upstream broadcaster does", () => {
    const clock = { t: 0 };
    const { r } = recorder(clock, { maxQueued: 2 });
    // the sink answers asynchronously: the first writes are in flight, the rest queue up
    for (let i = 0; i < 100; i++)
      r.eventf({ ...pod, name: `p${i}`, uid: `u${i}` }, undefined, "Normal", "Scheduled", "Binding", "x");
    assert.ok(r.dropped > 0);
  });
});
