/**
 * REST semantics, independent of HTTP: get, list, watch, create, update, patch, delete and
 * deletecollection on one served resource. Objects go in and out in their storage version; the
 * HTTP layer converts to and from the requested version. Reads come from the watch cache.
 */

import { isRecord, type KObject, rfc3339 } from "../api/types.js";
import { type Store, StoreError } from "../store/types.js";
import type { Admission } from "./admission.js";
import type { ServedVersion } from "./catalog.js";
import { objectKey } from "./catalog.js";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  gone,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
} from "./errors.js";
import { generateNameSuffix, prepareForCreate, prepareForUpdate } from "./strategy.js";
import type { CachedObject, CacheEvent, WatchCache } from "./watchcache.js";
import { decodeCached } from "./watchcache.js";

export interface WriteOptions {
  dryRun: boolean;
  fieldManager?: string;
}

export interface DeleteOptions {
  dryRun: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  preconditions?: { uid?: string; resourceVersion?: string };
  /** orphanDependents=false was sent (deprecated; only changes the answer's status code). */
  orphanDependentsFalse?: boolean;
}

export interface UpdateOptions extends WriteOptions {
  retry: boolean;
  /** Builds the object to create when none exists (server-side apply); without it a missing object is 404. */
  create?: () => Promise<KObject> | KObject;
  /** The write is the registry's own (a binding), not a client's update: no update admission. */
  skipAdmission?: boolean;
}

export type ObjectFilter = (obj: KObject) => boolean;

export interface ListOptions {
  namespace?: string;
  filter?: ObjectFilter;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListOutcome {
  items: CachedObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** A running watch: events already filtered; `initialRv` is where the stream starts. */
export interface WatchStream {
  stop(): void;
}

export interface WatchOptions {
  namespace?: string;
  filter?: ObjectFilter;
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  /** Called for each event in order. */
  onEvent(ev: { type: CacheEvent["type"]; object: CachedObject }): void;
  /** Called when initial events (sendInitialEvents / rv unset) have all been sent, with the rv reached. */
  onInitialEventsEnd?(rv: number): void;
  onClose(err?: ApiError): void;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, lastKey: string, prefix: string): string {
  const t: ContinueToken = { v: "meta.k8s.io/v1", rv, start: `${lastKey.slice(prefix.length)}\u0000` };
  return Buffer.from(JSON.stringify(t)).toString("base64");
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    if (isRecord(t) && typeof t["rv"] === "number" && typeof t["start"] === "string") {
      return { v: String(t["v"]), rv: t["rv"], start: t["start"] };
    }
  } catch {
    // fall through
  }
  throw badRequest(`continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
}

function parseRv(rv: string, what = "resourceVersion"): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid ${what}: "${rv}"`);
  return Number(rv);
}

function isTerminating(obj: KObject | undefined): boolean {
  return obj?.metadata.deletionTimestamp !== undefined;
}

export class Registry {
  readonly store: Store;
  readonly cache: WatchCache;
  admission: Admission | undefined;

  constructor(store: Store, cache: WatchCache) {
    this.store = store;
    this.cache = cache;
  }

  private nsPrefix(sv: ServedVersion, namespace: string | undefined): string {
    return sv.def.namespaced && namespace ? `${namespace}/` : "";
  }

  cached(sv: ServedVersion, namespace: string | undefined, name: string): CachedObject | undefined {
    return this.cache
      .resource(sv.keyPrefix)
      .items.get(objectKey(sv.keyPrefix, sv.def.namespaced ? namespace : undefined, name));
  }

  /**
   * A GET. With a shared store (etcd, several API servers) the cache first catches up with the
   * store's current revision, so a read sees every write acknowledged by any server (upstream
   * reads etcd with a quorum read); with an embedded store this server saw every write already.
   */
  async get(
    sv: ServedVersion,
    namespace: string | undefined,
    name: string,
    resourceVersion?: string,
  ): Promise<CachedObject> {
    if (this.store.backend === "etcd" && (resourceVersion === undefined || resourceVersion === ""))
      await this.cache.sync();
    const c = this.cached(sv, namespace, name);
    if (!c) throw notFound(sv.def.group, sv.def.plural, name);
    return c;
  }

  async list(sv: ServedVersion, opts: ListOptions): Promise<ListOutcome> {
    const sub = this.nsPrefix(sv, opts.namespace);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    if (opts.continueToken) {
      const t = decodeContinue(opts.continueToken);
      return this.listFromStore(sv, sub, opts, t.rv, sv.keyPrefix + sub + t.start.replace(/\u0000$/, ""), limit);
    }
    if (opts.resourceVersionMatch === "Exact" && opts.resourceVersion) {
      return this.listFromStore(sv, sub, opts, parseRv(opts.resourceVersion), undefined, limit);
    }
    if (opts.resourceVersion === undefined || opts.resourceVersion === "") {
      // a consistent read: the cache must have seen every write the store acknowledged
      await this.cache.sync();
    } else if (opts.resourceVersion !== "0") {
      await this.waitForRevision(parseRv(opts.resourceVersion));
    }
    const rc = this.cache.resource(sv.keyPrefix);
    const rv = this.cache.rv;
    const all = rc.range(sub);
    const items: CachedObject[] = [];
    let continueToken: string | undefined;
    let remaining: number | undefined;
    let seen = 0;
    for (const c of all) {
      seen++;
      if (opts.filter && !opts.filter(c.obj)) continue;
      if (limit && items.length === limit) {
        continueToken = encodeContinue(rv, items[items.length - 1]!.key, sv.keyPrefix + sub);
        if (!opts.filter) remaining = all.size - seen + 1;
        break;
      }
      items.push(c);
    }
    const out: ListOutcome = { items, resourceVersion: String(rv) };
    if (continueToken) out.continueToken = continueToken;
    if (remaining !== undefined) out.remainingItemCount = remaining;
    return out;
  }

  private async listFromStore(
    sv: ServedVersion,
    sub: string,
    opts: ListOptions,
    rv: number,
    startAfter: string | undefined,
    limit: number,
  ): Promise<ListOutcome> {
    const items: CachedObject[] = [];
    let cursor = startAfter;
    let more = true;
    try {
      while (more && (!limit || items.length <= limit)) {
        const res = await this.store.list(sv.keyPrefix + sub, {
          startAfter: cursor,
          limit: limit ? limit + 1 : 0,
          revision: rv,
        });
        for (const kv of res.kvs) {
          const c = decodeCached(kv.key, kv.value, kv.modRevision);
          if (!opts.filter || opts.filter(c.obj)) items.push(c);
          cursor = kv.key;
        }
        more = res.more;
        if (!limit) break;
      }
    } catch (err) {
      if (err instanceof StoreError && err.code === "compacted") {
        throw new ApiError(
          410,
          "Expired",
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
      }
      throw err;
    }
    const out: ListOutcome = { items, resourceVersion: String(rv) };
    if (limit && items.length > limit) {
      items.length = limit;
      out.continueToken = encodeContinue(rv, items[limit - 1]!.key, sv.keyPrefix + sub);
    }
    return out;
  }

  /**
   * Waits (up to 3 s, as upstream's cache does) until the cache has seen revision `rv`, which a
   * client may have read from another API server; then answers 504 "Too large resource version".
   */
  async waitForRevision(rv: number): Promise<void> {
    if (rv <= this.cache.rv) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), 3000);
    });
    try {
      if ((await Promise.race([this.cache.waitFor(rv).then(() => "ok" as const), timeout])) === "timeout") {
        throw new ApiError(504, "Timeout", `Too large resource version: ${rv}, current: ${this.cache.rv}`, {
          causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
          retryAfterSeconds: 1,
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a watch; initial events are delivered synchronously before this returns. */
  watch(sv: ServedVersion, opts: WatchOptions): WatchStream {
    const rc = this.cache.resource(sv.keyPrefix);
    const sub = sv.keyPrefix + this.nsPrefix(sv, opts.namespace);
    const relevant = (c: CachedObject | undefined): boolean =>
      c?.key.startsWith(sub) === true && (!opts.filter || opts.filter(c.obj));
    let stopped = false;
    const deliver = (ev: CacheEvent): void => {
      if (stopped) return;
      const now = relevant(ev.object) && ev.type !== "DELETED";
      const before = ev.prev !== undefined && relevant(ev.prev);
      if (ev.type === "DELETED") {
        if (before || relevant(ev.object)) opts.onEvent({ type: "DELETED", object: ev.object });
      } else if (now && (before || ev.type === "ADDED")) {
        opts.onEvent({ type: ev.type, object: ev.object });
      } else if (now && !before) {
        opts.onEvent({ type: "ADDED", object: ev.object });
      } else if (!now && before) {
        // left the selection: upstream reports it as deleted
        opts.onEvent({ type: "DELETED", object: ev.object });
      }
    };
    const rv = opts.resourceVersion ?? "";
    const initial = opts.sendInitialEvents ?? (rv === "" || rv === "0");
    let backlog: CacheEvent[] = [];
    if (initial) {
      for (const c of rc.list(this.nsPrefix(sv, opts.namespace))) {
        if (!opts.filter || opts.filter(c.obj)) opts.onEvent({ type: "ADDED", object: c });
      }
      opts.onInitialEventsEnd?.(this.cache.rv);
    } else {
      const from = parseRv(rv);
      const events = rc.eventsSince(from);
      if (events === undefined)
        return this.watchFromStore(
          sub,
          from,
          deliver,
          opts,
          () => stopped,
          () => {
            stopped = true;
          },
        );
      backlog = events;
    }
    for (const ev of backlog) deliver(ev);
    const remove = rc.addWatcher({
      push: deliver,
      close: (err) => {
        if (stopped) return;
        stopped = true;
        opts.onClose(err instanceof ApiError ? err : undefined);
      },
    });
    return {
      stop: () => {
        stopped = true;
        remove();
      },
    };
  }

  /**
   * A watch from a revision older than the cache's window (e.g. a client resuming after a server
   * restart) reads the store's history instead; a compacted revision ends it with 410 Gone.
   */
  private watchFromStore(
    prefix: string,
    from: number,
    deliver: (ev: CacheEvent) => void,
    opts: WatchOptions,
    isStopped: () => boolean,
    stop: () => void,
  ): WatchStream {
    const w = this.store.watch(
      prefix,
      {
        onEvents: (events) => {
          for (const e of events) {
            if (isStopped()) return;
            const rev = e.kv.modRevision;
            const prev = e.prevKv ? decodeCached(e.prevKv.key, e.prevKv.value, e.prevKv.modRevision) : undefined;
            if (e.type === "put") {
              const type = e.kv.createRevision === rev ? "ADDED" : "MODIFIED";
              deliver({ type, object: decodeCached(e.kv.key, e.kv.value, rev), prev, rv: rev });
            } else {
              const last = e.prevKv ?? e.kv;
              deliver({ type: "DELETED", object: decodeCached(e.kv.key, last.value, rev), prev, rv: rev });
            }
          }
        },
        onError: (err) => {
          if (isStopped()) return;
          stop();
          opts.onClose(
            err.code === "compacted" ? gone(`too old resource version: ${from} (${err.revision ?? 0})`) : undefined,
          );
        },
      },
      { fromRevision: from + 1, prevKv: true },
    );
    return {
      stop: () => {
        stop();
        w.cancel();
      },
    };
  }

  private async checkNamespace(sv: ServedVersion, namespace: string | undefined, name: string): Promise<void> {
    if (!sv.def.namespaced) return;
    if (!namespace) throw badRequest("the server could not find the requested resource");
    const nsCache = this.cache.resource("/registry/core/namespaces/");
    const ns = nsCache.items.get(`/registry/core/namespaces/${namespace}`);
    if (!ns) throw notFound("", "namespaces", namespace);
    if (isTerminating(ns.obj) || (isRecord(ns.obj["status"]) && ns.obj["status"]["phase"] === "Terminating")) {
      throw forbidden(
        sv.def.group,
        sv.def.plural,
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      ).withCause("NamespaceTerminating", `namespace ${namespace} is being terminated`, "metadata.namespace");
    }
  }

  private readonly quotaLocks = new Map<string, Promise<void>>();

  /**
   * Writes into a namespace that has ResourceQuotas are admitted one at a time (admission, store
   * write and cache), so two concurrent creates cannot both pass a nearly full quota.
   */
  private async inQuotaOrder<T>(namespace: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (!namespace || this.cache.resource("/registry/core/resourcequotas/").range(`${namespace}/`).size === 0) {
      return fn();
    }
    const prev = this.quotaLocks.get(namespace) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev.then(() => mine);
    this.quotaLocks.set(namespace, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.quotaLocks.get(namespace) === tail) this.quotaLocks.delete(namespace);
    }
  }

  /** Creates an object (storage version). Returns the stored object. */
  create(sv: ServedVersion, namespace: string | undefined, input: KObject, opts: WriteOptions): Promise<CachedObject> {
    const ns = sv.def.namespaced ? (namespace ?? input.metadata.namespace) : undefined;
    return this.inQuotaOrder(ns, () => this.createNow(sv, namespace, input, opts));
  }

  private async createNow(
    sv: ServedVersion,
    namespace: string | undefined,
    input: KObject,
    opts: WriteOptions,
  ): Promise<CachedObject> {
    const obj = input;
    const meta = obj.metadata;
    if (sv.def.namespaced) {
      if (
        meta.namespace !== undefined &&
        meta.namespace !== "" &&
        namespace !== undefined &&
        meta.namespace !== namespace
      ) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.namespace = namespace ?? meta.namespace;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = meta.generateName + generateNameSuffix();
    await this.checkNamespace(sv, meta.namespace, meta.name ?? "");
    prepareForCreate(sv.def, obj);
    if (this.admission) await this.admission.admit("create", sv, obj, undefined, opts);
    const key = objectKey(sv.keyPrefix, sv.def.namespaced ? meta.namespace : undefined, meta.name ?? "");
    if (opts.dryRun) {
      if (this.cache.resource(sv.keyPrefix).items.has(key))
        throw alreadyExists(sv.def.group, sv.def.plural, meta.name ?? "");
      return { key, obj, json: JSON.stringify(obj), rv: 0 };
    }
    let rev: number;
    const value = JSON.stringify(obj);
    this.cache.noteWrite(key, value, obj);
    try {
      rev = await this.store.create(key, value);
    } catch (err) {
      this.cache.forgetWrite(key, value);
      if (err instanceof StoreError && err.code === "exists")
        throw alreadyExists(sv.def.group, sv.def.plural, meta.name ?? "");
      throw err;
    }
    await this.cache.waitFor(rev);
    return this.cache.resource(sv.keyPrefix).items.get(key) ?? decodeCached(key, value, rev);
  }

  /**
   * Updates an object (storage version). `mutate` builds the new object from the current one
   * (a deep copy it may change); it is retried on conflict when `retry` is set (patches). When the
   * object does not exist, `create` (if given: server-side apply) builds one to create instead.
   */
  update(
    sv: ServedVersion,
    namespace: string | undefined,
    name: string,
    subresource: string,
    mutate: (current: KObject) => Promise<KObject> | KObject,
    opts: UpdateOptions,
  ): Promise<{ object: CachedObject; created: boolean }> {
    const ns = sv.def.namespaced ? namespace : undefined;
    return this.inQuotaOrder(ns, () => this.updateNow(sv, namespace, name, subresource, mutate, opts));
  }

  private async updateNow(
    sv: ServedVersion,
    namespace: string | undefined,
    name: string,
    subresource: string,
    mutate: (current: KObject) => Promise<KObject> | KObject,
    opts: UpdateOptions,
  ): Promise<{ object: CachedObject; created: boolean }> {
    const key = objectKey(sv.keyPrefix, sv.def.namespaced ? namespace : undefined, name);
    for (let attempt = 0; ; attempt++) {
      const current = this.cache.resource(sv.keyPrefix).items.get(key);
      if (!current) {
        if (opts.create) {
          const obj = await opts.create();
          obj.metadata.name = name;
          return { object: await this.createNow(sv, namespace, obj, opts), created: true };
        }
        throw notFound(sv.def.group, sv.def.plural, name);
      }
      // copies from the cached JSON (parsing it is about twice as fast as structuredClone)
      const oldObj = JSON.parse(current.json) as KObject;
      let next = await mutate(JSON.parse(current.json) as KObject);
      const wantRv = next.metadata.resourceVersion;
      if (wantRv !== undefined && wantRv !== "" && wantRv !== String(current.rv)) {
        throw conflict(sv.def.group, sv.def.plural, name, OPTIMISTIC_LOCK_MESSAGE);
      }
      // an update without a resourceVersion is unconditional (upstream allows it for built-in kinds)
      next.metadata.resourceVersion = String(current.rv);
      if (next.metadata.name !== undefined && next.metadata.name !== name) {
        throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
      }
      if (sv.def.namespaced && next.metadata.namespace !== undefined && next.metadata.namespace !== namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      next = prepareForUpdate(sv.def, next, oldObj, subresource);
      if (this.admission && !opts.skipAdmission) await this.admission.admit("update", sv, next, oldObj, opts);
      // Nothing changed: upstream answers with the current object and writes nothing. (The cached
      // JSON is the current object with its resourceVersion last in metadata, as `next` has it here.)
      delete next.metadata.resourceVersion;
      next.metadata.resourceVersion = String(current.rv);
      const unchanged = JSON.stringify(next) === current.json;
      delete next.metadata.resourceVersion;
      if (unchanged) return { object: current, created: false };
      if (opts.dryRun) {
        // a dry run answers what would be stored, at the object's current resourceVersion
        next.metadata.resourceVersion = String(current.rv);
        return { object: { key, obj: next, json: JSON.stringify(next), rv: current.rv }, created: false };
      }
      // Finalizers gone from an object being deleted: the update completes the deletion.
      if (isTerminating(next) && (next.metadata.finalizers ?? []).length === 0 && !hasSpecFinalizers(next)) {
        try {
          const res = await this.store.delete(key, current.rv);
          await this.cache.waitFor(res.revision);
          return { object: decodeCached(key, JSON.stringify(next), res.revision), created: false };
        } catch (err) {
          if (err instanceof StoreError && err.code === "conflict" && opts.retry && attempt < 5) continue;
          throw this.mapWriteError(err, sv, name);
        }
      }
      const value = JSON.stringify(next);
      this.cache.noteWrite(key, value, next);
      try {
        const rev = await this.store.update(key, value, current.rv);
        await this.cache.waitFor(rev);
        return {
          object: this.cache.resource(sv.keyPrefix).items.get(key) ?? decodeCached(key, value, rev),
          created: false,
        };
      } catch (err) {
        this.cache.forgetWrite(key, value);
        if (err instanceof StoreError && err.code === "conflict" && opts.retry && attempt < 5) {
          await this.cache.waitFor(err.current?.modRevision ?? 0);
          continue;
        }
        throw this.mapWriteError(err, sv, name);
      }
    }
  }

  private mapWriteError(err: unknown, sv: ServedVersion, name: string): unknown {
    if (err instanceof StoreError) {
      if (err.code === "conflict") return conflict(sv.def.group, sv.def.plural, name, OPTIMISTIC_LOCK_MESSAGE);
      if (err.code === "not-found") return notFound(sv.def.group, sv.def.plural, name);
    }
    return err;
  }

  /**
   * Deletes an object as upstream does: with finalizers (or foreground/orphan propagation) it only
   * gets a deletionTimestamp; pods on a node get a grace period; otherwise it is removed.
   * Returns the object as last stored and whether it is gone.
   */
  async delete(
    sv: ServedVersion,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
  ): Promise<{ object: CachedObject; deleted: boolean }> {
    const key = objectKey(sv.keyPrefix, sv.def.namespaced ? namespace : undefined, name);
    for (let attempt = 0; ; attempt++) {
      const current = this.cache.resource(sv.keyPrefix).items.get(key);
      if (!current) throw notFound(sv.def.group, sv.def.plural, name);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.obj.metadata.uid) {
        throw conflict(
          sv.def.group,
          sv.def.plural,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.obj.metadata.uid ?? ""}`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== String(current.rv)) {
        throw conflict(
          sv.def.group,
          sv.def.plural,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.rv}`,
        );
      }
      const obj = structuredClone(current.obj);
      const finalizers = [...(obj.metadata.finalizers ?? [])];
      const policy = opts.propagationPolicy ?? (isLegacyOrphanDefault(sv) ? "Orphan" : "Background");
      if (policy === "Foreground" && !finalizers.includes("foregroundDeletion")) finalizers.push("foregroundDeletion");
      if (policy === "Orphan" && !finalizers.includes("orphan")) finalizers.push("orphan");
      let grace = 0;
      if (sv.def.kind === "Pod" && sv.def.group === "") {
        const spec = isRecord(obj["spec"]) ? obj["spec"] : {};
        const status = isRecord(obj["status"]) ? obj["status"] : {};
        const defaultGrace =
          typeof spec["terminationGracePeriodSeconds"] === "number" ? spec["terminationGracePeriodSeconds"] : 30;
        grace = opts.gracePeriodSeconds ?? defaultGrace;
        // Unscheduled or finished pods go at once, as upstream's pod strategy decides.
        if (!spec["nodeName"] || status["phase"] === "Succeeded" || status["phase"] === "Failed") grace = 0;
        if (grace < 0) grace = 0;
      }
      const needsFinalizing = sv.def.kind === "Namespace" && sv.def.group === "";
      if (finalizers.length > 0 || grace > 0 || needsFinalizing) {
        if (isTerminating(obj)) {
          // already being deleted: only a shorter grace period changes anything
          if (grace > 0 && (obj.metadata.deletionGracePeriodSeconds ?? 0) > grace) {
            // a shorter grace period moves the deletion time earlier by the difference
            const shortenMs = ((obj.metadata.deletionGracePeriodSeconds ?? 0) - grace) * 1000;
            const at = Date.parse(obj.metadata.deletionTimestamp ?? new Date().toISOString()) - shortenMs;
            obj.metadata.deletionTimestamp = rfc3339(at);
            obj.metadata.deletionGracePeriodSeconds = grace;
          } else if (grace === 0 && finalizers.length === 0 && !needsFinalizing) {
            // fall through to removal below
          } else {
            return { object: current, deleted: false };
          }
        }
        if (finalizers.length > 0 || grace > 0 || needsFinalizing) {
          const ts = rfc3339(Date.now() + grace * 1000);
          obj.metadata.deletionTimestamp ??= ts;
          obj.metadata.deletionGracePeriodSeconds = grace;
          if (finalizers.length > 0) obj.metadata.finalizers = finalizers;
          if (needsFinalizing) {
            obj["status"] = { ...(isRecord(obj["status"]) ? obj["status"] : {}), phase: "Terminating" };
          }
          delete obj.metadata.resourceVersion;
          if (opts.dryRun) {
            obj.metadata.resourceVersion = String(current.rv);
            return { object: { key, obj, json: JSON.stringify(obj), rv: current.rv }, deleted: false };
          }
          try {
            const rev = await this.store.update(key, JSON.stringify(obj), current.rv);
            await this.cache.waitFor(rev);
            return { object: this.cache.resource(sv.keyPrefix).items.get(key) ?? current, deleted: false };
          } catch (err) {
            if (err instanceof StoreError && err.code === "conflict" && attempt < 5) {
              await this.cache.waitFor(err.current?.modRevision ?? 0);
              continue;
            }
            throw this.mapWriteError(err, sv, name);
          }
        }
      }
      if (opts.dryRun) return { object: current, deleted: true };
      try {
        const res = await this.store.delete(key, current.rv);
        await this.cache.waitFor(res.revision);
        return { object: decodeCached(key, current.json, res.revision), deleted: true };
      } catch (err) {
        if (err instanceof StoreError && err.code === "conflict" && attempt < 5) {
          await this.cache.waitFor(err.current?.modRevision ?? 0);
          continue;
        }
        throw this.mapWriteError(err, sv, name);
      }
    }
  }

  /** Deletes every object matching the list options, one by one. */
  async deleteCollection(sv: ServedVersion, list: ListOptions, opts: DeleteOptions): Promise<CachedObject[]> {
    const { items } = await this.list(sv, { ...list, limit: 0, continueToken: undefined });
    const out: CachedObject[] = [];
    for (const c of items) {
      try {
        const res = await this.delete(sv, c.obj.metadata.namespace, c.obj.metadata.name ?? "", opts);
        out.push(res.object);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) continue;
        throw err;
      }
    }
    return out;
  }
}

/** Namespaces also wait for spec.finalizers (emptied through /finalize by the namespace controller). */
function hasSpecFinalizers(obj: KObject): boolean {
  const spec = obj["spec"];
  return isRecord(spec) && Array.isArray(spec["finalizers"]) && spec["finalizers"].length > 0;
}

/** Old extensions/apps beta versions orphaned dependents by default (upstream DefaultGarbageCollectionPolicy). */
function isLegacyOrphanDefault(sv: ServedVersion): boolean {
  const v = sv.version.version;
  return (
    (sv.def.group === "extensions" || (sv.def.group === "apps" && (v === "v1beta1" || v === "v1beta2"))) &&
    ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"].includes(sv.def.kind)
  );
}
