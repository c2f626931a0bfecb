/**
 * The scheduler (kube-scheduler's behaviour): informers feed the cache (nodes, bound pods) and the
 * queue (our unscheduled pods); one loop pops the most important pod, filters a sample of nodes,
 * scores the feasible ones and assumes the pod on the best, then binds it asynchronously while the
 * next pod is scheduled. A pod that fits nowhere may preempt lower-priority pods; its PodScheduled
 * condition and a FailedScheduling event say why, worded as upstream.
 */
import { hostname } from "node:os";
import { isRecord, type KObject, rfc3339 } from "../api/types.js";
import type { ServedVersion } from "../apiserver/catalog.js";
import { ApiError } from "../apiserver/errors.js";
import type { LocalClient } from "../controllers/client.js";
import { log } from "../util/log.js";
import { SchedulerCache } from "./cache.js";
import { type ClusterEvent, nodeChanges } from "./clusterevents.js";
import { EventRecorder, type EventSeries, refOf } from "./events.js";
import { type Diagnosis, fitErrorMessage, NO_NODES_AVAILABLE, newDiagnosis, truncateMessage } from "./fiterror.js";
import { CycleState, type FilterPlugin, Framework, type Snapshot } from "./framework.js";
import { Informer } from "./informer.js";
import type { NodeInfo } from "./nodeinfo.js";
import { interPodAffinityFilter, interPodAffinityScore } from "./plugins/interpodaffinity.js";
import { nodeAffinityFilter, nodeAffinityScore } from "./plugins/nodeaffinity.js";
import { nodeName } from "./plugins/nodename.js";
import { nodePorts } from "./plugins/nodeports.js";
import { nodeResourcesBalancedAllocation, nodeResourcesFit, nodeResourcesFitScore } from "./plugins/noderesources.js";
import { nodeUnschedulable } from "./plugins/nodeunschedulable.js";
import { podTopologySpreadFilter, podTopologySpreadScore } from "./plugins/podtopologyspread.js";
import { taintTolerationFilter, taintTolerationScore } from "./plugins/tainttoleration.js";
import { passThroughVolumeBinding, type VolumeBinding, volumeBindingFilter } from "./plugins/volumebinding.js";
import { volumeRestrictionsFor } from "./plugins/volumerestrictions.js";
import { type PodInfo, podInfoOf } from "./podinfo.js";
import { type DisruptionBudget, disruptionBudgetOf, type PreemptionOutcome, preempt } from "./preemption.js";
import { type QueuedPodInfo, SchedulingQueue } from "./queue.js";
import { numFeasibleNodesToFind, selectHost } from "./selecthost.js";
import { isRejected, status, statusMessage } from "./types.js";

export interface SchedulerOptions {
  /** Pods with this spec.schedulerName are ours (default "default-scheduler"; empty means it too). */
  schedulerName?: string;
  /** The clock, ms (default Date.now). */
  now?: () => number;
  /** Share of nodes to find feasible before scoring, 1-100; 0 or unset: adaptive, as upstream. */
  percentageOfNodesToScore?: number;
  /** Backoff after the first failed attempt (default 1 s) and its cap (default 10 s). */
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  /** Unschedulable pods are retried after waiting this long (default 300 s). */
  podMaxInUnschedulablePodsSeconds?: number;
  /** The volume side of scheduling (default: every node passes, nothing to bind). */
  volumeBinding?: VolumeBinding;
  /** reportingInstance of events (default "<schedulerName>-<hostname>"). */
  instance?: string;
  /** Random numbers in [0, 1) for ties and preemption offsets (default Math.random). */
  random?: () => number;
  /** Assumed pods whose binding finished expire after this long unseen (default 0: never, as upstream). */
  assumedPodTtlSeconds?: number;
  /** Bindings in flight at most before the loop waits (default 512). */
  maxBindingsInFlight?: number;
  /** Event series timing (tests): end after this long without repeats / rewrite this often, ms. */
  eventSeriesFinishMs?: number;
  eventSeriesRefreshMs?: number;
}

/** Running state of one start(); rebuilt on every start (leadership can come back). */
interface Run {
  gen: number;
  cache: SchedulerCache;
  queue: SchedulingQueue;
  recorder: EventRecorder;
  informers: Informer[];
  pods: Informer | undefined;
  namespaces: Map<string, Readonly<Record<string, string>>>;
  pdbs: Map<string, DisruptionBudget>;
  timers: NodeJS.Timeout[];
  nextStartNodeIndex: number;
  bindingsInFlight: number;
  wake: (() => void) | undefined;
  snap: Snapshot;
}

export interface SchedulerStats {
  scheduled: number;
  unschedulable: number;
  errors: number;
  preemptions: number;
  bindingsInFlight: number;
  queue: { active: number; backoff: number; unschedulable: number };
  eventsDropped: number;
}

/** Scheduling work runs in slices of this long before yielding to I/O, ms. */
const SLICE_MS = 10;

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!isRecord(v)) return out;
  for (const k of Object.keys(v)) if (typeof v[k] === "string") out[k] = v[k] as string;
  return out;
}

export class Scheduler {
  private readonly client: LocalClient;
  private readonly schedulerName: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly percentage: number | undefined;
  private readonly volumeBinding: VolumeBinding;
  private readonly framework: Framework;
  private readonly opts: SchedulerOptions;
  private run: Run | undefined;
  private generation = 0;
  private counters = { scheduled: 0, unschedulable: 0, errors: 0, preemptions: 0 };

  constructor(client: LocalClient, opts: SchedulerOptions = {}) {
    this.client = client;
    this.opts = opts;
    this.schedulerName = opts.schedulerName || "default-scheduler";
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.percentage = opts.percentageOfNodesToScore;
    this.volumeBinding = opts.volumeBinding ?? passThroughVolumeBinding;
    const filters: FilterPlugin[] = [
      nodeUnschedulable,
      nodeName,
      taintTolerationFilter,
      nodeAffinityFilter,
      nodePorts,
      nodeResourcesFit,
      volumeRestrictionsFor(client),
      volumeBindingFilter(this.volumeBinding),
      podTopologySpreadFilter,
      interPodAffinityFilter,
    ];
    this.framework = new Framework(filters, [
      taintTolerationScore,
      nodeAffinityScore,
      nodeResourcesFitScore,
      podTopologySpreadScore,
      interPodAffinityScore,
      nodeResourcesBalancedAllocation,
    ]);
  }

  start(): void {
    if (this.run) return;
    const gen = ++this.generation;
    const ttlMs = (this.opts.assumedPodTtlSeconds ?? 0) * 1000;
    const cache = new SchedulerCache({ assumedTtlMs: ttlMs });
    const queue = new SchedulingQueue({
      now: this.now,
      initialBackoffMs: (this.opts.podInitialBackoffSeconds ?? 1) * 1000,
      maxBackoffMs: (this.opts.podMaxBackoffSeconds ?? 10) * 1000,
      maxInUnschedulableMs: (this.opts.podMaxInUnschedulablePodsSeconds ?? 300) * 1000,
    });
    const events = this.client.resource("", "v1", "events");
    const recorder = new EventRecorder({
      now: this.now,
      component: this.schedulerName,
      instance: this.opts.instance ?? `${this.schedulerName}-${hostname()}`,
      finishMs: this.opts.eventSeriesFinishMs,
      refreshMs: this.opts.eventSeriesRefreshMs,
      sink: {
        create: (ev) => this.client.ensure(events, ev),
        updateSeries: (ns, name, series) => this.updateSeries(events, ns, name, series),
      },
    });
    const namespaces = new Map<string, Readonly<Record<string, string>>>();
    const run: Run = {
      gen,
      cache,
      queue,
      recorder,
      informers: [],
      pods: undefined,
      namespaces,
      pdbs: new Map(),
      timers: [],
      nextStartNodeIndex: 0,
      bindingsInFlight: 0,
      wake: undefined,
      snap: {
        nodes: () => cache.list(),
        get: (name) => cache.get(name),
        nodesWithAffinityPods: () => cache.nodesWithAffinityPods(),
        nodesWithRequiredAntiAffinityPods: () => cache.nodesWithRequiredAntiAffinityPods(),
        namespaceLabels: (ns) => namespaces.get(ns),
        namespaces: () => namespaces.entries(),
      },
    };
    this.run = run;
    queue.onActive = () => this.wakeUp(run);
    recorder.start();
    this.volumeBinding.start?.();
    this.startInformers(run);
    const backoff = setInterval(() => queue.flushBackoff(), 1000);
    const leftover = setInterval(() => queue.flushUnschedulableLeftover(), 30_000);
    backoff.unref();
    leftover.unref();
    run.timers.push(backoff, leftover);
    if (ttlMs > 0) {
      const expire = setInterval(() => {
        for (const p of cache.cleanupAssumed(this.now())) this.moveAll(run, { kind: "AssignedPodDelete", pod: p });
      }, 1000);
      expire.unref();
      run.timers.push(expire);
    }
    void this.loop(run);
  }

  stop(): void {
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    this.generation++;
    for (const t of run.timers) clearInterval(t);
    for (const i of run.informers) i.stop();
    this.volumeBinding.stop?.();
    run.recorder.stop();
    run.wake?.();
  }

  /** Counters since construction, and the current queue (tests, benchmarks, metrics). */
  stats(): SchedulerStats {
    const run = this.run;
    return {
      ...this.counters,
      bindingsInFlight: run?.bindingsInFlight ?? 0,
      queue: run?.queue.lengths ?? { active: 0, backoff: 0, unschedulable: 0 },
      eventsDropped: run?.recorder.dropped ?? 0,
    };
  }

  /** Resolves when every event written so far is stored (tests). */
  async eventsFlushed(): Promise<void> {
    await this.run?.recorder.flushed();
  }

  private isOurs(p: PodInfo): boolean {
    return p.schedulerName === this.schedulerName;
  }

  private served(group: string, version: string, plural: string): ServedVersion | undefined {
    try {
      return this.client.resource(group, version, plural);
    } catch {
      return undefined;
    }
  }

  private startInformers(run: Run): void {
    const add = (sv: ServedVersion | undefined, h: ConstructorParameters<typeof Informer>[2]): Informer | undefined => {
      if (!sv) return undefined;
      const inf = new Informer(this.client, sv, h);
      run.informers.push(inf);
      return inf;
    };
    add(this.served("", "v1", "namespaces"), {
      upsert: (o) => run.namespaces.set(o.metadata.name ?? "", stringMap(o.metadata.labels)),
      remove: (o) => run.namespaces.delete(o.metadata.name ?? ""),
    });
    add(this.served("policy", "v1", "poddisruptionbudgets"), {
      upsert: (o) => run.pdbs.set(`${o.metadata.namespace}/${o.metadata.name}`, disruptionBudgetOf(o)),
      remove: (o) => run.pdbs.delete(`${o.metadata.namespace}/${o.metadata.name}`),
    });
    add(this.served("", "v1", "nodes"), {
      upsert: (o) => this.onNode(run, o),
      remove: (o) => {
        run.cache.removeNode(o.metadata.name ?? "");
        this.moveAll(run, { kind: "NodeDelete" });
      },
    });
    run.pods = add(this.served("", "v1", "pods"), {
      upsert: (o) => this.onPod(run, o),
      remove: (o) => this.onPodDeleted(run, o),
    });
    const volumeChange = { upsert: () => this.moveAll(run, { kind: "VolumeChange" }), remove: () => undefined };
    add(this.served("", "v1", "persistentvolumeclaims"), volumeChange);
    // a volume going frees its node's local-path room
    add(this.served("", "v1", "persistentvolumes"), { ...volumeChange, remove: volumeChange.upsert });
    add(this.served("storage.k8s.io", "v1", "storageclasses"), volumeChange);
    for (const i of run.informers) i.start();
  }

  private moveAll(run: Run, ev: ClusterEvent, except?: string): void {
    if (run.queue.lengths.unschedulable === 0) return;
    run.queue.moveAll(ev, except);
  }

  private onNode(run: Run, obj: KObject): void {
    const before = run.cache.setNode(obj);
    const node = run.cache.get(obj.metadata.name ?? "");
    if (!node) return;
    if (!before) {
      this.moveAll(run, { kind: "NodeAdd", node });
      return;
    }
    const changes = nodeChanges(before, node);
    if (changes.labels || changes.taints || changes.allocatable || changes.unschedulable) {
      this.moveAll(run, { kind: "NodeUpdate", node, changes });
    }
  }

  private onPod(run: Run, obj: KObject): void {
    const p = podInfoOf(obj);
    if (p.nodeName !== "") {
      // bound (by us or anyone): it counts on its node, and leaves the queue
      run.queue.delete(p.uid);
      const before = run.cache.podOf(p.uid);
      const wasAssumed = run.cache.isAssumed(p.uid);
      if (p.terminal) {
        if (run.cache.removePod(p.uid)) this.moveAll(run, { kind: "AssignedPodDelete", pod: p });
        return;
      }
      run.cache.addPod(p);
      if (!before || wasAssumed) {
        this.moveAll(run, { kind: "AssignedPodAdd", pod: p });
      } else {
        const labels = JSON.stringify(before.labels) !== JSON.stringify(p.labels);
        const r0 = before.requests;
        const r1 = p.requests;
        const scaledDown =
          r1.milliCpu < r0.milliCpu || r1.memory < r0.memory || r1.ephemeralStorage < r0.ephemeralStorage;
        if (labels || scaledDown) this.moveAll(run, { kind: "AssignedPodUpdate", pod: p, labels, scaledDown });
      }
      return;
    }
    // not ours, being deleted, or held by scheduling gates: not to be scheduled (now)
    if (!this.isOurs(p) || p.terminating || p.gated) {
      run.queue.delete(p.uid);
      return;
    }
    // an update of a pod whose binding is in flight
    if (run.cache.isAssumed(p.uid)) return;
    run.queue.update(p);
  }

  private onPodDeleted(run: Run, obj: KObject): void {
    const uid = podInfoOf(obj).uid;
    run.queue.delete(uid);
    const gone = run.cache.removePod(uid);
    if (gone) this.moveAll(run, { kind: "AssignedPodDelete", pod: gone });
  }

  private wakeUp(run: Run): void {
    const w = run.wake;
    run.wake = undefined;
    w?.();
  }

  private async loop(run: Run): Promise<void> {
    const max = this.opts.maxBindingsInFlight ?? 512;
    while (this.run === run) {
      const sliceEnd = performance.now() + SLICE_MS;
      let popped = 0;
      while (this.run === run && run.bindingsInFlight < max && performance.now() < sliceEnd) {
        const q = run.queue.pop();
        if (!q) break;
        popped++;
        try {
          this.scheduleOne(run, q);
        } catch (err) {
          log.error("scheduling cycle failed", { pod: q.pod.key, error: String(err) });
          this.failed(run, q, { rejected: false, reason: "SchedulerError", message: String(err) });
        }
      }
      if (this.run !== run) return;
      if (popped === 0 || run.bindingsInFlight >= max) {
        // nothing to do (or too many bindings in flight): wait for a pod or a finished binding
        await new Promise<void>((resolve) => {
          run.wake = resolve;
          if (run.queue.lengths.active > 0 && run.bindingsInFlight < max) this.wakeUp(run);
        });
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Filters one node for the pod, counting nominated pods of equal or higher priority. */
  private filterNode(
    run: Run,
    filters: readonly FilterPlugin[],
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
    slot: number,
  ) {
    const nominated = run.queue.nominator.size > 0 ? run.queue.nominator.podsFor(node.name) : [];
    if (nominated.length === 0) return this.framework.runFilter(filters, state, pod, node, run.cache.table, slot);
    return this.framework.runFilterWithNominated(filters, state, pod, node, nominated, run.snap);
  }

  private scheduleOne(run: Run, q: QueuedPodInfo): void {
    const pod = q.pod;
    if (run.cache.isAssumed(pod.uid)) return;
    if (pod.errors.length > 0) {
      this.failed(run, q, {
        rejected: false,
        reason: "SchedulerError",
        message: `parsing pod: ${pod.errors.join(", ")}`,
      });
      return;
    }
    const nodes = run.cache.list();
    if (nodes.length === 0) {
      this.failed(run, q, { rejected: true, reason: "Unschedulable", message: NO_NODES_AVAILABLE, nominated: "" });
      return;
    }
    const state = new CycleState();
    const d = newDiagnosis();
    const pre = this.framework.runPreFilter(state, pod, run.snap);
    for (const p of pre.unschedulablePlugins) d.unschedulablePlugins.add(p);
    if (pre.status) {
      if (!isRejected(pre.status)) {
        this.failed(run, q, { rejected: false, reason: "SchedulerError", message: statusMessage(pre.status) });
        return;
      }
      d.absentStatus = pre.status;
      d.preFilterMsg = statusMessage(pre.status);
      this.unschedulable(run, q, state, d, nodes.length);
      return;
    }
    const filters = this.framework.activeFilters(state);
    let feasible: NodeInfo[] = [];
    const feasibleSlots: number[] = [];
    // a node nominated by an earlier preemption is tried first
    const nominated = pod.nominatedNodeName !== "" ? run.cache.get(pod.nominatedNodeName) : undefined;
    if (nominated && (!pre.nodeNames || pre.nodeNames.has(nominated.name))) {
      const s = this.filterNode(run, filters, state, pod, nominated, nominated.slot);
      if (s === null) {
        feasible = [nominated];
        feasibleSlots.push(nominated.slot);
      } else if (s.code !== "Error") d.nodeToStatus.set(nominated.name, s);
    }
    if (feasible.length === 0) {
      let candidates = nodes;
      let slots: ArrayLike<number> = run.cache.listSlots();
      if (pre.nodeNames) {
        candidates = [...pre.nodeNames].map((n) => run.cache.get(n)).filter((n): n is NodeInfo => n !== undefined);
        slots = candidates.map((c) => c.slot);
        const plugins = [...pre.unschedulablePlugins].sort().join(" ");
        d.absentStatus = status("UnschedulableAndUnresolvable", "", `node(s) didn't satisfy plugin(s) [${plugins}]`);
      }
      const want = numFeasibleNodesToFind(candidates.length, this.percentage);
      const n = candidates.length;
      let processed = 0;
      for (let i = 0; i < n && feasible.length < want; i++) {
        const at = (run.nextStartNodeIndex + i) % n;
        const node = candidates[at] as NodeInfo;
        processed++;
        const slot = slots[at] as number;
        const s = this.filterNode(run, filters, state, pod, node, slot);
        if (s === null) {
          feasible.push(node);
          feasibleSlots.push(slot);
        } else if (s.code === "Error") {
          run.nextStartNodeIndex = (run.nextStartNodeIndex + processed) % nodes.length;
          this.failed(run, q, { rejected: false, reason: "SchedulerError", message: statusMessage(s) });
          return;
        } else {
          d.nodeToStatus.set(node.name, s);
          d.unschedulablePlugins.add(s.plugin);
        }
      }
      run.nextStartNodeIndex = (run.nextStartNodeIndex + processed) % nodes.length;
    }
    if (feasible.length === 0) {
      this.unschedulable(run, q, state, d, nodes.length);
      return;
    }
    let host = feasible[0] as NodeInfo;
    if (feasible.length > 1) {
      const totals = this.framework.runScore(state, pod, feasible, run.snap, run.cache.table, feasibleSlots);
      host = feasible[selectHost(totals, this.random)] as NodeInfo;
    }
    this.assumeAndBind(run, q, host.name);
  }

  /** No node fits: try preemption, then record why (upstream schedulingCycle's FitError path). */
  private unschedulable(run: Run, q: QueuedPodInfo, state: CycleState, d: Diagnosis, numAllNodes: number): void {
    const latest = run.pods?.known.get(q.pod.key);
    const pod = latest && latest.metadata.uid === q.pod.uid ? podInfoOf(latest) : q.pod;
    let outcome: PreemptionOutcome;
    try {
      outcome = preempt(
        {
          framework: this.framework,
          state,
          snap: run.snap,
          pdbs: [...run.pdbs.values()],
          nominatedPodsFor: (n) => run.queue.nominator.podsFor(n),
          now: this.now(),
          random: (n) => Math.floor(this.random() * n),
        },
        pod,
        d,
      );
    } catch (err) {
      outcome = {
        code: "Error",
        message: `preemption: ${String(err)}`,
        nominatedNodeName: undefined,
        victims: [],
        clearNominated: [],
      };
    }
    d.postFilterMsg = outcome.message;
    if (outcome.code === "Success" && outcome.nominatedNodeName) {
      this.counters.preemptions++;
      this.preemptVictims(run, pod, outcome);
    }
    this.failed(run, q, {
      rejected: true,
      reason: "Unschedulable",
      message: fitErrorMessage(numAllNodes, d),
      plugins: d.unschedulablePlugins,
      nominated: outcome.nominatedNodeName,
    });
  }

  /** Marks each victim DisruptionTarget, deletes it gracefully and records a Preempted event. */
  private preemptVictims(run: Run, preemptor: PodInfo, outcome: PreemptionOutcome): void {
    const pods = this.client.resource("", "v1", "pods");
    const node = outcome.nominatedNodeName ?? "";
    for (const v of outcome.victims) {
      if (v.terminating) continue;
      void (async () => {
        await this.client.update(pods, v.namespace, v.name, "status", (cur) => {
          if (cur.metadata.uid !== v.uid) return cur;
          setCondition(
            cur,
            {
              type: "DisruptionTarget",
              status: "True",
              reason: "PreemptionByScheduler",
              message: `${preemptor.schedulerName}: preempting to accommodate a higher priority pod`,
            },
            this.now(),
          );
          return cur;
        });
        await this.client.delete(pods, v.namespace, v.name, { preconditions: { uid: v.uid } });
        run.recorder.eventf(
          refOf(v.obj, "Pod", "v1"),
          refOf(preemptor.obj, "Pod", "v1"),
          "Normal",
          "Preempted",
          "Preempting",
          `Preempted by pod ${preemptor.uid} on node ${node}`,
        );
      })().catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 404) return;
        log.warn("preemption: could not delete victim", { victim: v.key, error: String(err) });
      });
    }
    for (const p of outcome.clearNominated) {
      run.queue.nominator.delete(p.uid);
      void this.writePodStatus(p, undefined, "").catch((err: unknown) =>
        log.warn("could not clear nominatedNodeName", { pod: p.key, error: String(err) }),
      );
    }
  }

  private assumeAndBind(run: Run, q: QueuedPodInfo, host: string): void {
    const pod = q.pod;
    const assumed: PodInfo = { ...pod, nodeName: host };
    run.cache.assumePod(assumed);
    run.queue.nominator.delete(pod.uid);
    try {
      this.volumeBinding.reserve?.(pod.obj, host);
    } catch (err) {
      run.cache.forgetPod(pod.uid);
      this.failed(run, q, { rejected: false, reason: "SchedulerError", message: String(err) });
      return;
    }
    run.bindingsInFlight++;
    void (async () => {
      try {
        if (pod.hasClaims) await this.volumeBinding.preBind(pod.obj, host);
        await this.client.bind(pod.namespace, pod.name, host, pod.uid);
        run.cache.finishBinding(pod.uid, this.now());
        this.counters.scheduled++;
        run.recorder.eventf(
          refOf(pod.obj, "Pod", "v1"),
          undefined,
          "Normal",
          "Scheduled",
          "Binding",
          `Successfully assigned ${pod.namespace}/${pod.name} to ${host}`,
        );
      } catch (err) {
        if (this.run !== run) return;
        try {
          this.volumeBinding.unreserve?.(pod.obj, host);
        } catch (e) {
          log.warn("volume unreserve failed", { pod: pod.key, error: String(e) });
        }
        // the assumed pod no longer holds its room: like an assigned pod's deletion for the others
        run.cache.forgetPod(pod.uid);
        this.moveAll(run, { kind: "AssignedPodDelete", pod: assumed }, pod.uid);
        const message = err instanceof Error ? err.message : String(err);
        this.failed(run, q, { rejected: false, reason: "SchedulerError", message });
      } finally {
        run.bindingsInFlight--;
        if (this.run === run) this.wakeUp(run);
      }
    })();
  }

  /**
   * upstream handleSchedulingFailure: back into the queue (if the pod still waits for a node),
   * the nomination, a FailedScheduling event and the PodScheduled condition.
   */
  private failed(
    run: Run,
    q: QueuedPodInfo,
    f: { rejected: boolean; reason: string; message: string; plugins?: Set<string>; nominated?: string },
  ): void {
    if (f.rejected) this.counters.unschedulable++;
    else this.counters.errors++;
    q.unschedulablePlugins = f.plugins ?? new Set();
    const cur = run.pods?.known.get(q.pod.key);
    let pod = q.pod;
    if (cur && cur.metadata.uid === q.pod.uid) {
      pod = cur === q.pod.obj ? q.pod : podInfoOf(cur);
      if (pod.nodeName === "" && !pod.terminating) {
        q.pod = pod;
        run.queue.addUnschedulable(q, f.rejected);
      }
    }
    if (f.nominated !== undefined) run.queue.nominator.set(pod, f.nominated);
    run.recorder.eventf(
      refOf(pod.obj, "Pod", "v1"),
      undefined,
      "Warning",
      "FailedScheduling",
      "Scheduling",
      truncateMessage(f.message),
    );
    if (!cur) return;
    void this.writePodStatus(
      pod,
      { type: "PodScheduled", status: "False", reason: f.reason, message: f.message },
      f.nominated,
    ).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 404) return;
      log.warn("could not update pod status", { pod: pod.key, error: String(err) });
    });
  }

  /** upstream updatePod: the condition and/or nominatedNodeName, written only when they change. */
  private async writePodStatus(
    pod: PodInfo,
    condition: { type: string; status: string; reason: string; message: string } | undefined,
    nominated: string | undefined,
  ): Promise<void> {
    const pods = this.client.resource("", "v1", "pods");
    await this.client.update(pods, pod.namespace, pod.name, "status", (cur) => {
      if (cur.metadata.uid !== pod.uid) return cur;
      const spec = isRecord(cur["spec"]) ? cur["spec"] : {};
      // bound meanwhile: a PodScheduled=False would be wrong
      if (condition && typeof spec["nodeName"] === "string" && spec["nodeName"] !== "") return cur;
      if (condition) setCondition(cur, condition, this.now());
      if (nominated !== undefined) {
        const st = isRecord(cur["status"]) ? cur["status"] : {};
        if (nominated === "") delete st["nominatedNodeName"];
        else st["nominatedNodeName"] = nominated;
        cur["status"] = st;
      }
      return cur;
    });
  }

  private async updateSeries(events: ServedVersion, ns: string, name: string, series: EventSeries): Promise<boolean> {
    try {
      await this.client.update(events, ns, name, "", (cur) => {
        cur["series"] = series;
        return cur;
      });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      throw err;
    }
  }
}

/**
 * upstream UpdatePodCondition: replaces the condition of that type; lastTransitionTime moves
 * only when the status changes; nothing changes when status, reason and message are the same.
 */
export function setCondition(
  pod: KObject,
  c: { type: string; status: string; reason: string; message: string },
  now: number,
): boolean {
  const st = isRecord(pod["status"]) ? pod["status"] : {};
  pod["status"] = st;
  const conds = Array.isArray(st["conditions"]) ? st["conditions"].filter(isRecord) : [];
  const i = conds.findIndex((x) => x["type"] === c.type);
  const old = i >= 0 ? conds[i] : undefined;
  if (old && old["status"] === c.status && old["reason"] === c.reason && old["message"] === c.message) return false;
  const next: Record<string, unknown> = {
    type: c.type,
    status: c.status,
    lastProbeTime: null,
    lastTransitionTime: old && old["status"] === c.status ? old["lastTransitionTime"] : rfc3339(now),
    reason: c.reason,
    message: c.message,
  };
  if (i >= 0) conds[i] = next;
  else conds.push(next);
  st["conditions"] = conds;
  return true;
}
