/**
 * An informer over the registry's watch cache for the scheduler: every object now and on every
 * change, with the previous version on updates, updates whose resourceVersion did not move
 * skipped, and — when the watch ends (the cache re-listed) — a fresh watch whose initial list is
 * reconciled against what was known (objects gone meanwhile are reported deleted).
 */
import type { KObject } from "../api/types.js";
import type { ServedVersion } from "../apiserver/catalog.js";
import type { WatchStream } from "../apiserver/rest.js";
import type { LocalClient } from "../controllers/client.js";
import { log } from "../util/log.js";

export interface InformerHandlers {
  upsert(obj: KObject, prev: KObject | undefined): void;
  remove(obj: KObject): void;
}

function keyOf(o: KObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
}

export class Informer {
  private readonly client: LocalClient;
  private readonly sv: ServedVersion;
  private readonly handlers: InformerHandlers;
  private readonly name: string;
  readonly known = new Map<string, KObject>();
  private stream: WatchStream | undefined;
  private retry: NodeJS.Timeout | undefined;
  private running = false;

  constructor(client: LocalClient, sv: ServedVersion, handlers: InformerHandlers) {
    this.client = client;
    this.sv = sv;
    this.handlers = handlers;
    this.name = sv.def.plural;
  }

  start(): void {
    this.running = true;
    this.watch();
  }

  stop(): void {
    this.running = false;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.stream?.stop();
    this.stream = undefined;
    this.known.clear();
  }

  private watch(): void {
    const seen = new Set<string>();
    let initial = true;
    this.stream = this.client.registry.watch(this.sv, {
      resourceVersion: "",
      onEvent: (ev) => {
        const obj = ev.object.obj;
        if (initial) seen.add(keyOf(obj));
        this.deliver(obj, ev.type === "DELETED");
      },
      onInitialEventsEnd: () => {
        initial = false;
        for (const [k, obj] of [...this.known]) {
          if (!seen.has(k)) this.deliver(obj, true);
        }
      },
      onClose: () => {
        if (!this.running) return;
        log.warn("scheduler informer closed; watching again", { resource: this.name });
        this.retry = setTimeout(() => {
          this.retry = undefined;
          if (this.running) this.watch();
        }, 100);
        this.retry.unref();
      },
    });
  }

  private deliver(obj: KObject, deleted: boolean): void {
    const key = keyOf(obj);
    const prev = this.known.get(key);
    try {
      if (deleted) {
        if (!prev) return;
        this.known.delete(key);
        this.handlers.remove(prev.metadata.uid === obj.metadata.uid ? obj : prev);
        return;
      }
      if (prev && prev.metadata.resourceVersion === obj.metadata.resourceVersion) return;
      this.known.set(key, obj);
      if (prev && prev.metadata.uid !== obj.metadata.uid) {
        // recreated under the same name while we were not looking
        this.handlers.remove(prev);
        this.handlers.upsert(obj, undefined);
        return;
      }
      this.handlers.upsert(obj, prev);
    } catch (err) {
      log.error("scheduler event handler failed", { resource: this.name, key, error: String(err) });
    }
  }
}
