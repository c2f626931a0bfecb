/**
 * Workload controllers across a server restart (SQLite store, embedded `sim` node): a Deployment
 * stopped in the middle of a rollout and a Job stopped in the middle of its completions converge
 * once the server is back, without a second ReplicaSet, an extra pod or a completion counted twice.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, until } from "./support.js";

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: roll
spec:
  replicas: 6
  selector:
    matchLabels: {app: roll}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: roll}
    spec:
      containers:
      - name: c
        image: nginx
`;

const job = `apiVersion: batch/v1
kind: Job
metadata:
  name: count
spec:
  completions: 20
  parallelism: 4
  template:
    metadata:
      annotations: {k8ts.io/sim-duration: 2s}
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
`;

describe("workloads across a server restart", { skip: kubectlSkip() }, () => {
  let c: TestCluster | undefined;
  after(async () => {
    await c?.stop();
  });

  const k = async (...args: string[]) => {
    const r = await c!.kubectl(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const ready = () =>
    until("the node Ready", async () => (/\sReady\s/.test(await k("get", "nodes", "--no-headers")) ? true : undefined));

  it("a rollout and a Job interrupted by a restart finish with no duplicates", { timeout: 180_000 }, async () => {
    c = await startCluster({ agent: "sim" });
    await ready();
    await c.kubectl(["create", "-f", "-"], { stdin: deployment });
    await k("rollout", "status", "deploy/roll", "--timeout=60s");
    await c.kubectl(["create", "-f", "-"], { stdin: job });
    await until("some completions", async () => {
      const n = Number(await k("get", "job", "count", "-o", "jsonpath={.status.succeeded}"));
      return n >= 4 ? true : undefined;
    });
    await k("set", "image", "deploy/roll", "c=nginx:1.25");
    // stopped as soon as the new ReplicaSet has started
    await until("the rollout under way", async () => {
      const out = await k("get", "rs", "-l", "app=roll", "--no-headers");
      return out.trim().split("\n").length === 2 ? true : undefined;
    });
    const dataDir = c.dataDir;
    await c.stop({ keepData: true });
    c = await startCluster({ agent: "sim", dataDir });
    await ready();
    assert.match(await k("rollout", "status", "deploy/roll", "--timeout=90s"), /successfully rolled out/);
    const sets = (await k("get", "rs", "-l", "app=roll", "--no-headers")).trim().split("\n");
    assert.equal(sets.length, 2, sets.join("\n"));
    assert.ok(
      sets.some((l) => /\s6\s+6\s+6\s+\d+/.test(l)) && sets.some((l) => /\s0\s+0\s+0\s+\d+/.test(l)),
      sets.join("\n"),
    );
    const images = (await k("get", "pods", "-l", "app=roll", "-o", "jsonpath={.items[*].spec.containers[0].image}"))
      .split(" ")
      .filter((s) => s !== "");
    assert.deepEqual(images, ["nginx:1.25", "nginx:1.25", "nginx:1.25", "nginx:1.25", "nginx:1.25", "nginx:1.25"]);
    await until(
      "the Job Complete",
      async () => (/\bComplete\b/.test(await k("get", "job", "count", "--no-headers")) ? true : undefined),
      90_000,
    );
    const status = JSON.parse(await k("get", "job", "count", "-o", "jsonpath={.status}")) as Record<string, unknown>;
    assert.equal(status["succeeded"], 20);
    // every pod that finished is counted once; those the restart cut short count as failures
    const pods = (await k("get", "pods", "-l", "job-name=count", "-o", "jsonpath={.items[*].status.phase}")).split(" ");
    assert.equal(pods.filter((p) => p === "Succeeded").length, 20, pods.join(" "));
    assert.equal(pods.length, 20 + Number(status["failed"] ?? 0), JSON.stringify(status));
  });
});
