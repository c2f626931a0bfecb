/**
 * client-go's EventCorrelator (tools/record) for the core/v1 event recorders: what a recorder does
 * with one more event before it writes anything.
 * - Aggregation: the 10th event within 10 minutes with the same source, object, type and reason
 *   but a message not seen before becomes one event "(combined from similar events): <message>",
 *   updated from then on instead of a new event per message.
 * - Deduplication: a repeat of an event (same source, object, field path, type, reason, message)
 *   updates the one written before: count + 1, lastTimestamp, firstTimestamp kept.
 * - Spam filter: each source and object has a bucket of 25 writes refilled at one per 5 minutes;
 *   an event beyond it is dropped (its occurrence still counts, so the next written count is true).
 */

/** What an event is about and says: the fields the correlator keys on. */
export interface EventFacts {
  component: string;
  host?: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
  fieldPath?: string;
  type: string;
  reason: string;
  message: string;
}

/** What to write for an event that is not dropped. */
export interface Correlated {
  /** Identifies the event to `written` and `forget`. */
  key: string;
  /** The message to write: the event's own, or the combined one. */
  message: string;
  /** The event's count with this occurrence. */
  count: number;
  /** When the series began (ms): the first occurrence's time. */
  first: number;
}

export interface CorrelatorOptions {
  /** Distinct messages that trigger aggregation (upstream defaultAggregateMaxEvents). */
  maxEvents?: number;
  /** How long a run of similar events lasts, ms (upstream defaultAggregateIntervalInSeconds). */
  intervalMs?: number;
  /** Writes a source may make about one object at once (upstream defaultSpamBurst). */
  burst?: number;
  /** Refill of that bucket, writes per ms (upstream defaultSpamQPS, 1/300 s). */
  refillPerMs?: number;
  /** Entries each cache keeps (upstream maxLruCacheEntries). */
  cacheSize?: number;
}

const COMBINED = "(combined from similar events): ";

interface Observation {
  count: number;
  first: number;
  written?: { namespace: string; name: string };
}

/** A map that forgets its least recently used entry beyond `size`. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
}

export class EventCorrelator {
  private readonly maxEvents: number;
  private readonly intervalMs: number;
  private readonly burst: number;
  private readonly refillPerMs: number;
  private readonly similar: Lru<{ messages: Set<string>; last: number }>;
  private readonly observed: Lru<Observation>;
  private readonly buckets: Lru<{ tokens: number; at: number }>;

  constructor(opts: CorrelatorOptions = {}) {
    this.maxEvents = opts.maxEvents ?? 10;
    this.intervalMs = opts.intervalMs ?? 600_000;
    this.burst = opts.burst ?? 25;
    this.refillPerMs = opts.refillPerMs ?? 1 / 300_000;
    const size = opts.cacheSize ?? 4096;
    this.similar = new Lru(size);
    this.observed = new Lru(size);
    this.buckets = new Lru(size);
  }

  /** The event to write for this occurrence, or undefined when the spam filter drops it. */
  correlate(e: EventFacts, now: number): Correlated | undefined {
    const object = [e.component, e.host ?? "", e.kind, e.namespace ?? "", e.name, e.uid ?? "", e.apiVersion ?? ""];
    // aggregation: by object, type and reason, whatever the message
    const similarKey = JSON.stringify([...object, e.type, e.reason]);
    let run = this.similar.get(similarKey);
    if (!run || now - run.last > this.intervalMs) run = { messages: new Set(), last: now };
    run.messages.add(e.message);
    run.last = now;
    this.similar.set(similarKey, run);
    let key = JSON.stringify([...object, e.fieldPath ?? "", e.type, e.reason, e.message]);
    let message = e.message;
    if (run.messages.size >= this.maxEvents) {
      // the set stays below the threshold, so every new message keeps the run combined
      run.messages.delete(run.messages.values().next().value as string);
      key = similarKey;
      message = COMBINED + e.message;
    }
    // deduplication: a repeat updates what was written under the key
    const seen = this.observed.get(key);
    const obs: Observation = { count: (seen?.count ?? 0) + 1, first: seen?.first ?? now };
    if (seen?.written) obs.written = seen.written;
    this.observed.set(key, obs);
    // the spam filter, per source and object
    const spamKey = JSON.stringify(object);
    const b = this.buckets.get(spamKey) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.refillPerMs);
    b.at = now;
    this.buckets.set(spamKey, b);
    if (b.tokens < 1) return undefined;
    b.tokens -= 1;
    return { key, message, count: obs.count, first: obs.first };
  }

  /** The event written under the key (to update rather than create another), when there is one. */
  prior(key: string): { namespace: string; name: string } | undefined {
    return this.observed.get(key)?.written;
  }

  /** The event the key's occurrences update from now on. */
  written(key: string, namespace: string, name: string): void {
    const obs = this.observed.get(key);
    if (obs) obs.written = { namespace, name };
  }

  /** The event written under the key is gone (expired): the next write creates one. */
  forget(key: string): void {
    const obs = this.observed.get(key);
    if (obs) obs.written = undefined;
  }
}
