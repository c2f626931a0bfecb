/**
 * An informer over any `ApiClient`: lists, then watches from the list's revision, keeping a
 * local cache of the objects by namespace/name and calling handlers on every change. When the
 * watch ends it resumes from the last revision seen; when that revision is gone (410) it lists
 * again and reports the difference (objects deleted meanwhile come as deletions). Handlers only
 * learn keys and objects: consumers re-read state from `get`/`list` (level-triggered).
 */
import type { KObject } from "../api/types.js";
import { ApiError } from "../apiserver/errors.js";
import { log } from "../util/log.js";
import type { ApiClient, ListOptions, ResourceId, WatchHandle } from "./types.js";

export interface InformerHandlers {
  onAdd?(obj: KObject): void;
  onUpdate?(obj: KObject, old: KObject): void;
  onDelete?(obj: KObject): void;
}

export function objectKeyOf(obj: KObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ""}` : (obj.metadata.name ?? "");
}

export class Informer {
  private readonly client: ApiClient;
  private readonly resource: ResourceId;
  private readonly opts: ListOptions;
  private readonly handlers: InformerHandlers[] = [];
  private readonly items = new Map<string, KObject>();
  private rv = "";
  private watchHandle: WatchHandle | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = true;
  private syncedResolve: (() => void) | undefined;
  private synced: Promise<void>;
  private isSynced = false;

  constructor(client: ApiClient, resource: ResourceId, opts: ListOptions = {}) {
    this.client = client;
    this.resource = resource;
    this.opts = opts;
    this.synced = new Promise((r) => (this.syncedResolve = r));
  }

  addHandlers(h: InformerHandlers): void {
    this.handlers.push(h);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.watchHandle?.stop();
    this.watchHandle = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Resolves once the first list has been delivered to the handlers. */
  waitForSync(): Promise<void> {
    return this.synced;
  }

  hasSynced(): boolean {
    return this.isSynced;
  }

  get(namespace: string | undefined, name: string): KObject | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): KObject[] {
    return [...this.items.values()];
  }

  get resourceVersion(): string {
    return this.rv;
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    let listed: { items: KObject[]; resourceVersion: string };
    try {
      listed = await this.client.list(this.resource, this.opts);
    } catch (err) {
      this.retryLater(err);
      return;
    }
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const obj of listed.items) {
      const key = objectKeyOf(obj);
      seen.add(key);
      this.apply("ADDED", obj);
    }
    for (const [key, old] of [...this.items]) {
      if (!seen.has(key)) this.apply("DELETED", old);
    }
    this.rv = listed.resourceVersion;
    if (!this.isSynced) {
      this.isSynced = true;
      this.syncedResolve?.();
    }
    this.watchFrom();
  }

  private watchFrom(): void {
    if (this.stopped) return;
    this.watchHandle = this.client.watch(
      this.resource,
      { ...this.opts, resourceVersion: this.rv, allowWatchBookmarks: true },
      (ev) => {
        this.failures = 0;
        const rv = ev.object.metadata.resourceVersion;
        if (rv) this.rv = rv;
        if (ev.type !== "BOOKMARK") this.apply(ev.type, ev.object);
      },
      (err) => {
        this.watchHandle = undefined;
        if (this.stopped) return;
        if (err instanceof ApiError && err.code === 410) {
          void this.relist();
          return;
        }
        if (err) {
          this.retryLater(err, () => this.watchFrom());
          return;
        }
        // a clean end (server timeout): resume at once
        this.watchFrom();
      },
    );
  }

  private retryLater(err: unknown, then: () => void = () => void this.relist()): void {
    this.failures++;
    const delay = Math.min(100 * 2 ** Math.min(this.failures - 1, 8), 10_000);
    if (this.failures === 1 || this.failures % 10 === 0) {
      log.warn("informer retrying", { resource: this.resource.plural, error: String(err), delayMs: delay });
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) then();
    }, delay);
  }

  private apply(type: "ADDED" | "MODIFIED" | "DELETED", obj: KObject): void {
    const key = objectKeyOf(obj);
    const old = this.items.get(key);
    if (type === "DELETED") {
      if (!old) return;
      this.items.delete(key);
      for (const h of this.handlers) h.onDelete?.(obj);
      return;
    }
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.items.set(key, obj);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(obj, old);
      else h.onAdd?.(obj);
    }
  }
}
