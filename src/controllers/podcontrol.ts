/**
 * What upstream's PodControl does for the controllers that make pods (ReplicaSet, Job, DaemonSet):
 * create in slow-start batches (1, 2, 4, ...; the first refusal stops it, so a quota or an admission
 * rule that refuses one pod does not get a thousand requests) and delete, each with its
 * SuccessfulCreate / FailedCreate / SuccessfulDelete event on the owner.
 */
import type { KObject } from "../api/types.js";
import type { LocalClient } from "./client.js";
import { recordEvent } from "./events.js";

export interface PodOwner {
  client: LocalClient;
  owner: KObject;
  /** The events' source component (e.g. "replicaset-controller"). */
  component: string;
  now: () => number;
}

/** Creates `pods` in slow-start batches; returns those made and the refusal that stopped it, if any. */
export async function createPods(o: PodOwner, pods: KObject[]): Promise<{ created: KObject[]; failure?: string }> {
  const sv = o.client.resource("", "v1", "pods");
  const created: KObject[] = [];
  for (let batch = 1, at = 0; at < pods.length; batch *= 2) {
    const slice = pods.slice(at, at + batch);
    at += slice.length;
    const results = await Promise.allSettled(
      slice.map((p) => o.client.registry.create(sv, p.metadata.namespace, p, { dryRun: false })),
    );
    let failure: string | undefined;
    for (const r of results) {
      if (r.status === "fulfilled") {
        created.push(r.value.obj);
        await event(o, "Normal", "SuccessfulCreate", `Created pod: ${r.value.obj.metadata.name}`);
      } else {
        const message = r.reason instanceof Error ? r.reason.message : String(r.reason);
        await event(o, "Warning", "FailedCreate", `Error creating: ${message}`);
        failure ??= message;
      }
    }
    if (failure !== undefined) return { created, failure };
  }
  return { created };
}

/** Deletes the pods (all at once), each with a SuccessfulDelete event. */
export async function deletePods(o: PodOwner, pods: KObject[]): Promise<void> {
  const sv = o.client.resource("", "v1", "pods");
  await Promise.all(
    pods.map(async (p) => {
      await o.client.delete(sv, p.metadata.namespace, p.metadata.name ?? "");
      await event(o, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
    }),
  );
}

function event(o: PodOwner, type: string, reason: string, message: string): Promise<void> {
  return recordEvent(o.client, o.owner, o.component, type, reason, message, o.now());
}
