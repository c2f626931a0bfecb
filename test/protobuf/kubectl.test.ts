import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { decodeObject } from "../../src/api/protobuf/index.js";

/**
 * Bodies the real kubectl v1.32 (client-go, gogo-protobuf) sent for `kubectl create ...`: the Go encoder
 * writes every non-pointer field, zero or not, so these pin what a Go client really puts on the wire.
 */
interface Captured {
  command: string;
  url: string;
  body: string;
  expected: Record<string, unknown>;
}

const fixture = JSON.parse(
  readFileSync(new URL("../../../test/protobuf/fixtures/kubectl-1.32-create.json", import.meta.url), "utf8"),
) as { requests: Captured[] };

describe("decoding bodies sent by kubectl 1.32", () => {
  for (const c of fixture.requests) {
    it(`${c.command} (POST ${c.url}) decodes to the object kubectl meant`, () => {
      assert.deepEqual(decodeObject(Buffer.from(c.body, "hex")), c.expected);
    });
  }

  it("create deployment --replicas=0 keeps replicas: 0 (a Go pointer) but drops empty non-pointer strings", () => {
    const dep = fixture.requests.find((c) => c.command === "kubectl create deployment");
    assert.ok(dep);
    const obj = decodeObject(Buffer.from(dep.body, "hex"));
    const spec = obj["spec"] as Record<string, unknown>;
    assert.equal(spec["replicas"], 0);
    assert.equal("minReadySeconds" in spec, false);
    assert.deepEqual(Object.keys(obj.metadata), ["name", "labels"]);
  });

  it("create configmap --from-file with binary content lands in binaryData as base64", () => {
    const cm = fixture.requests.find((c) => c.command === "kubectl create configmap");
    assert.ok(cm);
    const obj = decodeObject(Buffer.from(cm.body, "hex"));
    assert.deepEqual(obj["binaryData"], { bin: Buffer.from([0, 1, 0xff, 0xfe]).toString("base64") });
  });
});
