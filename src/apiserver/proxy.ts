/**
 * The API server's way to the node agents: pods/log (streamed through), pods/exec, pods/attach and
 * pods/portforward (an HTTP/1.1 upgrade piped both ways once the kubelet answers), nodes/proxy (any
 * method and path on the kubelet) and pods/proxy (HTTP to the pod's IP). The API server's own checks
 * come first, worded as upstream pkg/registry/core/pod (LogLocation, streamLocation) and
 * pkg/kubelet/client (GetConnectionInfo): which container, whether the pod has a node, where the
 * node's kubelet listens. The kubelet is reached over TLS with the API server's kubelet client
 * certificate, without verifying the kubelet's serving certificate (upstream's default without
 * --kubelet-certificate-authority).
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { isRecord, type KObject } from "../api/types.js";
import { parsePodLogOptions, podLogQuery } from "../kubelet/logs.js";
import type { Catalog } from "./catalog.js";
import { ApiError, badRequest, internal, invalid, methodNotAllowed } from "./errors.js";
import type { Req, RequestInfo, Res } from "./http.js";
import type { Registry } from "./rest.js";

/** The kubelet's port when the node does not say (upstream's --kubelet-port default). */
export const DEFAULT_KUBELET_PORT = 10250;

/** Address types tried in order for the kubelet's host. */
export const PREFERRED_ADDRESS_TYPES = ["InternalIP", "Hostname", "InternalDNS", "ExternalIP", "ExternalDNS"];

/** How much of an error body from the kubelet is read into the Status message. */
const MAX_ERROR_BODY = 64 * 1024;

interface ContainerSpec {
  name: string;
}

function containersOf(spec: Record<string, unknown>, key: string): ContainerSpec[] {
  const list = spec[key];
  if (!Array.isArray(list)) return [];
  return list.filter(isRecord).map((c) => ({ name: String(c["name"] ?? "") }));
}

/** Init, regular, then ephemeral containers (upstream VisitContainers' order). */
export function allContainerNames(pod: KObject): string[] {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  return [
    ...containersOf(spec, "initContainers"),
    ...containersOf(spec, "containers"),
    ...containersOf(spec, "ephemeralContainers"),
  ].map((c) => c.name);
}

/**
 * The container a request is for (upstream validateContainer): the named one if the pod has it,
 * else the only regular container.
 */
export function chooseContainer(pod: KObject, requested: string | undefined): string {
  const name = pod.metadata.name ?? "";
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  if (!requested) {
    const regular = containersOf(spec, "containers");
    if (regular.length === 1) return regular[0]!.name;
    if (regular.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    throw badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${allContainerNames(pod).join(" ")}]`,
    );
  }
  if (!allContainerNames(pod).includes(requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

function statusOf(pod: KObject, container: string): Record<string, unknown> | undefined {
  const status = isRecord(pod["status"]) ? pod["status"] : {};
  for (const key of ["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"]) {
    const list = status[key];
    if (!Array.isArray(list)) continue;
    const hit = list.find((s) => isRecord(s) && s["name"] === container);
    if (isRecord(hit)) return hit;
  }
  return undefined;
}

/**
 * Whether the container has logs to show, from the pod's status (the kubelet's
 * validateContainerLogStatus): undefined when it has, else the message.
 */
export function logStatusProblem(pod: KObject, container: string, previous: boolean): string | undefined {
  const podName = pod.metadata.name ?? "";
  const cs = statusOf(pod, container);
  const q = (s: string) => JSON.stringify(s);
  if (!cs) return `container ${q(container)} in pod ${q(podName)} is not available`;
  const state = isRecord(cs["state"]) ? cs["state"] : {};
  const last = isRecord(cs["lastState"]) ? cs["lastState"] : {};
  const lastTerminated = isRecord(last["terminated"]) ? last["terminated"] : undefined;
  const running = isRecord(state["running"]);
  const terminated = isRecord(state["terminated"]) ? state["terminated"] : undefined;
  const waiting = isRecord(state["waiting"]) ? state["waiting"] : undefined;
  const hasId = (t: Record<string, unknown> | undefined) =>
    typeof t?.["containerID"] === "string" && t["containerID"] !== "";
  if (previous) {
    if (!lastTerminated || !hasId(lastTerminated)) {
      return `previous terminated container ${q(container)} in pod ${q(podName)} not found`;
    }
    return undefined;
  }
  if (running) return undefined;
  if (terminated) {
    if (hasId(terminated) || hasId(lastTerminated)) return undefined;
    return `container ${q(container)} in pod ${q(podName)} is terminated`;
  }
  if (lastTerminated) {
    if (hasId(lastTerminated)) return undefined;
    return `container ${q(container)} in pod ${q(podName)} is terminated`;
  }
  if (waiting) {
    const reason = String(waiting["reason"] ?? "");
    if (reason === "ErrImagePull")
      return `container ${q(container)} in pod ${q(podName)} is waiting to start: image can't be pulled`;
    if (reason === "ImagePullBackOff") {
      return `container ${q(container)} in pod ${q(podName)} is waiting to start: trying and failing to pull image`;
    }
    return `container ${q(container)} in pod ${q(podName)} is waiting to start: ${reason}`;
  }
  return `container ${q(container)} in pod ${q(podName)} is waiting to start - no logs yet`;
}

/** host and port of a node's kubelet (upstream NodeConnectionInfoGetter). */
export function kubeletAddress(node: KObject): { host: string; port: number } {
  const status = isRecord(node["status"]) ? node["status"] : {};
  const addresses = (Array.isArray(status["addresses"]) ? status["addresses"] : []).filter(isRecord).map((a) => ({
    type: String(a["type"] ?? ""),
    address: String(a["address"] ?? ""),
  }));
  let host: string | undefined;
  for (const t of PREFERRED_ADDRESS_TYPES) {
    host = addresses.find((a) => a.type === t && a.address !== "")?.address;
    if (host) break;
  }
  if (!host) {
    // a plain error upstream: a 500 with reason Unknown
    throw new ApiError(
      500,
      "",
      `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(" ")}]`,
    );
  }
  const endpoints = isRecord(status["daemonEndpoints"]) ? status["daemonEndpoints"] : {};
  const kubelet = isRecord(endpoints["kubeletEndpoint"]) ? endpoints["kubeletEndpoint"] : {};
  const port = typeof kubelet["Port"] === "number" && kubelet["Port"] > 0 ? kubelet["Port"] : DEFAULT_KUBELET_PORT;
  return { host, port };
}

/** Go's strconv.ParseBool, for the exec/attach options. */
function goBool(v: string | null, name: string): boolean {
  if (v === null) return false;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False", ""].includes(v)) return false;
  throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax (${name})`);
}

/** The kubelet query for exec/attach (upstream streamParams: flags as "1", then the command). */
export function streamQuery(query: URLSearchParams, withCommand: boolean): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of ["stdin", "stdout", "stderr", "tty"]) if (goBool(query.get(k), k)) out.append(k, "1");
  if (withCommand) for (const c of query.getAll("command")) out.append("command", c);
  return out;
}

/** The kubelet query for port forwarding: the ports, comma-joined. */
export function portForwardQuery(query: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  const ports = query
    .getAll("ports")
    .flatMap((p) => p.split(","))
    .filter((p) => p !== "");
  for (const p of ports) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw badRequest(`invalid port ${JSON.stringify(p)}`);
  }
  if (ports.length > 0) out.set("port", ports.join(","));
  return out;
}

/** What follows `.../<name>/proxy` in a request path, raw ("/" when nothing does). */
export function proxyRemainder(rawPath: string): string {
  const m = /^\/api\/v1\/(?:namespaces\/[^/]+\/)?[^/]+\/[^/]+\/proxy(\/.*)?$/.exec(rawPath);
  return m?.[1] ?? "/";
}

/** Headers that belong to one hop, or carry the client's credentials to the API server. */
const NOT_FORWARDED = new Set([
  "host",
  "authorization",
  "proxy-authorization",
  "cookie",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
]);

function forwardedRequestHeaders(headers: IncomingHttpHeaders, upgrade: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.startsWith(":")) continue;
    if (NOT_FORWARDED.has(k) || k.startsWith("impersonate-")) continue;
    if (!upgrade && (k === "connection" || k === "upgrade")) continue;
    out[k] = v;
  }
  return out;
}

const HOP_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

/** A Status as an HTTP/1.1 response on a socket that was not upgraded. */
export function writeStatusOnSocket(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  const reason =
    err.code === 400 ? "Bad Request" : err.code === 404 ? "Not Found" : err.code === 401 ? "Unauthorized" : "Error";
  socket.end(
    `HTTP/1.1 ${err.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * An error answer of the kubelet as the Status the API server returns (upstream
 * GenericHttpResponseChecker: 400 → BadRequest with the body, 500 → InternalError, others generic).
 */
export function kubeletErrorStatus(code: number, body: string, resource: string, name: string): ApiError {
  const text = body.trim();
  if (code === 400) return badRequest(text);
  if (code === 500) return internal(text);
  const generic: Record<number, [string, string]> = {
    401: ["Unauthorized", "the server has asked for the client to provide credentials"],
    403: ["Forbidden", text],
    404: ["NotFound", "the server could not find the requested resource"],
    405: ["MethodNotAllowed", "the server does not allow this method on the requested resource"],
    503: ["ServiceUnavailable", "the server is currently unable to handle the request"],
  };
  const [reason, message] = generic[code] ?? [
    "",
    `the server responded with the status code ${code} but did not return more information`,
  ];
  return new ApiError(code, reason, `${message} ( ${resource} ${name})`, { name, kind: resource });
}

export interface NodeProxyOptions {
  /** The API server's client certificate towards kubelets (PEM). Without it, kubelets see an anonymous client. */
  kubeletClient?: { cert: string; key: string };
}

const proxies = new WeakMap<Registry, NodeProxy>();

type Target =
  | { kind: "kubelet"; host: string; port: number; path: string; query: URLSearchParams }
  | { kind: "pod"; host: string; port: number; scheme: "http" | "https"; path: string; query: URLSearchParams };

export class NodeProxy {
  private readonly catalog: Catalog;
  private readonly registry: Registry;
  private kubeletClient: { cert: string; key: string } | undefined;
  private agent: Agent;
  /** Client and kubelet sockets of upgraded connections. */
  private readonly piped = new Set<Duplex>();

  constructor(catalog: Catalog, registry: Registry, opts: NodeProxyOptions = {}) {
    this.catalog = catalog;
    this.registry = registry;
    this.kubeletClient = opts.kubeletClient;
    this.agent = this.makeAgent();
    proxies.set(registry, this);
  }

  private makeAgent(): Agent {
    return new Agent({
      keepAlive: true,
      maxSockets: 64,
      rejectUnauthorized: false,
      ...(this.kubeletClient ? { cert: this.kubeletClient.cert, key: this.kubeletClient.key } : {}),
    });
  }

  get hasKubeletClient(): boolean {
    return this.kubeletClient !== undefined;
  }

  /** Takes a new client certificate (rotation); connections made from now on use it. */
  setKubeletClient(cred: { cert: string; key: string }): void {
    this.kubeletClient = cred;
    const old = this.agent;
    this.agent = this.makeAgent();
    old.destroy();
  }

  /** The proxy of the API server this registry belongs to (one without a client certificate if none was made). */
  static of(catalog: Catalog, registry: Registry): NodeProxy {
    return proxies.get(registry) ?? new NodeProxy(catalog, registry);
  }

  /** Ends the kubelet connections, also the upgraded ones still piping. */
  stop(): void {
    this.agent.destroy();
    for (const s of this.piped) s.destroy();
    this.piped.clear();
  }

  private async getObject(plural: "pods" | "nodes", namespace: string | undefined, name: string): Promise<KObject> {
    const sv = this.catalog.lookup("", "v1", plural)!;
    return (await this.registry.get(sv, namespace, name)).obj;
  }

  private async nodeOf(pod: KObject): Promise<{ host: string; port: number } | undefined> {
    const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
    const nodeName = typeof spec["nodeName"] === "string" ? spec["nodeName"] : "";
    if (nodeName === "") return undefined;
    return kubeletAddress(await this.getObject("nodes", undefined, nodeName));
  }

  /** Where a request goes, after the API server's checks (which throw their Status). */
  private async locate(
    ri: RequestInfo,
    query: URLSearchParams,
    rawPath: string,
    upgrade: boolean,
  ): Promise<Target | "empty"> {
    const ns = ri.namespace;
    if (ri.resource === "nodes") {
      if (ri.name.includes(":")) throw badRequest(`invalid node request ${JSON.stringify(ri.name)}`);
      const node = await this.getObject("nodes", undefined, ri.name);
      const { host, port } = kubeletAddress(node);
      return { kind: "kubelet", host, port, path: proxyRemainder(rawPath), query };
    }
    const sub = ri.subresource;
    // pods/proxy names "pod", "pod:port" or "scheme:pod:port"
    const idParts = ri.name.split(":");
    const podName = sub === "proxy" && idParts.length === 3 ? idParts[1]! : sub === "proxy" ? idParts[0]! : ri.name;
    const pod = await this.getObject("pods", ns, podName);
    const name = pod.metadata.name ?? "";
    const enc = encodeURIComponent;
    switch (sub) {
      case "log": {
        if (ri.verb !== "get") throw methodNotAllowed(ri.verb.toUpperCase(), "PodLogOptions");
        const opts = parsePodLogOptions(query);
        if ("kind" in opts) {
          if (opts.kind === "decode") throw badRequest(opts.message);
          const fieldErrors = opts.causes.map((c) => (c.field === "" ? c.message : `${c.field}: ${c.message}`));
          throw invalid(
            "PodLogOptions",
            "",
            name,
            opts.causes.map((c) => ({
              type: c.message.startsWith("Forbidden") ? "FieldValueForbidden" : "FieldValueInvalid",
              field: c.field,
              message: c.message,
            })),
            `PodLogOptions ${JSON.stringify(name)} is invalid: ${fieldErrors.length === 1 ? fieldErrors[0] : `[${fieldErrors.join(", ")}]`}`,
          );
        }
        const container = chooseContainer(pod, opts.container);
        const where = await this.nodeOf(pod);
        if (!where) return "empty";
        const problem = logStatusProblem(pod, container, opts.previous);
        if (problem) throw badRequest(problem);
        return {
          kind: "kubelet",
          ...where,
          path: `/containerLogs/${enc(pod.metadata.namespace ?? "")}/${enc(name)}/${enc(container)}`,
          query: podLogQuery(opts),
        };
      }
      case "exec":
      case "attach": {
        if (ri.verb !== "get" && ri.verb !== "create")
          throw methodNotAllowed(ri.verb.toUpperCase(), sub === "exec" ? "PodExecOptions" : "PodAttachOptions");
        const container = chooseContainer(pod, query.get("container") ?? undefined);
        const where = await this.nodeOf(pod);
        if (!where) throw badRequest(`pod ${name} does not have a host assigned`);
        const q = streamQuery(query, sub === "exec");
        if (!upgrade) throw badRequest("Upgrade request required");
        return {
          kind: "kubelet",
          ...where,
          path: `/${sub}/${enc(pod.metadata.namespace ?? "")}/${enc(name)}/${enc(container)}`,
          query: q,
        };
      }
      case "portforward": {
        if (ri.verb !== "get" && ri.verb !== "create")
          throw methodNotAllowed(ri.verb.toUpperCase(), "PodPortForwardOptions");
        const where = await this.nodeOf(pod);
        if (!where) throw badRequest(`pod ${name} does not have a host assigned`);
        const q = portForwardQuery(query);
        if (!upgrade) throw badRequest("Upgrade request required");
        return {
          kind: "kubelet",
          ...where,
          path: `/portForward/${enc(pod.metadata.namespace ?? "")}/${enc(name)}`,
          query: q,
        };
      }
      case "proxy": {
        // "pod", "pod:port" or "scheme:pod:port" (upstream ResourceLocation)
        const parts = ri.name.split(":");
        if (parts.length > 3 || parts.some((p) => p === "" && parts.length > 1)) {
          throw badRequest(`invalid pod request ${JSON.stringify(ri.name)}`);
        }
        const scheme = parts.length === 3 ? parts[0]! : "http";
        if (scheme !== "http" && scheme !== "https") throw badRequest(`invalid pod request ${JSON.stringify(ri.name)}`);
        let port = parts.length >= 2 ? parts.at(-1)! : "";
        if (port === "") {
          const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
          const containers = Array.isArray(spec["containers"]) ? spec["containers"].filter(isRecord) : [];
          for (const c of containers) {
            const ports = Array.isArray(c["ports"]) ? c["ports"].filter(isRecord) : [];
            if (ports.length > 0) {
              port = String(ports[0]!["containerPort"] ?? "");
              break;
            }
          }
        }
        const status = isRecord(pod["status"]) ? pod["status"] : {};
        const ip = String(status["podIP"] ?? "");
        if (!isGlobalUnicast(ip)) throw badRequest("address not allowed");
        const p = port === "" ? (scheme === "https" ? 443 : 80) : Number(port);
        if (!Number.isInteger(p) || p < 1 || p > 65535)
          throw badRequest(`invalid pod request ${JSON.stringify(ri.name)}`);
        return { kind: "pod", host: ip, port: p, scheme, path: proxyRemainder(rawPath), query };
      }
      default:
        throw badRequest(`the ${sub} subresource is not served`);
    }
  }

  /** A request for a node-served subresource that is not an upgrade. */
  async serve(req: Req, res: Res, ri: RequestInfo, query: URLSearchParams): Promise<void> {
    const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
    const target = await this.locate(ri, query, rawPath, false);
    if (target === "empty") {
      // a pod not yet on a node has no logs: an empty stream, as upstream's nil location
      res.writeHead(200, { "content-type": "text/plain" });
      res.end();
      return;
    }
    if (ri.subresource === "log") return this.streamLog(req, res, target, ri.name);
    return this.forward(req, res, target, ri);
  }

  private requestTo(target: Target, method: string, headers: Record<string, string | string[]>) {
    const qs = target.query.toString();
    const path = `${target.path}${qs ? `?${qs}` : ""}`;
    const common = { host: target.host, port: target.port, method, path, headers };
    if (target.kind === "kubelet") return httpsRequest({ ...common, agent: this.agent });
    return target.scheme === "https" ? httpsRequest({ ...common, rejectUnauthorized: false }) : httpRequest(common);
  }

  private streamLog(req: Req, res: Res, target: Target, name: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const up = this.requestTo(target, "GET", { accept: "*/*" });
      const abort = () => up.destroy();
      req.on("close", abort);
      up.on("response", (kres) => {
        const code = kres.statusCode ?? 500;
        if (code < 200 || code > 206) {
          readLimited(kres).then((body) => {
            req.off("close", abort);
            sendStatus(res, kubeletErrorStatus(code, body, "pods/log", name));
            resolve();
          }, resolve);
          return;
        }
        res.writeHead(200, { "content-type": "text/plain" });
        const out = res as unknown as NodeJS.WritableStream;
        kres.on("data", (chunk: Buffer) => {
          if (!out.write(chunk)) {
            kres.pause();
            out.once("drain", () => kres.resume());
          }
        });
        kres.on("end", () => {
          req.off("close", abort);
          res.end();
          resolve();
        });
        kres.on("error", () => {
          res.end();
          resolve();
        });
      });
      up.on("error", (e) => {
        req.off("close", abort);
        if (!res.headersSent)
          sendStatus(res, new ApiError(503, "ServiceUnavailable", `error dialing backend: ${e.message}`));
        else res.end();
        resolve();
      });
      up.end();
    });
  }

  /** nodes/proxy and pods/proxy: the request as it came (method, body), the answer as it comes. */
  private forward(req: Req, res: Res, target: Target, ri: RequestInfo): Promise<void> {
    return new Promise<void>((resolve) => {
      const up = this.requestTo(target, req.method ?? "GET", forwardedRequestHeaders(req.headers, false));
      res.on("close", () => up.destroy());
      up.on("response", (r) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(r.headers))
          if (v !== undefined && !HOP_RESPONSE_HEADERS.has(k)) headers[k] = v;
        res.writeHead(r.statusCode ?? 502, headers);
        r.pipe(res as NodeJS.WritableStream);
        r.on("end", () => resolve());
        r.on("error", () => {
          res.end();
          resolve();
        });
      });
      up.on("error", (e) => {
        if (!res.headersSent) {
          sendStatus(
            res,
            new ApiError(503, "ServiceUnavailable", `error trying to reach service: ${e.message}`, {
              name: ri.name,
              kind: ri.resource,
            }),
          );
        } else res.end();
        resolve();
      });
      (req as NodeJS.ReadableStream).pipe(up);
    });
  }

  /**
   * An HTTP/1.1 upgrade (exec, attach, portforward, or any upgrade through nodes/proxy): the API
   * server's checks, then the request goes to the kubelet and the connection becomes a pipe. The
   * kubelet's answer, 101 or an error, reaches the client as the kubelet wrote it.
   */
  async upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ri: RequestInfo,
    query: URLSearchParams,
  ): Promise<void> {
    let target: Target | "empty";
    try {
      const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
      target = await this.locate(ri, query, rawPath, true);
      if (target === "empty") throw badRequest(`pod ${ri.name} does not have a host assigned`);
    } catch (e) {
      writeStatusOnSocket(socket, e instanceof ApiError ? e : internal(String((e as Error)?.message ?? e)));
      return;
    }
    const t = target;
    const qs = t.query.toString();
    const lines = [
      `${req.method ?? "GET"} ${t.path}${qs ? `?${qs}` : ""} HTTP/1.1`,
      `Host: ${hostPort(t.host, t.port)}`,
    ];
    for (const [k, v] of Object.entries(forwardedRequestHeaders(req.headers, true))) {
      for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
    }
    const tlsTarget = t.kind === "kubelet" || t.scheme === "https";
    const upstream = tlsTarget
      ? tlsConnect({
          host: t.host,
          port: t.port,
          rejectUnauthorized: false,
          ALPNProtocols: ["http/1.1"],
          ...(isIP(t.host) ? {} : { servername: t.host }),
          ...(t.kind === "kubelet" && this.kubeletClient ? this.kubeletClient : {}),
        })
      : (await import("node:net")).connect({ host: t.host, port: t.port });
    this.piped.add(socket).add(upstream);
    // each side is forgotten when it closes (a client socket ending after the kubelet's is still
    // tracked, so stop() can destroy it)
    socket.once("close", () => this.piped.delete(socket));
    upstream.once("close", () => this.piped.delete(upstream));
    let connected = false;
    upstream.once(tlsTarget ? "secureConnect" : "connect", () => {
      connected = true;
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", (e) => {
      if (!connected) writeStatusOnSocket(socket, internal(`error dialing backend: ${e.message}`));
      else socket.destroy();
    });
    socket.on("error", () => upstream.destroy());
    socket.on("close", () => upstream.destroy());
    // the kubelet finished: what it sent last (the output, the exit status) must still reach the
    // client, so end the client's socket after the piped bytes rather than destroying it under them
    upstream.on("close", () => {
      if (socket.destroyed) return;
      socket.end();
      setTimeout(() => socket.destroy(), 5000).unref();
    });
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's net.IP.IsGlobalUnicast: not loopback, link-local, multicast or unspecified. */
export function isGlobalUnicast(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    if (a === 0 || a === 127 || a >= 224 || ip === "255.255.255.255") return false;
    if (a === 169 && b === 254) return false;
    return true;
  }
  if (v === 6) {
    const l = ip.toLowerCase();
    return !(
      l === "::" ||
      l === "::1" ||
      l.startsWith("fe8") ||
      l.startsWith("fe9") ||
      l.startsWith("fea") ||
      l.startsWith("feb") ||
      l.startsWith("ff")
    );
  }
  return false;
}

function readLimited(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    stream.on("data", (c: Buffer) => {
      if (n < MAX_ERROR_BODY) chunks.push(c.subarray(0, MAX_ERROR_BODY - n));
      n += c.length;
    });
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function sendStatus(res: Res, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(err.toStatus());
  res.writeHead(err.code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
