/**
 * DaemonSet controller (upstream pkg/controller/daemon): one pod per eligible node.
 * - eligible: the template's nodeName, nodeSelector and required node affinity admit the node, and
 *   its NoSchedule/NoExecute taints are tolerated (with the tolerations every daemon pod gets); a
 *   pod may stay on a node whose new taints are only NoSchedule;
 * - pods are pinned with a `metadata.name` node-affinity field and placed by the scheduler (as
 *   upstream since 1.12), named `<set>-<random>`, labelled with the set's controller-revision-hash;
 * - surplus pods on a node go (oldest kept), failed ones are replaced with a per-node backoff
 *   (1 s doubling to 15 min), pods on nodes that should not run one are deleted; nodes that join
 *   later get a pod;
 * - RollingUpdate replaces old pods node by node within maxUnavailable (unavailable old pods
 *   first), or with maxSurge starts the new pod first and removes the old one once it is
 *   available; OnDelete waits for the user to delete;
 * - ControllerRevisions per template (`<set>-<hash>`), history trimmed to revisionHistoryLimit;
 * - status: desired/current/misscheduled/ready/updated/available/unavailable counts.
 */

import { scaledValue } from "../../api/intstr.js";
import { isPodReady } from "../../api/pdb.js";
import { isRecord, type KObject } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import { ApiError } from "../../apiserver/errors.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { templateHash } from "../deployment/util.js";
import { recordEvent } from "../events.js";
import { currentRevision, ownedRevisions, REVISION_LABEL, type RevisionOwner, truncateHistory } from "../history.js";
import { createPods, deletePods, type PodOwner } from "../podcontrol.js";
import type { ReconcileResult } from "../queue.js";
import { claim, controllerRef, selects, selectsNothing } from "../refmanager.js";
import { isAvailable } from "../replicaset/index.js";
import {
  type DaemonTemplate,
  daemonTemplate,
  daemonTolerations,
  pinnedAffinity,
  shouldRun,
  targetNode,
} from "./placement.js";

type Rec = Record<string, unknown>;

const COMPONENT = "daemonset-controller";
const TEMPLATE_GENERATION = "deprecated.daemonset.template.generation";
const GENERATION_LABEL = "pod-template-generation";
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 15 * 60 * 1000;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function created(p: KObject): number {
  return Date.parse(p.metadata.creationTimestamp ?? "") || 0;
}

/** Scheduled first, then oldest (upstream podByCreationTimestampAndPhase). */
function byAge(a: KObject, b: KObject): number {
  const sa = rec(a["spec"])["nodeName"] ? 0 : 1;
  const sb = rec(b["spec"])["nodeName"] ? 0 : 1;
  return sa - sb || created(a) - created(b) || String(a.metadata.name).localeCompare(String(b.metadata.name));
}

/** The pod is from the current template (its hash, or the deprecated template generation). */
export function isUpdated(pod: KObject, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  return (
    (hash !== "" && labels[REVISION_LABEL] === hash) ||
    (generation !== undefined && labels[GENERATION_LABEL] === generation)
  );
}

/** The one new and the one old pod on a node; undefined when there are more of either (upstream findUpdatedPodsOnNode). */
export function podsOnNode(
  pods: KObject[],
  hash: string,
  generation: string | undefined,
): { newPod?: KObject; oldPod?: KObject } | undefined {
  let newPod: KObject | undefined;
  let oldPod: KObject | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (isUpdated(p, hash, generation)) {
      if (newPod) return undefined;
      newPod = p;
    } else {
      if (oldPod) return undefined;
      oldPod = p;
    }
  }
  return { newPod, oldPod };
}

/**
 * What a rolling update deletes and where it surges (upstream rollingUpdate): `nodes` maps every
 * node that should run a pod (and every node with a pod) to its daemon pods.
 */
export function rollingUpdatePlan(
  nodes: Map<string, KObject[]>,
  o: {
    hash: string;
    generation?: string;
    maxSurge: number;
    maxUnavailable: number;
    minReadySeconds: number;
    now: number;
  },
): { remove: KObject[]; surgeOn: string[] } {
  const available = (p: KObject) => isAvailable(p, o.minReadySeconds, o.now);
  const names = [...nodes.keys()].sort();
  if (o.maxSurge === 0) {
    let unavailable = 0;
    const replace: KObject[] = [];
    const candidates: KObject[] = [];
    for (const n of names) {
      const found = podsOnNode(nodes.get(n) ?? [], o.hash, o.generation);
      if (!found) {
        unavailable++;
        continue;
      }
      const { newPod, oldPod } = found;
      if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
      else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) replace.push(oldPod);
        else if (unavailable < o.maxUnavailable) candidates.push(oldPod);
      }
    }
    const room = Math.min(Math.max(0, o.maxUnavailable - unavailable), candidates.length);
    return { remove: [...replace, ...candidates.slice(0, room)], surgeOn: [] };
  }
  let surged = 0;
  const remove: KObject[] = [];
  const surgeOn: string[] = [];
  for (const n of names) {
    const found = podsOnNode(nodes.get(n) ?? [], o.hash, o.generation);
    if (!found?.oldPod) continue;
    const { newPod, oldPod } = found;
    if (!newPod) {
      if (!available(oldPod)) surgeOn.push(n);
      else if (surged < o.maxSurge) {
        surged++;
        surgeOn.push(n);
      }
    } else if (!available(newPod)) surged++;
    else remove.push(oldPod);
  }
  return { remove, surgeOn };
}

/** What one sync of a set works from. */
interface SyncState {
  ds: KObject;
  nodes: KObject[];
  /** The set's pods by the node they are for; kept up to date with what the sync creates and deletes. */
  byNode: Map<string, KObject[]>;
  hash: string;
  generation: string | undefined;
  template: DaemonTemplate;
  now: number;
}

export interface DaemonSetControllerOptions {
  now?: () => number;
}

export class DaemonSetController extends QueuedController {
  /** What about each node matters to placement (labels, taints), to skip heartbeats. */
  private readonly nodeShape = new Map<string, string>();
  /** Failed-pod replacement backoff per `<set key>/<node>`. */
  private readonly backoff = new Map<string, { delay: number; until: number }>();

  constructor(client: LocalClient, opts: DaemonSetControllerOptions = {}) {
    super(client, "daemonset", opts.now);
  }

  private get dssv(): ServedVersion {
    return this.client.resource("apps", "v1", "daemonsets");
  }

  private get podsv(): ServedVersion {
    return this.client.resource("", "v1", "pods");
  }

  protected watchAll(): void {
    this.watchOwners(this.dssv);
    this.watch(this.client.resource("", "v1", "nodes"), (node, deleted) => {
      const name = node.metadata.name ?? "";
      const shape = deleted
        ? undefined
        : JSON.stringify([node.metadata.labels ?? {}, rec(node["spec"])["taints"] ?? []]);
      if (this.nodeShape.get(name) === shape) return;
      if (shape === undefined) this.nodeShape.delete(name);
      else this.nodeShape.set(name, shape);
      for (const key of this.allOwners()) this.queue.add(key);
    });
    this.watchDependents(this.podsv, ["DaemonSet"], (pod) => this.selectingOwners(this.dssv, pod));
  }

  override stop(): void {
    super.stop();
    this.nodeShape.clear();
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const cached = this.client.get(this.dssv, ns, name);
    if (!cached) {
      for (const k of this.backoff.keys()) if (k.startsWith(`${key}/`)) this.backoff.delete(k);
      return undefined;
    }
    const ds = structuredClone(cached);
    if (selectsNothing(ds)) {
      await this.event(
        ds,
        "Warning",
        "SelectingAll",
        "This daemon set is selecting all pods. A non-empty selector is required.",
      );
      return undefined;
    }
    if (ds.metadata.deletionTimestamp) return undefined;
    const now = this.now();
    const nodes = (await this.client.list(this.client.resource("", "v1", "nodes"))).map((c) => c.obj);
    // a consistent read: pods this controller made a moment ago are in it
    const candidates = (await this.client.listFresh(this.podsv, ns)).map((c) => c.obj);
    const pods = await claim(
      {
        client: this.client,
        sv: this.podsv,
        owner: ds,
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        matches: (l) => selects(ds, l),
      },
      candidates,
    );
    const owner: RevisionOwner = {
      client: this.client,
      owner: ds,
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      matches: (l) => selects(ds, l),
    };
    const revisions = await ownedRevisions(owner);
    const status = rec(ds["status"]);
    const hashFor = (c: number) =>
      templateHash(rec(ds["spec"])["template"], c === 0 && status["collisionCount"] === undefined ? undefined : c);
    const templateLabels = rec(rec(rec(ds["spec"])["template"])["metadata"])["labels"] as
      | Record<string, string>
      | undefined;
    const { revision: cur, collisionCount } = await currentRevision(
      owner,
      revisions,
      {
        name: (c) => `${ds.metadata.name}-${hashFor(c)}`,
        labels: (c) => ({ ...templateLabels, [REVISION_LABEL]: hashFor(c) }),
        annotations: ds.metadata.annotations,
      },
      typeof status["collisionCount"] === "number" ? status["collisionCount"] : 0,
    );
    const hash = cur.metadata.labels?.[REVISION_LABEL] ?? hashFor(collisionCount);
    const byNode = new Map<string, KObject[]>();
    for (const p of pods) {
      const n = targetNode(p);
      if (n === undefined) continue;
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const st: SyncState = {
      ds,
      nodes,
      byNode,
      hash,
      generation: ds.metadata.annotations?.[TEMPLATE_GENERATION],
      template: daemonTemplate(ds),
      now,
    };
    const result = await this.manage(st);
    // an update step only when nothing else moved (upstream: when the expectations are met)
    if (!result.changed && rec(rec(ds["spec"])["updateStrategy"])["type"] !== "OnDelete") await this.rollingUpdate(st);
    // history: keep the current revision and those live pods come from
    const liveHashes = new Set(pods.map((p) => p.metadata.labels?.[REVISION_LABEL]));
    const live = new Set(
      revisions.filter((r) => liveHashes.has(r.metadata.labels?.[REVISION_LABEL])).map((r) => r.metadata.name ?? ""),
    );
    live.add(cur.metadata.name ?? "");
    const limit = rec(ds["spec"])["revisionHistoryLimit"];
    await truncateHistory(owner, revisions, live, typeof limit === "number" ? limit : 10);
    const after = await this.writeStatus(st, collisionCount);
    const waits = [result.retryAfterMs, after].filter((v): v is number => v !== undefined);
    return waits.length > 0 ? { requeueAfterMs: Math.min(...waits) } : undefined;
  }

  private podOwner(ds: KObject): PodOwner {
    return { client: this.client, owner: ds, component: COMPONENT, now: this.now };
  }

  /** Creates and deletes so each node has the pod it should (upstream manage + podsShouldBeOnNode). */
  private async manage(st: SyncState): Promise<{ changed: boolean; retryAfterMs?: number }> {
    const { ds, nodes, byNode, hash, generation, template, now } = st;
    const setKey = `${ds.metadata.namespace}/${ds.metadata.name}`;
    const need: string[] = [];
    const remove: KObject[] = [];
    let retryAfterMs: number | undefined;
    const surge = this.maxSurgeSetting(ds) !== 0;
    const known = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name ?? "";
      known.add(name);
      const { run, keep } = shouldRun(template, node);
      const there = byNode.get(name) ?? [];
      if (run && there.length === 0) {
        need.push(name);
        continue;
      }
      if (!keep) {
        remove.push(...there.filter((p) => !p.metadata.deletionTimestamp));
        continue;
      }
      const running: KObject[] = [];
      for (const p of there) {
        if (p.metadata.deletionTimestamp) continue;
        const phase = rec(p["status"])["phase"];
        if (phase === "Failed") {
          const bk = `${setKey}/${name}`;
          const b = this.backoff.get(bk);
          if (b && now < b.until) {
            const wait = b.until - now;
            retryAfterMs = retryAfterMs === undefined ? wait : Math.min(retryAfterMs, wait);
            continue;
          }
          const delay = b ? Math.min(b.delay * 2, BACKOFF_MAX_MS) : BACKOFF_START_MS;
          this.backoff.set(bk, { delay, until: now + delay });
          await this.event(
            ds,
            "Warning",
            "FailedDaemonPod",
            `Found failed daemon pod ${p.metadata.namespace}/${p.metadata.name} on node ${name}, will try to kill it`,
          );
          remove.push(p);
        } else if (phase === "Succeeded") {
          remove.push(p);
        } else {
          running.push(p);
        }
      }
      if (running.length <= 1) continue;
      running.sort(byAge);
      if (!surge) {
        remove.push(...running.slice(1));
        continue;
      }
      // with surge: the oldest pod of each template stays while the update goes on
      let oldestNew: KObject | undefined;
      let oldestOld: KObject | undefined;
      for (const p of running) {
        if (isUpdated(p, hash, generation)) {
          if (!oldestNew) oldestNew = p;
          else remove.push(p);
        } else if (!oldestOld) oldestOld = p;
        else remove.push(p);
      }
      if (oldestNew && oldestOld) {
        const minReady = Number(rec(ds["spec"])["minReadySeconds"] ?? 0);
        if (!isPodReady(oldestOld) || isAvailable(oldestNew, minReady, now)) remove.push(oldestOld);
      }
    }
    // pods meant for nodes that no longer exist
    for (const [n, there] of byNode)
      if (!known.has(n)) remove.push(...there.filter((p) => !p.metadata.deletionTimestamp));
    await this.sync(st, remove, need);
    return { changed: remove.length > 0 || need.length > 0, retryAfterMs };
  }

  private maxSurgeSetting(ds: KObject): unknown {
    const strategy = rec(rec(ds["spec"])["updateStrategy"]);
    if (strategy["type"] === "OnDelete") return 0;
    return rec(strategy["rollingUpdate"])["maxSurge"] ?? 0;
  }

  private async rollingUpdate(st: SyncState): Promise<void> {
    const { ds, nodes, byNode, hash, generation, template, now } = st;
    const wanted = new Map<string, KObject[]>();
    for (const node of nodes) {
      const name = node.metadata.name ?? "";
      if (shouldRun(template, node).run) wanted.set(name, byNode.get(name) ?? []);
    }
    const desired = wanted.size;
    for (const [n, there] of byNode) if (!wanted.has(n)) wanted.set(n, there);
    const ru = rec(rec(rec(ds["spec"])["updateStrategy"])["rollingUpdate"]);
    const maxSurge = scaledValue(ru["maxSurge"] ?? 0, desired, true);
    let maxUnavailable = scaledValue(ru["maxUnavailable"] ?? 1, desired, true);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const plan = rollingUpdatePlan(wanted, {
      hash,
      generation,
      maxSurge,
      maxUnavailable,
      minReadySeconds: Number(rec(ds["spec"])["minReadySeconds"] ?? 0),
      now,
    });
    await this.sync(st, plan.remove, plan.surgeOn);
  }

  /** Deletes `remove`, creates a pod on each of `nodes`; `byNode` is kept up to date for the status. */
  private async sync(st: SyncState, remove: KObject[], nodes: string[]): Promise<void> {
    const { ds, byNode, hash, generation } = st;
    if (remove.length > 0) {
      await deletePods(this.podOwner(ds), remove);
      const gone = new Set(remove.map((p) => p.metadata.uid));
      for (const [n, there] of byNode)
        byNode.set(
          n,
          there.filter((p) => !gone.has(p.metadata.uid)),
        );
    }
    if (nodes.length === 0) return;
    const made = await createPods(
      this.podOwner(ds),
      nodes.map((n) => this.podFor(ds, n, hash, generation)),
    );
    for (const p of made.created) {
      const n = targetNode(p) ?? "";
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    if (made.failure !== undefined) throw new Error(`creating daemon pods: ${made.failure}`);
  }

  private podFor(ds: KObject, node: string, hash: string, generation: string | undefined): KObject {
    const template = rec(rec(ds["spec"])["template"]);
    const meta = rec(template["metadata"]);
    const spec = structuredClone(rec(template["spec"]));
    spec["tolerations"] = daemonTolerations(spec);
    spec["affinity"] = pinnedAffinity(spec["affinity"], node);
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${ds.metadata.name}-`,
        namespace: ds.metadata.namespace,
        labels: {
          ...rec(meta["labels"]),
          [REVISION_LABEL]: hash,
          ...(generation !== undefined ? { [GENERATION_LABEL]: generation } : {}),
        } as Record<string, string>,
        ...(isRecord(meta["annotations"])
          ? { annotations: { ...(meta["annotations"] as Record<string, string>) } }
          : {}),
        ownerReferences: [controllerRef(ds, "apps/v1", "DaemonSet")],
      },
      spec,
    };
  }

  /** Upstream updateDaemonSetStatus; returns when to look again for pods to become available. */
  private async writeStatus(st: SyncState, collisionCount: number): Promise<number | undefined> {
    const { ds, nodes, byNode, hash, generation, template, now } = st;
    const minReady = Number(rec(ds["spec"])["minReadySeconds"] ?? 0);
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const node of nodes) {
      const there = (byNode.get(node.metadata.name ?? "") ?? []).slice().sort(byAge);
      if (!shouldRun(template, node).run) {
        if (there.length > 0) misscheduled++;
        continue;
      }
      desired++;
      const pod = there[0];
      if (!pod) continue;
      current++;
      if (isPodReady(pod)) {
        ready++;
        if (isAvailable(pod, minReady, now)) available++;
      }
      if (isUpdated(pod, hash, generation)) updated++;
    }
    const old = rec(ds["status"]);
    const next: Rec = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 1,
      ...(updated > 0 ? { updatedNumberScheduled: updated } : {}),
      ...(available > 0 ? { numberAvailable: available } : {}),
      ...(desired - available > 0 ? { numberUnavailable: desired - available } : {}),
      ...(collisionCount > 0 || old["collisionCount"] !== undefined ? { collisionCount } : {}),
      ...(Array.isArray(old["conditions"]) ? { conditions: old["conditions"] } : {}),
    };
    if (JSON.stringify(next) !== JSON.stringify(old)) {
      await this.client
        .update(this.dssv, ds.metadata.namespace, ds.metadata.name ?? "", "status", (o) => {
          o["status"] = next;
          return o;
        })
        .catch((err: unknown) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
    }
    return minReady > 0 && ready !== available ? minReady * 1000 : undefined;
  }

  private async event(ds: KObject, type: string, reason: string, message: string): Promise<void> {
    await recordEvent(this.client, ds, COMPONENT, type, reason, message, this.now());
  }
}
