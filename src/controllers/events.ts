/**
 * Events the in-process controllers record (as client-go's recorder writes them for
 * kube-controller-manager): one core/v1 Event per call, named `<object>.<unique hex>`, from
 * `component`. Best effort: a failed write is dropped, never an error of the controller.
 */
import { type KObject, rfc3339 } from "../api/types.js";
import type { LocalClient } from "./client.js";

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
  await client
    .ensure(client.resource("", "v1", "events"), {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        name: `${obj.metadata.name}.${(now * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`,
        namespace: ns,
      },
      involvedObject: {
        kind: obj.kind,
        apiVersion: obj.apiVersion,
        namespace: ns,
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
    })
    .catch(() => undefined);
}
