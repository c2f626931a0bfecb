/**
 * The workload controllers at scale, against a `k8ts server --disable-agent` in its own process and
 * a fleet of simulated nodes (`k8ts agent --sim-nodes N`), the way a user would run them:
 *
 * 1. A Job of K8TS_BENCH_JOB_COMPLETIONS completions (10,000) with parallelism
 *    K8TS_BENCH_JOB_PARALLELISM (500), pods that "run" K8TS_BENCH_JOB_POD_SECONDS (1 s) each: the
 *    time from the create to the Complete condition, completions per minute (upstream KEP-2307's
 *    anchor: 5,000 pods/min at 100 QPS), and the server's CPU seconds meanwhile.
 * 2. K8TS_BENCH_CRONJOBS CronJobs (1,000) on `* * * * *`: each Job's start skew, from the minute it
 *    is scheduled for to the watch event showing it, p50/p99/max.
 * 3. A Deployment of K8TS_BENCH_DEPLOY_REPLICAS (1,000) replicas: the time until all are available,
 *    then a new image rolled out (25%/25%) until the rollout is complete, and the CPU meanwhile.
 *
 * K8TS_BENCH_WORKLOAD_NODES sets the fleet (100 nodes, 11,000 pod slots). Run directly:
 * `node dist/bench/workloads.js`; K8TS_BENCH_WORKLOADS=0 skips it in `npm run bench`.
 */
import type { KObject } from "../src/api/types.js";
import { type ResourceId, resources } from "../src/client/types.js";
import {
  cpuSecondsOf,
  envCount,
  inParallel,
  memoryOf,
  percentile,
  poll,
  runIfMain,
  type ServerProcess,
  secs,
  Tracker,
  withFleetCluster,
} from "./pods.js";

const JOBS: ResourceId = { group: "batch", version: "v1", plural: "jobs", namespaced: true };
const CRONJOBS: ResourceId = { group: "batch", version: "v1", plural: "cronjobs", namespaced: true };
const DEPLOYMENTS: ResourceId = { group: "apps", version: "v1", plural: "deployments", namespaced: true };
const NS = "default";

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : {});

function condition(obj: KObject, type: string): Rec | undefined {
  const conds = rec(obj["status"])["conditions"];
  return Array.isArray(conds) ? (conds.find((c) => rec(c)["type"] === type) as Rec | undefined) : undefined;
}

const podTemplate = (seconds: number | undefined, image = "busybox") => ({
  metadata: {
    labels: { bench: "workloads" },
    ...(seconds !== undefined ? { annotations: { "k8ts.io/sim-duration": `${seconds}s` } } : {}),
  },
  spec: {
    restartPolicy: seconds !== undefined ? "Never" : "Always",
    automountServiceAccountToken: false,
    containers: [{ name: "c", image, command: ["sh", "-c", "true"] }],
  },
});

/** apiserver_request_total summed by verb and resource[/subresource] (the HTTP clients': agents, the bench). */
async function requestCounts(server: ServerProcess): Promise<Map<string, number>> {
  const r = await server.client.raw("GET", "/metrics");
  const out = new Map<string, number>();
  for (const line of r.body.split("\n")) {
    const m = /^apiserver_request_total\{(.*)\} (\d+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const what = `${labels["verb"]} ${labels["resource"]}${labels["subresource"] ? `/${labels["subresource"]}` : ""}`;
    out.set(what, (out.get(what) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The requests made since `before`, per unit of work, largest first: "PATCH pods/status 3.0, ...". */
function perUnit(before: Map<string, number>, after: Map<string, number>, units: number, top = 5): string {
  return [...after]
    .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / units] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(", ");
}

async function benchJob(server: ServerProcess, completions: number, parallelism: number, podSeconds: number) {
  const client = server.client;
  let job: KObject | undefined;
  const watch = new Tracker(client, JOBS, { namespace: NS }, (ev) => {
    if (ev.object.metadata.name === "bench-job" && ev.type !== "DELETED") job = ev.object;
  });
  await watch.start();
  try {
    const requests0 = await requestCounts(server);
    const cpu0 = cpuSecondsOf(server.pid);
    const t0 = performance.now();
    await client.create(JOBS, NS, {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "bench-job" },
      spec: { completions, parallelism, backoffLimit: 10, template: podTemplate(podSeconds) },
    });
    await watch.until(
      () => (job ? condition(job, "Complete")?.["status"] === "True" || condition(job, "Failed") !== undefined : false),
      120_000 + 30 * completions,
      () => `the Job at ${JSON.stringify(rec(job?.["status"]))}`,
    );
    const ms = performance.now() - t0;
    const failed = job && condition(job, "Failed");
    if (failed) throw new Error(`the bench Job failed: ${failed["reason"]}: ${failed["message"]}`);
    const cpu = cpuSecondsOf(server.pid) - cpu0;
    const floor = (Math.ceil(completions / parallelism) * podSeconds * 1000) / 1000;
    console.log(
      `[workloads] Job ${completions} completions, parallelism ${parallelism}, pods of ${podSeconds} s: Complete after ${secs(ms)} ` +
        `(the pods' own floor ${floor.toFixed(0)} s) — ${Math.round(completions / (ms / 60_000))} pods/min (KEP-2307 anchor: 5,000/min); ` +
        `server CPU ${cpu.toFixed(1)} s (${((cpu / (ms / 1000)) * 100).toFixed(0)}% of a core), RSS ${memoryOf(server.pid).rssMb} MB`,
    );
    console.log(
      `[workloads] HTTP requests per completion (the node agent's and the bench's): ${perUnit(requests0, await requestCounts(server), completions)}`,
    );
  } finally {
    watch.stop();
  }
  // the Job and its pods go before the next part
  await client.delete(JOBS, NS, "bench-job", { propagationPolicy: "Background" });
  await poll("the Job's pods to go", 300_000, async () => {
    const l = await client.list(resources.pods, { namespace: NS, labelSelector: "bench=workloads" });
    return l.items.length === 0 ? true : undefined;
  });
}

async function benchCronJobs(server: ServerProcess, n: number) {
  const client = server.client;
  const seen = new Map<string, number>();
  const watch = new Tracker(client, JOBS, { namespace: NS }, (ev) => {
    const name = ev.object.metadata.name ?? "";
    if (ev.type === "ADDED" && name.startsWith("cron-") && !seen.has(name)) seen.set(name, Date.now());
  });
  await watch.start();
  try {
    // made well before a minute boundary, so each fires first at the next one
    if (Date.now() % 60_000 > 30_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 500));
    const names = Array.from({ length: n }, (_, i) => `cron-${i}`);
    await inParallel(names, 32, async (name) => {
      await client.create(CRONJOBS, NS, {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name },
        spec: {
          schedule: "* * * * *",
          successfulJobsHistoryLimit: 1,
          jobTemplate: { spec: { template: podTemplate(1) } },
        },
      });
    });
    const boundary = Math.ceil(Date.now() / 60_000) * 60_000;
    const cpu0 = cpuSecondsOf(server.pid);
    await watch.until(
      () => [...seen.keys()].filter((k) => k.endsWith(`-${boundary / 60_000}`)).length >= n,
      boundary - Date.now() + 60_000,
      () => `${[...seen.keys()].filter((k) => k.endsWith(`-${boundary / 60_000}`)).length} of ${n} Jobs for the minute`,
    );
    const skews = [...seen.entries()]
      .filter(([k]) => k.endsWith(`-${boundary / 60_000}`))
      .map(([, t]) => t - boundary)
      .sort((a, b) => a - b);
    const cpu = cpuSecondsOf(server.pid) - cpu0;
    console.log(
      `[workloads] ${n} CronJobs on "* * * * *": Job start skew after the minute p50 ${Math.round(percentile(skews, 50))} ms, ` +
        `p99 ${Math.round(percentile(skews, 99))} ms, max ${Math.round(skews.at(-1) ?? 0)} ms; server CPU ${cpu.toFixed(1)} s over the minute`,
    );
    await inParallel(names, 32, async (name) => {
      await client.delete(CRONJOBS, NS, name, { propagationPolicy: "Background" });
    });
  } finally {
    watch.stop();
  }
  await poll("the CronJobs' Jobs and pods to go", 300_000, async () => {
    const jobs = await client.list(JOBS, { namespace: NS });
    const pods = await client.list(resources.pods, { namespace: NS, labelSelector: "bench=workloads" });
    return jobs.items.length === 0 && pods.items.length === 0 ? true : undefined;
  });
}

async function benchDeployment(server: ServerProcess, replicas: number) {
  const client = server.client;
  let d: KObject | undefined;
  const watch = new Tracker(client, DEPLOYMENTS, { namespace: NS }, (ev) => {
    if (ev.type !== "DELETED") d = ev.object;
  });
  await watch.start();
  const done = (image: string) => () => {
    if (!d) return false;
    const s = rec(d["status"]);
    const c = rec(rec(d["spec"])["template"]);
    const img = rec((rec(c["spec"])["containers"] as unknown[] | undefined)?.[0])["image"];
    return (
      img === image &&
      s["observedGeneration"] === d.metadata.generation &&
      s["updatedReplicas"] === replicas &&
      s["availableReplicas"] === replicas &&
      s["replicas"] === replicas &&
      condition(d, "Progressing")?.["reason"] === "NewReplicaSetAvailable"
    );
  };
  const describe = () => `the Deployment at ${JSON.stringify({ ...rec(d?.["status"]), conditions: undefined })}`;
  try {
    let cpu0 = cpuSecondsOf(server.pid);
    let t0 = performance.now();
    await client.create(DEPLOYMENTS, NS, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "bench-deploy" },
      spec: {
        replicas,
        selector: { matchLabels: { bench: "workloads" } },
        template: podTemplate(undefined, "nginx"),
      },
    });
    await watch.until(done("nginx"), 120_000 + 100 * replicas, describe);
    const upMs = performance.now() - t0;
    const upCpu = cpuSecondsOf(server.pid) - cpu0;
    cpu0 = cpuSecondsOf(server.pid);
    t0 = performance.now();
    await client.patch(DEPLOYMENTS, NS, "bench-deploy", "strategic", {
      spec: { template: { spec: { containers: [{ name: "c", image: "nginx:1.25" }] } } },
    });
    await watch.until(done("nginx:1.25"), 120_000 + 200 * replicas, describe);
    const rollMs = performance.now() - t0;
    const rollCpu = cpuSecondsOf(server.pid) - cpu0;
    console.log(
      `[workloads] Deployment of ${replicas}: all available after ${secs(upMs)} (server CPU ${upCpu.toFixed(1)} s); ` +
        `a new image rolled out (25% surge, 25% unavailable) in ${secs(rollMs)} — ${Math.round(replicas / (rollMs / 60_000))} pods replaced/min; ` +
        `server CPU ${rollCpu.toFixed(1)} s, RSS ${memoryOf(server.pid).rssMb} MB`,
    );
  } finally {
    watch.stop();
  }
  await client.delete(DEPLOYMENTS, NS, "bench-deploy", { propagationPolicy: "Background" });
}

export async function benchWorkloads(): Promise<void> {
  const nodes = envCount("K8TS_BENCH_WORKLOAD_NODES", 100);
  const completions = envCount("K8TS_BENCH_JOB_COMPLETIONS", 10_000);
  const parallelism = envCount("K8TS_BENCH_JOB_PARALLELISM", 500);
  const podSeconds = envCount("K8TS_BENCH_JOB_POD_SECONDS", 1);
  const cronjobs = envCount("K8TS_BENCH_CRONJOBS", 1000);
  const replicas = envCount("K8TS_BENCH_DEPLOY_REPLICAS", 1000);
  await withFleetCluster("workloads", "wl", nodes, async (server) => {
    await poll(`the "${NS}" service account`, 30_000, () =>
      server.client.get(resources.serviceaccounts, NS, "default").then(() => true),
    );
    if (completions > 0) await benchJob(server, completions, Math.max(1, parallelism), podSeconds);
    if (cronjobs > 0) await benchCronJobs(server, cronjobs);
    if (replicas > 0) await benchDeployment(server, replicas);
  });
}

await runIfMain(import.meta.url, "workloads", () => benchWorkloads());
