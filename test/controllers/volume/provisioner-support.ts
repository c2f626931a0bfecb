/** What the provisioner suites share: objects of the storage API made on a live registry, and their events. */
import { ANN_STORAGE_PROVISIONER, PROVISIONER_DELETION_FINALIZER } from "../../../src/api/storage.js";
import type { KObject } from "../../../src/api/types.js";
import type { LocalClient } from "../../../src/controllers/client.js";
import { until } from "../support.js";

type Rec = Record<string, unknown>;

export function resources(client: LocalClient) {
  return {
    claims: client.resource("", "v1", "persistentvolumeclaims"),
    volumes: client.resource("", "v1", "persistentvolumes"),
    classes: client.resource("storage.k8s.io", "v1", "storageclasses"),
    nodes: client.resource("", "v1", "nodes"),
    events: client.resource("", "v1", "events"),
  };
}

/** Creates a StorageClass of `provisioner`. */
export async function makeClass(
  client: LocalClient,
  name: string,
  provisioner: string,
  extra: Rec = {},
): Promise<KObject> {
  const made = await client.registry.create(
    resources(client).classes,
    undefined,
    { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name }, provisioner, ...extra },
    { dryRun: false },
  );
  return made.obj;
}

/** Creates a claim in `default` of `className` handed to `provisioner` (as the PV controller annotates it). */
export async function makeClaim(
  client: LocalClient,
  name: string,
  className: string,
  provisioner: string,
  o: { storage?: string; annotations?: Record<string, string>; labels?: Record<string, string>; spec?: Rec } = {},
): Promise<KObject> {
  const made = await client.registry.create(
    resources(client).claims,
    "default",
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name,
        namespace: "default",
        annotations: { [ANN_STORAGE_PROVISIONER]: provisioner, ...o.annotations },
        ...(o.labels ? { labels: o.labels } : {}),
      },
      spec: {
        storageClassName: className,
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: o.storage ?? "1Gi" } },
        ...o.spec,
      },
    },
    { dryRun: false },
  );
  return made.obj;
}

/** Creates a Ready node. */
export async function makeNode(
  client: LocalClient,
  name: string,
  o: {
    annotations?: Record<string, string>;
    ephemeral?: string;
    spec?: Rec;
    ready?: boolean;
    labels?: Record<string, string>;
  } = {},
): Promise<KObject> {
  const made = await client.registry.create(
    resources(client).nodes,
    undefined,
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        labels: { "kubernetes.io/hostname": name, ...o.labels },
        ...(o.annotations ? { annotations: o.annotations } : {}),
      },
      spec: { ...o.spec },
    },
    { dryRun: false },
  );
  await client.update(resources(client).nodes, undefined, name, "status", (n) => {
    n["status"] = {
      capacity: { "ephemeral-storage": o.ephemeral ?? "100Gi", cpu: "4", memory: "8Gi", pods: "110" },
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    };
    return n;
  });
  return made.obj;
}

/** Sets a volume's status.phase (as the PV controller would). */
export async function setPhase(client: LocalClient, name: string, phase: string): Promise<void> {
  await client.update(resources(client).volumes, undefined, name, "status", (o) => {
    o["status"] = { ...(o["status"] as Rec | undefined), phase };
    return o;
  });
}

/** The events about an object (by name), as `reason: message` lines with their counts. */
export async function eventsOf(
  client: LocalClient,
  name: string,
): Promise<Array<{ reason: string; message: string; type: string; count: number; component: string }>> {
  const all = await client.list(resources(client).events, "default");
  return all
    .map((c) => c.obj)
    .filter((e) => (e["involvedObject"] as Rec | undefined)?.["name"] === name)
    .map((e) => ({
      reason: String(e["reason"]),
      message: String(e["message"]),
      type: String(e["type"]),
      count: Number(e["count"] ?? 1),
      component: String((e["source"] as Rec | undefined)?.["component"]),
    }));
}

/** Waits for an event of `reason` about `name`. */
export function eventWith(client: LocalClient, name: string, reason: string) {
  return until(`${reason} event for ${name}`, async () =>
    (await eventsOf(client, name)).find((e) => e.reason === reason),
  );
}

/** Waits until the volume's storage is done with: gone, or being deleted without the deletion finalizer (another finalizer such as pv-protection may still hold it). */
export function volumeReleasedByProvisioner(client: LocalClient, name: string) {
  return until(`volume ${name} deleted`, () => {
    const pv = client.get(resources(client).volumes, undefined, name);
    if (!pv) return true;
    return pv.metadata.deletionTimestamp && !pv.metadata.finalizers?.includes(PROVISIONER_DELETION_FINALIZER)
      ? true
      : undefined;
  });
}

/** Waits `ms` (to show something does not happen). */
export function settle(ms = 150): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
