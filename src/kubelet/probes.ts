/**
 * Container probes as the kubelet runs them (upstream pkg/kubelet/prober and pkg/probe/{exec,http,
 * tcp,grpc}): exec, httpGet, tcpSocket and grpc handlers with upstream's outputs, and one worker per
 * (container instance, probe kind) applying initialDelaySeconds, periodSeconds, timeoutSeconds and
 * the success/failure thresholds. Readiness starts failed, liveness starts succeeded, startup
 * starts unknown and gates the other two. A worker belongs to one container id: a restarted
 * container gets new workers.
 */
import { request as httpRequest, type IncomingMessage, STATUS_CODES } from "node:http";
import { type ClientHttp2Session, connect as h2connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { connect as tcpConnect } from "node:net";
import { createGunzip } from "node:zlib";
import { isRecord } from "../api/types.js";
import { KUBERNETES_VERSION } from "../apiserver/server.js";
import { goDuration } from "./backoff.js";
import { goQuote } from "./env.js";
import type { Runtime } from "./runtime/types.js";

export type ProbeKind = "liveness" | "readiness" | "startup";
type Rec = Record<string, unknown>;

export interface ProbeOutcome {
  ok: boolean;
  /** What the kubelet's Unhealthy event says after "<Kind> probe failed: ". */
  output: string;
  /**
   * The probe could not be run at all (a named port the container lacks, an exec the runtime
   * refused): upstream throws such a result away rather than counting it.
   */
  error?: boolean;
  /** A success upstream reports as a ProbeWarning event (an HTTP redirect it did not follow). */
  warning?: boolean;
}

export interface ProbeTarget {
  runtime: Runtime;
  containerId: string;
  podIP: string;
  /** The container's spec (named ports are looked up in it). */
  container: Rec;
  /** When the container started (epoch ms; initialDelaySeconds counts from it). Default: when the worker starts. */
  startedAt?: number;
}

const num = (v: unknown, d: number): number => (typeof v === "number" && Number.isFinite(v) ? v : d);

/** Exec and HTTP outputs are cut at 10 KiB, as upstream's. */
const MAX_OUTPUT = 10 * 1024;
/** Attempts of one probe run while it errors (upstream maxProbeRetries). */
const MAX_RETRIES = 3;
const USER_AGENT = `kube-probe/${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}`;

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

/** upstream probe.ResolveContainerPort: a number, or the container port of that name; errors worded as upstream's. */
function containerPort(port: unknown, container: Rec): { port: number } | { error: string } {
  let n: number;
  if (typeof port === "number") n = port;
  else if (typeof port === "string") {
    const ports = Array.isArray(container["ports"]) ? container["ports"].filter(isRecord) : [];
    const p = ports.find((x) => x["name"] === port);
    if (p === undefined) {
      // validation allows only names here, but a number written as a string still means that port
      if (!/^\d+$/.test(port)) return { error: `port ${goQuote(port)} not found` };
      n = Number(port);
    } else n = num(p["containerPort"], -1);
  } else return { error: `intOrString had no kind: ${JSON.stringify(port ?? null)}` };
  if (Number.isInteger(n) && n > 0 && n < 65536) return { port: n };
  return { error: `invalid port number: ${n}` };
}

/** A numeric port, or the container port of that name. */
export function resolvePort(port: unknown, container: Rec): number | undefined {
  const r = containerPort(port, container);
  return "port" in r ? r.port : undefined;
}

/** Runs the probe once (retrying up to 3 times while it errors, as upstream runProbeWithRetries). */
export async function runProbe(probe: Rec, target: ProbeTarget, kind: ProbeKind): Promise<ProbeOutcome> {
  let out: ProbeOutcome = { ok: false, output: "", error: true };
  for (let i = 0; i < MAX_RETRIES; i++) {
    out = await runProbeOnce(probe, target, kind).catch(
      (err: unknown): ProbeOutcome => ({
        ok: false,
        error: true,
        output: err instanceof Error ? err.message : String(err),
      }),
    );
    if (!out.error) return out;
  }
  return out;
}

async function runProbeOnce(probe: Rec, target: ProbeTarget, kind: ProbeKind): Promise<ProbeOutcome> {
  const { timeoutMs } = probeTiming(probe);
  if (isRecord(probe["exec"])) {
    const argv = Array.isArray(probe["exec"]["command"]) ? probe["exec"]["command"].map(String) : [];
    const r = await target.runtime.execSync(target.containerId, argv, timeoutMs, MAX_OUTPUT);
    // the CRI's DeadlineExceeded becomes this TimeoutError text (upstream remote runtime ExecSync)
    if (r.timedOut) return { ok: false, output: `command ${goQuote(argv.join(" "))} timed out` };
    return { ok: r.exitCode === 0, output: r.output.slice(0, MAX_OUTPUT).trimEnd() };
  }
  if (isRecord(probe["httpGet"])) return httpProbe(probe["httpGet"], target, timeoutMs);
  if (isRecord(probe["tcpSocket"])) {
    const s = probe["tcpSocket"];
    const host = typeof s["host"] === "string" && s["host"] !== "" ? s["host"] : target.podIP;
    const port = containerPort(s["port"], target.container);
    if ("error" in port) return { ok: false, error: true, output: port.error };
    return tcpProbe(host, port.port, timeoutMs);
  }
  if (isRecord(probe["grpc"])) {
    const g = probe["grpc"];
    const port = containerPort(num(g["port"], -1), target.container);
    if ("error" in port) return { ok: false, error: true, output: port.error };
    return grpcProbe(target.podIP, port.port, typeof g["service"] === "string" ? g["service"] : "", timeoutMs);
  }
  return { ok: false, error: true, output: `missing probe handler for ${kind} probe` };
}

/** net.JoinHostPort. */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What Go's dialer says about a failed connection (the part after `dial tcp <addr>: `). */
function dialError(host: string, port: number, err: NodeJS.ErrnoException): string {
  const addr = hostPort(host, port);
  switch (err.code) {
    case "ECONNREFUSED":
      return `dial tcp ${addr}: connect: connection refused`;
    case "EHOSTUNREACH":
      return `dial tcp ${addr}: connect: no route to host`;
    case "ENETUNREACH":
      return `dial tcp ${addr}: connect: network is unreachable`;
    case "ETIMEDOUT":
      return `dial tcp ${addr}: i/o timeout`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `dial tcp: lookup ${host}: no such host`;
    // the peer closed the connection before answering
    case "ECONNRESET":
      return "EOF";
    default:
      return err.message;
  }
}

/** Redirect codes Go's client follows. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface HttpAnswer {
  code: number;
  location: string | undefined;
  body: string;
}

type HttpResult = { answer: HttpAnswer } | { failure: string; error?: boolean };

/** One GET, no redirects followed; `deadline` bounds the whole exchange (Go's Client.Timeout). */
function httpGetOnce(url: URL, headers: Array<[string, string]>, deadline: number): Promise<HttpResult> {
  const shown = url.href;
  return new Promise((resolve) => {
    let settled = false;
    let res: IncomingMessage | undefined;
    const finish = (r: HttpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const outgoing: Record<string, string | string[]> = {};
    for (const [name, value] of headers) {
      const prev = outgoing[name];
      outgoing[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
    }
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    // no keep-alive (upstream DisableKeepAlives) and no certificate verification (InsecureSkipVerify)
    const req = request(url, { method: "GET", headers: outgoing, agent: false, rejectUnauthorized: false }, (r) => {
      res = r;
      const code = r.statusCode ?? 0;
      const gz = String(r.headers["content-encoding"] ?? "").toLowerCase() === "gzip";
      const stream = gz ? r.pipe(createGunzip()) : r;
      let body = Buffer.alloc(0);
      stream.on("data", (d: Buffer) => {
        if (body.length < MAX_OUTPUT) body = Buffer.concat([body, d]).subarray(0, MAX_OUTPUT);
        // a body past the limit is cut, not an error (upstream ReadAtMost)
        if (body.length >= MAX_OUTPUT) done();
      });
      const done = () => finish({ answer: { code, location: r.headers.location, body: body.toString("utf8") } });
      stream.on("end", done);
      stream.on("error", (err: Error) => finish({ failure: `Get ${goQuote(shown)}: ${err.message}`, error: true }));
    });
    const timer = setTimeout(
      () =>
        finish(
          res
            ? {
                failure: `Get ${goQuote(shown)}: context deadline exceeded (Client.Timeout or context cancellation while reading body)`,
                error: true,
              }
            : {
                failure: `Get ${goQuote(shown)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
              },
        ),
      Math.max(0, deadline - Date.now()),
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
      finish({ failure: `Get ${goQuote(shown)}: ${dialError(host, port, err)}` });
    });
    req.end();
  });
}

/**
 * upstream DoHTTPProbe with the prober's client: 200–399 passes; redirects to the same host are
 * followed (at most 10), one to another host is not and passes with a warning; the body is the
 * success output; anything else fails with the status code.
 */
async function httpProbe(h: Rec, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const scheme = String(h["scheme"] ?? "HTTP").toLowerCase() === "https" ? "https" : "http";
  const host = typeof h["host"] === "string" && h["host"] !== "" ? h["host"] : target.podIP;
  const port = containerPort(h["port"], target.container);
  if ("error" in port) return { ok: false, error: true, output: port.error };
  let path = typeof h["path"] === "string" ? h["path"] : "";
  if (path !== "" && !path.startsWith("/")) path = `/${path}`;
  let url: URL;
  try {
    url = new URL(`${scheme}://${hostPort(host, port.port)}${path}`);
  } catch (err) {
    return { ok: false, error: true, output: (err as Error).message };
  }
  // headers as the spec lists them; User-Agent and Accept defaulted, an empty Accept dropped
  const given: Array<[string, string]> = [];
  for (const hd of Array.isArray(h["httpHeaders"]) ? h["httpHeaders"].filter(isRecord) : []) {
    if (typeof hd["name"] === "string" && hd["name"] !== "") given.push([hd["name"], String(hd["value"] ?? "")]);
  }
  const has = (n: string) => given.some(([k]) => k.toLowerCase() === n);
  let headers: Array<[string, string]> = given.filter(([k, v]) => !(k.toLowerCase() === "accept" && v === ""));
  if (!has("user-agent")) headers.push(["User-Agent", USER_AGENT]);
  if (!has("accept")) headers.push(["Accept", "*/*"]);
  if (!has("accept-encoding")) headers.push(["Accept-Encoding", "gzip"]);
  const deadline = Date.now() + timeoutMs;
  const firstHost = url.hostname;
  for (let hops = 0; ; hops++) {
    const r = await httpGetOnce(url, headers, deadline);
    if ("failure" in r) return { ok: false, output: r.failure, ...(r.error ? { error: true } : {}) };
    const { code, location, body } = r.answer;
    if (REDIRECTS.has(code) && location !== undefined) {
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return { ok: false, output: `failed to parse Location header ${goQuote(location)}` };
      }
      if (next.hostname === firstHost) {
        if (hops + 1 >= 10) return { ok: false, output: `Get ${goQuote(next.href)}: stopped after 10 redirects` };
        // a Host header of the caller's survives a relative redirect only (Go's client)
        if (/^[a-z][a-z0-9+.-]*:/i.test(location)) headers = headers.filter(([k]) => k.toLowerCase() !== "host");
        url = next;
        continue;
      }
    }
    if (code >= 200 && code < 400) {
      if (code >= 300) return { ok: true, warning: true, output: `Probe terminated redirects, Response body: ${body}` };
      return { ok: true, output: body };
    }
    return { ok: false, output: `HTTP probe failed with statuscode: ${code}` };
  }
}

/** upstream DoTCPProbe: a connection that opens passes. */
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
      s.destroy();
      resolve({ ok: false, output: dialError(host, port, err) });
    });
  });
}

/** grpc.health.v1.HealthCheckResponse.ServingStatus names. */
const SERVING_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
/** gRPC status code names as grpc-go's codes.Code String. */
const GRPC_CODES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function readVarint(b: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    const byte = b[i]!;
    value += (byte & 0x7f) * mul;
    mul *= 128;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/** HealthCheckRequest{service = 1} in a gRPC length-prefixed frame. */
export function healthCheckRequestFrame(service: string): Buffer {
  const svc = Buffer.from(service, "utf8");
  const msg = svc.length > 0 ? Buffer.concat([Buffer.from([0x0a]), varint(svc.length), svc]) : Buffer.alloc(0);
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  return frame;
}

/** The status field (1, varint) of a HealthCheckResponse frame; 0 (UNKNOWN) when absent, undefined when malformed. */
export function healthCheckResponseStatus(frames: Buffer): number | undefined {
  if (frames.length < 5) return undefined;
  const len = frames.readUInt32BE(1);
  if (frames.length < 5 + len) return undefined;
  const msg = frames.subarray(5, 5 + len);
  let status = 0;
  for (let i = 0; i < msg.length; ) {
    const tag = readVarint(msg, i);
    if (!tag) return undefined;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    i = tag.next;
    if (wire === 0) {
      const v = readVarint(msg, i);
      if (!v) return undefined;
      if (field === 1) status = v.value;
      i = v.next;
    } else if (wire === 2) {
      const l = readVarint(msg, i);
      if (!l) return undefined;
      i = l.next + l.value;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else return undefined;
  }
  return status;
}

/** grpc-go's status for an HTTP answer without grpc-status. */
function httpToGrpc(code: number): { code: number; message: string } {
  const map: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };
  return {
    code: map[code] ?? 2,
    message: `unexpected HTTP status code received from server: ${code} (${STATUS_CODES[code] ?? ""})`,
  };
}

function decodeGrpcMessage(m: string): string {
  try {
    return decodeURIComponent(m);
  } catch {
    return m;
  }
}

/**
 * upstream's grpc prober: grpc.health.v1.Health/Check over cleartext HTTP/2. Connecting is retried
 * until the timeout (grpc-go's blocking dial), so a closed port reads as a connect timeout.
 */
function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  const within = goDuration(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    let done = false;
    let connected = false;
    let session: ClientHttp2Session | undefined;
    let retry: NodeJS.Timeout | undefined;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (retry) clearTimeout(retry);
      session?.destroy();
      resolve(o);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          output: connected
            ? `timeout: health rpc did not complete within ${within}`
            : `timeout: failed to connect service ${goQuote(addr)} within ${within}: context deadline exceeded`,
        }),
      timeoutMs,
    );
    const rpcError = (code: number, message: string): ProbeOutcome => {
      if (code === 12) {
        return {
          ok: false,
          output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${message}`,
        };
      }
      if (code === 4) return { ok: false, output: `timeout: health rpc did not complete within ${within}` };
      const name = GRPC_CODES[code] ?? `Code(${code})`;
      return { ok: false, output: `error: health rpc probe failed: rpc error: code = ${name} desc = ${message}` };
    };
    const call = (s: ClientHttp2Session) => {
      connected = true;
      const stream = s.request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Check",
        "content-type": "application/grpc",
        te: "trailers",
        "user-agent": USER_AGENT,
        "grpc-timeout": `${Math.max(1, deadline - Date.now())}m`,
      });
      const chunks: Buffer[] = [];
      let httpStatus = 0;
      let grpcStatus: string | undefined;
      let grpcMessage = "";
      const takeStatus = (h: Record<string, unknown>) => {
        if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
        if (h["grpc-message"] !== undefined) grpcMessage = decodeGrpcMessage(String(h["grpc-message"]));
      };
      stream.on("response", (h) => {
        httpStatus = Number(h[":status"] ?? 0);
        takeStatus(h);
      });
      stream.on("trailers", (h) => takeStatus(h));
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("error", (err: Error) => finish(rpcError(14, err.message)));
      stream.on("close", () => {
        if (grpcStatus === undefined) {
          if (httpStatus !== 200 && httpStatus !== 0) {
            const m = httpToGrpc(httpStatus);
            finish(rpcError(m.code, m.message));
          } else finish(rpcError(13, "server closed the stream without sending trailers"));
          return;
        }
        const code = Number(grpcStatus);
        if (code !== 0) {
          finish(rpcError(Number.isInteger(code) ? code : 2, grpcMessage));
          return;
        }
        const status = healthCheckResponseStatus(Buffer.concat(chunks));
        if (status === undefined) {
          finish(rpcError(13, "grpc: failed to unmarshal the received message"));
          return;
        }
        if (status === 1) finish({ ok: true, output: "service healthy" });
        else finish({ ok: false, output: `service unhealthy (responded with "${SERVING_STATUS[status] ?? status}")` });
      });
      stream.end(healthCheckRequestFrame(service));
    };
    const dial = () => {
      if (done) return;
      const s = h2connect(`http://${addr}`);
      session = s;
      s.on("error", () => {
        s.destroy();
        if (done) return;
        if (connected) {
          finish(rpcError(14, "connection closed"));
          return;
        }
        // grpc-go backs off a second before dialing again, until the deadline
        const wait = Math.min(1000, deadline - Date.now());
        if (wait > 0) retry = setTimeout(dial, wait);
      });
      s.once("connect", () => call(s));
    };
    dial();
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
    // liveness and startup probes must have successThreshold 1 (validation)
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
  /** A worker's result changed. */
  onResult(podUid: string, container: string, kind: ProbeKind, ok: boolean, output: string): void;
  /** Every failed run (the kubelet's Unhealthy event "<Kind> probe failed: <output>"). */
  onFailure(podUid: string, container: string, kind: ProbeKind, output: string): void;
  /**
   * A run that could not be made (upstream's Unhealthy event "<Kind> probe errored and resulted in
   * unknown state: <message>"); it does not count. Without this method such runs go to onFailure.
   */
  onError?(podUid: string, container: string, kind: ProbeKind, message: string): void;
  /** A run that passed with a warning (upstream's ProbeWarning event "<Kind> probe warning: <output>"). */
  onWarning?(podUid: string, container: string, kind: ProbeKind, output: string): void;
}

/** How early a timer may wake against Date.now() (libuv caches the loop's time). */
const TIMER_SLACK_MS = 20;

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

  /**
   * Starts a worker for a running container's probe (idempotent). `gate` holds it until startup
   * passed. As upstream's worker it wakes at once and then every period, and probes once
   * initialDelaySeconds have passed since the container started; a liveness or startup probe that
   * failed stops probing (the container is restarted and gets a new worker).
   */
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
    const startedAt = target.startedAt ?? Date.now();
    const tick = async () => {
      if (w.stopped) return;
      // whole seconds since the start, as upstream compares them (a timer may wake a few ms early)
      const elapsedS = Math.floor((Date.now() - startedAt + TIMER_SLACK_MS) / 1000);
      if (elapsedS * 1000 >= timing.initialDelayMs && gate()) {
        const out = await runProbe(probe, target, kind);
        if (w.stopped) return;
        if (out.error) {
          if (this.listener.onError) this.listener.onError(podUid, containerName, kind, out.output);
          else this.listener.onFailure(podUid, containerName, kind, out.output);
        } else {
          if (!out.ok) this.listener.onFailure(podUid, containerName, kind, out.output);
          if (out.ok && out.warning) this.listener.onWarning?.(podUid, containerName, kind, out.output);
          const changed = w.state.observe(out.ok);
          if (changed !== undefined) this.listener.onResult(podUid, containerName, kind, changed, out.output);
          // a startup probe that succeeded is done; a failed liveness or startup probe holds
          if (kind === "startup" && w.state.result === true) return;
          if (kind !== "readiness" && w.state.result === false) return;
        }
      }
      w.timer = setTimeout(() => void tick(), timing.periodMs);
      w.timer.unref();
    };
    w.timer = setTimeout(() => void tick(), 0);
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
