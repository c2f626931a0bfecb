/**
 * The in-process client controllers use: the same registry path as HTTP requests (admission,
 * validation, strategies), without the HTTP hop. Objects are in their storage version.
 */

import type { KObject } from "../api/types.js";
import { bindPod } from "../apiserver/binding.js";
import type { Catalog, ServedVersion } from "../apiserver/catalog.js";
import { ApiError } from "../apiserver/errors.js";
import type { DeleteOptions, Registry, WatchStream } from "../apiserver/rest.js";
import type { CachedObject } from "../apiserver/watchcache.js";

export class LocalClient {
  readonly catalog: Catalog;
  readonly registry: Registry;

  constructor(catalog: Catalog, registry: Registry) {
    this.catalog = catalog;
    this.registry = registry;
  }

  resource(group: string, version: string, plural: string): ServedVersion {
    const sv = this.catalog.lookup(group, version, plural);
    if (!sv) throw new Error(`resource ${plural}.${group}/${version} is not served`);
    return sv;
  }

  get(sv: ServedVersion, namespace: string | undefined, name: string): KObject | undefined {
    return this.registry.cached(sv, namespace, name)?.obj;
  }

  async list(sv: ServedVersion, namespace?: string): Promise<CachedObject[]> {
    return (await this.registry.list(sv, { namespace, resourceVersion: "0" })).items;
  }

  /**
   * Waits until the watch cache holds what the store holds: after it, `get` and every informer's
   * callbacks have seen each write made before the call (a controller's own included).
   */
  async sync(): Promise<void> {
    await this.registry.cache.sync();
  }

  /**
   * A consistent list: it waits until the watch cache holds what the store holds, so it sees every
   * write made before the call (a controller's own creates included).
   */
  async listFresh(sv: ServedVersion, namespace?: string): Promise<CachedObject[]> {
    return (await this.registry.list(sv, { namespace, resourceVersion: "" })).items;
  }

  /** Creates; an AlreadyExists answer is not an error here. */
  async ensure(sv: ServedVersion, obj: KObject): Promise<void> {
    try {
      await this.registry.create(sv, obj.metadata.namespace, obj, { dryRun: false });
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) return;
      throw err;
    }
  }

  /** Updates through `mutate` (conflicts retried on the current object); returns the object as stored. */
  async update(
    sv: ServedVersion,
    namespace: string | undefined,
    name: string,
    subresource: string,
    mutate: (o: KObject) => KObject,
  ): Promise<KObject> {
    const r = await this.registry.update(
      sv,
      namespace,
      name,
      subresource,
      (cur) => {
        const next = mutate(cur);
        delete next.metadata.resourceVersion;
        return next;
      },
      { dryRun: false, retry: true },
    );
    return r.object.obj;
  }

  async delete(
    sv: ServedVersion,
    namespace: string | undefined,
    name: string,
    opts: Partial<DeleteOptions> = {},
  ): Promise<void> {
    try {
      await this.registry.delete(sv, namespace, name, { dryRun: false, ...opts });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }

  /** Binds a pod to a node through the pods/binding path (as the scheduler's POST would). */
  async bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<void> {
    const pods = this.resource("", "v1", "pods");
    const binding: KObject = {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name, namespace, ...(uid ? { uid } : {}) },
      target: { apiVersion: "v1", kind: "Node", name: nodeName },
    };
    await bindPod(this.registry, pods, namespace, name, binding, false);
  }

  /**
   * Calls `onChange(obj, deleted)` for every object now and on every change; returns a stop
   * function. When the watch ends (the watch cache lost its store watch and re-listed), it lists
   * again, reports what changed or vanished meanwhile, and watches on from there.
   */
  informer(sv: ServedVersion, onChange: (obj: KObject, deleted: boolean) => void): WatchStream {
    const known = new Map<string, KObject>();
    let stopped = false;
    let current: WatchStream | undefined;
    let retry: NodeJS.Timeout | undefined;
    const seen = (c: CachedObject, deleted: boolean) => {
      if (deleted) known.delete(c.key);
      else known.set(c.key, c.obj);
      onChange(c.obj, deleted);
    };
    const watchFrom = (resourceVersion: string) => {
      current = this.registry.watch(sv, {
        resourceVersion,
        onEvent: (ev) => seen(ev.object, ev.type === "DELETED"),
        onClose: () => {
          if (!stopped) retry = setTimeout(() => void relist(), 100);
        },
      });
    };
    const relist = async () => {
      if (stopped) return;
      try {
        // a consistent read: it waits until the cache holds what the store holds
        const listed = await this.registry.list(sv, { resourceVersion: "" });
        if (stopped) return;
        const now = new Set(listed.items.map((c) => c.key));
        for (const [key, obj] of [...known]) {
          if (!now.has(key)) {
            known.delete(key);
            onChange(obj, true);
          }
        }
        for (const c of listed.items) {
          if (known.get(c.key)?.metadata.resourceVersion !== c.obj.metadata.resourceVersion) seen(c, false);
        }
        watchFrom(listed.resourceVersion);
      } catch {
        retry = setTimeout(() => void relist(), 1000);
      }
    };
    watchFrom("");
    return {
      stop: () => {
        stopped = true;
        if (retry) clearTimeout(retry);
        current?.stop();
      },
    };
  }
}
