import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FieldSelectorError,
  fieldSelectorMatcher,
  fieldsOf,
  parseFieldSelector,
  parseFieldSelectorFor,
} from "../../src/api/selectors/index.js";
import type { KObject } from "../../src/api/types.js";

const pod: KObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-1", namespace: "default" },
  spec: { nodeName: "node-a", restartPolicy: "Always", schedulerName: "default-scheduler", serviceAccountName: "sa" },
  status: { phase: "Running", podIPs: [{ ip: "10.0.0.5" }] },
};

describe("field selector parsing and matching", () => {
  const cases: Array<[string, boolean]> = [
    ["", true],
    ["metadata.name=web-1", true],
    ["metadata.name==web-1", true],
    ["metadata.name!=web-1", false],
    ["status.phase!=Running", false],
    ["status.phase=Running,spec.nodeName=node-a", true],
    ["status.phase=Running,spec.nodeName=node-b", false],
    ["spec.hostNetwork=false", true],
    ["status.podIP=10.0.0.5", true],
    ["status.nominatedNodeName=", true],
    ["spec.host=node-a", true],
  ];
  for (const [sel, want] of cases) {
    it(`${JSON.stringify(sel)} ${want ? "selects" : "does not select"} the running pod`, () => {
      assert.equal(fieldSelectorMatcher("", "pods", sel)(pod), want);
    });
  }
  it("sorts terms and escapes values in String()", () => {
    assert.equal(parseFieldSelector("b=2,a==x\\,y").toString(), "a=x\\,y,b=2");
  });
});

describe("field selector errors carry upstream wording", () => {
  const cases: Array<[string, string, string, string]> = [
    ["", "pods", "foo=bar", "field label not supported: foo"],
    ["", "nodes", "metadata.namespace=x", "field label not supported: metadata.namespace"],
    ["", "namespaces", "spec.x=y", "field label not supported: spec.x"],
    [
      "networking.k8s.io",
      "ingresses",
      "foo.bar=baz",
      '"foo.bar" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
    [
      "apps",
      "deployments",
      "status.replicas=1",
      '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
    ["batch", "jobs", "spec.x=1", 'field label "spec.x" not supported for "Job"'],
    ["", "pods", "novalue", "invalid selector: 'novalue'; can't understand 'novalue'"],
    ["", "pods", "metadata.name=a=b", "invalid field selector: unescaped character in value: 61"],
    ["", "pods", "metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"],
  ];
  for (const [group, resource, sel, message] of cases) {
    it(`${resource}: ${JSON.stringify(sel)} → ${message}`, () => {
      assert.throws(
        () => parseFieldSelectorFor(group, resource, sel),
        (e: unknown) => e instanceof FieldSelectorError && e.message === message,
      );
    });
  }
  it("accepts every upstream pod field label", () => {
    const labels = [
      "metadata.name",
      "metadata.namespace",
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "spec.hostNetwork",
      "status.phase",
      "status.podIP",
      "status.podIPs",
      "status.nominatedNodeName",
    ];
    for (const l of labels) parseFieldSelectorFor("", "pods", `${l}=x`);
  });
});

describe("field sets of objects", () => {
  it("events expose involvedObject, reason, source and type", () => {
    const ev: KObject = {
      metadata: { name: "e", namespace: "ns" },
      involvedObject: { kind: "Pod", name: "p", namespace: "ns", uid: "u" },
      reason: "Scheduled",
      source: { component: "default-scheduler" },
      type: "Normal",
    };
    const f = fieldsOf("", "events", ev);
    assert.equal(f["involvedObject.kind"], "Pod");
    assert.equal(f["involvedObject.name"], "p");
    assert.equal(f["source"], "default-scheduler");
    assert.equal(f["type"], "Normal");
    assert.equal(f["reason"], "Scheduled");
  });
  it("jobs expose status.successful as a decimal count", () => {
    assert.equal(
      fieldsOf("batch", "jobs", { metadata: { name: "j" }, status: { succeeded: 3 } })["status.successful"],
      "3",
    );
  });
  it("secrets expose type; services expose clusterIP and type", () => {
    assert.equal(fieldsOf("", "secrets", { metadata: {}, type: "Opaque" })["type"], "Opaque");
    const svc = fieldsOf("", "services", { metadata: {}, spec: { clusterIP: "10.96.0.1", type: "ClusterIP" } });
    assert.equal(svc["spec.clusterIP"], "10.96.0.1");
    assert.equal(svc["spec.type"], "ClusterIP");
  });
  it("nodes expose spec.unschedulable as true/false", () => {
    assert.equal(fieldsOf("", "nodes", { metadata: {}, spec: { unschedulable: true } })["spec.unschedulable"], "true");
    assert.equal(fieldsOf("", "nodes", { metadata: {} })["spec.unschedulable"], "false");
  });
});
