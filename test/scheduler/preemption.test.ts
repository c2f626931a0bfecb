/** DefaultPreemption: victim selection, PDB reprieve, node choice and the PostFilter messages. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitErrorMessage, newDiagnosis } from "../../src/scheduler/fiterror.js";
import { CycleState, type Snapshot } from "../../src/scheduler/framework.js";
import type { PodInfo } from "../../src/scheduler/podinfo.js";
import {
  disruptionBudgetOf,
  type PreemptionContext,
  pickOneNodeForPreemption,
  preempt,
  splitByBudgetViolation,
  type Victims,
} from "../../src/scheduler/preemption.js";
import { cluster, defaultFramework, node, pod } from "./helpers.js";

function attempt(
  p: PodInfo,
  snap: Snapshot,
  pdbs: ReturnType<typeof disruptionBudgetOf>[] = [],
  nominated: PodInfo[] = [],
) {
  const fw = defaultFramework();
  const state = new CycleState();
  const d = newDiagnosis();
  const pre = fw.runPreFilter(state, p, snap);
  if (pre.status) {
    d.absentStatus = pre.status;
    d.preFilterMsg = pre.status.reasons.join(", ");
  } else {
    for (const n of snap.nodes()) {
      const s = fw.runFilter(fw.activeFilters(state), state, p, n);
      if (s) d.nodeToStatus.set(n.name, s);
    }
  }
  const ctx: PreemptionContext = {
    framework: fw,
    state,
    snap,
    pdbs,
    nominatedPodsFor: (n) => nominated.filter((x) => x.nominatedNodeName === n),
    now: Date.parse("2024-06-01T00:00:00Z"),
    random: () => 0,
  };
  const out = preempt(ctx, p, d);
  d.postFilterMsg = out.message;
  return { out, message: fitErrorMessage(snap.nodes().length, d) };
}

const names = (ps: PodInfo[]) => ps.map((p) => p.name).sort();

describe("preemption victims", () => {
  it("a higher-priority pod preempts the lower-priority pod that frees enough cpu", () => {
    const { snap } = cluster([node("n1", { cpu: "2" })], [["n1", pod("low", { cpu: "1500m", priority: 10 })]]);
    const { out, message } = attempt(pod("high", { cpu: "1", priority: 100 }), snap);
    assert.equal(out.code, "Success");
    assert.equal(out.nominatedNodeName, "n1");
    assert.deepEqual(names(out.victims), ["low"]);
    assert.equal(message, "0/1 nodes are available: 1 Insufficient cpu.");
  });

  it("the minimal set: lower-priority pods that need not go are reprieved, the least important go first", () => {
    const { snap } = cluster(
      [node("n1", { cpu: "4" })],
      [
        ["n1", pod("p1", { cpu: "1", priority: 1 })],
        ["n1", pod("p5", { cpu: "1", priority: 5 })],
        ["n1", pod("p9", { cpu: "1", priority: 9 })],
        ["n1", pod("p20", { cpu: "1", priority: 20 })],
      ],
    );
    const { out } = attempt(pod("high", { cpu: "2", priority: 10 }), snap);
    // p20 is not lower priority; of p1, p5, p9 two must go and the most important (p9) stays
    assert.deepEqual(names(out.victims), ["p1", "p5"]);
  });

  it("pods of equal or higher priority are never victims: no victims found", () => {
    const { snap } = cluster(
      [node("n1", { cpu: "1" }), node("n2", { cpu: "1" })],
      [
        ["n1", pod("a", { cpu: "1", priority: 100 })],
        ["n2", pod("b", { cpu: "1", priority: 200 })],
      ],
    );
    const { out, message } = attempt(pod("p", { cpu: "1", priority: 100 }), snap);
    assert.equal(out.code, "Unschedulable");
    assert.equal(
      message,
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
  });

  it("unresolvable rejections are not helped by preemption", () => {
    const { snap } = cluster([
      node("cp", { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] }),
    ]);
    const { message } = attempt(pod("p", { priority: 1000 }), snap);
    assert.equal(
      message,
      "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
  });

  it("when removing every lower-priority pod is not enough, the node reports the filter's reason", () => {
    const { snap } = cluster(
      [node("n1", { cpu: "2" })],
      [
        ["n1", pod("low", { cpu: "1", priority: 1 })],
        ["n1", pod("keep", { cpu: "1", priority: 500 })],
      ],
    );
    const { message } = attempt(pod("p", { cpu: "2", priority: 100 }), snap);
    assert.equal(
      message,
      "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.",
    );
  });

  it("preemptionPolicy Never skips preemption", () => {
    const { snap } = cluster([node("n1", { cpu: "1" })], [["n1", pod("low", { cpu: "1", priority: 1 })]]);
    const { out, message } = attempt(pod("p", { cpu: "1", priority: 100, spec: { preemptionPolicy: "Never" } }), snap);
    assert.equal(out.victims.length, 0);
    assert.equal(
      message,
      "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
    );
  });

  it("a pod whose nominated node still has its preempted victims terminating waits", () => {
    const victim = pod("low", {
      cpu: "1",
      priority: 1,
      terminating: true,
      status: { conditions: [{ type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler" }] },
    });
    const { snap } = cluster([node("n1", { cpu: "1" })], [["n1", victim]]);
    const { out, message } = attempt(pod("p", { cpu: "1", priority: 100, status: { nominatedNodeName: "n1" } }), snap);
    assert.equal(out.nominatedNodeName, undefined);
    assert.equal(
      message,
      "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.",
    );
  });

  it("a PodDisruptionBudget with no disruptions left makes its pods the last resort", () => {
    const guarded = pod("guarded", { cpu: "1", priority: 1, labels: { app: "db" } });
    const free = pod("free", { cpu: "1", priority: 5 });
    const { snap } = cluster(
      [node("n1", { cpu: "2" })],
      [
        ["n1", guarded],
        ["n1", free],
      ],
    );
    const pdb = disruptionBudgetOf({
      metadata: { name: "db", namespace: "default" },
      spec: { selector: { matchLabels: { app: "db" } } },
      status: { disruptionsAllowed: 0 },
    });
    const { out } = attempt(pod("p", { cpu: "1", priority: 100 }), snap, [pdb]);
    // without the budget the lower-priority "guarded" would go; with it, "free" does
    assert.deepEqual(names(out.victims), ["free"]);
  });

  it("lower-priority pods nominated to the chosen node lose their nomination", () => {
    const { snap } = cluster([node("n1", { cpu: "1" })], [["n1", pod("low", { cpu: "1", priority: 1 })]]);
    const waiting = pod("waiting", { cpu: "100m", priority: 50, status: { nominatedNodeName: "n1" } });
    const { out } = attempt(pod("p", { cpu: "500m", priority: 100 }), snap, [], [waiting]);
    assert.equal(out.code, "Success");
    assert.deepEqual(names(out.clearNominated), ["waiting"]);
  });
});

describe("PDB split", () => {
  it("budgets are spent in order; disrupted pods and other namespaces do not count", () => {
    const pdb = disruptionBudgetOf({
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { matchLabels: { app: "web" } } },
      status: { disruptionsAllowed: 1, disruptedPods: { w0: "2024-01-01T00:00:00Z" } },
    });
    const pods = [
      pod("w0", { labels: { app: "web" } }),
      pod("w1", { labels: { app: "web" } }),
      pod("w2", { labels: { app: "web" } }),
      pod("o", { labels: { app: "web" }, namespace: "other" }),
    ];
    const { violating, nonViolating } = splitByBudgetViolation(pods, [pdb]);
    assert.deepEqual(names(violating), ["w2"]);
    assert.deepEqual(names(nonViolating), ["o", "w0", "w1"]);
  });
});

describe("pickOneNodeForPreemption", () => {
  const v = (pods: PodInfo[], numPDBViolations = 0): Victims => ({ pods, numPDBViolations });
  const cases: Array<{ name: string; candidates: Record<string, Victims>; want: string }> = [
    {
      name: "fewest PDB violations first",
      candidates: { a: v([pod("x", { priority: 1 })], 1), b: v([pod("y", { priority: 50 })], 0) },
      want: "b",
    },
    {
      name: "then the lowest highest-priority victim",
      candidates: {
        a: v([pod("x", { priority: 30 })]),
        b: v([pod("y", { priority: 20 }), pod("z", { priority: 10 })]),
      },
      want: "b",
    },
    {
      name: "then the smallest sum of priorities",
      candidates: {
        a: v([pod("x", { priority: 20 }), pod("x2", { priority: 10 })]),
        b: v([pod("y", { priority: 20 }), pod("y2", { priority: 5 })]),
      },
      want: "b",
    },
    {
      name: "then the fewest victims (sums of negative priorities do not favour more pods)",
      candidates: {
        a: v([pod("x", { priority: -5 }), pod("x2", { priority: -5 })]),
        b: v([pod("y", { priority: -5 })]),
      },
      want: "b",
    },
    {
      name: "then the latest start of the most important victims",
      candidates: {
        a: v([pod("x", { priority: 5, status: { startTime: "2024-01-01T00:00:00Z" } })]),
        b: v([pod("y", { priority: 5, status: { startTime: "2024-03-01T00:00:00Z" } })]),
      },
      want: "b",
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(pickOneNodeForPreemption(new Map(Object.entries(c.candidates)), Date.now()), c.want));
  }
});
