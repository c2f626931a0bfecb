/**
 * Crash-loop back-off (upstream kubelet's flowcontrol.Backoff for container restarts): a
 * container that exited waits 10 s before its next restart, doubling each time up to 5 minutes;
 * the first restart after a fresh start is immediate. An entry not touched for twice the maximum
 * (10 minutes: the container ran fine meanwhile) is forgotten, so the next crash starts over.
 */
export class Backoff {
  private readonly entries = new Map<string, { delayMs: number; lastUpdate: number }>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(opts: { initialMs?: number; maxMs?: number; now?: () => number } = {}) {
    this.initialMs = opts.initialMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
    this.now = opts.now ?? Date.now;
  }

  /** The delay now in force for `key` (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** ms still to wait before restarting a container that finished at `finishedAt` (0: go). */
  remaining(key: string, finishedAt: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (this.now() - e.lastUpdate > 2 * this.maxMs) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, finishedAt + e.delayMs - this.now());
  }

  /** A restart is happening now: the next one waits longer. */
  next(key: string): void {
    const e = this.entries.get(key);
    const now = this.now();
    if (!e || now - e.lastUpdate > 2 * this.maxMs) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdate: now });
      return;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.maxMs);
    e.lastUpdate = now;
  }

  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** "10s", "1m20s", "5m0s": Go's time.Duration String for whole seconds, as the back-off message shows it. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
