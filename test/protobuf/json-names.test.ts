import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { dataPath } from "../../src/util/paths.js";
import { generateJsonNames, renderJsonNames } from "./support/json-names.js";

describe("data/proto/json-names.json", () => {
  const table = generateJsonNames();

  it("is what the generator derives from the .proto files and the OpenAPI spec (regenerate with --write)", () => {
    assert.equal(readFileSync(dataPath("proto", "json-names.json"), "utf8"), renderJsonNames(table));
  });

  const expected: [string, string, string][] = [
    ["k8s.io.api.core.v1.Volume", "volumeSource", ""],
    ["k8s.io.api.core.v1.Probe", "handler", ""],
    ["k8s.io.api.core.v1.PersistentVolumeSpec", "persistentVolumeSource", ""],
    ["k8s.io.api.core.v1.EphemeralContainer", "ephemeralContainerCommon", ""],
    ["k8s.io.api.core.v1.SecretKeySelector", "localObjectReference", ""],
    ["k8s.io.api.networking.v1.IngressRule", "ingressRuleValue", ""],
    ["k8s.io.api.authentication.v1.BoundObjectReference", "uID", "uid"],
    ["k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration", "Webhooks", "webhooks"],
    ["k8s.io.api.networking.v1.IngressClassParametersReference", "aPIGroup", "apiGroup"],
  ];
  for (const [message, field, json] of expected) {
    it(`${message}.${field} is ${json === "" ? "inline" : `"${json}"`} in JSON`, () => {
      assert.equal(table.fields[message]?.[field], json);
    });
  }

  it("knows the slice types that protobuf wraps in a message (Verbs, ExtraValue)", () => {
    assert.ok(table.arrays.includes("k8s.io.apimachinery.pkg.apis.meta.v1.Verbs"));
    assert.ok(table.arrays.includes("k8s.io.api.authentication.v1.ExtraValue"));
  });
});
