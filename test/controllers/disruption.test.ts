/** The disruption controller: budget arithmetic by table, and PDB status kept on a live registry. */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { scaledValue } from "../../src/api/intstr.js";
import type { KObject } from "../../src/api/types.js";
import {
  countHealthy,
  DELETION_TIMEOUT_MS,
  DisruptionController,
  disruptedPodMap,
  expectedPodCount,
  type ScaleFinder,
  selectorString,
} from "../../src/controllers/disruption/index.js";
import { liveRegistry } from "./support.js";

const pod = (name: string, opts: { ready?: boolean; owner?: string; deleting?: boolean } = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: "default",
    ...(opts.owner
      ? {
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "ReplicaSet", name: opts.owner, uid: opts.owner, controller: true },
          ],
        }
      : {}),
    ...(opts.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
  },
  status: { conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }] },
});

describe("budget arithmetic", () => {
  it("int-or-percent scaling rounds as asked and rejects other strings", () => {
    assert.equal(scaledValue(2, 10, true), 2);
    assert.equal(scaledValue("50%", 3, true), 2);
    assert.equal(scaledValue("50%", 3, false), 1);
    assert.equal(scaledValue("0%", 3, true), 0);
    assert.throws(() => scaledValue("half", 3, true), /must be an integer or a percentage/);
  });

  const scales: Record<string, number> = { rs1: 3, rs2: 2 };
  const find: ScaleFinder = (ref) =>
    scales[String(ref["uid"])] === undefined
      ? undefined
      : { uid: String(ref["uid"]), scale: scales[String(ref["uid"])]! };

  it("an integer minAvailable counts the matching pods; no controller needed", () => {
    assert.deepEqual(expectedPodCount({ minAvailable: 2 }, [pod("a"), pod("b"), pod("c")], find), {
      expectedCount: 3,
      desiredHealthy: 2,
      unmanagedPods: [],
    });
  });

  it("maxUnavailable and percentages count the controllers' replicas, each controller once", () => {
    const pods = [pod("a", { owner: "rs1" }), pod("b", { owner: "rs1" }), pod("c", { owner: "rs2" })];
    assert.deepEqual(expectedPodCount({ maxUnavailable: 1 }, pods, find), {
      expectedCount: 5,
      desiredHealthy: 4,
      unmanagedPods: [],
    });
    assert.deepEqual(expectedPodCount({ maxUnavailable: "30%" }, pods, find).desiredHealthy, 3);
    assert.deepEqual(expectedPodCount({ minAvailable: "50%" }, pods, find).desiredHealthy, 3);
    assert.equal(expectedPodCount({ maxUnavailable: 9 }, pods, find).desiredHealthy, 0);
  });

  it("pods without a controller are reported as unmanaged; an unknown controller is an error", () => {
    const r = expectedPodCount({ maxUnavailable: 1 }, [pod("a", { owner: "rs1" }), pod("lonely")], find);
    assert.deepEqual(r, { expectedCount: 3, desiredHealthy: 2, unmanagedPods: ["lonely"] });
    assert.throws(
      () => expectedPodCount({ maxUnavailable: 1 }, [pod("x", { owner: "gone" })], find),
      /found no controllers for pod "x"/,
    );
  });

  it("evicted pods stop counting for two minutes; later entries expire; deleting and unready pods never count", () => {
    const now = Date.parse("2026-06-01T12:00:00Z");
    const recent = new Date(now - 30_000).toISOString();
    const old = new Date(now - DELETION_TIMEOUT_MS - 1).toISOString();
    const pods = [pod("a"), pod("b"), pod("c"), pod("d", { deleting: true }), pod("e", { ready: false })];
    const m = disruptedPodMap(pods, { a: recent, b: old, d: recent }, now);
    assert.deepEqual(m.inForce, { a: recent });
    assert.deepEqual(
      m.expired.map((p) => p.metadata.name),
      ["b"],
    );
    assert.equal(m.recheckAt, now - 30_000 + DELETION_TIMEOUT_MS);
    assert.equal(countHealthy(pods, m.inForce, now), 2); // b and c
  });

  it("prints a selector as Go's %v does", () => {
    assert.equal(
      selectorString({ matchLabels: { b: "2", a: "1" } }),
      "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{},}",
    );
  });
});

describe("DisruptionController on a registry", () => {
  const live = liveRegistry({ admission: false });
  const client = live.client;
  const ctl = new DisruptionController(client);
  after(() => {
    ctl.stop();
    live.close();
  });
  const pods = () => client.resource("", "v1", "pods");
  const pdbs = () => client.resource("policy", "v1", "poddisruptionbudgets");
  const waitStatus = async (name: string, want: (s: Record<string, unknown>) => boolean) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const s = (client.get(pdbs(), "default", name)?.["status"] ?? {}) as Record<string, unknown>;
      if (want(s)) return s;
      if (Date.now() > deadline) throw new Error(`PDB ${name} status never matched: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const makePod = async (name: string, labels: Record<string, string>, owner?: KObject) => {
    await client.ensure(pods(), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: "default",
        labels,
        ...(owner
          ? {
              ownerReferences: [
                {
                  apiVersion: "apps/v1",
                  kind: owner.kind ?? "",
                  name: owner.metadata.name ?? "",
                  uid: owner.metadata.uid ?? "",
                  controller: true,
                },
              ],
            }
          : {}),
      },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    await client.update(pods(), "default", name, "status", (o) => {
      o["status"] = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
      return o;
    });
  };

  it("computes the status of integer, percentage and maxUnavailable budgets and follows pod readiness", async () => {
    await live.ready();
    const deployments = client.resource("apps", "v1", "deployments");
    const template = {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "c", image: "nginx" }] },
    };
    await client.ensure(deployments, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
      spec: { replicas: 4, selector: { matchLabels: { app: "web" } }, template },
    });
    const dep = client.get(deployments, "default", "web")!;
    const rsSv = client.resource("apps", "v1", "replicasets");
    await client.ensure(rsSv, {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "web-abc",
        namespace: "default",
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: dep.metadata.uid ?? "", controller: true },
        ],
      },
      spec: { replicas: 4, selector: { matchLabels: { app: "web" } }, template },
    });
    const rs = client.get(rsSv, "default", "web-abc")!;
    for (const n of ["web-1", "web-2", "web-3"]) await makePod(n, { app: "web" }, rs);
    ctl.start();
    const pdb = (name: string, spec: Record<string, unknown>) =>
      client.ensure(pdbs(), {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name, namespace: "default" },
        spec: { selector: { matchLabels: { app: "web" } }, ...spec },
      });
    await pdb("min-int", { minAvailable: 2 });
    await pdb("max-one", { maxUnavailable: 1 });
    await pdb("min-pct", { minAvailable: "50%" });
    const s1 = await waitStatus("min-int", (s) => s["observedGeneration"] === 1);
    assert.deepEqual(
      [s1["expectedPods"], s1["desiredHealthy"], s1["currentHealthy"], s1["disruptionsAllowed"]],
      [3, 2, 3, 1],
    );
    // the Deployment's 4 replicas are expected (through its ReplicaSet): 3 healthy of 3 needed
    const s2 = await waitStatus("max-one", (s) => s["observedGeneration"] === 1);
    assert.deepEqual(
      [s2["expectedPods"], s2["desiredHealthy"], s2["currentHealthy"], s2["disruptionsAllowed"]],
      [4, 3, 3, 0],
    );
    assert.equal((s2["conditions"] as Array<Record<string, unknown>>)[0]?.["reason"], "InsufficientPods");
    const s3 = await waitStatus("min-pct", (s) => s["observedGeneration"] === 1);
    assert.deepEqual([s3["expectedPods"], s3["desiredHealthy"], s3["disruptionsAllowed"]], [4, 2, 1]);
    // one pod turns unready: every budget sees it
    await client.update(pods(), "default", "web-2", "status", (o) => {
      o["status"] = { phase: "Running", conditions: [{ type: "Ready", status: "False" }] };
      return o;
    });
    const s4 = await waitStatus("min-int", (s) => s["currentHealthy"] === 2);
    assert.equal(s4["disruptionsAllowed"], 0);
    assert.equal((s4["conditions"] as Array<Record<string, unknown>>)[0]?.["reason"], "InsufficientPods");
  });

  it("a percentage budget over a pod no controller owns still gets a status, with an UnmanagedPods event", async () => {
    await makePod("stray", { app: "stray" });
    await client.ensure(pdbs(), {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "stray-pct", namespace: "default" },
      spec: { selector: { matchLabels: { app: "stray" } }, minAvailable: "100%" },
    });
    const s = await waitStatus("stray-pct", (x) => x["observedGeneration"] === 1);
    assert.deepEqual([s["expectedPods"], s["disruptionsAllowed"]], [0, 0]);
    const events = await client.list(client.resource("", "v1", "events"), "default");
    assert.ok(
      events.some((e) => e.obj["reason"] === "UnmanagedPods"),
      JSON.stringify(events.map((e) => e.obj["reason"])),
    );
  });

  it("a budget whose pod's controller is unknown fails safe: no disruption allowed, SyncFailed", async () => {
    await client.ensure(pods(), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "orphaned",
        namespace: "default",
        labels: { app: "orphaned" },
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "gone", uid: "gone-uid", controller: true },
        ],
      },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    await client.ensure(pdbs(), {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "orphaned", namespace: "default" },
      spec: { selector: { matchLabels: { app: "orphaned" } }, maxUnavailable: 1 },
    });
    const s = await waitStatus("orphaned", (x) => Array.isArray(x["conditions"]));
    const c = (s["conditions"] as Array<Record<string, unknown>>)[0]!;
    assert.equal(s["disruptionsAllowed"], 0);
    assert.deepEqual(
      [c["status"], c["reason"], c["message"]],
      ["False", "SyncFailed", 'found no controllers for pod "orphaned"'],
    );
  });
});
