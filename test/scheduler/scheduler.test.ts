/**
 * The Scheduler component through the in-process client: assumed pods, priority order, pods that
 * are not ours, restarts, and repeated failures aggregated into one event series.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { isRecord, type KObject } from "../../src/api/types.js";
import { LocalClient } from "../../src/controllers/client.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { startCluster, type TestCluster } from "../e2e/harness.js";
import { node, podObj } from "./helpers.js";

async function eventually<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("Scheduler", () => {
  let cluster: TestCluster;
  let client: LocalClient;
  let scheduler: Scheduler | undefined;
  const pods = () => client.resource("", "v1", "pods");
  const nodes = () => client.resource("", "v1", "nodes");
  const events = () => client.resource("", "v1", "events");
  const get = (name: string) => client.get(pods(), "default", name);
  const nodeOf = (name: string) => {
    const spec = get(name)?.["spec"];
    return isRecord(spec) && typeof spec["nodeName"] === "string" ? spec["nodeName"] : undefined;
  };
  const createPod = async (name: string, s: Parameters<typeof podObj>[1] = {}) => {
    const o = podObj(name, s);
    delete o.metadata.uid;
    delete (o["spec"] as Record<string, unknown>)["priority"];
    delete o["status"];
    await client.ensure(pods(), o);
  };
  const eventsFor = async (pod: string, reason: string): Promise<KObject[]> =>
    (await client.list(events(), "default"))
      .map((c) => c.obj)
      .filter((e) => isRecord(e["involvedObject"]) && e["involvedObject"]["name"] === pod && e["reason"] === reason);

  before(async () => {
    // this suite drives its own Scheduler
    cluster = await startCluster({ store: "memory", scheduler: false });
    client = new LocalClient(cluster.server.api.catalog, cluster.server.api.registry);
  });
  afterEach(async () => {
    scheduler?.stop();
    scheduler = undefined;
    for (const c of await client.list(pods())) {
      await client.delete(pods(), c.obj.metadata.namespace, c.obj.metadata.name ?? "", { gracePeriodSeconds: 0 });
    }
    for (const c of await client.list(nodes())) await client.delete(nodes(), undefined, c.obj.metadata.name ?? "");
  });
  after(async () => {
    await cluster?.stop();
  });

  it("back-to-back decisions do not double-book a node", async () => {
    await client.ensure(nodes(), node("n1", { cpu: "1" }));
    for (const n of ["a", "b", "c"]) await createPod(n, { cpu: "400m" });
    scheduler = new Scheduler(client);
    scheduler.start();
    await eventually("two bound, one refused", async () => {
      const bound = ["a", "b", "c"].filter((n) => nodeOf(n) === "n1").length;
      const refused = (await Promise.all(["a", "b", "c"].map((n) => eventsFor(n, "FailedScheduling")))).flat();
      return bound === 2 && refused.length === 1 ? true : undefined;
    });
    const refused = (await Promise.all(["a", "b", "c"].map((n) => eventsFor(n, "FailedScheduling")))).flat();
    assert.equal(
      refused[0]?.["message"],
      "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });

  it("schedules the higher-priority pod first", async () => {
    const pcs = client.resource("scheduling.k8s.io", "v1", "priorityclasses");
    await client.ensure(pcs, {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name: "unit-high" },
      value: 500,
    });
    try {
      await client.ensure(nodes(), node("n1", { cpu: "1" }));
      await createPod("early-low", { cpu: "800m" });
      await createPod("late-high", {
        cpu: "800m",
        spec: { priorityClassName: "unit-high", preemptionPolicy: "Never" },
      });
      scheduler = new Scheduler(client);
      scheduler.start();
      await eventually("high bound", () => (nodeOf("late-high") === "n1" ? true : undefined));
      await eventually("low refused", async () =>
        (await eventsFor("early-low", "FailedScheduling")).length ? true : undefined,
      );
      assert.equal(nodeOf("early-low"), undefined);
    } finally {
      await client.delete(pcs, undefined, "unit-high");
    }
  });

  it("leaves pods of other schedulers and pods that name their node alone", async () => {
    await client.ensure(nodes(), node("n1"));
    await createPod("theirs", { spec: { schedulerName: "other-scheduler" } });
    scheduler = new Scheduler(client);
    scheduler.start();
    await createPod("mine");
    await eventually("mine bound", () => (nodeOf("mine") === "n1" ? true : undefined));
    assert.equal(nodeOf("theirs"), undefined);
    assert.deepEqual(await eventsFor("theirs", "FailedScheduling"), []);
    assert.deepEqual(await eventsFor("theirs", "Scheduled"), []);
  });

  it("a custom schedulerName takes only its own pods", async () => {
    await client.ensure(nodes(), node("n1"));
    await createPod("for-custom", { spec: { schedulerName: "custom" } });
    await createPod("for-default");
    scheduler = new Scheduler(client, { schedulerName: "custom" });
    scheduler.start();
    await eventually("custom bound", () => (nodeOf("for-custom") === "n1" ? true : undefined));
    const ev = await eventually("event", async () => (await eventsFor("for-custom", "Scheduled"))[0]);
    assert.equal(ev["reportingComponent"], "custom");
    assert.equal(nodeOf("for-default"), undefined);
  });

  it("a pod with scheduling gates waits until the gates are removed", async () => {
    await client.ensure(nodes(), node("n1"));
    scheduler = new Scheduler(client);
    scheduler.start();
    await createPod("gated", { spec: { schedulingGates: [{ name: "example.com/wait" }] } });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(nodeOf("gated"), undefined);
    assert.deepEqual(await eventsFor("gated", "FailedScheduling"), []);
    // upstream allows removing gates; our pod update validation does not yet (change proposed to
    // src/api/validation/pod.ts), so this test removes them with the registry's own write
    await client.registry.update(
      pods(),
      "default",
      "gated",
      "",
      (p) => {
        delete (p["spec"] as Record<string, unknown>)["schedulingGates"];
        return p;
      },
      { dryRun: false, retry: true, skipAdmission: true },
    );
    await eventually("bound once ungated", () => (nodeOf("gated") === "n1" ? true : undefined));
  });

  it("can be stopped and started again (leadership lost and regained)", async () => {
    await client.ensure(nodes(), node("n1"));
    scheduler = new Scheduler(client);
    scheduler.start();
    await createPod("first");
    await eventually("first bound", () => (nodeOf("first") === "n1" ? true : undefined));
    scheduler.stop();
    await createPod("second");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(nodeOf("second"), undefined);
    scheduler.start();
    await eventually("second bound", () => (nodeOf("second") === "n1" ? true : undefined));
  });

  it("repeated identical failures become one event with a series", async () => {
    await client.ensure(nodes(), node("n1", { labels: { zone: "a" } }));
    await client.ensure(
      pods(),
      (() => {
        const g = podObj("guard", {
          nodeName: "n1",
          spec: {
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: { app: "web" } }, topologyKey: "zone" },
                ],
              },
            },
          },
        });
        delete g.metadata.uid;
        delete (g["spec"] as Record<string, unknown>)["priority"];
        delete g["status"];
        return g;
      })(),
    );
    scheduler = new Scheduler(client, { podInitialBackoffSeconds: 0.05 });
    scheduler.start();
    await createPod("web", { labels: { app: "web" } });
    const want =
      "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
    await eventually("first failure", async () =>
      (await eventsFor("web", "FailedScheduling")).length ? true : undefined,
    );
    // a label change on the node may help a pod rejected by InterPodAffinity: it is retried, and fails the same way
    await client.update(nodes(), undefined, "n1", "", (n) => {
      n.metadata.labels = { ...n.metadata.labels, touched: "1" };
      return n;
    });
    const ev = await eventually("series", async () => {
      const list = await eventsFor("web", "FailedScheduling");
      const s = list[0]?.["series"];
      return list.length === 1 && isRecord(s) && s["count"] === 2 ? list[0] : undefined;
    });
    assert.equal(ev["message"], want);
    assert.equal(ev["type"], "Warning");
    assert.equal(ev["action"], "Scheduling");
  });
});
