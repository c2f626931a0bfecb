/**
 * The watch cache: the store is listed once and watched once; every resource's objects live in
 * memory, lists are served from here and every API watcher is fed from here (fan-out), with a
 * window of recent events per resource so watches can resume from a recent resourceVersion.
 */
import type { KObject } from "../api/types.js";
import { type Store, StoreError, type Watch, type WatchEvent } from "../store/types.js";
import { log } from "../util/log.js";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/** One object as cached: parsed (never mutated after caching) and its JSON, with resourceVersion set. */
export interface CachedObject {
  key: string;
  obj: KObject;
  json: string;
  rv: number;
}

export interface CacheEvent {
  type: EventType;
  object: CachedObject;
  /** The object before the change (for MODIFIED/DELETED), used for selector transitions. */
  prev: CachedObject | undefined;
  rv: number;
}

export interface CacheWatcher {
  /** Receives events in order. Returning is enough; the watcher buffers as it needs. */
  push(ev: CacheEvent): void;
  /** The watch ends (cache stopped, or the watcher fell too far behind). */
  close(err?: Error): void;
}

/** How many recent events each resource keeps for resuming watches, by default. */
export const DEFAULT_EVENT_WINDOW = 10_000;
/**
 * ...and at most this much of their JSON (the parsed objects take a few times more): a resource
 * with big, busy objects (5,000 nodes posting status) keeps fewer events rather than gigabytes.
 * Resumes from older revisions read the store's history.
 */
export const EVENT_WINDOW_BYTES = 16 * 1024 * 1024;
/** The window never shrinks below this many events for its byte budget. */
const MIN_EVENT_WINDOW = 100;

export class ResourceCache {
  readonly prefix: string;
  readonly items = new Map<string, CachedObject>();
  private events: CacheEvent[] = [];
  /** JSON length of the events in the window. */
  private eventBytes = 0;
  /** Watches from rv >= oldestRv can be served from the window. */
  oldestRv: number;
  private watchers = new Set<CacheWatcher>();

  private readonly window: number;

  constructor(prefix: string, startRv: number, window = DEFAULT_EVENT_WINDOW) {
    this.prefix = prefix;
    this.oldestRv = startRv;
    this.window = window;
  }

  /**
   * Keys in order for lists: `sorted` (which may still hold deleted keys) plus `pending` (keys
   * added since); both are merged on the next list, so a write costs O(1) and a list after writes
   * O(n + k log k). undefined: sort everything on the next list.
   */
  private sorted: string[] | undefined;
  private pending: string[] = [];
  private deletedSinceMerge = false;

  /** Index of the first key >= `key` in the sorted keys. */
  private lowerBound(keys: string[], key: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private keysInOrder(): string[] {
    if (this.sorted === undefined) {
      this.sorted = [...this.items.keys()].sort();
    } else if (this.pending.length > 0 || this.deletedSinceMerge) {
      const add = this.pending.sort();
      const old = this.sorted;
      const out: string[] = [];
      let i = 0;
      let j = 0;
      while (i < old.length || j < add.length) {
        const k = j >= add.length || (i < old.length && old[i]! <= add[j]!) ? old[i++]! : add[j++]!;
        if (this.items.has(k) && out[out.length - 1] !== k) out.push(k);
      }
      this.sorted = out;
    }
    this.pending = [];
    this.deletedSinceMerge = false;
    return this.sorted;
  }

  apply(ev: CacheEvent): void {
    const key = ev.object.key;
    if (ev.type === "DELETED") {
      if (this.items.delete(key)) this.deletedSinceMerge = true;
    } else {
      if (!this.items.has(key) && this.sorted !== undefined) this.pending.push(key);
      this.items.set(key, ev.object);
    }
    this.events.push(ev);
    this.eventBytes += ev.object.json.length;
    // trim the window in chunks: dropping one event per write would move the whole array each time
    const overCount = this.events.length > this.window + (this.window >> 2);
    const overBytes =
      this.eventBytes > EVENT_WINDOW_BYTES + (EVENT_WINDOW_BYTES >> 2) && this.events.length > MIN_EVENT_WINDOW;
    if (overCount || overBytes) {
      let n = Math.max(0, this.events.length - this.window);
      let bytes = this.eventBytes;
      for (let i = 0; i < n; i++) bytes -= this.events[i]!.object.json.length;
      while (bytes > EVENT_WINDOW_BYTES && this.events.length - n > MIN_EVENT_WINDOW) {
        bytes -= this.events[n]!.object.json.length;
        n++;
      }
      if (n > 0) {
        const drop = this.events.splice(0, n);
        this.eventBytes = bytes;
        this.oldestRv = drop[drop.length - 1]!.rv;
      }
    }
    for (const w of this.watchers) w.push(ev);
  }

  /** Forgets everything (before a re-list at `rv`): history older than it is gone. */
  reset(rv: number): void {
    this.items.clear();
    this.sorted = undefined;
    this.pending = [];
    this.events = [];
    this.eventBytes = 0;
    this.oldestRv = rv;
  }

  /** Sorted snapshot of the objects whose key starts with `sub` (a namespace prefix or ""). */
  list(sub = ""): CachedObject[] {
    const out: CachedObject[] = [];
    for (const c of this.range(sub)) out.push(c);
    return out;
  }

  /** The objects under `sub` in key order, lazily, with how many there are (O(log n)). */
  range(sub = ""): Iterable<CachedObject> & { size: number } {
    const keys = this.keysInOrder();
    const p = this.prefix + sub;
    const start = this.lowerBound(keys, p);
    // every key under p sorts before p + U+FFFF (keys are ASCII)
    const end = this.lowerBound(keys, `${p}\uffff`);
    const items = this.items;
    return {
      size: end - start,
      *[Symbol.iterator]() {
        for (let i = start; i < end; i++) yield items.get(keys[i]!)!;
      },
    };
  }

  /** Events after `rv`, or undefined if the window no longer reaches back that far. */
  eventsSince(rv: number): CacheEvent[] | undefined {
    if (rv < this.oldestRv) return undefined;
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.events.slice(lo);
  }

  addWatcher(w: CacheWatcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  closeAll(err?: Error): void {
    for (const w of this.watchers) w.close(err);
    this.watchers.clear();
  }
}

export function decodeCached(key: string, value: string, rv: number): CachedObject {
  const obj = JSON.parse(value) as KObject;
  obj.metadata.resourceVersion = String(rv);
  return { key, obj, json: JSON.stringify(obj), rv };
}

/** Resource prefix of a key: /registry/<group>/<plural>/ */
function resourcePrefixOf(key: string): string {
  let slashes = 0;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) === 47 && ++slashes === 4) return key.slice(0, i + 1);
  }
  return key;
}

export class WatchCache {
  private readonly store: Store;
  private readonly resources = new Map<string, ResourceCache>();
  private storeWatch: Watch | undefined;
  /** Revision of the last event applied. */
  rv = 0;
  private startRv = 0;
  private waiters: Array<{ rv: number; resolve: () => void }> = [];
  /** Set while the cache re-lists after losing its store watch. */
  failed: Error | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  private readonly window: number;

  /** `window`: recent events kept per resource (older resumes read the store's history). */
  constructor(store: Store, window = DEFAULT_EVENT_WINDOW) {
    this.store = store;
    this.window = window;
  }

  async start(): Promise<void> {
    const res = await this.store.list("/registry/");
    this.startRv = res.revision;
    for (const c of this.resources.values()) c.reset(res.revision);
    for (const kv of res.kvs) {
      const c = this.resource(resourcePrefixOf(kv.key));
      c.items.set(kv.key, decodeCached(kv.key, kv.value, kv.modRevision));
    }
    this.rv = Math.max(this.rv, res.revision);
    this.failed = undefined;
    this.storeWatch = this.store.watch(
      "/registry/",
      {
        onEvents: (events) => this.onEvents(events),
        onError: (err) => this.onError(err),
      },
      { fromRevision: res.revision + 1, prevKv: true },
    );
    this.releaseWaiters();
  }

  /**
   * Objects this server is writing, by key, with the exact JSON it stores: when the watch event
   * carries that JSON, the cache takes the object instead of parsing it again. Noted before the
   * write (so a store that delivers events at once still finds it), dropped if the write fails.
   */
  private readonly ownWrites = new Map<string, { value: string; obj: KObject }>();

  /** Hands over `obj`, about to be stored at `key` as `value` (never to be changed afterwards). */
  noteWrite(key: string, value: string, obj: KObject): void {
    this.ownWrites.set(key, { value, obj });
  }

  forgetWrite(key: string, value: string): void {
    if (this.ownWrites.get(key)?.value === value) this.ownWrites.delete(key);
  }

  private decode(key: string, value: string, rev: number): CachedObject {
    const own = this.ownWrites.get(key);
    if (own === undefined || own.value !== value) return decodeCached(key, value, rev);
    this.ownWrites.delete(key);
    own.obj.metadata.resourceVersion = String(rev);
    return { key, obj: own.obj, json: JSON.stringify(own.obj), rv: rev };
  }

  private onEvents(events: WatchEvent[]): void {
    for (const e of events) {
      const c = this.resource(resourcePrefixOf(e.kv.key));
      const prev = c.items.get(e.kv.key);
      const rev = e.kv.modRevision;
      if (e.type === "put") {
        c.apply({ type: prev ? "MODIFIED" : "ADDED", object: this.decode(e.kv.key, e.kv.value, rev), prev, rv: rev });
      } else {
        const last = prev ?? (e.prevKv ? decodeCached(e.kv.key, e.prevKv.value, e.prevKv.modRevision) : undefined);
        if (last) {
          // A deleted object is reported with the delete's revision as its resourceVersion, as upstream does.
          const gone = decodeCached(e.kv.key, last.json, rev);
          c.apply({ type: "DELETED", object: gone, prev: last, rv: rev });
        }
      }
      if (rev > this.rv) this.rv = rev;
    }
    if (this.waiters.length > 0) this.releaseWaiters();
  }

  /**
   * The store watch failed (e.g. its revision was compacted while etcd was unreachable): like
   * upstream's cacher, end every watch (clients re-list) and rebuild the cache from a fresh list.
   */
  private onError(err: StoreError): void {
    if (this.stopped) return;
    this.failed = err;
    this.storeWatch?.cancel();
    for (const c of this.resources.values()) c.closeAll(err);
    log.warn("watch cache lost its store watch; re-listing", { error: err.message });
    const retry = (): void => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.start().catch((e: unknown) => {
        log.warn("watch cache re-list failed", { error: String(e) });
        this.retryTimer = setTimeout(retry, 1000);
      });
    };
    this.retryTimer = setTimeout(retry, 100);
  }

  private releaseWaiters(): void {
    const ready = this.waiters.filter((w) => w.rv <= this.rv);
    this.waiters = this.waiters.filter((w) => w.rv > this.rv);
    for (const w of ready) w.resolve();
  }

  /** The cache for a resource key prefix (created empty when nothing is stored yet). */
  resource(prefix: string): ResourceCache {
    let c = this.resources.get(prefix);
    if (!c) {
      c = new ResourceCache(prefix, this.startRv, this.window);
      this.resources.set(prefix, c);
    }
    return c;
  }

  /** Resolves once every write up to `rv` is visible in the cache (also across a re-list). */
  waitFor(rv: number): Promise<void> {
    if (rv <= this.rv) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ rv, resolve }));
  }

  private syncQueue: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private syncRunning = false;

  /**
   * Waits until the cache has caught up with the store's current revision (a consistent read).
   * Concurrent callers share store round trips: a caller joins the next revision query that
   * starts after it arrived, so every caller still sees every write acknowledged before its call.
   */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.syncQueue.push({ resolve, reject });
      if (!this.syncRunning) void this.runSync();
    });
  }

  private async runSync(): Promise<void> {
    this.syncRunning = true;
    while (this.syncQueue.length > 0) {
      const batch = this.syncQueue;
      this.syncQueue = [];
      try {
        await this.waitFor(await this.store.currentRevision());
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.syncRunning = false;
  }

  /** Objects per resource key prefix. */
  counts(): Array<[string, number]> {
    return [...this.resources].map(([prefix, c]) => [prefix, c.items.size]);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.storeWatch?.cancel();
    for (const c of this.resources.values()) c.closeAll();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}

export { StoreError };
