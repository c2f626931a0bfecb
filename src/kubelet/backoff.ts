/**
 * Crash-loop back-off (upstream kubelet's flowcontrol.Backoff for container restarts, without
 * jitter): a container that exited waits 10 s before its next restart, doubling each time up to
 * 5 minutes; the first restart after a fresh start is immediate. An entry is forgotten once the
 * container ran fine for twice the maximum (10 minutes between the last restart and the next exit),
 * so the next crash starts over.
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

  /** Whether an event at `eventTime` comes so long after the entry's last update that it starts over. */
  private expired(e: { lastUpdate: number }, eventTime: number): boolean {
    return eventTime - e.lastUpdate > 2 * this.maxMs;
  }

  /**
   * ms still to wait before restarting a container that finished at `finishedAt` (0: go), as
   * upstream IsInBackOffSince: in back-off while less than the delay has passed since the exit.
   */
  remaining(key: string, finishedAt: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (this.expired(e, finishedAt)) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, finishedAt + e.delayMs - this.now());
  }

  /**
   * A restart is happening now (for an exit at `eventTime`, default now): the next one waits longer.
   * An unknown or expired entry starts at the initial delay.
   */
  next(key: string, eventTime: number = this.now()): void {
    const e = this.entries.get(key);
    const now = this.now();
    if (!e || this.expired(e, eventTime)) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdate: now });
      return;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.maxMs);
    e.lastUpdate = now;
  }

  /** Drops entries last touched more than twice the maximum ago (upstream Backoff.GC). */
  gc(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (this.expired(e, now)) this.entries.delete(k);
  }

  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** Digits of `v` / 10^prec with trailing zeros (and a bare point) dropped: Go's fmtFrac. */
function frac(v: bigint, prec: number): { rest: bigint; text: string } {
  let text = "";
  let printed = false;
  let rest = v;
  for (let i = 0; i < prec; i++) {
    const digit = rest % 10n;
    printed = printed || digit !== 0n;
    if (printed) text = `${digit}${text}`;
    rest /= 10n;
  }
  return { rest, text: printed ? `.${text}` : "" };
}

/**
 * Go's time.Duration String for a duration in ms ("0s", "500ms", "10s", "1.5s", "1m20s", "5m0s",
 * "1h0m0s"), as the back-off message shows it.
 */
export function goDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "0s";
  const ns = BigInt(Math.round(ms * 1_000_000));
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  const sign = neg ? "-" : "";
  if (u === 0n) return "0s";
  if (u < NS_PER_S) {
    if (u < 1000n) return `${sign}${u}ns`;
    if (u < NS_PER_MS) {
      const f = frac(u, 3);
      return `${sign}${f.rest}${f.text}µs`;
    }
    const f = frac(u, 6);
    return `${sign}${f.rest}${f.text}ms`;
  }
  const f = frac(u, 9);
  let secs = f.rest;
  let out = `${secs % 60n}${f.text}s`;
  secs /= 60n;
  if (secs > 0n) {
    out = `${secs % 60n}m${out}`;
    const hours = secs / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return sign + out;
}
