/** The Deployment controller's arithmetic, by table (upstream deployment/util semantics). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import {
  equalIgnoreHash,
  fenceposts,
  isProgressing,
  isTimedOut,
  MAX_REPLICAS,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  proportionalSizes,
  REVISION,
  REVISION_HISTORY,
  setCondition,
  setNewReplicaSetAnnotations,
  templateHash,
} from "../../src/controllers/deployment/util.js";

const T0 = Date.parse("2026-06-01T12:00:00Z");

function deployment(
  replicas: number,
  o: { surge?: number | string; unavailable?: number | string; recreate?: boolean; status?: object } = {},
): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", namespace: "default", generation: 1 },
    spec: {
      replicas,
      strategy: o.recreate
        ? { type: "Recreate" }
        : {
            type: "RollingUpdate",
            rollingUpdate: { maxSurge: o.surge ?? "25%", maxUnavailable: o.unavailable ?? "25%" },
          },
      progressDeadlineSeconds: 600,
    },
    status: o.status ?? {},
  };
}

function rs(name: string, replicas: number, o: { max?: number; created?: number; available?: number } = {}): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      creationTimestamp: new Date(o.created ?? T0).toISOString(),
      annotations: o.max !== undefined ? { [MAX_REPLICAS]: String(o.max) } : {},
    },
    spec: { replicas },
    status: { replicas, availableReplicas: o.available ?? replicas },
  };
}

describe("rolling-update fenceposts (ResolveFenceposts, MaxUnavailable)", () => {
  const cases: Array<[string, KObject, { surge: number; unavailable: number }, number]> = [
    ["25%/25% of 10: surge rounds up, unavailable down", deployment(10), { surge: 3, unavailable: 2 }, 2],
    ["25%/25% of 1", deployment(1), { surge: 1, unavailable: 0 }, 0],
    ["0/0 → one may be unavailable", deployment(3, { surge: 0, unavailable: 0 }), { surge: 0, unavailable: 1 }, 1],
    ["absolute values", deployment(4, { surge: 2, unavailable: 1 }), { surge: 2, unavailable: 1 }, 1],
    ["unavailable capped at replicas", deployment(2, { surge: 0, unavailable: 5 }), { surge: 0, unavailable: 5 }, 2],
  ];
  for (const [what, d, want, unavailable] of cases) {
    it(what, () => {
      assert.deepEqual(fenceposts(d), want);
      assert.equal(maxUnavailable(d), unavailable);
    });
  }
  it("Recreate has no surge and no unavailability budget", () => {
    assert.equal(maxUnavailable(deployment(3, { recreate: true })), 0);
  });
});

describe("how far the new ReplicaSet grows (NewRSNewReplicas)", () => {
  const cases: Array<[string, KObject, KObject[], number]> = [
    ["first set of a new Deployment: all at once", deployment(3), [rs("new", 0)], 3],
    ["rolling 3 with surge 1: one more than the total", deployment(3, { surge: 1 }), [rs("old", 3), rs("new", 0)], 1],
    ["already at replicas + surge: no growth", deployment(3, { surge: 1 }), [rs("old", 3), rs("new", 1)], 1],
    ["old shrank: new grows into the room", deployment(3, { surge: 1 }), [rs("old", 1), rs("new", 2)], 3],
    ["never past replicas", deployment(3, { surge: 10 }), [rs("old", 3), rs("new", 0)], 3],
    ["Recreate: straight to replicas", deployment(5, { recreate: true }), [rs("new", 0)], 5],
  ];
  for (const [what, d, sets, want] of cases) {
    it(what, () => assert.equal(newRSNewReplicas(d, sets, sets.at(-1)!), want));
  }
});

describe("proportional scaling mid-rollout (DeploymentController.scale)", () => {
  it("10 → 15 with two active sets of 8 and 5 (max-replicas 13): 3 to the old, 2 to the new, as upstream's docs", () => {
    // a rollout of 10 (maxSurge 3) scaled to 15: 18 allowed, 13 there, the 5 extra split 3/2
    const d = deployment(15, { surge: 3, unavailable: 2, status: { replicas: 13 } });
    const sizes = proportionalSizes(d, [rs("old", 8, { max: 13 }), rs("new", 5, { max: 13, created: T0 + 1000 })]);
    assert.deepEqual(Object.fromEntries(sizes), { old: 11, new: 7 });
  });
  it("scaling down takes from both, the rest from the largest", () => {
    const d = deployment(5, { surge: 1, unavailable: 0, status: { replicas: 11 } });
    const sizes = proportionalSizes(d, [rs("old", 6, { max: 11 }), rs("new", 5, { max: 11, created: T0 + 1000 })]);
    // allowed 6, 11 running: 5 to remove, 3 from old and 2 from new by proportion
    assert.deepEqual(Object.fromEntries(sizes), { old: 3, new: 3 });
  });
  it("to zero: every set goes to zero", () => {
    const d = deployment(0, { status: { replicas: 4 } });
    const sizes = proportionalSizes(d, [rs("old", 2), rs("new", 2, { created: T0 + 1000 })]);
    assert.deepEqual(Object.fromEntries(sizes), { old: 0, new: 0 });
  });
});

describe("pod-template-hash", () => {
  const template = {
    metadata: { labels: { app: "nginx" } },
    spec: { containers: [{ name: "nginx", image: "nginx" }] },
  };
  it("is up to ten characters of upstream's safe alphabet, stable, and moves with the collision count", () => {
    const h = templateHash(template);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(templateHash(structuredClone(template)), h);
    assert.notEqual(templateHash(template, 1), h);
    assert.notEqual(templateHash({ ...template, spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } }), h);
  });
  it("templates equal but for the hash label (and empty fields) are the same", () => {
    const withHash = structuredClone(template) as { metadata: { labels: Record<string, string> } };
    withHash.metadata.labels["pod-template-hash"] = "abc";
    assert.ok(equalIgnoreHash(template, withHash));
    assert.ok(equalIgnoreHash(template, { ...template, spec: { ...template.spec, volumes: [] } }));
    assert.ok(!equalIgnoreHash(template, { ...template, spec: { containers: [{ name: "nginx", image: "nginx:2" }] } }));
  });
});

describe("revisions on the new ReplicaSet (SetNewReplicaSetAnnotations)", () => {
  it("a new set gets the revision, the Deployment's annotations and the replica annotations", () => {
    const d = deployment(3, { surge: 1 });
    d.metadata.annotations = { "kubernetes.io/change-cause": "first", [REVISION]: "1" };
    const r = rs("new", 0);
    assert.ok(setNewReplicaSetAnnotations(d, r, 2, false));
    assert.deepEqual(r.metadata.annotations, {
      "kubernetes.io/change-cause": "first",
      [REVISION]: "2",
      "deployment.kubernetes.io/desired-replicas": "3",
      "deployment.kubernetes.io/max-replicas": "4",
    });
  });
  it("a reused set keeps its earlier revisions in revision-history", () => {
    const d = deployment(3);
    const r = rs("back", 0);
    r.metadata.annotations = { [REVISION]: "1" };
    setNewReplicaSetAnnotations(d, r, 3, true);
    assert.equal(r.metadata.annotations[REVISION], "3");
    assert.equal(r.metadata.annotations[REVISION_HISTORY], "1");
    r.metadata.annotations[REVISION] = "3";
    setNewReplicaSetAnnotations(d, r, 5, true);
    assert.equal(r.metadata.annotations[REVISION_HISTORY], "1,3");
    assert.ok(!setNewReplicaSetAnnotations(d, r, 5, true), "same revision: nothing to write");
  });
});

describe("Progressing condition bookkeeping", () => {
  it("same status and reason: untouched; another reason with the same status keeps the transition time", () => {
    const s = { conditions: [newCondition("Progressing", "True", "NewReplicaSetCreated", "m", T0)] };
    setCondition(s, newCondition("Progressing", "True", "NewReplicaSetCreated", "m2", T0 + 5000));
    assert.equal(s.conditions[0]?.["message"], "m");
    setCondition(s, newCondition("Progressing", "True", "ReplicaSetUpdated", "m3", T0 + 5000));
    assert.equal(s.conditions[0]?.["lastTransitionTime"], "2026-06-01T12:00:00Z");
    assert.equal(s.conditions[0]?.["lastUpdateTime"], "2026-06-01T12:00:05Z");
  });
  it("progress: more updated, fewer old, more ready or more available than the last status", () => {
    const d = deployment(3, { status: { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 } });
    assert.ok(isProgressing(d, { replicas: 4, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 }));
    assert.ok(isProgressing(d, { replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 }));
    assert.ok(!isProgressing(d, { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 }));
  });
  it("times out when the condition was last updated longer ago than progressDeadlineSeconds", () => {
    const d = deployment(3);
    const s = { conditions: [newCondition("Progressing", "True", "ReplicaSetUpdated", "m", T0)] };
    assert.ok(!isTimedOut(d, s, T0 + 600_000));
    assert.ok(isTimedOut(d, s, T0 + 600_001));
    const done = { conditions: [newCondition("Progressing", "True", "NewReplicaSetAvailable", "m", T0)] };
    assert.ok(!isTimedOut(d, done, T0 + 10_000_000));
  });
});
