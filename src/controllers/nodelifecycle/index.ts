/**
 * Node lifecycle (upstream pkg/controller/nodelifecycle and the taint eviction controller):
 * - a node whose kubelet stopped renewing its Lease and posting status for longer than the grace
 *   period (40 s) gets its conditions set to Unknown ("Kubelet stopped posting node status."),
 *   and its pods are marked not ready;
 * - taints follow conditions: Ready=Unknown → node.kubernetes.io/unreachable, Ready=False →
 *   node.kubernetes.io/not-ready (NoSchedule and NoExecute), spec.unschedulable →
 *   node.kubernetes.io/unschedulable:NoSchedule (kubectl cordon); they go when the cause goes;
 * - NoExecute taints evict: a pod that tolerates none of them is deleted at once, one that
 *   tolerates them all for a while is deleted when the shortest tolerationSeconds has passed since
 *   the taint was added, with a DisruptionTarget condition first and a TaintManagerEviction event.
 */
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import { type Taint, toleratesTaint } from "../../scheduler/taints.js";
import { log } from "../../util/log.js";
import type { LocalClient } from "../client.js";
import { recordEvent } from "../events.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

export interface NodeLifecycleOptions {
  /** How long a node may go without a heartbeat before it is Unknown, ms (default 40 s). */
  gracePeriodMs?: number;
  /** How often every node is checked, ms (default 5 s, as --node-monitor-period). */
  monitorPeriodMs?: number;
  now?: () => number;
}

type Rec = Record<string, unknown>;

export const UNREACHABLE = "node.kubernetes.io/unreachable";
export const NOT_READY = "node.kubernetes.io/not-ready";
export const UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
const CONDITION_TYPES = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function conditions(node: KObject): Rec[] {
  const c = rec(node["status"])["conditions"];
  return Array.isArray(c) ? c.filter(isRecord) : [];
}

function readyStatus(node: KObject): string | undefined {
  const c = conditions(node).find((x) => x["type"] === "Ready");
  return typeof c?.["status"] === "string" ? c["status"] : undefined;
}

/** The taints the controller wants on a node given its conditions and spec (pure). */
export function wantedTaints(node: KObject): Taint[] {
  const ready = readyStatus(node);
  const out: Taint[] = [];
  if (ready === "Unknown") {
    out.push(
      { key: UNREACHABLE, value: "", effect: "NoSchedule" },
      { key: UNREACHABLE, value: "", effect: "NoExecute" },
    );
  } else if (ready === "False") {
    out.push({ key: NOT_READY, value: "", effect: "NoSchedule" }, { key: NOT_READY, value: "", effect: "NoExecute" });
  }
  if (rec(node["spec"])["unschedulable"] === true) out.push({ key: UNSCHEDULABLE, value: "", effect: "NoSchedule" });
  return out;
}

const MANAGED = new Set([UNREACHABLE, NOT_READY, UNSCHEDULABLE]);

/** The node's taints with ours brought to `wanted` (others untouched); undefined when nothing changes. */
export function reconcileTaints(current: Rec[], wanted: Taint[], now: number): Rec[] | undefined {
  const same = (a: Rec, b: Taint) => a["key"] === b.key && a["effect"] === b.effect;
  const keep = current.filter((t) => !MANAGED.has(String(t["key"])) || wanted.some((w) => same(t, w)));
  const add = wanted.filter((w) => !current.some((t) => same(t, w)));
  if (add.length === 0 && keep.length === current.length) return undefined;
  return [
    ...keep,
    ...add.map((t) => ({
      key: t.key,
      effect: t.effect,
      ...(t.effect === "NoExecute" ? { timeAdded: rfc3339(now) } : {}),
    })),
  ];
}

/**
 * When a pod on a node with these NoExecute taints must go: now (0), at an epoch ms, or never
 * (undefined) — the taint eviction rule.
 */
export function evictionTime(pod: KObject, taints: Rec[], now: number): number | undefined {
  const noExecute = taints.filter((t) => t["effect"] === "NoExecute");
  if (noExecute.length === 0) return undefined;
  const spec = rec(pod["spec"]);
  const tolerations = Array.isArray(spec["tolerations"]) ? spec["tolerations"].filter(isRecord) : [];
  let at: number | undefined;
  for (const taint of noExecute) {
    const t: Taint = { key: String(taint["key"] ?? ""), value: String(taint["value"] ?? ""), effect: "NoExecute" };
    const matching = tolerations.filter((tol) =>
      toleratesTaint(
        {
          key: String(tol["key"] ?? ""),
          operator: String(tol["operator"] ?? ""),
          value: String(tol["value"] ?? ""),
          effect: String(tol["effect"] ?? ""),
        },
        t,
      ),
    );
    if (matching.length === 0) return 0;
    // the shortest tolerationSeconds among the matching tolerations; none set → tolerated forever
    const seconds = matching
      .map((m) => (typeof m["tolerationSeconds"] === "number" ? m["tolerationSeconds"] : undefined))
      .filter((s): s is number => s !== undefined);
    if (seconds.length === 0) continue;
    const added = Date.parse(String(taint["timeAdded"] ?? "")) || now;
    const due = added + Math.max(0, Math.min(...seconds)) * 1000;
    at = at === undefined ? due : Math.min(at, due);
  }
  return at;
}

export class NodeLifecycleController {
  private readonly client: LocalClient;
  private readonly grace: number;
  private readonly period: number;
  private readonly now: () => number;
  private queue: WorkQueue;
  private stops: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  /** When each node's kubelet was last heard of (lease renewal or status heartbeat), epoch ms. */
  private readonly heard = new Map<string, number>();
  private readonly podsByNode = new Map<string, Set<string>>();

  constructor(client: LocalClient, opts: NodeLifecycleOptions = {}) {
    this.client = client;
    this.grace = opts.gracePeriodMs ?? 40_000;
    this.period = opts.monitorPeriodMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.queue = new WorkQueue("nodelifecycle", (key) => this.reconcile(key));
  }

  start(): void {
    this.queue = new WorkQueue("nodelifecycle", (key) => this.reconcile(key));
    const nodes = this.client.resource("", "v1", "nodes");
    const leases = this.client.resource("coordination.k8s.io", "v1", "leases");
    const pods = this.client.resource("", "v1", "pods");
    const started = this.now();
    const a = this.client.informer(nodes, (obj, deleted) => {
      const name = obj.metadata.name ?? "";
      if (deleted) {
        this.heard.delete(name);
        return;
      }
      const ready = conditions(obj).find((c) => c["type"] === "Ready");
      const hb = Date.parse(String(ready?.["lastHeartbeatTime"] ?? ""));
      // a node first seen counts as heard now: a restarted controller gives kubelets a full grace period
      this.note(name, Number.isFinite(hb) ? Math.max(hb, started) : started);
      this.queue.add(name);
    });
    const b = this.client.informer(leases, (obj, deleted) => {
      if (deleted || obj.metadata.namespace !== "kube-node-lease") return;
      const renew = Date.parse(String(rec(obj["spec"])["renewTime"] ?? ""));
      if (Number.isFinite(renew)) this.note(obj.metadata.name ?? "", renew);
    });
    const c = this.client.informer(pods, (obj, deleted) => {
      const node = String(rec(obj["spec"])["nodeName"] ?? "");
      if (node === "") return;
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      const set = this.podsByNode.get(node) ?? new Set<string>();
      // a finished pod has nothing left to evict
      const phase = rec(obj["status"])["phase"];
      const gone = deleted || phase === "Succeeded" || phase === "Failed";
      if (gone) set.delete(key);
      else set.add(key);
      this.podsByNode.set(node, set);
      // only a node with NoExecute taints has pods to look at
      if (!gone && this.hasNoExecute(node)) this.queue.add(node);
    });
    this.stops = [() => a.stop(), () => b.stop(), () => c.stop()];
    this.timer = setInterval(() => {
      for (const name of this.heard.keys()) this.queue.add(name);
    }, this.period);
    this.timer.unref();
  }

  stop(): void {
    for (const s of this.stops) s();
    this.stops = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queue.stop();
    this.heard.clear();
    this.podsByNode.clear();
  }

  private hasNoExecute(name: string): boolean {
    const node = this.client.get(this.client.resource("", "v1", "nodes"), undefined, name);
    const taints = rec(node?.["spec"])["taints"];
    return Array.isArray(taints) && taints.some((t) => isRecord(t) && t["effect"] === "NoExecute");
  }

  private note(node: string, at: number): void {
    if (at > (this.heard.get(node) ?? 0)) this.heard.set(node, at);
  }

  private async reconcile(name: string): Promise<ReconcileResult> {
    const nodes = this.client.resource("", "v1", "nodes");
    let node = this.client.get(nodes, undefined, name);
    if (!node) return undefined;
    const now = this.now();
    const heard = this.heard.get(name) ?? now;
    const silent = now - heard > this.grace;
    if (silent && readyStatus(node) !== "Unknown") {
      await this.client.update(nodes, undefined, name, "status", (cur) => {
        const status = rec(cur["status"]);
        const conds = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
        for (const type of CONDITION_TYPES) {
          let c = conds.find((x) => x["type"] === type);
          if (!c) {
            c = { type, lastHeartbeatTime: rfc3339(heard) };
            conds.push(c);
          }
          if (c["status"] !== "Unknown") c["lastTransitionTime"] = rfc3339(now);
          c["status"] = "Unknown";
          c["reason"] = "NodeStatusUnknown";
          c["message"] = "Kubelet stopped posting node status.";
        }
        status["conditions"] = conds;
        cur["status"] = status;
        return cur;
      });
      await this.markPodsNotReady(name);
      node = this.client.get(nodes, undefined, name) ?? node;
    }
    const spec = rec(node["spec"]);
    const current = Array.isArray(spec["taints"]) ? spec["taints"].filter(isRecord) : [];
    const next = reconcileTaints(current, wantedTaints(node), now);
    if (next) {
      await this.client.update(nodes, undefined, name, "", (cur) => {
        const s = rec(cur["spec"]);
        const taints = reconcileTaints(
          Array.isArray(s["taints"]) ? s["taints"].filter(isRecord) : [],
          wantedTaints(cur),
          now,
        );
        if (taints) {
          if (taints.length > 0) s["taints"] = taints;
          else delete s["taints"];
        }
        cur["spec"] = s;
        return cur;
      });
      node = this.client.get(nodes, undefined, name) ?? node;
    }
    const taints = Array.isArray(rec(node["spec"])["taints"])
      ? (rec(node["spec"])["taints"] as unknown[]).filter(isRecord)
      : [];
    let soonest: number | undefined;
    for (const key of this.podsByNode.get(name) ?? []) {
      const [ns, podName] = key.split("/") as [string, string];
      const pod = this.client.get(this.client.resource("", "v1", "pods"), ns, podName);
      if (!pod || pod.metadata.deletionTimestamp) continue;
      const at = evictionTime(pod, taints, now);
      if (at === undefined) continue;
      if (at <= now) await this.evict(pod);
      else soonest = soonest === undefined ? at : Math.min(soonest, at);
    }
    // come back when the node would turn silent, or when the next toleration runs out
    const wake = Math.min(
      soonest ?? Number.POSITIVE_INFINITY,
      silent ? Number.POSITIVE_INFINITY : heard + this.grace + 1,
    );
    return Number.isFinite(wake) ? { requeueAfterMs: Math.max(100, wake - now) } : undefined;
  }

  private async markPodsNotReady(node: string): Promise<void> {
    const pods = this.client.resource("", "v1", "pods");
    for (const key of this.podsByNode.get(node) ?? []) {
      const [ns, name] = key.split("/") as [string, string];
      const pod = this.client.get(pods, ns, name);
      const phase = rec(pod?.["status"])["phase"];
      if (!pod || phase === "Succeeded" || phase === "Failed") continue;
      await this.client
        .update(pods, ns, name, "status", (cur) => {
          const status = rec(cur["status"]);
          const conds = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
          for (const c of conds) {
            if ((c["type"] === "Ready" || c["type"] === "ContainersReady") && c["status"] !== "False") {
              c["status"] = "False";
              c["lastTransitionTime"] = rfc3339(this.now());
              if (c["type"] === "Ready") c["reason"] = "NodeNotReady";
            }
          }
          status["conditions"] = conds;
          cur["status"] = status;
          return cur;
        })
        .catch((err: unknown) => log.warn("marking pod not ready failed", { pod: key, error: String(err) }));
    }
  }

  private async evict(pod: KObject): Promise<void> {
    const pods = this.client.resource("", "v1", "pods");
    const ns = pod.metadata.namespace ?? "default";
    const name = pod.metadata.name ?? "";
    await this.client
      .update(pods, ns, name, "status", (cur) => {
        const status = rec(cur["status"]);
        const conds = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
        if (!conds.some((c) => c["type"] === "DisruptionTarget")) {
          conds.push({
            type: "DisruptionTarget",
            status: "True",
            lastProbeTime: null,
            lastTransitionTime: rfc3339(this.now()),
            reason: "DeletionByTaintManager",
            message: "Taint manager: deleting due to NoExecute taint",
          });
        }
        status["conditions"] = conds;
        cur["status"] = status;
        return cur;
      })
      .catch(() => undefined);
    await recordEvent(
      this.client,
      { ...pod, kind: "Pod", apiVersion: "v1" },
      "taint-eviction-controller",
      "Normal",
      "TaintManagerEviction",
      `Marking for deletion Pod ${ns}/${name}`,
      this.now(),
    );
    await this.client.delete(pods, ns, name);
  }
}
