/**
 * A rate-limited work queue of keys: a key queued many times is processed once; a failing key is
 * retried with exponential backoff (5 ms doubling to 1000 s, as client-go's default limiter);
 * `reconcile` may ask to come back after a delay. Up to `workers` keys are reconciled at once
 * (client-go's workers), never the same key twice at a time: a key queued while it is being
 * reconciled comes back once that ends.
 */
import { log } from "../util/log.js";

export type ReconcileResult = { requeueAfterMs?: number } | undefined;

export class WorkQueue {
  private readonly pending = new Set<string>();
  /** Keys being reconciled now, and those of them queued again meanwhile. */
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  private active = 0;
  private stopped = false;
  private readonly reconcile: (key: string) => Promise<ReconcileResult>;
  private readonly name: string;
  private readonly workers: number;

  constructor(name: string, reconcile: (key: string) => Promise<ReconcileResult>, workers = 1) {
    this.name = name;
    this.reconcile = reconcile;
    this.workers = Math.max(1, workers);
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.pending.add(key);
    while (this.active < this.workers && this.active < this.pending.size) void this.drain();
  }

  /** Queues `key` in `ms`; a key already waiting keeps the earlier of the two times (as client-go's delaying queue). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    const prior = this.timers.get(key);
    if (prior) {
      if (prior.at <= at) return;
      clearTimeout(prior.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, at });
  }

  private async drain(): Promise<void> {
    this.active++;
    try {
      while (!this.stopped && this.pending.size > 0) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        this.processing.add(key);
        try {
          const res = await this.reconcile(key);
          this.failures.delete(key);
          if (res?.requeueAfterMs !== undefined) this.addAfter(key, res.requeueAfterMs);
        } catch (err) {
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          const delay = Math.min(5 * 2 ** (n - 1), 1_000_000);
          log.warn("reconcile failed", { controller: this.name, key, attempt: n, error: String(err) });
          this.addAfter(key, delay);
        } finally {
          this.processing.delete(key);
          if (this.dirty.delete(key)) this.pending.add(key);
        }
      }
    } finally {
      this.active--;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.pending.clear();
    this.dirty.clear();
  }
}
