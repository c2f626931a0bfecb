/**
 * The kubelet's HTTPS API (upstream pkg/kubelet/server): /containerLogs, /exec, /attach, /healthz,
 * /pods, /stats/summary, authenticated by client certificates of the cluster CA. Exec and attach
 * are served over WebSocket or SPDY (src/streams) and run through the container runtime.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { type Duplex, PassThrough } from "node:stream";
import type { TLSSocket } from "node:tls";
import { isRecord, type KObject } from "../../api/types.js";
import {
  acceptRemoteCommand,
  parseStreamOptions,
  type RemoteCommandSession,
  writeHttpError,
} from "../../streams/index.js";
import type { StreamOptions } from "../../streams/protocols.js";
import { servePortForward } from "../../streams/spdy/portforward.js";
import { isSpdyUpgrade } from "../../streams/spdy/session.js";
import { log } from "../../util/log.js";
import { LogReadError, parsePodLogOptions, readContainerLog, sinceNanos } from "../logs.js";
import type { ExecStreams, Runtime } from "../runtime/types.js";
import { authorize, identityOf } from "./auth.js";
import { SummaryProvider } from "./stats.js";

export interface ContainerLocation {
  podUid: string;
  containerId?: string;
  running: boolean;
  logPath?: string;
  previousLogPath?: string;
  /** The container spec's stdin and tty (attach uses the container's TTY setting). */
  stdin: boolean;
  tty: boolean;
}

export interface PodLocator {
  /** The pod's running/last container of that name; undefined → 404 as upstream words it. */
  container(namespace: string, pod: string, container: string): ContainerLocation | undefined;
  pods(): KObject[];
}

export interface KubeletServerOptions {
  /** The runtime, or how to get it (the kubelet makes its runtime when it starts, after this server). */
  runtime: Runtime | (() => Runtime | undefined);
  pods: PodLocator;
  /** The kubelet's serving key and certificate, and the CA whose client certificates are accepted. */
  tls: { key: string; cert: string; ca: string };
  bind: string;
  /** 0 = any free port. */
  port: number;
  /** For /stats/summary (default: the host name). */
  nodeName?: string;
  /** The file system /stats/summary reports for the node (default "/"). */
  rootDir?: string;
  /** /stats/summary's per-pod volume entries, by pod uid (default none). */
  volumeStats?: (pods: KObject[]) => Promise<ReadonlyMap<string, Record<string, unknown>[]>>;
}

/** A route of the kubelet API, from its path. */
export type Route =
  | { kind: "healthz" | "pods" | "summary" | "metrics" }
  | { kind: "containerLogs"; namespace: string; pod: string; container: string }
  | { kind: "exec" | "attach"; namespace: string; pod: string; uid?: string; container: string }
  | { kind: "portForward"; namespace: string; pod: string; uid?: string }
  | { kind: "notFound" };

/** Upstream's routes (with the optional pod uid segment of exec/attach/portForward). */
export function routeOf(path: string): Route {
  if (path === "/healthz") return { kind: "healthz" };
  if (path === "/pods" || path === "/pods/") return { kind: "pods" };
  if (path === "/stats/summary" || path === "/stats/summary/") return { kind: "summary" };
  if (path === "/metrics") return { kind: "metrics" };
  let parts: string[];
  try {
    parts = path.split("/").slice(1).map(decodeURIComponent);
  } catch {
    return { kind: "notFound" };
  }
  const [head, ...rest] = parts;
  if (rest.some((p) => p === "")) return { kind: "notFound" };
  if (head === "containerLogs" && rest.length === 3) {
    return { kind: "containerLogs", namespace: rest[0]!, pod: rest[1]!, container: rest[2]! };
  }
  if ((head === "exec" || head === "attach") && (rest.length === 3 || rest.length === 4)) {
    const [namespace, pod] = rest as [string, string];
    return rest.length === 3
      ? { kind: head, namespace, pod, container: rest[2]! }
      : { kind: head, namespace, pod, uid: rest[2]!, container: rest[3]! };
  }
  if (head === "portForward" && (rest.length === 2 || rest.length === 3)) {
    return { kind: "portForward", namespace: rest[0]!, pod: rest[1]!, ...(rest[2] ? { uid: rest[2] } : {}) };
  }
  return { kind: "notFound" };
}

function text(res: ServerResponse, code: number, body: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const b = `${body}\n`;
  res.writeHead(code, {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
    "content-length": Buffer.byteLength(b),
  });
  res.end(b);
}

function json(res: ServerResponse, body: unknown): void {
  const b = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(b) });
  res.end(b);
}

function findPod(pods: KObject[], namespace: string, name: string): KObject | undefined {
  return pods.find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
}

function specHasContainer(pod: KObject, name: string, withEphemeral: boolean): boolean {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const keys = ["containers", "initContainers", ...(withEphemeral ? ["ephemeralContainers"] : [])];
  return keys.some((k) => Array.isArray(spec[k]) && spec[k].some((c) => isRecord(c) && c["name"] === name));
}

export class KubeletServer {
  private readonly opts: KubeletServerOptions;
  private server: Server | undefined;
  private readonly sockets = new Set<Duplex>();
  private readonly aborts = new Set<AbortController>();
  private readonly summary = new SummaryProvider();

  constructor(opts: KubeletServerOptions) {
    this.opts = opts;
  }

  /** Listens; resolves with the bound port. */
  private runtime(): Runtime {
    const r = typeof this.opts.runtime === "function" ? this.opts.runtime() : this.opts.runtime;
    if (!r) throw new Error("the container runtime is not running yet");
    return r;
  }

  async start(): Promise<number> {
    const server = createServer(
      {
        key: this.opts.tls.key,
        cert: this.opts.tls.cert,
        ca: this.opts.tls.ca,
        requestCert: true,
        rejectUnauthorized: false,
        ALPNProtocols: ["http/1.1"],
      },
      (req, res) => {
        this.request(req, res).catch((e: unknown) => {
          log.error("kubelet API request failed", { path: req.url, error: String((e as Error)?.stack ?? e) });
          text(res, 500, String((e as Error)?.message ?? e));
        });
      },
    );
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((e: unknown) => {
        log.error("kubelet API upgrade failed", { path: req.url, error: String((e as Error)?.stack ?? e) });
        socket.destroy();
      });
    });
    server.on("secureConnection", (s: TLSSocket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    server.on("tlsClientError", () => undefined);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.bind, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    return typeof addr === "object" && addr ? addr.port : this.opts.port;
  }

  /** Stops listening and ends every open connection (running execs are told the client left). */
  async stop(): Promise<void> {
    for (const a of this.aborts) a.abort();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private authorized(req: IncomingMessage, path: string): { ok: true } | { ok: false; code: number; message: string } {
    const d = authorize(identityOf(req.socket as TLSSocket), req.method ?? "GET", path);
    return d.allowed ? { ok: true } : { ok: false, code: d.code, message: d.message };
  }

  private async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://kubelet");
    const auth = this.authorized(req, url.pathname);
    if (!auth.ok) return text(res, auth.code, auth.message);
    const route = routeOf(url.pathname);
    const method = req.method ?? "GET";
    const getOnly = (fn: () => Promise<void> | void) =>
      method === "GET" || method === "HEAD" ? fn() : text(res, 405, "Method Not Allowed");
    switch (route.kind) {
      case "healthz":
        return getOnly(() => text(res, 200, "ok"));
      case "pods":
        return getOnly(() =>
          json(res, { kind: "PodList", apiVersion: "v1", metadata: {}, items: this.opts.pods.pods() }),
        );
      case "summary":
        return getOnly(async () => {
          const pods = this.opts.pods.pods();
          const [containers, stats, volumes] = await Promise.all([
            this.runtime().listContainers(),
            this.runtime().stats(),
            this.opts.volumeStats?.(pods),
          ]);
          json(
            res,
            await this.summary.summary({
              nodeName: this.opts.nodeName ?? "",
              pods,
              containers,
              stats,
              rootDir: this.opts.rootDir ?? "/",
              volumes,
            }),
          );
        });
      case "metrics":
        return getOnly(async () => {
          const volumes = await this.opts.volumeStats?.(this.opts.pods.pods());
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
          res.end(volumeMetrics(volumes));
        });
      case "containerLogs":
        return getOnly(() => this.containerLogs(res, route, url.searchParams));
      case "exec":
      case "attach":
      case "portForward":
        if (method !== "GET" && method !== "POST") return text(res, 405, "Method Not Allowed");
        return text(res, 400, "Upgrade request required");
      default:
        return text(res, 404, "404 page not found");
    }
  }

  private async containerLogs(
    res: ServerResponse,
    route: { namespace: string; pod: string; container: string },
    query: URLSearchParams,
  ): Promise<void> {
    const opts = parsePodLogOptions(query);
    if ("kind" in opts) {
      if (opts.kind === "decode") return text(res, 400, '{"message": "Unable to decode query."}');
      return text(res, 422, '{"message": "Invalid request."}');
    }
    const pod = findPod(this.opts.pods.pods(), route.namespace, route.pod);
    if (!pod) return text(res, 404, `pod ${JSON.stringify(route.pod)} does not exist`);
    const q = JSON.stringify;
    const loc = specHasContainer(pod, route.container, false)
      ? this.opts.pods.container(route.namespace, route.pod, route.container)
      : undefined;
    if (!loc) return text(res, 404, `container ${q(route.container)} not found in pod ${q(route.pod)}`);
    let path: string | undefined;
    let isRunning: () => Promise<boolean> = async () => false;
    if (opts.previous) {
      path = loc.previousLogPath;
      if (!path)
        return text(res, 400, `previous terminated container ${q(route.container)} in pod ${q(route.pod)} not found`);
    } else {
      path = loc.logPath;
      if (!path)
        return text(
          res,
          400,
          `container ${q(route.container)} in pod ${q(route.pod)} is waiting to start - no logs yet`,
        );
      const id = loc.containerId;
      if (id && loc.running) isRunning = async () => (await this.runtime().containerStatus(id))?.state === "running";
    }
    const abort = new AbortController();
    this.aborts.add(abort);
    const onClose = () => abort.abort();
    res.on("close", onClose);
    let started = false;
    try {
      await readContainerLog(
        path,
        {
          follow: opts.follow,
          timestamps: opts.timestamps,
          tailLines: opts.tailLines,
          limitBytes: opts.limitBytes,
          sinceNs: sinceNanos(opts),
          isRunning,
          signal: abort.signal,
        },
        (data) => {
          if (!started) {
            started = true;
            res.writeHead(200, { "content-type": "text/plain" });
            res.flushHeaders();
          }
          if (res.write(data)) return undefined;
          return new Promise<void>((resolve) => {
            const done = () => {
              res.off("drain", done);
              res.off("close", done);
              resolve();
            };
            res.on("drain", done);
            res.on("close", done);
          });
        },
      );
      if (!started) res.writeHead(200, { "content-type": "text/plain" });
      res.end();
    } catch (e) {
      if (e instanceof LogReadError && !started) return text(res, 400, e.message);
      throw e;
    } finally {
      res.off("close", onClose);
      this.aborts.delete(abort);
    }
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    const url = new URL(req.url ?? "/", "https://kubelet");
    const auth = this.authorized(req, url.pathname);
    if (!auth.ok) return writeHttpError(socket, auth.code, auth.message);
    const route = routeOf(url.pathname);
    if (route.kind === "portForward") return this.portForward(req, socket, head, route);
    if (route.kind !== "exec" && route.kind !== "attach") return writeHttpError(socket, 404, "404 page not found");
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "POST") return writeHttpError(socket, 405, "Method Not Allowed");
    const options = parseStreamOptions(url.searchParams);
    if ("error" in options) return writeHttpError(socket, 400, options.error);
    const pod = findPod(this.opts.pods.pods(), route.namespace, route.pod);
    if (!pod) return writeHttpError(socket, 404, "pod does not exist");
    const uidMatches = route.uid === undefined || route.uid === pod.metadata.uid;
    const loc =
      uidMatches && specHasContainer(pod, route.container, true)
        ? this.opts.pods.container(route.namespace, route.pod, route.container)
        : undefined;
    const id = loc?.running ? loc.containerId : undefined;
    if (!loc || !id) {
      const message =
        route.kind === "exec"
          ? `container not found (${JSON.stringify(route.container)})`
          : `container ${route.container} not found in pod ${route.pod}_${route.namespace}`;
      return writeHttpError(socket, 404, message);
    }
    const session = await acceptRemoteCommand(req, socket, head, options);
    if (!session) return;
    log.debug("kubelet stream session", {
      kind: route.kind,
      pod: `${route.namespace}/${route.pod}`,
      container: route.container,
      transport: session.transport,
      protocol: session.protocol,
    });
    if (route.kind === "exec") await this.runExec(session, id, url.searchParams.getAll("command"), options);
    else await this.runAttach(session, id, loc.tty, loc.logPath);
  }

  /**
   * kubectl port-forward: SPDY (portforward.k8s.io). A WebSocket tunnel is refused with 400, upon
   * which kubectl falls back to SPDY.
   */
  private portForward(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    route: { namespace: string; pod: string; uid?: string },
  ): void {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "POST") {
      writeHttpError(socket, 405, "Method Not Allowed");
      return;
    }
    if (!isSpdyUpgrade(req)) {
      writeHttpError(socket, 400, "port forwarding is served over SPDY/3.1 (portforward.k8s.io) only");
      return;
    }
    const pod = findPod(this.opts.pods.pods(), route.namespace, route.pod);
    if (!pod || (route.uid !== undefined && route.uid !== pod.metadata.uid)) {
      writeHttpError(socket, 404, "pod does not exist");
      return;
    }
    const uid = pod.metadata.uid ?? "";
    servePortForward(
      req,
      socket,
      head,
      (port, stream) => this.runtime().portForward(uid, port, stream),
      `${route.pod}_${route.namespace}, uid ${uid}`,
    );
  }

  private streamsOf(session: RemoteCommandSession, tty: boolean): ExecStreams {
    return {
      ...(session.stdin ? { stdin: session.stdin } : {}),
      ...(session.stdout ? { stdout: session.stdout } : {}),
      ...(session.stderr && !tty ? { stderr: session.stderr } : {}),
      tty,
      onResize: (listener) => session.onResize(listener),
    };
  }

  private async runExec(
    session: RemoteCommandSession,
    id: string,
    argv: string[],
    options: StreamOptions,
  ): Promise<void> {
    let code: number;
    try {
      code = await this.runtime().exec(id, argv, this.streamsOf(session, options.tty));
    } catch (e) {
      await session.finish({ error: `error executing command in container: ${(e as Error)?.message ?? String(e)}` });
      return;
    }
    await session.finish({ exitCode: code, argv });
  }

  private async runAttach(session: RemoteCommandSession, id: string, tty: boolean, logPath?: string): Promise<void> {
    const streams = this.streamsOf(session, tty);
    // the runtime writes into a relay (which it may end), so this session can still write afterwards
    let delivered = 0;
    const target = streams.stdout;
    if (target) {
      const relay = new PassThrough();
      relay.on("data", (d: Buffer) => {
        delivered += d.length;
        target.write(d);
      });
      streams.stdout = relay;
    }
    try {
      await this.runtime().attach(id, streams);
    } catch (e) {
      await session.finish({ error: `error attaching to container: ${(e as Error)?.message ?? String(e)}` });
      return;
    }
    // A container that ran to its end before anything reached this attach (`kubectl run -it ... -- sh -c
    // 'echo hi'`, where the attach comes a moment after the start): its output, from the log, so that
    // the client sees what kubectl shows when it finds the pod already finished.
    if (delivered === 0 && logPath && (await this.runtime().containerStatus(id))?.state === "exited") {
      await this.replayLog(logPath, session, tty).catch(() => undefined);
    }
    await session.finish({ exitCode: 0 });
  }

  private async replayLog(path: string, session: RemoteCommandSession, tty: boolean): Promise<void> {
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(path, "utf8");
    for (const line of text.split("\n")) {
      // (a TTY's lines end in \r, which `.` would not match)
      const m = /^\S+ (stdout|stderr) (F|P) ([^\n]*)$/.exec(line);
      if (!m) continue;
      const dst = m[1] === "stderr" && !tty ? session.stderr : session.stdout;
      dst?.write(m[2] === "F" ? `${m[3]}\n` : m[3]);
    }
  }
}

/** The kubelet's volume gauges (upstream kubelet_volume_stats_*), per claim, in Prometheus' text format. */
export function volumeMetrics(volumes: ReadonlyMap<string, Record<string, unknown>[]> | undefined): string {
  const gauges: Array<[string, string, string]> = [
    ["kubelet_volume_stats_available_bytes", "Number of available bytes in the volume", "availableBytes"],
    ["kubelet_volume_stats_capacity_bytes", "Capacity in bytes of the volume", "capacityBytes"],
    ["kubelet_volume_stats_inodes", "Maximum number of inodes in the volume", "inodes"],
    ["kubelet_volume_stats_inodes_free", "Number of free inodes in the volume", "inodesFree"],
    ["kubelet_volume_stats_inodes_used", "Number of used inodes in the volume", "inodesUsed"],
    ["kubelet_volume_stats_used_bytes", "Number of used bytes in the volume", "usedBytes"],
  ];
  const entries = [...(volumes?.values() ?? [])].flat();
  const seen = new Set<string>();
  const claims: Array<{ labels: string; stats: Record<string, unknown> }> = [];
  for (const e of entries) {
    const ref = e["pvcRef"] as { name?: string; namespace?: string } | undefined;
    if (!ref?.name) continue;
    const labels = `namespace="${escapeLabel(ref.namespace ?? "")}",persistentvolumeclaim="${escapeLabel(ref.name)}"`;
    // a claim mounted by several pods is one volume
    if (seen.has(labels)) continue;
    seen.add(labels);
    claims.push({ labels, stats: e });
  }
  claims.sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
  let out = "";
  for (const [name, help, field] of gauges) {
    out += `# HELP ${name} [ALPHA] ${help}\n# TYPE ${name} gauge\n`;
    for (const c of claims) {
      const v = c.stats[field];
      if (typeof v === "number") out += `${name}{${c.labels}} ${v}\n`;
    }
  }
  return out;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
