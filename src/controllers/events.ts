/**
 * Events the in-process controllers record (as client-go's recorder writes them for
 * kube-controller-manager): one core/v1 Event per distinct occurrence, named
 * `<object>.<unique hex>`, from `component`. A repeat of the same event (same object, type, reason,
 * message and source) bumps the first one's count and lastTimestamp instead, as client-go's
 * EventCorrelator does, so `kubectl describe` shows "(x3 over 2m)". Best effort: a failed write is
 * dropped, never an error of the controller.
 */
import { type KObject, rfc3339 } from "../api/types.js";
import { ApiError } from "../apiserver/errors.js";
import type { LocalClient } from "./client.js";

/** How many recent events are remembered for deduplication per client (client-go's LRU size). */
const REMEMBERED = 4096;

const recent = new WeakMap<LocalClient, Map<string, { namespace: string; name: string }>>();

export async function recordEvent(
  client: LocalClient,
  obj: KObject,
  component: string,
  type: string,
  reason: string,
  message: string,
  now = Date.now(),
): Promise<void> {
  const ns = obj.metadata.namespace ?? "default";
  const sv = client.resource("", "v1", "events");
  let seen = recent.get(client);
  if (!seen) {
    seen = new Map();
    recent.set(client, seen);
  }
  const key = JSON.stringify([component, obj.kind, ns, obj.metadata.name, obj.metadata.uid, type, reason, message]);
  const prior = seen.get(key);
  if (prior) {
    try {
      await client.update(sv, prior.namespace, prior.name, "", (e) => {
        e["count"] = (typeof e["count"] === "number" ? e["count"] : 1) + 1;
        e["lastTimestamp"] = rfc3339(now);
        return e;
      });
      // most recently used last
      seen.delete(key);
      seen.set(key, prior);
      return;
    } catch (err) {
      seen.delete(key);
      // gone (expired by the event TTL): a new one below
      if (!(err instanceof ApiError && err.code === 404)) return;
    }
  }
  const name = `${obj.metadata.name}.${(now * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
  try {
    await client.registry.create(
      sv,
      ns,
      {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace: ns },
        involvedObject: {
          kind: obj.kind,
          apiVersion: obj.apiVersion,
          // cluster-scoped objects (nodes, volumes) have their events in "default", naming no namespace
          ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
          name: obj.metadata.name,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        reason,
        message,
        source: { component },
        reportingComponent: component,
        type,
        count: 1,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
      },
      { dryRun: false },
    );
  } catch {
    return;
  }
  seen.set(key, { namespace: ns, name });
  if (seen.size > REMEMBERED) seen.delete(seen.keys().next().value as string);
}
