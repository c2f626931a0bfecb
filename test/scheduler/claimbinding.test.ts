/**
 * The scheduler's VolumeBinding hook by table: which claims rule a pod out before filtering
 * (upstream podHasPVCs / GetPodVolumeClaims), what a node offers the pod's claims (FindPodVolumes),
 * how a volume is bound to a claim (GetBindVolumeToClaim), and — on a live registry — what
 * Reserve holds for the next pod until Unreserve.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_LOCAL_PATH_ROOT,
  ANN_SELECTED_NODE,
  topologyAdmits,
} from "../../src/api/storage.js";
import type { KObject } from "../../src/api/types.js";
import { bindVolumeToClaim, VolumeIndex } from "../../src/controllers/volume/persistentvolume/match.js";
import {
  claimBinding,
  claimsVerdict,
  findPodVolumes,
  type PodClaims,
  podClaimNames,
  podVolumeClaims,
  REASON_BIND_CONFLICT,
  REASON_NODE_CONFLICT,
  REASON_NOT_ENOUGH_SPACE,
  REASON_PV_NOT_EXIST,
  type VolumeView,
} from "../../src/scheduler/claimbinding.js";
import type { VolumeBinding } from "../../src/scheduler/plugins/volumebinding.js";
import { liveRegistry } from "../controllers/support.js";

type Rec = Record<string, unknown>;

const pod: KObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-0", namespace: "default", uid: "pod-uid" },
  spec: {
    volumes: [
      { name: "www", persistentVolumeClaim: { claimName: "www-web-0" } },
      { name: "tmp", emptyDir: {} },
    ],
  },
};
const claim = (
  o: { volumeName?: string; cls?: string; deleting?: boolean; completed?: boolean; phase?: string } = {},
): KObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: {
    name: "www-web-0",
    ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    ...(o.completed ? { annotations: { [ANN_BIND_COMPLETED]: "yes" } } : {}),
  },
  spec: {
    ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
    ...(o.volumeName ? { volumeName: o.volumeName } : {}),
  },
  ...(o.phase ? { status: { phase: o.phase } } : {}),
});
const classes: Record<string, KObject> = {
  later: {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "later" },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "WaitForFirstConsumer",
  },
  now: {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "now" },
    volumeBindingMode: "Immediate",
  },
  made: {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "made" },
    provisioner: "example.com/maker",
    volumeBindingMode: "WaitForFirstConsumer",
  },
  zoned: {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "zoned" },
    provisioner: "example.com/maker",
    volumeBindingMode: "WaitForFirstConsumer",
    allowedTopologies: [{ matchLabelExpressions: [{ key: "zone", values: ["a"] }] }],
  },
  local: {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "local" },
    provisioner: "k8ts.io/local-path",
    volumeBindingMode: "WaitForFirstConsumer",
  },
};

describe("claims before filtering (PreFilter)", () => {
  it("names the pod's claims, generic ephemeral ones as <pod>-<volume>", () => {
    assert.deepEqual(podClaimNames(pod), ["www-web-0"]);
    const eph = { ...pod, spec: { volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: {} } }] } };
    assert.deepEqual(podClaimNames(eph), ["web-0-scratch"]);
  });
  const cases: Array<[string, KObject | undefined, string | undefined]> = [
    ["a missing claim", undefined, 'persistentvolumeclaim "www-web-0" not found'],
    [
      "a claim being deleted",
      claim({ deleting: true, volumeName: "pv1", completed: true }),
      'persistentvolumeclaim "www-web-0" is being deleted',
    ],
    [
      "a Lost claim",
      claim({ volumeName: "gone", completed: true, phase: "Lost" }),
      'persistentvolumeclaim "www-web-0" bound to non-existent persistentvolume "gone"',
    ],
    ["an unbound claim without a class (seed 002)", claim(), "pod has unbound immediate PersistentVolumeClaims"],
    [
      "an unbound claim of an Immediate class",
      claim({ cls: "now" }),
      "pod has unbound immediate PersistentVolumeClaims",
    ],
    [
      "a claim naming its volume before the PV controller finished binding it",
      claim({ cls: "later", volumeName: "pv1" }),
      "pod has unbound immediate PersistentVolumeClaims",
    ],
    ["an unbound claim of a WaitForFirstConsumer class", claim({ cls: "later" }), undefined],
    ["a bound claim", claim({ volumeName: "pv1", completed: true }), undefined],
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
  it("a generic ephemeral claim must exist and belong to the pod", () => {
    const eph: KObject = { ...pod, spec: { volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: {} } }] } };
    const missing = claimsVerdict(
      eph,
      () => undefined,
      () => undefined,
    );
    assert.equal(
      missing?.reasons[0],
      'waiting for ephemeral volume controller to create the persistentvolumeclaim "web-0-scratch"',
    );
    const foreign: KObject = {
      ...claim({ cls: "later" }),
      metadata: { name: "web-0-scratch", namespace: "default", ownerReferences: [] },
    };
    const notOwned = claimsVerdict(
      eph,
      () => foreign,
      (n) => classes[n],
    );
    assert.equal(
      notOwned?.reasons[0],
      "PVC default/web-0-scratch was not created for pod default/web-0 (pod is not owner)",
    );
    const owned: KObject = {
      ...foreign,
      metadata: {
        ...foreign.metadata,
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "web-0", uid: "pod-uid", controller: true }],
      },
    };
    assert.equal(
      claimsVerdict(
        eph,
        () => owned,
        (n) => classes[n],
      ),
      undefined,
    );
  });
});

// ---- per node ----

function pv(name: string, o: { size?: string; cls?: string; host?: string; phase?: string; spec?: Rec } = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: o.size ?? "10Gi" },
      accessModes: ["ReadWriteOnce"],
      volumeMode: "Filesystem",
      storageClassName: o.cls ?? "later",
      ...(o.host
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [o.host] }] },
                ],
              },
            },
          }
        : {}),
      ...o.spec,
    },
    status: { phase: o.phase ?? "Available" },
  };
}

function pvc(name: string, o: { size?: string; cls?: string; volumeName?: string; annotations?: Rec } = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      annotations: { ...(o.volumeName ? { [ANN_BIND_COMPLETED]: "yes" } : {}), ...(o.annotations as Rec) } as Record<
        string,
        string
      >,
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: o.size ?? "1Gi" } },
      volumeMode: "Filesystem",
      storageClassName: o.cls ?? "later",
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
  };
}

const node = (name: string, labels: Record<string, string> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
});

function viewOf(volumes: KObject[], free: Record<string, bigint> = {}): VolumeView {
  const index = new VolumeIndex();
  for (const v of volumes) index.upsert(v);
  return {
    volume: (n) => index.get(n),
    storageClass: (n) => classes[n],
    match: (c, n, excluded) => index.findBestMatch(c, { node: n, excluded, delayBinding: true }),
    localPathFree: (n) => free[n.metadata.name ?? ""],
  };
}

const GI = 1024n ** 3n;

describe("what a node offers the pod's claims (FindPodVolumes)", () => {
  const cases: Array<{
    name: string;
    claims: PodClaims;
    volumes?: KObject[];
    node: KObject;
    free?: Record<string, bigint>;
    reasons: string[];
    bind?: Record<string, string>;
    provision?: string[];
  }> = [
    {
      name: "a bound claim whose volume is pinned to the node fits",
      claims: { bound: [pvc("c", { volumeName: "pv-n1" })], delayed: [] },
      volumes: [pv("pv-n1", { host: "n1", phase: "Bound" })],
      node: node("n1"),
      reasons: [],
    },
    {
      name: "a bound claim whose volume is pinned elsewhere: volume node affinity conflict",
      claims: { bound: [pvc("c", { volumeName: "pv-n1" })], delayed: [] },
      volumes: [pv("pv-n1", { host: "n1", phase: "Bound" })],
      node: node("n2"),
      reasons: [REASON_NODE_CONFLICT],
    },
    {
      name: "a bound claim whose volume is gone",
      claims: { bound: [pvc("c", { volumeName: "gone" })], delayed: [] },
      node: node("n1"),
      reasons: [REASON_PV_NOT_EXIST],
    },
    {
      name: "a WaitForFirstConsumer claim takes the Available volume pinned to this node",
      claims: { bound: [], delayed: [pvc("c")] },
      volumes: [pv("pv-n1", { host: "n1" }), pv("pv-n2", { host: "n2" })],
      node: node("n2"),
      reasons: [],
      bind: { c: "pv-n2" },
    },
    {
      name: "no volume on the node and a class without a provisioner: no volumes to bind",
      claims: { bound: [], delayed: [pvc("c")] },
      volumes: [pv("pv-n1", { host: "n1" })],
      node: node("n3"),
      reasons: [REASON_BIND_CONFLICT],
    },
    {
      name: "two claims of the pod never take the same volume",
      claims: { bound: [], delayed: [pvc("a"), pvc("b")] },
      volumes: [pv("only", { host: "n1" })],
      node: node("n1"),
      reasons: [REASON_BIND_CONFLICT],
    },
    {
      name: "two claims of the pod take two volumes, the smaller claim first",
      claims: { bound: [], delayed: [pvc("small", { size: "1Gi" }), pvc("large", { size: "8Gi" })] },
      volumes: [pv("v2", { host: "n1", size: "2Gi" }), pv("v10", { host: "n1", size: "10Gi" })],
      node: node("n1"),
      reasons: [],
      bind: { small: "v2", large: "v10" },
    },
    {
      name: "a class with a provisioner provisions where no volume matches",
      claims: { bound: [], delayed: [pvc("c", { cls: "made" })] },
      node: node("n1"),
      reasons: [],
      provision: ["c"],
    },
    {
      name: "allowedTopologies that leave the node out: no volumes to bind",
      claims: { bound: [], delayed: [pvc("c", { cls: "zoned" })] },
      node: node("n1", { zone: "b" }),
      reasons: [REASON_BIND_CONFLICT],
    },
    {
      name: "allowedTopologies that admit the node",
      claims: { bound: [], delayed: [pvc("c", { cls: "zoned" })] },
      node: node("n1", { zone: "a" }),
      reasons: [],
      provision: ["c"],
    },
    {
      name: "a claim being provisioned for another node fits no other node",
      claims: { bound: [], delayed: [pvc("c", { cls: "made", annotations: { [ANN_SELECTED_NODE]: "n2" } })] },
      node: node("n1"),
      reasons: [REASON_BIND_CONFLICT],
    },
    {
      name: "local-path: the claim fits in what the node has left",
      claims: { bound: [], delayed: [pvc("c", { cls: "local", size: "5Gi" })] },
      node: node("n1"),
      free: { n1: 5n * GI },
      reasons: [],
      provision: ["c"],
    },
    {
      name: "local-path: a claim larger than what the node has left",
      claims: { bound: [], delayed: [pvc("c", { cls: "local", size: "6Gi" })] },
      node: node("n1"),
      free: { n1: 5n * GI },
      reasons: [REASON_NOT_ENOUGH_SPACE],
    },
    {
      name: "local-path: two claims that fit alone but not together",
      claims: {
        bound: [],
        delayed: [pvc("a", { cls: "local", size: "3Gi" }), pvc("b", { cls: "local", size: "3Gi" })],
      },
      node: node("n1"),
      free: { n1: 5n * GI },
      reasons: [REASON_NOT_ENOUGH_SPACE],
    },
    {
      name: "local-path: a node that offers no local-path volumes",
      claims: { bound: [], delayed: [pvc("c", { cls: "local" })] },
      node: node("n1"),
      reasons: [REASON_NOT_ENOUGH_SPACE],
    },
    {
      name: "reasons add up: a node affinity conflict and no volumes to bind",
      claims: { bound: [pvc("b", { volumeName: "pv-n1" })], delayed: [pvc("c")] },
      volumes: [pv("pv-n1", { host: "n1", phase: "Bound" })],
      node: node("n2"),
      reasons: [REASON_NODE_CONFLICT, REASON_BIND_CONFLICT],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const own = new Set([...c.claims.bound, ...c.claims.delayed].map((x) => `default/${x.metadata.name}`));
      const r = findPodVolumes(c.claims, c.node, viewOf(c.volumes ?? [], c.free), own);
      assert.deepEqual(r.reasons, c.reasons);
      if (c.reasons.length > 0) return;
      const bind = Object.fromEntries(r.volumes.staticBindings.map((b) => [b.claim.metadata.name, b.pv.metadata.name]));
      assert.deepEqual(bind, c.bind ?? {});
      assert.deepEqual(
        r.volumes.provisions.map((p) => p.claim.metadata.name),
        c.provision ?? [],
      );
    });
  }

  it("sorts the WaitForFirstConsumer claims by request, smallest first", () => {
    const p: KObject = {
      ...pod,
      spec: {
        volumes: ["big", "small"].map((n) => ({ name: n, persistentVolumeClaim: { claimName: n } })),
      },
    };
    const claims: Record<string, KObject> = {
      big: pvc("big", { size: "8Gi" }),
      small: pvc("small", { size: "1Gi" }),
    };
    const r = podVolumeClaims(
      p,
      (n) => claims[n],
      (n) => classes[n],
    );
    assert.ok("claims" in r);
    assert.deepEqual(
      r.claims.delayed.map((x) => x.metadata.name),
      ["small", "big"],
    );
  });
});

describe("binding a volume to a claim (GetBindVolumeToClaim)", () => {
  it("an unclaimed volume gets the claim's reference with its uid, and bound-by-controller", () => {
    const { pv: out, dirty } = bindVolumeToClaim(pv("v"), pvc("c"));
    assert.equal(dirty, true);
    assert.deepEqual((out["spec"] as Rec)["claimRef"], {
      kind: "PersistentVolumeClaim",
      namespace: "default",
      name: "c",
      uid: "uid-c",
      apiVersion: "v1",
      resourceVersion: undefined,
    });
    assert.equal(out.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER], "yes");
  });
  it("a volume an administrator pre-bound to the claim gets the uid, not bound-by-controller", () => {
    const pre = pv("v", { spec: { claimRef: { namespace: "default", name: "c" } } });
    const { pv: out, dirty } = bindVolumeToClaim(pre, pvc("c"));
    assert.equal(dirty, true);
    assert.equal(((out["spec"] as Rec)["claimRef"] as Rec)["uid"], "uid-c");
    assert.equal(out.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER], undefined);
  });
  it("binding twice changes nothing the second time, and leaves the input alone", () => {
    const before = pv("v");
    const once = bindVolumeToClaim(before, pvc("c")).pv;
    assert.equal((before["spec"] as Rec)["claimRef"], undefined);
    assert.equal(bindVolumeToClaim(once, pvc("c")).dirty, false);
  });
});

describe("allowedTopologies (MatchTopologySelectorTerms)", () => {
  const cases: Array<[string, unknown, Record<string, string>, boolean]> = [
    ["no terms admit every node", undefined, {}, true],
    [
      "a term whose values hold the node's label",
      [{ matchLabelExpressions: [{ key: "z", values: ["a", "b"] }] }],
      { z: "b" },
      true,
    ],
    ["a label with another value", [{ matchLabelExpressions: [{ key: "z", values: ["a"] }] }], { z: "b" }, false],
    ["a node without the label", [{ matchLabelExpressions: [{ key: "z", values: ["a"] }] }], {}, false],
    ["an empty term admits nothing", [{ matchLabelExpressions: [] }], { z: "a" }, false],
    [
      "any of several terms",
      [
        { matchLabelExpressions: [{ key: "z", values: ["a"] }] },
        { matchLabelExpressions: [{ key: "r", values: ["x"] }] },
      ],
      { r: "x" },
      true,
    ],
  ];
  for (const [what, terms, labels, want] of cases) it(what, () => assert.equal(topologyAdmits(terms, labels), want));
});

// ---- reserve and unreserve on a live registry ----

describe("what Reserve holds for the next pod (live registry)", () => {
  const live = liveRegistry();
  const c = live.client;
  let hook: VolumeBinding;
  const r = {
    pvs: () => c.resource("", "v1", "persistentvolumes"),
    pvcs: () => c.resource("", "v1", "persistentvolumeclaims"),
    classes: () => c.resource("storage.k8s.io", "v1", "storageclasses"),
    nodes: () => c.resource("", "v1", "nodes"),
  };
  const podUsing = (name: string, claimName: string): KObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { volumes: [{ name: "v", persistentVolumeClaim: { claimName } }] },
  });
  const createClaim = async (name: string, cls: string, size = "1Gi") => {
    const o = pvc(name, { cls, size });
    delete o.metadata.uid;
    await c.ensure(r.pvcs(), o);
    return c.get(r.pvcs(), "default", name)!;
  };
  /** Runs preFilter and filter for the pod on the node as one scheduling cycle would. */
  const fit = (p: KObject, n: KObject) => {
    const pre = hook.preFilter?.(p);
    if (pre) return pre.reasons;
    return hook.filter(p, n)?.reasons ?? [];
  };

  before(async () => {
    await live.ready();
    for (const sc of Object.values(classes)) await c.ensure(r.classes(), sc);
    await c.ensure(r.nodes(), {
      ...node("n1"),
      metadata: { ...node("n1").metadata, annotations: { [ANN_LOCAL_PATH_ROOT]: "/var/lib/k8ts/storage" } },
    });
    await c.update(r.nodes(), undefined, "n1", "status", (n) => {
      n["status"] = { capacity: { "ephemeral-storage": "10Gi" } };
      return n;
    });
    hook = claimBinding(c, { bindTimeoutSeconds: 1 });
    hook.start?.();
  });
  after(() => {
    hook.stop?.();
    live.close();
  });

  it("a volume assumed for one pod is not offered to the next, until unreserve", async () => {
    const v = pv("only-one", { host: "n1" });
    await c.ensure(r.pvs(), v);
    await c.update(r.pvs(), undefined, "only-one", "status", (o) => ({ ...o, status: { phase: "Available" } }));
    await createClaim("first", "later");
    await createClaim("second", "later");
    const n1 = c.get(r.nodes(), undefined, "n1")!;
    const a = podUsing("a", "first");
    const b = podUsing("b", "second");
    assert.deepEqual(fit(a, n1), []);
    hook.reserve?.(a, "n1");
    assert.deepEqual(fit(b, n1), [REASON_BIND_CONFLICT]);
    hook.unreserve?.(a, "n1");
    assert.deepEqual(fit(b, n1), []);
  });

  it("local-path bytes reserved for one pod are not offered to the next, until unreserve", async () => {
    await createClaim("six-a", "local", "6Gi");
    await createClaim("six-b", "local", "6Gi");
    const n1 = c.get(r.nodes(), undefined, "n1")!;
    const a = podUsing("la", "six-a");
    const b = podUsing("lb", "six-b");
    assert.deepEqual(fit(a, n1), []);
    hook.reserve?.(a, "n1");
    assert.deepEqual(fit(b, n1), [REASON_NOT_ENOUGH_SPACE]);
    // the pod that reserved the bytes still fits (its own reservation is not counted against it)
    assert.deepEqual(fit(a, n1), []);
    hook.unreserve?.(a, "n1");
    assert.deepEqual(fit(b, n1), []);
  });

  it("a claim reserved for provisioning on a node keeps other pods using it to that node", async () => {
    await createClaim("shared", "made");
    await c.ensure(r.nodes(), node("n2"));
    const n1 = c.get(r.nodes(), undefined, "n1")!;
    const n2 = c.get(r.nodes(), undefined, "n2")!;
    const a = podUsing("sa", "shared");
    const b = podUsing("sb", "shared");
    assert.deepEqual(fit(a, n1), []);
    hook.reserve?.(a, "n1");
    assert.deepEqual(fit(b, n2), [REASON_BIND_CONFLICT]);
    assert.deepEqual(fit(b, n1), []);
    hook.unreserve?.(a, "n1");
    assert.deepEqual(fit(b, n2), []);
  });

  it("what two pods sharing a claim assumed stays until both unreserve", async () => {
    // a static volume both pods' claim binds to, and a third pod's claim that could take it
    // (larger than the earlier tests' volumes, which are left Available)
    await c.ensure(r.pvs(), pv("both-use", { host: "n1", size: "20Gi" }));
    await c.update(r.pvs(), undefined, "both-use", "status", (o) => ({ ...o, status: { phase: "Available" } }));
    await createClaim("duo", "later", "15Gi");
    await createClaim("third", "later", "15Gi");
    // local-path bytes for one claim both pods use, and a claim that would not fit beside it
    await createClaim("duo-room", "local", "6Gi");
    await createClaim("third-room", "local", "6Gi");
    // a claim to provision, selected for n1 by the first pod
    await createClaim("duo-made", "made");
    const n1 = c.get(r.nodes(), undefined, "n1")!;
    const n2 = c.get(r.nodes(), undefined, "n2")!;
    const using = (name: string, claims: string[]): KObject => ({
      ...podUsing(name, claims[0] ?? ""),
      spec: { volumes: claims.map((claimName, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName } })) },
    });
    const a = using("duo-a", ["duo", "duo-room", "duo-made"]);
    const b = using("duo-b", ["duo", "duo-room", "duo-made"]);
    assert.deepEqual(fit(a, n1), []);
    hook.reserve?.(a, "n1");
    assert.deepEqual(fit(b, n1), []);
    hook.reserve?.(b, "n1");
    hook.unreserve?.(a, "n1");
    // the second pod still holds all three
    assert.deepEqual(fit(using("t1", ["third"]), n1), [REASON_BIND_CONFLICT]);
    assert.deepEqual(fit(using("t2", ["third-room"]), n1), [REASON_NOT_ENOUGH_SPACE]);
    assert.deepEqual(fit(using("t3", ["duo-made"]), n2), [REASON_BIND_CONFLICT]);
    hook.unreserve?.(b, "n1");
    assert.deepEqual(fit(using("t1", ["third"]), n1), []);
    assert.deepEqual(fit(using("t2", ["third-room"]), n1), []);
    assert.deepEqual(fit(using("t3", ["duo-made"]), n2), []);
  });

  it("PreBind fails when the bind timeout passes and nobody provisions", async () => {
    await createClaim("unserved", "made");
    const p = podUsing("waits", "unserved");
    const made: KObject = { ...p, metadata: { name: "waits", namespace: "default" } };
    await c.ensure(c.resource("", "v1", "pods"), {
      ...made,
      spec: { ...(p["spec"] as Rec), containers: [{ name: "c", image: "pause" }] },
    });
    const live = c.get(c.resource("", "v1", "pods"), "default", "waits")!;
    const n1 = c.get(r.nodes(), undefined, "n1")!;
    assert.deepEqual(fit(live, n1), []);
    hook.reserve?.(live, "n1");
    await assert.rejects(hook.preBind(live, "n1"), {
      message: 'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded',
    });
    assert.equal(c.get(r.pvcs(), "default", "unserved")?.metadata.annotations?.[ANN_SELECTED_NODE], "n1");
    hook.unreserve?.(live, "n1");
  });
});
