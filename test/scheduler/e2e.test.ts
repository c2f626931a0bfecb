/**
 * The scheduler against a real API server, driven with the real kubectl: binding, the
 * FailedScheduling text in `kubectl describe`, taints and cordons keeping pods off until removed,
 * and priority preemption. No node agent runs here: bound pods stay Pending, which is expected.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { LocalClient } from "../../src/controllers/client.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { startCluster, type TestCluster } from "../e2e/harness.js";

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`${what}: not in time${last ? ` (${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function nodeYaml(name: string, cpu: string, extra: { taints?: string; labels?: Record<string, string> } = {}): string {
  const labels = { "kubernetes.io/hostname": name, ...extra.labels };
  return `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels:
${Object.entries(labels)
  .map(([k, v]) => `    ${k}: "${v}"`)
  .join("\n")}
spec:
${extra.taints ?? "  {}"}
status:
  capacity: {cpu: "${cpu}", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "${cpu}", memory: 4Gi, pods: "110"}
`;
}

function podYaml(name: string, cpu: string, extra = ""): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
${extra}  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
    resources:
      requests: {cpu: "${cpu}"}
`;
}

describe("scheduler with a real API server and kubectl", () => {
  let cluster: TestCluster;
  let scheduler: Scheduler;
  const kubectl = async (args: string[], stdin?: string) => {
    const r = await cluster.kubectl(args, { stdin });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** The NODE and NOMINATED NODE columns of `kubectl get pod -o wide`. */
  const placement = async (pod: string) => {
    const out = await kubectl(["get", "pod", pod, "-o", "wide", "--no-headers"]);
    const cols = out.trim().split(/\s{2,}/);
    return { node: cols[6], nominated: cols[7], status: cols[2] };
  };
  const failedScheduling = async (pod: string) => {
    const out = await kubectl(["describe", "pod", pod]);
    const line = out.split("\n").find((l) => l.includes("FailedScheduling"));
    return line?.replace(/^.*default-scheduler\s+/, "").trim();
  };

  before(async () => {
    // this suite drives its own Scheduler
    cluster = await startCluster({ store: "memory", scheduler: false });
    scheduler = new Scheduler(new LocalClient(cluster.server.api.catalog, cluster.server.api.registry));
    scheduler.start();
  });
  afterEach(async () => {
    await cluster.kubectl(["delete", "pods", "--all", "--grace-period=0", "--force"]);
    await cluster.kubectl(["delete", "nodes", "--all"]);
  });
  after(async () => {
    scheduler?.stop();
    await cluster?.stop();
  });

  it("binds a pod to the node that fits, and says so in an event", async () => {
    await kubectl(["create", "-f", "-"], nodeYaml("small", "1") + "---\n" + nodeYaml("big", "4"));
    await kubectl(["create", "-f", "-"], podYaml("web", "2"));
    const p = await eventually("bound", async () => {
      const got = await placement("web");
      return got.node !== "<none>" ? got : undefined;
    });
    assert.equal(p.node, "big");
    assert.equal(p.status, "Pending");
    const events = await eventually("Scheduled event", async () => {
      const out = await kubectl(["describe", "pod", "web"]);
      return out.includes("Scheduled") ? out : undefined;
    });
    assert.match(events, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web to big/);
    const cond = await kubectl([
      "get",
      "pod",
      "web",
      "-o",
      "jsonpath={.status.conditions[?(@.type=='PodScheduled')].status}",
    ]);
    assert.equal(cond, "True");
  });

  it("explains an unschedulable pod in kubectl describe and its PodScheduled condition", async () => {
    await kubectl(["create", "-f", "-"], nodeYaml("n1", "1") + "---\n" + nodeYaml("n2", "1"));
    await kubectl(["create", "-f", "-"], podYaml("huge", "2"));
    const want =
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.";
    assert.equal(await eventually("FailedScheduling", () => failedScheduling("huge")), want);
    const reason = await eventually("condition", async () => {
      const out = await kubectl([
        "get",
        "pod",
        "huge",
        "-o",
        "jsonpath={.status.conditions[?(@.type=='PodScheduled')].reason}|{.status.conditions[?(@.type=='PodScheduled')].message}",
      ]);
      return out.startsWith("Unschedulable|") ? out : undefined;
    });
    assert.equal(reason, `Unschedulable|${want}`);
  });

  it("keeps pods off a tainted node until the taint is removed", async () => {
    await kubectl(
      ["create", "-f", "-"],
      nodeYaml("cp", "2", {
        taints: "  taints:\n  - {key: node-role.kubernetes.io/control-plane, effect: NoSchedule}",
      }),
    );
    await kubectl(["create", "-f", "-"], podYaml("app", "100m"));
    assert.equal(
      await eventually("FailedScheduling", () => failedScheduling("app")),
      "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    assert.equal((await placement("app")).node, "<none>");
    await kubectl(["taint", "nodes", "cp", "node-role.kubernetes.io/control-plane:NoSchedule-"]);
    const p = await eventually("bound after untaint", async () => {
      const got = await placement("app");
      return got.node !== "<none>" ? got : undefined;
    });
    assert.equal(p.node, "cp");
  });

  it("keeps pods off a cordoned node until it is uncordoned", async () => {
    await kubectl(["create", "-f", "-"], nodeYaml("w1", "2"));
    await kubectl(["cordon", "w1"]);
    await kubectl(["create", "-f", "-"], podYaml("job", "100m"));
    assert.equal(
      await eventually("FailedScheduling", () => failedScheduling("job")),
      "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    await kubectl(["uncordon", "w1"]);
    const p = await eventually("bound after uncordon", async () => {
      const got = await placement("job");
      return got.node !== "<none>" ? got : undefined;
    });
    assert.equal(p.node, "w1");
  });

  it("a higher-priority pod preempts a lower-priority one, then takes its place", async () => {
    await kubectl(["create", "priorityclass", "sched-e2e-high", "--value=1000"]);
    try {
      await kubectl(["create", "-f", "-"], nodeYaml("only", "1"));
      await kubectl(["create", "-f", "-"], podYaml("low", "800m"));
      await eventually("low bound", async () => ((await placement("low")).node === "only" ? true : undefined));
      await kubectl(["create", "-f", "-"], podYaml("high", "500m", "  priorityClassName: sched-e2e-high\n"));
      // the victim is deleted gracefully (no node agent finishes it) and the preemptor is nominated
      await eventually("low terminating", async () => {
        const ts = await kubectl(["get", "pod", "low", "-o", "jsonpath={.metadata.deletionTimestamp}"]);
        return ts !== "" ? true : undefined;
      });
      const cond = await kubectl([
        "get",
        "pod",
        "low",
        "-o",
        "jsonpath={.status.conditions[?(@.type=='DisruptionTarget')].reason}",
      ]);
      assert.equal(cond, "PreemptionByScheduler");
      const nominated = await eventually("nominated", async () => {
        const got = await placement("high");
        return got.nominated === "only" ? got : undefined;
      });
      assert.equal(nominated.node, "<none>");
      const uid = await kubectl(["get", "pod", "high", "-o", "jsonpath={.metadata.uid}"]);
      const lowEvents = await eventually("Preempted event", async () => {
        const out = await kubectl(["describe", "pod", "low"]);
        return out.includes("Preempted") ? out : undefined;
      });
      assert.match(
        lowEvents,
        new RegExp(`Normal\\s+Preempted\\s+\\S+\\s+default-scheduler\\s+Preempted by pod ${uid} on node only`),
      );
      // the victim is gone for good: the preemptor is bound
      await kubectl(["delete", "pod", "low", "--grace-period=0", "--force"]);
      const bound = await eventually("high bound", async () => {
        const got = await placement("high");
        return got.node === "only" ? got : undefined;
      });
      assert.equal(bound.node, "only");
    } finally {
      await cluster.kubectl(["delete", "priorityclass", "sched-e2e-high"]);
    }
  });
});
