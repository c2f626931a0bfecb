import { Etcd3, type IKeyValue, type IOptions, type IResponseHeader, type IWatchResponse } from "etcd3";
import {
  type GetResult,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  StoreError,
  type Watch,
  type WatchEvent,
  type WatchHandlers,
  type WatchOptions,
} from "../types.js";

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /**
   * Prepended to every key in etcd (our keys are stored as prefix + key, and handed back without
   * it). Default "" (keys as given). Several clusters/tests can share one etcd with distinct prefixes.
   */
  prefix?: string;
  /** Connection timeout for the first call, in milliseconds. Default 5000. */
  dialTimeoutMs?: number;
  /** Extra options for the etcd3 client (TLS credentials, auth). */
  client?: Partial<IOptions>;
}

/** The maximum wait before re-opening a broken watch stream (it starts at 100 ms and doubles). */
const MAX_WATCH_BACKOFF_MS = 5000;

/**
 * The etcd v3 backend (HA deployments). One txn per write, so each write takes exactly one etcd
 * revision, and etcd's revision is our resourceVersion:
 * create = txn(createRevision == 0 → put), update = txn(modRevision == expected → put, else get),
 * delete likewise. Watches use etcd's watch stream with start_revision and prev_kv; a broken stream
 * re-opens from the next revision it needs. etcd errors are translated into StoreError here.
 */
export class EtcdStore implements Store {
  readonly backend = "etcd";
  private readonly client: Etcd3;
  private readonly prefix: string;
  /** The newest revision this process has seen in a response header ("now" for a new watch). */
  private seenRevision = 0;
  /** The compacted revision as far as this process knows (only ever grows). */
  private knownCompacted = 0;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  constructor(opts: EtcdStoreOptions) {
    this.prefix = opts.prefix ?? "";
    this.client = new Etcd3({ ...opts.client, hosts: opts.endpoints, dialTimeout: opts.dialTimeoutMs ?? 5000 });
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    const rev = opts.revision ?? 0;
    const res = await this.call(() => this.client.kv.range({ key: this.k(key), revision: rev > 0 ? rev : undefined }));
    const head = this.header(res.header);
    const kv = res.kvs[0];
    return { kv: kv === undefined ? undefined : this.kv(kv), revision: rev > 0 ? rev : head };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const rev = opts.revision ?? 0;
    const full = this.k(prefix);
    const start =
      opts.startAfter !== undefined && opts.startAfter >= prefix
        ? Buffer.concat([this.k(opts.startAfter), Buffer.from([0])])
        : full;
    const res = await this.call(() =>
      this.client.kv.range({
        key: start,
        range_end: rangeEnd(full),
        limit: opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined,
        revision: rev > 0 ? rev : undefined,
      }),
    );
    const head = this.header(res.header);
    return { kvs: res.kvs.map((kv) => this.kv(kv)), more: res.more, revision: rev > 0 ? rev : head };
  }

  async count(prefix: string): Promise<number> {
    const full = this.k(prefix);
    const res = await this.call(() => this.client.kv.range({ key: full, range_end: rangeEnd(full), count_only: true }));
    this.header(res.header);
    return Number(res.count);
  }

  async create(key: string, value: string): Promise<number> {
    const k = this.k(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: "Create", result: "Equal", create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value, "utf8") } }],
      }),
    );
    const rev = this.header(res.header);
    if (!res.succeeded) throw new StoreError("exists", `key ${key} already exists`);
    return rev;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<number> {
    const k = this.k(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: "Mod", result: "Equal", mod_revision: expectedModRevision }],
        success: [{ request_put: { key: k, value: Buffer.from(value, "utf8") } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    const rev = this.header(res.header);
    if (!res.succeeded) this.guardFailed(key, expectedModRevision, res.responses[0]?.response_range?.kvs[0]);
    return rev;
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prevKv: KeyValue }> {
    const k = this.k(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare:
          expectedModRevision === undefined
            ? [{ key: k, target: "Version", result: "Greater", version: 0 }]
            : [{ key: k, target: "Mod", result: "Equal", mod_revision: expectedModRevision }],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    const rev = this.header(res.header);
    if (!res.succeeded) {
      this.guardFailed(key, expectedModRevision ?? 0, res.responses[0]?.response_range?.kvs[0]);
    }
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (prev === undefined) throw new StoreError("not-found", `key ${key} not found`);
    return { revision: rev, prevKv: this.kv(prev) };
  }

  watch(prefix: string, handlers: WatchHandlers, opts: WatchOptions = {}): Watch {
    const from = opts.fromRevision !== undefined && opts.fromRevision > 0 ? opts.fromRevision : this.seenRevision + 1;
    const w = new EtcdWatch(this, this.k(prefix), handlers, from, this.seenRevision === 0 && !opts.fromRevision);
    this.watches.add(w);
    if (this.closed) w.fail(new StoreError("unavailable", "store is closed"));
    else w.open();
    return w;
  }

  async currentRevision(): Promise<number> {
    // etcd refuses an empty key: ask for a key that cannot exist (the answer's header carries the revision)
    const res = await this.call(() => this.client.kv.range({ key: this.k("\u0000"), count_only: true, limit: 1 }));
    // A fresh etcd reports revision 1 before any write; its first write is revision 2.
    return this.header(res.header);
  }

  /**
   * etcd does not report its compacted revision directly: the smallest revision a range read still
   * succeeds at is found by binary search (reads below it fail), starting from what we already know.
   */
  async compactedRevision(): Promise<number> {
    const head = await this.currentRevision();
    let lo = Math.max(this.knownCompacted, 1);
    let hi = head;
    if (await this.readableAt(lo)) return this.knownCompacted;
    while (lo + 1 < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.readableAt(mid)) hi = mid;
      else lo = mid;
    }
    this.noteCompacted(hi);
    return hi;
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.call(() => this.client.kv.compact({ revision, physical: true }));
      this.noteCompacted(revision);
    } catch (err) {
      // Compacting to an already compacted revision is a no-op for us.
      if (err instanceof StoreError && err.code === "compacted") return;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.watches]) w.cancel();
    this.client.close();
  }

  // --- for EtcdWatch ---

  /** @internal */
  openStream(): ReturnType<Etcd3["watchClient"]["watch"]> {
    return this.client.watchClient.watch();
  }

  /** @internal */
  forget(w: EtcdWatch): void {
    this.watches.delete(w);
  }

  /** @internal */
  noteCompacted(rev: number): void {
    if (rev > this.knownCompacted) this.knownCompacted = rev;
  }

  /** @internal */
  toKeyValue(kv: IKeyValue): KeyValue {
    return this.kv(kv);
  }

  /** @internal */
  stripPrefix(key: Buffer): string {
    return key.toString("utf8").slice(this.prefix.length);
  }

  /** @internal */
  async compactedError(requested: number): Promise<StoreError> {
    let rev = this.knownCompacted;
    try {
      rev = await this.compactedRevision();
    } catch {
      // Keep what we know.
    }
    return new StoreError("compacted", `required revision ${requested} has been compacted`, { revision: rev });
  }

  // --- internals ---

  private async readableAt(rev: number): Promise<boolean> {
    try {
      await this.call(() => this.client.kv.range({ key: this.k(""), revision: rev, count_only: true, limit: 1 }));
      return true;
    } catch (err) {
      if (err instanceof StoreError && err.code === "compacted") return false;
      throw err;
    }
  }

  private k(key: string): Buffer {
    return Buffer.from(this.prefix + key, "utf8");
  }

  private kv(kv: IKeyValue): KeyValue {
    return {
      key: this.stripPrefix(kv.key),
      value: kv.value.toString("utf8"),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  private header(h: IResponseHeader): number {
    const rev = Number(h.revision);
    if (rev > this.seenRevision) this.seenRevision = rev;
    return rev;
  }

  private guardFailed(key: string, expected: number, current: IKeyValue | undefined): never {
    if (current === undefined) throw new StoreError("not-found", `key ${key} not found`);
    const kv = this.kv(current);
    throw new StoreError("conflict", `key ${key} has modRevision ${kv.modRevision}, expected ${expected}`, {
      current: kv,
    });
  }

  /** Runs an etcd call, translating its errors into the store's closed union. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError("unavailable", "store is closed");
    try {
      return await fn();
    } catch (err) {
      throw await this.translate(err);
    }
  }

  private async translate(err: unknown): Promise<StoreError> {
    if (err instanceof StoreError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    if (msg.includes("required revision has been compacted")) {
      return new StoreError("compacted", `etcd: ${msg}`, { revision: this.knownCompacted });
    }
    if (msg.includes("required revision is a future revision")) {
      return new StoreError("future-revision", `etcd: ${msg}`, { revision: this.seenRevision });
    }
    return new StoreError("unavailable", `etcd: ${msg}`);
  }
}

type WatchStream = Awaited<ReturnType<EtcdStore["openStream"]>>;

/** One etcd watch stream per Store watch; re-opened from the next needed revision when it breaks. */
class EtcdWatch implements Watch {
  private readonly store: EtcdStore;
  private readonly key: Buffer;
  private readonly handlers: WatchHandlers;
  /** The next revision to deliver. */
  private next: number;
  /** No revision known yet: start at etcd's "now" and learn it from the created response. */
  private fromNow: boolean;
  private stream: WatchStream | undefined;
  private done = false;
  private backoffMs = 100;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(store: EtcdStore, key: Buffer, handlers: WatchHandlers, from: number, fromNow: boolean) {
    this.store = store;
    this.key = key;
    this.handlers = handlers;
    this.next = from;
    this.fromNow = fromNow;
  }

  open(): void {
    this.store.openStream().then(
      (stream) => {
        if (this.done) {
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.on("data", (res) => this.onResponse(res));
        stream.on("error", (err) => this.broken(err));
        stream.on("end", () => this.broken(new Error("watch stream ended")));
        stream.write({
          create_request: {
            key: this.key,
            range_end: rangeEnd(this.key),
            start_revision: this.fromNow ? undefined : this.next,
            prev_kv: true,
          },
        });
      },
      (err: unknown) => this.broken(err),
    );
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
    this.store.forget(this);
  }

  fail(err: StoreError): void {
    if (this.done) return;
    this.cancel();
    setImmediate(() => this.handlers.onError(err));
  }

  private onResponse(res: IWatchResponse): void {
    if (this.done) return;
    if (res.compact_revision !== undefined && Number(res.compact_revision) > 0) {
      const compacted = Number(res.compact_revision);
      this.store.noteCompacted(compacted);
      this.fail(
        new StoreError("compacted", `required revision ${this.next} has been compacted`, { revision: compacted }),
      );
      return;
    }
    if (res.canceled) {
      const requested = this.next;
      this.cancel();
      void this.store.compactedError(requested).then((err) => {
        // A cancel without a compact revision: report what etcd said.
        const reason = res.cancel_reason || "watch canceled by etcd";
        this.handlers.onError(
          err.revision !== undefined && requested < err.revision ? err : new StoreError("unavailable", reason),
        );
      });
      return;
    }
    if (res.created && this.fromNow) {
      this.fromNow = false;
      this.next = Number(res.header.revision) + 1;
    }
    if (res.events.length === 0) return;
    this.backoffMs = 100;
    const batch: WatchEvent[] = [];
    for (const ev of res.events) {
      const rev = Number(ev.kv.mod_revision);
      if (rev < this.next) continue;
      const prev = ev.prev_kv ? this.store.toKeyValue(ev.prev_kv) : undefined;
      if (ev.type === "Delete") {
        const key = this.store.stripPrefix(ev.kv.key);
        batch.push({
          type: "delete",
          kv: { key, value: prev?.value ?? "", createRevision: prev?.createRevision ?? 0, modRevision: rev },
          prevKv: prev ?? { key, value: "", createRevision: 0, modRevision: 0 },
        });
      } else {
        const kv = this.store.toKeyValue(ev.kv);
        batch.push(prev === undefined ? { type: "put", kv } : { type: "put", kv, prevKv: prev });
      }
    }
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    this.next = last.kv.modRevision + 1;
    try {
      this.handlers.onEvents(batch);
    } catch (err) {
      console.error("etcd store watch: handler threw; event delivery continues", err);
    }
  }

  private broken(err: unknown): void {
    if (this.done) return;
    const s = this.stream;
    this.stream = undefined;
    try {
      s?.cancel();
    } catch {
      // Already gone.
    }
    if (this.retryTimer !== undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_WATCH_BACKOFF_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.done) this.open();
    }, delay);
    void err;
  }
}

/** etcd's range_end for "every key starting with these bytes" ("\0" = to the end of the key space). */
export function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
