/**
 * Event recorder for components outside the API server (upstream client-go tools/record): core/v1
 * Events through client-go's correlator (api/events.ts) — a repeat of an event (object, field
 * path, type, reason, message) bumps `count` and `lastTimestamp` of the same Event; many similar
 * ones about an object are combined; a source's events about one object are rate limited.
 * Failures are logged, never thrown: events are best effort.
 */
import { randomBytes } from "node:crypto";
import { EventCorrelator } from "../api/events.js";
import { type KObject, rfc3339 } from "../api/types.js";
import { type ApiClient, resources } from "../client/types.js";
import { log } from "../util/log.js";

export interface EventSource {
  component: string;
  host?: string;
}

export class EventRecorder {
  private readonly client: ApiClient;
  private readonly source: EventSource;
  private readonly correlator = new EventCorrelator();
  private chain: Promise<void> = Promise.resolve();

  constructor(client: ApiClient, source: EventSource) {
    this.client = client;
    this.source = source;
  }

  /** Records an event about `obj` (a pod, a node); `fieldPath` names a container (`spec.containers{c}`). */
  event(obj: KObject, type: "Normal" | "Warning", reason: string, message: string, fieldPath?: string): void {
    const now = Date.now();
    const kind = obj.kind ?? "Pod";
    const apiVersion = obj.apiVersion ?? "v1";
    const namespace = obj.metadata.namespace || "default";
    const c = this.correlator.correlate(
      {
        component: this.source.component,
        host: this.source.host,
        kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name ?? "",
        uid: obj.metadata.uid,
        apiVersion,
        fieldPath,
        type,
        reason,
        message,
      },
      now,
    );
    if (!c) return;
    // events are written one at a time, in order (a burst of them cannot overtake each other)
    this.chain = this.chain.then(async () => {
      try {
        // the event written before under the key, as it is now that earlier writes are done
        const prior = this.correlator.prior(c.key);
        if (prior) {
          const patched = await this.client
            .patch(resources.events, prior.namespace, prior.name, "merge", {
              count: c.count,
              lastTimestamp: rfc3339(now),
              message: c.message,
            })
            .then(
              () => true,
              (err: unknown) => {
                if ((err as { code?: number }).code !== 404) throw err;
                this.correlator.forget(c.key);
                return false;
              },
            );
          if (patched) return;
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
            apiVersion,
            resourceVersion: obj.metadata.resourceVersion,
            ...(fieldPath ? { fieldPath } : {}),
          },
          reason,
          message: c.message,
          source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
          firstTimestamp: rfc3339(c.first),
          lastTimestamp: rfc3339(now),
          count: c.count,
          type,
          eventTime: null,
          reportingComponent: this.source.component,
          reportingInstance: this.source.host ?? "",
        };
        await this.client.create(resources.events, namespace, ev);
        this.correlator.written(c.key, namespace, name);
      } catch (err) {
        log.debug("event not recorded", { reason, object: obj.metadata.name, error: String(err) });
      }
    });
  }

  /** Resolves once every event recorded so far was written (tests, shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }
}
