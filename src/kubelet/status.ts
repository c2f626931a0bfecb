/**
 * A pod's status as the kubelet reports it (upstream pkg/kubelet/kubelet_pods.go
 * generateAPIPodStatus / getPhase / convertToAPIContainerStatuses and pkg/kubelet/status): pure
 * functions of the pod, what the runtime says of its containers and what the kubelet knows
 * (waiting reasons, probe results).
 */
import { isRecord, type KObject, rfc3339 } from "../api/types.js";
import type { ContainerStatus } from "./runtime/types.js";

/** What the kubelet itself knows about one container beyond the runtime's view. */
export interface ContainerKnowledge {
  /** Why it is not running now (CrashLoopBackOff, CreateContainerConfigError, ...). */
  waitingReason?: string;
  waitingMessage?: string;
  /** Readiness probe passed (true when it has none) — only meaningful while running. */
  ready: boolean;
  /** Startup probe passed (true when it has none). */
  started: boolean;
  /** The exited container the last BackOff event was about. */
  backoffEventFor?: string;
}

export interface PodStatusInput {
  pod: KObject;
  now: number;
  runtimeName: string;
  hostIP: string;
  podIP?: string;
  sandboxReady: boolean;
  /** Every attempt the runtime knows, by container name (any order). */
  attempts: Map<string, ContainerStatus[]>;
  knowledge: Map<string, ContainerKnowledge>;
  /** Set once the pod is terminal or being killed for good (eviction): phase and reason to report. */
  terminal?: { phase: "Failed" | "Succeeded"; reason?: string; message?: string };
}

type Rec = Record<string, unknown>;

function containersOf(spec: Rec, key: "containers" | "initContainers"): Rec[] {
  return Array.isArray(spec[key]) ? spec[key].filter(isRecord) : [];
}

export function isRestartableInit(c: Rec): boolean {
  return c["restartPolicy"] === "Always";
}

function byAttempt(list: ContainerStatus[] | undefined): ContainerStatus[] {
  return [...(list ?? [])].sort((a, b) => a.attempt - b.attempt);
}

function terminatedState(s: ContainerStatus, runtimeName: string): Rec {
  const t: Rec = {
    exitCode: s.exitCode ?? 0,
    reason: s.reason ?? ((s.exitCode ?? 0) === 0 ? "Completed" : "Error"),
    startedAt: s.startedAt !== undefined ? rfc3339(s.startedAt) : null,
    finishedAt: s.finishedAt !== undefined ? rfc3339(s.finishedAt) : null,
    containerID: `${runtimeName}://${s.id}`,
  };
  if (s.message) t["message"] = s.message;
  return t;
}

/** docker.io/library/<name>:latest, as containerd reports an image reference. */
export function normalizedImage(image: string): string {
  let ref = image;
  const lastSlash = ref.lastIndexOf("/");
  if (!/[:@]/.test(ref.slice(lastSlash + 1))) ref += ":latest";
  const first = ref.split("/")[0]!;
  const hasRegistry = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return ref;
  return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

function containerStatus(
  spec: Rec,
  attempts: ContainerStatus[],
  k: ContainerKnowledge | undefined,
  input: PodStatusInput,
  defaultWaiting: string,
): Rec {
  const name = String(spec["name"] ?? "");
  const image = String(spec["image"] ?? "");
  const latest = attempts[attempts.length - 1];
  const previous = attempts.length > 1 ? attempts[attempts.length - 2] : undefined;
  const out: Rec = {
    name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: latest ? latest.attempt : 0,
    image: normalizedImage(image),
    imageID: "",
    started: false,
  };
  let state: Rec;
  let last: ContainerStatus | undefined = previous;
  if (latest && latest.state === "running") {
    state = { running: { startedAt: rfc3339(latest.startedAt ?? latest.createdAt) } };
    out["containerID"] = `${input.runtimeName}://${latest.id}`;
    out["started"] = k?.started ?? true;
    out["ready"] = (k?.ready ?? true) && (k?.started ?? true);
  } else if (latest && latest.state === "exited" && k?.waitingReason === undefined) {
    state = { terminated: terminatedState(latest, input.runtimeName) };
    out["containerID"] = `${input.runtimeName}://${latest.id}`;
  } else if (latest && latest.state === "exited") {
    // exited and waiting to be restarted (back-off) or failing to restart: the exit is the last state
    state = { waiting: { reason: k!.waitingReason, ...(k!.waitingMessage ? { message: k!.waitingMessage } : {}) } };
    last = latest;
    out["containerID"] = `${input.runtimeName}://${latest.id}`;
  } else {
    const reason = k?.waitingReason ?? defaultWaiting;
    state = { waiting: { reason, ...(k?.waitingMessage ? { message: k.waitingMessage } : {}) } };
  }
  out["state"] = state;
  if (last && last.state === "exited") out["lastState"] = { terminated: terminatedState(last, input.runtimeName) };
  return out;
}

interface Counts {
  running: number;
  waiting: number;
  stopped: number;
  succeeded: number;
}

function count(statuses: Rec[]): Counts {
  const c: Counts = { running: 0, waiting: 0, stopped: 0, succeeded: 0 };
  for (const s of statuses) {
    const state = isRecord(s["state"]) ? s["state"] : {};
    if (isRecord(state["running"])) c.running++;
    else if (isRecord(state["terminated"])) {
      c.stopped++;
      if (state["terminated"]["exitCode"] === 0) c.succeeded++;
    } else if (isRecord(state["waiting"])) {
      const lastState = isRecord(s["lastState"]) ? s["lastState"] : {};
      if (isRecord(lastState["terminated"])) c.stopped++;
      else c.waiting++;
    }
  }
  return c;
}

/** Whether the init containers are done: each regular one exited 0, each sidecar started. */
export function initDone(initSpecs: Rec[], initStatuses: Rec[]): boolean {
  return initSpecs.every((spec, i) => {
    const s = initStatuses[i];
    if (!s) return false;
    const state = isRecord(s["state"]) ? s["state"] : {};
    if (isRestartableInit(spec)) return s["started"] === true;
    return isRecord(state["terminated"]) && state["terminated"]["exitCode"] === 0;
  });
}

/** upstream getPhase. */
export function podPhase(pod: KObject, initStatuses: Rec[], statuses: Rec[]): string {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const policy = String(spec["restartPolicy"] ?? "Always");
  const initSpecs = containersOf(spec, "initContainers");
  if (!initDone(initSpecs, initStatuses)) {
    // a failed init container with restartPolicy Never fails the pod
    if (policy === "Never") {
      for (let i = 0; i < initSpecs.length; i++) {
        const st = isRecord(initStatuses[i]?.["state"]) ? (initStatuses[i]!["state"] as Rec) : {};
        if (!isRestartableInit(initSpecs[i]!) && isRecord(st["terminated"]) && st["terminated"]["exitCode"] !== 0) {
          return "Failed";
        }
      }
    }
    return "Pending";
  }
  const c = count(statuses);
  // running sidecars keep a pod whose main containers finished from completing only while they run
  if (c.waiting > 0) return "Pending";
  if (c.running > 0) return "Running";
  if (c.stopped > 0) {
    if (policy === "Always") return "Running";
    if (c.stopped === c.succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

function condition(old: Rec[], type: string, status: boolean, now: number, reason?: string, message?: string): Rec {
  const prev = old.find((c) => c["type"] === type);
  const s = status ? "True" : "False";
  const c: Rec = {
    type,
    status: s,
    lastProbeTime: null,
    lastTransitionTime:
      prev && prev["status"] === s && prev["lastTransitionTime"] ? prev["lastTransitionTime"] : rfc3339(now),
  };
  if (reason) c["reason"] = reason;
  if (message) c["message"] = message;
  return c;
}

/** The whole status the kubelet writes for a pod. */
export function computePodStatus(input: PodStatusInput): Rec {
  const pod = input.pod;
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const old = isRecord(pod["status"]) ? pod["status"] : {};
  const oldConditions = Array.isArray(old["conditions"]) ? old["conditions"].filter(isRecord) : [];
  const initSpecs = containersOf(spec, "initContainers");
  const specs = containersOf(spec, "containers");

  const initStatuses: Rec[] = [];
  let initBlocked = false;
  for (const c of initSpecs) {
    const name = String(c["name"] ?? "");
    const s = containerStatus(
      c,
      byAttempt(input.attempts.get(name)),
      input.knowledge.get(name),
      input,
      "PodInitializing",
    );
    if (initBlocked && (input.attempts.get(name)?.length ?? 0) === 0) {
      s["state"] = { waiting: { reason: "PodInitializing" } };
    }
    initStatuses.push(s);
    if (!initDone([c], [s])) initBlocked = true;
  }
  const initialized = initDone(initSpecs, initStatuses);
  const statuses = specs.map((c) => {
    const name = String(c["name"] ?? "");
    return containerStatus(
      c,
      byAttempt(input.attempts.get(name)),
      input.knowledge.get(name),
      input,
      initialized ? "ContainerCreating" : "PodInitializing",
    );
  });

  let phase = podPhase(pod, initStatuses, statuses);
  // once terminal, always terminal (the kubelet never restarts a finished pod)
  if (old["phase"] === "Succeeded" || old["phase"] === "Failed") phase = String(old["phase"]);
  if (input.terminal) phase = input.terminal.phase;
  const terminal = phase === "Succeeded" || phase === "Failed";

  const unready = [...initSpecs.filter(isRestartableInit).map((c) => initStatuses[initSpecs.indexOf(c)]!), ...statuses]
    .filter((s) => s["ready"] !== true)
    .map((s) => String(s["name"]));
  const incomplete = initSpecs
    .map((c, i) => ({ c, s: initStatuses[i]! }))
    .filter(({ c, s }) => !initDone([c], [s]))
    .map(({ s }) => String(s["name"]));

  const conditions: Rec[] = [];
  conditions.push(condition(oldConditions, "PodReadyToStartContainers", input.sandboxReady, input.now));
  if (terminal && phase === "Succeeded") {
    conditions.push(condition(oldConditions, "Initialized", true, input.now, "PodCompleted"));
    conditions.push(condition(oldConditions, "Ready", false, input.now, "PodCompleted"));
    conditions.push(condition(oldConditions, "ContainersReady", false, input.now, "PodCompleted"));
  } else {
    conditions.push(
      incomplete.length === 0
        ? condition(oldConditions, "Initialized", true, input.now)
        : condition(
            oldConditions,
            "Initialized",
            false,
            input.now,
            "ContainersNotInitialized",
            `containers with incomplete status: [${incomplete.join(" ")}]`,
          ),
    );
    const ready = unready.length === 0 && !terminal;
    const why = "ContainersNotReady";
    const msg = `containers with unready status: [${unready.join(" ")}]`;
    conditions.push(
      ready
        ? condition(oldConditions, "Ready", true, input.now)
        : condition(oldConditions, "Ready", false, input.now, why, msg),
    );
    conditions.push(
      ready
        ? condition(oldConditions, "ContainersReady", true, input.now)
        : condition(oldConditions, "ContainersReady", false, input.now, why, msg),
    );
  }
  const scheduled = oldConditions.find((c) => c["type"] === "PodScheduled");
  conditions.push(scheduled ?? condition(oldConditions, "PodScheduled", true, input.now));
  // conditions others own (DisruptionTarget, readiness gates' types) are kept as they are
  const ours = new Set(conditions.map((c) => c["type"]));
  for (const c of oldConditions) if (!ours.has(c["type"])) conditions.push(c);

  const status: Rec = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: old["startTime"] ?? rfc3339(input.now),
    containerStatuses: statuses,
  };
  if (input.podIP) {
    status["podIP"] = input.podIP;
    status["podIPs"] = [{ ip: input.podIP }];
  }
  if (initStatuses.length > 0) status["initContainerStatuses"] = initStatuses;
  if (old["qosClass"] !== undefined) status["qosClass"] = old["qosClass"];
  if (old["nominatedNodeName"] !== undefined) status["nominatedNodeName"] = old["nominatedNodeName"];
  const reason = input.terminal?.reason ?? (typeof old["reason"] === "string" ? old["reason"] : undefined);
  const message = input.terminal?.message ?? (typeof old["message"] === "string" ? old["message"] : undefined);
  if (reason) status["reason"] = reason;
  if (message) status["message"] = message;
  return status;
}

/** Status equality for deciding whether to write (ignores key order). */
export function sameStatus(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
