/**
 * `ApiClient` over HTTPS with HTTP/2: one TLS session multiplexes every request and watch (a
 * fleet of simulated nodes shares one connection). The session is re-established on demand after
 * it closes. Authenticates with a client certificate or a bearer token; verifies the server
 * against the cluster CA.
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import type { KObject } from "../api/types.js";
import { ApiError } from "../apiserver/errors.js";
import type {
  ApiClient,
  DeleteOptions,
  ListOptions,
  PatchType,
  ResourceId,
  WatchEvent,
  WatchHandle,
  WatchOptions,
  WriteOptions,
} from "./types.js";

export interface HttpsClientOptions {
  /** https://host:port of the API server. */
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** Client certificate and key (PEM); or `token`. */
  cert?: string;
  key?: string;
  token?: string;
  /** Shown in messages and sent as the User-Agent. */
  userAgent?: string;
  /** Per-request timeout (not watches), ms. Default 30 s. */
  timeoutMs?: number;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

/** Builds the REST path of a resource (collection when name is undefined). */
export function resourcePath(
  r: ResourceId,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): string {
  let p = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (r.namespaced && namespace !== undefined && namespace !== "") p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** The ApiError a non-2xx answer stands for (the server's Status when it sent one). */
export function errorFromResponse(code: number, body: string): ApiError {
  try {
    const s = JSON.parse(body) as { kind?: string; reason?: string; message?: string; details?: object };
    if (s.kind === "Status") return new ApiError(code, s.reason ?? "Unknown", s.message ?? body, s.details);
  } catch {
    // not a Status: fall through
  }
  return new ApiError(code, code === 401 ? "Unauthorized" : "Unknown", body.trim() || `HTTP ${code}`);
}

export class HttpsClient implements ApiClient {
  readonly identity: string;
  private readonly opts: HttpsClientOptions;
  private session: ClientHttp2Session | undefined;
  private readonly watches = new Set<ClientHttp2Stream>();
  private closed = false;

  constructor(opts: HttpsClientOptions) {
    this.opts = opts;
    this.identity = opts.userAgent ?? "k8ts";
  }

  private connection(): ClientHttp2Session {
    if (this.closed) throw new ApiError(503, "ServiceUnavailable", "client is closed");
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const session = connect(this.opts.server, {
      ca: this.opts.ca,
      cert: this.opts.cert,
      key: this.opts.key,
      // the apiserver's watch streams stay open for a long time: no idle limit here
      settings: { enablePush: false },
    });
    session.on("error", () => undefined);
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    session.on("goaway", () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }

  private headers(method: string, path: string, contentType?: string): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = {
      [constants.HTTP2_HEADER_METHOD]: method,
      [constants.HTTP2_HEADER_PATH]: path,
      accept: "application/json",
      "user-agent": this.opts.userAgent ?? "k8ts",
    };
    if (this.opts.token) h["authorization"] = `Bearer ${this.opts.token}`;
    if (contentType) h["content-type"] = contentType;
    return h;
  }

  private request(
    method: string,
    path: string,
    body?: string,
    contentType = "application/json",
  ): Promise<{ code: number; body: string }> {
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        // node ends GET/DELETE streams at once unless told otherwise: say explicitly whether a body follows
        stream = this.connection().request(this.headers(method, path, body === undefined ? undefined : contentType), {
          endStream: body === undefined,
        });
      } catch (err) {
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        reject(new ApiError(504, "Timeout", `${method} ${path}: no answer within ${this.opts.timeoutMs ?? 30_000} ms`));
      }, this.opts.timeoutMs ?? 30_000);
      timer.unref();
      let code = 0;
      const chunks: Buffer[] = [];
      stream.on("response", (h: IncomingHttpHeaders) => {
        code = Number(h[constants.HTTP2_HEADER_STATUS] ?? 0);
      });
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", () => {
        clearTimeout(timer);
        if (code === 0) {
          reject(new ApiError(503, "ServiceUnavailable", `${method} ${path}: the stream closed before a response`));
          return;
        }
        resolve({ code, body: Buffer.concat(chunks).toString("utf8") });
      });
      stream.on("error", (err) => {
        clearTimeout(timer);
        reject(new ApiError(503, "ServiceUnavailable", `${method} ${path}: ${err.message}`));
      });
      if (body !== undefined) stream.end(body);
    });
  }

  private async call(method: string, path: string, body?: unknown, contentType?: string): Promise<KObject> {
    const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const r = await this.request(method, path, text, contentType);
    if (r.code < 200 || r.code > 299) throw errorFromResponse(r.code, r.body);
    try {
      return JSON.parse(r.body) as KObject;
    } catch {
      throw new ApiError(
        502,
        "BadGateway",
        `${method} ${path}: the answer (HTTP ${r.code}) is not whole JSON: ${r.body.slice(0, 80)}`,
      );
    }
  }

  raw(method: string, path: string, body?: string): Promise<{ code: number; body: string }> {
    return this.request(method, path, body);
  }

  get(r: ResourceId, namespace: string | undefined, name: string, subresource?: string): Promise<KObject> {
    return this.call("GET", resourcePath(r, namespace, name, subresource));
  }

  async list(r: ResourceId, opts: ListOptions = {}): Promise<{ items: KObject[]; resourceVersion: string }> {
    const q = query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
    const l = (await this.call("GET", resourcePath(r, opts.namespace) + q)) as unknown as {
      items?: KObject[];
      metadata?: { resourceVersion?: string };
    };
    return { items: l.items ?? [], resourceVersion: l.metadata?.resourceVersion ?? "" };
  }

  watch(
    r: ResourceId,
    opts: WatchOptions,
    onEvent: (ev: WatchEvent) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle {
    const q = query({
      watch: "true",
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks === false ? undefined : "true",
    });
    let stopped = false;
    let closed = false;
    const finish = (err?: Error) => {
      if (closed) return;
      closed = true;
      if (!stopped) onClose(err);
    };
    let stream: ClientHttp2Stream;
    try {
      stream = this.connection().request(this.headers("GET", resourcePath(r, opts.namespace) + q), { endStream: true });
    } catch (err) {
      queueMicrotask(() => finish(err as Error));
      return { stop: () => (stopped = true) };
    }
    this.watches.add(stream);
    let code = 0;
    let buf = "";
    stream.setEncoding("utf8");
    stream.on("response", (h: IncomingHttpHeaders) => {
      code = Number(h[constants.HTTP2_HEADER_STATUS] ?? 0);
    });
    stream.on("data", (d: string) => {
      buf += d;
      if (code !== 200) return;
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        if (line.trim() === "" || stopped) continue;
        let ev: { type: string; object: KObject };
        try {
          ev = JSON.parse(line) as { type: string; object: KObject };
        } catch {
          continue;
        }
        if (ev.type === "ERROR") {
          const s = ev.object as unknown as { code?: number };
          finish(errorFromResponse(s.code ?? 500, JSON.stringify(ev.object)));
          stream.close(constants.NGHTTP2_CANCEL);
          return;
        }
        onEvent(ev as WatchEvent);
      }
    });
    stream.on("end", () => {
      this.watches.delete(stream);
      finish(code === 200 ? undefined : errorFromResponse(code, buf));
    });
    stream.on("close", () => {
      this.watches.delete(stream);
      finish(code === 200 || code === 0 ? undefined : errorFromResponse(code, buf));
    });
    stream.on("error", (err) => finish(err));
    return {
      stop: () => {
        stopped = true;
        this.watches.delete(stream);
        stream.close(constants.NGHTTP2_CANCEL);
      },
    };
  }

  create(r: ResourceId, namespace: string | undefined, obj: KObject, opts: WriteOptions & { name?: string } = {}) {
    const q = query({ fieldManager: opts.fieldManager });
    return this.call("POST", resourcePath(r, namespace, opts.name, opts.subresource) + q, obj);
  }

  update(r: ResourceId, namespace: string | undefined, name: string, obj: KObject, opts: WriteOptions = {}) {
    const q = query({ fieldManager: opts.fieldManager });
    return this.call("PUT", resourcePath(r, namespace, name, opts.subresource) + q, obj);
  }

  patch(
    r: ResourceId,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts: WriteOptions = {},
  ): Promise<KObject> {
    const q = query({ fieldManager: opts.fieldManager, force: opts.force ? "true" : undefined });
    return this.call("PATCH", resourcePath(r, namespace, name, opts.subresource) + q, body, PATCH_CONTENT_TYPES[type]);
  }

  async delete(r: ResourceId, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
    if (opts.gracePeriodSeconds !== undefined) body["gracePeriodSeconds"] = opts.gracePeriodSeconds;
    if (opts.preconditions) body["preconditions"] = opts.preconditions;
    if (opts.propagationPolicy) body["propagationPolicy"] = opts.propagationPolicy;
    await this.call("DELETE", resourcePath(r, namespace, name), body);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches) w.close(constants.NGHTTP2_CANCEL);
    this.watches.clear();
    this.session?.close();
    this.session = undefined;
  }
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}
