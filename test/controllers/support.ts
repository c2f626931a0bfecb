/** What the controller suites share: a live registry (memory store, watch cache, optionally admission) and a poll. */

import type { KObject } from "../../src/api/types.js";
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

/** Puts a pod Running and Ready (Ready since now), as a node agent would once its containers are up. */
export function markReady(client: LocalClient, namespace: string | undefined, name: string): Promise<unknown> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return client.update(client.resource("", "v1", "pods"), namespace, name, "status", (o) => {
    o["status"] = {
      phase: "Running",
      conditions: [
        { type: "Ready", status: "True", lastTransitionTime: now },
        { type: "ContainersReady", status: "True", lastTransitionTime: now },
      ],
    };
    return o;
  });
}

/**
 * Plays the node agent for controller suites: every new pod the `ready` predicate accepts goes
 * Running and Ready (Ready since now); the others stay Pending. Returns a stop function.
 */
export function readyPods(client: LocalClient, ready: (pod: KObject) => boolean = () => true): () => void {
  const done = new Set<string>();
  const s = client.informer(client.resource("", "v1", "pods"), (pod, deleted) => {
    const uid = pod.metadata.uid ?? "";
    if (deleted || done.has(uid) || pod.metadata.deletionTimestamp || !ready(pod)) return;
    done.add(uid);
    void markReady(client, pod.metadata.namespace, pod.metadata.name ?? "").catch(() => undefined);
  });
  return () => s.stop();
}
