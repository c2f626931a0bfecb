import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import {
  aggregateMessage,
  ensureNamespaceMatches,
  errorString,
  fe,
  invalidMessage,
  invalidStatus,
  nameRuleFor,
  validateObject,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "../../src/api/validation/index.js";

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function meta(m: KObject["metadata"]): KObject {
  return { metadata: m };
}

describe("object metadata on create", () => {
  const cases: Array<[string, KObject, boolean, string[]]> = [
    ["a valid name passes", meta({ name: "web-1", namespace: "default" }), true, []],
    [
      "name My_Pod is not a DNS-1123 subdomain",
      meta({ name: "My_Pod", namespace: "default" }),
      true,
      [`metadata.name: Invalid value: "My_Pod": ${SUBDOMAIN_MSG}`],
    ],
    [
      "missing name and generateName",
      meta({ namespace: "default" }),
      true,
      ["metadata.name: Required value: name or generateName is required"],
    ],
    [
      "generateName with a trailing dash is judged as if completed",
      meta({ generateName: "web-", name: "web-abcde", namespace: "d" }),
      true,
      [],
    ],
    [
      "bad generateName",
      meta({ generateName: "Web-", name: "web-x", namespace: "d" }),
      true,
      [`metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN_MSG}`],
    ],
    ["namespaced kind without namespace", meta({ name: "a" }), true, ["metadata.namespace: Required value"]],
    [
      "cluster-scoped kind with a namespace",
      meta({ name: "a", namespace: "x" }),
      false,
      ["metadata.namespace: Forbidden: not allowed on this type"],
    ],
    [
      "bad namespace name",
      meta({ name: "a", namespace: "Bad" }),
      true,
      [`metadata.namespace: Invalid value: "Bad": ${LABEL_MSG}`],
    ],
    [
      "bad label value",
      meta({ name: "a", namespace: "d", labels: { app: "-x" } }),
      true,
      [`metadata.labels: Invalid value: "-x": ${LABEL_VALUE_MSG}`],
    ],
    [
      "label value longer than 63",
      meta({ name: "a", namespace: "d", labels: { app: "a".repeat(64) } }),
      true,
      [`metadata.labels: Invalid value: "${"a".repeat(64)}": must be no more than 63 characters`],
    ],
    [
      "label key with two slashes",
      meta({ name: "a", namespace: "d", labels: { "a/b/c": "x" } }),
      true,
      [
        "metadata.labels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
    [
      "label key with empty prefix",
      meta({ name: "a", namespace: "d", labels: { "/x": "y" } }),
      true,
      ['metadata.labels: Invalid value: "/x": prefix part must be non-empty'],
    ],
    [
      "annotations over 256 KiB",
      meta({ name: "a", namespace: "d", annotations: { big: "x".repeat(256 * 1024) } }),
      true,
      ["metadata.annotations: Too long: may not be more than 262144 bytes"],
    ],
    [
      "annotation keys are case-insensitive qualified names",
      meta({ name: "a", namespace: "d", annotations: { "Example.COM/Key": "v" } }),
      true,
      [],
    ],
    [
      "negative generation",
      meta({ name: "a", namespace: "d", generation: -1 }),
      true,
      ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
    ],
    [
      "conflicting deletion finalizers",
      meta({ name: "a", namespace: "d", finalizers: ["orphan", "foregroundDeletion"] }),
      true,
      [
        'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
      ],
    ],
  ];
  for (const [name, obj, namespaced, want] of cases) {
    it(name, () => {
      const errs = validateObjectMeta(obj, { namespaced, nameRule: "dns1123subdomain" });
      assert.deepEqual(errs.map(errorString), want);
    });
  }
});

describe("name rules per kind follow upstream", () => {
  const cases: Array<[string, string, string, string | undefined]> = [
    ["", "Namespace", "a.b", `metadata.name: Invalid value: "a.b": must not contain dots`],
    ["", "Service", "1abc", `metadata.name: Invalid value: "1abc": ${DNS1035_MSG}`],
    ["", "ConfigMap", "a.b", undefined],
    ["rbac.authorization.k8s.io", "ClusterRole", "system:controller:x", undefined],
    ["rbac.authorization.k8s.io", "Role", "a/b", `metadata.name: Invalid value: "a/b": may not contain '/'`],
    ["rbac.authorization.k8s.io", "Role", "..", `metadata.name: Invalid value: "..": may not be '..'`],
    ["apps", "Deployment", "Web", `metadata.name: Invalid value: "Web": ${SUBDOMAIN_MSG}`],
  ];
  for (const [group, kind, name, want] of cases) {
    it(`${kind} named ${JSON.stringify(name)} → ${want ?? "valid"}`, () => {
      const ns = kind === "Namespace" || kind === "ClusterRole" ? undefined : "default";
      const obj: KObject = { metadata: { name, namespace: ns } };
      const errs = validateObjectMeta(obj, { namespaced: ns !== undefined, nameRule: nameRuleFor(group, kind) });
      assert.deepEqual(errs.map(errorString), want === undefined ? [] : [want]);
    });
  }
});

describe("object metadata on update", () => {
  const old: KObject = { metadata: { name: "a", namespace: "d", uid: "u1", resourceVersion: "5", generation: 3 } };
  const cases: Array<[string, KObject["metadata"], string[]]> = [
    ["same identity passes", { name: "a", namespace: "d", uid: "u1", resourceVersion: "5", generation: 3 }, []],
    [
      "resourceVersion missing",
      { name: "a", namespace: "d", uid: "u1", generation: 3 },
      ['metadata.resourceVersion: Invalid value: "": must be specified for an update'],
    ],
    [
      "uid changed",
      { name: "a", namespace: "d", uid: "u2", resourceVersion: "5", generation: 3 },
      ['metadata.uid: Invalid value: "u2": field is immutable'],
    ],
    [
      "generation decremented",
      { name: "a", namespace: "d", uid: "u1", resourceVersion: "5", generation: 2 },
      ["metadata.generation: Invalid value: 2: must not be decremented"],
    ],
  ];
  for (const [name, m, want] of cases) {
    it(name, () => {
      assert.deepEqual(validateObjectMetaUpdate({ metadata: m }, old).map(errorString), want);
    });
  }
  it("no new finalizers while deleting", () => {
    const deleting: KObject = {
      metadata: { ...old.metadata, deletionTimestamp: "2024-01-01T00:00:00Z", finalizers: ["a/x"] },
    };
    const next: KObject = { metadata: { ...deleting.metadata, finalizers: ["a/x", "b/y"] } };
    assert.deepEqual(validateObjectMetaUpdate(next, deleting).map(errorString), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b/y"}',
    ]);
  });
});

describe("Status messages built from causes", () => {
  it("one cause: no brackets", () => {
    assert.equal(
      invalidMessage("Pod", "", "p", [fe.required("spec.containers")]),
      'Pod "p" is invalid: spec.containers: Required value',
    );
  });
  it("several causes: bracketed, comma separated, group-qualified kind", () => {
    assert.equal(
      invalidMessage("Deployment", "apps", "x", [
        fe.required("spec.template.spec.containers[0].image"),
        fe.invalid("spec.replicas", -1, "must be greater than or equal to 0"),
      ]),
      'Deployment.apps "x" is invalid: [spec.template.spec.containers[0].image: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]',
    );
  });
  it("duplicate causes are shown once", () => {
    assert.equal(aggregateMessage([fe.required("a"), fe.required("a")]), "a: Required value");
  });
  it("invalidStatus is a 422 Invalid Status with causes", () => {
    const st = invalidStatus("Pod", "", "p", [fe.required("spec.containers")]);
    assert.equal(st["code"], 422);
    assert.equal(st["reason"], "Invalid");
    assert.deepEqual(st["details"], {
      name: "p",
      group: "",
      kind: "Pod",
      causes: [{ reason: "FieldValueRequired", message: "Required value", field: "spec.containers" }],
    });
  });
  it("NotSupported lists the supported values quoted", () => {
    assert.equal(
      errorString(fe.notSupported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"])),
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    );
  });
});

describe("request namespace vs object namespace", () => {
  it("fills an empty namespace from the request", () => {
    const o: KObject = { metadata: { name: "a" } };
    assert.equal(ensureNamespaceMatches(o, "dev", true), undefined);
    assert.equal(o.metadata.namespace, "dev");
  });
  it("rejects a conflicting namespace with upstream's message", () => {
    const o: KObject = { metadata: { name: "a", namespace: "prod" } };
    assert.equal(
      ensureNamespaceMatches(o, "dev", true),
      "the namespace of the provided object does not match the namespace sent on the request",
    );
  });
  it("clears the namespace of cluster-scoped objects", () => {
    const o: KObject = { metadata: { name: "a", namespace: "prod" } };
    assert.equal(ensureNamespaceMatches(o, "", false), undefined);
    assert.equal(o.metadata.namespace, undefined);
  });
});

describe("validateObject picks scope and name rule from the kind", () => {
  it("a Namespace is cluster-scoped with a DNS-1123 label name", () => {
    const errs = validateObject("", "Namespace", { metadata: { name: "ok-name" } });
    assert.deepEqual(errs, []);
  });
  it("a kind without spec rules still gets metadata checks", () => {
    const errs = validateObject("example.com", "Widget", { metadata: { name: "A", namespace: "d" } });
    assert.deepEqual(errs.map(errorString), [`metadata.name: Invalid value: "A": ${SUBDOMAIN_MSG}`]);
  });
});
