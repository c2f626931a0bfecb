/**
 * Event TTL: events are deleted an hour after they were last seen, as upstream's apiserver does
 * with --event-ttl (there through an etcd lease; here by a periodic sweep of the cache).
 */
import { isRecord, type KObject } from "../../api/types.js";
import type { LocalClient } from "../client.js";

export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

/** When an event was last seen: lastTimestamp, series.lastObservedTime, eventTime or creation. */
export function lastSeen(ev: KObject): number {
  const series = isRecord(ev["series"]) ? ev["series"]["lastObservedTime"] : undefined;
  for (const t of [ev["lastTimestamp"], series, ev["eventTime"], ev.metadata.creationTimestamp]) {
    if (typeof t === "string") {
      const ms = Date.parse(t);
      if (!Number.isNaN(ms)) return ms;
    }
  }
  return Date.now();
}

export class EventTTLController {
  private readonly client: LocalClient;
  private readonly ttlMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(client: LocalClient, ttlMs = DEFAULT_EVENT_TTL_MS) {
    this.client = client;
    this.ttlMs = ttlMs;
  }

  start(intervalMs = 60_000): void {
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Deletes every event older than the TTL; returns how many went. */
  async sweep(now = Date.now()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const events = this.client.resource("", "v1", "events");
      let n = 0;
      for (const c of await this.client.list(events)) {
        if (now - lastSeen(c.obj) > this.ttlMs) {
          await this.client.delete(events, c.obj.metadata.namespace, c.obj.metadata.name ?? "");
          n++;
        }
      }
      return n;
    } finally {
      this.running = false;
    }
  }
}
