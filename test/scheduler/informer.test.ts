/** The scheduler's informer: previous versions, skipped no-op updates, and re-lists after a closed watch. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import type { ServedVersion } from "../../src/apiserver/catalog.js";
import type { WatchOptions } from "../../src/apiserver/rest.js";
import type { LocalClient } from "../../src/controllers/client.js";
import { Informer } from "../../src/scheduler/informer.js";

function obj(name: string, rv: string, uid = `uid-${name}`): KObject {
  return { metadata: { name, namespace: "d", resourceVersion: rv, uid } };
}

/** A registry whose watches the test drives by hand. */
function fakeClient() {
  const watches: WatchOptions[] = [];
  const client = {
    registry: {
      watch: (_sv: ServedVersion, opts: WatchOptions) => {
        watches.push(opts);
        return { stop: () => undefined };
      },
    },
  } as unknown as LocalClient;
  const send = (w: WatchOptions, type: "ADDED" | "MODIFIED" | "DELETED", o: KObject) =>
    w.onEvent({
      type,
      object: { key: o.metadata.name ?? "", obj: o, json: "", rv: Number(o.metadata.resourceVersion) },
    });
  return { client, watches, send };
}

describe("scheduler informer", () => {
  it("passes the previous version, skips updates at the same resourceVersion, reports deletes once", () => {
    const { client, watches, send } = fakeClient();
    const seen: string[] = [];
    const inf = new Informer(client, { def: { plural: "pods" } } as unknown as ServedVersion, {
      upsert: (o, prev) =>
        seen.push(
          `upsert ${o.metadata.name}@${o.metadata.resourceVersion} prev=${prev?.metadata.resourceVersion ?? "-"}`,
        ),
      remove: (o) => seen.push(`remove ${o.metadata.name}`),
    });
    inf.start();
    const w = watches[0] as WatchOptions;
    send(w, "ADDED", obj("a", "1"));
    w.onInitialEventsEnd?.(1);
    send(w, "MODIFIED", obj("a", "1"));
    send(w, "MODIFIED", obj("a", "2"));
    send(w, "DELETED", obj("a", "3"));
    send(w, "DELETED", obj("a", "3"));
    assert.deepEqual(seen, ["upsert a@1 prev=-", "upsert a@2 prev=1", "remove a"]);
    inf.stop();
  });

  it("after the watch closes, a new watch's list reports what vanished meanwhile and what was recreated", async () => {
    const { client, watches, send } = fakeClient();
    const seen: string[] = [];
    const inf = new Informer(client, { def: { plural: "pods" } } as unknown as ServedVersion, {
      upsert: (o) => seen.push(`upsert ${o.metadata.name}/${o.metadata.uid}`),
      remove: (o) => seen.push(`remove ${o.metadata.name}/${o.metadata.uid}`),
    });
    inf.start();
    const w1 = watches[0] as WatchOptions;
    send(w1, "ADDED", obj("a", "1"));
    send(w1, "ADDED", obj("b", "2"));
    w1.onInitialEventsEnd?.(2);
    seen.length = 0;
    w1.onClose();
    await new Promise((r) => setTimeout(r, 150));
    const w2 = watches[1] as WatchOptions;
    assert.ok(w2, "watched again");
    send(w2, "ADDED", obj("b", "9", "uid-b2"));
    w2.onInitialEventsEnd?.(9);
    assert.deepEqual(seen, ["remove b/uid-b", "upsert b/uid-b2", "remove a/uid-a"]);
    inf.stop();
  });

  it("a failing handler does not break the stream", () => {
    const { client, watches, send } = fakeClient();
    let n = 0;
    const inf = new Informer(client, { def: { plural: "pods" } } as unknown as ServedVersion, {
      upsert: () => {
        n++;
        throw new Error("boom");
      },
      remove: () => undefined,
    });
    inf.start();
    const prev = process.env["K8TS_LOG"];
    process.env["K8TS_LOG"] = "error";
    const w = watches[0] as WatchOptions;
    const stderr = process.stderr.write;
    process.stderr.write = () => true;
    try {
      send(w, "ADDED", obj("a", "1"));
      send(w, "ADDED", obj("b", "2"));
    } finally {
      process.stderr.write = stderr;
      if (prev === undefined) delete process.env["K8TS_LOG"];
      else process.env["K8TS_LOG"] = prev;
    }
    assert.equal(n, 2);
    inf.stop();
  });
});
