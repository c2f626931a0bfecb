import { type LogRow, rowKeyValue, rowToEvent } from "../log/row.js";
import { type EventLog, WatchHub } from "../log/watch-hub.js";
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

/**
 * An in-memory MVCC store (tests, and a baseline for benchmarks). It keeps the same append-only log
 * as the sqlite backend: every write appends a row, a key's history is its rows, and compaction
 * drops superseded rows. Nothing survives the process.
 */
export class MemoryStore implements Store, EventLog {
  readonly backend = "memory";
  /** The log from `base` on: `log[i]` has revision `base + i`; rows compacted away are undefined. */
  private log: (LogRow | undefined)[] = [];
  private base = 1;
  private headRevision = 0;
  private compacted = 0;
  /** Every key with at least one row, with its rows in revision order. */
  private readonly versions = new Map<string, LogRow[]>();
  /** The keys of `versions`, sorted (UTF-16 code unit order), once `unsorted` is merged in. */
  private sorted: string[] = [];
  /** Keys added since the last sort (merged lazily by the next list or count). */
  private unsorted: string[] = [];
  private readonly hub: WatchHub;
  private closed = false;

  constructor() {
    this.hub = new WatchHub(this);
  }

  // --- EventLog ---

  head(): number {
    return this.headRevision;
  }

  compactedRevisionNow(): number {
    return this.compacted;
  }

  readEvents(after: number, upTo: number, limit: number, prefix?: string): WatchEvent[] {
    const out: WatchEvent[] = [];
    const start = Math.max(after + 1, this.base);
    for (let rev = start; rev <= upTo && out.length < limit; rev++) {
      const row = this.log[rev - this.base];
      if (row === undefined) continue;
      if (prefix !== undefined && !row.key.startsWith(prefix)) continue;
      out.push(rowToEvent(row));
    }
    return out;
  }

  // --- Store ---

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    this.checkOpen();
    const rev = this.readRevision(opts.revision);
    const row = this.rowAt(key, rev);
    return { kv: row === undefined ? undefined : rowKeyValue(row), revision: rev };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const rev = this.readRevision(opts.revision);
    const limit = opts.limit ?? 0;
    const kvs: KeyValue[] = [];
    let more = false;
    const from = opts.startAfter !== undefined && opts.startAfter >= prefix ? opts.startAfter : prefix;
    let i = lowerBound(this.sortedKeys, from);
    if (opts.startAfter !== undefined && this.sortedKeys[i] === opts.startAfter) i++;
    for (; i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i]!;
      if (!key.startsWith(prefix)) break;
      const row = this.rowAt(key, rev);
      const kv = row === undefined ? undefined : rowKeyValue(row);
      if (kv === undefined) continue;
      if (limit > 0 && kvs.length >= limit) {
        more = true;
        break;
      }
      kvs.push(kv);
    }
    return { kvs, more, revision: rev };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    let n = 0;
    for (let i = lowerBound(this.sortedKeys, prefix); i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i]!;
      if (!key.startsWith(prefix)) break;
      const rows = this.versions.get(key);
      const last = rows?.[rows.length - 1];
      if (last !== undefined && !last.deleted) n++;
    }
    return n;
  }

  async create(key: string, value: string): Promise<number> {
    this.checkOpen();
    const latest = this.latest(key);
    if (latest !== undefined && !latest.deleted) throw new StoreError("exists", `key ${key} already exists`);
    const revision = this.headRevision + 1;
    this.append({
      revision,
      key,
      value,
      createRevision: revision,
      prevRevision: latest?.revision ?? 0,
      deleted: false,
      prevValue: undefined,
    });
    return revision;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<number> {
    this.checkOpen();
    const latest = this.guard(key, expectedModRevision);
    const revision = this.headRevision + 1;
    this.append({
      revision,
      key,
      value,
      createRevision: latest.createRevision,
      prevRevision: latest.revision,
      deleted: false,
      prevValue: latest.value,
    });
    return revision;
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prevKv: KeyValue }> {
    this.checkOpen();
    const latest = this.guard(key, expectedModRevision);
    const revision = this.headRevision + 1;
    this.append({
      revision,
      key,
      value: latest.value,
      createRevision: latest.createRevision,
      prevRevision: latest.revision,
      deleted: true,
      prevValue: undefined,
    });
    return { revision, prevKv: rowKeyValue(latest)! };
  }

  watch(prefix: string, handlers: WatchHandlers, opts?: WatchOptions): Watch {
    return this.hub.watch(prefix, handlers, opts);
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compacted;
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.headRevision;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.headRevision) {
      throw new StoreError(
        "future-revision",
        `cannot compact to ${revision}: current revision is ${this.headRevision}`,
        {
          revision: this.headRevision,
        },
      );
    }
    if (revision <= this.compacted) return;
    this.compacted = revision;
    // Watchers replaying history keep the rows they still need out of reach of the log trim.
    const keepLogFrom = Math.min(revision, this.hub.oldestNeededRevision());
    const removed = new Set<string>();
    for (const [key, rows] of this.versions) {
      // Keep: rows >= revision, and the newest row <= revision unless it is a deletion below it.
      let newestBelow = -1;
      for (let i = 0; i < rows.length && rows[i]!.revision <= revision; i++) newestBelow = i;
      let drop = newestBelow;
      const nb = rows[newestBelow];
      if (nb !== undefined && !(nb.deleted && nb.revision < revision)) drop = newestBelow - 1;
      if (drop < 0) continue;
      const kept = rows.slice(drop + 1);
      if (kept.length === 0) {
        this.versions.delete(key);
        removed.add(key);
      } else {
        this.versions.set(key, kept);
      }
    }
    if (removed.size > 0) {
      this.sorted = this.sortedKeys.filter((k) => !removed.has(k));
    }
    if (keepLogFrom > this.base) {
      this.log = this.log.slice(keepLogFrom - this.base);
      this.base = keepLogFrom;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.close();
  }

  // --- internals ---

  private checkOpen(): void {
    if (this.closed) throw new StoreError("unavailable", "store is closed");
  }

  private readRevision(requested: number | undefined): number {
    if (requested === undefined || requested === 0) return this.headRevision;
    if (requested > this.headRevision) {
      throw new StoreError("future-revision", `required revision ${requested} is a future revision`, {
        revision: this.headRevision,
      });
    }
    if (requested < this.compacted) {
      throw new StoreError("compacted", `required revision ${requested} has been compacted`, {
        revision: this.compacted,
      });
    }
    return requested;
  }

  /** All keys with rows, sorted; merges keys added since the last call. */
  private get sortedKeys(): string[] {
    if (this.unsorted.length > 0) {
      const added = this.unsorted.sort();
      this.unsorted = [];
      const merged: string[] = new Array(this.sorted.length + added.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < this.sorted.length && j < added.length) {
        merged[k++] = this.sorted[i]! < added[j]! ? this.sorted[i++]! : added[j++]!;
      }
      while (i < this.sorted.length) merged[k++] = this.sorted[i++]!;
      while (j < added.length) merged[k++] = added[j++]!;
      this.sorted = merged;
    }
    return this.sorted;
  }

  private latest(key: string): LogRow | undefined {
    const rows = this.versions.get(key);
    return rows?.[rows.length - 1];
  }

  private rowAt(key: string, rev: number): LogRow | undefined {
    const rows = this.versions.get(key);
    if (rows === undefined) return undefined;
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      if (row.revision <= rev) return row;
    }
    return undefined;
  }

  private guard(key: string, expectedModRevision: number | undefined): LogRow {
    const latest = this.latest(key);
    if (latest === undefined || latest.deleted) throw new StoreError("not-found", `key ${key} not found`);
    if (expectedModRevision !== undefined && latest.revision !== expectedModRevision) {
      throw new StoreError(
        "conflict",
        `key ${key} has modRevision ${latest.revision}, expected ${expectedModRevision}`,
        { current: rowKeyValue(latest) },
      );
    }
    return latest;
  }

  private append(row: LogRow): void {
    this.headRevision = row.revision;
    this.log.push(row);
    const rows = this.versions.get(row.key);
    if (rows === undefined) {
      this.versions.set(row.key, [row]);
      this.unsorted.push(row.key);
    } else {
      rows.push(row);
    }
    this.hub.notify();
  }
}

/** Index of the first element >= `value` in a sorted array. */
export function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
