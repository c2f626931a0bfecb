/**
 * ResourceQuota controller (upstream pkg/controller/resourcequota): keeps each quota's status.hard
 * equal to spec.hard and status.used equal to the namespace's observed usage, recalculated in full
 * per quota whenever a quota or an object it could count changes, and every five minutes.
 */
import { isRecord, type KObject } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import {
  builtinEvaluators,
  parseObjectCountName,
  parseResourceList,
  podChargeEndsAt,
  type QuotaLister,
  quotaStatus,
  quotaStatusEqual,
} from "../../apiserver/quota.js";
import type { LocalClient } from "../client.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

export interface ResourceQuotaControllerOptions {
  /** Full resync period of every quota, ms (default 5 minutes, as kube-controller-manager). */
  resyncMs?: number;
  /** The clock, ms (default Date.now); pods stop counting once their deletion grace is over. */
  now?: () => number;
}

interface Tracked {
  sv: ServedVersion;
  stop: () => void;
}

export class ResourceQuotaController {
  private readonly client: LocalClient;
  /** A new queue per start (a stopped queue stays stopped), so leadership can come back. */
  private queue: WorkQueue;
  private readonly resyncMs: number;
  private readonly now: () => number;
  /** Informers by "<group>/<plural>". */
  private readonly tracked = new Map<string, Tracked>();
  /** Quota names by namespace, from the quota informer. */
  private readonly quotas = new Map<string, Set<string>>();
  private stopQuotas: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(client: LocalClient, opts: ResourceQuotaControllerOptions = {}) {
    this.client = client;
    this.resyncMs = opts.resyncMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    this.queue = new WorkQueue("resourcequota", (key) => this.reconcile(key));
  }

  start(): void {
    this.queue = new WorkQueue("resourcequota", (key) => this.reconcile(key));
    const rq = this.client.resource("", "v1", "resourcequotas");
    const s = this.client.informer(rq, (obj, deleted) => this.onQuota(obj, deleted));
    this.stopQuotas = () => s.stop();
    for (const ev of builtinEvaluators) {
      if (ev.plural !== "resourcequotas") this.track(ev.group, ev.plural);
    }
    this.resyncTimer = setInterval(() => this.enqueueAll(), this.resyncMs);
    this.resyncTimer.unref();
  }

  stop(): void {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.stopQuotas?.();
    this.stopQuotas = undefined;
    for (const t of this.tracked.values()) t.stop();
    this.tracked.clear();
    this.quotas.clear();
    this.queue.stop();
  }

  private onQuota(obj: KObject, deleted: boolean): void {
    const ns = obj.metadata.namespace ?? "";
    const name = obj.metadata.name ?? "";
    let names = this.quotas.get(ns);
    if (deleted) {
      names?.delete(name);
      if (names?.size === 0) this.quotas.delete(ns);
      return;
    }
    if (!names) {
      names = new Set();
      this.quotas.set(ns, names);
    }
    names.add(name);
    // quota on count/<resource>.<group> needs that resource watched
    for (const hard of parseResourceList(spec(obj)["hard"]).keys()) {
      const gr = parseObjectCountName(hard);
      if (gr) this.track(gr.group, gr.plural);
    }
    this.queue.add(`${ns}/${name}`);
  }

  /** Watches a resource (if served) and enqueues the quotas of the namespace of every change. */
  private track(group: string, plural: string): void {
    const key = `${group}/${plural}`;
    if (this.tracked.has(key)) return;
    const sv = this.servedVersion(group, plural);
    if (!sv?.def.namespaced) return;
    const s = this.client.informer(sv, (obj) => this.enqueueNamespace(obj.metadata.namespace ?? ""));
    this.tracked.set(key, { sv, stop: () => s.stop() });
  }

  /** The storage-version entry of a resource, as served now. */
  private servedVersion(group: string, plural: string): ServedVersion | undefined {
    return this.client.catalog
      .all()
      .find((e) => e.def.group === group && e.def.plural === plural && e.apiVersion === e.def.storageVersion);
  }

  private enqueueNamespace(ns: string): void {
    for (const name of this.quotas.get(ns) ?? []) this.queue.add(`${ns}/${name}`);
  }

  private enqueueAll(): void {
    for (const ns of this.quotas.keys()) this.enqueueNamespace(ns);
  }

  /** Recalculates one quota and writes its status when it differs. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const slash = key.indexOf("/");
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const rq = this.client.resource("", "v1", "resourcequotas");
    const quota = this.client.get(rq, ns, name);
    if (!quota) return undefined;
    const now = this.now();
    const lister = this.lister();
    const want = quotaStatus(quota, lister, now);
    if (!quotaStatusEqual(quota, want)) {
      await this.client.update(rq, ns, name, "status", (cur) => {
        cur["status"] = { hard: want.hard, used: want.used };
        return cur;
      });
    }
    // a pod being deleted stops counting once its grace period is over: come back then
    const next = this.nextPodChargeEnd(ns, now);
    return next === undefined ? undefined : { requeueAfterMs: Math.max(next - now + 1, 1) };
  }

  /** Lists from the informers' cache; resources not watched (yet) are tracked from now on. */
  private lister(): QuotaLister {
    return (group, plural, namespace) => {
      this.track(group, plural);
      const t = this.tracked.get(`${group}/${plural}`);
      if (!t) return [];
      return this.client.registry.cache
        .resource(t.sv.keyPrefix)
        .list(`${namespace}/`)
        .map((c) => c.obj);
    };
  }

  private nextPodChargeEnd(ns: string, now: number): number | undefined {
    const t = this.tracked.get("/pods");
    if (!t) return undefined;
    let next: number | undefined;
    for (const c of this.client.registry.cache.resource(t.sv.keyPrefix).list(`${ns}/`)) {
      const end = podChargeEndsAt(c.obj);
      if (end !== undefined && end >= now && (next === undefined || end < next)) next = end;
    }
    return next;
  }
}

function spec(obj: KObject): Record<string, unknown> {
  const s = obj["spec"];
  return isRecord(s) ? s : {};
}
