/**
 * Scheduler throughput: an in-process server on the memory store, N Nodes and 10,000 pending pods
 * created through the registry, then the time from the scheduler's start until every pod is bound
 * (counted from the pod watch), as pods/s, with the process RSS. Run directly:
 * `node dist/bench/scheduler.js [nodes...]` (default 1000 5000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { KObject } from "../src/api/types.js";
import { startServer } from "../src/cli/server.js";
import { LocalClient } from "../src/controllers/client.js";
import { Scheduler } from "../src/scheduler/index.js";

export interface SchedulerBenchFigures {
  nodes: number;
  pods: number;
  seconds: number;
  podsPerSec: number;
  /** CPU time the process spent meanwhile (the machine may be shared: wall time includes waiting). */
  cpuSeconds: number;
  rssMb: number;
  eventsDropped: number;
}

function node(name: string): KObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": `zone-${name.length % 3}` },
    },
    spec: {},
    status: {
      capacity: { cpu: "32", memory: "128Gi", pods: "110", "ephemeral-storage": "100Gi" },
      allocatable: { cpu: "32", memory: "128Gi", pods: "110", "ephemeral-storage": "100Gi" },
    },
  };
}

function pod(name: string): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "bench" } },
    spec: {
      containers: [
        { name: "c", image: "registry.k8s.io/pause:3.9", resources: { requests: { cpu: "100m", memory: "128Mi" } } },
      ],
    },
  };
}

/** One run: `nodes` Nodes, `pods` pods, scheduler started once everything exists. */
export async function runSchedulerBench(nodes: number, pods: number): Promise<SchedulerBenchFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-bench-sched-"));
  const prevLog = process.env["K8TS_LOG"];
  process.env["K8TS_LOG"] = "error";
  const server = await startServer({
    dataDir,
    port: 0,
    bind: "127.0.0.1",
    storeBackend: "memory",
    etcdEndpoints: [],
    // the bench starts the Scheduler it times
    scheduler: false,
  });
  const client = new LocalClient(server.api.catalog, server.api.registry);
  const nodesSv = client.resource("", "v1", "nodes");
  const podsSv = client.resource("", "v1", "pods");
  const batch = async (n: number, make: (i: number) => Promise<void>) => {
    for (let i = 0; i < n; i += 200) {
      await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) => make(i + j)));
    }
  };
  await batch(nodes, (i) => client.ensure(nodesSv, node(`node-${i}`)));
  await batch(pods, (i) => client.ensure(podsSv, pod(`pod-${i}`)));
  let bound = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const seen = new Set<string>();
  const watch = client.informer(podsSv, (obj) => {
    const spec = obj["spec"] as { nodeName?: string } | undefined;
    const name = obj.metadata.name ?? "";
    if (spec?.nodeName && !seen.has(name)) {
      seen.add(name);
      if (++bound === pods) resolveDone();
    }
  });
  const scheduler = new Scheduler(client);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  scheduler.start();
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  const eventsDropped = scheduler.stats().eventsDropped;
  await scheduler.eventsFlushed();
  scheduler.stop();
  watch.stop();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  if (prevLog === undefined) delete process.env["K8TS_LOG"];
  else process.env["K8TS_LOG"] = prevLog;
  return { nodes, pods, seconds, podsPerSec: Math.round(pods / seconds), cpuSeconds, rssMb, eventsDropped };
}

export async function benchScheduler(nodeCounts: number[] = [1000, 5000], pods = 10_000): Promise<void> {
  for (const n of nodeCounts) {
    const f = await runSchedulerBench(n, pods);
    console.log(
      `[scheduler] ${f.nodes} nodes, ${f.pods} pods: all bound in ${f.seconds.toFixed(2)} s — ${f.podsPerSec} pods/s (target >= 1000 at 5000 nodes); CPU ${f.cpuSeconds.toFixed(2)} s (${Math.round(f.pods / f.cpuSeconds)} pods per CPU-second); RSS ${f.rssMb} MB; events dropped ${f.eventsDropped}`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const counts = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  await benchScheduler(counts.length > 0 ? counts : undefined);
}
