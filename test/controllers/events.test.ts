/**
 * Controller events through client-go's correlator: a repeat bumps the count and lastTimestamp of
 * the first; the 10th different message of one reason about one object starts a combined event;
 * beyond 25 writes about one object, events wait for the bucket to refill (one per 5 minutes).
 */
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

  it("an Event deleted meanwhile (TTL) is recorded anew, its count going on as upstream's", async () => {
    const up = (await events()).find((e) => e["message"] === "Scaled up")!;
    await client.delete(client.resource("", "v1", "events"), "default", up.metadata.name ?? "");
    await recordEvent(client, obj, "deployment-controller", "Normal", "ScalingReplicaSet", "Scaled up");
    const again = (await events()).filter((e) => e["message"] === "Scaled up");
    assert.equal(again.length, 1);
    assert.equal(again[0]!["count"], 4);
  });

  const about = (name: string): KObject => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
  });
  const eventsAbout = async (name: string) =>
    (await events()).filter((e) => (e["involvedObject"] as Record<string, unknown>)["name"] === name);

  it("ten different messages of one reason within 10 minutes: the tenth on are one combined event", async () => {
    const t0 = Date.parse("2026-06-02T12:00:00Z");
    for (let i = 0; i < 14; i++)
      await recordEvent(
        client,
        about("pi"),
        "job-controller",
        "Normal",
        "SuccessfulCreate",
        `Created pod: pi-${i}`,
        t0 + i * 1000,
      );
    const all = await eventsAbout("pi");
    // nine written one by one, then one combined event updated from the tenth on
    assert.equal(all.length, 10);
    const combined = all.filter((e) => String(e["message"]).startsWith("(combined from similar events): "));
    assert.equal(combined.length, 1);
    assert.equal(combined[0]!["message"], "(combined from similar events): Created pod: pi-13");
    assert.equal(combined[0]!["count"], 5);
    assert.equal(combined[0]!["firstTimestamp"], "2026-06-02T12:00:09Z");
    assert.equal(combined[0]!["lastTimestamp"], "2026-06-02T12:00:13Z");
    // another reason about the same object is not combined with them
    await recordEvent(client, about("pi"), "job-controller", "Normal", "Completed", "Job completed", t0 + 20_000);
    assert.ok((await eventsAbout("pi")).some((e) => e["message"] === "Job completed"));
    // after 10 quiet minutes a new message stands alone again
    await recordEvent(
      client,
      about("pi"),
      "job-controller",
      "Normal",
      "SuccessfulCreate",
      "Created pod: pi-x",
      t0 + 11 * 60_000,
    );
    assert.ok((await eventsAbout("pi")).some((e) => e["message"] === "Created pod: pi-x"));
  });

  it("repeats recorded at once still make one event (each waits for the write before it)", async () => {
    const t0 = Date.parse("2026-06-04T12:00:00Z");
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        recordEvent(
          client,
          about("burst"),
          "replicaset-controller",
          "Normal",
          "SuccessfulDelete",
          "Deleted pod: x",
          t0 + i,
        ),
      ),
    );
    await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        recordEvent(
          client,
          about("burst"),
          "replicaset-controller",
          "Normal",
          "SuccessfulCreate",
          `Created pod: b-${i}`,
          t0 + i,
        ),
      ),
    );
    const all = await eventsAbout("burst");
    const deleted = all.filter((e) => e["reason"] === "SuccessfulDelete");
    assert.deepEqual(
      deleted.map((e) => e["count"]),
      [5],
    );
    const combined = all.filter((e) => String(e["message"]).startsWith("(combined from similar events)"));
    assert.deepEqual(
      combined.map((e) => e["count"]),
      [6],
    );
    assert.equal(all.filter((e) => e["reason"] === "SuccessfulCreate").length, 10);
  });

  it("a component's events about one object: 25 at once, then one per 5 minutes; the count stays true", async () => {
    const t0 = Date.parse("2026-06-03T12:00:00Z");
    const warn = (i: number, at: number) =>
      recordEvent(
        client,
        about("noisy"),
        "job-controller",
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
        at + i,
      );
    for (let i = 0; i < 30; i++) await warn(i, t0);
    let [e] = await eventsAbout("noisy");
    // 25 writes: the first creates, 24 repeats update it; the last five are dropped
    assert.equal(e?.["count"], 25);
    // one token back after 5 minutes: the next repeat is written with every occurrence counted
    await warn(100, t0 + 300_000);
    [e] = await eventsAbout("noisy");
    assert.equal(e?.["count"], 31);
    // the bucket is per object: another object's events are written meanwhile
    await recordEvent(client, about("quiet"), "job-controller", "Warning", "BackoffLimitExceeded", "x", t0 + 300_001);
    assert.equal((await eventsAbout("quiet")).length, 1);
  });
});
