import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { type LogRow, prefixEnd, rowKeyValue, rowToEvent } from "../log/row.js";
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
import { COLUMNS, CREATE_STATEMENTS, type SqlRow } from "./schema.js";

/** Background compaction (history older than the retention is deleted in small batches). */
export interface SqliteCompactionOptions {
  /** Run every this many milliseconds. Default 30_000. */
  intervalMs?: number;
  /** Also run after this many writes. Default 1000. */
  everyWrites?: number;
  /**
   * Keep at least the last this many revisions of history. Default 1000. History is kept when
   * either retention wants it: the compaction target is the older of the two bounds.
   */
  retainRevisions?: number;
  /** Keep at least this much time of history (milliseconds). Default 300_000 (5 minutes). */
  retainMs?: number;
  /** Revisions examined per delete transaction, so a writer never waits long. Default 1000. */
  batchSize?: number;
}

export interface SqliteStoreOptions {
  /** The database file; created (with its folder) when missing. WAL files sit beside it. */
  path: string;
  /**
   * How often the watch poller reads the log for writes made by other processes (this process's
   * writes are delivered at once). Default 1000 ms; 0 disables polling.
   */
  pollIntervalMs?: number;
  /** Background compaction settings; `false` disables it (compact() still works). Default: on. */
  compaction?: false | SqliteCompactionOptions;
  /** Clock for the time-based retention (tests). Default Date.now. */
  now?: () => number;
}

interface PendingWrite {
  op: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Stmt = Database.Statement<unknown[], unknown>;

/**
 * The embedded default backend: an append-only log in sqlite, the way kine does it (see schema.ts).
 *
 * Durability: WAL with synchronous=NORMAL. A commit is written to the WAL file before the write's
 * promise resolves, so an acknowledged write survives the process being killed (kill -9); only an
 * OS crash or power loss can lose the last commits (no fsync per commit), which we accept for the
 * speed. Writes issued in the same tick share one transaction, each with its own revision and its
 * own outcome (a conflict fails that write only).
 */
export class SqliteStore implements Store, EventLog {
  readonly backend = "sqlite";
  private readonly db: Database.Database;
  private readonly hub: WatchHub;
  private readonly stmts = new Map<string, Stmt>();
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly pollTimer: NodeJS.Timeout | undefined;
  private readonly compactor: Compactor | undefined;

  constructor(opts: SqliteStoreOptions) {
    mkdirSync(dirname(opts.path), { recursive: true });
    try {
      this.db = new Database(opts.path);
      // Before anything writes the header: auto_vacuum only takes effect on a brand-new file.
      this.db.pragma("auto_vacuum = INCREMENTAL");
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma("busy_timeout = 5000");
      for (const sql of CREATE_STATEMENTS) this.db.exec(sql);
    } catch (err) {
      throw new StoreError("unavailable", `sqlite: cannot open ${opts.path}: ${String(err)}`);
    }
    this.hub = new WatchHub(this);
    const poll = opts.pollIntervalMs ?? 1000;
    if (poll > 0) {
      this.pollTimer = setInterval(() => this.hub.pump(), poll);
      this.pollTimer.unref();
    }
    if (opts.compaction !== false) {
      this.compactor = new Compactor(this, opts.compaction ?? {}, opts.now ?? Date.now);
    }
  }

  // --- EventLog ---

  head(): number {
    const row = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  compactedRevisionNow(): number {
    return this.meta("compact_revision");
  }

  readEvents(after: number, upTo: number, limit: number, prefix?: string): WatchEvent[] {
    let rows: SqlRow[];
    if (prefix === undefined || prefix === "") {
      rows = this.stmt(`SELECT ${COLUMNS} FROM log WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`).all(
        after,
        upTo,
        limit,
      ) as SqlRow[];
    } else {
      const end = prefixEnd(prefix);
      rows = (
        end === undefined
          ? this.stmt(`SELECT ${COLUMNS} FROM log WHERE id > ? AND id <= ? AND name >= ? ORDER BY id LIMIT ?`).all(
              after,
              upTo,
              prefix,
              limit,
            )
          : this.stmt(
              `SELECT ${COLUMNS} FROM log WHERE id > ? AND id <= ? AND name >= ? AND name < ? ORDER BY id LIMIT ?`,
            ).all(after, upTo, prefix, end, limit)
      ) as SqlRow[];
    }
    const out: WatchEvent[] = [];
    for (const r of rows) if (r.name.startsWith(prefix ?? "")) out.push(rowToEvent(toLogRow(r)));
    return out;
  }

  // --- Store: reads ---

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    this.checkOpen();
    return this.read(() => {
      const head = this.head();
      if (opts.revision === undefined || opts.revision === 0) {
        const r = this.stmt(`SELECT ${COLUMNS} FROM log WHERE name = ? ORDER BY id DESC LIMIT 1`).get(key) as
          | SqlRow
          | undefined;
        return { kv: r === undefined ? undefined : rowKeyValue(toLogRow(r)), revision: head };
      }
      const rev = this.checkRevision(opts.revision, head);
      const r = this.stmt(`SELECT ${COLUMNS} FROM log WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`).get(
        key,
        rev,
      ) as SqlRow | undefined;
      return { kv: r === undefined ? undefined : rowKeyValue(toLogRow(r)), revision: rev };
    });
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    return this.read(() => {
      const head = this.head();
      const rev = opts.revision === undefined || opts.revision === 0 ? head : this.checkRevision(opts.revision, head);
      const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : 0;
      const after = opts.startAfter !== undefined && opts.startAfter >= prefix ? opts.startAfter : undefined;
      const end = prefixEnd(prefix);
      const where = [after === undefined ? "l.name >= ?" : "l.name > ?"];
      const params: Array<string | number> = [after ?? prefix];
      if (end !== undefined) {
        where.push("l.name < ?");
        params.push(end);
      }
      where.push(
        "l.id <= ?",
        "l.deleted = 0",
        "l.id = (SELECT MAX(l2.id) FROM log l2 WHERE l2.name = l.name AND l2.id <= ?)",
      );
      params.push(rev, rev, limit > 0 ? limit + 1 : -1);
      const rows = this.stmt(
        `SELECT ${prefixed(COLUMNS)} FROM log l WHERE ${where.join(" AND ")} ORDER BY l.name LIMIT ?`,
      ).all(...params) as SqlRow[];
      const more = limit > 0 && rows.length > limit;
      if (more) rows.length = limit;
      const kvs: KeyValue[] = [];
      for (const r of rows) {
        const kv = rowKeyValue(toLogRow(r));
        if (kv !== undefined) kvs.push(kv);
      }
      return { kvs, more, revision: rev };
    });
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const end = prefixEnd(prefix);
    const latest = "l.deleted = 0 AND l.id = (SELECT MAX(l2.id) FROM log l2 WHERE l2.name = l.name)";
    const row = (
      end === undefined
        ? this.stmt(`SELECT COUNT(*) AS n FROM log l WHERE l.name >= ? AND ${latest}`).get(prefix)
        : this.stmt(`SELECT COUNT(*) AS n FROM log l WHERE l.name >= ? AND l.name < ? AND ${latest}`).get(prefix, end)
    ) as { n: number };
    return row.n;
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.head();
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compactedRevisionNow();
  }

  // --- Store: writes ---

  create(key: string, value: string): Promise<number> {
    return this.write(() => {
      const latest = this.latestRow(key);
      if (latest !== undefined && latest.deleted === 0) throw new StoreError("exists", `key ${key} already exists`);
      return this.insert(key, 1, 0, 0, latest?.id ?? 0, value, null, () => {
        throw new StoreError("exists", `key ${key} already exists`);
      });
    });
  }

  update(key: string, value: string, expectedModRevision: number): Promise<number> {
    return this.write(() => {
      const latest = this.guard(key, expectedModRevision);
      return this.insert(key, 0, 0, createRevisionOf(latest), latest.id, value, latest.value, () =>
        this.conflict(key, expectedModRevision),
      );
    });
  }

  delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prevKv: KeyValue }> {
    return this.write(() => {
      const latest = this.guard(key, expectedModRevision);
      const revision = this.insert(key, 0, 1, createRevisionOf(latest), latest.id, latest.value, null, () =>
        this.conflict(key, expectedModRevision ?? latest.id),
      );
      return { revision, prevKv: rowKeyValue(toLogRow(latest))! };
    });
  }

  watch(prefix: string, handlers: WatchHandlers, opts?: WatchOptions): Watch {
    return this.hub.watch(prefix, handlers, opts);
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    const head = this.head();
    if (revision > head) {
      throw new StoreError("future-revision", `cannot compact to ${revision}: current revision is ${head}`, {
        revision: head,
      });
    }
    await this.compactTo(revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length > 0) this.flush();
    this.closed = true;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.compactor?.stop();
    this.hub.close();
    this.db.close();
  }

  // --- compaction (also driven by the background Compactor) ---

  /** Marks history below `revision` gone, then deletes the superseded rows in small transactions. */
  async compactTo(revision: number, batchSize = 1000): Promise<void> {
    if (this.closed) return;
    if (revision > this.compactedRevisionNow()) this.setMeta("compact_revision", revision);
    // Rows the watch hub has not delivered yet stay until it has (they carry the events).
    this.hub.pump();
    const target = Math.min(this.compactedRevisionNow(), this.hub.deliveredRevision() + 1);
    let done = this.meta("compact_physical");
    const delPrev = this.stmt(
      "DELETE FROM log WHERE id IN (SELECT prev_revision FROM log WHERE id > ? AND id <= ? AND prev_revision != 0)",
    );
    const delMarkers = this.stmt("DELETE FROM log WHERE id > ? AND id < ? AND deleted = 1");
    const step = this.db.transaction((from: number, to: number) => {
      // A row's predecessor is superseded once the row itself is at or below the target.
      delPrev.run(from, to);
      // Deletion markers below the target are history too (the key reads as absent without them).
      delMarkers.run(from, Math.min(to + 1, target));
      this.setMeta("compact_physical", to);
    });
    while (done < target && !this.closed) {
      const to = Math.min(done + batchSize, target);
      step.immediate(done, to);
      done = to;
      if (done < target) await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Returns freed pages to the file system and truncates the WAL (after compaction). */
  reclaimSpace(): void {
    if (this.closed) return;
    this.db.pragma("incremental_vacuum");
    this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  // --- internals ---

  private stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private meta(name: string): number {
    const row = this.stmt("SELECT value FROM meta WHERE name = ?").get(name) as { value: number } | undefined;
    return row?.value ?? 0;
  }

  private setMeta(name: string, value: number): void {
    this.stmt(
      "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    ).run(name, value);
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError("unavailable", "store is closed");
  }

  /** Runs a read, translating driver errors (the closed union is all callers ever see). */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw translate(err);
    }
  }

  private checkRevision(requested: number, head: number): number {
    if (requested > head) {
      throw new StoreError("future-revision", `required revision ${requested} is a future revision`, {
        revision: head,
      });
    }
    const compacted = this.compactedRevisionNow();
    if (requested < compacted) {
      throw new StoreError("compacted", `required revision ${requested} has been compacted`, { revision: compacted });
    }
    return requested;
  }

  private latestRow(key: string): SqlRow | undefined {
    return this.stmt(`SELECT ${COLUMNS} FROM log WHERE name = ? ORDER BY id DESC LIMIT 1`).get(key) as
      | SqlRow
      | undefined;
  }

  private guard(key: string, expected: number | undefined): SqlRow {
    const latest = this.latestRow(key);
    if (latest === undefined || latest.deleted === 1) throw new StoreError("not-found", `key ${key} not found`);
    if (expected !== undefined && latest.id !== expected) {
      throw new StoreError("conflict", `key ${key} has modRevision ${latest.id}, expected ${expected}`, {
        current: rowKeyValue(toLogRow(latest)),
      });
    }
    return latest;
  }

  private conflict(key: string, expected: number): never {
    const latest = this.latestRow(key);
    if (latest === undefined || latest.deleted === 1) throw new StoreError("not-found", `key ${key} not found`);
    throw new StoreError("conflict", `key ${key} has modRevision ${latest.id}, expected ${expected}`, {
      current: rowKeyValue(toLogRow(latest)),
    });
  }

  private insert(
    name: string,
    created: number,
    deleted: number,
    createRevision: number,
    prevRevision: number,
    value: string,
    oldValue: string | null,
    onCollision: () => never,
  ): number {
    try {
      const res = this.stmt(
        "INSERT INTO log (name, created, deleted, create_revision, prev_revision, value, old_value) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(name, created, deleted, createRevision, prevRevision, value, oldValue);
      return Number(res.lastInsertRowid);
    } catch (err) {
      // Another writer appended from the same revision: the (name, prev_revision) index collided.
      if (isUniqueViolation(err)) onCollision();
      throw err;
    }
  }

  /** Queues a write; writes queued in the same event-loop turn commit together, each with its own revision. */
  private write<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError("unavailable", "store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate (not a microtask): writes from every request read in this loop turn share one commit
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.closed) {
      for (const w of batch) w.reject(new StoreError("unavailable", "store is closed"));
      return;
    }
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.stmt("BEGIN IMMEDIATE").run();
      try {
        for (const w of batch) {
          try {
            outcomes.push({ ok: true, value: w.op() });
          } catch (err) {
            outcomes.push({ ok: false, value: translate(err) });
          }
        }
        this.stmt("COMMIT").run();
      } catch (err) {
        if (this.db.inTransaction) this.stmt("ROLLBACK").run();
        throw err;
      }
    } catch (err) {
      const e = translate(err);
      for (const w of batch) w.reject(e);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const o = outcomes[i]!;
      if (o.ok) batch[i]!.resolve(o.value);
      else batch[i]!.reject(o.value);
    }
    // deliver this process's writes now (not a loop turn later): the writers' promises settle in
    // the microtasks after this, by which time watchers have seen the events
    this.hub.pump();
    this.compactor?.wrote(batch.length);
  }

  /** For the compactor: the watch hub's position. */
  deliveredRevision(): number {
    return this.hub.deliveredRevision();
  }
}

/**
 * Runs compaction every `intervalMs` and after `everyWrites` writes, keeping the newest
 * `retainRevisions` revisions and `retainMs` of history (whichever keeps more). It remembers
 * (time, revision) samples to turn the time window into a revision.
 */
class Compactor {
  private readonly store: SqliteStore;
  private readonly everyWrites: number;
  private readonly retainRevisions: number;
  private readonly retainMs: number;
  private readonly batchSize: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private writes = 0;
  private running = false;
  private stopped = false;
  private samples: Array<{ at: number; revision: number }> = [];

  constructor(store: SqliteStore, opts: SqliteCompactionOptions, now: () => number) {
    this.store = store;
    this.everyWrites = opts.everyWrites ?? 1000;
    this.retainRevisions = opts.retainRevisions ?? 1000;
    this.retainMs = opts.retainMs ?? 300_000;
    this.batchSize = opts.batchSize ?? 1000;
    this.now = now;
    this.timer = setInterval(() => this.run(), opts.intervalMs ?? 30_000);
    this.timer.unref();
    this.sample();
  }

  wrote(n: number): void {
    this.writes += n;
    if (this.retainMs > 0) this.sample();
    if (this.writes >= this.everyWrites) this.run();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** The newest revision whose history may go now. */
  target(): number {
    const head = this.store.head();
    const byCount = head - this.retainRevisions;
    let byTime = head;
    if (this.retainMs > 0) {
      const cutoff = this.now() - this.retainMs;
      byTime = 0;
      for (const s of this.samples) if (s.at <= cutoff) byTime = s.revision;
    }
    return Math.min(byCount, byTime);
  }

  private sample(): void {
    // At most one sample per second: the newest revision seen in that second, with its time.
    const at = this.now();
    const revision = this.store.head();
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && Math.floor(last.at / 1000) === Math.floor(at / 1000)) {
      last.at = at;
      last.revision = revision;
    } else {
      this.samples.push({ at, revision });
    }
    // Only the newest sample older than the window is still useful.
    const cutoff = at - this.retainMs;
    while (this.samples.length > 1 && (this.samples[1]?.at ?? Number.POSITIVE_INFINITY) <= cutoff) this.samples.shift();
  }

  private run(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.writes = 0;
    const work = async (): Promise<void> => {
      // Off the writer's call stack.
      await new Promise<void>((r) => setImmediate(r));
      if (this.stopped) return;
      this.sample();
      const target = this.target();
      if (target > this.store.compactedRevisionNow()) {
        await this.store.compactTo(target, this.batchSize);
        if (!this.stopped) this.store.reclaimSpace();
      }
    };
    work()
      .catch((err: unknown) => {
        if (!this.stopped) console.error("sqlite store: background compaction failed; will retry", err);
      })
      .finally(() => {
        this.running = false;
      });
  }
}

function toLogRow(r: SqlRow): LogRow {
  return {
    revision: r.id,
    key: r.name,
    value: r.value,
    createRevision: createRevisionOf(r),
    prevRevision: r.prev_revision,
    deleted: r.deleted === 1,
    prevValue: r.old_value ?? undefined,
  };
}

function createRevisionOf(r: SqlRow): number {
  return r.created === 1 ? r.id : r.create_revision;
}

function prefixed(columns: string): string {
  return columns
    .split(", ")
    .map((c) => `l.${c}`)
    .join(", ");
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code.startsWith("SQLITE_CONSTRAINT");
}

/** Driver errors → the store's closed union. StoreErrors pass through. */
function translate(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof Database.SqliteError) return new StoreError("unavailable", `sqlite: ${err.code}: ${err.message}`);
  return new StoreError("unavailable", `sqlite: ${String(err)}`);
}
