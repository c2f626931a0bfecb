import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WatchCache } from "../../src/apiserver/watchcache.js";
import { MemoryStore, type Store, StoreError, type WatchHandlers } from "../../src/store/index.js";

/** A memory store whose watches can be failed on demand. */
function failingStore(): { store: Store; fail(): void } {
  const inner = new MemoryStore();
  const live: WatchHandlers[] = [];
  const store: Store = Object.create(inner, {
    watch: {
      value: (prefix: string, handlers: WatchHandlers, opts?: { fromRevision?: number; prevKv?: boolean }) => {
        live.push(handlers);
        return inner.watch(prefix, handlers, opts);
      },
    },
  });
  return {
    store,
    fail: () =>
      live.at(-1)?.onError(new StoreError("compacted", "required revision has been compacted", { revision: 1 })),
  };
}

const obj = (name: string) =>
  JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "d" } });

describe("watch cache", () => {
  it("serves writes in order and fans them out to every watcher", async () => {
    const store = new MemoryStore();
    const cache = new WatchCache(store);
    await cache.start();
    const rc = cache.resource("/registry/core/configmaps/");
    const seen: string[][] = [[], []];
    for (const s of seen)
      rc.addWatcher({ push: (ev) => s.push(`${ev.type} ${ev.object.obj.metadata.name}`), close: () => undefined });
    const rev = await store.create("/registry/core/configmaps/d/a", obj("a"));
    await store.update("/registry/core/configmaps/d/a", obj("a"), rev);
    await store.delete("/registry/core/configmaps/d/a");
    await cache.waitFor(await store.currentRevision());
    for (const s of seen) assert.deepEqual(s, ["ADDED a", "MODIFIED a", "DELETED a"]);
    cache.stop();
  });

  it("rebuilds itself from a fresh list when its store watch fails, ending the watches it fed", async () => {
    const { store, fail } = failingStore();
    const cache = new WatchCache(store);
    await store.create("/registry/core/configmaps/d/before", obj("before"));
    await cache.start();
    const rc = cache.resource("/registry/core/configmaps/");
    let closed = false;
    rc.addWatcher({ push: () => undefined, close: () => (closed = true) });
    fail();
    assert.equal(closed, true);
    const rev = await store.create("/registry/core/configmaps/d/after", obj("after"));
    await cache.waitFor(rev);
    assert.deepEqual(
      cache
        .resource("/registry/core/configmaps/")
        .list()
        .map((c) => c.obj.metadata.name),
      ["after", "before"],
    );
    cache.stop();
  });

  it("keeps at most EVENT_WINDOW_BYTES of events' JSON: big busy objects keep fewer events, not gigabytes", async () => {
    const store = new MemoryStore();
    const cache = new WatchCache(store);
    await cache.start();
    const big = (n: number) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "big", namespace: "d" },
        data: { n: String(n), pad: "x".repeat(256 * 1024) },
      });
    let rev = await store.create("/registry/core/configmaps/d/big", big(0));
    const first = rev;
    // 200 writes of 256 KiB: 50 MiB of JSON, over three times the budget
    for (let i = 1; i <= 200; i++) rev = await store.update("/registry/core/configmaps/d/big", big(i), rev);
    await cache.waitFor(rev);
    const rc = cache.resource("/registry/core/configmaps/");
    assert.equal(rc.eventsSince(first), undefined, "the oldest events were dropped");
    const recent = rc.eventsSince(rc.oldestRv);
    assert.ok(recent !== undefined && recent.length >= 100, "at least 100 events stay");
    assert.ok((recent?.length ?? 0) < 201);
    assert.equal(recent?.at(-1)?.rv, rev, "the newest event is there");
    cache.stop();
  });
});
