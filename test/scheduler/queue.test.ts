/** The scheduling queue: order, backoff, moves on cluster events, flushes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../../src/scheduler/nodeinfo.js";
import { backoffDuration, SchedulingQueue } from "../../src/scheduler/queue.js";
import { PluginName } from "../../src/scheduler/types.js";
import { node, pod } from "./helpers.js";

function queue(clock: { t: number }) {
  return new SchedulingQueue({
    now: () => clock.t,
    initialBackoffMs: 1000,
    maxBackoffMs: 10_000,
    maxInUnschedulableMs: 300_000,
  });
}

function drain(q: SchedulingQueue): string[] {
  const out: string[] = [];
  for (let p = q.pop(); p; p = q.pop()) out.push(p.pod.name);
  return out;
}

function info(name: string, spec: Parameters<typeof node>[1] = {}): NodeInfo {
  const n = new NodeInfo(name);
  n.setNode(node(name, spec));
  return n;
}

describe("activeQ order", () => {
  it("higher priority first, then first come first served", () => {
    const clock = { t: 0 };
    const q = queue(clock);
    for (const [name, priority] of [
      ["a", 0],
      ["b", 100],
      ["c", 0],
      ["d", 1000],
      ["e", 100],
    ] as const) {
      clock.t++;
      q.add(pod(name, { priority }));
    }
    assert.deepEqual(drain(q), ["d", "b", "e", "a", "c"]);
  });
});

describe("backoff", () => {
  const cases = [
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [30, 10_000],
  ] as const;
  for (const [attempts, ms] of cases) {
    it(`after ${attempts} attempt(s) a pod backs off ${ms} ms`, () =>
      assert.equal(backoffDuration(attempts, 1000, 10_000), ms));
  }

  it("a failed attempt that errored waits out its backoff, then becomes active", () => {
    const clock = { t: 1000 };
    const q = queue(clock);
    q.add(pod("p"));
    const qp = q.pop();
    assert.ok(qp);
    q.addUnschedulable(qp, false);
    assert.equal(q.where(qp.pod.uid), "backoff");
    clock.t += 999;
    q.flushBackoff();
    assert.equal(q.where(qp.pod.uid), "backoff");
    clock.t += 1;
    q.flushBackoff();
    assert.equal(q.where(qp.pod.uid), "active");
    assert.equal(q.pop()?.attempts, 2);
  });
});

describe("unschedulable pods move on events that may help", () => {
  function rejected(plugin: string, spec: Parameters<typeof pod>[1] = {}) {
    const clock = { t: 0 };
    const q = queue(clock);
    q.add(pod("p", spec));
    const qp = q.pop();
    assert.ok(qp);
    qp.unschedulablePlugins = new Set([plugin]);
    q.addUnschedulable(qp, true);
    assert.equal(q.where(qp.pod.uid), "unschedulable");
    return { q, clock, uid: qp.pod.uid };
  }

  it("a pod rejected for cpu moves when an assigned pod is deleted (backoffQ while backing off, then activeQ)", () => {
    const { q, clock, uid } = rejected(PluginName.NodeResourcesFit, { cpu: "1" });
    q.moveAll({ kind: "AssignedPodDelete", pod: pod("gone") });
    assert.equal(q.where(uid), "backoff");
    clock.t += 1000;
    q.flushBackoff();
    assert.equal(q.where(uid), "active");
  });

  it("a pod rejected for cpu moves to activeQ when its backoff is over", () => {
    const { q, clock, uid } = rejected(PluginName.NodeResourcesFit, { cpu: "1" });
    clock.t += 5000;
    q.moveAll({ kind: "AssignedPodDelete", pod: pod("gone") });
    assert.equal(q.where(uid), "active");
  });

  const stays: Array<{
    name: string;
    plugin: string;
    spec?: Parameters<typeof pod>[1];
    ev: Parameters<SchedulingQueue["moveAll"]>[0];
  }> = [
    {
      name: "a new node too small for its requests does not move a pod rejected for cpu",
      plugin: PluginName.NodeResourcesFit,
      spec: { cpu: "8" },
      ev: { kind: "NodeAdd", node: info("small", { cpu: "2" }) },
    },
    {
      name: "a new node with a taint it does not tolerate does not move a pod rejected for taints",
      plugin: PluginName.TaintToleration,
      ev: { kind: "NodeAdd", node: info("t", { taints: [{ key: "k", effect: "NoSchedule" }] }) },
    },
    {
      name: "a label change that still misses its selector does not move it",
      plugin: PluginName.NodeAffinity,
      spec: { spec: { nodeSelector: { disk: "ssd" } } },
      ev: {
        kind: "NodeUpdate",
        node: info("n", { labels: { disk: "hdd" } }),
        changes: { labels: true, taints: false, allocatable: false, unschedulable: false },
      },
    },
    {
      name: "a pod deletion does not help a pod rejected for taints",
      plugin: PluginName.TaintToleration,
      ev: { kind: "AssignedPodDelete", pod: pod("gone") },
    },
  ];
  for (const c of stays) {
    it(c.name, () => {
      const { q, clock, uid } = rejected(c.plugin, c.spec);
      clock.t += 5000;
      q.moveAll(c.ev);
      assert.equal(q.where(uid), "unschedulable");
    });
  }

  const moves: typeof stays = [
    {
      name: "a new node big enough moves a pod rejected for cpu",
      plugin: PluginName.NodeResourcesFit,
      spec: { cpu: "8" },
      ev: { kind: "NodeAdd", node: info("big", { cpu: "16" }) },
    },
    {
      name: "removing the taint moves a pod rejected for taints",
      plugin: PluginName.TaintToleration,
      ev: {
        kind: "NodeUpdate",
        node: info("n"),
        changes: { labels: false, taints: true, allocatable: false, unschedulable: false },
      },
    },
    {
      name: "uncordoning moves a pod rejected because the node was unschedulable",
      plugin: PluginName.NodeUnschedulable,
      ev: {
        kind: "NodeUpdate",
        node: info("n"),
        changes: { labels: false, taints: false, allocatable: false, unschedulable: true },
      },
    },
    {
      name: "a label change that now matches moves a pod rejected by its selector",
      plugin: PluginName.NodeAffinity,
      spec: { spec: { nodeSelector: { disk: "ssd" } } },
      ev: {
        kind: "NodeUpdate",
        node: info("n", { labels: { disk: "ssd" } }),
        changes: { labels: true, taints: false, allocatable: false, unschedulable: false },
      },
    },
  ];
  for (const c of moves) {
    it(c.name, () => {
      const { q, clock, uid } = rejected(c.plugin, c.spec);
      clock.t += 5000;
      q.moveAll(c.ev);
      assert.equal(q.where(uid), "active");
    });
  }

  it("unschedulable pods get another try after five minutes without a helpful event", () => {
    const { q, clock, uid } = rejected(PluginName.TaintToleration);
    clock.t += 300_000;
    q.flushUnschedulableLeftover();
    assert.equal(q.where(uid), "unschedulable");
    clock.t += 1;
    q.flushUnschedulableLeftover();
    assert.equal(q.where(uid), "active");
  });

  it("a spec change of an unschedulable pod moves it; a status-only change does not", () => {
    const { q, clock, uid } = rejected(PluginName.TaintToleration);
    clock.t += 5000;
    const cur = pod("p");
    // same pod (uid), new status only
    const statusOnly = { ...cur, uid, obj: { ...cur.obj, status: { phase: "Pending", conditions: [] } } };
    q.update({ ...statusOnly, obj: { ...statusOnly.obj, spec: cur.obj["spec"] as object } });
    assert.equal(q.where(uid), "unschedulable");
    const tolerating = pod("p", { spec: { tolerations: [{ operator: "Exists" }] } });
    q.update({ ...tolerating, uid });
    assert.equal(q.where(uid), "active");
  });

  it("a pod that failed after a move request in its cycle goes to backoffQ, not unschedulable", () => {
    const clock = { t: 0 };
    const q = queue(clock);
    q.add(pod("p"));
    const qp = q.pop();
    assert.ok(qp);
    q.moveAll({ kind: "NodeAdd", node: info("late") });
    qp.unschedulablePlugins = new Set([PluginName.NodeResourcesFit]);
    q.addUnschedulable(qp, true);
    assert.equal(q.where(qp.pod.uid), "backoff");
  });

  it("deleting a pod takes it out of every queue and its nomination", () => {
    const clock = { t: 0 };
    const q = queue(clock);
    const p = pod("p", { status: { nominatedNodeName: "n1" } });
    q.add(p);
    assert.equal(q.nominator.podsFor("n1").length, 1);
    q.delete(p.uid);
    assert.equal(q.where(p.uid), undefined);
    assert.equal(q.nominator.podsFor("n1").length, 0);
  });
});
