/**
 * Events the in-process controllers record (as client-go's recorder writes them for
 * kube-controller-manager): core/v1 Events named `<object>.<unique hex>`, from `component`,
 * through client-go's correlator (api/events.ts): a repeat bumps the first one's count and
 * lastTimestamp, so `kubectl describe` shows "(x3 over 2m)"; many similar events about one object
 * become one "(combined from similar events)" event; a component's events about one object are
 * rate limited. Best effort: a failed write is dropped, never an error of the controller.
 */
import { type Correlated, EventCorrelator } from "../api/events.js";
import { type KObject, rfc3339 } from "../api/types.js";
import { ApiError } from "../apiserver/errors.js";
import type { LocalClient } from "./client.js";

const correlators = new WeakMap<LocalClient, EventCorrelator>();
/** The write in flight per client and event key: a repeat waits for it, so it updates that event, not a second one. */
const inFlight = new WeakMap<LocalClient, Map<string, Promise<void>>>();

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
  let correlator = correlators.get(client);
  if (!correlator) {
    correlator = new EventCorrelator();
    correlators.set(client, correlator);
  }
  const c = correlator.correlate(
    {
      component,
      kind: obj.kind ?? "",
      namespace: obj.metadata.namespace,
      name: obj.metadata.name ?? "",
      uid: obj.metadata.uid,
      apiVersion: obj.apiVersion,
      type,
      reason,
      message,
    },
    now,
  );
  if (!c) return;
  let writes = inFlight.get(client);
  if (!writes) {
    writes = new Map();
    inFlight.set(client, writes);
  }
  const before = writes.get(c.key);
  const mine = (before ?? Promise.resolve()).then(() =>
    writeEvent(client, correlator, c, obj, ns, type, reason, component, now),
  );
  writes.set(c.key, mine);
  try {
    await mine;
  } finally {
    if (writes.get(c.key) === mine) writes.delete(c.key);
  }
}

async function writeEvent(
  client: LocalClient,
  correlator: EventCorrelator,
  c: Correlated,
  obj: KObject,
  ns: string,
  type: string,
  reason: string,
  component: string,
  now: number,
): Promise<void> {
  const sv = client.resource("", "v1", "events");
  const prior = correlator.prior(c.key);
  if (prior) {
    try {
      await client.update(sv, prior.namespace, prior.name, "", (e) => {
        e["count"] = c.count;
        e["lastTimestamp"] = rfc3339(now);
        e["message"] = c.message;
        return e;
      });
      return;
    } catch (err) {
      // gone (expired by the event TTL): a new one below
      if (!(err instanceof ApiError && err.code === 404)) return;
      correlator.forget(c.key);
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
        message: c.message,
        source: { component },
        reportingComponent: component,
        type,
        count: c.count,
        firstTimestamp: rfc3339(c.first),
        lastTimestamp: rfc3339(now),
      },
      { dryRun: false },
    );
  } catch {
    return;
  }
  correlator.written(c.key, ns, name);
}
