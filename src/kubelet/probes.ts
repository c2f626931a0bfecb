/**
 * Container probes as the kubelet runs them (upstream pkg/kubelet/prober): exec, httpGet,
 * tcpSocket and grpc handlers, and one worker per (container instance, probe kind) applying
 * initialDelaySeconds, periodSeconds, timeoutSeconds and the success/failure thresholds.
 * Readiness starts failed, liveness starts succeeded, startup starts unknown and gates the other
 * two. A worker belongs to one container id: a restarted container gets new workers.
 */
import { request as httpRequest } from "node:http";
import { connect as h2connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { connect as tcpConnect } from "node:net";
import { isRecord } from "../api/types.js";
import type { Runtime } from "./runtime/types.js";

export type ProbeKind = "liveness" | "readiness" | "startup";
type Rec = Record<string, unknown>;

export interface ProbeOutcome {
  ok: boolean;
  /** What the kubelet's Unhealthy event says after "<Kind> probe failed: ". */
  output: string;
}

export interface ProbeTarget {
  runtime: Runtime;
  containerId: string;
  podIP: string;
  /** The container's spec (named ports are looked up in it). */
  container: Rec;
}

const num = (v: unknown, d: number): number => (typeof v === "number" && Number.isFinite(v) ? v : d);

/** The probe's timing with upstream's defaults. */
export function probeTiming(probe: Rec): {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
} {
  return {
    initialDelayMs: num(probe["initialDelaySeconds"], 0) * 1000,
    periodMs: Math.max(1, num(probe["periodSeconds"], 10)) * 1000,
    timeoutMs: Math.max(1, num(probe["timeoutSeconds"], 1)) * 1000,
    successThreshold: Math.max(1, num(probe["successThreshold"], 1)),
    failureThreshold: Math.max(1, num(probe["failureThreshold"], 3)),
  };
}

/** A numeric port, or the container port of that name. */
export function resolvePort(port: unknown, container: Rec): number | undefined {
  if (typeof port === "number") return port;
  if (typeof port === "string" && /^\d+$/.test(port)) return Number(port);
  const ports = Array.isArray(container["ports"]) ? container["ports"].filter(isRecord) : [];
  const p = ports.find((x) => x["name"] === port);
  return typeof p?.["containerPort"] === "number" ? p["containerPort"] : undefined;
}

export async function runProbe(probe: Rec, target: ProbeTarget, kind: ProbeKind): Promise<ProbeOutcome> {
  const { timeoutMs } = probeTiming(probe);
  if (isRecord(probe["exec"])) {
    const argv = Array.isArray(probe["exec"]["command"]) ? probe["exec"]["command"].map(String) : [];
    const r = await target.runtime.execSync(target.containerId, argv, timeoutMs, 10 * 1024);
    if (r.timedOut)
      return { ok: false, output: `command timed out: "${argv.join(" ")}" timed out after ${timeoutMs / 1000}s` };
    return { ok: r.exitCode === 0, output: r.output.trimEnd() };
  }
  if (isRecord(probe["httpGet"])) return httpProbe(probe["httpGet"], target, timeoutMs);
  if (isRecord(probe["tcpSocket"])) {
    const s = probe["tcpSocket"];
    const host = typeof s["host"] === "string" && s["host"] !== "" ? s["host"] : target.podIP;
    const port = resolvePort(s["port"], target.container);
    if (port === undefined) return { ok: false, output: `unable to find port ${String(s["port"])}` };
    return tcpProbe(host, port, timeoutMs);
  }
  if (isRecord(probe["grpc"])) {
    const g = probe["grpc"];
    const port = num(g["port"], 0);
    return grpcProbe(target.podIP, port, typeof g["service"] === "string" ? g["service"] : "", timeoutMs);
  }
  return { ok: false, output: `${kind} probe has no handler` };
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function httpProbe(h: Rec, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const scheme = h["scheme"] === "HTTPS" ? "https" : "http";
  const host = typeof h["host"] === "string" && h["host"] !== "" ? h["host"] : target.podIP;
  const port = resolvePort(h["port"], target.container);
  if (port === undefined) return Promise.resolve({ ok: false, output: `unable to find port ${String(h["port"])}` });
  let path = typeof h["path"] === "string" && h["path"] !== "" ? h["path"] : "/";
  if (!path.startsWith("/")) path = `/${path}`;
  const headers: Record<string, string> = { "User-Agent": "kube-probe/1.36", Accept: "*/*" };
  for (const hd of Array.isArray(h["httpHeaders"]) ? h["httpHeaders"].filter(isRecord) : []) {
    if (typeof hd["name"] === "string") headers[hd["name"]] = String(hd["value"] ?? "");
  }
  const url = `${scheme}://${hostPort(host, port)}${path}`;
  return new Promise((resolve) => {
    const req = (scheme === "https" ? httpsRequest : httpRequest)(
      url,
      { method: "GET", headers, timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          if (body.length < 10 * 1024) body += d;
        });
        res.on("end", () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 400) resolve({ ok: true, output: body });
          else resolve({ ok: false, output: `HTTP probe failed with statuscode: ${code}` });
        });
        res.on("error", (err) => resolve({ ok: false, output: `Get "${url}": ${err.message}` }));
      },
    );
    req.on("timeout", () => {
      req.destroy();
      resolve({
        ok: false,
        output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    });
    req.on("error", (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, output: `Get "${url}": ${dialError(host, port, err)}` }),
    );
    req.end();
  });
}

function dialError(host: string, port: number, err: NodeJS.ErrnoException): string {
  if (err.code === "ECONNREFUSED") return `dial tcp ${hostPort(host, port)}: connect: connection refused`;
  if (err.code === "EHOSTUNREACH") return `dial tcp ${hostPort(host, port)}: connect: no route to host`;
  return err.message;
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ ok: false, output: `dial tcp ${hostPort(host, port)}: i/o timeout` });
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ ok: true, output: "" });
    });
    s.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, output: dialError(host, port, err) });
    });
  });
}

const GRPC_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

/** grpc.health.v1.Health/Check over cleartext HTTP/2: HealthCheckRequest{service=1}, HealthCheckResponse{status=1}. */
function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.close();
      resolve(o);
    };
    const session = h2connect(`http://${addr}`);
    const timer = setTimeout(
      () => finish({ ok: false, output: `timeout: failed to connect service "${addr}" within ${timeoutMs / 1000}s` }),
      timeoutMs,
    );
    session.on("error", (err: NodeJS.ErrnoException) =>
      finish({ ok: false, output: `failed to connect service "${addr}": ${dialError(host, port, err)}` }),
    );
    const svc = Buffer.from(service, "utf8");
    const msg = svc.length > 0 ? Buffer.concat([Buffer.from([0x0a, svc.length]), svc]) : Buffer.alloc(0);
    const frame = Buffer.alloc(5 + msg.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": "kube-probe/1.36",
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage = "";
    stream.on("response", (h) => {
      if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
    });
    stream.on("trailers", (h) => {
      grpcStatus = String(h["grpc-status"] ?? grpcStatus ?? "");
      grpcMessage = String(h["grpc-message"] ?? "");
    });
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("error", (err) => finish({ ok: false, output: `failed to connect service "${addr}": ${err.message}` }));
    stream.on("end", () => {
      if (grpcStatus !== "0") {
        finish({ ok: false, output: `rpc error: code = ${grpcStatus ?? "Unknown"} desc = ${grpcMessage}` });
        return;
      }
      const body = Buffer.concat(chunks).subarray(5);
      // field 1, varint
      const status = body.length >= 2 && body[0] === 0x08 ? body[1]! : 0;
      const name = GRPC_STATUS[status] ?? String(status);
      if (status === 1) finish({ ok: true, output: "" });
      else finish({ ok: false, output: `service unhealthy (responded with "${name}")` });
    });
    stream.end(frame);
  });
}

/** Consecutive-result bookkeeping of one worker (pure: the thresholds' rule). */
export class ProbeState {
  result: boolean | undefined;
  private successes = 0;
  private failures = 0;
  private readonly successThreshold: number;
  private readonly failureThreshold: number;

  constructor(kind: ProbeKind, timing: { successThreshold: number; failureThreshold: number }) {
    this.result = kind === "liveness" ? true : kind === "readiness" ? false : undefined;
    this.successThreshold = kind === "readiness" ? timing.successThreshold : 1;
    this.failureThreshold = timing.failureThreshold;
  }

  /** Records one probe run; returns the new result when it changed. */
  observe(ok: boolean): boolean | undefined {
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (this.result !== true && this.successes >= this.successThreshold) {
        this.result = true;
        return true;
      }
    } else {
      this.failures++;
      this.successes = 0;
      if (this.result !== false && this.failures >= this.failureThreshold) {
        this.result = false;
        return false;
      }
    }
    return undefined;
  }
}

export interface ProbeListener {
  /** A worker's result changed (or a failure repeated past the threshold, for liveness/startup). */
  onResult(podUid: string, container: string, kind: ProbeKind, ok: boolean, output: string): void;
  /** Every failed run (the kubelet's Unhealthy event). */
  onFailure(podUid: string, container: string, kind: ProbeKind, output: string): void;
}

interface Worker {
  timer: NodeJS.Timeout | undefined;
  state: ProbeState;
  stopped: boolean;
}

/** Runs the probe workers of the containers the kubelet tells it about. */
export class ProbeManager {
  private readonly workers = new Map<string, Worker>();
  private readonly listener: ProbeListener;

  constructor(listener: ProbeListener) {
    this.listener = listener;
  }

  private key(podUid: string, container: string, kind: ProbeKind, containerId: string): string {
    return `${podUid}/${container}/${kind}/${containerId}`;
  }

  /** The current result of a worker (undefined: no worker or startup still unknown). */
  result(podUid: string, container: string, kind: ProbeKind, containerId: string): boolean | undefined {
    return this.workers.get(this.key(podUid, container, kind, containerId))?.state.result;
  }

  has(podUid: string, container: string, kind: ProbeKind, containerId: string): boolean {
    return this.workers.has(this.key(podUid, container, kind, containerId));
  }

  /** Starts a worker for a running container's probe (idempotent). `gate` holds it until startup passed. */
  ensure(
    podUid: string,
    containerName: string,
    kind: ProbeKind,
    probe: Rec,
    target: ProbeTarget,
    gate: () => boolean = () => true,
  ): void {
    const key = this.key(podUid, containerName, kind, target.containerId);
    if (this.workers.has(key)) return;
    const timing = probeTiming(probe);
    const w: Worker = { timer: undefined, state: new ProbeState(kind, timing), stopped: false };
    this.workers.set(key, w);
    const tick = async () => {
      if (w.stopped) return;
      if (gate()) {
        const out = await runProbe(probe, target, kind).catch(
          (err: unknown): ProbeOutcome => ({ ok: false, output: String((err as Error)?.message ?? err) }),
        );
        if (w.stopped) return;
        if (!out.ok) this.listener.onFailure(podUid, containerName, kind, out.output);
        const changed = w.state.observe(out.ok);
        if (changed !== undefined) this.listener.onResult(podUid, containerName, kind, changed, out.output);
        // a startup probe that succeeded is done
        if (kind === "startup" && w.state.result === true) return;
      }
      w.timer = setTimeout(() => void tick(), timing.periodMs);
      w.timer.unref();
    };
    w.timer = setTimeout(() => void tick(), timing.initialDelayMs);
    w.timer.unref();
  }

  /** Stops the workers of a pod (all, or all but those of the given live container ids). */
  stopPod(podUid: string, keepContainerIds: Set<string> = new Set()): void {
    for (const [key, w] of this.workers) {
      if (!key.startsWith(`${podUid}/`)) continue;
      const id = key.slice(key.lastIndexOf("/") + 1);
      if (keepContainerIds.has(id)) continue;
      w.stopped = true;
      if (w.timer) clearTimeout(w.timer);
      this.workers.delete(key);
    }
  }

  /** Stops the workers of one container instance. */
  stopContainer(podUid: string, containerId: string): void {
    for (const [key, w] of this.workers) {
      if (!key.startsWith(`${podUid}/`) || !key.endsWith(`/${containerId}`)) continue;
      w.stopped = true;
      if (w.timer) clearTimeout(w.timer);
      this.workers.delete(key);
    }
  }

  stop(): void {
    for (const w of this.workers.values()) {
      w.stopped = true;
      if (w.timer) clearTimeout(w.timer);
    }
    this.workers.clear();
  }
}
