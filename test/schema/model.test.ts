import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  findDuplicateFields,
  findUnknownFields,
  legacyAliases,
  schemaAtPath,
  schemaForKind,
  schemaFromOpenAPIV3,
} from "../../src/api/schema/index.js";

describe("schema model of the OpenAPI document", () => {
  it("finds a kind's definition by x-kubernetes-group-version-kind", () => {
    const d = schemaForKind({ group: "apps", version: "v1", kind: "Deployment" });
    assert.equal(d?.definition, "io.k8s.api.apps.v1.Deployment");
    assert.equal(schemaForKind({ group: "", version: "v1", kind: "Pod" })?.definition, "io.k8s.api.core.v1.Pod");
    assert.equal(schemaForKind({ group: "example.com", version: "v1", kind: "Widget" }), undefined);
  });

  const aliases: [string, string, string, string][] = [
    ["extensions", "v1beta1", "Deployment", "io.k8s.api.apps.v1.Deployment"],
    ["apps", "v1beta2", "StatefulSet", "io.k8s.api.apps.v1.StatefulSet"],
    ["apps", "v1beta1", "ControllerRevision", "io.k8s.api.apps.v1.ControllerRevision"],
    ["batch", "v1beta1", "CronJob", "io.k8s.api.batch.v1.CronJob"],
    ["autoscaling", "v2beta1", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"],
    ["policy", "v1beta1", "PodDisruptionBudget", "io.k8s.api.policy.v1.PodDisruptionBudget"],
  ];
  for (const [group, version, kind, def] of aliases) {
    it(`legacy ${group}/${version} ${kind} uses today's definition`, () => {
      assert.ok(legacyAliases[`${group}/${version}/${kind}`]);
      assert.equal(schemaForKind({ group, version, kind })?.definition, def);
    });
  }

  it("carries patch strategy, merge key and list type of pod spec containers", () => {
    const pod = schemaForKind({ group: "", version: "v1", kind: "Pod" });
    const containers = schemaAtPath(pod, ["spec", "containers"]);
    assert.equal(containers?.kind, "array");
    assert.deepEqual(containers?.patchStrategy, ["merge"]);
    assert.equal(containers?.patchMergeKey, "name");
    assert.equal(containers?.listType, "map");
    assert.deepEqual(containers?.listMapKeys, ["name"]);
    assert.equal(containers?.items?.kind, "object");
    assert.ok(containers?.items?.properties?.["image"]);
  });

  it("splits merge,retainKeys on volumes and resolves $ref fields with their own strategy", () => {
    const pod = schemaForKind({ group: "", version: "v1", kind: "Pod" });
    assert.deepEqual(schemaAtPath(pod, ["spec", "volumes"])?.patchStrategy, ["merge", "retainKeys"]);
    const dep = schemaForKind({ group: "apps", version: "v1", kind: "Deployment" });
    const strategy = schemaAtPath(dep, ["spec", "strategy"]);
    assert.deepEqual(strategy?.patchStrategy, ["retainKeys"]);
    assert.ok(strategy?.properties?.["rollingUpdate"]);
  });

  it("knows maps, atomic structs and set lists", () => {
    const dep = schemaForKind({ group: "apps", version: "v1", kind: "Deployment" });
    assert.equal(schemaAtPath(dep, ["metadata", "labels"])?.kind, "map");
    assert.equal(schemaAtPath(dep, ["spec", "selector"])?.mapType, "atomic");
    assert.equal(schemaAtPath(dep, ["metadata", "finalizers"])?.listType, "set");
    assert.equal(schemaAtPath(dep, ["spec", "template", "spec", "containers", "resources", "limits"])?.kind, "map");
  });

  it("builds a CRD schema with x-kubernetes extensions and implied metadata", () => {
    const s = schemaFromOpenAPIV3({
      type: "object",
      properties: {
        spec: {
          type: "object",
          properties: {
            ports: {
              type: "array",
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["port"],
              items: { type: "object", properties: { port: { type: "integer" } } },
            },
            extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
            size: { "x-kubernetes-int-or-string": true },
          },
        },
      },
    });
    assert.equal(s.properties?.["metadata"]?.definition, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert.deepEqual(schemaAtPath(s, ["spec", "ports"])?.listMapKeys, ["port"]);
    assert.equal(schemaAtPath(s, ["spec", "size"])?.kind, "scalar");
    assert.deepEqual(
      findUnknownFields({ apiVersion: "x/v1", kind: "W", spec: { extra: { anything: 1 }, typo: 1 } }, s),
      ['unknown field "spec.typo"'],
    );
  });
});

describe("unknown and duplicate field detection", () => {
  const dep = schemaForKind({ group: "apps", version: "v1", kind: "Deployment" });
  const cases: { name: string; obj: unknown; want: string[] }[] = [
    {
      name: "a typo deep in a container is reported with its index",
      obj: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", labels: { anything: "goes" } },
        spec: {
          template: { spec: { containers: [{ name: "a" }, { name: "nginx", imagePullPolicyy: "Always" }] } },
        },
      },
      want: ['unknown field "spec.template.spec.containers[1].imagePullPolicyy"'],
    },
    {
      name: "an unknown top-level spec field",
      obj: { apiVersion: "apps/v1", kind: "Deployment", metadata: {}, spec: { foo: 1, replicas: 1 } },
      want: ['unknown field "spec.foo"'],
    },
    {
      name: "a valid object has none",
      obj: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { replicas: 2 }, status: {} },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.ok(dep);
      assert.deepEqual(findUnknownFields(c.obj, dep), c.want);
    });
  }

  it("reports keys given twice in the raw body", () => {
    assert.deepEqual(findDuplicateFields('{"metadata":{"name":"a","name":"b"},"spec":{"x":[{"a":1,"a":2}]}}'), [
      'duplicate field "metadata.name"',
      'duplicate field "spec.x[0].a"',
    ]);
    assert.deepEqual(findDuplicateFields('{"a":1,"b":{"a":1}}'), []);
  });
});
