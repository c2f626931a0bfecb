/** The StatefulSet controller: identity and sync plans by table, and sets kept on a live registry. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { GarbageCollector } from "../../src/controllers/garbagecollector/index.js";
import { controllerOf } from "../../src/controllers/refmanager.js";
import { claimsFor, newPod, parentAndOrdinal } from "../../src/controllers/statefulset/identity.js";
import { StatefulSetController } from "../../src/controllers/statefulset/index.js";
import { type PlanInput, plan, type Step } from "../../src/controllers/statefulset/plan.js";
import { claimOwnerRefs, claimOwnerUpToDate } from "../../src/controllers/statefulset/retention.js";
import { PvcProtectionController } from "../../src/controllers/volume/protection.js";
import { liveRegistry, markReady, readyPods, until } from "./support.js";

type Rec = Record<string, unknown>;
const T0 = Date.parse("2026-06-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

function sts(name: string, spec: Rec = {}): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: "default", uid: `uid-${name}`, generation: 1 },
    spec: {
      replicas: 2,
      serviceName: "nginx",
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
      ...spec,
    },
  };
}

type State = "pending" | "ready" | "failed" | "terminating" | "running";

/** A pod of `set` at `revision` in a state; ready since `readySince`. */
function pod(
  set: KObject,
  ordinal: number,
  revision: string,
  state: State = "ready",
  readySince = T0 - 60_000,
): KObject {
  const p = newPod(set, ordinal, revision);
  p.metadata.uid = `uid-${p.metadata.name}-${revision}`;
  const ready = state === "ready" || state === "terminating";
  p["status"] = {
    phase: state === "pending" ? "Pending" : state === "failed" ? "Failed" : "Running",
    conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: iso(readySince) }],
  };
  if (state === "terminating") p.metadata.deletionTimestamp = iso(T0);
  return p;
}

function input(set: KObject, pods: KObject[], o: Partial<PlanInput> = {}): PlanInput {
  return {
    set,
    currentSet: set,
    updateSet: set,
    currentRevision: "A",
    updateRevision: "A",
    collisionCount: 0,
    pods,
    claim: () => undefined,
    now: T0,
    ...o,
  };
}

/** Steps as "create web-0@A", "delete web-2 (condemned)". */
function show(steps: Step[]): string[] {
  return steps.map((s) => {
    const n = s.pod.metadata.name;
    if (s.op === "create") return `create ${n}@${s.pod.metadata.labels?.["controller-revision-hash"]}`;
    if (s.op === "delete") return `delete ${n} (${s.why})`;
    return `${s.op} ${n}`;
  });
}

describe("StatefulSet pod names (getParentNameAndOrdinal)", () => {
  const cases: Array<[string, { parent: string; ordinal: number }]> = [
    ["web-0", { parent: "web", ordinal: 0 }],
    ["web-12", { parent: "web", ordinal: 12 }],
    ["my-web-3", { parent: "my-web", ordinal: 3 }],
    ["web", { parent: "", ordinal: -1 }],
    ["web-x", { parent: "", ordinal: -1 }],
    ["web-99999999999", { parent: "web", ordinal: -1 }],
  ];
  for (const [name, want] of cases) {
    it(`${name} → ${want.parent || "(none)"} ${want.ordinal}`, () => assert.deepEqual(parentAndOrdinal(name), want));
  }
});

describe("StatefulSet pod identity (newStatefulSetPod)", () => {
  it("web-0: labels, hostname, subdomain, claim volume replacing a same-named template volume, controller reference", () => {
    const set = sts("web", {
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [{ name: "c", image: "nginx" }],
          volumes: [
            { name: "www", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: "www", labels: { tier: "data" } }, spec: { accessModes: ["ReadWriteOnce"] } },
      ],
    });
    const p = newPod(set, 0, "web-abc");
    assert.equal(p.metadata.name, "web-0");
    assert.deepEqual(p.metadata.labels, {
      app: "web",
      "statefulset.kubernetes.io/pod-name": "web-0",
      "apps.kubernetes.io/pod-index": "0",
      "controller-revision-hash": "web-abc",
    });
    const spec = p["spec"] as Rec;
    assert.equal(spec["hostname"], "web-0");
    assert.equal(spec["subdomain"], "nginx");
    assert.deepEqual(spec["volumes"], [
      { name: "www", persistentVolumeClaim: { claimName: "www-web-0" } },
      { name: "tmp", emptyDir: {} },
    ]);
    assert.deepEqual(controllerOf(p), {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      name: "web",
      uid: "uid-web",
      controller: true,
      blockOwnerDeletion: true,
    });
    const [c] = claimsFor(set, 0);
    assert.equal(c?.claim.metadata.name, "www-web-0");
    assert.deepEqual(c?.claim.metadata.labels, { tier: "data", app: "web" });
  });
});

describe("StatefulSet sync plan (updateStatefulSet)", () => {
  const web = sts("web");
  const cases: Array<[string, PlanInput, string[]]> = [
    ["OrderedReady: an empty set makes web-0 only", input(web, []), ["create web-0@A"]],
    ["OrderedReady: web-0 Pending blocks web-1", input(web, [pod(web, 0, "A", "pending")]), []],
    ["OrderedReady: web-0 Running but not Ready blocks web-1", input(web, [pod(web, 0, "A", "running")]), []],
    ["OrderedReady: web-0 Ready → web-1", input(web, [pod(web, 0, "A")]), ["create web-1@A"]],
    [
      "OrderedReady: web-0 Ready for less than minReadySeconds blocks web-1",
      input(sts("web", { minReadySeconds: 120 }), [pod(web, 0, "A", "ready", T0 - 60_000)]),
      [],
    ],
    [
      "OrderedReady: a failed pod is deleted and made again",
      input(web, [pod(web, 0, "A", "failed"), pod(web, 1, "A")]),
      ["delete web-0 (failed)", "create web-0@A"],
    ],
    ["OrderedReady: a lower ordinal missing again is made first", input(web, [pod(web, 1, "A")]), ["create web-0@A"]],
    [
      "Parallel: all missing pods at once, without waiting",
      input(sts("web", { replicas: 3, podManagementPolicy: "Parallel" }), [pod(web, 0, "A", "pending")]),
      ["create web-1@A", "create web-2@A"],
    ],
    [
      "OrderedReady: scale 3 → 1 deletes the highest ordinal first, one at a time",
      input(sts("web", { replicas: 1 }), [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "A")]),
      ["delete web-2 (condemned)"],
    ],
    [
      "OrderedReady: a terminating condemned pod blocks the next",
      input(sts("web", { replicas: 1 }), [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "A", "terminating")]),
      [],
    ],
    [
      "OrderedReady: no scale down while a remaining pod is unhealthy",
      input(sts("web", { replicas: 1 }), [pod(web, 0, "A", "pending"), pod(web, 1, "A")]),
      [],
    ],
    [
      "OrderedReady: the first unhealthy condemned pod may go",
      input(sts("web", { replicas: 1 }), [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "A", "pending")]),
      ["delete web-2 (condemned)"],
    ],
    [
      "OrderedReady: a healthy condemned pod goes even above an unhealthy one",
      input(sts("web", { replicas: 1 }), [pod(web, 0, "A"), pod(web, 1, "A", "pending"), pod(web, 2, "A")]),
      ["delete web-2 (condemned)"],
    ],
    [
      "OrderedReady: an unhealthy condemned pod that is not the first unhealthy one waits",
      input(sts("web", { replicas: 1 }), [pod(web, 0, "A"), pod(web, 1, "A", "pending"), pod(web, 2, "A", "pending")]),
      [],
    ],
    [
      "Parallel: scale 3 → 1 deletes both at once",
      input(sts("web", { replicas: 1, podManagementPolicy: "Parallel" }), [
        pod(web, 0, "A"),
        pod(web, 1, "A", "pending"),
        pod(web, 2, "A"),
      ]),
      ["delete web-2 (condemned)", "delete web-1 (condemned)"],
    ],
    [
      "RollingUpdate: the highest ordinal not at the update revision goes first",
      input(sts("web", { replicas: 3 }), [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "A")], {
        updateRevision: "B",
      }),
      ["delete web-2 (update)"],
    ],
    [
      "RollingUpdate: the next one only when the updated pod is Running and Ready",
      input(sts("web", { replicas: 3 }), [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "B", "pending")], {
        updateRevision: "B",
      }),
      [],
    ],
    [
      "RollingUpdate: web-2 updated and Ready → web-1",
      input(sts("web", { replicas: 3 }), [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "B")], {
        updateRevision: "B",
      }),
      ["delete web-1 (update)"],
    ],
    [
      "RollingUpdate partition 2: ordinals below 2 are left at the current revision",
      input(
        sts("web", { replicas: 3, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }),
        [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "B")],
        { updateRevision: "B" },
      ),
      [],
    ],
    [
      "RollingUpdate partition 2: a missing ordinal below the partition is made at the current revision",
      input(
        sts("web", { replicas: 3, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }),
        [pod(web, 1, "A"), pod(web, 2, "B")],
        { updateRevision: "B" },
      ),
      ["create web-0@A"],
    ],
    [
      "RollingUpdate maxUnavailable 2: two at once, highest first",
      input(
        sts("web", {
          replicas: 3,
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0, maxUnavailable: 2 } },
        }),
        [pod(web, 0, "A"), pod(web, 1, "A"), pod(web, 2, "A")],
        { updateRevision: "B" },
      ),
      ["delete web-2 (update)", "delete web-1 (update)"],
    ],
    [
      "OnDelete: pods of another revision stay",
      input(sts("web", { updateStrategy: { type: "OnDelete" } }), [pod(web, 0, "A"), pod(web, 1, "A")], {
        updateRevision: "B",
      }),
      [],
    ],
    [
      "OnDelete: a deleted pod comes back at the update revision",
      input(sts("web", { updateStrategy: { type: "OnDelete" } }), [pod(web, 0, "A")], { updateRevision: "B" }),
      ["create web-1@B"],
    ],
    [
      "ordinals.start 5: web-5 first",
      input(sts("web", { ordinals: { start: 5 } }), [pod(web, 0, "A")]),
      ["create web-5@A"],
    ],
    [
      "a set being deleted does nothing",
      input({ ...web, metadata: { ...web.metadata, deletionTimestamp: iso(T0) } }, []),
      [],
    ],
  ];
  for (const [name, i, want] of cases) {
    it(name, () => assert.deepEqual(show(plan(i).steps), want));
  }

  it("status: counts by revision; a finished RollingUpdate makes the update revision current", () => {
    const set = sts("web", { replicas: 3 });
    const mid = plan(
      input(set, [pod(set, 0, "A"), pod(set, 1, "B"), pod(set, 2, "B", "pending")], { updateRevision: "B" }),
    );
    assert.deepEqual(mid.status, {
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 2,
      currentReplicas: 1,
      updatedReplicas: 2,
      currentRevision: "A",
      updateRevision: "B",
      collisionCount: 0,
      availableReplicas: 2,
    });
    const done = plan(input(set, [pod(set, 0, "B"), pod(set, 1, "B"), pod(set, 2, "B")], { updateRevision: "B" }));
    assert.equal(done.status.currentRevision, "B");
    assert.equal(done.status.currentReplicas, 3);
  });

  it("status: a pod deleted for the update leaves currentReplicas", () => {
    const set = sts("web", { replicas: 2 });
    const p = plan(input(set, [pod(set, 0, "A"), pod(set, 1, "A")], { updateRevision: "B" }));
    assert.equal(p.status.currentReplicas, 1);
    assert.equal(p.status.replicas, 2);
  });
});

describe("PVC retention references (isClaimOwnerUpToDate)", () => {
  const claim = (refs: KObject["metadata"]["ownerReferences"] = undefined): KObject => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "www-web-1", namespace: "default", ...(refs ? { ownerReferences: refs } : {}) },
  });
  const policy = (whenDeleted: string, whenScaled: string, replicas: number) =>
    sts("web", { replicas, persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } });
  const cases: Array<[string, KObject, string[]]> = [
    ["Retain/Retain: no references", policy("Retain", "Retain", 2), []],
    ["whenDeleted Delete: the set", policy("Delete", "Retain", 2), ["StatefulSet/web"]],
    ["whenScaled Delete, in range: none", policy("Retain", "Delete", 2), []],
    ["whenScaled Delete, condemned: the pod", policy("Retain", "Delete", 1), ["Pod/web-1"]],
    ["both Delete, in range: the set", policy("Delete", "Delete", 2), ["StatefulSet/web"]],
    ["both Delete, condemned: the pod only", policy("Delete", "Delete", 1), ["Pod/web-1"]],
  ];
  for (const [name, set, want] of cases) {
    it(name, () => {
      const p = pod(set, 1, "A");
      const refs = claimOwnerRefs(claim(), set, p);
      assert.deepEqual(
        refs.map((r) => `${r.kind}/${r.name}`),
        want,
      );
      assert.ok(refs.every((r) => r.controller === true));
      assert.equal(claimOwnerUpToDate(claim(refs), set, p), true);
      assert.equal(claimOwnerUpToDate(claim(), set, p), want.length === 0);
    });
  }
  it("a reference to an earlier pod of the same name is left alone", () => {
    const set = policy("Retain", "Delete", 1);
    const stale = claim([{ apiVersion: "v1", kind: "Pod", name: "web-1", uid: "old", controller: true }]);
    assert.equal(claimOwnerUpToDate(stale, set, pod(set, 1, "A")), true);
  });
});

describe("StatefulSetController on a registry", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  // claims carry the pvc-protection finalizer (admission): its controller lets them go when unused
  const controllers = [
    new StatefulSetController(client),
    new GarbageCollector(client),
    new PvcProtectionController(client),
  ];
  const stss = () => client.resource("apps", "v1", "statefulsets");
  const pods = () => client.resource("", "v1", "pods");
  const pvcs = () => client.resource("", "v1", "persistentvolumeclaims");
  const revisions = () => client.resource("apps", "v1", "controllerrevisions");
  // pods of "web" and images ending in ":broken" are made ready by hand (or never)
  let stopPods: () => void = () => undefined;
  const deletions: string[] = [];
  let stopWatch: () => void = () => undefined;

  before(async () => {
    await live.ready();
    for (const c of controllers) c.start();
    stopPods = readyPods(client, (p) => {
      const containers = (p["spec"] as { containers: Array<{ image: string }> }).containers;
      return !/^web-\d+$/.test(p.metadata.name ?? "") && !containers.some((c) => c.image.endsWith(":broken"));
    });
    const w = client.informer(pods(), (p, deleted) => {
      if (deleted) deletions.push(p.metadata.name ?? "");
    });
    stopWatch = () => w.stop();
  });
  after(() => {
    stopPods();
    stopWatch();
    for (const c of controllers) c.stop();
    live.close();
  });

  const set = (name: string, spec: Rec = {}): KObject => {
    const s = sts(name, spec);
    s.metadata = { name, namespace: "default" };
    return s;
  };
  const get = (name: string) => client.get(stss(), "default", name);
  const status = (name: string) => (get(name)?.["status"] ?? {}) as Rec;
  const podNames = async (prefix: string) =>
    (await client.list(pods(), "default"))
      .map((c) => c.obj)
      .filter((p) => p.metadata.name?.startsWith(`${prefix}-`) && !p.metadata.deletionTimestamp)
      .map((p) => p.metadata.name ?? "")
      .sort();
  const podOf = (name: string) => client.get(pods(), "default", name);
  const claimNames = async (prefix: string) =>
    (await client.list(pvcs(), "default"))
      .map((c) => c.obj.metadata.name ?? "")
      .filter((n) => n.includes(`-${prefix}-`))
      .sort();
  const makeReady = async (name: string) => {
    await markReady(client, "default", name);
  };
  const podsAre = (prefix: string, want: string[], ms?: number) =>
    until(
      `${prefix} pods ${want.join(",")}`,
      async () => {
        const names = await podNames(prefix);
        return JSON.stringify(names) === JSON.stringify(want) ? names : undefined;
      },
      ms,
    );
  const patchSpec = async (name: string, fn: (spec: Rec) => void) => {
    await client.update(stss(), "default", name, "", (o) => {
      fn(o["spec"] as Rec);
      return o;
    });
  };
  const setImage = (name: string, image: string) =>
    patchSpec(name, (spec) => {
      ((spec["template"] as Rec)["spec"] as { containers: Rec[] }).containers[0]!["image"] = image;
    });
  const settled = (name: string, replicas: number) =>
    until(`${name} settled at ${replicas}`, () => {
      const s = status(name);
      return s["observedGeneration"] === get(name)?.metadata.generation &&
        s["readyReplicas"] === replicas &&
        s["replicas"] === replicas &&
        s["updatedReplicas"] === replicas &&
        s["currentRevision"] === s["updateRevision"]
        ? s
        : undefined;
    });
  const revisionOf = (name: string) => podOf(name)?.metadata.labels?.["controller-revision-hash"];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const eventMessages = async () =>
    (await client.list(client.resource("", "v1", "events"), "default")).map((e) => String(e.obj["message"]));

  it("seed 002 web: web-0 with its claim www-web-0 first, web-1 only once web-0 is Ready", async () => {
    await client.ensure(
      stss(),
      set("web", {
        selector: { matchLabels: { app: "nginx" } },
        template: {
          metadata: { labels: { app: "nginx" } },
          spec: {
            containers: [
              {
                name: "nginx",
                image: "nginx:1.8",
                ports: [{ containerPort: 80, name: "web" }],
                volumeMounts: [{ name: "www", mountPath: "/usr/share/nginx/html" }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "www" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
          },
        ],
      }),
    );
    await podsAre("web", ["web-0"]);
    const p = podOf("web-0")!;
    const rev = status("web")["updateRevision"];
    assert.match(String(rev), /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.deepEqual(p.metadata.labels, {
      app: "nginx",
      "statefulset.kubernetes.io/pod-name": "web-0",
      "apps.kubernetes.io/pod-index": "0",
      "controller-revision-hash": rev,
    });
    const spec = p["spec"] as Rec;
    assert.equal(spec["hostname"], "web-0");
    assert.equal(spec["subdomain"], "nginx");
    assert.deepEqual(
      (spec["volumes"] as Rec[]).find((v) => v["name"] === "www"),
      { name: "www", persistentVolumeClaim: { claimName: "www-web-0" } },
    );
    assert.equal(controllerOf(p)?.name, "web");
    const pvc = client.get(pvcs(), "default", "www-web-0")!;
    assert.deepEqual(pvc.metadata.labels, { app: "nginx" });
    assert.equal(pvc.metadata.ownerReferences, undefined);
    await sleep(300);
    assert.deepEqual(await podNames("web"), ["web-0"], "web-1 waits for web-0");
    const msgs = await eventMessages();
    assert.ok(msgs.includes("create Claim www-web-0 Pod web-0 in StatefulSet web success"), msgs.join("\n"));
    assert.ok(msgs.includes("create Pod web-0 in StatefulSet web successful"), msgs.join("\n"));
    await makeReady("web-0");
    await podsAre("web", ["web-0", "web-1"]);
    assert.ok(client.get(pvcs(), "default", "www-web-1"));
    await makeReady("web-1");
    const s = await settled("web", 2);
    assert.equal(s["availableReplicas"], 2);
    assert.equal(s["currentReplicas"], 2);
    assert.equal(s["collisionCount"], 0);
  });

  it("web scaled to 3 gets web-2; scaled to 1 loses web-2 then web-1, claims kept", async () => {
    await patchSpec("web", (s) => {
      s["replicas"] = 3;
    });
    await podsAre("web", ["web-0", "web-1", "web-2"]);
    await makeReady("web-2");
    await settled("web", 3);
    deletions.length = 0;
    await patchSpec("web", (s) => {
      s["replicas"] = 1;
    });
    await podsAre("web", ["web-0"]);
    assert.deepEqual(
      deletions.filter((n) => n.startsWith("web-")),
      ["web-2", "web-1"],
    );
    await settled("web", 1);
    assert.deepEqual(await claimNames("web"), ["www-web-0", "www-web-1", "www-web-2"]);
    const msgs = await eventMessages();
    assert.ok(msgs.includes("delete Pod web-2 in StatefulSet web successful"), msgs.join("\n"));
  });

  it("a pod that never becomes Ready blocks the next ordinal", async () => {
    await client.ensure(
      stss(),
      set("stuck", {
        template: {
          metadata: { labels: { app: "stuck" } },
          spec: { containers: [{ name: "c", image: "nginx:broken" }] },
        },
      }),
    );
    await podsAre("stuck", ["stuck-0"]);
    await until("stuck status", () => (status("stuck")["replicas"] === 1 ? true : undefined));
    await sleep(300);
    assert.deepEqual(await podNames("stuck"), ["stuck-0"]);
    assert.equal(status("stuck")["readyReplicas"], undefined);
    assert.equal(status("stuck")["availableReplicas"], 0);
  });

  it("Parallel makes every pod at once", async () => {
    await client.ensure(
      stss(),
      set("par", {
        replicas: 3,
        podManagementPolicy: "Parallel",
        template: {
          metadata: { labels: { app: "par" } },
          spec: { containers: [{ name: "c", image: "nginx:broken" }] },
        },
      }),
    );
    await podsAre("par", ["par-0", "par-1", "par-2"], 3000);
  });

  it("RollingUpdate with partition 1 replaces ru-2 then ru-1, highest first; ru-0 stays until the partition drops", async () => {
    await client.ensure(stss(), set("ru", { replicas: 3 }));
    const first = await settled("ru", 3);
    const rev1 = String(first["currentRevision"]);
    await patchSpec("ru", (s) => {
      s["updateStrategy"] = { type: "RollingUpdate", rollingUpdate: { partition: 1 } };
    });
    deletions.length = 0;
    await setImage("ru", "nginx:1.9");
    const mid = await until("ru partitioned", () => {
      const s = status("ru");
      return s["updatedReplicas"] === 2 && s["readyReplicas"] === 3 ? s : undefined;
    });
    const rev2 = String(mid["updateRevision"]);
    assert.notEqual(rev2, rev1);
    assert.equal(mid["currentRevision"], rev1);
    assert.equal(mid["currentReplicas"], 1);
    assert.deepEqual(
      deletions.filter((n) => n.startsWith("ru-")),
      ["ru-2", "ru-1"],
    );
    assert.equal(revisionOf("ru-0"), rev1);
    assert.equal(revisionOf("ru-1"), rev2);
    assert.equal(revisionOf("ru-2"), rev2);
    await patchSpec("ru", (s) => {
      s["updateStrategy"] = { type: "RollingUpdate", rollingUpdate: { partition: 0 } };
    });
    const done = await settled("ru", 3);
    assert.equal(done["currentRevision"], rev2);
    assert.equal(revisionOf("ru-0"), rev2);
  });

  it("ControllerRevisions: <set>-<hash> with the template labels, numbered; history cut to revisionHistoryLimit", async () => {
    const owned = async () =>
      (await client.list(revisions(), "default"))
        .map((c) => c.obj)
        .filter((r) => controllerOf(r)?.name === "ru")
        .sort((a, b) => Number(a["revision"]) - Number(b["revision"]));
    const revs = await owned();
    assert.equal(revs.length, 2);
    const [r1, r2] = revs;
    assert.equal(r1!["revision"], 1);
    assert.equal(r2!["revision"], 2);
    assert.equal(r2!.metadata.name, status("ru")["updateRevision"]);
    const hash = r2!.metadata.name!.slice("ru-".length);
    assert.deepEqual(r2!.metadata.labels, { app: "ru", "controller-revision-hash": hash });
    const data = r2!["data"] as { spec: { template: Rec } };
    assert.equal(data.spec.template["$patch"], "replace");
    await patchSpec("ru", (s) => {
      s["revisionHistoryLimit"] = 1;
    });
    await setImage("ru", "nginx:1.10");
    await settled("ru", 3);
    await setImage("ru", "nginx:1.11");
    await settled("ru", 3);
    const left = await until("history cut", async () => {
      const r = await owned();
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(
      left.map((r) => r["revision"]),
      [3, 4],
    );
  });

  it("OnDelete: no pod replaced for a new template until it is deleted", async () => {
    await client.ensure(stss(), set("od", { updateStrategy: { type: "OnDelete" } }));
    const s0 = await settled("od", 2);
    await setImage("od", "nginx:1.9");
    const s1 = await until("od update revision", () => {
      const s = status("od");
      return s["updateRevision"] !== s0["updateRevision"] && s["observedGeneration"] === 2 ? s : undefined;
    });
    await sleep(300);
    assert.equal(revisionOf("od-0"), s0["currentRevision"]);
    assert.equal(revisionOf("od-1"), s0["currentRevision"]);
    assert.equal(s1["updatedReplicas"], undefined);
    await client.delete(pods(), "default", "od-1");
    await until("od-1 back at the update revision", () =>
      revisionOf("od-1") === s1["updateRevision"] ? true : undefined,
    );
    assert.equal(revisionOf("od-0"), s0["currentRevision"]);
  });

  it("whenScaled Delete: the claim of a condemned ordinal goes with its pod; whenDeleted Delete: claims owned by the set", async () => {
    await client.ensure(
      stss(),
      set("ret", {
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
          },
        ],
      }),
    );
    await settled("ret", 2);
    const uid = get("ret")?.metadata.uid;
    const c1 = await until("data-ret-1 owned by the set", () => {
      const c = client.get(pvcs(), "default", "data-ret-1");
      return c?.metadata.ownerReferences?.some((r) => r.uid === uid) ? c : undefined;
    });
    assert.equal(c1.metadata.ownerReferences?.[0]?.kind, "StatefulSet");
    await patchSpec("ret", (s) => {
      s["replicas"] = 1;
    });
    await podsAre("ret", ["ret-0"]);
    await until("data-ret-1 gone", () => (client.get(pvcs(), "default", "data-ret-1") ? undefined : true));
    assert.ok(client.get(pvcs(), "default", "data-ret-0"));
    // scaled up again: a fresh claim for the new ret-1
    await patchSpec("ret", (s) => {
      s["replicas"] = 2;
    });
    await settled("ret", 2);
    assert.ok(client.get(pvcs(), "default", "data-ret-1"));
  });

  it("Retain (the default): claims stay after scale down", async () => {
    assert.deepEqual(await claimNames("web"), ["www-web-0", "www-web-1", "www-web-2"]);
  });

  it("ordinals.start 5 names the pods five-5 and five-6", async () => {
    await client.ensure(stss(), set("five", { ordinals: { start: 5 } }));
    await settled("five", 2);
    assert.deepEqual(await podNames("five"), ["five-5", "five-6"]);
    assert.equal(podOf("five-6")?.metadata.labels?.["apps.kubernetes.io/pod-index"], "6");
  });

  it("a Failed pod is deleted and made again", async () => {
    const before = podOf("five-5")?.metadata.uid;
    await client.update(pods(), "default", "five-5", "status", (o) => {
      o["status"] = { phase: "Failed" };
      return o;
    });
    await until("five-5 remade", () => {
      const p = podOf("five-5");
      return p && p.metadata.uid !== before ? p : undefined;
    });
    await settled("five", 2);
    const msgs = await eventMessages();
    assert.ok(msgs.includes("StatefulSet default/five is recreating failed Pod five-5"), msgs.join("\n"));
  });

  it("a restarted controller makes no duplicates and adopts an orphan of its name", async () => {
    const uids = (await client.list(pods(), "default"))
      .map((c) => c.obj)
      .filter((p) => p.metadata.name?.startsWith("five-"))
      .map((p) => p.metadata.uid)
      .sort();
    controllers[0]!.stop();
    // an orphan pod five-7 (beyond replicas) matching the selector: adopted, then deleted as condemned
    await client.ensure(pods(), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "five-7", namespace: "default", labels: { app: "five" } },
      spec: { containers: [{ name: "c", image: "nginx" }] },
    });
    const again = new StatefulSetController(client);
    controllers[0] = again;
    again.start();
    await podsAre("five", ["five-5", "five-6"]);
    await settled("five", 2);
    const now = (await client.list(pods(), "default"))
      .map((c) => c.obj)
      .filter((p) => p.metadata.name?.startsWith("five-"))
      .map((p) => p.metadata.uid)
      .sort();
    assert.deepEqual(now, uids);
  });
});
