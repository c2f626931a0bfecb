/** The scheduler cache: assumed pods, confirmation, forgetting, node order and the node table. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SchedulerCache, zoneKeyOf } from "../../src/scheduler/cache.js";
import { nodeFactsOf } from "../../src/scheduler/nodeinfo.js";
import { FLAG_HARD_TAINTS, FLAG_UNSCHEDULABLE } from "../../src/scheduler/nodetable.js";
import { node, pod } from "./helpers.js";

describe("assumed pods", () => {
  it("an assumed pod holds its node's room until forgotten", () => {
    const cache = new SchedulerCache();
    cache.setNode(node("n1", { cpu: "2" }));
    const p = pod("p", { cpu: "1500m" });
    cache.assumePod({ ...p, nodeName: "n1" });
    assert.equal(cache.get("n1")?.requested.milliCpu, 1500);
    assert.equal(cache.isAssumed(p.uid), true);
    cache.forgetPod(p.uid);
    assert.equal(cache.get("n1")?.requested.milliCpu, 0);
    assert.equal(cache.isAssumed(p.uid), false);
  });

  it("the informer's bound pod confirms the assumed one without counting it twice", () => {
    const cache = new SchedulerCache();
    cache.setNode(node("n1"));
    const p = pod("p", { cpu: "1" });
    cache.assumePod({ ...p, nodeName: "n1" });
    cache.addPod({ ...p, nodeName: "n1" });
    assert.equal(cache.isAssumed(p.uid), false);
    assert.equal(cache.get("n1")?.pods.length, 1);
    assert.equal(cache.get("n1")?.requested.milliCpu, 1000);
    // forgetting a confirmed pod does nothing
    cache.forgetPod(p.uid);
    assert.equal(cache.get("n1")?.pods.length, 1);
  });

  it("a pod bound elsewhere than assumed moves to that node", () => {
    const cache = new SchedulerCache();
    cache.setNode(node("n1"));
    cache.setNode(node("n2"));
    const p = pod("p", { cpu: "1" });
    cache.assumePod({ ...p, nodeName: "n1" });
    cache.addPod({ ...p, nodeName: "n2" });
    assert.equal(cache.get("n1")?.pods.length, 0);
    assert.equal(cache.get("n2")?.pods.length, 1);
  });

  it("with a TTL, an assumed pod whose binding finished but never showed up expires", () => {
    const cache = new SchedulerCache({ assumedTtlMs: 1000 });
    cache.setNode(node("n1"));
    const p = pod("p", { cpu: "1" });
    cache.assumePod({ ...p, nodeName: "n1" });
    assert.deepEqual(cache.cleanupAssumed(10_000), []);
    cache.finishBinding(p.uid, 10_000);
    assert.deepEqual(cache.cleanupAssumed(10_500), []);
    assert.equal(cache.cleanupAssumed(11_001).length, 1);
    assert.equal(cache.get("n1")?.pods.length, 0);
  });

  it("finished pods hold no room", () => {
    const cache = new SchedulerCache();
    cache.setNode(node("n1"));
    const p = pod("p", { cpu: "1", nodeName: "n1" });
    cache.addPod(p);
    cache.addPod({ ...pod("p", { cpu: "1", nodeName: "n1", status: { phase: "Succeeded" } }), uid: p.uid });
    assert.equal(cache.get("n1")?.requested.milliCpu, 0);
  });
});

describe("nodes", () => {
  it("are listed zone by zone, round robin", () => {
    const cache = new SchedulerCache();
    const z = (name: string, zone: string) => node(name, { labels: { "topology.kubernetes.io/zone": zone } });
    for (const n of [z("a1", "a"), z("a2", "a"), z("a3", "a"), z("b1", "b"), z("c1", "c"), z("c2", "c")])
      cache.setNode(n);
    assert.deepEqual(
      cache.list().map((n) => n.name),
      ["a1", "b1", "c1", "a2", "c2", "a3"],
    );
    assert.equal(zoneKeyOf({}), "");
  });

  it("a deleted node with pods left stays as an unlisted node info until they go", () => {
    const cache = new SchedulerCache();
    cache.setNode(node("n1"));
    const p = pod("p", { nodeName: "n1" });
    cache.addPod(p);
    cache.removeNode("n1");
    assert.equal(cache.get("n1"), undefined);
    assert.equal(cache.list().length, 0);
    cache.setNode(node("n1"));
    assert.equal(cache.get("n1")?.pods.length, 1);
  });

  it("the node table follows every change", () => {
    const cache = new SchedulerCache();
    cache.setNode(node("n1", { cpu: "4", unschedulable: true, taints: [{ key: "k", effect: "NoExecute" }] }));
    const info = cache.get("n1");
    assert.ok(info);
    const t = cache.table;
    assert.equal(t.allocCpu[info.slot], 4000);
    assert.equal((t.flags[info.slot] as number) & FLAG_UNSCHEDULABLE, FLAG_UNSCHEDULABLE);
    assert.equal((t.flags[info.slot] as number) & FLAG_HARD_TAINTS, FLAG_HARD_TAINTS);
    const p = pod("p", { cpu: "1", nodeName: "n1" });
    cache.addPod(p);
    assert.equal(t.reqCpu[info.slot], 1000);
    assert.equal(t.podCount[info.slot], 1);
    cache.removePod(p.uid);
    assert.equal(t.reqCpu[info.slot], 0);
    cache.setNode(node("n1", { cpu: "4" }));
    assert.equal(t.flags[info.slot], 0);
  });
});

describe("odd Node objects", () => {
  it("unparsable quantities count as zero; missing or odd fields are ignored", () => {
    const f = nodeFactsOf({
      metadata: { name: "odd", labels: { ok: "1", bad: 7 as unknown as string } },
      spec: { taints: "none", unschedulable: "yes" },
      status: { allocatable: { cpu: "lots", memory: "1Gi", pods: 5 } },
    });
    assert.equal(f.allocatable.milliCpu, 0);
    assert.equal(f.allocatable.memory, 1073741824);
    assert.equal(f.allocatable.allowedPods, 5);
    assert.deepEqual(f.taints, []);
    assert.equal(f.unschedulable, false);
    assert.deepEqual({ ...f.labels }, { ok: "1" });
    const empty = nodeFactsOf({ metadata: { name: "bare" } });
    assert.equal(empty.allocatable.allowedPods, 0);
  });
});
