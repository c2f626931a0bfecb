import { StoreError, type Watch, type WatchEvent, type WatchHandlers, type WatchOptions } from "../types.js";

/**
 * What the hub needs from a log-structured backend. Reads are synchronous (memory, better-sqlite3),
 * which is what lets the hub switch a watcher from history replay to live delivery without a gap:
 * nothing can be appended between the last history read and joining the live set.
 */
export interface EventLog {
  /** Events with `after < revision <= upTo`, in revision order, at most `limit`, only keys starting with `prefix`. */
  readEvents(after: number, upTo: number, limit: number, prefix?: string): WatchEvent[];
  /** The newest committed revision. */
  head(): number;
  /** Revisions below this one are gone. */
  compactedRevisionNow(): number;
}

export interface WatchHubOptions {
  /** Events read from the log per step, for live delivery and for history replay. Default 1000. */
  batchSize?: number;
  /** Called when a handler throws (a bug in the caller); default logs to stderr. */
  onHandlerError?: (err: unknown) => void;
}

interface Watcher {
  prefix: string;
  handlers: WatchHandlers;
  /** Live: deliver events with revision >= from. */
  from: number;
  /** Replaying history: the last revision read for it; undefined once live. */
  cursor: number | undefined;
  done: boolean;
}

/**
 * Fans the log out to watchers. The hub reads the log strictly in revision order from its
 * `position` (the last revision it delivered); a backend calls `notify()` after each of its own
 * writes, and may call it on a timer to pick up other processes' writes. A watcher starting at an
 * old revision replays history from the log in chunks until it reaches the hub's position, then
 * joins the live set: no holes, no duplicates, events in order.
 */
export class WatchHub {
  private readonly log: EventLog;
  private readonly batchSize: number;
  private readonly onHandlerError: (err: unknown) => void;
  private readonly live = new Set<Watcher>();
  private readonly replaying = new Set<Watcher>();
  private position: number;
  private scheduled: NodeJS.Immediate | undefined;
  private closed = false;
  private pumping = false;

  constructor(log: EventLog, opts: WatchHubOptions = {}) {
    this.log = log;
    this.batchSize = opts.batchSize ?? 1000;
    this.onHandlerError =
      opts.onHandlerError ?? ((err) => console.error("store watch: handler threw; event delivery continues", err));
    this.position = log.head();
  }

  /** The last revision delivered to live watchers. */
  deliveredRevision(): number {
    return this.position;
  }

  /** The oldest revision some watcher still has to read from the log (compaction must keep it). */
  oldestNeededRevision(): number {
    let oldest = this.position + 1;
    for (const w of this.replaying) if (w.cursor !== undefined && w.cursor + 1 < oldest) oldest = w.cursor + 1;
    return oldest;
  }

  watcherCount(): number {
    return this.live.size + this.replaying.size;
  }

  /** New writes may be in the log: deliver them soon (coalesces calls made in the same tick). */
  notify(): void {
    if (this.scheduled !== undefined || this.closed) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.pump();
    });
  }

  /** Reads and delivers everything appended since the last pump. */
  pump(): void {
    // A handler may write or open a watch: never re-enter (the running loop picks up new writes).
    if (this.closed || this.pumping) return;
    this.pumping = true;
    try {
      this.pumpLoop();
    } finally {
      this.pumping = false;
    }
  }

  private pumpLoop(): void {
    for (;;) {
      const head = this.log.head();
      if (head <= this.position) return;
      if (this.live.size === 0) {
        // Nobody to deliver to: skip reading (replaying watchers read history themselves).
        this.position = head;
        return;
      }
      const events = this.log.readEvents(this.position, head, this.batchSize);
      if (events.length > 0) this.deliverLive(events);
      const last = events[events.length - 1];
      if (events.length < this.batchSize || last === undefined) {
        // Everything up to head was read (rows missing in between were compacted away).
        this.position = head;
        return;
      }
      this.position = last.kv.modRevision;
    }
  }

  watch(prefix: string, handlers: WatchHandlers, opts: WatchOptions = {}): Watch {
    const from = opts.fromRevision ?? 0;
    const w: Watcher = { prefix, handlers, from: 0, cursor: undefined, done: false };
    const cancel: Watch = {
      cancel: () => {
        w.done = true;
        this.live.delete(w);
        this.replaying.delete(w);
      },
    };
    if (this.closed) {
      this.fail(w, new StoreError("unavailable", "store is closed"));
      return cancel;
    }
    const compacted = this.log.compactedRevisionNow();
    if (from > 0 && from < compacted) {
      this.fail(
        w,
        new StoreError("compacted", `required revision ${from} has been compacted (compacted revision ${compacted})`, {
          revision: compacted,
        }),
      );
      return cancel;
    }
    if (from === 0 || from > this.position) {
      // "From now on" means after the newest committed write, even if not yet delivered to others.
      w.from = from === 0 ? Math.max(this.log.head(), this.position) + 1 : from;
      this.live.add(w);
      return cancel;
    }
    w.cursor = from - 1;
    this.replaying.add(w);
    this.scheduleReplay(w);
    return cancel;
  }

  close(): void {
    this.closed = true;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const all = [...this.live, ...this.replaying];
    this.live.clear();
    this.replaying.clear();
    for (const w of all) {
      w.done = true;
    }
  }

  private scheduleReplay(w: Watcher): void {
    setImmediate(() => this.replayStep(w));
  }

  private replayStep(w: Watcher): void {
    if (w.done || this.closed || w.cursor === undefined) return;
    this.pump();
    const compacted = this.log.compactedRevisionNow();
    if (w.cursor + 1 < compacted) {
      this.replaying.delete(w);
      this.fail(
        w,
        new StoreError("compacted", `required revision ${w.cursor + 1} has been compacted`, { revision: compacted }),
      );
      return;
    }
    const events = this.log.readEvents(w.cursor, this.position, this.batchSize, w.prefix);
    if (events.length > 0) this.deliver(w, events);
    if (w.done) return;
    const last = events[events.length - 1];
    if (events.length < this.batchSize || last === undefined) {
      // Read everything up to the hub's position, synchronously: join the live set.
      this.replaying.delete(w);
      w.cursor = undefined;
      w.from = this.position + 1;
      this.live.add(w);
      return;
    }
    w.cursor = last.kv.modRevision;
    this.scheduleReplay(w);
  }

  private deliverLive(events: WatchEvent[]): void {
    for (const w of [...this.live]) {
      if (w.done) continue;
      let batch: WatchEvent[] | undefined;
      for (const ev of events) {
        if (ev.kv.modRevision < w.from || !ev.kv.key.startsWith(w.prefix)) continue;
        if (batch === undefined) batch = [];
        batch.push(ev);
      }
      if (batch !== undefined) this.deliver(w, batch);
    }
  }

  private deliver(w: Watcher, events: WatchEvent[]): void {
    try {
      w.handlers.onEvents(events);
    } catch (err) {
      this.onHandlerError(err);
    }
  }

  private fail(w: Watcher, err: StoreError): void {
    setImmediate(() => {
      if (w.done) return;
      w.done = true;
      try {
        w.handlers.onError(err);
      } catch (e) {
        this.onHandlerError(e);
      }
    });
  }
}
