/**
 * Event recorder for components outside the API server (upstream client-go tools/record): one
 * core/v1 Event per (object, field path, type, reason, message); a repeat within 10 minutes bumps
 * `count` and `lastTimestamp` of the same Event instead of creating another. Failures are logged,
 * never thrown: events are best effort.
 */
import { randomBytes } from "node:crypto";
import { type KObject, rfc3339 } from "../api/types.js";
import { type ApiClient, resources } from "../client/types.js";
import { log } from "../util/log.js";

export interface EventSource {
  component: string;
  host?: string;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
  at: number;
}

const AGGREGATE_MS = 10 * 60_000;

export class EventRecorder {
  private readonly client: ApiClient;
  private readonly source: EventSource;
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();

  constructor(client: ApiClient, source: EventSource) {
    this.client = client;
    this.source = source;
  }

  /** Records an event about `obj` (a pod, a node); `fieldPath` names a container (`spec.containers{c}`). */
  event(obj: KObject, type: "Normal" | "Warning", reason: string, message: string, fieldPath?: string): void {
    const now = Date.now();
    const kind = obj.kind ?? "Pod";
    const namespace = obj.metadata.namespace || "default";
    const key = [obj.metadata.uid, fieldPath ?? "", type, reason, message].join("\u0000");
    // events are written one at a time, in order (a burst of them cannot overtake each other)
    this.chain = this.chain.then(async () => {
      const prev = this.seen.get(key);
      try {
        if (prev && now - prev.at < AGGREGATE_MS) {
          prev.count++;
          prev.at = now;
          await this.client.patch(resources.events, prev.namespace, prev.name, "merge", {
            count: prev.count,
            lastTimestamp: rfc3339(now),
          });
          return;
        }
        const name = `${obj.metadata.name ?? "object"}.${(BigInt(now) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE())).toString(16)}`;
        const ev: KObject = {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace },
          involvedObject: {
            kind,
            namespace: obj.metadata.namespace,
            name: obj.metadata.name,
            uid: obj.metadata.uid,
            apiVersion: obj.apiVersion ?? "v1",
            resourceVersion: obj.metadata.resourceVersion,
            ...(fieldPath ? { fieldPath } : {}),
          },
          reason,
          message,
          source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
          firstTimestamp: rfc3339(now),
          lastTimestamp: rfc3339(now),
          count: 1,
          type,
          eventTime: null,
          reportingComponent: this.source.component,
          reportingInstance: this.source.host ?? "",
        };
        await this.client.create(resources.events, namespace, ev);
        this.seen.set(key, { name, namespace, count: 1, first: rfc3339(now), at: now });
        if (this.seen.size > 4096) this.prune(now);
      } catch (err) {
        log.debug("event not recorded", { reason, object: obj.metadata.name, error: String(err) });
      }
    });
  }

  /** Resolves once every event recorded so far was written (tests, shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }

  private prune(now: number): void {
    for (const [k, s] of this.seen) if (now - s.at >= AGGREGATE_MS) this.seen.delete(k);
  }
}
