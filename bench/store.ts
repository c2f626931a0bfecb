import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openStore, type Store, type StoreBackend } from "../src/store/index.js";
import { type EtcdProcess, etcdSkipReason, startEtcd } from "../test/store/etcd-process.js";

export interface StoreBenchFigures {
  backend: StoreBackend;
  /** Creates per second, one at a time (each awaited before the next). */
  createSerialPerSec: number;
  /** Creates per second with `concurrency` writes in flight (sqlite batches these into one transaction). */
  createConcurrentPerSec: number;
  /** Guarded updates per second, `concurrency` in flight (distinct keys). */
  updateConcurrentPerSec: number;
  /** Point reads per second, one at a time. */
  getSerialPerSec: number;
  /** Writes per second seen by a watcher on the prefix (events delivered / time), concurrent writers. */
  watchEventsPerSec: number;
  concurrency: number;
  /** Skipped backends (etcd missing) say why. */
  skipped?: string;
}

export interface StoreBenchOptions {
  /** Time spent per measurement, ms. Default 500. */
  phaseMs?: number;
  /** Writes in flight for the concurrent phases. Default 64. */
  concurrency?: number;
  /** etcd: use this cluster instead of starting a throwaway one from /usr/bin/etcd. */
  etcdEndpoints?: string[];
}

const VALUE = JSON.stringify({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "bench", namespace: "default", uid: "00000000-0000-0000-0000-000000000000" },
  data: { payload: "x".repeat(300) },
});

/** Measures the raw store rates of one backend (a few seconds at most). */
export async function benchStore(backend: StoreBackend, opts: StoreBenchOptions = {}): Promise<StoreBenchFigures> {
  const phaseMs = opts.phaseMs ?? 500;
  const concurrency = opts.concurrency ?? 64;
  let etcd: EtcdProcess | undefined;
  let dir: string | undefined;
  let store: Store;
  if (backend === "etcd" && opts.etcdEndpoints === undefined) {
    const skip = etcdSkipReason();
    if (skip !== undefined) return zero(backend, concurrency, skip);
    etcd = await startEtcd();
  }
  if (backend === "sqlite") dir = mkdtempSync(join(tmpdir(), "k8ts-bench-store-"));
  try {
    store = await openStore({
      backend,
      dataDir: dir,
      etcdEndpoints: opts.etcdEndpoints ?? (etcd ? [etcd.endpoint] : undefined),
      etcdPrefix: `/bench-${process.pid}-${Date.now()}`,
    });
    try {
      return await measure(store, backend, phaseMs, concurrency);
    } finally {
      await store.close();
    }
  } finally {
    await etcd?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(
  store: Store,
  backend: StoreBackend,
  phaseMs: number,
  concurrency: number,
): Promise<StoreBenchFigures> {
  let seq = 0;
  const revs = new Map<string, number>();

  const createSerialPerSec = await rate(phaseMs, 1, async () => {
    const key = `/bench/s/${seq++}`;
    revs.set(key, await store.create(key, VALUE));
  });
  const createConcurrentPerSec = await rate(phaseMs, concurrency, async () => {
    const key = `/bench/c/${seq++}`;
    revs.set(key, await store.create(key, VALUE));
  });
  const keys = [...revs.keys()];
  let next = 0;
  const inFlight = new Set<string>();
  const updateConcurrentPerSec = await rate(phaseMs, concurrency, async () => {
    let key = keys[next++ % keys.length]!;
    while (inFlight.has(key)) key = keys[next++ % keys.length]!;
    inFlight.add(key);
    revs.set(key, await store.update(key, VALUE, revs.get(key)!));
    inFlight.delete(key);
  });
  const getSerialPerSec = await rate(phaseMs, 1, async () => {
    await store.get(keys[next++ % keys.length]!);
  });

  let delivered = 0;
  const watch = store.watch("/bench/w/", { onEvents: (b) => (delivered += b.length), onError: () => {} });
  await new Promise((r) => setTimeout(r, 100));
  const started = performance.now();
  let written = 0;
  await rate(phaseMs, concurrency, async () => {
    await store.create(`/bench/w/${seq++}`, VALUE);
    written++;
  });
  const deadline = Date.now() + 10_000;
  while (delivered < written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const watchEventsPerSec = delivered / ((performance.now() - started) / 1000);
  watch.cancel();

  return {
    backend,
    createSerialPerSec,
    createConcurrentPerSec,
    updateConcurrentPerSec,
    getSerialPerSec,
    watchEventsPerSec,
    concurrency,
  };
}

/** Runs `op` from `workers` loops for `ms` milliseconds; returns completed ops per second. */
async function rate(ms: number, workers: number, op: () => Promise<void>): Promise<number> {
  const start = performance.now();
  const end = start + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        await op();
        done++;
        // Yield to timers and I/O now and then, as request handling would.
        if (done % 64 === 0) await new Promise((r) => setImmediate(r));
      }
    }),
  );
  return Math.round(done / ((performance.now() - start) / 1000));
}

function zero(backend: StoreBackend, concurrency: number, skipped: string): StoreBenchFigures {
  return {
    backend,
    createSerialPerSec: 0,
    createConcurrentPerSec: 0,
    updateConcurrentPerSec: 0,
    getSerialPerSec: 0,
    watchEventsPerSec: 0,
    concurrency,
    skipped,
  };
}

// `node <out>/bench/store.js [backend...]` prints the figures.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const wanted = process.argv.slice(2) as StoreBackend[];
  for (const b of wanted.length > 0 ? wanted : (["memory", "sqlite", "etcd"] as const)) {
    console.log(JSON.stringify(await benchStore(b)));
  }
}
