/** The scheduler's claim checks (upstream VolumeBinding PreFilter), by table. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { claimsVerdict, podClaimNames } from "../../src/scheduler/claimbinding.js";

const pod: KObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-0", namespace: "default" },
  spec: {
    volumes: [
      { name: "www", persistentVolumeClaim: { claimName: "www-web-0" } },
      { name: "tmp", emptyDir: {} },
    ],
  },
};
const claim = (o: { volumeName?: string; cls?: string; deleting?: boolean } = {}): KObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name: "www-web-0", ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  spec: {
    ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
    ...(o.volumeName ? { volumeName: o.volumeName } : {}),
  },
});
const classes: Record<string, KObject> = {
  later: {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "later" },
    volumeBindingMode: "WaitForFirstConsumer",
  },
  now: {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "now" },
    volumeBindingMode: "Immediate",
  },
};

describe("claims and scheduling", () => {
  it("names the pod's claims, generic ephemeral ones as <pod>-<volume>", () => {
    assert.deepEqual(podClaimNames(pod), ["www-web-0"]);
    const eph = { ...pod, spec: { volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: {} } }] } };
    assert.deepEqual(podClaimNames(eph), ["web-0-scratch"]);
  });
  const cases: Array<[string, KObject | undefined, string | undefined]> = [
    ["a missing claim", undefined, 'persistentvolumeclaim "www-web-0" not found'],
    [
      "a claim being deleted",
      claim({ deleting: true, volumeName: "pv1" }),
      'persistentvolumeclaim "www-web-0" is being deleted',
    ],
    ["an unbound claim without a class (seed 002)", claim(), "pod has unbound immediate PersistentVolumeClaims"],
    [
      "an unbound claim of an Immediate class",
      claim({ cls: "now" }),
      "pod has unbound immediate PersistentVolumeClaims",
    ],
    ["an unbound claim of a WaitForFirstConsumer class", claim({ cls: "later" }), undefined],
    ["a bound claim", claim({ volumeName: "pv1" }), undefined],
  ];
  for (const [what, c, want] of cases) {
    it(what, () => {
      const v = claimsVerdict(
        pod,
        () => c,
        (n) => classes[n],
      );
      assert.equal(v?.reasons[0], want);
      if (want) assert.equal(v?.unresolvable, true);
    });
  }
});
