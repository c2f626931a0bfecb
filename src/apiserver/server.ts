/**
 * The API server: HTTPS (HTTP/2 and HTTP/1.1) → authentication → routing → handlers.
 * Non-resource paths: /healthz /livez /readyz /version /metrics /api /apis /openapi/v2 /openapi/v3.
 */
import { type IncomingMessage, ServerResponse } from "node:http";
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { buildOpenAPI, type CustomResourceInput, type OpenAPIDocs, type ServedResource } from "../api/openapi/index.js";
import { PatchError } from "../api/patch/index.js";
import type { Store } from "../store/types.js";
import { log } from "../util/log.js";
import { BuiltinAdmission } from "./admission.js";
import { authenticateBootstrapToken, BOOTSTRAP_TOKEN_RE } from "./bootstraptokens.js";
import { Catalog } from "./catalog.js";
import { StoreCompactor } from "./compactor.js";
import { aggregatedDiscovery, apiGroup, apiGroupList, apiVersions, resourceList } from "./discovery.js";
import { ApiError, internal, pageNotFound, unauthorized } from "./errors.js";
import { type RequestContext, ResourceHandlers } from "./handlers.js";
import { parseAccept, parseResourcePath, type Req, type Res, sendError, sendJSON } from "./http.js";
import { Metrics } from "./metrics.js";
import { NodeProxy, writeStatusOnSocket } from "./proxy.js";
import { Registry } from "./rest.js";
import { ServiceAccountTokens } from "./satokens.js";
import { WatchCache } from "./watchcache.js";

/** Times every store call into k8ts_store_request_duration_seconds. */
function instrumentStore(store: Store, metrics: Metrics): Store {
  const timed =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const t = process.hrtime.bigint();
      try {
        return await fn(...args);
      } finally {
        metrics.storeLatency.observe({ operation, backend: store.backend }, Number(process.hrtime.bigint() - t) / 1e9);
      }
    };
  return {
    backend: store.backend,
    get: timed("get", store.get.bind(store)),
    list: timed("list", store.list.bind(store)),
    count: timed("count", store.count.bind(store)),
    create: timed("create", store.create.bind(store)),
    update: timed("update", store.update.bind(store)),
    delete: timed("delete", store.delete.bind(store)),
    watch: store.watch.bind(store),
    currentRevision: timed("currentRevision", store.currentRevision.bind(store)),
    compactedRevision: store.compactedRevision.bind(store),
    compact: timed("compact", store.compact.bind(store)),
    close: store.close.bind(store),
  };
}

export const KUBERNETES_VERSION = { major: "1", minor: "36", gitVersion: "v1.36.0-k8ts" };

export interface User {
  name: string;
  groups: string[];
}

export interface ApiServerOptions {
  store: Store;
  /** PEM key and certificate of the server, and the CA that signs client certificates. */
  tls: { key: string; cert: string; ca: string };
  /** Bearer tokens → users. */
  tokens: Map<string, User>;
  /** PEM (PKCS#8) key that signs service account tokens; without it TokenRequest is unavailable. */
  serviceAccountKey?: string;
  bind: string;
  port: number;
  /** etcd history compaction interval (default 5 minutes, as upstream). */
  compactionIntervalMs?: number;
  /** Recent events kept per resource for resuming watches (default 10000). */
  watchCacheWindow?: number;
  /** host:port clients should use (discovery's serverAddressByClientCIDRs). */
  advertiseAddress?: string;
  /** The client certificate (PEM) the API server shows kubelets for logs, exec, attach and nodes/proxy. */
  kubeletClient?: { cert: string; key: string };
}

const PUBLIC_PATHS = new Set(["/healthz", "/livez", "/readyz", "/version"]);
/** Readable without credentials, as upstream's RBAC lets system:anonymous read it (agents join with it). */
const CLUSTER_INFO_PATH = "/api/v1/namespaces/kube-public/configmaps/cluster-info";

export class ApiServer {
  readonly catalog = new Catalog();
  readonly cache: WatchCache;
  readonly registry: Registry;
  readonly admission: BuiltinAdmission;
  readonly metrics = new Metrics();
  readonly handlers: ResourceHandlers;
  private readonly opts: ApiServerOptions;
  private server: Http2SecureServer | undefined;
  /** Open HTTP/2 sessions (HTTP/1.1 connections are the server's own to close). */
  private readonly sessions = new Set<ServerHttp2Session>();
  private openapi: { generation: number; docs: OpenAPIDocs; v2pb?: Buffer } | undefined;
  private ready = false;
  private readonly compactor: StoreCompactor;
  readonly saTokens: ServiceAccountTokens | undefined;
  /** pods/log, exec, attach, portforward, proxy and nodes/proxy, served by the node agents. */
  readonly nodeProxy: NodeProxy;
  private readonly certUsers = new WeakMap<object, User>();
  port = 0;

  constructor(opts: ApiServerOptions) {
    this.opts = opts;
    const store = instrumentStore(opts.store, this.metrics);
    this.cache = new WatchCache(store, opts.watchCacheWindow);
    this.registry = new Registry(store, this.cache);
    this.admission = new BuiltinAdmission(this.cache);
    this.registry.admission = this.admission;
    this.handlers = new ResourceHandlers(this.catalog, this.registry, this.metrics);
    if (opts.serviceAccountKey) this.saTokens = new ServiceAccountTokens(opts.serviceAccountKey);
    this.handlers.saTokens = this.saTokens;
    this.handlers.authenticateToken = (token) => this.authenticateToken(token);
    this.compactor = new StoreCompactor(store, opts.compactionIntervalMs);
    this.nodeProxy = new NodeProxy(this.catalog, this.registry, { kubeletClient: opts.kubeletClient });
  }

  async start(): Promise<void> {
    await this.cache.start();
    if (this.opts.store.backend === "etcd") this.compactor.start();
    const server = createSecureServer(
      {
        allowHTTP1: true,
        // MB per HTTP/2 session: a fleet of simulated nodes shares one session (the default 10 MB
        // refuses its streams with ENHANCE_YOUR_CALM)
        maxSessionMemory: 512,
        key: this.opts.tls.key,
        cert: this.opts.tls.cert,
        ca: this.opts.tls.ca,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        void this.serve(req, res);
      },
    );
    server.on("session", (session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
    server.on("sessionError", () => undefined);
    server.on("tlsClientError", () => undefined);
    // HTTP/1.1 upgrades (exec, attach, port-forward) arrive here, not as requests
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.serveUpgrade(req, socket, head);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.bind, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    this.port = typeof addr === "object" && addr ? addr.port : this.opts.port;
  }

  markReady(): void {
    this.ready = true;
  }

  async stop(): Promise<void> {
    this.compactor.stop();
    this.nodeProxy.stop();
    this.cache.stop();
    const s = this.server;
    if (s) {
      await new Promise<void>((resolve) => {
        // a referenced timer: close() may wait on a session no socket keeps the process up for
        const late = setTimeout(resolve, 2000);
        s.close(() => {
          clearTimeout(late);
          resolve();
        });
        // end the HTTP/2 sessions so close() completes: GOAWAY, then gone (watches never end by themselves)
        for (const session of this.sessions) {
          const t = setTimeout(() => session.destroy(), 500);
          session.once("close", () => clearTimeout(t));
          session.close();
        }
      });
    }
  }

  /**
   * A bearer token: one of the token file's, or a service account token this server signed whose
   * service account (and bound pod or secret) still exists with the same uid.
   */
  authenticateToken(token: string): User | undefined {
    const fromFile = this.opts.tokens.get(token);
    if (fromFile) return fromFile;
    if (BOOTSTRAP_TOKEN_RE.test(token)) {
      const prefix = "/registry/core/secrets/";
      return authenticateBootstrapToken(
        token,
        (name) => this.cache.resource(prefix).items.get(`${prefix}kube-system/${name}`)?.obj,
      );
    }
    const claims = this.saTokens?.verify(token);
    if (!claims) return undefined;
    const k8s = claims["kubernetes.io"];
    const live = (plural: string, ns: string | undefined, name: string, uid: string): boolean => {
      const prefix = `/registry/core/${plural}/`;
      const c = this.cache.resource(prefix).items.get(ns ? `${prefix}${ns}/${name}` : `${prefix}${name}`);
      return c !== undefined && c.obj.metadata.uid === uid && c.obj.metadata.deletionTimestamp === undefined;
    };
    if (!live("serviceaccounts", k8s.namespace, k8s.serviceaccount.name, k8s.serviceaccount.uid)) return undefined;
    if (k8s.pod && !live("pods", k8s.namespace, k8s.pod.name, k8s.pod.uid)) return undefined;
    if (k8s.secret && !live("secrets", k8s.namespace, k8s.secret.name, k8s.secret.uid)) return undefined;
    return {
      name: claims.sub,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${k8s.namespace}`, "system:authenticated"],
    };
  }

  private authenticate(req: Req): User | undefined {
    const auth = req.headers.authorization;
    if (typeof auth === "string" && auth.startsWith("Bearer ")) {
      const user = this.authenticateToken(auth.slice(7).trim());
      if (user) return user;
    }
    const socket = req.socket as TLSSocket;
    // the certificate of a connection does not change: decode it once per connection
    const known = this.certUsers.get(socket);
    if (known) return known;
    if (socket.authorized) {
      const cert = socket.getPeerCertificate();
      const cn = cert.subject?.CN;
      const o = cert.subject?.O;
      if (typeof cn === "string") {
        const groups = Array.isArray(o) ? o.map(String) : typeof o === "string" ? [o] : [];
        const user = { name: cn, groups: [...groups, "system:authenticated"] };
        this.certUsers.set(socket, user);
        return user;
      }
    }
    return undefined;
  }

  /**
   * An HTTP/1.1 upgrade request: pods exec/attach/portforward/proxy and nodes/proxy go to the node
   * proxy once the client is authenticated as for any request (401 otherwise); any other upgrade
   * request without a body is answered as the plain request it also is.
   */
  private async serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    try {
      const url = new URL(req.url ?? "/", "https://localhost");
      const ri = parseResourcePath(req.method ?? "GET", url.pathname, url.searchParams);
      const proxied =
        ri !== undefined &&
        ri.group === "" &&
        ri.version === "v1" &&
        ((ri.resource === "pods" && ["exec", "attach", "portforward", "proxy"].includes(ri.subresource)) ||
          (ri.resource === "nodes" && ri.subresource === "proxy"));
      if (ri && proxied) {
        if (!this.authenticate(req)) {
          writeStatusOnSocket(socket, unauthorized());
          return;
        }
        await this.nodeProxy.upgrade(req, socket, head, ri, url.searchParams);
        return;
      }
      const hasBody =
        Number(req.headers["content-length"] ?? "0") > 0 || req.headers["transfer-encoding"] !== undefined;
      if (hasBody) {
        writeStatusOnSocket(socket, new ApiError(400, "BadRequest", "this request cannot be upgraded"));
        return;
      }
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.on("finish", () => {
        res.detachSocket(socket as Socket);
        socket.end();
      });
      await this.serve(req, res);
    } catch (err) {
      writeStatusOnSocket(socket, err instanceof ApiError ? err : internal(String((err as Error)?.message ?? err)));
    }
  }

  private async serve(req: Req, res: Res): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? "/", "https://localhost");
    const path = url.pathname;
    const ctx: RequestContext = {
      user: "",
      groups: [],
      userAgent: String(req.headers["user-agent"] ?? ""),
      warnings: [],
    };
    const labels = { verb: req.method ?? "", group: "", version: "", resource: "", subresource: "" };
    // Warnings must go out with the headers: patch writeHead to add them.
    const writeHead = res.writeHead.bind(res) as (code: number, headers?: Record<string, string | number>) => Res;
    (res as { writeHead: unknown }).writeHead = (code: number, headers?: Record<string, string | number>) => {
      if (ctx.warnings.length > 0) {
        res.setHeader(
          "warning",
          [...new Set(ctx.warnings)].map((w) => `299 - ${JSON.stringify(w)}`),
        );
      }
      return writeHead(code, headers);
    };
    try {
      if (!PUBLIC_PATHS.has(path) && !(path === CLUSTER_INFO_PATH && req.method === "GET")) {
        const user = this.authenticate(req);
        if (!user) throw unauthorized();
        ctx.user = user.name;
        ctx.groups = user.groups;
      }
      const ri = parseResourcePath(req.method ?? "GET", path, url.searchParams);
      if (ri) {
        labels.verb = ri.verb.toUpperCase();
        labels.group = ri.group;
        labels.version = ri.version;
        labels.resource = ri.resource;
        labels.subresource = ri.subresource;
        if (ri.verb === "watch") labels.verb = "WATCH";
        await this.handlers.handle(req, res, ri, url.searchParams, ctx);
      } else {
        await this.nonResource(req, res, path, url.searchParams);
      }
    } catch (err) {
      if (err instanceof ApiError) sendError(res, err);
      else if (err instanceof PatchError) {
        if (!res.headersSent) sendJSON(res, err.code, err.status());
        else res.end();
      } else if ((err as NodeJS.ErrnoException)?.code === "ERR_STREAM_PREMATURE_CLOSE" || req.destroyed) {
        // the client went away mid-request: nothing to answer, nothing wrong on our side
        log.debug("client closed the request", { method: req.method, path });
      } else {
        log.error("request failed", { method: req.method, path, error: String((err as Error)?.stack ?? err) });
        sendError(res, internal(String((err as Error)?.message ?? err)));
      }
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (labels.verb !== "WATCH") this.metrics.latency.observe(labels, seconds);
    }
  }

  private async nonResource(req: Req, res: Res, path: string, query: URLSearchParams): Promise<void> {
    const accept = parseAccept(req.headers.accept);
    switch (path) {
      case "/healthz":
      case "/livez":
      case "/readyz": {
        const ok = path !== "/readyz" || this.ready;
        const body = query.has("verbose")
          ? `[+]ping ok\n[${ok ? "+" : "-"}]store ok\n${path.slice(1)} check ${ok ? "passed" : "failed"}\n`
          : ok
            ? "ok"
            : "[-]store failed: not ready\nreadyz check failed";
        res.writeHead(ok ? 200 : 500, { "content-type": "text/plain; charset=utf-8" });
        res.end(body);
        return;
      }
      case "/version":
        sendJSON(res, 200, {
          major: KUBERNETES_VERSION.major,
          minor: KUBERNETES_VERSION.minor,
          emulationMajor: KUBERNETES_VERSION.major,
          emulationMinor: KUBERNETES_VERSION.minor,
          gitVersion: KUBERNETES_VERSION.gitVersion,
          gitCommit: "0000000000000000000000000000000000000000",
          gitTreeState: "clean",
          buildDate: "2026-01-01T00:00:00Z",
          goVersion: `node${process.versions.node}`,
          compiler: "tsc",
          platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
        });
        return;
      case "/metrics": {
        for (const [prefix, n] of this.cache.counts()) {
          const [, , group, plural] = prefix.split("/");
          this.metrics.storeObjects.set(n, { resource: group === "core" ? (plural ?? "") : `${plural}.${group}` });
        }
        const text = this.metrics.render();
        res.writeHead(200, { "content-type": this.metrics.contentType });
        res.end(text);
        return;
      }
      case "/api":
      case "/apis": {
        const agg = accept.find(
          (m) => m.params["g"] === "apidiscovery.k8s.io" && m.params["as"] === "APIGroupDiscoveryList",
        );
        if (agg) {
          const v = agg.params["v"] === "v2beta1" ? "v2beta1" : "v2";
          sendJSON(
            res,
            200,
            aggregatedDiscovery(this.catalog, path === "/api", `apidiscovery.k8s.io/${v}`),
            `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`,
          );
          return;
        }
        const host = this.opts.advertiseAddress ?? `${this.opts.bind}:${this.port}`;
        sendJSON(res, 200, path === "/api" ? apiVersions(host) : apiGroupList(this.catalog));
        return;
      }
      case "/openapi/v2": {
        const docs = this.openapiDocs();
        if (accept.some((m) => m.type.startsWith("application/com.github.proto-openapi.spec.v2"))) {
          if (!this.openapi!.v2pb) {
            const { encodeOpenAPIv2 } = await import("../api/protobuf/index.js");
            this.openapi!.v2pb = Buffer.from(encodeOpenAPIv2(JSON.parse(docs.v2Json().toString("utf8"))));
          }
          res.writeHead(200, { "content-type": "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" });
          res.end(this.openapi!.v2pb);
          return;
        }
        const body = docs.v2Json();
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
        res.end(body);
        return;
      }
      case "/openapi/v3":
        sendJSON(res, 200, this.openapiDocs().v3Index());
        return;
      default:
        break;
    }
    if (path.startsWith("/openapi/v3/")) {
      const doc = this.openapiDocs().v3GroupVersion(path.slice("/openapi/v3/".length));
      if (!doc) throw pageNotFound();
      res.writeHead(200, { "content-type": "application/json", "content-length": doc.length });
      res.end(doc);
      return;
    }
    const parts = path.split("/").filter((p) => p !== "");
    if (parts[0] === "api" && parts.length === 2) {
      const doc = resourceList(this.catalog, "", parts[1]!);
      if (doc) return sendJSON(res, 200, doc);
    }
    if (parts[0] === "apis" && parts.length === 2) {
      const doc = apiGroup(this.catalog, parts[1]!);
      if (doc) return sendJSON(res, 200, doc);
    }
    if (parts[0] === "apis" && parts.length === 3) {
      const doc = resourceList(this.catalog, parts[1]!, parts[2]!);
      if (doc) return sendJSON(res, 200, doc);
    }
    throw pageNotFound();
  }

  private openapiDocs(): OpenAPIDocs {
    if (this.openapi && this.openapi.generation === this.catalog.generation) return this.openapi.docs;
    const resources: ServedResource[] = [];
    const crds: CustomResourceInput[] = [];
    for (const sv of this.catalog.all()) {
      if (sv.crd) {
        crds.push({
          group: sv.def.group,
          version: sv.version.version,
          kind: sv.def.kind,
          plural: sv.def.plural,
          namespaced: sv.def.namespaced,
          schema: sv.crd.schema,
          subresources: [...(sv.def.status ? ["status"] : []), ...(sv.def.scale ? ["scale"] : [])],
        });
        continue;
      }
      const slash = sv.def.storageVersion.indexOf("/");
      resources.push({
        group: sv.def.group,
        version: sv.version.version,
        kind: sv.def.kind,
        plural: sv.def.plural,
        namespaced: sv.def.namespaced,
        verbs: sv.def.verbs,
        subresources: [
          ...(sv.def.status ? ["status"] : []),
          ...(sv.def.scale ? ["scale"] : []),
          ...sv.def.extraSubresources,
        ],
        definitionGVK: {
          group: slash < 0 ? "" : sv.def.storageVersion.slice(0, slash),
          version: slash < 0 ? sv.def.storageVersion : sv.def.storageVersion.slice(slash + 1),
          kind: sv.def.kind,
        },
        deprecated: sv.version.deprecated ?? false,
      });
    }
    const docs = buildOpenAPI(resources, crds);
    this.openapi = { generation: this.catalog.generation, docs };
    return docs;
  }
}
