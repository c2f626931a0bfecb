/**
 * The scheduling queue (upstream PriorityQueue): activeQ ordered by priority then queue time;
 * backoffQ holding pods until their backoff (initial doubling per attempt, capped) expires;
 * unschedulable pods, moved back when a cluster event may help them (clusterevents.ts) and
 * flushed after they waited longer than the limit. Pods nominated by preemption are tracked here.
 */
import { type ClusterEvent, eventMayHelp } from "./clusterevents.js";
import { KeyedHeap } from "./heap.js";
import { Nominator } from "./nominator.js";
import type { PodInfo } from "./podinfo.js";

export interface QueuedPodInfo {
  pod: PodInfo;
  /** When the pod was (re)queued, ms: activeQ order among equal priorities and backoff start. */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  initialAttemptTimestamp: number | undefined;
  /** Plugins that rejected the pod in its last attempt. */
  unschedulablePlugins: Set<string>;
  /** The scheduling cycle the pod was last popped in. */
  cycle: number;
}

export interface QueueOptions {
  now: () => number;
  /** Backoff after the first failed attempt, ms (podInitialBackoffSeconds: 1 s). */
  initialBackoffMs: number;
  /** Backoff cap, ms (podMaxBackoffSeconds: 10 s). */
  maxBackoffMs: number;
  /** Unschedulable pods go back to the active queue after waiting this long, ms (5 min). */
  maxInUnschedulableMs: number;
}

/** upstream calculateBackoffDuration: initial × 2^(attempts-1), capped. */
export function backoffDuration(attempts: number, initialMs: number, maxMs: number): number {
  if (attempts <= 0) return 0;
  let d = initialMs;
  for (let i = 1; i < attempts; i++) {
    if (d > maxMs - d) return maxMs;
    d += d;
  }
  return Math.min(d, maxMs);
}

/** activeQ order (upstream PrioritySort): higher priority first, then the earlier queued. */
export function activeLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  if (a.pod.priority !== b.pod.priority) return a.pod.priority > b.pod.priority;
  return a.timestamp < b.timestamp;
}

/** Does the update change anything but status and bookkeeping (upstream isPodUpdated)? */
export function podSpecChanged(before: PodInfo, after: PodInfo): boolean {
  const strip = (p: PodInfo) =>
    JSON.stringify([
      p.obj["spec"],
      p.obj.metadata.labels,
      p.obj.metadata.annotations,
      p.obj.metadata.ownerReferences,
      p.obj.metadata.deletionTimestamp,
    ]);
  return strip(before) !== strip(after);
}

export class SchedulingQueue {
  private readonly opts: QueueOptions;
  private readonly active = new KeyedHeap<QueuedPodInfo>((q) => q.pod.uid, activeLess);
  private readonly backoff = new KeyedHeap<QueuedPodInfo>(
    (q) => q.pod.uid,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  readonly nominator = new Nominator();
  /** Incremented on every pop (upstream schedulingCycle). */
  schedulingCycle = 0;
  /** The cycle of the last move request: pods failing in an older cycle go to backoffQ, not unschedulable. */
  private moveRequestCycle = -1;
  /** Called when the active queue gets a pod. */
  onActive: () => void = () => undefined;

  constructor(opts: QueueOptions) {
    this.opts = opts;
  }

  backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + backoffDuration(q.attempts, this.opts.initialBackoffMs, this.opts.maxBackoffMs);
  }

  private backingOff(q: QueuedPodInfo): boolean {
    return this.backoffExpiry(q) > this.opts.now();
  }

  private toActive(q: QueuedPodInfo): void {
    this.active.push(q);
    this.onActive();
  }

  /** A new unscheduled pod. */
  add(pod: PodInfo): void {
    if (this.has(pod.uid)) {
      this.update(pod);
      return;
    }
    const now = this.opts.now();
    this.toActive({
      pod,
      timestamp: now,
      attempts: 0,
      initialAttemptTimestamp: undefined,
      unschedulablePlugins: new Set(),
      cycle: 0,
    });
    if (pod.nominatedNodeName) this.nominator.set(pod, pod.nominatedNodeName);
  }

  has(uid: string): boolean {
    return this.active.has(uid) || this.backoff.has(uid) || this.unschedulable.has(uid);
  }

  /** A newer version of a queued (or in-flight) unscheduled pod. */
  update(pod: PodInfo): void {
    this.nominator.refresh(pod);
    if (pod.nominatedNodeName && this.nominator.nodeFor(pod.uid) !== pod.nominatedNodeName) {
      this.nominator.set(pod, pod.nominatedNodeName);
    }
    const inActive = this.active.get(pod.uid);
    if (inActive) {
      this.active.push({ ...inActive, pod });
      return;
    }
    const inBackoff = this.backoff.get(pod.uid);
    if (inBackoff) {
      this.backoff.push({ ...inBackoff, pod });
      return;
    }
    const u = this.unschedulable.get(pod.uid);
    if (u) {
      const changed = podSpecChanged(u.pod, pod);
      const next = { ...u, pod };
      if (!changed) {
        this.unschedulable.set(pod.uid, next);
        return;
      }
      this.unschedulable.delete(pod.uid);
      if (this.backingOff(next)) this.backoff.push(next);
      else this.toActive(next);
      return;
    }
    this.add(pod);
  }

  delete(uid: string): void {
    this.active.delete(uid);
    this.backoff.delete(uid);
    this.unschedulable.delete(uid);
    this.nominator.delete(uid);
  }

  /** The next pod to schedule, or undefined when the active queue is empty. */
  pop(): QueuedPodInfo | undefined {
    const q = this.active.pop();
    if (!q) return undefined;
    this.schedulingCycle++;
    q.attempts++;
    q.cycle = this.schedulingCycle;
    q.initialAttemptTimestamp ??= this.opts.now();
    return q;
  }

  /**
   * The pod failed its attempt. Rejected pods wait in the unschedulable pool — unless a move
   * request came since their cycle began — and errors back off (upstream AddUnschedulableIfNotPresent).
   */
  addUnschedulable(q: QueuedPodInfo, rejected: boolean): void {
    if (this.has(q.pod.uid)) return;
    q.timestamp = this.opts.now();
    if (!rejected || this.moveRequestCycle >= q.cycle) {
      this.backoff.push(q);
      return;
    }
    this.unschedulable.set(q.pod.uid, q);
  }

  /** A cluster change: unschedulable pods it may help go to backoffQ (still backing off) or activeQ. */
  moveAll(ev: ClusterEvent, except?: string): void {
    this.moveRequestCycle = this.schedulingCycle;
    for (const [uid, q] of this.unschedulable) {
      if (uid === except || !eventMayHelp(q.unschedulablePlugins, q.pod, ev)) continue;
      this.unschedulable.delete(uid);
      if (this.backingOff(q)) this.backoff.push(q);
      else this.toActive(q);
    }
  }

  /** Moves pods whose backoff expired to the active queue (upstream flushBackoffQCompleted, every second). */
  flushBackoff(): void {
    const now = this.opts.now();
    for (;;) {
      const q = this.backoff.peek();
      if (!q || this.backoffExpiry(q) > now) return;
      this.backoff.pop();
      this.toActive(q);
    }
  }

  /** Pods unschedulable for longer than the limit get another try (upstream flushUnschedulablePodsLeftover). */
  flushUnschedulableLeftover(): void {
    const now = this.opts.now();
    for (const [uid, q] of this.unschedulable) {
      if (now - q.timestamp <= this.opts.maxInUnschedulableMs) continue;
      this.unschedulable.delete(uid);
      if (this.backingOff(q)) this.backoff.push(q);
      else this.toActive(q);
    }
  }

  /** Where the pod is: "active", "backoff", "unschedulable" or undefined (not queued). */
  where(uid: string): "active" | "backoff" | "unschedulable" | undefined {
    if (this.active.has(uid)) return "active";
    if (this.backoff.has(uid)) return "backoff";
    if (this.unschedulable.has(uid)) return "unschedulable";
    return undefined;
  }

  get lengths(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }
}
