/** The DaemonSet controller: placement and update plans by table, and sets kept on a live registry. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { DaemonSetController, rollingUpdatePlan } from "../../src/controllers/daemonset/index.js";
import {
  daemonTemplate,
  daemonTolerations,
  pinnedAffinity,
  shouldRun,
  targetNode,
} from "../../src/controllers/daemonset/placement.js";
import { controllerOf } from "../../src/controllers/refmanager.js";
import { liveRegistry, readyPods, until } from "./support.js";

type Rec = Record<string, unknown>;
const T0 = Date.parse("2026-06-01T12:00:00Z");

function node(name: string, o: { labels?: Record<string, string>; taints?: Rec[] } = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: o.taints ? { taints: o.taints } : {},
  };
}

function ds(name: string, podSpec: Rec = {}, spec: Rec = {}): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "default" },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "nginx" }], ...podSpec },
      },
      ...spec,
    },
  };
}

describe("daemon pod placement (NodeShouldRunDaemonPod)", () => {
  const cases: Array<[string, KObject, KObject, { run: boolean; keep: boolean }]> = [
    ["a plain node runs it", ds("a"), node("n1"), { run: true, keep: true }],
    ["nodeSelector not matching", ds("a", { nodeSelector: { disk: "ssd" } }), node("n1"), { run: false, keep: false }],
    [
      "nodeSelector matching",
      ds("a", { nodeSelector: { disk: "ssd" } }),
      node("n1", { labels: { disk: "ssd" } }),
      { run: true, keep: true },
    ],
    ["a template nodeName of another node", ds("a", { nodeName: "n2" }), node("n1"), { run: false, keep: false }],
    [
      "a NoSchedule taint: not started, but a running pod stays",
      ds("a"),
      node("n1", { taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }] }),
      { run: false, keep: true },
    ],
    [
      "a NoExecute taint: neither",
      ds("a"),
      node("n1", { taints: [{ key: "dedicated", value: "x", effect: "NoExecute" }] }),
      { run: false, keep: false },
    ],
    [
      "node problems are tolerated by every daemon pod",
      ds("a"),
      node("n1", {
        taints: [
          { key: "node.kubernetes.io/not-ready", effect: "NoExecute" },
          { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" },
          { key: "node.kubernetes.io/disk-pressure", effect: "NoSchedule" },
        ],
      }),
      { run: true, keep: true },
    ],
    [
      "the control-plane taint needs the template's toleration",
      ds("a", {
        tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
      }),
      node("n1", { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] }),
      { run: true, keep: true },
    ],
    [
      "required node affinity",
      ds("a", {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }],
            },
          },
        },
      }),
      node("n1", { labels: { zone: "b" } }),
      { run: false, keep: false },
    ],
  ];
  for (const [what, set, n, want] of cases) it(what, () => assert.deepEqual(shouldRun(daemonTemplate(set), n), want));

  it("the default tolerations, with network-unavailable for hostNetwork pods, replacing same key+effect", () => {
    const t = daemonTolerations({
      hostNetwork: true,
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 },
      ],
    });
    assert.deepEqual(
      t.map((x) => `${x["key"]}:${x["effect"]}`),
      [
        "node.kubernetes.io/not-ready:NoExecute",
        "node.kubernetes.io/unreachable:NoExecute",
        "node.kubernetes.io/disk-pressure:NoSchedule",
        "node.kubernetes.io/memory-pressure:NoSchedule",
        "node.kubernetes.io/pid-pressure:NoSchedule",
        "node.kubernetes.io/unschedulable:NoSchedule",
        "node.kubernetes.io/network-unavailable:NoSchedule",
      ],
    );
    assert.equal(t[0]!["tolerationSeconds"], undefined);
  });

  it("pins the pod with a metadata.name matchFields in every term, and reads it back", () => {
    const a = pinnedAffinity(
      {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }], matchFields: [{ key: "x" }] },
            ],
          },
        },
      },
      "n7",
    );
    assert.deepEqual(a, {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }],
              matchFields: [{ key: "metadata.name", operator: "In", values: ["n7"] }],
            },
          ],
        },
      },
    });
    assert.equal(targetNode({ apiVersion: "v1", kind: "Pod", metadata: {}, spec: { affinity: a } }), "n7");
    assert.equal(
      targetNode({ apiVersion: "v1", kind: "Pod", metadata: {}, spec: { nodeName: "n1", affinity: a } }),
      "n1",
    );
  });
});

describe("rolling update plan", () => {
  const pod = (name: string, hash: string, ready = true): KObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { "controller-revision-hash": hash } },
    status: {
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: "2026-06-01T11:00:00Z" }],
    },
  });
  const names = (r: { remove: KObject[] }) => r.remove.map((p) => p.metadata.name);
  const base = { hash: "new", maxSurge: 0, maxUnavailable: 1, minReadySeconds: 0, now: T0 };
  it("maxUnavailable 1: one old pod at a time, unavailable old pods all at once", () => {
    const nodes = new Map([
      ["a", [pod("a-old", "old")]],
      ["b", [pod("b-old", "old")]],
      ["c", [pod("c-old", "old", false)]],
    ]);
    assert.deepEqual(names(rollingUpdatePlan(nodes, base)), ["c-old", "a-old"]);
  });
  it("a new pod not yet available uses up the budget", () => {
    const nodes = new Map([
      ["a", [pod("a-new", "new", false)]],
      ["b", [pod("b-old", "old")]],
    ]);
    assert.deepEqual(names(rollingUpdatePlan(nodes, base)), []);
    assert.deepEqual(names(rollingUpdatePlan(nodes, { ...base, maxUnavailable: 2 })), ["b-old"]);
  });
  it("maxSurge: new pods start beside the old ones; an old one goes when its new one is available", () => {
    const nodes = new Map([
      ["a", [pod("a-old", "old"), pod("a-new", "new")]],
      ["b", [pod("b-old", "old")]],
      ["c", [pod("c-old", "old")]],
    ]);
    const plan = rollingUpdatePlan(nodes, { ...base, maxSurge: 1, maxUnavailable: 0 });
    assert.deepEqual(names(plan), ["a-old"]);
    assert.deepEqual(plan.surgeOn, ["b"]);
  });
});

describe("DaemonSetController on a registry", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  const ctl = new DaemonSetController(client);
  let stopPods: () => void = () => undefined;
  const nodes = () => client.resource("", "v1", "nodes");
  const dss = () => client.resource("apps", "v1", "daemonsets");
  const pods = () => client.resource("", "v1", "pods");
  const revisions = () => client.resource("apps", "v1", "controllerrevisions");

  before(async () => {
    await live.ready();
    for (const n of ["n1", "n2"]) await client.ensure(nodes(), node(n));
    ctl.start();
    stopPods = readyPods(client);
  });
  after(() => {
    stopPods();
    ctl.stop();
    live.close();
  });

  const podsOf = async (name: string) => {
    const uid = client.get(dss(), "default", name)?.metadata.uid;
    return (await client.list(pods(), "default"))
      .map((c) => c.obj)
      .filter((p) => controllerOf(p)?.uid === uid && !p.metadata.deletionTimestamp);
  };
  const byNode = async (name: string) =>
    Object.fromEntries(
      (await podsOf(name)).map((p) => [targetNode(p), p.metadata.labels?.["controller-revision-hash"]]),
    );
  const status = (name: string) => (client.get(dss(), "default", name)?.["status"] ?? {}) as Rec;

  it("one pod per node, pinned by affinity, with the revision hash; status counts them", async () => {
    await client.ensure(dss(), ds("agent"));
    await until("two pods", async () => ((await podsOf("agent")).length === 2 ? true : undefined));
    const ps = await podsOf("agent");
    assert.deepEqual(ps.map((p) => targetNode(p)).sort(), ["n1", "n2"]);
    assert.ok(ps.every((p) => p.metadata.name?.startsWith("agent-")));
    const [cr] = (await client.list(revisions(), "default"))
      .map((c) => c.obj)
      .filter((r) => controllerOf(r)?.name === "agent");
    assert.ok(cr);
    assert.equal(cr["revision"], 1);
    const hash = cr.metadata.labels?.["controller-revision-hash"];
    assert.equal(cr.metadata.name, `agent-${hash}`);
    assert.ok(ps.every((p) => p.metadata.labels?.["controller-revision-hash"] === hash));
    const tolerations = (ps[0]!["spec"] as Rec)["tolerations"] as Rec[];
    assert.ok(tolerations.some((t) => t["key"] === "node.kubernetes.io/unreachable" && t["effect"] === "NoExecute"));
    const s = await until("status", () => (status("agent")["numberAvailable"] === 2 ? status("agent") : undefined));
    assert.deepEqual(s, {
      currentNumberScheduled: 2,
      numberMisscheduled: 0,
      desiredNumberScheduled: 2,
      numberReady: 2,
      observedGeneration: 1,
      updatedNumberScheduled: 2,
      numberAvailable: 2,
    });
  });

  it("a node that joins later gets a pod; a deleted pod comes back; a removed node's pod goes", async () => {
    await client.ensure(nodes(), node("n3"));
    await until("pod on n3", async () => ((await byNode("agent"))["n3"] ? true : undefined));
    const [victim] = await podsOf("agent");
    await client.delete(pods(), "default", victim!.metadata.name ?? "");
    await until("replacement", async () => {
      const ps = await podsOf("agent");
      return ps.length === 3 && !ps.some((p) => p.metadata.name === victim!.metadata.name) ? true : undefined;
    });
    await client.delete(nodes(), undefined, "n3");
    await until("n3's pod gone", async () => ((await byNode("agent"))["n3"] ? undefined : true));
  });

  it("nodeSelector: only labelled nodes; labelling a node adds a pod, unlabelling removes it", async () => {
    await client.ensure(dss(), ds("gluster", { nodeSelector: { storagenode: "glusterfs" } }));
    await until("status zero", () => (status("gluster")["observedGeneration"] === 1 ? true : undefined));
    assert.equal(status("gluster")["desiredNumberScheduled"], 0);
    await client.update(nodes(), undefined, "n2", "", (o) => {
      o.metadata.labels = { ...o.metadata.labels, storagenode: "glusterfs" };
      return o;
    });
    await until("pod on n2", async () => {
      const m = await byNode("gluster");
      return Object.keys(m).join() === "n2" ? true : undefined;
    });
    await client.update(nodes(), undefined, "n2", "", (o) => {
      delete o.metadata.labels?.["storagenode"];
      return o;
    });
    await until("pod gone", async () => ((await podsOf("gluster")).length === 0 ? true : undefined));
  });

  it("RollingUpdate replaces pods node by node; a new revision is recorded; OnDelete waits", async () => {
    const before = await byNode("agent");
    await client.update(dss(), "default", "agent", "", (o) => {
      const t = ((o["spec"] as Rec)["template"] as Rec)["spec"] as { containers: Rec[] };
      t.containers[0]!["image"] = "nginx:1.25";
      return o;
    });
    const after = await until("updated", async () => {
      const m = await byNode("agent");
      const hashes = Object.values(m);
      return hashes.length === 2 && hashes.every((h) => h !== before["n1"]) ? m : undefined;
    });
    assert.equal(after["n1"], after["n2"]);
    const crs = (await client.list(revisions(), "default"))
      .map((c) => c.obj)
      .filter((r) => controllerOf(r)?.name === "agent");
    assert.deepEqual(crs.map((r) => r["revision"]).sort(), [1, 2]);
    await until("all updated", () => (status("agent")["updatedNumberScheduled"] === 2 ? true : undefined));
    // OnDelete: a template change leaves pods alone until one is deleted
    await client.update(dss(), "default", "agent", "", (o) => {
      const spec = o["spec"] as Rec;
      spec["updateStrategy"] = { type: "OnDelete" };
      (((spec["template"] as Rec)["spec"] as { containers: Rec[] }).containers[0] as Rec)["image"] = "nginx:1.26";
      return o;
    });
    await until("status sees the new generation", () =>
      status("agent")["observedGeneration"] === 3 ? true : undefined,
    );
    assert.equal(status("agent")["updatedNumberScheduled"] ?? 0, 0);
    const still = await byNode("agent");
    assert.deepEqual(still, after);
    const n1pod = (await podsOf("agent")).find((p) => targetNode(p) === "n1")!;
    await client.delete(pods(), "default", n1pod.metadata.name ?? "");
    const final = await until("n1 recreated at the new revision", async () => {
      const m = await byNode("agent");
      return m["n1"] && m["n1"] !== after["n1"] ? m : undefined;
    });
    assert.equal(final["n2"], after["n2"]);
  });

  it("a failed pod is replaced, with a FailedDaemonPod event", async () => {
    const target = (await podsOf("agent")).find((p) => targetNode(p) === "n2")!;
    await client.update(pods(), "default", target.metadata.name ?? "", "status", (o) => {
      o["status"] = { phase: "Failed" };
      return o;
    });
    await until("replaced", async () => {
      const ps = await podsOf("agent");
      return ps.some((p) => targetNode(p) === "n2" && p.metadata.name !== target.metadata.name) ? true : undefined;
    });
    const events = (await client.list(client.resource("", "v1", "events"), "default")).map((e) => e.obj);
    assert.ok(
      events.some(
        (e) =>
          e["reason"] === "FailedDaemonPod" &&
          e["message"] === `Found failed daemon pod default/${target.metadata.name} on node n2, will try to kill it`,
      ),
    );
  });
});
