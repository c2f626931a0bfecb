import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyPatch, PatchError, UnsupportedPatchTypeError } from "../../src/api/patch/index.js";
import { at, nginxDeployment } from "./fixtures.js";

const jsonPatch = "application/json-patch+json";
const mergePatch = "application/merge-patch+json";

describe("JSON patch (RFC 6902)", () => {
  const ok: { name: string; ops: unknown[]; path: (string | number)[]; want: unknown }[] = [
    {
      name: "replace sets a scalar",
      ops: [{ op: "replace", path: "/spec/replicas", value: 5 }],
      path: ["spec", "replicas"],
      want: 5,
    },
    {
      name: "add with ~1 escapes a label key containing a slash",
      ops: [{ op: "add", path: "/metadata/labels/app.kubernetes.io~1name", value: "x" }],
      path: ["metadata", "labels", "app.kubernetes.io/name"],
      want: "x",
    },
    {
      name: "add at - appends to a list",
      ops: [{ op: "add", path: "/spec/template/spec/containers/-", value: { name: "c3", image: "c3" } }],
      path: ["spec", "template", "spec", "containers", 2, "name"],
      want: "c3",
    },
    {
      name: "remove deletes a list item by index",
      ops: [{ op: "remove", path: "/spec/template/spec/containers/0" }],
      path: ["spec", "template", "spec", "containers", 0, "name"],
      want: "sidecar",
    },
    {
      name: "a passing test op lets the rest apply",
      ops: [
        { op: "test", path: "/spec/replicas", value: 2 },
        { op: "replace", path: "/spec/replicas", value: 3 },
      ],
      path: ["spec", "replicas"],
      want: 3,
    },
    {
      name: "move and copy",
      ops: [
        { op: "copy", from: "/metadata/labels/app", path: "/metadata/labels/copied" },
        { op: "move", from: "/metadata/labels/tier", path: "/metadata/labels/moved" },
      ],
      path: ["metadata", "labels"],
      want: { app: "nginx", copied: "nginx", moved: "web" },
    },
  ];
  for (const c of ok) {
    it(c.name, () => {
      const out = applyPatch(nginxDeployment(), JSON.stringify(c.ops), jsonPatch, undefined);
      assert.deepEqual(at(out, ...c.path), c.want);
    });
  }

  const failures: { name: string; ops: unknown[]; message: string; code: number }[] = [
    {
      name: "a failing test op rejects the whole patch with 422",
      ops: [{ op: "test", path: "/spec/replicas", value: 7 }],
      message: "testing value /spec/replicas failed: test failed",
      code: 422,
    },
    {
      name: "replace of a missing key is refused as upstream words it",
      ops: [{ op: "replace", path: "/spec/paused", value: true }],
      message: "replace operation does not apply: doc is missing key: /spec/paused: missing value",
      code: 422,
    },
    {
      name: "add below a missing parent is refused",
      ops: [{ op: "add", path: "/spec/nope/deeper", value: 1 }],
      message: 'add operation does not apply: doc is missing path: "/spec/nope/deeper": missing value',
      code: 422,
    },
    {
      name: "remove of a missing key is refused",
      ops: [{ op: "remove", path: "/metadata/labels/absent" }],
      message:
        "error in remove for path: '/metadata/labels/absent': Unable to remove nonexistent key: absent: missing value",
      code: 422,
    },
  ];
  for (const c of failures) {
    it(c.name, () => {
      const original = nginxDeployment();
      assert.throws(
        () => applyPatch(original, JSON.stringify(c.ops), jsonPatch, undefined),
        (err: unknown) => err instanceof PatchError && err.message === c.message && err.code === c.code,
      );
      assert.equal(at(original, "spec", "replicas"), 2, "the original is not modified");
    });
  }

  it("a body that is not JSON is a 400", () => {
    assert.throws(
      () => applyPatch(nginxDeployment(), "[{", jsonPatch, undefined),
      (err: unknown) => err instanceof PatchError && err.code === 400,
    );
  });
});

describe("JSON merge patch (RFC 7386)", () => {
  it("merges maps, deletes with null and replaces lists whole", () => {
    const out = applyPatch(
      nginxDeployment(),
      JSON.stringify({
        metadata: { labels: { tier: null, track: "stable" } },
        spec: { template: { spec: { containers: [{ name: "only", image: "only" }] } } },
      }),
      `${mergePatch}; charset=utf-8`,
      undefined,
    );
    assert.deepEqual(at(out, "metadata", "labels"), { app: "nginx", track: "stable" });
    assert.deepEqual(at(out, "spec", "template", "spec", "containers"), [{ name: "only", image: "only" }]);
    assert.equal(at(out, "spec", "replicas"), 2);
  });

  it("strategic merge patch without a schema (a custom resource) is a 415", () => {
    assert.throws(
      () => applyPatch(nginxDeployment(), "{}", "application/strategic-merge-patch+json", undefined),
      (err: unknown) =>
        err instanceof UnsupportedPatchTypeError && err.code === 415 && err.status().reason === "UnsupportedMediaType",
    );
  });

  it("an unknown patch content type is a 415", () => {
    assert.throws(
      () => applyPatch(nginxDeployment(), "{}", "text/plain", undefined),
      (err: unknown) => err instanceof UnsupportedPatchTypeError,
    );
  });
});
