/**
 * Resource request handlers: decode → convert to storage version → registry → convert back →
 * encode (JSON, Table, PartialObjectMetadata), plus the subresources (status, scale, binding,
 * eviction, finalize) and watch streaming.
 */
import { applyPatch, serverSideApply, updateManagedFields } from "../api/patch/index.js";
import { QUANTITY_FORMAT_ERROR, Quantity } from "../api/quantity.js";
import {
  findDuplicateFields,
  findTypeError,
  findUnknownFields,
  pruneUnknownFields,
  type SchemaNode,
  schemaForKind,
  schemaFromOpenAPIV3,
} from "../api/schema/index.js";
import { isRecord, type KObject, parseApiVersion, rfc3339 } from "../api/types.js";
import { log } from "../util/log.js";
import { bindPod } from "./binding.js";
import type { Catalog, ServedVersion } from "./catalog.js";
import {
  ApiError,
  badRequest,
  conflict,
  internal,
  methodNotAllowed,
  notAcceptable,
  pageNotFound,
  unsupportedMediaType,
} from "./errors.js";
import { evict } from "./eviction.js";
import { compileFieldSelector, compileLabelSelector, labelSelectorToString } from "./filter.js";
import {
  contentTypeOf,
  type MediaType,
  parseAccept,
  type Req,
  type RequestInfo,
  type Res,
  readBody,
  sendJSON,
} from "./http.js";
import type { Metrics } from "./metrics.js";
import type { DeleteOptions, ObjectFilter, Registry } from "./rest.js";
import { answerReview, type ReviewUser } from "./reviews.js";
import type { BoundObject, ServiceAccountTokens } from "./satokens.js";
import { buildTable, type IncludeObject, partialObjectMetadata, printerOf } from "./table.js";
import type { CachedObject } from "./watchcache.js";

const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";

/** Bytes a watch response may have queued for a client that does not read before it is closed. */
const MAX_WATCH_BUFFER = 16 * 1024 * 1024;

/** Schema models of served CRD versions, built once per version (a CRD update makes a new CrdInfo). */
const crdSchemas = new WeakMap<object, SchemaNode>();

/**
 * YAML and protobuf codecs load on first use: kubectl speaks JSON for nearly everything, and the
 * two modules cost ~100 ms of start-up.
 */
const codecs: {
  yaml?: typeof import("yaml");
  protobuf?: typeof import("../api/protobuf/index.js");
} = {};

async function loadCodecs(needYaml: boolean, needProtobuf: boolean): Promise<void> {
  if (needYaml && !codecs.yaml) codecs.yaml = await import("yaml");
  if (needProtobuf && !codecs.protobuf) codecs.protobuf = await import("../api/protobuf/index.js");
}

export interface RequestContext {
  user: string;
  groups: string[];
  userAgent: string;
  warnings: string[];
}

type Output =
  | { kind: "json" }
  | { kind: "table"; apiVersion: string }
  | { kind: "partial"; apiVersion: string }
  | { kind: "yaml" };

function negotiate(accept: MediaType[]): Output {
  for (const m of accept) {
    if (m.type === "application/json" || m.type === "*/*" || m.type === "application/*") {
      const as = m.params["as"];
      const g = m.params["g"];
      const v = m.params["v"] ?? "v1";
      if (as === "Table" && g === "meta.k8s.io" && (v === "v1" || v === "v1beta1")) {
        return { kind: "table", apiVersion: `meta.k8s.io/${v}` };
      }
      if ((as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") && g === "meta.k8s.io") {
        return { kind: "partial", apiVersion: `meta.k8s.io/${v}` };
      }
      if (as === undefined) return { kind: "json" };
      continue;
    }
    if (m.type === "application/yaml") return { kind: "yaml" };
    if (m.type === PROTOBUF_CONTENT_TYPE) {
      if (m.params["as"] === undefined) return { kind: "json" };
    }
  }
  throw notAcceptable();
}

const CUSTOM_RESOURCE_PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/apply-patch+yaml",
];
const PATCH_TYPES = [...CUSTOM_RESOURCE_PATCH_TYPES, "application/strategic-merge-patch+json"];

export class ResourceHandlers {
  private readonly catalog: Catalog;
  private readonly registry: Registry;
  private readonly metrics: Metrics | undefined;
  /** Signs service account tokens (TokenRequest); set by the server. */
  saTokens: ServiceAccountTokens | undefined;
  /** Token authentication, for TokenReview (set by the server). */
  authenticateToken: (token: string) => ReviewUser | undefined = () => undefined;

  constructor(catalog: Catalog, registry: Registry, metrics?: Metrics) {
    this.catalog = catalog;
    this.registry = registry;
    this.metrics = metrics;
  }

  /** storage → served version, as a fresh copy. */
  private out(sv: ServedVersion, obj: KObject): KObject {
    if (obj.apiVersion === sv.apiVersion && obj.kind === sv.def.kind) return obj;
    return sv.converter.fromStorage(structuredClone(obj));
  }

  private schemaOf(sv: ServedVersion): SchemaNode | undefined {
    if (sv.crd) {
      if (sv.crd.schema === undefined) return undefined;
      let schema = crdSchemas.get(sv.crd);
      if (!schema) {
        schema = schemaFromOpenAPIV3(sv.crd.schema);
        crdSchemas.set(sv.crd, schema);
      }
      return schema;
    }
    return schemaForKind({ group: sv.def.group, version: sv.version.version, kind: sv.def.kind });
  }

  async handle(req: Req, res: Res, ri: RequestInfo, query: URLSearchParams, ctx: RequestContext): Promise<void> {
    if (ri.group === "" && ri.version === "v1" && ri.resource === "bindings" && ri.namespace !== undefined) {
      // the legacy top-level bindings resource: POST a Binding named after the pod
      if (ri.verb !== "create" || ri.name !== "") throw methodNotAllowed(ri.verb.toUpperCase(), "Binding");
      const pods = this.catalog.lookup("", "v1", "pods")!;
      await loadCodecs(false, contentTypeOf(req) === PROTOBUF_CONTENT_TYPE);
      const binding = this.decode(req, await readBody(req), "Binding");
      await bindPod(this.registry, pods, ri.namespace, binding.metadata.name ?? "", binding, isDryRun(query));
      sendJSON(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
      return;
    }
    const sv = this.catalog.lookup(ri.group, ri.version, ri.resource);
    if (!sv) throw pageNotFound();
    if (sv.def.namespaced === false && ri.namespace !== undefined) throw pageNotFound();
    if (sv.version.deprecated && sv.version.warning) ctx.warnings.push(sv.version.warning);
    const output = negotiate(parseAccept(req.headers.accept));
    const ct = contentTypeOf(req);
    await loadCodecs(output.kind === "yaml" || ct.includes("yaml"), ct === PROTOBUF_CONTENT_TYPE);
    const sub = ri.subresource;
    if (
      sub !== "" &&
      sub !== "status" &&
      !(sub === "scale" && sv.def.scale) &&
      !(sub === "finalize" && sv.def.kind === "Namespace")
    ) {
      if (!sv.def.extraSubresources.includes(sub)) throw pageNotFound();
      return this.special(req, res, ri, sv, query);
    }
    if (sv.def.review) {
      if (ri.verb !== "create" || ri.name !== "") throw methodNotAllowed(ri.verb.toUpperCase(), sv.def.kind);
      const review = this.decode(req, await readBody(req), sv.def.kind);
      this.checkKind(sv, review);
      const user = { name: ctx.user, groups: ctx.groups };
      sendJSON(
        res,
        201,
        answerReview(sv.def.kind, review, user, (t) => this.authenticateToken(t)),
      );
      return;
    }
    switch (ri.verb) {
      case "get":
        return this.get(res, ri, sv, output, query);
      case "list":
        return this.list(res, ri, sv, output, query);
      case "watch":
        return this.watch(req, res, ri, sv, output, query);
      case "create":
        if (ri.name !== "") throw methodNotAllowed("POST", sv.def.kind);
        return this.create(req, res, ri, sv, output, query, ctx);
      case "update":
        return this.update(req, res, ri, sv, output, query, ctx);
      case "patch":
        return this.patch(req, res, ri, sv, output, query, ctx);
      case "delete":
        return this.delete(req, res, ri, sv, output, query);
      case "deletecollection":
        return this.deleteCollection(req, res, ri, sv, query);
    }
  }

  private send(
    res: Res,
    code: number,
    sv: ServedVersion,
    output: Output,
    obj: KObject,
    query: URLSearchParams,
    rv?: string,
  ): void {
    if (output.kind === "table") {
      const table = buildTable(printerOf(sv), [obj], {
        apiVersion: output.apiVersion,
        includeObject: includeObjectOf(query),
        resourceVersion: rv ?? obj.metadata.resourceVersion,
        convert: (o) => this.out(sv, o),
      });
      sendJSON(res, code, table);
    } else if (output.kind === "partial") {
      sendJSON(res, code, partialObjectMetadata(obj, output.apiVersion));
    } else if (output.kind === "yaml") {
      sendJSON(res, code, codecs.yaml!.stringify(this.out(sv, obj)), "application/yaml");
    } else {
      sendJSON(res, code, this.out(sv, obj));
    }
  }

  private sendCached(
    res: Res,
    code: number,
    sv: ServedVersion,
    output: Output,
    c: CachedObject,
    query: URLSearchParams,
  ): void {
    if (output.kind === "json" && c.obj.apiVersion === sv.apiVersion) sendJSON(res, code, c.json);
    else this.send(res, code, sv, output, c.obj, query);
  }

  private async get(
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    output: Output,
    query: URLSearchParams,
  ): Promise<void> {
    const c = await this.registry.get(sv, ri.namespace, ri.name, query.get("resourceVersion") ?? undefined);
    if (ri.subresource === "scale") {
      sendJSON(res, 200, scaleOf(sv, c.obj));
      return;
    }
    this.sendCached(res, 200, sv, output, c, query);
  }

  private filterOf(sv: ServedVersion, query: URLSearchParams): ObjectFilter | undefined {
    const ls = query.get("labelSelector");
    const fs = query.get("fieldSelector");
    const lf = ls ? compileLabelSelector(ls) : undefined;
    const ff = fs ? compileFieldSelector(sv.storageGroup, sv.def.plural, fs) : undefined;
    if (!lf && !ff) return undefined;
    return (o) => (!lf || lf(o)) && (!ff || ff(o));
  }

  private async list(
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    output: Output,
    query: URLSearchParams,
  ): Promise<void> {
    const limit = query.get("limit");
    const result = await this.registry.list(sv, {
      namespace: ri.namespace,
      filter: this.filterOf(sv, query),
      limit: limit ? Number(limit) : 0,
      continueToken: query.get("continue") ?? undefined,
      resourceVersion: query.get("resourceVersion") ?? undefined,
      resourceVersionMatch: query.get("resourceVersionMatch") ?? undefined,
    });
    if (output.kind === "table") {
      const table = buildTable(
        printerOf(sv),
        result.items.map((c) => c.obj),
        {
          apiVersion: output.apiVersion,
          includeObject: includeObjectOf(query),
          resourceVersion: result.resourceVersion,
          continueToken: result.continueToken,
          remainingItemCount: result.remainingItemCount,
          convert: (o) => this.out(sv, o),
        },
      );
      sendJSON(res, 200, table);
      return;
    }
    const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continueToken) meta["continue"] = result.continueToken;
    if (result.remainingItemCount !== undefined) meta["remainingItemCount"] = result.remainingItemCount;
    if (output.kind === "partial") {
      sendJSON(res, 200, {
        kind: "PartialObjectMetadataList",
        apiVersion: output.apiVersion,
        metadata: meta,
        items: result.items.map((c) => partialObjectMetadata(c.obj, output.apiVersion)),
      });
      return;
    }
    const head = `{"kind":${JSON.stringify(`${sv.def.kind}List`)},"apiVersion":${JSON.stringify(sv.apiVersion)},"metadata":${JSON.stringify(meta)},"items":[`;
    const same = result.items.length === 0 || result.items[0]!.obj.apiVersion === sv.apiVersion;
    const items = same ? result.items.map((c) => c.json) : result.items.map((c) => JSON.stringify(this.out(sv, c.obj)));
    const text = `${head}${items.join(",")}]}`;
    if (output.kind === "yaml") sendJSON(res, 200, codecs.yaml!.stringify(JSON.parse(text)), "application/yaml");
    else sendJSON(res, 200, text);
  }

  private async watch(
    req: Req,
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    output: Output,
    query: URLSearchParams,
  ): Promise<void> {
    const rvParam = query.get("resourceVersion");
    if (rvParam && /^\d+$/.test(rvParam)) await this.registry.waitForRevision(Number(rvParam));
    const filter = this.filterOf(sv, query);
    const nameFilter: ObjectFilter | undefined = ri.name ? (o) => o.metadata.name === ri.name : undefined;
    const combined: ObjectFilter | undefined =
      filter && nameFilter ? (o) => filter(o) && nameFilter(o) : (filter ?? nameFilter);
    const bookmarks = query.get("allowWatchBookmarks") === "true";
    const sie = query.get("sendInitialEvents");
    const timeout = Number(query.get("timeoutSeconds") ?? "0") || 1800 + Math.floor(Math.random() * 1800);
    let first = true;
    let closed = false;
    res.writeHead(200, {
      "content-type": output.kind === "table" ? "application/json" : "application/json",
      "cache-control": "no-cache, private",
    });
    // clients (client-go informers, client-node) wait for the headers before the first event
    (res as { flushHeaders(): void }).flushHeaders();
    const send = (line: string): void => {
      if (closed) return;
      (res as NodeJS.WritableStream).write(line);
      // a watcher that does not read falls behind without bound: end its watch (it re-lists),
      // as upstream's cacher forces unresponsive watchers closed
      const r = res as { writableLength?: number; stream?: { writableLength?: number } };
      if ((r.stream?.writableLength ?? r.writableLength ?? 0) > MAX_WATCH_BUFFER) {
        log.warn("closing a watch that does not keep up", { resource: sv.def.plural });
        finish();
      }
    };
    const write = (type: string, object: unknown): void => send(`${JSON.stringify({ type, object })}\n`);
    const toWire = (obj: KObject): unknown => {
      if (output.kind === "table") {
        const t = buildTable(printerOf(sv), [obj], {
          apiVersion: output.apiVersion,
          includeObject: includeObjectOf(query),
          noHeaders: !first,
          resourceVersion: obj.metadata.resourceVersion,
          convert: (o) => this.out(sv, o),
        });
        first = false;
        return t;
      }
      if (output.kind === "partial") return partialObjectMetadata(obj, output.apiVersion);
      return this.out(sv, obj);
    };
    const bookmark = (rv: number, annotations?: Record<string, string>): void => {
      const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
      if (annotations) metadata["annotations"] = annotations;
      write("BOOKMARK", { kind: sv.def.kind, apiVersion: sv.apiVersion, metadata });
    };
    let stream: { stop(): void } | undefined;
    const finish = (): void => {
      if (closed) return;
      closed = true;
      stream?.stop();
      clearInterval(ticker);
      clearTimeout(timer);
      this.metrics?.watchers.dec();
      res.end();
    };
    this.metrics?.watchers.inc();
    const ticker = setInterval(() => {
      if (bookmarks) bookmark(this.registry.cache.rv);
    }, 10_000);
    const timer = setTimeout(finish, timeout * 1000);
    req.on("close", finish);
    res.on("close", finish);
    try {
      stream = this.registry.watch(sv, {
        namespace: ri.namespace,
        filter: combined,
        resourceVersion: query.get("resourceVersion") ?? undefined,
        sendInitialEvents: sie === null ? undefined : sie === "true",
        onEvent: (ev) => {
          if (output.kind === "json" && ev.object.obj.apiVersion === sv.apiVersion) {
            // the cached JSON of the object is shared by every watcher: no per-watcher encoding
            send(`{"type":"${ev.type}","object":${ev.object.json}}\n`);
          } else {
            write(ev.type, toWire(ev.object.obj));
          }
        },
        onInitialEventsEnd: (rv) => {
          if (sie === "true" && bookmarks) bookmark(rv, { "k8s.io/initial-events-end": "true" });
        },
        onClose: (err) => {
          if (err) write("ERROR", err.toStatus());
          finish();
        },
      });
    } catch (err) {
      if (err instanceof ApiError) {
        write("ERROR", err.toStatus());
        finish();
        return;
      }
      finish();
      throw err;
    }
  }

  /** Decodes a request body into an object (JSON, YAML or protobuf), worded as upstream's decoder. */
  private decode(req: Req, body: Buffer, expectedKind: string): KObject {
    const ct = contentTypeOf(req);
    const unrecognized = `the object provided is unrecognized (must be of type ${expectedKind})`;
    let value: unknown;
    if (ct === PROTOBUF_CONTENT_TYPE) return codecs.protobuf!.decodeObject(body);
    if (ct === "application/yaml" || ct === "application/apply-patch+yaml") {
      try {
        value = codecs.yaml!.parse(body.toString("utf8"));
      } catch (err) {
        const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line ?? 1;
        const text = String((err as Error).message)
          .split("\n")[0]!
          .replace(/ at line \d+, column \d+:?$/, "");
        throw badRequest(`${unrecognized}: error converting YAML to JSON: yaml: line ${line}: ${text}`);
      }
    } else if (ct === "application/json" || ct === "" || ct.endsWith("+json")) {
      try {
        value = JSON.parse(body.toString("utf8"));
      } catch (err) {
        throw badRequest(`${unrecognized}: couldn't get version/kind; json parse error: ${(err as Error).message}`);
      }
    } else {
      throw unsupportedMediaType(["application/json", "application/yaml", PROTOBUF_CONTENT_TYPE]);
    }
    if (!isRecord(value))
      throw badRequest(`${unrecognized}: couldn't get version/kind; json parse error: not an object`);
    if (!isRecord(value["metadata"])) value["metadata"] = {};
    return value as KObject;
  }

  /**
   * The body's apiVersion/kind must name this resource (any served version of it); missing ones
   * are taken from the URL, as upstream's decoder defaults them.
   */
  private checkKind(sv: ServedVersion, obj: KObject): void {
    for (const field of ["apiVersion", "kind"] as const) {
      const v: unknown = obj[field];
      if (v !== undefined && v !== null && typeof v !== "string") {
        throw badRequest(
          `the object provided is unrecognized (must be of type ${sv.def.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v} into Go struct field .${field} of type string`,
        );
      }
      if (v === null) delete obj[field];
    }
    if (obj.kind === undefined || obj.kind === "") obj.kind = sv.def.kind;
    if (obj.apiVersion === undefined || obj.apiVersion === "") obj.apiVersion = sv.apiVersion;
    if (obj.kind === sv.def.kind && obj.apiVersion === sv.apiVersion) return;
    const other = this.catalog.lookupKind(obj.apiVersion, obj.kind);
    if (other && other.def.storageVersion === sv.def.storageVersion && other.def.kind === sv.def.kind) return;
    const { version } = parseApiVersion(obj.apiVersion);
    throw badRequest(
      `${obj.kind} in version "${version}" cannot be handled as a ${sv.def.kind}: ` +
        (other
          ? `the object provided is of kind ${obj.kind}, not ${sv.def.kind}`
          : `no kind "${obj.kind}" is registered for version "${obj.apiVersion}" in scheme "k8ts"`),
    );
  }

  /** Quantities that do not parse fail decoding (400), before validation, as upstream's decoder does. */
  private checkQuantities(sv: ServedVersion, obj: unknown, schema: SchemaNode | undefined): void {
    if (!schema) return;
    const walk = (v: unknown, node: SchemaNode | undefined): void => {
      if (!node || v === null || v === undefined) return;
      if (node.definition === "io.k8s.apimachinery.pkg.api.resource.Quantity") {
        if (typeof v === "number") return;
        if (typeof v !== "string" || Quantity.tryParse(v) === undefined) {
          const { version } = parseApiVersion(sv.apiVersion);
          throw badRequest(
            `${sv.def.kind} in version "${version}" cannot be handled as a ${sv.def.kind}: ${QUANTITY_FORMAT_ERROR}`,
          );
        }
        return;
      }
      if (Array.isArray(v)) {
        for (const item of v) walk(item, node.items);
      } else if (isRecord(v)) {
        for (const [k, child] of Object.entries(v)) walk(child, node.properties?.[k] ?? node.additionalProperties);
      }
    };
    walk(obj, schema);
  }

  /**
   * fieldValidation: Strict rejects unknown fields, Warn (the default) warns, Ignore does not; in
   * the last two the unknown fields are dropped, as decoding into upstream's typed objects does.
   * `decoded`: the object is a request body (create/update), whose errors upstream words as decoding errors.
   */
  private fieldValidation(
    sv: ServedVersion,
    obj: unknown,
    query: URLSearchParams,
    ctx: RequestContext,
    /** The request body, when `obj` was decoded from it (create/update): duplicate keys are checked too. */
    body?: { text: string; json: boolean },
  ): void {
    const decoded = body !== undefined;
    const mode = query.get("fieldValidation") ?? "Warn";
    if (mode !== "Strict" && mode !== "Warn" && mode !== "Ignore") {
      throw badRequest(`fieldValidation parameter unsupported: ${mode}`);
    }
    const schema = this.schemaOf(sv);
    if (!schema) return;
    const typeError = findTypeError(obj, schema, sv.def.kind);
    if (typeError) {
      const { version } = parseApiVersion(sv.apiVersion);
      throw badRequest(`${sv.def.kind} in version "${version}" cannot be handled as a ${sv.def.kind}: ${typeError}`);
    }
    this.checkQuantities(sv, obj, schema);
    const unknown =
      mode === "Ignore"
        ? []
        : [...(body?.json ? findDuplicateFields(body.text) : []), ...findUnknownFields(obj, schema)];
    if (unknown.length > 0 && mode === "Strict") {
      const { version } = parseApiVersion(sv.apiVersion);
      const prefix = decoded ? `${sv.def.kind} in version "${version}" cannot be handled as a ${sv.def.kind}: ` : "";
      throw badRequest(`${prefix}strict decoding error: ${unknown.join(", ")}`);
    }
    ctx.warnings.push(...unknown);
    pruneUnknownFields(obj, schema);
  }

  private manager(query: URLSearchParams, ctx: RequestContext): string {
    const m = query.get("fieldManager");
    if (m) {
      if (m.length > 128) throw badRequest("fieldManager: Too long: may not be more than 128 bytes");
      return m;
    }
    return ctx.userAgent.split("/")[0] || "unknown";
  }

  /**
   * managedFields bookkeeping of a non-apply write by `manager` (an Update entry), computed on the
   * request's version as upstream does (field sets differ between e.g. autoscaling/v1 and v2);
   * returns the new object in its storage version.
   */
  private recordUpdate(
    sv: ServedVersion,
    ri: RequestInfo,
    curStorage: KObject | undefined,
    nextServed: KObject,
    manager: string,
    now: string,
  ): KObject {
    const curServed = curStorage === undefined ? undefined : this.out(sv, curStorage);
    const tracked = updateManagedFields(curServed, nextServed, manager, {
      schema: this.schemaOf(sv),
      apiVersion: sv.apiVersion,
      now,
      subresource: ri.subresource || undefined,
    });
    return this.toStorage(sv, tracked);
  }

  private toStorage(sv: ServedVersion, obj: KObject): KObject {
    return sv.converter.toStorage(obj);
  }

  private async create(
    req: Req,
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    output: Output,
    query: URLSearchParams,
    ctx: RequestContext,
  ): Promise<void> {
    const body = await readBody(req);
    const obj = this.decode(req, body, sv.def.kind);
    this.checkKind(sv, obj);
    this.fieldValidation(sv, obj, query, ctx, { text: body.toString("utf8"), json: isJsonBody(req) });
    if (obj.metadata.resourceVersion) {
      // upstream's storage layer refuses this (a 500, as a real cluster answers)
      throw internal("resourceVersion should not be set on objects to be created");
    }
    const manager = this.manager(query, ctx);
    const withFields = this.recordUpdate(sv, ri, undefined, obj, manager, rfc3339());
    const created = await this.registry.create(sv, ri.namespace, withFields, {
      dryRun: isDryRun(query),
      fieldManager: manager,
    });
    this.sendCached(res, 201, sv, output, created, query);
  }

  private async update(
    req: Req,
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    output: Output,
    query: URLSearchParams,
    ctx: RequestContext,
  ): Promise<void> {
    const body = await readBody(req);
    const obj = this.decode(req, body, sv.def.kind);
    const manager = this.manager(query, ctx);
    const now = rfc3339();
    if (ri.subresource === "scale") {
      const replicas = isRecord(obj["spec"]) ? obj["spec"]["replicas"] : undefined;
      const result = await this.registry.update(
        sv,
        ri.namespace,
        ri.name,
        "",
        (cur) => {
          // the Scale's resourceVersion guards the parent: the registry's optimistic check applies it
          if (obj.metadata.resourceVersion) cur.metadata.resourceVersion = obj.metadata.resourceVersion;
          setPath(cur, sv.def.scale!.specReplicasPath, typeof replicas === "number" ? replicas : 0);
          return cur;
        },
        { dryRun: isDryRun(query), retry: false },
      );
      sendJSON(res, 200, scaleOf(sv, result.object.obj));
      return;
    }
    if (ri.subresource === "finalize") {
      const result = await this.registry.update(
        sv,
        undefined,
        ri.name,
        "finalize",
        (cur) => {
          const spec = isRecord(obj["spec"]) ? obj["spec"] : {};
          cur["spec"] = { ...(isRecord(cur["spec"]) ? cur["spec"] : {}), finalizers: spec["finalizers"] ?? [] };
          return cur;
        },
        { dryRun: isDryRun(query), retry: true },
      );
      this.send(res, 200, sv, output, result.object.obj, query);
      return;
    }
    this.checkKind(sv, obj);
    this.fieldValidation(sv, obj, query, ctx, { text: body.toString("utf8"), json: isJsonBody(req) });
    if (obj.metadata.name !== undefined && obj.metadata.name !== ri.name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${ri.name})`);
    }
    const result = await this.registry.update(
      sv,
      ri.namespace,
      ri.name,
      ri.subresource,
      (cur) => {
        return this.recordUpdate(sv, ri, cur, structuredClone(obj), manager, now);
      },
      { dryRun: isDryRun(query), retry: false },
    );
    this.sendCached(res, result.created ? 201 : 200, sv, output, result.object, query);
  }

  private async patch(
    req: Req,
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    output: Output,
    query: URLSearchParams,
    ctx: RequestContext,
  ): Promise<void> {
    const ct = contentTypeOf(req);
    // custom resources have no patch strategies: upstream refuses strategic merge patch for them
    const accepted = sv.crd ? CUSTOM_RESOURCE_PATCH_TYPES : PATCH_TYPES;
    if (!accepted.includes(ct)) throw unsupportedMediaType(accepted);
    const body = await readBody(req);
    const manager = this.manager(query, ctx);
    const now = rfc3339();
    const isApply = ct === "application/apply-patch+yaml";
    if (isApply && !query.get("fieldManager")) {
      throw badRequest("PATCH requests of type apply-patch+yaml must include a fieldManager query parameter");
    }
    const force = query.get("force") === "true";
    const schema = this.schemaOf(sv);
    if (ri.subresource === "scale") {
      const result = await this.registry.update(
        sv,
        ri.namespace,
        ri.name,
        "",
        (cur) => {
          const scale = applyPatch(scaleOf(sv, cur) as KObject, body, ct, undefined);
          const spec = isRecord(scale["spec"]) ? scale["spec"] : {};
          setPath(cur, sv.def.scale!.specReplicasPath, typeof spec["replicas"] === "number" ? spec["replicas"] : 0);
          return cur;
        },
        { dryRun: isDryRun(query), retry: true },
      );
      sendJSON(res, 200, scaleOf(sv, result.object.obj));
      return;
    }
    /** Server-side apply onto the live object (a copy the registry made), or onto nothing. */
    const apply = (cur: KObject | undefined): KObject => {
      const applied = this.decode(req, body, sv.def.kind);
      this.checkKind(sv, applied);
      this.fieldValidation(sv, applied, query, ctx);
      const { object } = serverSideApply(cur ? this.out(sv, cur) : undefined, applied, {
        manager,
        force,
        schema,
        apiVersion: sv.apiVersion,
        now,
        subresource: ri.subresource || undefined,
      });
      return this.toStorage(sv, object);
    };
    const result = await this.registry.update(
      sv,
      ri.namespace,
      ri.name,
      ri.subresource,
      (cur) => {
        if (isApply) return apply(cur);
        const served = this.out(sv, cur);
        const patched = applyPatch(served === cur ? structuredClone(cur) : served, body, ct, schema);
        this.fieldValidation(sv, patched, query, ctx);
        return this.recordUpdate(sv, ri, cur, patched, manager, now);
      },
      { dryRun: isDryRun(query), retry: true, create: isApply ? () => apply(undefined) : undefined },
    );
    this.sendCached(res, result.created ? 201 : 200, sv, output, result.object, query);
  }

  private async deleteOptions(req: Req, query: URLSearchParams): Promise<DeleteOptions> {
    const body = await readBody(req);
    let opts: Record<string, unknown> = {};
    if (body.length > 0) {
      const ct = contentTypeOf(req);
      try {
        const v: unknown =
          ct === PROTOBUF_CONTENT_TYPE ? codecs.protobuf!.decodeObject(body) : JSON.parse(body.toString("utf8"));
        if (isRecord(v)) opts = v;
      } catch {
        throw badRequest(
          "the body of the request was in an unknown format - accepted media types include: application/json",
        );
      }
    }
    const grace = query.get("gracePeriodSeconds") ?? opts["gracePeriodSeconds"];
    const policy = query.get("propagationPolicy") ?? opts["propagationPolicy"];
    const orphan = query.get("orphanDependents") ?? opts["orphanDependents"];
    const dry =
      query.getAll("dryRun").length > 0
        ? isDryRun(query)
        : Array.isArray(opts["dryRun"]) && opts["dryRun"].includes("All");
    const out: DeleteOptions = { dryRun: dry };
    if (grace !== undefined && grace !== null) out.gracePeriodSeconds = Number(grace);
    if (policy === "Orphan" || policy === "Background" || policy === "Foreground") out.propagationPolicy = policy;
    else if (policy !== undefined && policy !== null) {
      throw new ApiError(
        422,
        "Invalid",
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      );
    } else if (orphan === true || orphan === "true") out.propagationPolicy = "Orphan";
    if (orphan === false || orphan === "false") out.orphanDependentsFalse = true;
    if (isRecord(opts["preconditions"])) {
      const p = opts["preconditions"];
      out.preconditions = {
        uid: typeof p["uid"] === "string" ? p["uid"] : undefined,
        resourceVersion: typeof p["resourceVersion"] === "string" ? p["resourceVersion"] : undefined,
      };
    }
    return out;
  }

  private async delete(
    req: Req,
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    output: Output,
    query: URLSearchParams,
  ): Promise<void> {
    if (ri.subresource !== "") throw methodNotAllowed("DELETE", sv.def.kind);
    const opts = await this.deleteOptions(req, query);
    const { object, deleted } = await this.registry.delete(sv, ri.namespace, ri.name, opts);
    if (deleted && !(sv.def.kind === "Pod" && sv.def.group === "")) {
      const details: Record<string, unknown> = { name: ri.name, kind: sv.def.plural, uid: object.obj.metadata.uid };
      if (sv.def.group !== "") details["group"] = sv.def.group;
      sendJSON(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details });
      return;
    }
    // upstream answers 202 only for a pending delete with orphanDependents=false; otherwise 200
    this.send(res, !deleted && opts.orphanDependentsFalse ? 202 : 200, sv, output, object.obj, query);
  }

  private async deleteCollection(
    req: Req,
    res: Res,
    ri: RequestInfo,
    sv: ServedVersion,
    query: URLSearchParams,
  ): Promise<void> {
    const opts = await this.deleteOptions(req, query);
    const deleted = await this.registry.deleteCollection(
      sv,
      { namespace: ri.namespace, filter: this.filterOf(sv, query) },
      opts,
    );
    const text = `{"kind":${JSON.stringify(`${sv.def.kind}List`)},"apiVersion":${JSON.stringify(sv.apiVersion)},"metadata":{"resourceVersion":"${this.registry.cache.rv}"},"items":[${deleted
      .map((c) => JSON.stringify(this.out(sv, c.obj)))
      .join(",")}]}`;
    sendJSON(res, 200, text);
  }

  /** binding, eviction, token, and the node-served subresources (log, exec, ...). */
  private async special(req: Req, res: Res, ri: RequestInfo, sv: ServedVersion, query: URLSearchParams): Promise<void> {
    const sub = ri.subresource;
    if (sub === "binding" && ri.verb === "create") {
      const binding = this.decode(req, await readBody(req), "Binding");
      await bindPod(this.registry, sv, ri.namespace, ri.name, binding, isDryRun(query));
      sendJSON(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
      return;
    }
    if (sub === "eviction" && ri.verb === "create") {
      const eviction = this.decode(req, await readBody(req), "Eviction");
      const opts = isRecord(eviction["deleteOptions"]) ? eviction["deleteOptions"] : {};
      const del: DeleteOptions = { dryRun: isDryRun(query) };
      if (typeof opts["gracePeriodSeconds"] === "number") del.gracePeriodSeconds = opts["gracePeriodSeconds"];
      await evict(this.catalog, this.registry, ri.namespace ?? "", ri.name, del);
      sendJSON(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
      return;
    }
    if (sub === "token" && sv.def.kind === "ServiceAccount" && ri.verb === "create") {
      const request = this.decode(req, await readBody(req), "TokenRequest");
      sendJSON(res, 201, await this.tokenRequest(ri.namespace ?? "", ri.name, request));
      return;
    }
    if (sv.def.group === "" && (sv.def.kind === "Pod" || sv.def.kind === "Node")) {
      // log, exec, attach, portforward, proxy: served by the node agent through the API server's proxy
      const { NodeProxy } = await import("./proxy.js");
      return NodeProxy.of(this.catalog, this.registry).serve(req, res, ri, query);
    }
    const pod = await this.registry.get(sv, ri.namespace, ri.name);
    const spec = isRecord(pod.obj["spec"]) ? pod.obj["spec"] : {};
    if (!spec["nodeName"]) {
      throw badRequest(`pod ${ri.name} does not have a host assigned`);
    }
    throw new ApiError(
      503,
      "ServiceUnavailable",
      `the ${sub} subresource is served by the node agent, and no agent serves node "${String(spec["nodeName"])}" in this k8ts build`,
    );
  }

  /** The TokenRequest API (serviceaccounts/<name>/token): a signed, bounded service account token. */
  private async tokenRequest(namespace: string, name: string, request: KObject): Promise<KObject> {
    if (!this.saTokens) throw new ApiError(503, "ServiceUnavailable", "no service account signing key is configured");
    const sas = this.catalog.lookup("", "v1", "serviceaccounts")!;
    const sa = (await this.registry.get(sas, namespace, name)).obj;
    const spec = isRecord(request["spec"]) ? request["spec"] : {};
    const expirationSeconds = typeof spec["expirationSeconds"] === "number" ? spec["expirationSeconds"] : 3600;
    if (expirationSeconds < 600 || expirationSeconds > 2 ** 32) {
      const why =
        expirationSeconds < 600
          ? "may not specify a duration less than 10 minutes"
          : "may not specify a duration larger than 2^32 seconds";
      throw new ApiError(
        422,
        "Invalid",
        `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${expirationSeconds}: ${why}`,
        {
          name,
          group: "authentication.k8s.io",
          kind: "TokenRequest",
          causes: [
            {
              reason: "FieldValueInvalid",
              message: `Invalid value: ${expirationSeconds}: ${why}`,
              field: "spec.expirationSeconds",
            },
          ],
        },
      );
    }
    const audiences = Array.isArray(spec["audiences"]) ? spec["audiences"].map(String) : [];
    let bound: BoundObject | undefined;
    const ref = isRecord(spec["boundObjectRef"]) ? spec["boundObjectRef"] : undefined;
    if (ref) {
      const kind = String(ref["kind"] ?? "");
      const plural = kind === "Pod" ? "pods" : kind === "Secret" ? "secrets" : kind === "Node" ? "nodes" : "";
      if (plural === "") throw badRequest(`cannot bind token to object of type ${kind}`);
      const target = this.catalog.lookup("", "v1", plural)!;
      const obj = (await this.registry.get(target, kind === "Node" ? undefined : namespace, String(ref["name"] ?? "")))
        .obj;
      if (typeof ref["uid"] === "string" && ref["uid"] !== "" && ref["uid"] !== obj.metadata.uid) {
        throw conflict(
          "",
          plural,
          String(ref["name"]),
          `the UID in the bound object reference (${ref["uid"]}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      }
      bound = { kind: kind as BoundObject["kind"], name: obj.metadata.name ?? "", uid: obj.metadata.uid ?? "" };
    }
    const { token, claims } = this.saTokens.issue(
      { namespace, name, uid: sa.metadata.uid ?? "" },
      { audiences, expirationSeconds, bound },
    );
    return {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences: claims.aud, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: rfc3339(claims.exp * 1000) },
    } as unknown as KObject;
  }
}

function isJsonBody(req: Req): boolean {
  const ct = contentTypeOf(req);
  return ct === "application/json" || ct === "";
}

function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get("includeObject");
  return v === "None" || v === "Object" ? v : "Metadata";
}

function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll("dryRun");
  for (const v of values) {
    if (v !== "All") throw badRequest(`Invalid dry run value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

function getPath(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const next = cur[path[i]!];
    if (isRecord(next)) cur = next;
    else {
      const n: Record<string, unknown> = {};
      cur[path[i]!] = n;
      cur = n;
    }
  }
  cur[path[path.length - 1]!] = value;
}

/** The autoscaling/v1 Scale of an object with a scale subresource. */
export function scaleOf(sv: ServedVersion, obj: KObject): Record<string, unknown> {
  const s = sv.def.scale!;
  const selector = s.selectorPath ? getPath(obj, s.selectorPath) : undefined;
  const status: Record<string, unknown> = { replicas: Number(getPath(obj, s.statusReplicasPath) ?? 0) };
  if (selector !== undefined)
    status["selector"] = typeof selector === "string" ? selector : labelSelectorToString(selector);
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: Number(getPath(obj, s.specReplicasPath) ?? 0) },
    status,
  };
}
