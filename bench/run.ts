/**
 * `npm run bench`: cold start to /readyz, idle RSS, and API create/get/list/watch figures on
 * SQLite and etcd, each beside the raw store's own rate measured in the same run; then the
 * scheduler, pods, workloads and storage benches (K8TS_BENCH_SCHEDULER / _PODS / _WORKLOADS /
 * _STORAGE = 0 skip one).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientFor } from "../test/e2e/client.js";
import { etcdSkipReason, startEtcd } from "../test/store/etcd-process.js";
import { benchPods } from "./pods.js";
import { benchScheduler } from "./scheduler.js";
import { benchStorage } from "./storage.js";
import { benchStore } from "./store.js";
import { benchWorkloads } from "./workloads.js";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `op` with `concurrency` in flight for `ms`; returns ops/s and latency percentiles (ms). */
async function load(concurrency: number, ms: number, op: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let i = 0;
  const end = Date.now() + ms;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        await op(i++);
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  lat.sort((a, b) => a - b);
  return { perSec: Math.round(lat.length / seconds), p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

/** Starts `k8ts server` as its own process (so the load generator does not share its event loop). */
async function spawnServer(dataDir: string, extra: string[] = []) {
  const child = spawn(process.execPath, ["bin/k8ts.js", "server", "--data-dir", dataDir, "--port", "0", ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, K8TS_LOG: "error" },
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("export KUBECONFIG=")) resolve();
    });
    child.on("exit", () => reject(new Error("server exited")));
  });
  return {
    child,
    client: clientFor(join(dataDir, "kubeconfig.yaml")),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

async function coldStart(extra: string[]): Promise<{ readyMs: number; idleRssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-bench-cold-"));
  // the first start makes the certificates; measure the second, an ordinary restart
  await (await spawnServer(dir, extra)).stop();
  const t0 = Date.now();
  const server = await spawnServer(dir, extra);
  for (;;) {
    const r = await server.client.call("GET", "/readyz").catch(() => ({ code: 0 }));
    if (r.code === 200) break;
    await new Promise((r2) => setTimeout(r2, 5));
  }
  const readyMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 1500));
  const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  server.client.agent.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return { readyMs, idleRssMb: Math.round(rssKb / 1024) };
}

interface WrkFigures {
  perSec: number;
  p50: number;
  p99: number;
  errors: number;
}

/**
 * wrk (Debian's package), a C load generator, when installed: it leaves the CPU to the server,
 * where the node client above competes with it for the 2 cores. Authenticates with the token file.
 */
function wrk(url: string, token: string, script: string, seconds: number): WrkFigures | undefined {
  if (spawnSync("sh", ["-c", "command -v wrk"]).status !== 0) return undefined;
  const lua = join(mkdtempSync(join(tmpdir(), "k8ts-wrk-")), "s.lua");
  writeFileSync(lua, `wrk.headers["Authorization"] = "Bearer ${token}"\n${script}`);
  const r = spawnSync("wrk", ["-t1", "-c32", `-d${seconds}s`, "-s", lua, "--latency", url], { encoding: "utf8" });
  const ms = (label: string) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(r.stdout);
    if (!m) return 0;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  return {
    perSec: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? "0")),
    p50: ms("50"),
    p99: ms("99"),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? "0"),
  };
}

async function benchApi(backend: "sqlite" | "etcd", endpoints: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-bench-api-"));
  const server = await spawnServer(
    dir,
    backend === "etcd" ? ["--store", "etcd", "--etcd-endpoints", endpoints.join(",")] : [],
  );
  const c = server.client;
  const ns = `bench-${backend}`;
  await c.call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const listRv = () =>
    c
      .call("GET", `/api/v1/namespaces/${ns}/configmaps?limit=1`)
      .then((r) => (JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
  const cm = (name: string) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ns },
    data: { payload: "x".repeat(300) },
  });
  const concurrency = 32;
  const create = await load(concurrency, 2000, async (i) => {
    const r = await c.call("POST", `/api/v1/namespaces/${ns}/configmaps`, cm(`cm-${i}`));
    if (r.code !== 201) throw new Error(`create: ${r.code} ${r.body}`);
  });
  const get = await load(concurrency, 2000, async (i) => {
    const r = await c.call("GET", `/api/v1/namespaces/${ns}/configmaps/cm-${i % 500}`);
    if (r.code !== 200) throw new Error(`get: ${r.code}`);
  });
  const token = readFileSync(join(dir, "tokens.csv"), "utf8").split(",")[0] ?? "";
  const wrkCreate = wrk(
    `${c.base.origin}/api/v1/namespaces/${ns}/configmaps`,
    token,
    `wrk.headers["Content-Type"] = "application/json"
local n = 0
local prefix = ""
init = function(args) prefix = tostring(math.random(1, 1000000000)) end
request = function()
  n = n + 1
  local body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"wrk-' .. prefix .. '-' .. n .. '"},"data":{"payload":"${"x".repeat(300)}"}}'
  return wrk.format("POST", nil, nil, body)
end`,
    3,
  );
  const wrkGet = wrk(`${c.base.origin}/api/v1/namespaces/${ns}/configmaps/cm-1`, token, "", 3);
  // the transport's floor: an authenticated request the server answers without storage or JSON work
  const wrkFloor = wrk(`${c.base.origin}/version`, token, "", 3);
  const list = await load(4, 1500, async () => {
    const r = await c.call("GET", `/api/v1/namespaces/${ns}/configmaps?limit=500`);
    if (r.code !== 200) throw new Error(`list: ${r.code}`);
  });
  // watch delivery: 100 watchers; each write is stamped with its send time, and its acknowledgement
  // time is kept, so latency is reported from the request's start and from the API's answer
  const watchers = 100;
  const lat: number[] = [];
  const received: Array<{ name: string; at: number }> = [];
  const acked = new Map<string, number>();
  const reqs: Array<{ destroy(): void }> = [];
  // one connection per watch (HTTP/1.1), beside the pooled agent
  const watchAgent = new Agent({ ...c.agent.options, keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  let opened = 0;
  const watchFromRv = await listRv();
  await new Promise<void>((resolve) => {
    for (let w = 0; w < watchers; w++) {
      const req = request(
        {
          agent: watchAgent,
          host: c.base.hostname,
          port: c.base.port,
          path: `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${watchFromRv}&labelSelector=bench%3Dwatch`,
        },
        (res) => {
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => {
            const at = Date.now();
            buf += d;
            let nl = buf.indexOf("\n");
            while (nl >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              const ev = JSON.parse(line) as {
                object: { metadata: { name: string; annotations?: Record<string, string> } };
              };
              const sent = Number(ev.object.metadata.annotations?.["sent"] ?? "0");
              if (sent) {
                lat.push(at - sent);
                received.push({ name: ev.object.metadata.name, at });
              }
              nl = buf.indexOf("\n");
            }
          });
          if (++opened === watchers) resolve();
        },
      );
      req.end();
      reqs.push(req);
    }
  });
  for (let i = 0; i < 50; i++) {
    const obj = cm(`w-${i}`) as { metadata: Record<string, unknown> };
    obj.metadata["labels"] = { bench: "watch" };
    obj.metadata["annotations"] = { sent: String(Date.now()) };
    await c.call("POST", `/api/v1/namespaces/${ns}/configmaps`, obj);
    acked.set(`w-${i}`, Date.now());
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const r of reqs) r.destroy();
  watchAgent.destroy();
  lat.sort((a, b) => a - b);
  const afterAck = received.map((r) => Math.max(0, r.at - (acked.get(r.name) ?? r.at))).sort((a, b) => a - b);
  c.agent.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    create,
    get,
    wrkCreate,
    wrkGet,
    wrkFloor,
    list,
    watch: {
      watchers,
      events: lat.length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      ackP50: percentile(afterAck, 50),
      ackP99: percentile(afterAck, 99),
    },
  };
}

const fmt = (n: number) => n.toFixed(2);

async function main(): Promise<void> {
  const cold = await coldStart(["--disable-agent"]);
  console.log(
    `cold start to /readyz (control plane, --disable-agent): ${cold.readyMs} ms (target < 300 ms); idle RSS: ${cold.idleRssMb} MB (target < 100 MB)`,
  );
  const withNode = await coldStart([]);
  console.log(
    `cold start to /readyz with the embedded node (runtime auto; the node registers after): ${withNode.readyMs} ms; idle RSS: ${withNode.idleRssMb} MB`,
  );
  for (const backend of ["sqlite", "etcd"] as const) {
    let endpoints: string[] = [];
    let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
    if (backend === "etcd") {
      const skip = etcdSkipReason();
      if (skip) {
        console.log(`etcd: skipped (${skip})`);
        continue;
      }
      etcd = await startEtcd();
      endpoints = [etcd.endpoint];
    }
    const raw = await benchStore(backend, {
      concurrency: 32,
      etcdEndpoints: etcd ? endpoints : undefined,
      phaseMs: 1000,
    });
    const api = await benchApi(backend, endpoints);
    console.log(
      `\n[${backend}] raw store: create ${raw.createConcurrentPerSec}/s (32 in flight), ${raw.createSerialPerSec}/s one at a time; get ${raw.getSerialPerSec}/s serial`,
    );
    console.log(
      `[${backend}] API create: ${api.create.perSec}/s p50 ${fmt(api.create.p50)} ms p99 ${fmt(api.create.p99)} ms — ${((100 * api.create.perSec) / Math.max(1, raw.createConcurrentPerSec)).toFixed(0)}% of raw store create (target >= 50%)`,
    );
    if (api.wrkCreate && api.wrkGet) {
      console.log(
        `[${backend}] API with wrk (C client, 32 connections): create ${api.wrkCreate.perSec}/s p50 ${fmt(api.wrkCreate.p50)} ms p99 ${fmt(api.wrkCreate.p99)} ms (${api.wrkCreate.errors} errors) — ${((100 * api.wrkCreate.perSec) / Math.max(1, raw.createConcurrentPerSec)).toFixed(0)}% of raw store create with 32 in flight, ${((100 * api.wrkCreate.perSec) / Math.max(1, raw.createSerialPerSec)).toFixed(0)}% of one at a time; get ${api.wrkGet.perSec}/s p50 ${fmt(api.wrkGet.p50)} ms p99 ${fmt(api.wrkGet.p99)} ms`,
      );
      console.log(
        `[${backend}] HTTPS floor with wrk (authenticated GET /version, no storage): ${api.wrkFloor?.perSec ?? 0}/s — half the raw store's concurrent create rate is ${Math.round(raw.createConcurrentPerSec / 2)}/s`,
      );
    } else {
      console.log(`[${backend}] wrk not installed (apt-get install wrk): figures above come from the node client only`);
    }
    console.log(
      `[${backend}] API get: ${api.get.perSec}/s p50 ${fmt(api.get.p50)} ms p99 ${fmt(api.get.p99)} ms (target >= 10000/s)`,
    );
    console.log(
      `[${backend}] API list (500 items): ${api.list.perSec}/s p50 ${fmt(api.list.p50)} ms p99 ${fmt(api.list.p99)} ms`,
    );
    console.log(
      `[${backend}] watch delivery, ${api.watch.watchers} watchers: ${api.watch.events} events; from the write request's start p50 ${api.watch.p50} ms p99 ${api.watch.p99} ms, after its acknowledgement p50 ${api.watch.ackP50} ms p99 ${api.watch.ackP99} ms (target p99 < 10 ms)`,
    );
    await etcd?.stop();
  }
  if (process.env["K8TS_BENCH_SCHEDULER"] !== "0") await benchScheduler();
  if (process.env["K8TS_BENCH_PODS"] !== "0") await benchPods();
  if (process.env["K8TS_BENCH_WORKLOADS"] !== "0") await benchWorkloads();
  if (process.env["K8TS_BENCH_STORAGE"] !== "0") await benchStorage();
}

await main();
