/** The ReplicaSet/ReplicationController controller: deletion ranking by table, and sets kept on a live registry. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { controllerOf } from "../../src/controllers/refmanager.js";
import {
  isAvailable,
  podFromTemplate,
  ReplicaSetController,
  rankForDeletion,
} from "../../src/controllers/replicaset/index.js";
import { ResourceQuotaController } from "../../src/controllers/resourcequota/index.js";
import { liveRegistry, until } from "./support.js";

const T0 = Date.parse("2026-06-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

function pod(
  name: string,
  o: {
    node?: string;
    phase?: string;
    ready?: boolean;
    readySince?: number;
    cost?: number;
    restarts?: number;
    created?: number;
  } = {},
): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      creationTimestamp: iso(o.created ?? T0),
      ...(o.cost !== undefined
        ? { annotations: { "controller.kubernetes.io/pod-deletion-cost": String(o.cost) } }
        : {}),
    },
    spec: o.node ? { nodeName: o.node } : {},
    status: {
      phase: o.phase ?? "Running",
      conditions: [
        { type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: iso(o.readySince ?? T0) },
      ],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

describe("deletion ranking (upstream ActivePodsWithRanks)", () => {
  const order = (pods: KObject[]) => rankForDeletion(pods, pods, T0 + 3_600_000).map((p) => p.metadata.name);
  const cases: Array<[string, KObject[], string[]]> = [
    ["unscheduled before scheduled", [pod("a", { node: "n1" }), pod("b")], ["b", "a"]],
    [
      "pending before running",
      [pod("a", { node: "n1" }), pod("b", { node: "n2", phase: "Pending", ready: false })],
      ["b", "a"],
    ],
    ["not ready before ready", [pod("a", { node: "n1" }), pod("b", { node: "n2", ready: false })], ["b", "a"]],
    [
      "lower pod-deletion-cost first",
      [pod("a", { node: "n1", cost: 10 }), pod("b", { node: "n2", cost: -5 }), pod("c", { node: "n3" })],
      ["b", "c", "a"],
    ],
    [
      "more of the set on the same node first",
      [pod("a", { node: "n1" }), pod("b", { node: "n2" }), pod("c", { node: "n2" })],
      ["b", "c", "a"],
    ],
    [
      "ready for less time first",
      [pod("a", { node: "n1", readySince: T0 }), pod("b", { node: "n2", readySince: T0 + 60_000 })],
      ["b", "a"],
    ],
    ["more restarts first", [pod("a", { node: "n1" }), pod("b", { node: "n2", restarts: 3 })], ["b", "a"]],
    ["newer first", [pod("a", { node: "n1", created: T0 }), pod("b", { node: "n2", created: T0 + 1000 })], ["b", "a"]],
  ];
  for (const [what, pods, want] of cases) it(what, () => assert.deepEqual(order(pods), want));

  it("available means ready for minReadySeconds", () => {
    const p = pod("a", { readySince: T0 });
    assert.equal(isAvailable(p, 0, T0), true);
    assert.equal(isAvailable(p, 10, T0 + 9_000), false);
    assert.equal(isAvailable(p, 10, T0 + 10_000), true);
    assert.equal(isAvailable(pod("b", { ready: false }), 0, T0), false);
  });

  it("a pod from the template: generateName, the template's labels, a controller reference", () => {
    const rs: KObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web", namespace: "ns", uid: "u1" },
      spec: {
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
      },
    };
    const p = podFromTemplate(rs, "ReplicaSet", "apps/v1");
    assert.equal(p.metadata.generateName, "web-");
    assert.deepEqual(p.metadata.labels, { app: "web" });
    assert.deepEqual(controllerOf(p), {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "web",
      uid: "u1",
      controller: true,
      blockOwnerDeletion: true,
    });
  });
});

describe("ReplicaSetController on a registry", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  const ctl = new ReplicaSetController(client);
  // quota admission reads the quota's status, which its controller keeps
  const quota = new ResourceQuotaController(client);
  const pods = () => client.resource("", "v1", "pods");
  const rss = () => client.resource("apps", "v1", "replicasets");
  const rcs = () => client.resource("", "v1", "replicationcontrollers");
  const podsOf = async (uid: string) =>
    (await client.list(pods(), "default"))
      .map((c) => c.obj)
      .filter((p) => controllerOf(p)?.uid === uid && !p.metadata.deletionTimestamp);
  before(async () => {
    await live.ready();
    ctl.start();
    quota.start();
  });
  after(() => {
    ctl.stop();
    quota.stop();
    live.close();
  });

  const template = (labels: Record<string, string>) => ({
    metadata: { labels },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });

  it("creates the replicas, recreates a deleted pod, scales down, and reports status", async () => {
    await client.ensure(rss(), {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web", namespace: "default" },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) },
    });
    const rs = client.get(rss(), "default", "web")!;
    const uid = rs.metadata.uid ?? "";
    const three = await until("3 pods", async () => ((await podsOf(uid)).length === 3 ? podsOf(uid) : undefined));
    assert.ok(three.every((p) => p.metadata.name?.startsWith("web-")));
    const st = await until("status", async () => {
      const s = client.get(rss(), "default", "web")?.["status"] as Record<string, unknown> | undefined;
      return s?.["replicas"] === 3 ? s : undefined;
    });
    assert.deepEqual(st, { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
    // a deleted pod comes back
    await client.delete(pods(), "default", three[0]!.metadata.name ?? "", { gracePeriodSeconds: 0 });
    await until("a replacement", async () => {
      const now = await podsOf(uid);
      return now.length === 3 && !now.some((p) => p.metadata.name === three[0]!.metadata.name) ? true : undefined;
    });
    // one becomes ready: scaling to 1 keeps the ready one
    const keep = (await podsOf(uid))[1]!;
    await client.update(pods(), "default", keep.metadata.name ?? "", "status", (o) => {
      o["status"] = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
      return o;
    });
    await client.update(rss(), "default", "web", "", (o) => {
      (o["spec"] as Record<string, unknown>)["replicas"] = 1;
      return o;
    });
    const one = await until("1 pod", async () => ((await podsOf(uid)).length === 1 ? podsOf(uid) : undefined));
    assert.equal(one[0]!.metadata.name, keep.metadata.name);
    const st2 = await until("status after scale-down", async () => {
      const s = client.get(rss(), "default", "web")?.["status"] as Record<string, unknown> | undefined;
      return s?.["replicas"] === 1 && s["observedGeneration"] === 2 ? s : undefined;
    });
    assert.deepEqual(st2, {
      replicas: 1,
      fullyLabeledReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 2,
    });
    const events = (await client.list(client.resource("", "v1", "events"), "default")).map((e) => e.obj);
    assert.ok(
      events.some((e) => e["reason"] === "SuccessfulCreate" && /^Created pod: web-/.test(String(e["message"]))),
    );
    assert.ok(
      events.some((e) => e["reason"] === "SuccessfulDelete" && /^Deleted pod: web-/.test(String(e["message"]))),
    );
  });

  it("releases a pod whose labels no longer match and adopts a matching orphan", async () => {
    const uid = client.get(rss(), "default", "web")!.metadata.uid ?? "";
    const [mine] = await podsOf(uid);
    await client.update(pods(), "default", mine!.metadata.name ?? "", "", (o) => {
      o.metadata.labels = { app: "debug" };
      return o;
    });
    const released = await until("released", async () => {
      const p = client.get(pods(), "default", mine!.metadata.name ?? "");
      return p && !controllerOf(p) ? p : undefined;
    });
    assert.equal(released.metadata.ownerReferences, undefined);
    // a replacement keeps the count
    await until("a replacement", async () => ((await podsOf(uid)).length === 1 ? true : undefined));
    // scale up to 2, then an orphan with the labels is adopted instead of creating... first make room
    await client.update(rss(), "default", "web", "", (o) => {
      (o["spec"] as Record<string, unknown>)["replicas"] = 3;
      return o;
    });
    await until("3 pods", async () => ((await podsOf(uid)).length === 3 ? true : undefined));
    await client.update(pods(), "default", mine!.metadata.name ?? "", "", (o) => {
      o.metadata.labels = { app: "web" };
      return o;
    });
    // the orphan matches again: adopted, which makes 4 — one goes (the unready newest, not necessarily it)
    await until("adopted", async () => {
      const p = client.get(pods(), "default", mine!.metadata.name ?? "");
      return p && controllerOf(p)?.uid === uid ? true : undefined;
    });
    await until("back to 3", async () => ((await podsOf(uid)).length === 3 ? true : undefined));
  });

  it("a ReplicationController works the same with its map selector", async () => {
    await client.ensure(rcs(), {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "legacy", namespace: "default" },
      spec: { replicas: 2, selector: { app: "legacy" }, template: template({ app: "legacy" }) },
    });
    const uid = client.get(rcs(), "default", "legacy")!.metadata.uid ?? "";
    const two = await until("2 pods", async () => ((await podsOf(uid)).length === 2 ? podsOf(uid) : undefined));
    assert.equal(controllerOf(two[0]!)?.kind, "ReplicationController");
    assert.equal(controllerOf(two[0]!)?.apiVersion, "v1");
  });

  it("a refused create (quota) sets ReplicaFailure with the refusal and a FailedCreate event", async () => {
    await client.ensure(client.resource("", "v1", "resourcequotas"), {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "few", namespace: "default" },
      spec: { hard: { pods: "0" } },
    });
    await client.ensure(rss(), {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "blocked", namespace: "default" },
      spec: { replicas: 1, selector: { matchLabels: { app: "blocked" } }, template: template({ app: "blocked" }) },
    });
    const cond = await until("ReplicaFailure", async () => {
      const s = client.get(rss(), "default", "blocked")?.["status"] as Record<string, unknown> | undefined;
      const c = (s?.["conditions"] as Array<Record<string, unknown>> | undefined)?.[0];
      return c?.["type"] === "ReplicaFailure" ? c : undefined;
    });
    assert.equal(cond["reason"], "FailedCreate");
    assert.match(String(cond["message"]), /exceeded quota: few/);
    const events = (await client.list(client.resource("", "v1", "events"), "default")).map((e) => e.obj);
    assert.ok(
      events.some(
        (e) => e["reason"] === "FailedCreate" && /^Error creating: .*exceeded quota/.test(String(e["message"])),
      ),
    );
  });
});
