import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { printedResources, printerFor } from "../../src/api/printers/index.js";
import { NOW } from "./helpers.js";

describe("every printer", () => {
  for (const { group, resource } of printedResources()) {
    const label = group === "" ? resource : `${resource}.${group}`;
    it(`${label}: one cell per column, even for a bare object`, () => {
      const p = printerFor(group, resource);
      const cells = p.cells({ metadata: { name: "x" } }, NOW);
      assert.equal(cells.length, p.columns.length);
      for (const c of cells) assert.ok(["string", "number", "boolean"].includes(typeof c), `${typeof c}`);
    });
    it(`${label}: exactly one column has format "name", and column types are known`, () => {
      const p = printerFor(group, resource);
      assert.equal(p.columns.filter((c) => c.format === "name" && c.name === "Name").length, 1);
      for (const c of p.columns) assert.ok(["string", "integer", "number", "boolean", "date"].includes(c.type), c.type);
    });
  }
  it("covers the resources kubectl users meet most", () => {
    const have = new Set(printedResources().map((r) => `${r.group}/${r.resource}`));
    for (const want of [
      "/pods",
      "/nodes",
      "/services",
      "/endpoints",
      "/events",
      "/namespaces",
      "/configmaps",
      "/secrets",
      "/serviceaccounts",
      "/persistentvolumes",
      "/persistentvolumeclaims",
      "/resourcequotas",
      "/replicationcontrollers",
      "apps/deployments",
      "apps/replicasets",
      "apps/daemonsets",
      "apps/statefulsets",
      "apps/controllerrevisions",
      "batch/jobs",
      "batch/cronjobs",
      "autoscaling/horizontalpodautoscalers",
      "policy/poddisruptionbudgets",
      "discovery.k8s.io/endpointslices",
      "events.k8s.io/events",
      "storage.k8s.io/storageclasses",
      "storage.k8s.io/csidrivers",
      "storage.k8s.io/csinodes",
      "storage.k8s.io/volumeattachments",
      "coordination.k8s.io/leases",
      "scheduling.k8s.io/priorityclasses",
      "rbac.authorization.k8s.io/rolebindings",
      "rbac.authorization.k8s.io/clusterrolebindings",
      "networking.k8s.io/ingresses",
      "networking.k8s.io/networkpolicies",
    ]) {
      assert.ok(have.has(want), want);
    }
  });
});
