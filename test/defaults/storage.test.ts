import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, defaulted, y } from "./helpers.js";

describe("storage defaults", () => {
  it("a PersistentVolume gets Retain, Filesystem and phase Pending; hostPath type ''", () => {
    const pv = defaulted(`
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec: {capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /mnt/data}}
`);
    assert.deepEqual(
      pv["spec"],
      y(`
capacity: {storage: 10Gi}
accessModes: [ReadWriteOnce]
hostPath: {path: /mnt/data, type: ""}
persistentVolumeReclaimPolicy: Retain
volumeMode: Filesystem
`),
    );
    assert.deepEqual(pv["status"], { phase: "Pending" });
  });

  it("a PersistentVolumeClaim gets volumeMode Filesystem and phase Pending, keeping Block", () => {
    const pvc = defaulted(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`);
    assert.equal(at(pvc, "spec.volumeMode"), "Filesystem");
    assert.deepEqual(pvc["status"], { phase: "Pending" });
    const block = defaulted(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: raw}
spec: {volumeMode: Block}
`);
    assert.equal(at(block, "spec.volumeMode"), "Block");
  });

  it("a StorageClass gets reclaimPolicy Delete and volumeBindingMode Immediate", () => {
    const sc = defaulted(`
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: standard}
provisioner: rancher.io/local-path
`);
    assert.equal(sc["reclaimPolicy"], "Delete");
    assert.equal(sc["volumeBindingMode"], "Immediate");
    const wffc = defaulted(`
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local}
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
`);
    assert.equal(wffc["reclaimPolicy"], "Retain");
    assert.equal(wffc["volumeBindingMode"], "WaitForFirstConsumer");
  });

  it("a CSIDriver gets every spec default", () => {
    const driver = defaulted(`
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: hostpath.csi.k8s.io}
spec: {}
`);
    assert.deepEqual(
      driver["spec"],
      y(`
attachRequired: true
podInfoOnMount: false
storageCapacity: false
fsGroupPolicy: ReadWriteOnceWithFSType
volumeLifecycleModes: [Persistent]
requiresRepublish: false
seLinuxMount: false
`),
    );
  });

  it("a VolumeAttachment's inline PV spec gets volume-source defaults", () => {
    const va = defaulted(`
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata: {name: va}
spec: {attacher: a, nodeName: n, source: {inlineVolumeSpec: {hostPath: {path: /x}}}}
`);
    assert.deepEqual(at(va, "spec.source.inlineVolumeSpec.hostPath"), { path: "/x", type: "" });
  });
});

describe("core object defaults", () => {
  it("a Namespace gets the kubernetes.io/metadata.name label and phase Active", () => {
    const ns = defaulted(`
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {owner: me, kubernetes.io/metadata.name: wrong}}
`);
    assert.deepEqual(at(ns, "metadata.labels"), { owner: "me", "kubernetes.io/metadata.name": "team-a" });
    assert.deepEqual(ns["status"], { phase: "Active" });
  });

  it("a Secret gets type Opaque unless typed", () => {
    assert.equal(defaulted("{apiVersion: v1, kind: Secret, metadata: {name: s}}")["type"], "Opaque");
    assert.equal(
      defaulted("{apiVersion: v1, kind: Secret, metadata: {name: s}, type: kubernetes.io/tls}")["type"],
      "kubernetes.io/tls",
    );
  });

  it("a Node's allocatable defaults to its capacity", () => {
    const node = defaulted(`
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
`);
    assert.deepEqual(at(node, "status.allocatable"), { cpu: "4", memory: "8Gi", pods: "110" });
  });

  it("a LimitRange Container item: default from max, defaultRequest from default then min", () => {
    const lr = defaulted(`
apiVersion: v1
kind: LimitRange
metadata: {name: lr}
spec:
  limits:
  - type: Container
    max: {cpu: "2", memory: 1Gi}
    min: {cpu: 100m, ephemeral-storage: 1Gi}
    default: {memory: 512Mi}
  - type: Pod
    max: {cpu: "4"}
`);
    assert.deepEqual(
      at(lr, "spec.limits"),
      y(`
- type: Container
  max: {cpu: "2", memory: 1Gi}
  min: {cpu: 100m, ephemeral-storage: 1Gi}
  default: {memory: 512Mi, cpu: "2"}
  defaultRequest: {memory: 512Mi, cpu: "2", ephemeral-storage: 1Gi}
- type: Pod
  max: {cpu: "4"}
`),
    );
  });

  it("a ResourceQuota's hard quantities are written canonically", () => {
    const rq = defaulted(`
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec: {hard: {requests.cpu: "0.5", pods: 10}}
`);
    assert.deepEqual(at(rq, "spec.hard"), { "requests.cpu": "500m", pods: "10" });
  });

  const untouched = [
    "{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}",
    "{apiVersion: v1, kind: ServiceAccount, metadata: {name: sa}}",
    "{apiVersion: coordination.k8s.io/v1, kind: Lease, metadata: {name: l}, spec: {holderIdentity: x}}",
    "{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: p}, spec: {minAvailable: 1}}",
    "{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: r}, rules: []}",
    "{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {size: 1}}",
  ];
  for (const manifest of untouched) {
    it(`${manifest} has no defaults`, () => {
      assert.deepEqual(defaulted(manifest), y(manifest));
    });
  }
});
