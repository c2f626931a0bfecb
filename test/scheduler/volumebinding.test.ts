/**
 * VolumeBinding and VolumeRestrictions in the running Scheduler, on a real API server with the PV
 * controller and the k8ts.io/local-path provisioner: where pods with claims land, how their
 * claims get bound (static volumes by the scheduler, new volumes through selected-node and a
 * provisioner), and the FailedScheduling text when nothing fits. Every test has its own nodes,
 * classes and claims.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_LOCAL_PATH_ROOT,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimRefOf,
  specOf,
  volumeNodeTerms,
} from "../../src/api/storage.js";
import { isRecord, type KObject } from "../../src/api/types.js";
import type { WatchStream } from "../../src/apiserver/rest.js";
import { LocalClient } from "../../src/controllers/client.js";
import { claimBinding } from "../../src/scheduler/claimbinding.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { until } from "../controllers/support.js";
import { startCluster, type TestCluster } from "../e2e/harness.js";

type Rec = Record<string, unknown>;

const hostAffinity = (host: string) => ({
  required: {
    nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [host] }] }],
  },
});

describe("VolumeBinding in the scheduler (live API server)", () => {
  let cluster: TestCluster;
  let client: LocalClient;
  let scheduler: Scheduler | undefined;
  const closers: Array<() => void> = [];
  const r = {
    pods: () => client.resource("", "v1", "pods"),
    pvcs: () => client.resource("", "v1", "persistentvolumeclaims"),
    pvs: () => client.resource("", "v1", "persistentvolumes"),
    classes: () => client.resource("storage.k8s.io", "v1", "storageclasses"),
    nodes: () => client.resource("", "v1", "nodes"),
    events: () => client.resource("", "v1", "events"),
  };

  const mkNode = async (
    name: string,
    o: { labels?: Record<string, string>; ephemeral?: string; root?: boolean } = {},
  ) => {
    await client.ensure(r.nodes(), {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        labels: { "kubernetes.io/hostname": name, ...o.labels },
        ...(o.root ? { annotations: { [ANN_LOCAL_PATH_ROOT]: `/var/lib/k8ts-test/${name}` } } : {}),
      },
      spec: {},
    });
    const res = { cpu: "4", memory: "8Gi", pods: "110", "ephemeral-storage": o.ephemeral ?? "100Gi" };
    await client.update(r.nodes(), undefined, name, "status", (n) => {
      n["status"] = { capacity: res, allocatable: res, conditions: [{ type: "Ready", status: "True" }] };
      return n;
    });
  };
  const mkClass = (name: string, provisioner: string, extra: Rec = {}) =>
    client.ensure(r.classes(), {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name },
      provisioner,
      volumeBindingMode: "WaitForFirstConsumer",
      ...extra,
    });
  const mkVolume = (name: string, o: { cls: string; size?: string; host?: string; modes?: string[] }) =>
    client.ensure(r.pvs(), {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name },
      spec: {
        capacity: { storage: o.size ?? "10Gi" },
        accessModes: o.modes ?? ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: o.cls,
        hostPath: { path: `/tmp/${name}` },
        ...(o.host ? { nodeAffinity: hostAffinity(o.host) } : {}),
      },
    });
  const mkClaim = (name: string, o: { cls: string; size?: string; volumeName?: string; modes?: string[] }) =>
    client.ensure(r.pvcs(), {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name, namespace: "default" },
      spec: {
        accessModes: o.modes ?? ["ReadWriteOnce"],
        resources: { requests: { storage: o.size ?? "1Gi" } },
        storageClassName: o.cls,
        ...(o.volumeName ? { volumeName: o.volumeName } : {}),
      },
    });
  const mkPod = (name: string, claims: string[]) =>
    client.ensure(r.pods(), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: {
        containers: [{ name: "c", image: "registry.k8s.io/pause:3.9" }],
        volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
      },
    });
  const claimOf = (name: string) => client.get(r.pvcs(), "default", name);
  const volumeOf = (name: string) => client.get(r.pvs(), undefined, name);
  const nodeOf = (pod: string) => {
    const n = specOf(client.get(r.pods(), "default", pod) ?? { metadata: {} })["nodeName"];
    return typeof n === "string" && n !== "" ? n : undefined;
  };
  const failures = async (pod: string): Promise<string[]> =>
    (await client.list(r.events(), "default"))
      .map((c) => c.obj)
      .filter(
        (e) =>
          isRecord(e["involvedObject"]) && e["involvedObject"]["name"] === pod && e["reason"] === "FailedScheduling",
      )
      .map((e) => String(e["message"]));
  const failedWith = (pod: string, text: string) =>
    until(`FailedScheduling for ${pod} with ${text}`, async () => (await failures(pod)).find((m) => m.includes(text)));
  const boundTo = (pod: string) => until(`${pod} bound`, () => nodeOf(pod));
  const claimBound = (name: string) =>
    until(`claim ${name} bound`, () => {
      const c = claimOf(name);
      return c?.metadata.annotations?.[ANN_BIND_COMPLETED] !== undefined ? c : undefined;
    });
  const startScheduler = (bindTimeoutSeconds = 30) => {
    scheduler = new Scheduler(client, {
      volumeBinding: claimBinding(client, { bindTimeoutSeconds }),
      podInitialBackoffSeconds: 0.05,
      podMaxBackoffSeconds: 0.2,
    });
    scheduler.start();
  };
  /** A provisioner as the external-provisioner protocol has it, played by the test: `act` sees each claim asking for `name` on a node. */
  const simulateProvisioner = (
    name: string,
    act: (claim: KObject, node: string) => "provision" | "refuse" | "wait",
  ) => {
    const made = new Set<string>();
    const w: WatchStream = client.informer(r.pvcs(), (claim, deleted) => {
      const node = claim.metadata.annotations?.[ANN_SELECTED_NODE];
      const uid = claim.metadata.uid ?? "";
      if (deleted || node === undefined || made.has(uid) || specOf(claim)["volumeName"]) return;
      if (claim.metadata.annotations?.[ANN_STORAGE_PROVISIONER] !== name) return;
      const what = act(claim, node);
      if (what === "wait") return;
      if (what === "refuse") {
        void client.update(r.pvcs(), "default", claim.metadata.name ?? "", "", (c) => {
          if (c.metadata.annotations) delete c.metadata.annotations[ANN_SELECTED_NODE];
          return c;
        });
        return;
      }
      made.add(uid);
      const req = specOf(claim)["resources"];
      const storage = isRecord(req) && isRecord(req["requests"]) ? req["requests"]["storage"] : "1Gi";
      void client.ensure(r.pvs(), {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: `pvc-${uid}`, annotations: { "pv.kubernetes.io/provisioned-by": name } },
        spec: {
          capacity: { storage },
          accessModes: specOf(claim)["accessModes"],
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: specOf(claim)["storageClassName"],
          hostPath: { path: `/tmp/pvc-${uid}` },
          nodeAffinity: hostAffinity(node),
          claimRef: {
            kind: "PersistentVolumeClaim",
            apiVersion: "v1",
            namespace: "default",
            name: claim.metadata.name,
            uid,
          },
        },
      });
    });
    closers.push(() => w.stop());
  };

  before(async () => {
    // no node agent reports here: the node lifecycle controller would taint the test's nodes
    cluster = await startCluster({ store: "memory", scheduler: false, controllers: ["*", "-nodelifecycle"] });
    client = new LocalClient(cluster.server.api.catalog, cluster.server.api.registry);
  });
  afterEach(async () => {
    scheduler?.stop();
    scheduler = undefined;
    for (const close of closers.splice(0)) close();
    for (const c of await client.list(r.pods())) {
      await client.delete(r.pods(), c.obj.metadata.namespace, c.obj.metadata.name ?? "", { gracePeriodSeconds: 0 });
    }
    for (const c of await client.list(r.nodes())) await client.delete(r.nodes(), undefined, c.obj.metadata.name ?? "");
  });
  after(async () => {
    await cluster?.stop();
  });

  it("a bound claim's volume pinned to one node takes the pod there; pinned nowhere, a volume node affinity conflict", async () => {
    await mkNode("t1-a");
    await mkNode("t1-b");
    await mkVolume("t1-on-b", { cls: "t1-manual", host: "t1-b" });
    await mkClaim("t1-c", { cls: "t1-manual", volumeName: "t1-on-b" });
    await mkVolume("t1-on-gone", { cls: "t1-manual", host: "t1-gone" });
    await mkClaim("t1-lost", { cls: "t1-manual", volumeName: "t1-on-gone" });
    await claimBound("t1-c");
    await claimBound("t1-lost");
    startScheduler();
    await mkPod("t1-p", ["t1-c"]);
    await mkPod("t1-nowhere", ["t1-lost"]);
    assert.equal(await boundTo("t1-p"), "t1-b");
    const msg = await failedWith("t1-nowhere", "0/2 nodes are available");
    assert.equal(
      msg,
      "0/2 nodes are available: 2 node(s) had volume node affinity conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  it("an unbound WaitForFirstConsumer claim gets the static volume usable on the chosen node, bound as the PV controller binds", async () => {
    await mkNode("t2-a");
    await mkNode("t2-b");
    await mkClass("t2", "kubernetes.io/no-provisioner");
    await mkVolume("t2-small-on-b", { cls: "t2", size: "1Gi", host: "t2-b" });
    await mkVolume("t2-big-on-a", { cls: "t2", size: "20Gi", host: "t2-a" });
    await mkClaim("t2-c", { cls: "t2", size: "5Gi" });
    startScheduler();
    await mkPod("t2-p", ["t2-c"]);
    assert.equal(await boundTo("t2-p"), "t2-a");
    const claim = await claimBound("t2-c");
    assert.equal(specOf(claim)["volumeName"], "t2-big-on-a");
    const pv = volumeOf("t2-big-on-a");
    assert.ok(pv);
    assert.equal(claimRefOf(pv)?.uid, claim.metadata.uid);
    assert.equal(pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER], "yes");
    assert.equal(claim.metadata.annotations?.[ANN_SELECTED_NODE], undefined);
  });

  it("two pods scheduled back to back never get the same volume", async () => {
    await mkNode("t3-a");
    await mkNode("t3-b");
    await mkClass("t3", "kubernetes.io/no-provisioner");
    await mkVolume("t3-only", { cls: "t3", host: "t3-a" });
    await mkClaim("t3-c1", { cls: "t3" });
    await mkClaim("t3-c2", { cls: "t3" });
    await until("volume Available", () =>
      (volumeOf("t3-only")?.["status"] as Rec | undefined)?.["phase"] === "Available" ? true : undefined,
    );
    await mkPod("t3-p1", ["t3-c1"]);
    await mkPod("t3-p2", ["t3-c2"]);
    // both are in the queue when the scheduler starts: the second is decided while the first binds
    startScheduler();
    const winner = await until("one bound", () => (nodeOf("t3-p1") ? "t3-p1" : nodeOf("t3-p2") ? "t3-p2" : undefined));
    const loser = winner === "t3-p1" ? "t3-p2" : "t3-p1";
    assert.equal(nodeOf(winner), "t3-a");
    const msg = await failedWith(loser, "0/2 nodes are available");
    assert.equal(
      msg,
      "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    assert.equal(nodeOf(loser), undefined);
    // the loser was refused by the filter, never let through to fail at PreBind
    assert.deepEqual(
      (await failures(loser)).filter((m) => m.includes("PreBind")),
      [],
    );
  });

  it("provisioning: the claim gets the node (within allowedTopologies), and the pod binds once the provisioner's volume is bound", async () => {
    await mkNode("t4-a", { labels: { zone: "z1" } });
    await mkNode("t4-b", { labels: { zone: "z2" } });
    await mkClass("t4", "example.com/sim", {
      allowedTopologies: [{ matchLabelExpressions: [{ key: "zone", values: ["z2"] }] }],
    });
    simulateProvisioner("example.com/sim", () => "provision");
    await mkClaim("t4-c", { cls: "t4", size: "2Gi" });
    startScheduler();
    await mkPod("t4-p", ["t4-c"]);
    assert.equal(await boundTo("t4-p"), "t4-b");
    const claim = await claimBound("t4-c");
    assert.equal(claim.metadata.annotations?.[ANN_SELECTED_NODE], "t4-b");
    assert.equal(specOf(claim)["volumeName"], `pvc-${claim.metadata.uid}`);
  });

  it("a provisioner that gives the node up fails the attempt; the next one binds", async () => {
    await mkNode("t5-a");
    await mkClass("t5", "example.com/fickle");
    let refused = 0;
    simulateProvisioner("example.com/fickle", () => (refused++ === 0 ? "refuse" : "provision"));
    await mkClaim("t5-c", { cls: "t5" });
    startScheduler();
    await mkPod("t5-p", ["t5-c"]);
    assert.equal(await boundTo("t5-p"), "t5-a");
    assert.deepEqual(
      (await failures("t5-p")).filter((m) => m.includes("PreBind")),
      ['running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "t5-c"'],
    );
  });

  it("a provisioner that never answers: the attempt fails when the bind timeout passes", async () => {
    await mkNode("t8-a");
    await mkClass("t8", "example.com/nobody");
    await mkClaim("t8-c", { cls: "t8" });
    startScheduler(0.3);
    await mkPod("t8-p", ["t8-c"]);
    await failedWith("t8-p", 'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded');
    assert.equal(nodeOf("t8-p"), undefined);
    assert.equal(claimOf("t8-c")?.metadata.annotations?.[ANN_SELECTED_NODE], "t8-a");
  });

  it("local-path: the pod goes where the claim fits, and a claim that fits nowhere is not enough free storage", async () => {
    await mkNode("t6-small", { ephemeral: "2Gi", root: true });
    await mkNode("t6-big", { ephemeral: "20Gi", root: true });
    await mkNode("t6-bare", { ephemeral: "100Gi" });
    await mkClass("t6", "k8ts.io/local-path");
    await mkClaim("t6-five", { cls: "t6", size: "5Gi" });
    startScheduler();
    await mkPod("t6-p", ["t6-five"]);
    assert.equal(await boundTo("t6-p"), "t6-big");
    const claim = await claimBound("t6-five");
    const pv = volumeOf(String(specOf(claim)["volumeName"]));
    assert.ok(pv);
    assert.deepEqual(volumeNodeTerms(pv), hostAffinity("t6-big").required.nodeSelectorTerms);
    // 15Gi are left on t6-big
    await mkClaim("t6-eighteen", { cls: "t6", size: "18Gi" });
    await mkPod("t6-q", ["t6-eighteen"]);
    assert.equal(
      await failedWith("t6-q", "0/3 nodes are available"),
      "0/3 nodes are available: 3 node(s) did not have enough free storage. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("a ReadWriteOncePod claim in use keeps a second pod off until the first is gone", async () => {
    await mkNode("t7-a");
    await mkVolume("t7-pv", { cls: "t7-manual", modes: ["ReadWriteOncePod"] });
    await mkClaim("t7-c", { cls: "t7-manual", volumeName: "t7-pv", modes: ["ReadWriteOncePod"] });
    await claimBound("t7-c");
    startScheduler();
    await mkPod("t7-first", ["t7-c"]);
    assert.equal(await boundTo("t7-first"), "t7-a");
    await mkPod("t7-second", ["t7-c"]);
    assert.equal(
      await failedWith("t7-second", "0/1 nodes are available"),
      "0/1 nodes are available: 1 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
    await client.delete(r.pods(), "default", "t7-first", { gracePeriodSeconds: 0 });
    assert.equal(await boundTo("t7-second"), "t7-a");
  });
});
