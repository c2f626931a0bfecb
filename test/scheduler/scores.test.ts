/** Score plugins, normalisation, weights, host selection and node sampling. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CycleState, defaultNormalizeScore } from "../../src/scheduler/framework.js";
import type { NodeInfo } from "../../src/scheduler/nodeinfo.js";
import { minMaxNormalize } from "../../src/scheduler/plugins/interpodaffinity.js";
import {
  balancedScore,
  balancedScore2,
  leastAllocatedScore,
  leastRequestedScore,
} from "../../src/scheduler/plugins/noderesources.js";
import { normalizeSpreadScores, scoreForCount } from "../../src/scheduler/plugins/podtopologyspread.js";
import type { PodInfo } from "../../src/scheduler/podinfo.js";
import { numFeasibleNodesToFind, selectHost } from "../../src/scheduler/selecthost.js";
import { cluster, defaultFramework, node, nodeInfo, pod } from "./helpers.js";

describe("NodeResourcesFit LeastAllocated", () => {
  const cases = [
    { name: "an empty node scores the share left free", used: [] as PodInfo[], want: 75 },
    { name: "a busier node scores less", used: [pod("u", { cpu: "2", memory: "4Gi" })], want: 25 },
    { name: "containers without requests count as 100m / 200Mi", used: [pod("u")], want: 72 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const n = nodeInfo(node("n", { cpu: "4", memory: "8Gi" }), c.used);
      assert.equal(leastAllocatedScore(pod("p", { cpu: "1", memory: "2Gi" }), n), c.want);
    });
  }
  it("requested beyond capacity scores 0; no capacity scores 0", () => {
    assert.equal(leastRequestedScore(5, 4), 0);
    assert.equal(leastRequestedScore(1, 0), 0);
    assert.equal(leastRequestedScore(1, 3), 66);
  });
});

describe("NodeResourcesBalancedAllocation", () => {
  const cases = [
    { name: "equal fractions are perfectly balanced", req: [2, 4], alloc: [4, 8], want: 100 },
    { name: "cpu at 25% and memory at 50%", req: [1, 4], alloc: [4, 8], want: 87 },
    { name: "fractions above 1 count as 1", req: [8, 0], alloc: [4, 8], want: 50 },
    { name: "a resource the node does not offer is left out", req: [1, 4], alloc: [4, 0], want: 100 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(balancedScore(c.req, c.alloc), c.want);
      assert.equal(
        balancedScore2(c.req[0] as number, c.alloc[0] as number, c.req[1] as number, c.alloc[1] as number),
        c.want,
      );
    });
  }
  it("three resources use the standard deviation", () => {
    // fractions .2, .5, .8: mean .5, variance .06, std .2449 → 75
    assert.equal(balancedScore([2, 5, 8], [10, 10, 10]), 75);
  });
});

describe("normalisation", () => {
  const cases: Array<{ name: string; f: (s: number[]) => void; in: number[]; want: number[] }> = [
    {
      name: "default: scaled to the highest",
      f: (s) => defaultNormalizeScore(s, false),
      in: [0, 5, 10],
      want: [0, 50, 100],
    },
    {
      name: "default reversed (TaintToleration)",
      f: (s) => defaultNormalizeScore(s, true),
      in: [0, 1, 2],
      want: [100, 50, 0],
    },
    {
      name: "default reversed, all zero: all 100",
      f: (s) => defaultNormalizeScore(s, true),
      in: [0, 0],
      want: [100, 100],
    },
    { name: "min-max (InterPodAffinity)", f: minMaxNormalize, in: [-10, 0, 10], want: [0, 50, 100] },
    { name: "min-max flat: all 0", f: minMaxNormalize, in: [3, 3], want: [0, 0] },
    {
      name: "spread: fewer matching pods score higher",
      f: (s) => normalizeSpreadScores(s, [false, false, false]),
      in: [1, 2, 4],
      want: [100, 75, 25],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = [...c.in];
      c.f(s);
      assert.deepEqual(s, c.want);
    });
  }
  it("spread: ignored nodes score 0, and all-zero scores are 100", () => {
    const s = [0, 0, 7];
    normalizeSpreadScores(s, [false, false, true]);
    assert.deepEqual(s, [100, 100, 0]);
    assert.equal(scoreForCount(2, 1, Math.log(4)), 2 * Math.log(4));
  });
});

/** Totals per node name from the default score plugins. */
function scores(p: PodInfo, nodes: NodeInfo[], snap: Parameters<ReturnType<typeof defaultFramework>["runScore"]>[3]) {
  const fw = defaultFramework();
  const state = new CycleState();
  fw.runPreFilter(state, p, snap);
  const totals = fw.runScore(state, p, nodes, snap);
  return Object.fromEntries(nodes.map((n, i) => [n.name, totals[i]]));
}

describe("score plugins together", () => {
  it("preferred node affinity, weight 2, favours the matching node", () => {
    const { snap } = cluster([node("ssd", { labels: { disk: "ssd" } }), node("hdd", { labels: { disk: "hdd" } })]);
    const p = pod("p", {
      cpu: "1",
      memory: "1Gi",
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
            ],
          },
        },
      },
    });
    const s = scores(p, snap.nodes(), snap);
    assert.equal((s["ssd"] as number) - (s["hdd"] as number), 200);
  });

  it("PreferNoSchedule taints, weight 3, push pods to untainted nodes", () => {
    const { snap } = cluster([node("clean"), node("soft", { taints: [{ key: "k", effect: "PreferNoSchedule" }] })]);
    const s = scores(pod("p", { cpu: "1" }), snap.nodes(), snap);
    assert.equal((s["clean"] as number) - (s["soft"] as number), 300);
    const tolerant = pod("p", {
      cpu: "1",
      spec: { tolerations: [{ key: "k", operator: "Exists", effect: "PreferNoSchedule" }] },
    });
    const t = scores(tolerant, snap.nodes(), snap);
    assert.equal(t["clean"], t["soft"]);
  });

  it("preferred pod affinity, weight 2, favours the zone of matching pods", () => {
    const { snap } = cluster(
      [node("a", { labels: { zone: "a" } }), node("b", { labels: { zone: "b" } })],
      [["b", pod("cache", { labels: { app: "cache" } })]],
    );
    const p = pod("p", {
      spec: {
        affinity: {
          podAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 50,
                podAffinityTerm: { labelSelector: { matchLabels: { app: "cache" } }, topologyKey: "zone" },
              },
            ],
          },
        },
      },
    });
    const s = scores(p, snap.nodes(), snap);
    assert.ok((s["b"] as number) > (s["a"] as number));
  });

  it("soft topology spread, weight 2, favours the emptier zone", () => {
    const { snap } = cluster(
      [node("a", { labels: { zone: "a" } }), node("b", { labels: { zone: "b" } })],
      [["a", pod("w1", { labels: { app: "web" } })]],
    );
    const p = pod("p", {
      labels: { app: "web" },
      spec: {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "zone",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: { app: "web" } },
          },
        ],
      },
    });
    const s = scores(p, snap.nodes(), snap);
    assert.ok((s["b"] as number) > (s["a"] as number));
  });

  it("least allocated wins when nothing else differs", () => {
    const { snap } = cluster([node("busy"), node("idle")], [["busy", pod("u", { cpu: "3", memory: "6Gi" })]]);
    const s = scores(pod("p", { cpu: "500m", memory: "512Mi" }), snap.nodes(), snap);
    assert.ok((s["idle"] as number) > (s["busy"] as number));
  });
});

describe("host selection", () => {
  it("the highest total wins", () => assert.equal(selectHost([10, 30, 20]), 1));
  it("ties are broken at random among the best", () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const h = selectHost([5, 9, 9, 1, 9]);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), [1, 2, 4]);
    // each of the three is picked about a third of the time
    for (const n of counts.values()) assert.ok(n > 800 && n < 1200, `picked ${n} of 3000`);
  });
});

describe("percentageOfNodesToScore", () => {
  const cases = [
    [50, undefined, 50],
    [100, undefined, 100],
    [1000, undefined, 420],
    [5000, undefined, 500],
    [6000, undefined, 300],
    [20000, undefined, 1000],
    [1000, 30, 300],
    [1000, 5, 100],
  ] as const;
  for (const [nodes, pct, want] of cases) {
    it(`${nodes} nodes at ${pct ?? "adaptive"}% look for ${want} feasible nodes`, () =>
      assert.equal(numFeasibleNodesToFind(nodes, pct), want));
  }
});
