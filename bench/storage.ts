/**
 * Persistent storage at scale, against a `k8ts server --disable-agent` in its own process and a
 * fleet of simulated nodes (`k8ts agent --sim-nodes N`, each offering k8ts.io/local-path storage):
 *
 * 1. K8TS_BENCH_PVCS claims (1,000) of the default class `standard` (k8ts.io/local-path,
 *    Immediate), 50 created at a time: each claim's time from its create to the watch event that
 *    shows it Bound (p50/p99), the time until all are Bound, and the server's CPU meanwhile.
 * 2. Binding among many Available volumes: K8TS_BENCH_STATIC_PVS static volumes (10,000) of a
 *    class no provisioner serves, then claims made one after another, each timed from create to
 *    Bound — beside the same claims made when only a tenth as many volumes exist, measured in the
 *    same run (a binder that scans every volume per claim shows the ratio; ours should not).
 *
 * K8TS_BENCH_STORAGE_NODES sets the fleet (20 nodes). Run directly: `node dist/bench/storage.js`;
 * K8TS_BENCH_STORAGE=0 skips it in `npm run bench`.
 */
import type { KObject } from "../src/api/types.js";
import type { ResourceId } from "../src/client/types.js";
import {
  cpuSecondsOf,
  envCount,
  inParallel,
  percentile,
  poll,
  runIfMain,
  type ServerProcess,
  secs,
  Tracker,
  withFleetCluster,
} from "./pods.js";

const PVCS: ResourceId = { group: "", version: "v1", plural: "persistentvolumeclaims", namespaced: true };
const PVS: ResourceId = { group: "", version: "v1", plural: "persistentvolumes", namespaced: false };
const NS = "default";

const phase = (o: KObject) => (o["status"] as { phase?: string } | undefined)?.phase;

function claim(name: string, cls: string, size: string): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: NS, labels: { bench: "storage" } },
    spec: { storageClassName: cls, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } },
  };
}

/** Claims created `width` at a time; each one's create-to-Bound time, from a watch. */
async function timeClaims(server: ServerProcess, names: string[], make: (n: string) => KObject, width: number) {
  const created = new Map<string, number>();
  const bound = new Map<string, number>();
  const watch = new Tracker(server.client, PVCS, { namespace: NS, labelSelector: "bench=storage" }, (ev) => {
    const n = ev.object.metadata.name ?? "";
    if (ev.type !== "DELETED" && phase(ev.object) === "Bound" && !bound.has(n)) bound.set(n, Date.now());
  });
  await watch.start();
  try {
    const t0 = Date.now();
    await inParallel(names, width, async (n) => {
      created.set(n, Date.now());
      await server.client.create(PVCS, NS, make(n));
      if (width === 1) await poll(`${n} Bound`, 60_000, async () => (bound.has(n) ? true : undefined));
    });
    await poll(`${names.length} claims Bound`, 120_000 + names.length * 200, async () =>
      names.every((n) => bound.has(n)) ? true : undefined,
    );
    const lat = names.map((n) => bound.get(n)! - created.get(n)!).sort((a, b) => a - b);
    return { totalMs: Date.now() - t0, p50: percentile(lat, 50), p99: percentile(lat, 99) };
  } finally {
    watch.stop();
  }
}

async function deleteClaims(server: ServerProcess): Promise<void> {
  const l = await server.client.list(PVCS, { namespace: NS, labelSelector: "bench=storage" });
  await inParallel(l.items, 50, (c) => server.client.delete(PVCS, NS, c.metadata.name ?? "").then(() => undefined));
}

async function benchProvisioning(server: ServerProcess, n: number): Promise<void> {
  const cpu0 = cpuSecondsOf(server.pid);
  const names = Array.from({ length: n }, (_, i) => `dyn-${i}`);
  const r = await timeClaims(server, names, (name) => claim(name, "standard", "1Gi"), 50);
  const cpu = cpuSecondsOf(server.pid) - cpu0;
  console.log(
    `[storage] ${n} claims of class standard (k8ts.io/local-path), 50 in flight: all Bound after ${secs(r.totalMs)} ` +
      `(${Math.round((n / r.totalMs) * 60_000)}/min); per claim create→Bound p50 ${Math.round(r.p50)} ms, p99 ${Math.round(r.p99)} ms; ` +
      `server CPU ${cpu.toFixed(1)} s`,
  );
  await deleteClaims(server);
}

function staticVolume(i: number): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `static-${String(i).padStart(5, "0")}`, labels: { bench: "storage" } },
    spec: {
      storageClassName: "bench-static",
      capacity: { storage: `${1 + (i % 100)}Gi` },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      hostPath: { path: `/tmp/k8ts-bench-static/${i}` },
    },
  };
}

async function addVolumes(server: ServerProcess, from: number, to: number): Promise<void> {
  const available = new Set<string>();
  const watch = new Tracker(server.client, PVS, { labelSelector: "bench=storage" }, (ev) => {
    const n = ev.object.metadata.name ?? "";
    if (ev.type !== "DELETED" && phase(ev.object) === "Available") available.add(n);
    else available.delete(n);
  });
  await watch.start();
  try {
    const idx = Array.from({ length: to - from }, (_, i) => from + i);
    await inParallel(idx, 50, (i) => server.client.create(PVS, undefined, staticVolume(i)).then(() => undefined));
    const want = idx.map((i) => staticVolume(i).metadata.name ?? "");
    await poll(`${to - from} new volumes Available`, 300_000, async () =>
      want.every((n) => available.has(n)) ? true : undefined,
    );
  } finally {
    watch.stop();
  }
}

async function benchStaticBinding(server: ServerProcess, volumes: number, claims: number): Promise<void> {
  const small = Math.max(1, Math.floor(volumes / 10));
  // the claims ask 50Gi: as many as the smaller set has volumes of that size or more (sizes cycle 1..100Gi)
  const fitting = Array.from({ length: small }, (_, i) => 1 + (i % 100)).filter((gi) => gi >= 50).length;
  claims = Math.max(1, Math.min(claims, fitting));
  await addVolumes(server, 0, small);
  // the largest size class: the claims look at the volumes of their size and up
  const few = await timeClaims(
    server,
    Array.from({ length: claims }, (_, i) => `few-${i}`),
    (n) => claim(n, "bench-static", "50Gi"),
    1,
  );
  await addVolumes(server, small, volumes);
  const many = await timeClaims(
    server,
    Array.from({ length: claims }, (_, i) => `many-${i}`),
    (n) => claim(n, "bench-static", "50Gi"),
    1,
  );
  console.log(
    `[storage] binding one claim at a time among Available volumes: with ${small} volumes p50 ${Math.round(few.p50)} ms, ` +
      `p99 ${Math.round(few.p99)} ms; with ${volumes} p50 ${Math.round(many.p50)} ms, p99 ${Math.round(many.p99)} ms ` +
      `(ratio p50 ${(many.p50 / Math.max(1, few.p50)).toFixed(2)}×)`,
  );
}

export async function benchStorage(): Promise<void> {
  const nodes = envCount("K8TS_BENCH_STORAGE_NODES", 20);
  const pvcs = envCount("K8TS_BENCH_PVCS", 1000);
  const staticPvs = envCount("K8TS_BENCH_STATIC_PVS", 10_000);
  await withFleetCluster("storage", "st", nodes, async (server) => {
    if (pvcs > 0) await benchProvisioning(server, pvcs);
    if (staticPvs > 0) await benchStaticBinding(server, staticPvs, 100);
  });
}

await runIfMain(import.meta.url, "storage", () => benchStorage());
