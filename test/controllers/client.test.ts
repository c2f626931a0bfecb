/**
 * The in-process client's informer survives the watch cache losing its store watch: it lists
 * again, reports what changed or vanished meanwhile, and goes on watching.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Catalog } from "../../src/apiserver/catalog.js";
import { Registry } from "../../src/apiserver/rest.js";
import { WatchCache } from "../../src/apiserver/watchcache.js";
import { LocalClient } from "../../src/controllers/client.js";
import { MemoryStore, type Store, StoreError, type WatchHandlers } from "../../src/store/index.js";

function failingStore(): { store: Store; fail(): void } {
  const inner = new MemoryStore();
  const live: WatchHandlers[] = [];
  // every call goes to the real store (its own `this`), but watches are remembered so they can fail
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "watch") {
        return (prefix: string, handlers: WatchHandlers, opts?: { fromRevision?: number; prevKv?: boolean }) => {
          live.push(handlers);
          return target.watch(prefix, handlers, opts);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Store;
  return {
    store,
    fail: () =>
      live.at(-1)?.onError(new StoreError("compacted", "required revision has been compacted", { revision: 1 })),
  };
}

process.env["K8TS_LOG"] ??= "error";

const cm = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" } });

describe("LocalClient.informer", () => {
  it("after the watch cache re-lists, reports objects changed and deleted meanwhile, and keeps watching", async () => {
    // the cache's retry timer is unref'ed (a server's sockets keep it alive): keep this test alive
    const keepAlive = setInterval(() => undefined, 1000);
    const { store, fail } = failingStore();
    const cache = new WatchCache(store);
    await cache.start();
    const client = new LocalClient(new Catalog(), new Registry(store, cache));
    const sv = client.resource("", "v1", "configmaps");
    await client.ensure(client.resource("", "v1", "namespaces"), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "default" },
    });
    await client.ensure(sv, cm("stays"));
    await client.ensure(sv, cm("goes"));
    const seen: string[] = [];
    const inf = client.informer(sv, (obj, deleted) => seen.push(`${deleted ? "-" : "+"}${obj.metadata.name}`));
    assert.deepEqual(seen.sort(), ["+goes", "+stays"]);
    seen.length = 0;
    fail();
    // meanwhile, through the store: one object goes, one comes
    await store.delete("/registry/core/configmaps/default/goes");
    await client.ensure(sv, cm("new")).catch(() => undefined);
    const until = Date.now() + 5000;
    while (!(seen.includes("-goes") && seen.includes("+new")) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.includes("-goes"), seen.join(" "));
    assert.ok(seen.includes("+new"), seen.join(" "));
    assert.ok(!seen.includes("-stays"), seen.join(" "));
    // and the new watch delivers later changes
    seen.length = 0;
    await client.ensure(sv, cm("later"));
    const until2 = Date.now() + 5000;
    while (!seen.includes("+later") && Date.now() < until2) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, ["+later"]);
    inf.stop();
    cache.stop();
    clearInterval(keepAlive);
  });
});
