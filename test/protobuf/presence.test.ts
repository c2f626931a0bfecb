import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPointerScalar, POINTER_SCALARS } from "../../src/api/protobuf/presence.js";
import { generateJsonNames, loadAllProtos } from "./support/json-names.js";

describe("the pointer-scalar table", () => {
  const { pb, types } = loadAllProtos();
  const names = generateJsonNames();
  /** "Message.jsonName" and "jsonName" for every scalar (non-message) field of every k8s message. */
  const scalarFields = new Set<string>();
  for (const t of types) {
    for (const f of t.fieldsArray) {
      if (f.resolvedType instanceof pb.Type || f.repeated || f.map) continue;
      const json = names.fields[t.fullName.slice(1)]?.[f.name] ?? f.name;
      scalarFields.add(json);
      scalarFields.add(`${t.name}.${json}`);
    }
  }

  it("names only scalar fields that exist (no typos, no message-typed fields)", () => {
    const unknown = POINTER_SCALARS.filter((entry) => !scalarFields.has(entry));
    assert.deepEqual(unknown, []);
  });

  const cases: [string, string, boolean][] = [
    ["DeploymentSpec", "replicas", true],
    ["DeploymentStatus", "replicas", false],
    ["DeleteOptions", "gracePeriodSeconds", true],
    ["Probe", "periodSeconds", false],
    ["Probe", "timeoutSeconds", false],
    ["ClientIPConfig", "timeoutSeconds", true],
    ["PodSecurityContext", "runAsUser", true],
    ["PersistentVolumeClaimSpec", "storageClassName", true],
    ["PersistentVolumeSpec", "storageClassName", false],
    ["ObjectMeta", "generation", false],
  ];
  for (const [message, field, pointer] of cases) {
    it(`${message}.${field} ${pointer ? "keeps" : "drops"} a zero value`, () => {
      assert.equal(isPointerScalar(message, field), pointer);
    });
  }
});
