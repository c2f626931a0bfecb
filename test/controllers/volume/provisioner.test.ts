/** The external-provisioner protocol: its decisions by table, and the ProvisionController on a live registry with a fake provisioner. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  PROVISIONER_DELETION_FINALIZER,
} from "../../../src/api/storage.js";
import type { KObject } from "../../../src/api/types.js";
import {
  buildVolume,
  finalizersWanted,
  ProvisionController,
  type Provisioner,
  ProvisioningError,
  type ProvisionOptions,
  type ProvisionResult,
  provisionDecision,
  shouldDelete,
} from "../../../src/controllers/volume/provisioner/index.js";
import { liveRegistry, until } from "../support.js";
import {
  eventsOf,
  eventWith,
  makeClaim,
  makeClass,
  makeNode,
  resources,
  setPhase,
  settle,
  volumeReleasedByProvisioner,
} from "./provisioner-support.js";

const P = "example.com/fake";

function claimObj(
  o: { annotations?: Record<string, string>; spec?: Record<string, unknown>; deleting?: boolean } = {},
): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: "c",
      namespace: "default",
      uid: "u1",
      annotations: o.annotations ?? { [ANN_STORAGE_PROVISIONER]: P },
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: {
      storageClassName: "fast",
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
      ...o.spec,
    },
  };
}

function classObj(extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "fast" },
    provisioner: P,
    ...extra,
  };
}

function pvObj(o: { policy?: string; phase?: string; deleting?: boolean; finalizers?: string[] } = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: "pvc-u1",
      annotations: { [ANN_PROVISIONED_BY]: P },
      ...(o.finalizers ? { finalizers: o.finalizers } : {}),
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { persistentVolumeReclaimPolicy: o.policy ?? "Delete" },
    status: { phase: o.phase ?? "Bound" },
  };
}

describe("provisioning decisions", () => {
  const wffc = classObj({ volumeBindingMode: "WaitForFirstConsumer" });
  const cases: Array<[string, KObject, KObject | undefined, string]> = [
    ["a claim handed to this provisioner with its class present is provisioned", claimObj(), classObj(), "provision"],
    [
      "the beta storage-provisioner annotation counts too",
      claimObj({ annotations: { "volume.beta.kubernetes.io/storage-provisioner": P } }),
      classObj(),
      "provision",
    ],
    [
      "a claim handed to another provisioner is skipped",
      claimObj({ annotations: { [ANN_STORAGE_PROVISIONER]: "x" } }),
      classObj(),
      "skip",
    ],
    ["a claim not handed to any provisioner is skipped", claimObj({ annotations: {} }), classObj(), "skip"],
    ["a bound claim is skipped", claimObj({ spec: { volumeName: "pv1" } }), classObj(), "skip"],
    ["a claim being deleted is skipped", claimObj({ deleting: true }), classObj(), "skip"],
    ["a class of another provisioner is skipped", claimObj(), classObj({ provisioner: "other" }), "skip"],
    ["a missing class is waited for", claimObj(), undefined, "wait-for-class"],
    ["WaitForFirstConsumer without a selected node waits", claimObj(), wffc, "wait-for-node"],
    [
      "WaitForFirstConsumer with a selected node is provisioned",
      claimObj({ annotations: { [ANN_STORAGE_PROVISIONER]: P, [ANN_SELECTED_NODE]: "n1" } }),
      wffc,
      "provision",
    ],
  ];
  for (const [name, claim, sc, want] of cases) {
    it(name, () => assert.equal(provisionDecision(claim, P, sc), want));
  }

  const deletions: Array<[string, KObject, boolean]> = [
    ["a Released volume with policy Delete has its storage deleted", pvObj({ phase: "Released" }), true],
    ["a Bound volume is kept", pvObj(), false],
    ["a Released volume with policy Retain is kept", pvObj({ phase: "Released", policy: "Retain" }), false],
    [
      "a volume deleted while Available, held by the finalizer, has its storage deleted",
      pvObj({ phase: "Available", deleting: true, finalizers: [PROVISIONER_DELETION_FINALIZER] }),
      true,
    ],
    [
      "a volume deleted while Bound waits for the claim to go",
      pvObj({ phase: "Bound", deleting: true, finalizers: [PROVISIONER_DELETION_FINALIZER] }),
      false,
    ],
    [
      "a volume being deleted without the finalizer was deleted already",
      pvObj({ phase: "Released", deleting: true }),
      false,
    ],
  ];
  for (const [name, pv, want] of deletions) {
    it(name, () => assert.equal(shouldDelete(pv), want));
  }

  it("the finalizer is added to Bound Delete volumes that lack it and removed when the policy becomes Retain", () => {
    assert.deepEqual(finalizersWanted(pvObj({ finalizers: ["kubernetes.io/pv-protection"] })), [
      "kubernetes.io/pv-protection",
      PROVISIONER_DELETION_FINALIZER,
    ]);
    assert.deepEqual(finalizersWanted(pvObj({ policy: "Retain", finalizers: [PROVISIONER_DELETION_FINALIZER] })), []);
    assert.equal(finalizersWanted(pvObj({ finalizers: [PROVISIONER_DELETION_FINALIZER] })), undefined);
    assert.equal(finalizersWanted(pvObj({ phase: "Available" })), undefined);
  });

  it("the volume: pre-bound to the claim, of its class, modes and request, with the class's policy and mount options", () => {
    const claim = claimObj({ spec: { volumeMode: "Filesystem", accessModes: ["ReadWriteMany"] } });
    claim.metadata.resourceVersion = "42";
    const pv = buildVolume(claim, classObj({ reclaimPolicy: "Retain", mountOptions: ["nfsvers=4.1"] }), "pvc-u1", P, {
      source: { nfs: { server: "s", path: "/e/x" } },
      labels: { zone: "a" },
    });
    assert.deepEqual(pv, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pvc-u1", annotations: { [ANN_PROVISIONED_BY]: P }, labels: { zone: "a" } },
      spec: {
        nfs: { server: "s", path: "/e/x" },
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteMany"],
        volumeMode: "Filesystem",
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "fast",
        mountOptions: ["nfsvers=4.1"],
        claimRef: {
          kind: "PersistentVolumeClaim",
          apiVersion: "v1",
          namespace: "default",
          name: "c",
          uid: "u1",
          resourceVersion: "42",
        },
      },
    });
    // policy Delete (the class default) brings the deletion finalizer
    const del = buildVolume(claim, classObj(), "pvc-u1", P, { source: {}, capacity: "2Gi" });
    assert.deepEqual(del.metadata.finalizers, [PROVISIONER_DELETION_FINALIZER]);
    assert.deepEqual((del["spec"] as Record<string, unknown>)["capacity"], { storage: "2Gi" });
  });
});

/** A provisioner that answers an NFS source and records what it was asked. */
class FakeProvisioner implements Provisioner {
  readonly name: string;
  readonly provisions: ProvisionOptions[] = [];
  readonly deletes: string[] = [];
  /** Failures before provision() succeeds. */
  failProvisions = 0;
  /** Thrown by every provision() when set. */
  provisionError: Error | undefined;
  /** Failures before delete() succeeds. */
  failDeletes = 0;
  elsewhere = false;
  /** Called inside provision() (to play a racing second instance). */
  during: ((o: ProvisionOptions) => Promise<void>) | undefined;

  constructor(name: string) {
    this.name = name;
  }

  async provision(o: ProvisionOptions): Promise<ProvisionResult> {
    this.provisions.push(o);
    await this.during?.(o);
    if (this.provisionError) throw this.provisionError;
    if (this.failProvisions > 0) {
      this.failProvisions--;
      throw new Error("backend down");
    }
    return { source: { nfs: { server: "nfs.example", path: `/export/${o.pvName}` } } };
  }

  async delete(pv: KObject): Promise<void> {
    this.deletes.push(pv.metadata.name ?? "");
    if (this.failDeletes > 0) {
      this.failDeletes--;
      throw new Error("backend busy");
    }
  }

  deletedElsewhere(): boolean {
    return this.elsewhere;
  }
}

describe("ProvisionController on a registry", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  const r = resources(client);
  const controllers: ProvisionController[] = [];
  let n = 0;

  /** A fresh provisioner name, class and running controller per test. */
  async function setup(classExtra: Record<string, unknown> = {}) {
    n++;
    const fake = new FakeProvisioner(`example.com/fake-${n}`);
    const cls = `class-${n}`;
    await makeClass(client, cls, fake.name, classExtra);
    const ctl = new ProvisionController(client, fake, { identity: "test" });
    controllers.push(ctl);
    ctl.start();
    return { fake, cls, ctl };
  }

  const volumeFor = (claim: KObject) =>
    until(`volume of ${claim.metadata.name}`, () => client.get(r.volumes, undefined, `pvc-${claim.metadata.uid}`));

  before(() => live.ready());
  after(() => {
    for (const c of controllers) c.stop();
    live.close();
  });

  it("a claim handed to the provisioner gets a volume pre-bound to it, with events from <name>_<identity>", async () => {
    const { fake, cls } = await setup({ mountOptions: ["hard"] });
    const claim = await makeClaim(client, "happy", cls, fake.name, { storage: "3Gi" });
    const pv = await volumeFor(claim);
    const spec = pv["spec"] as Record<string, unknown>;
    assert.equal(pv.metadata.annotations?.[ANN_PROVISIONED_BY], fake.name);
    assert.deepEqual(pv.metadata.finalizers?.includes(PROVISIONER_DELETION_FINALIZER), true);
    assert.deepEqual(spec["claimRef"], {
      kind: "PersistentVolumeClaim",
      apiVersion: "v1",
      namespace: "default",
      name: "happy",
      uid: claim.metadata.uid,
      resourceVersion: claim.metadata.resourceVersion,
    });
    assert.equal(spec["storageClassName"], cls);
    assert.equal(spec["persistentVolumeReclaimPolicy"], "Delete");
    assert.deepEqual(spec["capacity"], { storage: "3Gi" });
    assert.deepEqual(spec["accessModes"], ["ReadWriteOnce"]);
    assert.equal(spec["volumeMode"], "Filesystem");
    assert.deepEqual(spec["mountOptions"], ["hard"]);
    assert.deepEqual(spec["nfs"], { server: "nfs.example", path: `/export/pvc-${claim.metadata.uid}` });
    const ok = await eventWith(client, "happy", "ProvisioningSucceeded");
    assert.equal(ok.message, `Successfully provisioned volume pvc-${claim.metadata.uid}`);
    assert.equal(ok.component, `${fake.name}_test`);
    const started = (await eventsOf(client, "happy")).find((e) => e.reason === "Provisioning");
    assert.equal(started?.message, 'External provisioner is provisioning volume for claim "default/happy"');
    assert.equal(fake.provisions.length, 1);
    assert.equal(fake.provisions[0]?.pvName, `pvc-${claim.metadata.uid}`);
    assert.equal(fake.provisions[0]?.storageClass.metadata.name, cls);
  });

  it("a restarted controller does not provision a claim whose volume exists (no second volume)", async () => {
    const { fake, cls, ctl } = await setup();
    const claim = await makeClaim(client, "restart", cls, fake.name);
    await volumeFor(claim);
    ctl.stop();
    // the claim is still unbound (no PV controller here): a new term sees it again
    const again = new ProvisionController(client, fake, { identity: "test2" });
    controllers.push(again);
    again.start();
    await client.update(r.claims, "default", "restart", "", (o) => {
      o.metadata.labels = { poke: "1" };
      return o;
    });
    await settle();
    assert.equal(fake.provisions.length, 1);
    const mine = (await client.list(r.volumes)).filter(
      (c) => c.obj.metadata.annotations?.[ANN_PROVISIONED_BY] === fake.name,
    );
    assert.equal(mine.length, 1);
  });

  it("a volume that appeared meanwhile (AlreadyExists for the same claim) counts as provisioned", async () => {
    const { fake, cls } = await setup();
    let made: KObject | undefined;
    fake.during = async (o) => {
      // another instance finished first
      made = buildVolume(o.claim, o.storageClass, o.pvName, fake.name, {
        source: { nfs: { server: "nfs.example", path: "/export/other" } },
      });
      await client.registry.create(r.volumes, undefined, made, { dryRun: false });
    };
    const claim = await makeClaim(client, "racing", cls, fake.name);
    await eventWith(client, "racing", "ProvisioningSucceeded");
    const pv = await volumeFor(claim);
    assert.deepEqual((pv["spec"] as Record<string, unknown>)["nfs"], { server: "nfs.example", path: "/export/other" });
    assert.equal(fake.provisions.length, 1);
    assert.ok(!(await eventsOf(client, "racing")).some((e) => e.reason === "ProvisioningFailed"));
  });

  it("a failing provision is reported as ProvisioningFailed and retried with backoff until it succeeds", async () => {
    const { fake, cls } = await setup();
    fake.failProvisions = 3;
    const claim = await makeClaim(client, "flaky", cls, fake.name);
    await volumeFor(claim);
    assert.equal(fake.provisions.length, 4);
    const failed = (await eventsOf(client, "flaky")).find((e) => e.reason === "ProvisioningFailed");
    assert.equal(failed?.type, "Warning");
    assert.equal(failed?.message, `failed to provision volume with StorageClass "${cls}": backend down`);
    // repeats bump one event's count
    assert.equal(failed?.count, 3);
  });

  it("a final failure is reported once and not retried until the claim changes", async () => {
    const { fake, cls } = await setup();
    fake.provisionError = new ProvisioningError("claim Selector is not supported", "final");
    await makeClaim(client, "final", cls, fake.name);
    await eventWith(client, "final", "ProvisioningFailed");
    await settle(200);
    assert.equal(fake.provisions.length, 1);
    fake.provisionError = undefined;
    await client.update(r.claims, "default", "final", "", (o) => {
      o.metadata.labels = { fixed: "yes" };
      return o;
    });
    await eventWith(client, "final", "ProvisioningSucceeded");
  });

  it("a claim whose class appears later is provisioned then", async () => {
    n++;
    const fake = new FakeProvisioner(`example.com/fake-${n}`);
    const ctl = new ProvisionController(client, fake, { identity: "test" });
    controllers.push(ctl);
    ctl.start();
    const claim = await makeClaim(client, "late-class", `late-${n}`, fake.name);
    await settle();
    assert.equal(fake.provisions.length, 0);
    await makeClass(client, `late-${n}`, fake.name);
    await volumeFor(claim);
  });

  it("WaitForFirstConsumer: nothing until the scheduler picks a node, then that node is passed", async () => {
    const { fake, cls } = await setup({ volumeBindingMode: "WaitForFirstConsumer" });
    await makeNode(client, `node-${n}`);
    const claim = await makeClaim(client, "wffc", cls, fake.name);
    await settle();
    assert.equal(fake.provisions.length, 0);
    await client.update(r.claims, "default", "wffc", "", (o) => {
      o.metadata.annotations = { ...o.metadata.annotations, [ANN_SELECTED_NODE]: `node-${n}` };
      return o;
    });
    await volumeFor(claim);
    assert.equal(fake.provisions[0]?.selectedNode?.metadata.name, `node-${n}`);
  });

  it("a selected node that does not exist is dropped from the claim (the scheduler chooses again)", async () => {
    const { fake, cls } = await setup({ volumeBindingMode: "WaitForFirstConsumer" });
    await makeClaim(client, "ghost-node", cls, fake.name, { annotations: { [ANN_SELECTED_NODE]: "ghost" } });
    const failed = await eventWith(client, "ghost-node", "ProvisioningFailed");
    assert.equal(failed.message, 'node "ghost" not found');
    await until("selected-node removed", () =>
      client.get(r.claims, "default", "ghost-node")?.metadata.annotations?.[ANN_SELECTED_NODE] === undefined
        ? true
        : undefined,
    );
    assert.equal(fake.provisions.length, 0);
  });

  it("a reschedule failure drops the selected node", async () => {
    const { fake, cls } = await setup({ volumeBindingMode: "WaitForFirstConsumer" });
    await makeNode(client, `full-${n}`);
    fake.provisionError = new ProvisioningError("no room", "reschedule");
    await makeClaim(client, "resched", cls, fake.name, { annotations: { [ANN_SELECTED_NODE]: `full-${n}` } });
    await until("selected-node removed", () =>
      client.get(r.claims, "default", "resched")?.metadata.annotations?.[ANN_SELECTED_NODE] === undefined
        ? true
        : undefined,
    );
    const failed = (await eventsOf(client, "resched")).find((e) => e.reason === "ProvisioningFailed");
    assert.equal(failed?.message, `failed to provision volume with StorageClass "${cls}": no room`);
  });

  it("Block claims are refused unless the provisioner supports them", async () => {
    const { fake, cls } = await setup();
    await makeClaim(client, "block", cls, fake.name, { spec: { volumeMode: "Block" } });
    const failed = await eventWith(client, "block", "ProvisioningFailed");
    assert.equal(failed.message, `${fake.name} does not support block volume provisioning`);
    assert.equal(fake.provisions.length, 0);
  });

  it("a Released volume has its storage deleted, then the object; the finalizer goes last", async () => {
    const { fake, cls } = await setup();
    const claim = await makeClaim(client, "reclaim", cls, fake.name);
    const pv = await volumeFor(claim);
    await setPhase(client, pv.metadata.name ?? "", "Released");
    await volumeReleasedByProvisioner(client, pv.metadata.name ?? "");
    assert.deepEqual(fake.deletes, [pv.metadata.name]);
  });

  it("a failed deletion is reported as VolumeFailedDelete and retried", async () => {
    const { fake, cls } = await setup();
    fake.failDeletes = 2;
    const claim = await makeClaim(client, "reclaim-flaky", cls, fake.name);
    const pv = await volumeFor(claim);
    await setPhase(client, pv.metadata.name ?? "", "Released");
    await volumeReleasedByProvisioner(client, pv.metadata.name ?? "");
    assert.equal(fake.deletes.length, 3);
    const failed = await eventWith(client, pv.metadata.name ?? "", "VolumeFailedDelete");
    assert.equal(failed.type, "Warning");
    assert.equal(failed.message, "backend busy");
  });

  it("a volume deleted before it was bound keeps its finalizer until its storage is deleted", async () => {
    const { fake, cls } = await setup();
    fake.failDeletes = 1;
    const claim = await makeClaim(client, "early-delete", cls, fake.name);
    const pv = await volumeFor(claim);
    const name = pv.metadata.name ?? "";
    await setPhase(client, name, "Available");
    await client.delete(r.volumes, undefined, name);
    // held while the first deletion fails
    await eventWith(client, name, "VolumeFailedDelete");
    await volumeReleasedByProvisioner(client, name);
    assert.equal(fake.deletes.length, 2);
  });

  it("a volume whose policy became Retain loses the finalizer and keeps its storage", async () => {
    const { fake, cls } = await setup();
    const claim = await makeClaim(client, "retain", cls, fake.name);
    const pv = await volumeFor(claim);
    const name = pv.metadata.name ?? "";
    await client.update(r.volumes, undefined, name, "", (o) => {
      (o["spec"] as Record<string, unknown>)["persistentVolumeReclaimPolicy"] = "Retain";
      return o;
    });
    await setPhase(client, name, "Released");
    await until("finalizer removed", () =>
      client.get(r.volumes, undefined, name)?.metadata.finalizers?.includes(PROVISIONER_DELETION_FINALIZER)
        ? undefined
        : true,
    );
    await settle();
    assert.deepEqual(fake.deletes, []);
    assert.ok(client.get(r.volumes, undefined, name));
  });

  it("a volume whose deletion is done elsewhere is left alone", async () => {
    const { fake, cls } = await setup();
    fake.elsewhere = true;
    const claim = await makeClaim(client, "elsewhere", cls, fake.name);
    const pv = await volumeFor(claim);
    await setPhase(client, pv.metadata.name ?? "", "Released");
    await settle();
    assert.deepEqual(fake.deletes, []);
    const still = client.get(r.volumes, undefined, pv.metadata.name ?? "");
    assert.ok(still && !still.metadata.deletionTimestamp);
  });
});
