/**
 * Pod startup latency and the server's memory under a simulated fleet, each measured against a
 * `k8ts server` in its own process, the way a user runs it.
 *
 * 1. Startup latency per runtime (runc, process, sim): a watch on pods is opened first, then pods
 *    are created one at a time (each after the previous one is Running), then at a steady rate
 *    (K8TS_BENCH_RATE pods/s, the way upstream's density tests measure startup), then all at once; a
 *    pod's latency is the time from the start of its create request to the watch event showing
 *    `status.phase == "Running"`. The pods are small (`sh -c "sleep 3600"`) and keep the default
 *    service account volume, as users' pods do. They are deleted through the API afterwards and
 *    the bench checks that none of their processes outlive them.
 * 2. A control plane (`--disable-agent`), `k8ts token create`, and `k8ts agent --sim-nodes N` as a
 *    separate process: the time until every simulated node is Ready, both processes' RSS, then M
 *    pods scheduled onto the fleet and run by it: the time until all are Running, as pods/s.
 *
 * Run directly: `node dist/bench/pods.js`. Environment (defaults are the issue's numbers):
 *   K8TS_BENCH_RUNTIMES     runtimes for part 1, comma-separated (runc,process,sim; "" skips part 1)
 *   K8TS_BENCH_PODS         pods per startup mode (100)
 *   K8TS_BENCH_RATE         pods/s of the steady-rate startup mode (10)
 *   K8TS_BENCH_SIM_NODES    simulated nodes (5000; 0 skips part 2)
 *   K8TS_BENCH_FLEET_PODS   pods run on the fleet (10000)
 *   K8TS_BENCH_CPU_PROF     a directory: the server (and the fleet agent) run with --cpu-prof, and
 *                           each profile's hottest functions are printed after the process stops
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "yaml";
import { isRecord, type KObject } from "../src/api/types.js";
import { HttpsClient } from "../src/client/https.js";
import { type ApiClient, type ResourceId, resources, type WatchEvent, type WatchHandle } from "../src/client/types.js";
import { runcAvailability } from "../src/kubelet/runtime/runc/availability.js";
import { removeUnmounted } from "../src/kubelet/runtime/runc/rootfs.js";

export type BenchRuntime = "runc" | "process" | "sim";

export interface PodsBenchOptions {
  /** Runtimes whose startup latency is measured (default runc, process, sim; runc is skipped, saying why, where it cannot run). */
  runtimes: BenchRuntime[];
  /** Pods per startup mode (default 100). */
  pods: number;
  /** Pods/s of the steady-rate startup mode (default 10). */
  rate: number;
  /** Simulated nodes in the fleet run (default 5000; 0 skips it). */
  simNodes: number;
  /** Pods run on the fleet (default 10000; 0: nodes and memory only). */
  fleetPods: number;
  /** Where CPU profiles go; unset: no profiling. */
  cpuProfDir?: string;
}

/** Startup targets from the issue (p99, ms). */
const STARTUP_TARGET_MS: Record<BenchRuntime, number | undefined> = { runc: 1000, process: 200, sim: undefined };

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const K8TS_BIN = join(REPO_ROOT, "bin", "k8ts.js");
const NAMESPACE = "default";
/** Creates in flight while the fleet's pods are made (the burst mode of part 1 sends all at once). */
const FLEET_CREATE_WIDTH = 64;
/** How long the joined fleet's CPU use at rest (leases and node status only) is measured. */
const REST_WINDOW_MS = 10_000;

function count(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not "${v}"`);
  return n;
}

/** The options as the environment sets them (see the file's comment). */
export function optionsFromEnv(): PodsBenchOptions {
  const rt = process.env["K8TS_BENCH_RUNTIMES"];
  const runtimes = (rt ?? "runc,process,sim")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const r of runtimes) {
    if (r !== "runc" && r !== "process" && r !== "sim") {
      throw new Error(`K8TS_BENCH_RUNTIMES: "${r}" is not a runtime (runc, process or sim)`);
    }
  }
  return {
    runtimes: runtimes as BenchRuntime[],
    pods: count("K8TS_BENCH_PODS", 100),
    rate: count("K8TS_BENCH_RATE", 10),
    simNodes: count("K8TS_BENCH_SIM_NODES", 5000),
    fleetPods: count("K8TS_BENCH_FLEET_PODS", 10_000),
    cpuProfDir: process.env["K8TS_BENCH_CPU_PROF"] || undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// figures

/** Nearest-rank percentile of ascending `sorted` (p99 of 100 samples is the 99th, not the maximum). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

function summary(values: number[]): { p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
}

const ms = (v: number) => `${Math.round(v)} ms`;
export const secs = (v: number) => `${(v / 1000).toFixed(2)} s`;

/** RSS and its peak (MB) of a live process, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? "0");
  return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
}

/** CPU time (s) a live process has used, from /proc/<pid>/stat (user + system). */
/** The machine's busy and total CPU time so far (all cores, /proc/stat), seconds. */
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // fields after the command name, which is in parentheses and may hold spaces
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ---------------------------------------------------------------------------------------------
// child processes: every one is owned and stopped, on failure too

const TAIL_BYTES = 8192;
/** Lines of a child's stderr shown as they come; the rest are counted (an overloaded server can log thousands). */
const STDERR_LINES_SHOWN = 10;

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The last output (stdout and stderr), for messages. */
  tail(): string;
  /** Resolves with the first match of `re` on stdout; rejects when the process exits first or time runs out. */
  waitForOutput(re: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray>;
}

export class Children {
  private readonly live = new Set<ChildProcess>();
  /** Those being stopped on purpose: any other exit is reported as it happens. */
  private readonly stopping = new WeakSet<ChildProcess>();
  private readonly killAll = (): void => {
    for (const c of this.live) c.kill("SIGKILL");
  };

  constructor() {
    // last resort when the bench itself dies: nothing it started outlives it
    process.on("exit", this.killAll);
  }

  /** Starts `node [nodeFlags] bin/k8ts.js args`; `oneShot`: a command expected to exit by itself. */
  spawn(label: string, args: string[], opts: { nodeFlags?: string[]; oneShot?: boolean } = {}): Child {
    const proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), K8TS_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, K8TS_LOG: "error" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (proc.pid === undefined) throw new Error(`${label}: could not start ${process.execPath} ${K8TS_BIN}`);
    this.live.add(proc);
    let out = "";
    let tail = "";
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-TAIL_BYTES);
    };
    proc.stdout?.on("data", (d: Buffer) => {
      out = (out + d.toString()).slice(-TAIL_BYTES);
      keep(d);
    });
    let shown = 0;
    let hidden = 0;
    proc.stderr?.on("data", (d: Buffer) => {
      keep(d);
      // a long-running process's complaints show as they happen; a command's only when it fails
      if (opts.oneShot) return;
      for (const line of d.toString().split("\n")) {
        if (line === "") continue;
        if (shown < STDERR_LINES_SHOWN) {
          shown++;
          process.stderr.write(`[${label}] ${line.slice(0, 300)}\n`);
        } else hidden++;
      }
    });
    proc.on("error", (err) => console.error(`[${label}] ${err.message}`));
    proc.once("close", () => {
      if (hidden > 0) process.stderr.write(`[${label}] ... and ${hidden} more lines on stderr\n`);
    });
    proc.once("exit", (code, signal) => {
      this.live.delete(proc);
      if (this.stopping.has(proc) || (opts.oneShot && code === 0)) return;
      console.error(`[${label}] exited unexpectedly (${signal ?? `code ${code}`}): ${tail.trim().slice(-2000)}`);
    });
    const pid = proc.pid;
    return {
      proc,
      pid,
      tail: () => tail.trim(),
      waitForOutput: (re, timeoutMs, what) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const m = re.exec(out);
            if (m) {
              done();
              resolve(m);
            }
          };
          const exited = (code: number | null, signal: string | null) => {
            done();
            reject(new Error(`${label} exited (${signal ?? `code ${code}`}) before ${what}: ${tail.trim()}`));
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`${label}: no ${what} within ${secs(timeoutMs)}: ${tail.trim()}`));
          }, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            proc.stdout?.off("data", check);
            proc.off("exit", exited);
          };
          proc.stdout?.on("data", check);
          proc.once("exit", exited);
          check();
        }),
    };
  }

  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
  async stop(c: Child, graceMs = 30_000): Promise<void> {
    const p = c.proc;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    this.stopping.add(p);
    p.kill("SIGTERM");
    const timer = setTimeout(() => p.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.live].map(async (p) => {
        const exited = new Promise<void>((r) => p.once("exit", () => r()));
        this.stopping.add(p);
        p.kill("SIGTERM");
        const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  dispose(): void {
    process.off("exit", this.killAll);
  }
}

// ---------------------------------------------------------------------------------------------
// the server process and its admin client

export interface ServerProcess extends Child {
  url: string;
  client: HttpsClient;
}

/** The admin client `k8ts server` wrote into its kubeconfig (client certificate, cluster CA). */
function adminClient(kubeconfigPath: string): HttpsClient {
  const kc: unknown = parse(readFileSync(kubeconfigPath, "utf8"));
  const first = (key: string, inner: string): Record<string, unknown> => {
    const list = isRecord(kc) && Array.isArray(kc[key]) ? (kc[key] as unknown[]) : [];
    const item = list.find(isRecord);
    return item && isRecord(item[inner]) ? item[inner] : {};
  };
  const cluster = first("clusters", "cluster");
  const user = first("users", "user");
  const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : "", "base64").toString("utf8");
  const server = cluster["server"];
  if (typeof server !== "string") throw new Error(`${kubeconfigPath}: no cluster server`);
  return new HttpsClient({
    server,
    ca: b64(cluster["certificate-authority-data"]),
    cert: b64(user["client-certificate-data"]),
    key: b64(user["client-key-data"]),
    userAgent: "k8ts-bench",
  });
}

export async function startServerProcess(
  kids: Children,
  dataDir: string,
  flags: string[],
  profDir: string | undefined,
): Promise<ServerProcess> {
  const child = kids.spawn("server", ["server", "--data-dir", dataDir, "--port", "0", ...flags], {
    nodeFlags: profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : [],
  });
  const m = await child.waitForOutput(
    /k8ts is serving at (\S+)\nexport KUBECONFIG=(\S+)\n/,
    60_000,
    "URL and KUBECONFIG on stdout",
  );
  return { ...child, url: m[1]!, client: adminClient(m[2]!) };
}

// ---------------------------------------------------------------------------------------------
// watching: one stream per resource, resumed after a close, with waits on what it has seen

interface Wait {
  ready: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A watch that calls `onEvent` for every change and lets callers wait until a condition holds. */
export class Tracker {
  private handle: WatchHandle | undefined;
  private rv = "";
  private stopped = false;
  private failure: Error | undefined;
  private readonly waits = new Set<Wait>();

  constructor(
    private readonly client: ApiClient,
    private readonly resource: ResourceId,
    private readonly opts: { namespace?: string; labelSelector?: string },
    private readonly onEvent: (ev: WatchEvent, at: number) => void,
  ) {}

  /** Lists for the current revision, then watches from it, so no later change is missed. */
  async start(): Promise<void> {
    const l = await this.client.list(this.resource, this.opts);
    for (const o of l.items) this.onEvent({ type: "ADDED", object: o }, performance.now());
    this.rv = l.resourceVersion;
    this.open();
  }

  private open(): void {
    this.handle = this.client.watch(
      this.resource,
      { ...this.opts, resourceVersion: this.rv },
      (ev) => {
        const at = performance.now();
        const rv = ev.object.metadata.resourceVersion;
        if (rv) this.rv = rv;
        if (ev.type !== "BOOKMARK") this.onEvent(ev, at);
        this.check();
      },
      (err) => {
        if (this.stopped) return;
        if (err && "code" in err && err.code === 410) {
          this.abort(
            new Error(`the ${this.resource.plural} watch fell behind (410 Gone at ${this.rv}): ${err.message}`),
          );
          return;
        }
        // the server ends watches from time to time: resume where this one stopped
        const t = setTimeout(() => {
          if (!this.stopped) this.open();
        }, 100);
        t.unref();
      },
    );
  }

  /** Fails every wait, now and later, with `err` (a process the waits depend on died). */
  abort(err: Error): void {
    this.failure = err;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waits.clear();
  }

  /** Re-checks every wait (call after changing what the waits look at). */
  check(): void {
    for (const w of this.waits) {
      let ok = false;
      try {
        ok = w.ready();
      } catch (err) {
        this.waits.delete(w);
        clearTimeout(w.timer);
        w.reject(err as Error);
        continue;
      }
      if (ok) {
        this.waits.delete(w);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** Resolves once `ready()` is true (it may throw to fail the wait); rejects after `timeoutMs` with `describe()`. */
  until(ready: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const w: Wait = {
        ready,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waits.delete(w);
          reject(new Error(`timed out after ${secs(timeoutMs)}: ${describe()}`));
        }, timeoutMs),
      };
      this.waits.add(w);
      this.check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.handle?.stop();
    this.abort(new Error("the watch was stopped"));
  }
}

/** What the pod watch has seen of each pod (times from performance.now()). */
class PodTimes {
  readonly boundAt = new Map<string, number>();
  readonly runningAt = new Map<string, number>();
  readonly deleted = new Set<string>();
  /** Pods that ended (Failed/Succeeded) before they were seen Running, with why. */
  readonly ended = new Map<string, string>();
  /** The last state seen per pod, for messages ("Pending, ContainerCreating"). */
  readonly last = new Map<string, string>();

  observe(ev: WatchEvent, at: number): void {
    const name = ev.object.metadata.name ?? "";
    if (ev.type === "DELETED") {
      this.deleted.add(name);
      return;
    }
    const spec = ev.object["spec"] as { nodeName?: string } | undefined;
    const status = ev.object["status"] as
      | {
          phase?: string;
          reason?: string;
          message?: string;
          containerStatuses?: Array<{ state?: { waiting?: { reason?: string; message?: string } } }>;
        }
      | undefined;
    if (spec?.nodeName && !this.boundAt.has(name)) this.boundAt.set(name, at);
    const phase = status?.phase ?? "";
    if (phase === "Running" && !this.runningAt.has(name)) this.runningAt.set(name, at);
    const waiting = status?.containerStatuses?.[0]?.state?.waiting;
    this.last.set(
      name,
      [phase || "no phase", spec?.nodeName ? `on ${spec.nodeName}` : "unscheduled", waiting?.reason, waiting?.message]
        .filter((s) => s)
        .join(", "),
    );
    if ((phase === "Failed" || phase === "Succeeded") && !this.runningAt.has(name)) {
      this.ended.set(name, `${phase}: ${status?.reason ?? ""} ${status?.message ?? ""}`.trim());
    }
  }

  /** True once every name is Running; throws when one of them ended first. */
  allRunning(names: string[]): boolean {
    for (const n of names) {
      const why = this.ended.get(n);
      if (why !== undefined) throw new Error(`pod ${n} ended before it was Running (${why})`);
    }
    return names.every((n) => this.runningAt.has(n));
  }

  /** "pod-7 (Pending, on node-1, ContainerCreating); ..." */
  describe(names: string[]): string {
    return names.map((n) => `${n} (${this.last.get(n) ?? "never seen by the watch"})`).join("; ");
  }

  /** "3 of 100 pods not Running: pod-7 (Pending, on node-1, ContainerCreating), ..." */
  describeNotRunning(names: string[]): string {
    const missing = names.filter((n) => !this.runningAt.has(n));
    const more = missing.length > 5 ? "; ..." : "";
    return `${missing.length} of ${names.length} pods not Running: ${this.describe(missing.slice(0, 5))}${more}`;
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

/** Aborts the trackers' waits when `child` exits before it is stopped, saying what `state()` reached. */
function abortOnExit(child: Child, label: string, trackers: Tracker[], state: () => string = () => ""): void {
  child.proc.once("exit", (code, signal) => {
    const last = child.tail().split("\n").at(-1) ?? "";
    const err = new Error(`${label} exited (${signal ?? `code ${code}`})${state()}: ${last}`);
    for (const t of trackers) t.abort(err);
  });
}

/** A cleanup step: its failure is reported, never thrown (it would hide the error that led here). */
export async function cleanup(label: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    console.error(`${label} cleanup: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs `fn` over `items` with at most `width` in flight; the first error stops new work and is thrown. */
export async function inParallel<T>(
  items: T[],
  width: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: unknown;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (failed === undefined && next < items.length) {
        const i = next++;
        try {
          await fn(items[i]!, i);
        } catch (err) {
          failed ??= err;
        }
      }
    }),
  );
  if (failed !== undefined) throw failed;
}

export async function poll<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr = "";
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = ` (last error: ${(err as Error).message})`;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${secs(timeoutMs)} waiting for ${what}${lastErr}`);
}

export function isReady(node: KObject): boolean {
  const conds = (node["status"] as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions;
  return conds?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** A small pod: `sh -c "sleep 3600"`, the default service account volume kept, tagged with the run's marker. */
function smallPod(name: string, marker: string): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NAMESPACE, labels: { bench: "pods" } },
    spec: {
      containers: [
        {
          name: "c",
          image: "busybox",
          command: ["sh", "-c", "sleep 3600"],
          // lets the bench find any process of this run on the host after its pods are gone
          env: [{ name: "K8TS_BENCH_RUN", value: marker }],
        },
      ],
    },
  };
}

/** Host processes whose environment carries the run's marker (runc and process containers alike). */
function processesOf(marker: string): number[] {
  const needle = Buffer.from(`K8TS_BENCH_RUN=${marker}\0`);
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`).includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not readable: not one of ours to find
    }
  }
  return pids;
}

/** Deletes the pods through the API (grace 1 s) and waits until the API no longer has them. */
async function deletePods(client: ApiClient, pods: PodTimes, tracker: Tracker, names: string[]): Promise<number> {
  const t0 = performance.now();
  await inParallel(names, 100, async (n) => {
    await client.delete(resources.pods, NAMESPACE, n, { gracePeriodSeconds: 1 }).catch((err: unknown) => {
      if (!(isRecord(err) && err["code"] === 404)) throw err;
      pods.deleted.add(n);
    });
  });
  tracker.check();
  await tracker.until(
    () => names.every((n) => pods.deleted.has(n)),
    120_000,
    () => {
      const left = names.filter((n) => !pods.deleted.has(n));
      return `${left.length} of ${names.length} deleted pods still in the API (e.g. ${left.slice(0, 3).join(", ")})`;
    },
  );
  return performance.now() - t0;
}

/** After the pods are gone: their processes must be too (waits a little for the last exits to be reaped). */
/**
 * Waits until the node has torn down every pod (no pod directory, no runtime sandbox or container
 * record left), so one mode's teardown does not slow the next mode's startups; returns how long.
 */
async function nodeQuiet(dataDir: string): Promise<number> {
  const t0 = performance.now();
  const entries = (d: string) => {
    try {
      return readdirSync(d).length;
    } catch {
      return 0;
    }
  };
  const busy = () =>
    entries(join(dataDir, "pods")) +
    entries(join(dataDir, "runc", "containers")) +
    entries(join(dataDir, "runc", "sandboxes"));
  const end = Date.now() + 120_000;
  while (busy() > 0) {
    if (Date.now() > end)
      throw new Error(
        `the node still holds ${busy()} pod directories or runtime records 120 s after its pods were deleted`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  return performance.now() - t0;
}

async function assertNoProcesses(marker: string, runtime: BenchRuntime): Promise<void> {
  if (runtime === "sim") return;
  const end = Date.now() + 10_000;
  let left = processesOf(marker);
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    left = processesOf(marker);
  }
  if (left.length === 0) return;
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  throw new Error(
    `${left.length} container processes (pids ${left.slice(0, 10).join(", ")}) still ran after their pods were deleted from the API; killed them`,
  );
}

// ---------------------------------------------------------------------------------------------
// CPU profiles

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/**
 * The hottest functions of a .cpuprofile, as printable lines: self time by function and by file,
 * and total time (the function or anything it called) of k8ts's own functions, which says which
 * of our code paths the self time is spent under.
 */
export function hotSpots(profileText: string, top = 15): string[] {
  const prof = JSON.parse(profileText) as {
    nodes?: ProfileNode[];
    startTime?: number;
    endTime?: number;
    samples?: number[];
  };
  const nodes = prof.nodes ?? [];
  const root = pathToFileURL(REPO_ROOT).href;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const where = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(root, "");
    return {
      url,
      fn: `${n.callFrame.functionName || "(anonymous)"} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ""}`.trim(),
    };
  };
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  const ours = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let total = 0;
  // each sample counts once for its leaf (self) and once for every distinct k8ts function on its stack (total)
  const samples = prof.samples ?? [];
  const hitsOf = new Map<number, number>();
  if (samples.length > 0) for (const id of samples) hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
  else for (const n of nodes) if (n.hitCount) hitsOf.set(n.id, n.hitCount);
  for (const [id, hits] of hitsOf) {
    const leaf = byId.get(id);
    if (!leaf) continue;
    total += hits;
    const w = where(leaf);
    add(byFn, w.fn, hits);
    add(byFile, w.url || leaf.callFrame.functionName, hits);
    const seen = new Set<string>();
    for (let cur: ProfileNode | undefined = leaf; cur; cur = byId.get(parent.get(cur.id) ?? -1)) {
      const cw = where(cur);
      if (cw.url.startsWith("dist/src/") && !seen.has(cw.fn)) {
        seen.add(cw.fn);
        add(ours, cw.fn, hits);
      }
    }
  }
  if (total === 0) return ["  (no samples)"];
  const seconds = ((prof.endTime ?? 0) - (prof.startTime ?? 0)) / 1e6;
  const pct = (h: number) => `${((100 * h) / total).toFixed(1).padStart(5)}%`;
  const rank = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, h]) => `    ${pct(h)}  ${name}`);
  return [
    `  ${total} samples over ${seconds.toFixed(1)} s; self time by function:`,
    ...rank(byFn, top),
    "  self time by file:",
    ...rank(byFile, 10),
    "  total time of k8ts functions (with what they call):",
    ...rank(ours, top + 10),
  ];
}

function printProfile(label: string, dir: string | undefined, pid: number): void {
  if (!dir) return;
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.`));
  if (!file) {
    console.log(`[profile] ${label}: no profile for pid ${pid} in ${dir}`);
    return;
  }
  console.log(`[profile] ${label} (${join(dir, file)}):`);
  for (const line of hotSpots(readFileSync(join(dir, file), "utf8"))) console.log(line);
}

// ---------------------------------------------------------------------------------------------
// part 1: startup latency per runtime

export interface StartupFigures {
  runtime: BenchRuntime;
  pods: number;
  /** create start → Running, ms */
  serial: number[];
  /** the steady-rate mode: its pods/s and create start → Running, bound, answered */
  rate: number;
  paced: number[];
  pacedBound: number[];
  pacedCreate: number[];
  burst: number[];
  /** create start → bound (spec.nodeName seen), ms */
  serialBound: number[];
  burstBound: number[];
  /** create request answered, ms */
  serialCreate: number[];
  burstCreate: number[];
  /** pods deleted (grace 1 s) until gone from the API, ms, per mode */
  deleteMs: number[];
  /** then until the node has torn them all down (the next mode waits for it), ms */
  quietMs: number[];
  /** the server's CPU seconds over the burst */
  burstCpuSeconds: number;
  /** the whole machine's busy and available CPU seconds over the burst (runc, ip, mount, the server) */
  burstMachine: { busy: number; total: number };
  rssMb: number;
}

async function measureStartup(
  kids: Children,
  runtime: BenchRuntime,
  n: number,
  rate: number,
  profDir: string | undefined,
): Promise<StartupFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), `k8ts-bench-pods-${runtime}-`));
  const marker = randomBytes(8).toString("hex");
  let server: ServerProcess | undefined;
  let tracker: Tracker | undefined;
  const pods = new PodTimes();
  const created = new Set<string>();
  let cleanedUp = false;
  try {
    server = await startServerProcess(kids, dataDir, ["--runtime", runtime], profDir);
    const client = server.client;
    await poll("the embedded node to be Ready", 60_000, async () => {
      const l = await client.list(resources.nodes);
      return l.items.some(isReady) ? true : undefined;
    });
    await poll(`the "${NAMESPACE}" service account`, 30_000, () =>
      client.get(resources.serviceaccounts, NAMESPACE, "default").then(() => true),
    );
    const t = new Tracker(client, resources.pods, { namespace: NAMESPACE, labelSelector: "bench=pods" }, (ev, at) =>
      pods.observe(ev, at),
    );
    tracker = t;
    abortOnExit(server, "the server", [t]);
    await t.start();
    // the watch stream is open before the first create
    await new Promise((r) => setTimeout(r, 300));

    const createOne = async (name: string, starts: Map<string, number>, answered: Map<string, number>) => {
      const t0 = performance.now();
      starts.set(name, t0);
      created.add(name);
      await client.create(resources.pods, NAMESPACE, smallPod(name, marker));
      answered.set(name, performance.now() - t0);
    };
    const since = (starts: Map<string, number>, at: Map<string, number>, names: string[]) =>
      names.map((nm) => at.get(nm)! - starts.get(nm)!);

    // (a) one at a time
    const serialNames = Array.from({ length: n }, (_, i) => `serial-${i}`);
    const serialStart = new Map<string, number>();
    const serialAnswered = new Map<string, number>();
    for (const name of serialNames) {
      await createOne(name, serialStart, serialAnswered);
      await t.until(
        () => pods.allRunning([name]),
        60_000,
        () => pods.describeNotRunning([name]),
      );
    }
    const deleteSerial = await deletePods(client, pods, t, serialNames);
    await assertNoProcesses(marker, runtime);
    const quietSerial = await nodeQuiet(dataDir);

    // (b) at a steady rate, not waiting for one to run before the next
    const pacedNames = Array.from({ length: n }, (_, i) => `paced-${i}`);
    const pacedStart = new Map<string, number>();
    const pacedAnswered = new Map<string, number>();
    const creates: Array<Promise<void>> = [];
    const t0 = performance.now();
    for (const [i, name] of pacedNames.entries()) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      creates.push(createOne(name, pacedStart, pacedAnswered));
    }
    await Promise.all(creates);
    await t.until(
      () => pods.allRunning(pacedNames),
      60_000 + 500 * n,
      () => pods.describeNotRunning(pacedNames),
    );
    const deletePaced = await deletePods(client, pods, t, pacedNames);
    await assertNoProcesses(marker, runtime);
    const quietPaced = await nodeQuiet(dataDir);

    // (c) all at once
    const burstNames = Array.from({ length: n }, (_, i) => `burst-${i}`);
    const burstStart = new Map<string, number>();
    const burstAnswered = new Map<string, number>();
    const cpu0 = cpuSecondsOf(server.pid);
    const machine0 = machineCpu();
    await Promise.all(burstNames.map((name) => createOne(name, burstStart, burstAnswered)));
    await t.until(
      () => pods.allRunning(burstNames),
      60_000 + 500 * n,
      () => pods.describeNotRunning(burstNames),
    );
    const burstCpuSeconds = cpuSecondsOf(server.pid) - cpu0;
    const machine1 = machineCpu();
    const burstMachine = { busy: machine1.busy - machine0.busy, total: machine1.total - machine0.total };
    const rssMb = memoryOf(server.pid).rssMb;
    const deleteBurst = await deletePods(client, pods, t, burstNames);
    await assertNoProcesses(marker, runtime);
    cleanedUp = true;
    return {
      runtime,
      pods: n,
      serial: since(serialStart, pods.runningAt, serialNames),
      rate,
      paced: since(pacedStart, pods.runningAt, pacedNames),
      pacedBound: since(pacedStart, pods.boundAt, pacedNames),
      pacedCreate: pacedNames.map((nm) => pacedAnswered.get(nm)!),
      burst: since(burstStart, pods.runningAt, burstNames),
      serialBound: since(serialStart, pods.boundAt, serialNames),
      burstBound: since(burstStart, pods.boundAt, burstNames),
      serialCreate: serialNames.map((nm) => serialAnswered.get(nm)!),
      burstCreate: burstNames.map((nm) => burstAnswered.get(nm)!),
      deleteMs: [deleteSerial, deletePaced, deleteBurst],
      quietMs: [quietSerial, quietPaced],
      burstCpuSeconds,
      burstMachine,
      rssMb,
    };
  } finally {
    const label = `[pods/${runtime}]`;
    if (server && !cleanedUp && created.size > 0) {
      // a failure midway: the embedded node's containers outlive the server by design, so delete
      // the pods through the API first (best effort), then make sure none of their processes stay
      const s = server;
      const t = tracker;
      if (t && s.proc.exitCode === null && s.proc.signalCode === null) {
        await cleanup(label, () =>
          deletePods(
            s.client,
            pods,
            t,
            [...created].filter((nm) => !pods.deleted.has(nm)),
          ),
        );
      }
      await cleanup(label, () => assertNoProcesses(marker, runtime));
    }
    tracker?.stop();
    server?.client.close();
    if (server) {
      const s = server;
      await cleanup(label, () => kids.stop(s));
      printProfile(`server --runtime ${runtime}`, profDir, server.pid);
    }
    await cleanup(label, () => removeUnmounted(dataDir));
  }
}

function printStartup(f: StartupFigures): void {
  const target = STARTUP_TARGET_MS[f.runtime];
  const verdict = (p99: number) =>
    target === undefined
      ? "(no target for sim)"
      : `(target p99 < ${ms(target)}: ${p99 < target ? "met" : `MISSED by ${ms(p99 - target)}`})`;
  const line = (mode: string, run: number[], bound: number[], create: number[]) => {
    const r = summary(run);
    const b = summary(bound);
    const c = summary(create);
    // the slowest pods by their place in the run (a pattern — the first ones, every tenth — says why)
    const slowest = run
      .map((v, i) => [v, i] as const)
      .sort((x, y) => y[0] - x[0])
      .slice(0, 3)
      .map(([v, i]) => `#${i} ${ms(v)}`)
      .join(", ");
    console.log(
      `[pods/${f.runtime}] startup ${mode} (${f.pods} pods), create → Running: p50 ${ms(r.p50)} p99 ${ms(r.p99)} max ${ms(r.max)} ${verdict(r.p99)}; create answered p50 ${ms(c.p50)} p99 ${ms(c.p99)}; bound p50 ${ms(b.p50)} p99 ${ms(b.p99)}; slowest ${slowest}`,
    );
  };
  line("one at a time", f.serial, f.serialBound, f.serialCreate);
  line(`at ${f.rate} pods/s`, f.paced, f.pacedBound, f.pacedCreate);
  line("all at once", f.burst, f.burstBound, f.burstCreate);
  console.log(
    `[pods/${f.runtime}] server CPU over the burst ${f.burstCpuSeconds.toFixed(2)} s, the machine's ${f.burstMachine.busy.toFixed(2)} of ${f.burstMachine.total.toFixed(2)} s (${Math.round((100 * f.burstMachine.busy) / Math.max(0.01, f.burstMachine.total))}% busy); server RSS with ${f.pods} pods ${f.rssMb} MB; delete (grace 1 s) until gone: ${f.deleteMs.map((d) => secs(d)).join(", ")}; then until torn down on the node: ${f.quietMs.map((d) => secs(d)).join(", ")}`,
  );
}

// ---------------------------------------------------------------------------------------------
// part 2: a simulated fleet

export interface FleetFigures {
  nodes: number;
  pods: number;
  joinMs: number;
  server: { rssMb: number; peakMb: number };
  agent: { rssMb: number; peakMb: number };
  /** Share of one core each process used over REST_WINDOW_MS with the nodes joined and no pods (heartbeats only). */
  serverRestCpu: number;
  agentRestCpu: number;
  /** after the pods run */
  serverAfter: { rssMb: number; peakMb: number };
  agentAfter: { rssMb: number; peakMb: number };
  createMs: number;
  runningMs: number;
  serverCpuSeconds: number;
  agentCpuSeconds: number;
}

async function measureFleet(
  kids: Children,
  nodes: number,
  podCount: number,
  profDir: string | undefined,
): Promise<FleetFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-bench-fleet-"));
  const agentDir = mkdtempSync(join(tmpdir(), "k8ts-bench-fleet-agent-"));
  let server: ServerProcess | undefined;
  let agent: Child | undefined;
  const trackers: Tracker[] = [];
  try {
    server = await startServerProcess(kids, dataDir, ["--disable-agent"], profDir);
    const client = server.client;
    const token = kids.spawn("token", ["token", "create", "--data-dir", dataDir], { oneShot: true });
    const join_ = await token.waitForOutput(/^k8ts agent (.+)\n/m, 30_000, "the join command");
    const joinArgs = join_[1]!.trim().split(/\s+/);

    const ready = new Set<string>();
    const nodeWatch = new Tracker(client, resources.nodes, { labelSelector: "type=kwok" }, (ev) => {
      const name = ev.object.metadata.name ?? "";
      if (ev.type !== "DELETED" && isReady(ev.object)) ready.add(name);
      else ready.delete(name);
    });
    trackers.push(nodeWatch);
    await nodeWatch.start();
    const t0 = performance.now();
    const a = kids.spawn(
      "agent",
      ["agent", ...joinArgs, "--name", "kwok", "--root-dir", agentDir, "--sim-nodes", String(nodes)],
      { nodeFlags: profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : [] },
    );
    agent = a;
    abortOnExit(server, "the server", trackers);
    abortOnExit(a, "the fleet agent", trackers, () => ` with ${ready.size} of ${nodes} nodes Ready`);
    await nodeWatch.until(
      () => ready.size >= nodes,
      60_000 + 60 * nodes,
      () => `${ready.size} of ${nodes} simulated nodes Ready`,
    );
    const joinMs = performance.now() - t0;
    const listed = await client.list(resources.nodes, { labelSelector: "type=kwok" });
    const listedReady = listed.items.filter(isReady).length;
    if (listedReady < nodes) {
      throw new Error(`the watch saw ${nodes} Ready nodes but a list shows ${listedReady} of ${listed.items.length}`);
    }
    // a moment for the join's garbage to go before memory is read
    await new Promise((r) => setTimeout(r, 3000));
    const serverMem = memoryOf(server.pid);
    const agentMem = memoryOf(a.pid);
    const restServer0 = cpuSecondsOf(server.pid);
    const restAgent0 = cpuSecondsOf(a.pid);
    await new Promise((r) => setTimeout(r, REST_WINDOW_MS));
    const serverRestCpu = (cpuSecondsOf(server.pid) - restServer0) / (REST_WINDOW_MS / 1000);
    const agentRestCpu = (cpuSecondsOf(a.pid) - restAgent0) / (REST_WINDOW_MS / 1000);

    const pods = new PodTimes();
    const podWatch = new Tracker(
      client,
      resources.pods,
      { namespace: NAMESPACE, labelSelector: "bench=pods" },
      (ev, at) => pods.observe(ev, at),
    );
    trackers.push(podWatch);
    await poll(`the "${NAMESPACE}" service account`, 30_000, () =>
      client.get(resources.serviceaccounts, NAMESPACE, "default").then(() => true),
    );
    await podWatch.start();
    const names = Array.from({ length: podCount }, (_, i) => `fleet-${i}`);
    const cpuServer0 = cpuSecondsOf(server.pid);
    const cpuAgent0 = cpuSecondsOf(a.pid);
    const p0 = performance.now();
    let createMs = 0;
    let runningMs = 0;
    if (podCount > 0) {
      await inParallel(names, FLEET_CREATE_WIDTH, async (name) => {
        await client.create(resources.pods, NAMESPACE, smallPod(name, "fleet"));
      });
      createMs = performance.now() - p0;
      let running = 0;
      await podWatch.until(
        () => {
          running = pods.runningAt.size;
          return pods.allRunning(names);
        },
        60_000 + 50 * podCount,
        () =>
          `${running} of ${podCount} pods Running, ${pods.boundAt.size} bound; not Running: ${pods.describe(names.filter((n) => !pods.runningAt.has(n)).slice(0, 5))}`,
      );
      runningMs = Math.max(...pods.runningAt.values()) - p0;
    }
    return {
      nodes,
      pods: podCount,
      joinMs,
      server: serverMem,
      agent: agentMem,
      serverRestCpu,
      agentRestCpu,
      serverAfter: memoryOf(server.pid),
      agentAfter: memoryOf(a.pid),
      createMs,
      runningMs,
      serverCpuSeconds: cpuSecondsOf(server.pid) - cpuServer0,
      agentCpuSeconds: cpuSecondsOf(a.pid) - cpuAgent0,
    };
  } finally {
    for (const t of trackers) t.stop();
    server?.client.close();
    // the agent first (its nodes would go NotReady, nothing more), then the server
    if (agent) {
      const a = agent;
      await cleanup("[fleet]", () => kids.stop(a));
      printProfile(`agent --sim-nodes ${nodes}`, profDir, agent.pid);
    }
    if (server) {
      const s = server;
      await cleanup("[fleet]", () => kids.stop(s));
      printProfile("server --disable-agent (fleet)", profDir, server.pid);
    }
    await cleanup("[fleet]", () => removeUnmounted(dataDir));
    await cleanup("[fleet]", () => removeUnmounted(agentDir));
  }
}

function printFleet(f: FleetFigures): void {
  console.log(
    `[fleet] ${f.nodes} simulated nodes (k8ts agent --sim-nodes, own process): all Ready ${secs(f.joinMs)} after the agent started (${Math.round(f.nodes / (f.joinMs / 1000))} nodes/s)`,
  );
  console.log(
    `[fleet] memory with ${f.nodes} nodes: server RSS ${f.server.rssMb} MB (peak ${f.server.peakMb} MB); agent RSS ${f.agent.rssMb} MB (peak ${f.agent.peakMb} MB)`,
  );
  const pct = (v: number) => `${Math.round(100 * v)}%`;
  console.log(
    `[fleet] CPU at rest with ${f.nodes} nodes (leases and node status only, over ${REST_WINDOW_MS / 1000} s): server ${pct(f.serverRestCpu)} of a core, agent ${pct(f.agentRestCpu)}`,
  );
  if (f.pods === 0) return;
  console.log(
    `[fleet] ${f.pods} pods on ${f.nodes} nodes: created in ${secs(f.createMs)} (${Math.round(f.pods / (f.createMs / 1000))}/s, ${FLEET_CREATE_WIDTH} in flight); all Running ${secs(f.runningMs)} after the first create — ${Math.round(f.pods / (f.runningMs / 1000))} pods/s; CPU meanwhile: server ${f.serverCpuSeconds.toFixed(1)} s, agent ${f.agentCpuSeconds.toFixed(1)} s`,
  );
  console.log(
    `[fleet] memory with ${f.pods} pods Running: server RSS ${f.serverAfter.rssMb} MB (peak ${f.serverAfter.peakMb} MB); agent RSS ${f.agentAfter.rssMb} MB (peak ${f.agentAfter.peakMb} MB)`,
  );
}

// ---------------------------------------------------------------------------------------------

/** Prints the startup latency of each runtime and the fleet figures (counts: see the file's comment). */
export async function benchPods(options: Partial<PodsBenchOptions> = {}): Promise<void> {
  const o: PodsBenchOptions = { ...optionsFromEnv(), ...options };
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const kids = new Children();
  try {
    for (const runtime of o.runtimes) {
      if (o.pods === 0) break;
      if (runtime === "runc") {
        const a = runcAvailability();
        if (!a.ok) {
          console.log(`[pods/runc] skipped: ${a.reason}`);
          continue;
        }
      }
      printStartup(await measureStartup(kids, runtime, o.pods, Math.max(1, o.rate), o.cpuProfDir));
    }
    if (o.simNodes > 0) printFleet(await measureFleet(kids, o.simNodes, o.fleetPods, o.cpuProfDir));
  } finally {
    await kids.stopAll();
    kids.dispose();
  }
}

/** Runs `fn` when the module at `url` is the program (`node dist/bench/<name>.js`), reporting its failure. */
export async function runIfMain(url: string, name: string, fn: () => Promise<void>): Promise<void> {
  if (url !== pathToFileURL(process.argv[1] ?? "").href) return;
  try {
    await fn();
  } catch (err) {
    console.error(`bench/${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

await runIfMain(import.meta.url, "pods", () => benchPods());

/** A non-negative integer from the environment (the bench's sizes), or `fallback`. */
export function envCount(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not "${v}"`);
  return n;
}

/**
 * `k8ts server --disable-agent` in its own process and `nodes` simulated nodes joined to it by a
 * second process (`k8ts agent --sim-nodes`), as a user would run them; resolves once all are Ready.
 * The directories are the caller's to clean up (after `kids.stopAll()`).
 */
export async function startFleetCluster(
  kids: Children,
  dataDir: string,
  agentDir: string,
  name: string,
  nodes: number,
): Promise<ServerProcess> {
  // K8TS_BENCH_CPU_PROF: the server runs with --cpu-prof there
  const server = await startServerProcess(kids, dataDir, ["--disable-agent"], process.env["K8TS_BENCH_CPU_PROF"]);
  const token = kids.spawn("token", ["token", "create", "--data-dir", dataDir], { oneShot: true });
  const joinArgs = (await token.waitForOutput(/^k8ts agent (.+)\n/m, 30_000, "the join command"))[1]!
    .trim()
    .split(/\s+/);
  kids.spawn("agent", ["agent", ...joinArgs, "--name", name, "--root-dir", agentDir, "--sim-nodes", String(nodes)]);
  await poll(`${nodes} simulated nodes Ready`, 60_000 + 60 * nodes, async () => {
    const l = await server.client.list(resources.nodes, { labelSelector: "type=kwok" });
    return l.items.filter(isReady).length >= nodes ? true : undefined;
  });
  return server;
}

/** A fleet cluster (startFleetCluster) in fresh directories for `fn`, stopped and removed afterwards. */
export async function withFleetCluster(
  label: string,
  nodeName: string,
  nodes: number,
  fn: (server: ServerProcess) => Promise<void>,
): Promise<void> {
  const kids = new Children();
  const dataDir = mkdtempSync(join(tmpdir(), `k8ts-bench-${label}-`));
  const agentDir = mkdtempSync(join(tmpdir(), `k8ts-bench-${label}-agent-`));
  try {
    const server = await startFleetCluster(kids, dataDir, agentDir, nodeName, nodes);
    await fn(server);
    server.client.close();
  } finally {
    await kids.stopAll();
    kids.dispose();
    await cleanup(`[${label}]`, () => removeUnmounted(dataDir));
    await cleanup(`[${label}]`, () => removeUnmounted(agentDir));
  }
}
