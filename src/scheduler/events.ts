/**
 * The scheduler's event recorder, as client-go's events library (tools/events) behaves: an event
 * is written at once; a second identical one (same type, action, reason, reporter, object, note)
 * turns it into a series (count 2, written at once); later repeats only bump the count in memory,
 * written every 30 minutes and when the series ends (6 minutes without a repeat). Writes go
 * through a bounded queue; beyond it events are dropped, as the upstream broadcaster drops them.
 */
import type { KObject } from "../api/types.js";
import { log } from "../util/log.js";

export interface EventSeries {
  count: number;
  lastObservedTime: string;
}

/** Where events go: create one, or write a series onto an existing one (false: it is gone). */
export interface EventSink {
  create(event: KObject): Promise<void>;
  updateSeries(namespace: string, name: string, series: EventSeries): Promise<boolean>;
}

export interface EventRecorderOptions {
  sink: EventSink;
  now: () => number;
  /** reportingController / source.component, e.g. "default-scheduler". */
  component: string;
  /** reportingInstance: "<component>-<hostname>". */
  instance: string;
  /** Writes waiting at most (default 1000, upstream maxQueuedEvents). */
  maxQueued?: number;
  /** Writes in flight at most (default 64). */
  concurrency?: number;
  /** A series ends after this long without a repeat, ms (default 6 min). */
  finishMs?: number;
  /** Series are rewritten this often, ms (default 30 min). */
  refreshMs?: number;
}

/** An object an event refers to. */
export interface EventRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string;
}

export function refOf(obj: KObject, kind = obj.kind ?? "Pod", apiVersion = obj.apiVersion ?? "v1"): EventRef {
  return {
    apiVersion,
    kind,
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name ?? "",
    uid: obj.metadata.uid ?? "",
    ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
  };
}

/** metav1.MicroTime of a moment. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

interface Cached {
  event: KObject;
  eventTime: number;
  series: { count: number; lastObserved: number } | undefined;
  /** The last write of this event: a series write waits for it (the create must land first). */
  writing: Promise<void>;
}

let sequence = 0;

export class EventRecorder {
  private readonly opts: Required<EventRecorderOptions>;
  private readonly cache = new Map<string, Cached>();
  private readonly queue: Array<() => Promise<void>> = [];
  private inFlight = 0;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Events not written because the queue was full. */
  dropped = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(opts: EventRecorderOptions) {
    this.opts = {
      ...opts,
      maxQueued: opts.maxQueued ?? 1000,
      concurrency: opts.concurrency ?? 64,
      finishMs: opts.finishMs ?? 6 * 60_000,
      refreshMs: opts.refreshMs ?? 30 * 60_000,
    };
  }

  start(): void {
    this.stopped = false;
    const finish = setInterval(() => this.finishSeries(), this.opts.finishMs);
    const refresh = setInterval(() => this.refreshSeries(), this.opts.refreshMs);
    finish.unref();
    refresh.unref();
    this.timers = [finish, refresh];
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.queue.length = 0;
    this.cache.clear();
  }

  /** Records an event about `regarding` (and `related`), as recorder.Eventf. */
  eventf(
    regarding: EventRef,
    related: EventRef | undefined,
    type: string,
    reason: string,
    action: string,
    note: string,
  ): void {
    if (this.stopped) return;
    const key = JSON.stringify([
      type,
      action,
      reason,
      regarding.kind,
      regarding.namespace,
      regarding.name,
      regarding.uid,
      related?.kind,
      related?.namespace,
      related?.name,
      related?.uid,
      note,
    ]);
    const now = this.opts.now();
    const hit = this.cache.get(key);
    if (hit) {
      if (hit.series) {
        hit.series.count++;
        hit.series.lastObserved = now;
        return;
      }
      hit.series = { count: 2, lastObserved: now };
      this.enqueue(() => this.writeSeries(hit));
      return;
    }
    const namespace = regarding.namespace || "default";
    const nanos = BigInt(now) * 1_000_000n + BigInt(sequence++ % 1_000_000);
    const event: KObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${regarding.name}.${nanos.toString(16)}`, namespace },
      involvedObject: regarding,
      reason,
      message: note,
      source: { component: this.opts.component },
      type,
      eventTime: microTime(now),
      action,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance,
      ...(related ? { related } : {}),
    };
    const cached: Cached = { event, eventTime: now, series: undefined, writing: Promise.resolve() };
    const create = () => {
      const p = this.opts.sink.create(structuredClone(event));
      cached.writing = p.catch(() => undefined);
      return p;
    };
    if (!this.enqueue(create)) return;
    this.cache.set(key, cached);
  }

  private seriesOf(c: Cached): EventSeries {
    const s = c.series ?? { count: 1, lastObserved: c.eventTime };
    return { count: s.count, lastObservedTime: microTime(s.lastObserved) };
  }

  private writeSeries(c: Cached): Promise<void> {
    const write = async () => {
      const series = this.seriesOf(c);
      const ns = c.event.metadata.namespace ?? "default";
      const found = await this.opts.sink.updateSeries(ns, c.event.metadata.name ?? "", series);
      if (!found) await this.opts.sink.create({ ...structuredClone(c.event), series });
    };
    const p = c.writing.then(write);
    c.writing = p.catch(() => undefined);
    return p;
  }

  private finishSeries(): void {
    const cutoff = this.opts.now() - this.opts.finishMs;
    for (const [key, c] of this.cache) {
      if (c.series) {
        if (c.series.lastObserved < cutoff) {
          this.enqueue(() => this.writeSeries(c));
          this.cache.delete(key);
        }
      } else if (c.eventTime < cutoff) {
        this.cache.delete(key);
      }
    }
  }

  private refreshSeries(): void {
    for (const c of this.cache.values()) if (c.series) this.enqueue(() => this.writeSeries(c));
  }

  /** Queues a write; false (and the event dropped) when the queue is full. */
  private enqueue(write: () => Promise<void>): boolean {
    if (this.stopped) return false;
    if (this.queue.length >= this.opts.maxQueued) {
      this.dropped++;
      return false;
    }
    this.queue.push(write);
    this.pump();
    return true;
  }

  private pump(): void {
    while (this.inFlight < this.opts.concurrency && this.queue.length > 0) {
      const write = this.queue.shift() as () => Promise<void>;
      this.inFlight++;
      write()
        .catch((err: unknown) => log.warn("could not write event", { error: String(err) }))
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0) {
            for (const w of this.idleWaiters.splice(0)) w();
          }
        });
    }
  }

  /** Resolves once every queued write is done (tests, shutdown). */
  flushed(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
