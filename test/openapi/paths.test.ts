import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { definitionPackage, operationGV, operationTag } from "../../src/api/openapi/names.js";
import { formatResourcePath, parsePath } from "../../src/api/openapi/paths.js";

describe("parsePath", () => {
  const cases: Array<[string, unknown]> = [
    ["/api/", { kind: "discovery" }],
    ["/apis/", { kind: "discovery" }],
    ["/apis/apps/", { kind: "discovery", group: "apps" }],
    ["/api/v1/", { kind: "discovery", group: "", gv: { group: "", version: "v1" } }],
    ["/version/", { kind: "other" }],
    [
      "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
      {
        kind: "resource",
        gv: { group: "", version: "v1" },
        watch: false,
        inNamespace: true,
        plural: "pods",
        item: true,
        rest: "proxy/{path}",
      },
    ],
    [
      "/api/v1/namespaces/{name}/finalize",
      {
        kind: "resource",
        gv: { group: "", version: "v1" },
        watch: false,
        inNamespace: false,
        plural: "namespaces",
        item: true,
        rest: "finalize",
      },
    ],
    [
      "/apis/apps/v1/watch/namespaces/{namespace}/deployments",
      {
        kind: "resource",
        gv: { group: "apps", version: "v1" },
        watch: true,
        inNamespace: true,
        plural: "deployments",
        item: false,
        rest: "",
      },
    ],
    [
      "/apis/batch/v1/cronjobs",
      {
        kind: "resource",
        gv: { group: "batch", version: "v1" },
        watch: false,
        inNamespace: false,
        plural: "cronjobs",
        item: false,
        rest: "",
      },
    ],
  ];
  for (const [path, want] of cases) {
    it(`reads ${path}`, () => {
      const got = parsePath(path);
      assert.deepEqual(got, want);
      if (got.kind === "resource") assert.equal(formatResourcePath(got), path);
    });
  }
});

describe("upstream naming", () => {
  const cases: Array<[string, string, string, string, string]> = [
    ["", "v1", "CoreV1", "core_v1", "io.k8s.api.core.v1"],
    ["apps", "v1beta2", "AppsV1beta2", "apps_v1beta2", "io.k8s.api.apps.v1beta2"],
    ["rbac.authorization.k8s.io", "v1", "RbacAuthorizationV1", "rbacAuthorization_v1", "io.k8s.api.rbac.v1"],
    ["stable.example.com", "v1", "StableExampleComV1", "stableExampleCom_v1", "com.example.stable.v1"],
  ];
  for (const [group, version, opGV, tag, pkg] of cases) {
    it(`names ${group || "core"}/${version} ${opGV}, ${tag}, ${pkg}`, () => {
      assert.equal(operationGV({ group, version }), opGV);
      assert.equal(operationTag({ group, version }), tag);
      assert.equal(definitionPackage({ group, version }), pkg);
    });
  }
});
