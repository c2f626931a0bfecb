/** The PV controller: the matching rules by table, then binding, reclaim and protection on a live registry. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../../src/api/types.js";
import { PersistentVolumeController } from "../../../src/controllers/volume/persistentvolume/index.js";
import { VolumeIndex } from "../../../src/controllers/volume/persistentvolume/match.js";
import { PvcProtectionController, PvProtectionController } from "../../../src/controllers/volume/protection.js";
import { liveRegistry, until } from "../support.js";

type Rec = Record<string, unknown>;

function pv(name: string, size: string, spec: Rec = {}, meta: Rec = {}, phase = "Available"): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, ...meta },
    spec: { capacity: { storage: size }, accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem", ...spec },
    status: { phase },
  };
}

function pvc(name: string, size: string, spec: Rec = {}, meta: Rec = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default", uid: `uid-${name}`, ...meta },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      volumeMode: "Filesystem",
      ...spec,
    },
  };
}

const node = (name: string, labels: Record<string, string>): KObject => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
});

const affinity = (zone: string) => ({
  nodeAffinity: {
    required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: [zone] }] }] },
  },
});

describe("matching a claim to a volume (FindMatchingVolume)", () => {
  const cases: Array<{ name: string; volumes: KObject[]; claim: KObject; want: string | undefined; opts?: Rec }> = [
    {
      name: "the smallest volume that is large enough",
      volumes: [pv("big", "10Gi"), pv("small", "1Gi"), pv("mid", "5Gi")],
      claim: pvc("c", "2Gi"),
      want: "mid",
    },
    { name: "no volume is large enough", volumes: [pv("a", "1Gi")], claim: pvc("c", "2Gi"), want: undefined },
    { name: "exactly the requested size fits", volumes: [pv("a", "2Gi")], claim: pvc("c", "2Gi"), want: "a" },
    {
      name: "decimal and binary units compare by bytes",
      volumes: [pv("a", "1G"), pv("b", "1Gi")],
      claim: pvc("c", "1000M"),
      want: "a",
    },
    {
      name: "access modes must include the claim's",
      volumes: [pv("rwo", "1Gi"), pv("rwx", "5Gi", { accessModes: ["ReadWriteMany"] })],
      claim: pvc("c", "1Gi", { accessModes: ["ReadWriteMany"] }),
      want: "rwx",
    },
    {
      name: "a superset of modes serves the claim",
      volumes: [pv("both", "1Gi", { accessModes: ["ReadWriteOnce", "ReadOnlyMany"] })],
      claim: pvc("c", "1Gi", { accessModes: ["ReadOnlyMany"] }),
      want: "both",
    },
    {
      name: "volumes with fewer modes are tried first, even if larger",
      volumes: [pv("exact", "10Gi"), pv("wider", "1Gi", { accessModes: ["ReadWriteOnce", "ReadWriteMany"] })],
      claim: pvc("c", "1Gi"),
      want: "exact",
    },
    {
      name: "the class must be the claim's",
      volumes: [pv("fast", "1Gi", { storageClassName: "fast" }), pv("slow", "1Gi", { storageClassName: "slow" })],
      claim: pvc("c", "1Gi", { storageClassName: "slow" }),
      want: "slow",
    },
    {
      name: "a volume without class serves only claims without class",
      volumes: [pv("none", "1Gi")],
      claim: pvc("c", "1Gi", { storageClassName: "standard" }),
      want: undefined,
    },
    {
      name: 'a claim asking for no class ("") takes a volume without class',
      volumes: [pv("classy", "1Gi", { storageClassName: "standard" }), pv("none", "5Gi")],
      claim: pvc("c", "1Gi", { storageClassName: "" }),
      want: "none",
    },
    {
      name: "the beta class annotation counts as the class",
      volumes: [pv("gold", "1Gi", {}, { annotations: { "volume.beta.kubernetes.io/storage-class": "gold" } })],
      claim: pvc("c", "1Gi", { storageClassName: "gold" }),
      want: "gold",
    },
    {
      name: "the selector's matchLabels and matchExpressions both apply (seed 001)",
      volumes: [
        pv("labels-only", "8Gi", {}, { labels: { release: "stable" } }),
        pv("both", "9Gi", {}, { labels: { release: "stable", environment: "dev" } }),
      ],
      claim: pvc("c", "8Gi", {
        selector: {
          matchLabels: { release: "stable" },
          matchExpressions: [{ key: "environment", operator: "In", values: ["dev"] }],
        },
      }),
      want: "both",
    },
    {
      name: "volumeMode Block and Filesystem do not mix",
      volumes: [pv("fs", "1Gi"), pv("block", "1Gi", { volumeMode: "Block" })],
      claim: pvc("c", "1Gi", { volumeMode: "Block" }),
      want: "block",
    },
    {
      name: "a volume pre-bound to the claim wins over a smaller free one",
      volumes: [pv("free", "1Gi"), pv("mine", "9Gi", { claimRef: { namespace: "default", name: "c" } })],
      claim: pvc("c", "1Gi"),
      want: "mine",
    },
    {
      name: "a volume pre-bound to another claim is not taken",
      volumes: [pv("theirs", "1Gi", { claimRef: { namespace: "default", name: "other" } })],
      claim: pvc("c", "1Gi"),
      want: undefined,
    },
    {
      name: "a claimRef with another uid is another claim's",
      volumes: [pv("old", "1Gi", { claimRef: { namespace: "default", name: "c", uid: "someone-else" } })],
      claim: pvc("c", "1Gi"),
      want: undefined,
    },
    {
      name: "volumes not Available are skipped",
      volumes: [pv("released", "1Gi", {}, {}, "Released"), pv("failed", "1Gi", {}, {}, "Failed")],
      claim: pvc("c", "1Gi"),
      want: undefined,
    },
    {
      name: "a volume being deleted is skipped",
      volumes: [pv("going", "1Gi", {}, { deletionTimestamp: "2026-01-01T00:00:00Z" })],
      claim: pvc("c", "1Gi"),
      want: undefined,
    },
    {
      name: "binding that waits for a consumer takes only a pre-bound volume",
      volumes: [pv("free", "1Gi")],
      claim: pvc("c", "1Gi"),
      want: undefined,
      opts: { delayBinding: true },
    },
    {
      name: "on the scheduler's path the volume's node affinity must admit the node",
      volumes: [pv("east", "1Gi", affinity("east")), pv("west", "5Gi", affinity("west"))],
      claim: pvc("c", "1Gi"),
      want: "west",
      opts: { node: node("n1", { zone: "west" }), delayBinding: true },
    },
    {
      name: "excluded volumes (chosen for another claim of the pod) are not taken",
      volumes: [pv("a", "1Gi"), pv("b", "2Gi")],
      claim: pvc("c", "1Gi"),
      want: "b",
      opts: { excluded: new Set(["a"]) },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const index = new VolumeIndex();
      for (const v of c.volumes) index.upsert(v);
      assert.equal(index.findBestMatch(c.claim, c.opts)?.metadata.name, c.want);
    });
  }

  it("among 10,000 Available volumes: the smallest that fits, then the next once it goes", () => {
    const index = new VolumeIndex();
    for (let i = 0; i < 10_000; i++) index.upsert(pv(`v${String(i).padStart(5, "0")}`, `${1 + (i % 100)}Gi`));
    assert.equal(index.findBestMatch(pvc("c", "100Gi"))?.metadata.name, "v00099");
    index.remove(pv("v00099", "100Gi"));
    assert.equal(index.findBestMatch(pvc("c", "100Gi"))?.metadata.name, "v00199");
  });
});

describe("the PV controller on a live registry", () => {
  const live = liveRegistry({ admission: true });
  const { client } = live;
  const scratch = mkdtempSync(join(tmpdir(), "k8ts-pvc-"));
  const pvs = client.resource("", "v1", "persistentvolumes");
  const pvcs = client.resource("", "v1", "persistentvolumeclaims");
  const classes = client.resource("storage.k8s.io", "v1", "storageclasses");
  const pods = client.resource("", "v1", "pods");
  const events = client.resource("", "v1", "events");
  let ctrl: PersistentVolumeController;
  let pvcProtection: PvcProtectionController;
  let pvProtection: PvProtectionController;

  before(async () => {
    await live.ready();
    ctrl = new PersistentVolumeController(client, { protectedPaths: [join(scratch, "data-dir")] });
    pvcProtection = new PvcProtectionController(client);
    pvProtection = new PvProtectionController(client);
    ctrl.start();
    pvcProtection.start();
    pvProtection.start();
  });
  after(() => {
    ctrl.stop();
    pvcProtection.stop();
    pvProtection.stop();
    live.close();
  });

  const create = (sv: typeof pvs, o: KObject) => client.registry.create(sv, o.metadata.namespace, o, { dryRun: false });
  const field = (o: KObject | undefined, f: string) => (o?.[f] ?? {}) as Rec;
  const phaseOf = (o: KObject | undefined) => (o?.["status"] as Rec | undefined)?.["phase"];
  const volume = (name: string) => client.get(pvs, undefined, name);
  const claim = (name: string) => client.get(pvcs, "default", name);
  const eventFor = (name: string, reason: string) =>
    until(`${reason} event for ${name}`, async () =>
      (await client.list(events, "default"))
        .map((e) => e.obj)
        .find((e) => (e["involvedObject"] as Rec)["name"] === name && e["reason"] === reason),
    );
  const clusterEventFor = (name: string, reason: string) =>
    until(`${reason} event for ${name}`, async () =>
      (await client.list(events))
        .map((e) => e.obj)
        .find((e) => (e["involvedObject"] as Rec)["name"] === name && e["reason"] === reason),
    );
  const hostPathPV = (name: string, path: string, policy: string, spec: Rec = {}) => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteMany"],
      persistentVolumeReclaimPolicy: policy,
      storageClassName: "manual",
      hostPath: { path },
      ...spec,
    },
  });
  const manualClaim = (name: string, spec: Rec = {}) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default" },
    spec: {
      storageClassName: "manual",
      accessModes: ["ReadWriteMany"],
      resources: { requests: { storage: "3Gi" } },
      ...spec,
    },
  });

  it("binds a claim and a volume both ways, with upstream's annotations, and protects both", async () => {
    await create(pvs, hostPathPV("pv-a", join(scratch, "a"), "Retain"));
    await create(pvcs, manualClaim("claim-a"));
    const c = await until("claim-a bound", () =>
      phaseOf(claim("claim-a")) === "Bound" ? claim("claim-a") : undefined,
    );
    const v = await until("pv-a bound", () => (phaseOf(volume("pv-a")) === "Bound" ? volume("pv-a") : undefined));
    assert.equal((c["spec"] as Rec)["volumeName"], "pv-a");
    assert.deepEqual(c.metadata.annotations, {
      "pv.kubernetes.io/bind-completed": "yes",
      "pv.kubernetes.io/bound-by-controller": "yes",
    });
    assert.deepEqual((c["status"] as Rec)["capacity"], { storage: "10Gi" });
    assert.deepEqual((c["status"] as Rec)["accessModes"], ["ReadWriteMany"]);
    assert.deepEqual(c.metadata.finalizers, ["kubernetes.io/pvc-protection"]);
    const ref = (v["spec"] as Rec)["claimRef"] as Rec;
    assert.equal(ref["name"], "claim-a");
    assert.equal(ref["uid"], c.metadata.uid);
    assert.equal(v.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
    assert.deepEqual(v.metadata.finalizers, ["kubernetes.io/pv-protection"]);
  });

  it("an administrator's capacity change of a bound volume shows in the claim (seed 003)", async () => {
    await client.update(pvs, undefined, "pv-a", "", (o) => {
      (o["spec"] as Rec)["capacity"] = { storage: "20Gi" };
      return o;
    });
    await until("claim-a capacity 20Gi", () =>
      (field(claim("claim-a"), "status")["capacity"] as Rec)["storage"] === "20Gi" ? true : undefined,
    );
  });

  it("a bound volume deleted directly stays Terminating while bound; the claim keeps working", async () => {
    await client.delete(pvs, undefined, "pv-a");
    await new Promise((r) => setTimeout(r, 200));
    const v = volume("pv-a");
    assert.ok(v?.metadata.deletionTimestamp, "the PV is being deleted");
    assert.equal(phaseOf(v), "Bound");
    assert.equal(phaseOf(claim("claim-a")), "Bound");
  });

  it("a claim used by a running pod stays (Terminating) until the pod finishes; then Retain releases the volume", async () => {
    await create(pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "user", namespace: "default" },
      spec: {
        nodeName: "n1",
        containers: [{ name: "c", image: "busybox" }],
        volumes: [{ name: "v", persistentVolumeClaim: { claimName: "claim-a" } }],
      },
    });
    await client.delete(pvcs, "default", "claim-a");
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(claim("claim-a")?.metadata.deletionTimestamp, "Terminating while the pod runs");
    await client.update(pods, "default", "user", "status", (o) => {
      o["status"] = { phase: "Succeeded" };
      return o;
    });
    await until("claim-a gone", () => (claim("claim-a") ? undefined : true));
    // Released, then (being deleted and no longer bound) pv-protection lets it go
    await until("pv-a gone", () => (volume("pv-a") ? undefined : true));
    await client.delete(pods, "default", "user", { gracePeriodSeconds: 0 });
  });

  it("Retain: a released volume keeps its data and says Released", async () => {
    mkdirSync(join(scratch, "keep"), { recursive: true });
    writeFileSync(join(scratch, "keep", "data"), "kept");
    await create(pvs, hostPathPV("pv-keep", join(scratch, "keep"), "Retain"));
    await create(pvcs, manualClaim("claim-keep"));
    await until("bound", () => (phaseOf(claim("claim-keep")) === "Bound" ? true : undefined));
    await client.delete(pvcs, "default", "claim-keep");
    await until("released", () => (phaseOf(volume("pv-keep")) === "Released" ? true : undefined));
    assert.equal(readFileSync(join(scratch, "keep", "data"), "utf8"), "kept");
    const ref = field(volume("pv-keep"), "spec")["claimRef"] as Rec;
    assert.equal(ref["name"], "claim-keep", "CLAIM still names the old claim, as kubectl get pv shows");
  });

  it("Recycle scrubs the contents without following symlinks out, and the volume is Available again", async () => {
    const dir = join(scratch, "recycle");
    const outside = join(scratch, "outside");
    mkdirSync(join(dir, "sub"), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, "precious"), "do not touch");
    writeFileSync(join(dir, "index.html"), "x");
    writeFileSync(join(dir, ".hidden"), "x");
    symlinkSync(outside, join(dir, "sub", "escape"));
    symlinkSync(join(outside, "precious"), join(dir, "link-to-file"));
    await create(pvs, hostPathPV("pv-recycle", dir, "Recycle"));
    await create(pvcs, manualClaim("claim-recycle"));
    await until("bound", () => (phaseOf(claim("claim-recycle")) === "Bound" ? true : undefined));
    await client.delete(pvcs, "default", "claim-recycle");
    await clusterEventFor("pv-recycle", "VolumeRecycled");
    await until("available", () => (phaseOf(volume("pv-recycle")) === "Available" ? true : undefined));
    assert.equal(field(volume("pv-recycle"), "spec")["claimRef"], undefined);
    assert.ok(existsSync(dir), "the volume's directory stays");
    assert.ok(
      !existsSync(join(dir, "index.html")) && !existsSync(join(dir, ".hidden")) && !existsSync(join(dir, "sub")),
    );
    assert.equal(readFileSync(join(outside, "precious"), "utf8"), "do not touch");
    // and it can be claimed again
    await create(pvcs, manualClaim("claim-recycle-2"));
    await until("bound again", () => (phaseOf(claim("claim-recycle-2")) === "Bound" ? true : undefined));
  });

  it("Delete of a static hostPath volume outside /tmp fails as upstream's deleter does", async () => {
    await create(pvs, hostPathPV("pv-del", "/srv/k8ts-test-never", "Delete"));
    await create(pvcs, manualClaim("claim-del", { volumeName: "pv-del" }));
    await until("bound", () => (phaseOf(claim("claim-del")) === "Bound" ? true : undefined));
    await client.delete(pvcs, "default", "claim-del");
    const e = await clusterEventFor("pv-del", "VolumeFailedDelete");
    assert.equal(e["message"], "host_path deleter only supports /tmp/.+ but received provided /srv/k8ts-test-never");
    await until("failed", () => (phaseOf(volume("pv-del")) === "Failed" ? true : undefined));
  });

  it("a claim naming a volume that does not fit says why (VolumeMismatch)", async () => {
    await create(pvs, hostPathPV("pv-tiny", join(scratch, "tiny"), "Retain", { capacity: { storage: "1Gi" } }));
    await create(pvcs, manualClaim("claim-big", { volumeName: "pv-tiny" }));
    const e = await eventFor("claim-big", "VolumeMismatch");
    assert.equal(e["message"], 'Cannot bind to requested volume "pv-tiny": requested PV is too small');
    assert.equal(phaseOf(claim("claim-big")), "Pending");
  });

  it("no volume and no class: FailedBinding, Pending", async () => {
    await create(pvcs, manualClaim("claim-none", { storageClassName: "" }));
    const e = await eventFor("claim-none", "FailedBinding");
    assert.equal(e["message"], "no persistent volumes available for this claim and no storage class is set");
  });

  it("a class that does not exist: ProvisioningFailed (seed 001's slow class)", async () => {
    await create(pvcs, manualClaim("claim-slow", { storageClassName: "slow" }));
    const e = await eventFor("claim-slow", "ProvisioningFailed");
    assert.equal(e["message"], 'storageclass.storage.k8s.io "slow" not found');
  });

  it("an external provisioner's class: the claim is annotated for it and waits (ExternalProvisioning)", async () => {
    await create(classes, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "ext" },
      provisioner: "example.com/gluster",
    });
    await create(pvcs, manualClaim("claim-ext", { storageClassName: "ext" }));
    const e = await eventFor("claim-ext", "ExternalProvisioning");
    assert.match(
      String(e["message"]),
      /^Waiting for a volume to be created either by the external provisioner 'example.com\/gluster' or manually by the system administrator/,
    );
    const a = claim("claim-ext")?.metadata.annotations ?? {};
    assert.equal(a["volume.kubernetes.io/storage-provisioner"], "example.com/gluster");
    assert.equal(a["volume.beta.kubernetes.io/storage-provisioner"], "example.com/gluster");
  });

  it("an in-tree plugin k8ts lacks (seed 003's rbd) fails; a migrated one waits for its CSI driver (seed 001's aws-ebs)", async () => {
    await create(classes, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "rbd" },
      provisioner: "kubernetes.io/rbd",
    });
    await create(classes, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "ebs" },
      provisioner: "kubernetes.io/aws-ebs",
    });
    await create(pvcs, manualClaim("claim-rbd", { storageClassName: "rbd" }));
    await create(pvcs, manualClaim("claim-ebs", { storageClassName: "ebs" }));
    assert.equal(
      (await eventFor("claim-rbd", "ProvisioningFailed"))["message"],
      "no volume plugin matched name: kubernetes.io/rbd",
    );
    assert.match(String((await eventFor("claim-ebs", "ExternalProvisioning"))["message"]), /'ebs.csi.aws.com'/);
  });

  it("WaitForFirstConsumer: the claim waits for a pod, then names it", async () => {
    await create(classes, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "late" },
      provisioner: "example.com/late",
      volumeBindingMode: "WaitForFirstConsumer",
    });
    await create(pvcs, manualClaim("claim-late", { storageClassName: "late" }));
    const e = await eventFor("claim-late", "WaitForFirstConsumer");
    assert.equal(e["message"], "waiting for first consumer to be created before binding");
    await create(pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "consumer", namespace: "default" },
      spec: {
        containers: [{ name: "c", image: "busybox" }],
        volumes: [{ name: "v", persistentVolumeClaim: { claimName: "claim-late" } }],
      },
    });
    const w = await eventFor("claim-late", "WaitForPodScheduled");
    assert.equal(w["message"], "waiting for pod default/consumer to be scheduled");
  });

  it("a claim made before any default class gets the default once one exists (retroactive, 1.28+)", async () => {
    await create(pvcs, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "claim-early", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(field(claim("claim-early"), "spec")["storageClassName"], undefined);
    await create(classes, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "gold", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      provisioner: "example.com/gold",
    });
    await until("default class given", () =>
      field(claim("claim-early"), "spec")["storageClassName"] === "gold" ? true : undefined,
    );
    // and admission gives it to new claims directly
    await create(pvcs, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "claim-new", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    assert.equal(field(claim("claim-new"), "spec")["storageClassName"], "gold");
  });

  it("a claim whose volume is deleted is Lost", async () => {
    await create(pvs, hostPathPV("pv-lost", join(scratch, "lost"), "Retain"));
    await create(pvcs, manualClaim("claim-lost", { volumeName: "pv-lost" }));
    await until("bound", () => (phaseOf(volume("pv-lost")) === "Bound" ? true : undefined));
    // an administrator strips the protection and deletes it anyway
    await client.update(pvs, undefined, "pv-lost", "", (o) => {
      o.metadata.finalizers = [];
      return o;
    });
    await client.delete(pvs, undefined, "pv-lost");
    const e = await eventFor("claim-lost", "ClaimLost");
    assert.equal(e["message"], "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
    await until("lost", () => (phaseOf(claim("claim-lost")) === "Lost" ? true : undefined));
  });

  it("expansion is refused unless the class allows it", async () => {
    await create(pvs, hostPathPV("pv-grow", join(scratch, "grow"), "Retain"));
    await create(pvcs, manualClaim("claim-grow", { volumeName: "pv-grow" }));
    await until("bound", () => (phaseOf(claim("claim-grow")) === "Bound" ? true : undefined));
    await assert.rejects(
      client.update(pvcs, "default", "claim-grow", "", (o) => {
        ((o["spec"] as Rec)["resources"] as Rec)["requests"] = { storage: "5Gi" };
        return o;
      }),
      (err: Error) =>
        err.message ===
        'persistentvolumeclaims "claim-grow" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
  });
});
