/**
 * Node lifecycle with the real kubectl: a node whose kubelet goes silent turns Unknown with the
 * unreachable taints, and NoExecute taints evict pods per their tolerations; cordon/uncordon.
 * Also the pure rules (taints wanted, eviction time) on table-driven cases.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { evictionTime, reconcileTaints, wantedTaints } from "../../src/controllers/nodelifecycle/index.js";
import { startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, until } from "./support.js";

const node = (ready: string | undefined, unschedulable = false): KObject => ({
  metadata: { name: "n" },
  spec: unschedulable ? { unschedulable: true } : {},
  status: ready ? { conditions: [{ type: "Ready", status: ready }] } : {},
});

describe("node lifecycle rules", () => {
  const cases: Array<[string, KObject, string[]]> = [
    ["a Ready node has no taints of ours", node("True"), []],
    [
      "Ready=Unknown → unreachable NoSchedule and NoExecute",
      node("Unknown"),
      ["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"],
    ],
    [
      "Ready=False → not-ready NoSchedule and NoExecute",
      node("False"),
      ["node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"],
    ],
    [
      "a cordoned node gets unschedulable:NoSchedule",
      node("True", true),
      ["node.kubernetes.io/unschedulable:NoSchedule"],
    ],
  ];
  for (const [name, n, want] of cases) {
    it(name, () =>
      assert.deepEqual(
        wantedTaints(n).map((t) => `${t.key}:${t.effect}`),
        want,
      ),
    );
  }

  it("keeps taints it does not manage and stamps NoExecute ones with timeAdded", () => {
    const next = reconcileTaints(
      [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
      wantedTaints(node("Unknown")),
      0,
    );
    assert.deepEqual(
      next?.map((t) => t["key"]),
      ["dedicated", "node.kubernetes.io/unreachable", "node.kubernetes.io/unreachable"],
    );
    assert.equal(next?.[2]?.["timeAdded"], "1970-01-01T00:00:00Z");
    assert.equal(reconcileTaints(next ?? [], wantedTaints(node("Unknown")), 0), undefined);
    assert.deepEqual(
      reconcileTaints(next ?? [], [], 0)?.map((t) => t["key"]),
      ["dedicated"],
    );
  });

  const taint = [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "1970-01-01T00:00:10Z" }];
  const pod = (tolerations: unknown[]): KObject => ({ metadata: { name: "p" }, spec: { tolerations } });
  it("evicts at once a pod tolerating no NoExecute taint", () => assert.equal(evictionTime(pod([]), taint, 20_000), 0));
  it("evicts after the shortest matching tolerationSeconds since the taint was added", () =>
    assert.equal(
      evictionTime(
        pod([
          { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
          { operator: "Exists", tolerationSeconds: 60 },
        ]),
        taint,
        20_000,
      ),
      70_000,
    ));
  it("never evicts a pod tolerating the taint without a time limit", () =>
    assert.equal(evictionTime(pod([{ operator: "Exists" }]), taint, 20_000), undefined));
});

describe("node lifecycle with kubectl", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  before(async () => {
    // a 3 s grace period instead of 40 s
    c = await startCluster({ nodeMonitorGracePeriodMs: 3000 });
  });
  after(async () => {
    await c?.stop();
  });

  it("a silent node becomes NotReady with the unreachable taints, and NoExecute evicts by toleration", async () => {
    const nodeYaml = JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "ghost" } });
    assert.equal((await c.kubectl(["create", "-f", "-"], { stdin: nodeYaml })).code, 0);
    const mk = (name: string, tolerations: unknown[]) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: { nodeName: "ghost", tolerations, containers: [{ name: "c", image: "x" }] },
      });
    await c.kubectl(["create", "-f", "-"], {
      stdin: mk("goes-now", [
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 },
      ]),
    });
    await c.kubectl(["create", "-f", "-"], { stdin: mk("stays", []) });
    // as if its kubelet had reported it ready before going silent
    const readyPatch = JSON.stringify({
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    });
    await c.kubectl(["patch", "pod", "stays", "--subresource=status", "--type=merge", "-p", readyPatch]);
    // its kubelet posted Ready once, now, and never again
    const now = new Date().toISOString();
    const patch = JSON.stringify({
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "kubelet is posting ready status",
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
      },
    });
    assert.equal(
      (await c.kubectl(["patch", "node", "ghost", "--subresource=status", "--type=merge", "-p", patch])).code,
      0,
    );
    const row = await until("NotReady", async () => {
      const r = await c.kubectl(["get", "node", "ghost", "--no-headers"]);
      return /\bNotReady\b/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(row, /^ghost\s+NotReady/);
    const d = await c.kubectl(["describe", "node", "ghost"]);
    assert.match(d.stdout, /Ready\s+Unknown\s+.*NodeStatusUnknown\s+Kubelet stopped posting node status\./);
    const taints = await c.kubectl([
      "get",
      "node",
      "ghost",
      "-o",
      "jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}",
    ]);
    assert.equal(
      taints.stdout.trim(),
      "node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute",
    );
    // tolerationSeconds 0: evicted (Terminating: no kubelet is left to confirm, as upstream); the
    // default 300 s toleration added by admission: still there
    await until("eviction", async () => {
      const r = await c.kubectl(["get", "pod", "goes-now", "-o", "jsonpath={.metadata.deletionTimestamp}"]);
      return r.stdout !== "" ? true : undefined;
    });
    const cond = await c.kubectl([
      "get",
      "pod",
      "goes-now",
      "-o",
      'jsonpath={.status.conditions[?(@.type=="DisruptionTarget")].reason}',
    ]);
    assert.equal(cond.stdout, "DeletionByTaintManager");
    const stays = await c.kubectl(["get", "pod", "stays", "-o", "jsonpath={.metadata.deletionTimestamp}"]);
    assert.equal(stays.stdout, "");
    const ready = await c.kubectl([
      "get",
      "pod",
      "stays",
      "-o",
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    assert.equal(ready.stdout, "False");
  });

  it("cordon adds the unschedulable taint and SchedulingDisabled; uncordon removes them", async () => {
    await c.kubectl(["create", "-f", "-"], {
      stdin: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "n2" } }),
    });
    assert.equal((await c.kubectl(["cordon", "n2"])).stdout.trim(), "node/n2 cordoned");
    await until("taint", async () => {
      const r = await c.kubectl(["get", "node", "n2", "-o", "jsonpath={.spec.taints[*].key}"]);
      return r.stdout.includes("node.kubernetes.io/unschedulable") ? true : undefined;
    });
    const row = await c.kubectl(["get", "node", "n2", "--no-headers"]);
    assert.match(row.stdout, /SchedulingDisabled/);
    assert.equal((await c.kubectl(["uncordon", "n2"])).stdout.trim(), "node/n2 uncordoned");
    await until("no taint", async () => {
      const r = await c.kubectl(["get", "node", "n2", "-o", "jsonpath={.spec.taints[*].key}"]);
      return r.stdout.includes("unschedulable") ? undefined : true;
    });
  });
});
