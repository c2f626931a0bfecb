/** Controller events: a repeat bumps the count and lastTimestamp of the first, as client-go's correlator. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { recordEvent } from "../../src/controllers/events.js";
import { liveRegistry } from "./support.js";

describe("recordEvent", () => {
  const live = liveRegistry();
  const client = live.client;
  before(() => live.ready());
  after(() => live.close());
  const obj: KObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: "u1" },
  };
  const events = async () => (await client.list(client.resource("", "v1", "events"), "default")).map((c) => c.obj);

  it("one Event for three repeats, count 3, first and last timestamps kept apart", async () => {
    const t0 = Date.parse("2026-06-01T12:00:00Z");
    for (let i = 0; i < 3; i++)
      await recordEvent(
        client,
        obj,
        "deployment-controller",
        "Normal",
        "ScalingReplicaSet",
        "Scaled up",
        t0 + i * 60_000,
      );
    await recordEvent(client, obj, "deployment-controller", "Normal", "ScalingReplicaSet", "Scaled down", t0);
    const all = await events();
    assert.equal(all.length, 2);
    const up = all.find((e) => e["message"] === "Scaled up")!;
    assert.equal(up["count"], 3);
    assert.equal(up["firstTimestamp"], "2026-06-01T12:00:00Z");
    assert.equal(up["lastTimestamp"], "2026-06-01T12:02:00Z");
    assert.equal(up["source"] && (up["source"] as Record<string, unknown>)["component"], "deployment-controller");
  });

  it("an Event deleted meanwhile (TTL) is recorded anew", async () => {
    const up = (await events()).find((e) => e["message"] === "Scaled up")!;
    await client.delete(client.resource("", "v1", "events"), "default", up.metadata.name ?? "");
    await recordEvent(client, obj, "deployment-controller", "Normal", "ScalingReplicaSet", "Scaled up");
    const again = (await events()).filter((e) => e["message"] === "Scaled up");
    assert.equal(again.length, 1);
    assert.equal(again[0]!["count"], 1);
  });
});
