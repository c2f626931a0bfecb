/** The expander's claim status as the external-resizer writes it: in progress, refused, recovered, done. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ANN_PROVISIONED_BY } from "../../../src/api/storage.js";
import type { KObject } from "../../../src/api/types.js";
import { ExpandController } from "../../../src/controllers/volume/expand.js";
import { liveRegistry, until } from "../support.js";

type Rec = Record<string, unknown>;
const P = "example.com/grower";
const GI = 1024n ** 3n;

describe("volume expansion (claim status and conditions)", () => {
  const live = liveRegistry();
  const { client } = live;
  const pvs = client.resource("", "v1", "persistentvolumes");
  const pvcs = client.resource("", "v1", "persistentvolumeclaims");
  const events = client.resource("", "v1", "events");
  // what the fake resizer answers: a refusal message, or undefined once grown; it waits on `gate`
  let answer: (bytes: bigint) => string | undefined = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const asked: bigint[] = [];
  const ctrl = new ExpandController(client, [
    {
      provisioner: P,
      expand: async (_pv, bytes) => {
        asked.push(bytes);
        await gate;
        return answer(bytes);
      },
    },
  ]);

  const create = (sv: typeof pvs, o: KObject) => client.registry.create(sv, o.metadata.namespace, o, { dryRun: false });
  const claim = () => client.get(pvcs, "default", "data") as KObject;
  const status = () => (claim()["status"] ?? {}) as Rec;
  const conditions = () => ((status()["conditions"] ?? []) as Rec[]).map((c) => `${c["type"]}=${c["status"]}`);
  const request = (size: string) =>
    client.update(pvcs, "default", "data", "", (o) => {
      ((o["spec"] as Rec)["resources"] as Rec)["requests"] = { storage: size };
      return o;
    });

  before(async () => {
    await live.ready();
    await create(pvs, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-data", annotations: { [ANN_PROVISIONED_BY]: P } },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        hostPath: { path: "/tmp/k8ts-expand-test" },
        claimRef: { kind: "PersistentVolumeClaim", namespace: "default", name: "data", uid: "u-data" },
      },
    });
    await create(pvcs, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeName: "pv-data" },
    });
    await client.update(pvcs, "default", "data", "status", (o) => {
      o["status"] = {
        phase: "Bound",
        accessModes: ["ReadWriteOnce"],
        capacity: { storage: "1Gi" },
        // a condition that is not the resizer's stays
        conditions: [{ type: "ModifyingVolume", status: "True" }],
      };
      return o;
    });
    ctrl.start();
  });
  after(() => {
    ctrl.stop();
    live.close();
  });

  it("says Resizing and ControllerResizeInProgress while the resizer works", async () => {
    let open: () => void = () => undefined;
    gate = new Promise((r) => {
      open = r;
    });
    await request("2Gi");
    await until("in progress", () =>
      (status()["allocatedResourceStatuses"] as Rec | undefined)?.["storage"] === "ControllerResizeInProgress"
        ? true
        : undefined,
    );
    assert.deepEqual(conditions(), ["ModifyingVolume=True", "Resizing=True"]);
    assert.deepEqual(status()["allocatedResources"], { storage: "2Gi" });
    assert.deepEqual(status()["capacity"], { storage: "1Gi" });
    open();
    await until("grown", () => ((status()["capacity"] as Rec)["storage"] === "2Gi" ? true : undefined));
    assert.deepEqual(conditions(), ["ModifyingVolume=True"]);
    assert.equal(status()["allocatedResourceStatuses"], undefined);
    assert.deepEqual(((client.get(pvs, undefined, "pv-data") as KObject)["spec"] as Rec)["capacity"], {
      storage: "2Gi",
    });
  });

  it("a refusal is ControllerResizeInfeasible with a ControllerResizeError condition; a smaller request recovers", async () => {
    answer = (bytes) => (bytes > 3n * GI ? "the node has 1Gi left" : undefined);
    await request("5Gi");
    await until("infeasible", () =>
      (status()["allocatedResourceStatuses"] as Rec | undefined)?.["storage"] === "ControllerResizeInfeasible"
        ? true
        : undefined,
    );
    const err = ((status()["conditions"] ?? []) as Rec[]).find((c) => c["type"] === "ControllerResizeError");
    assert.equal(err?.["status"], "True");
    assert.equal(err?.["message"], `resize volume "pv-data" by resizer "${P}" failed: the node has 1Gi left`);
    assert.deepEqual(conditions(), ["ModifyingVolume=True", "ControllerResizeError=True"]);
    const warned = (await client.list(events, "default")).find(
      (e) => e.obj["reason"] === "VolumeResizeFailed" && e.obj["message"] === err?.["message"],
    );
    assert.ok(warned, "a VolumeResizeFailed event");
    // the same request is not retried
    const tries = asked.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(asked.length, tries);
    // lowering the request (still above status.capacity) is allowed and retried (RecoverVolumeExpansionFailure)
    await request("3Gi");
    await until("recovered", () => ((status()["capacity"] as Rec)["storage"] === "3Gi" ? true : undefined));
    assert.deepEqual(conditions(), ["ModifyingVolume=True"]);
    assert.equal(status()["allocatedResourceStatuses"], undefined);
    assert.deepEqual(status()["allocatedResources"], { storage: "3Gi" });
  });
});
