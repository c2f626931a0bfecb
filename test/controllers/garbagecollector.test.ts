/** The garbage collector: the decision table, and background/foreground/orphan propagation on a live registry. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { decide, GarbageCollector } from "../../src/controllers/garbagecollector/index.js";
import { liveRegistry, until } from "./support.js";

describe("garbage collector decisions (upstream attemptToDeleteItem)", () => {
  it("keeps, unlinks or deletes by the owners' states", () => {
    assert.deepEqual(decide([], false), { action: "keep" });
    assert.deepEqual(decide(["solid"], false), { action: "keep" });
    assert.deepEqual(decide(["solid", "dangling"], false), { action: "unlink" });
    assert.deepEqual(decide(["solid", "waiting"], false), { action: "unlink" });
    assert.deepEqual(decide(["dangling"], false), { action: "delete", policy: "Background" });
    assert.deepEqual(decide(["dangling", "dangling"], true), { action: "delete", policy: "Background" });
    assert.deepEqual(decide(["waiting"], true), { action: "delete", policy: "Foreground" });
    assert.deepEqual(decide(["waiting"], false), { action: "delete", policy: "Background" });
    assert.deepEqual(decide(["dangling", "unknown"], false), { action: "keep" });
  });
});

describe("GarbageCollector on a registry", () => {
  const live = liveRegistry({ admission: false });
  const client = live.client;
  const gc = new GarbageCollector(client);
  const cms = () => client.resource("", "v1", "configmaps");
  const cm = async (name: string, owners: KObject[] = [], block = false) => {
    await client.ensure(cms(), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: "default",
        ...(owners.length > 0
          ? {
              ownerReferences: owners.map((o) => ({
                apiVersion: "v1",
                kind: "ConfigMap",
                name: o.metadata.name ?? "",
                uid: o.metadata.uid ?? "",
                ...(block ? { blockOwnerDeletion: true } : {}),
              })),
            }
          : {}),
      },
    });
    return client.get(cms(), "default", name)!;
  };
  const gone = (name: string) => (client.get(cms(), "default", name) ? undefined : true);
  before(async () => {
    await live.ready();
    gc.start();
  });
  after(() => {
    gc.stop();
    live.close();
  });

  it("background: dependents of a deleted owner go, and theirs after them", async () => {
    const owner = await cm("owner");
    const child = await cm("child", [owner]);
    await cm("grandchild", [child]);
    await client.delete(cms(), "default", "owner");
    await until("child gone", () => gone("child"));
    await until("grandchild gone", () => gone("grandchild"));
  });

  it("a dependent with another live owner only loses the dangling reference", async () => {
    const a = await cm("a");
    const b = await cm("b");
    await cm("shared", [a, b]);
    await client.delete(cms(), "default", "a");
    const left = await until("unlinked", () => {
      const o = client.get(cms(), "default", "shared");
      return o?.metadata.ownerReferences?.length === 1 ? o : undefined;
    });
    assert.equal(left.metadata.ownerReferences?.[0]?.name, "b");
  });

  it("a dependent created with an owner that does not exist is collected", async () => {
    await client.ensure(cms(), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "stray",
        namespace: "default",
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "nobody", uid: "no-such-uid" }],
      },
    });
    await until("stray gone", () => gone("stray"));
  });

  it("orphan: dependents stay without the reference, then the owner goes", async () => {
    const owner = await cm("o-owner");
    await cm("o-child", [owner]);
    await client.delete(cms(), "default", "o-owner", { propagationPolicy: "Orphan" });
    await until("owner gone", () => gone("o-owner"));
    const child = client.get(cms(), "default", "o-child");
    assert.ok(child);
    assert.equal(child.metadata.ownerReferences, undefined);
  });

  it("foreground: the owner waits (finalizer) until its blocking dependents are gone", async () => {
    const owner = await cm("f-owner");
    await cm("f-child", [owner], true);
    // a finalizer of its own keeps the child around until removed, so the wait can be seen
    await client.update(cms(), "default", "f-child", "", (o) => {
      o.metadata.finalizers = ["example.com/hold"];
      return o;
    });
    await client.delete(cms(), "default", "f-owner", { propagationPolicy: "Foreground" });
    await until("child deleting", () =>
      client.get(cms(), "default", "f-child")?.metadata.deletionTimestamp ? true : undefined,
    );
    const waiting = client.get(cms(), "default", "f-owner");
    assert.ok(waiting?.metadata.deletionTimestamp);
    assert.deepEqual(waiting?.metadata.finalizers, ["foregroundDeletion"]);
    await client.update(cms(), "default", "f-child", "", (o) => {
      o.metadata.finalizers = [];
      return o;
    });
    await until("child gone", () => gone("f-child"));
    await until("owner gone", () => gone("f-owner"));
  });
});
