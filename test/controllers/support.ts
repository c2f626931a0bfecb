/** What the controller suites share: a live registry (memory store, watch cache, optionally admission) and a poll. */
import { BuiltinAdmission } from "../../src/apiserver/admission.js";
import { Catalog } from "../../src/apiserver/catalog.js";
import { Registry } from "../../src/apiserver/rest.js";
import { WatchCache } from "../../src/apiserver/watchcache.js";
import { LocalClient } from "../../src/controllers/client.js";
import { MemoryStore } from "../../src/store/index.js";

process.env["K8TS_LOG"] ??= "error";

export interface LiveRegistry {
  client: LocalClient;
  /** Starts the cache and makes the `default` namespace (and its `default` ServiceAccount with admission). */
  ready(): Promise<void>;
  /** Lets the process end (the cache's timers are unref'ed; this keeps it alive meanwhile). */
  close(): void;
}

/** A registry like the API server's; `admission` adds its defaults, validation and quota checks. */
export function liveRegistry(opts: { admission?: boolean } = {}): LiveRegistry {
  const store = new MemoryStore();
  const cache = new WatchCache(store);
  const registry = new Registry(store, cache);
  if (opts.admission) registry.admission = new BuiltinAdmission(cache);
  const client = new LocalClient(new Catalog(), registry);
  const keepAlive = setInterval(() => undefined, 1000);
  return {
    client,
    async ready() {
      await cache.start();
      await client.ensure(client.resource("", "v1", "namespaces"), {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "default" },
      });
      if (opts.admission) {
        // the service account admission needs the namespace's default account
        await client.ensure(client.resource("", "v1", "serviceaccounts"), {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: "default", namespace: "default" },
        });
      }
    },
    close: () => clearInterval(keepAlive),
  };
}

/** Polls `fn` until it answers something other than undefined. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
