import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyPatch, PatchError } from "../../src/api/patch/index.js";
import { schemaForKind } from "../../src/api/schema/index.js";
import type { KObject } from "../../src/api/types.js";
import { at, nginxDeployment, nginxService, webStatefulSet } from "./fixtures.js";

const smp = "application/strategic-merge-patch+json";
const deploymentSchema = schemaForKind({ group: "apps", version: "v1", kind: "Deployment" });
const serviceSchema = schemaForKind({ group: "", version: "v1", kind: "Service" });
const stsSchema = schemaForKind({ group: "apps", version: "v1", kind: "StatefulSet" });

function patchDeployment(patch: unknown, original: KObject = nginxDeployment()): KObject {
  return applyPatch(original, JSON.stringify(patch), smp, deploymentSchema);
}

function containers(obj: KObject): { name?: string; [k: string]: unknown }[] {
  return at(obj, "spec", "template", "spec", "containers") as { name?: string }[];
}

describe("strategic merge patch", () => {
  it("SMP merges containers by name and keeps the other container", () => {
    const out = patchDeployment({
      spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:1.16.1" }] } } },
    });
    const cs = containers(out);
    assert.deepEqual(
      cs.map((c) => [c.name, c["image"]]),
      [
        ["nginx", "nginx:1.16.1"],
        ["sidecar", "busybox"],
      ],
    );
    assert.deepEqual(cs[0]?.["ports"], [{ containerPort: 80, protocol: "TCP" }], "fields not in the patch stay");
  });

  it("a container with a new name goes first (upstream places patch items the live list has no position for before it)", () => {
    const out = patchDeployment({ spec: { template: { spec: { containers: [{ name: "log", image: "fluentd" }] } } } });
    assert.deepEqual(
      containers(out).map((c) => c.name),
      ["log", "nginx", "sidecar"],
    );
  });

  it("$patch: delete removes the list item with that key", () => {
    const out = patchDeployment({
      spec: { template: { spec: { containers: [{ name: "sidecar", $patch: "delete" }] } } },
    });
    assert.deepEqual(
      containers(out).map((c) => c.name),
      ["nginx"],
    );
  });

  it("$patch: replace in a list replaces the whole list", () => {
    const out = patchDeployment({
      spec: { template: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } } },
    });
    assert.deepEqual(containers(out), [{ name: "only", image: "x" }]);
  });

  it("$patch: replace in a map replaces the map", () => {
    const out = patchDeployment({ metadata: { labels: { $patch: "replace", fresh: "yes" } } });
    assert.deepEqual(out.metadata.labels, { fresh: "yes" });
  });

  it("$patch: delete in a map empties it", () => {
    const out = patchDeployment({ spec: { strategy: { $patch: "delete" } } });
    assert.deepEqual(at(out, "spec", "strategy"), {});
  });

  it("null deletes a key; lists without a strategy are replaced", () => {
    const out = patchDeployment({
      metadata: { labels: { tier: null } },
      spec: { template: { spec: { containers: [{ name: "sidecar", args: ["sleep", "10"] }] } } },
    });
    assert.deepEqual(out.metadata.labels, { app: "nginx" });
    assert.deepEqual(containers(out)[1]?.["args"], ["sleep", "10"]);
  });

  it("env entries merge by name inside the merged container", () => {
    const out = patchDeployment({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "nginx",
                env: [
                  { name: "B", value: "two" },
                  { name: "C", value: "3" },
                ],
              },
            ],
          },
        },
      },
    });
    assert.deepEqual(containers(out)[0]?.["env"], [
      { name: "A", value: "1" },
      { name: "B", value: "two" },
      { name: "C", value: "3" },
    ]);
  });

  it("$retainKeys on a retainKeys field drops the keys it does not list", () => {
    const out = patchDeployment({ spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } });
    assert.deepEqual(at(out, "spec", "strategy"), { type: "Recreate" });
  });

  it("$retainKeys inside a merge,retainKeys list item switches the volume source", () => {
    const out = patchDeployment({
      spec: {
        template: {
          spec: { volumes: [{ name: "www", $retainKeys: ["hostPath", "name"], hostPath: { path: "/data" } }] },
        },
      },
    });
    assert.deepEqual(at(out, "spec", "template", "spec", "volumes"), [{ name: "www", hostPath: { path: "/data" } }]);
  });

  it("$retainKeys that omits a key the patch sets is a bad request", () => {
    assert.throws(
      () => patchDeployment({ spec: { strategy: { $retainKeys: ["type"], rollingUpdate: { maxSurge: 1 } } } }),
      (err: unknown) =>
        err instanceof PatchError && err.message === "invalid patch format of retainKeys" && err.code === 400,
    );
  });

  it("$setElementOrder reorders the containers", () => {
    const out = patchDeployment({
      spec: { template: { spec: { "$setElementOrder/containers": [{ name: "sidecar" }, { name: "nginx" }] } } },
    });
    assert.deepEqual(
      containers(out).map((c) => c.name),
      ["sidecar", "nginx"],
    );
  });

  it("a list item without its merge key is refused with upstream's message", () => {
    assert.throws(
      () => patchDeployment({ spec: { template: { spec: { containers: [{ image: "x" }] } } } }),
      (err: unknown) =>
        err instanceof PatchError && err.message === "map: map[image:x] does not contain declared merge key: name",
    );
  });

  it("service ports merge by port and keep the other port", () => {
    const out = applyPatch(
      nginxService(),
      JSON.stringify({ spec: { ports: [{ port: 443, targetPort: 8443 }] } }),
      smp,
      serviceSchema,
    );
    assert.deepEqual(at(out, "spec", "ports"), [
      { name: "http", port: 80, protocol: "TCP", targetPort: 80 },
      { name: "https", port: 443, protocol: "TCP", targetPort: 8443 },
    ]);
  });

  it("finalizers (a merge list of strings) are unioned, and $deleteFromPrimitiveList removes some", () => {
    const union = applyPatch(
      nginxService(),
      JSON.stringify({ metadata: { finalizers: ["c", "a"] } }),
      smp,
      serviceSchema,
    );
    assert.deepEqual(union.metadata.finalizers, ["c", "a", "b"]);
    const removed = applyPatch(
      nginxService(),
      JSON.stringify({ metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }),
      smp,
      serviceSchema,
    );
    assert.deepEqual(removed.metadata.finalizers, ["b"]);
  });

  it("a StatefulSet's volumeClaimTemplates (no strategy) are replaced whole", () => {
    const out = applyPatch(
      webStatefulSet(),
      JSON.stringify({ spec: { replicas: 3, volumeClaimTemplates: [{ metadata: { name: "data" } }] } }),
      smp,
      stsSchema,
    );
    assert.equal(at(out, "spec", "replicas"), 3);
    assert.deepEqual(at(out, "spec", "volumeClaimTemplates"), [{ metadata: { name: "data" } }]);
    assert.equal(at(out, "spec", "serviceName"), "nginx");
  });

  it("client-side apply 3-way patch from kubectl (as kubectl computes it: a strategic merge patch with $setElementOrder) applies to a Deployment", () => {
    // Live: what the last apply created plus a server default kubectl never sent.
    const live = nginxDeployment();
    const first = containers(live)[0];
    assert.ok(first);
    first["imagePullPolicy"] = "IfNotPresent";
    const lastApplied =
      '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","namespace":"default"}}\n';
    // kubectl apply after editing the manifest: image bumped, tier label dropped, env B dropped and C added,
    // replicas 2 → 3. This is the patch kubectl's CreateThreeWayMergePatch sends for that change.
    const patch = {
      metadata: {
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": lastApplied },
        labels: { tier: null },
      },
      spec: {
        replicas: 3,
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }],
            containers: [
              {
                "$setElementOrder/env": [{ name: "A" }, { name: "C" }],
                env: [
                  { name: "C", value: "3" },
                  { $patch: "delete", name: "B" },
                ],
                image: "nginx:1.16.1",
                name: "nginx",
              },
            ],
          },
        },
      },
    };
    const out = patchDeployment(patch, live);
    assert.deepEqual(out.metadata.labels, { app: "nginx" });
    assert.equal(out.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"], lastApplied);
    assert.equal(at(out, "spec", "replicas"), 3);
    const cs = containers(out);
    assert.deepEqual(
      cs.map((c) => c.name),
      ["nginx", "sidecar"],
    );
    assert.equal(cs[0]?.["image"], "nginx:1.16.1");
    assert.equal(cs[0]?.["imagePullPolicy"], "IfNotPresent", "server-set fields survive");
    assert.deepEqual(cs[0]?.["env"], [
      { name: "A", value: "1" },
      { name: "C", value: "3" },
    ]);
    assert.equal(JSON.stringify(out).includes("$"), false, "no directive leaks into the object");
  });
});
