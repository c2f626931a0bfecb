/** VolumeRestrictions by table: ReadWriteOncePod claims in use, inline disks shared read-write, and preemption's view. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { CycleState, Framework } from "../../src/scheduler/framework.js";
import {
  REASON_DISK_CONFLICT,
  REASON_RWOP_CONFLICT,
  volumeRestrictions,
} from "../../src/scheduler/plugins/volumerestrictions.js";
import { cluster, filterAll, node, pod } from "./helpers.js";

const claims: Record<string, KObject> = {
  "default/solo": {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "solo", namespace: "default" },
    spec: { accessModes: ["ReadWriteOncePod"] },
  },
  "other/solo": {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "solo", namespace: "other" },
    spec: { accessModes: ["ReadWriteOncePod"] },
  },
  "default/shared": {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "shared", namespace: "default" },
    spec: { accessModes: ["ReadWriteOnce"] },
  },
};
const plugin = volumeRestrictions((ns, name) => claims[`${ns}/${name}`]);
const framework = () => new Framework([plugin], []);

const using = (name: string, claimName: string, namespace = "default") =>
  pod(name, { namespace, spec: { volumes: [{ name: "v", persistentVolumeClaim: { claimName } }] } });
const withDisk = (name: string, volume: Record<string, unknown>) =>
  pod(name, { spec: { volumes: [{ name: "d", ...volume }] } });

describe("VolumeRestrictions", () => {
  const cases: Array<{
    name: string;
    incoming: ReturnType<typeof pod>;
    placed: Array<[string, ReturnType<typeof pod>]>;
    want: Record<string, string>;
  }> = [
    {
      name: "a ReadWriteOncePod claim another pod uses rules out every node (preemption may help)",
      incoming: using("b", "solo"),
      placed: [["n1", using("a", "solo")]],
      want: { n1: `Unschedulable: ${REASON_RWOP_CONFLICT}`, n2: `Unschedulable: ${REASON_RWOP_CONFLICT}` },
    },
    {
      name: "a ReadWriteOncePod claim nobody uses",
      incoming: using("b", "solo"),
      placed: [["n1", using("a", "shared")]],
      want: { n1: "", n2: "" },
    },
    {
      name: "a claim of the same name in another namespace is another claim",
      incoming: using("b", "solo"),
      placed: [["n1", using("a", "solo", "other")]],
      want: { n1: "", n2: "" },
    },
    {
      name: "a ReadWriteOnce claim may be shared",
      incoming: using("b", "shared"),
      placed: [["n1", using("a", "shared")]],
      want: { n1: "", n2: "" },
    },
    {
      name: "a missing claim rules the pod out (UnschedulableAndUnresolvable)",
      incoming: using("b", "nope"),
      placed: [],
      want: {
        n1: 'UnschedulableAndUnresolvable: persistentvolumeclaim "nope" not found',
        n2: 'UnschedulableAndUnresolvable: persistentvolumeclaim "nope" not found',
      },
    },
    {
      name: "the same GCE disk read-write on the node: no available disk",
      incoming: withDisk("b", { gcePersistentDisk: { pdName: "pd1" } }),
      placed: [["n1", withDisk("a", { gcePersistentDisk: { pdName: "pd1", readOnly: true } })]],
      want: { n1: `Unschedulable: ${REASON_DISK_CONFLICT}`, n2: "" },
    },
    {
      name: "the same GCE disk read-only by both",
      incoming: withDisk("b", { gcePersistentDisk: { pdName: "pd1", readOnly: true } }),
      placed: [["n1", withDisk("a", { gcePersistentDisk: { pdName: "pd1", readOnly: true } })]],
      want: { n1: "", n2: "" },
    },
    {
      name: "the same EBS volume, even read-only",
      incoming: withDisk("b", { awsElasticBlockStore: { volumeID: "vol-1", readOnly: true } }),
      placed: [["n1", withDisk("a", { awsElasticBlockStore: { volumeID: "vol-1", readOnly: true } })]],
      want: { n1: `Unschedulable: ${REASON_DISK_CONFLICT}`, n2: "" },
    },
    {
      name: "an RBD image behind a shared monitor, pool defaulted",
      incoming: withDisk("b", { rbd: { monitors: ["m1", "m2"], image: "img" } }),
      placed: [["n1", withDisk("a", { rbd: { monitors: ["m2"], pool: "rbd", image: "img" } })]],
      want: { n1: `Unschedulable: ${REASON_DISK_CONFLICT}`, n2: "" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { snap } = cluster([node("n1"), node("n2")], c.placed);
      assert.deepEqual(filterAll(c.incoming, snap, framework()), c.want);
    });
  }

  it("a pod without claims or disks skips the plugin", () => {
    const { snap } = cluster([node("n1")]);
    const state = new CycleState();
    assert.equal(plugin.preFilter?.(state, pod("plain"), snap), "skip");
  });

  it("removing the pod that holds the claim (a preemption dry run) lets the pod in; adding it back does not", () => {
    const holder = using("a", "solo");
    const { snap, cache } = cluster([node("n1")], [["n1", holder]]);
    const incoming = using("b", "solo");
    const fw = framework();
    const state = new CycleState();
    assert.equal(fw.runPreFilter(state, incoming, snap).status, null);
    const n1 = cache.get("n1");
    assert.ok(n1);
    const dry = state.clone();
    const copy = n1.clone();
    copy.removePod(holder.uid);
    fw.runRemovePod(dry, incoming, holder, copy, snap);
    assert.equal(fw.runFilter(fw.activeFilters(dry), dry, incoming, copy), null);
    // the original state still sees the conflict
    assert.equal(fw.runFilter(fw.activeFilters(state), state, incoming, n1)?.reasons[0], REASON_RWOP_CONFLICT);
    fw.runAddPod(dry, incoming, holder, copy, snap);
    assert.equal(fw.runFilter(fw.activeFilters(dry), dry, incoming, copy)?.reasons[0], REASON_RWOP_CONFLICT);
  });
});
