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
  /**
   * The status this kubelet last wrote for the pod (upstream's status manager cache): the
   * transition times, start time and terminal phase it gave go on from there, not from an API
   * copy that may not show that write yet — else each sync before the copy catches up would
   * stamp a new transition time and write again.
   */
  previous?: Rec;
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
  isInit: boolean,
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
    // before the runtime knows the container, the spec's image as written (upstream's default status)
    image: latest ? normalizedImage(latest.image || image) : image,
    imageID: "",
    started: false,
  };
  let state: Rec;
  let last: ContainerStatus | undefined = previous;
  if (latest && latest.state === "running") {
    state = { running: { startedAt: rfc3339(latest.startedAt ?? latest.createdAt) } };
    out["containerID"] = `${input.runtimeName}://${latest.id}`;
    out["started"] = k?.started ?? true;
    // a regular init container is ready only once it completed (upstream prober manager UpdatePodStatus)
    out["ready"] = isInit && !isRestartableInit(spec) ? false : (k?.ready ?? true) && (k?.started ?? true);
  } else if (latest && latest.state === "exited" && k?.waitingReason === undefined) {
    state = { terminated: terminatedState(latest, input.runtimeName) };
    out["containerID"] = `${input.runtimeName}://${latest.id}`;
    if (isInit && !isRestartableInit(spec) && (latest.exitCode ?? 0) === 0) out["ready"] = true;
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

function stateOf(s: Rec | undefined): Rec {
  return s && isRecord(s["state"]) ? s["state"] : {};
}

function lastTerminated(s: Rec): Rec | undefined {
  const last = isRecord(s["lastState"]) ? s["lastState"] : {};
  return isRecord(last["terminated"]) ? last["terminated"] : undefined;
}

function statusNamed(list: Rec[], name: unknown): Rec | undefined {
  return list.find((s) => s["name"] === name);
}

/** One init container is done: a regular one completed (ready), a sidecar started (upstream isInitContainerInitialized). */
function initContainerDone(spec: Rec, s: Rec | undefined): boolean {
  if (!s) return false;
  if (isRestartableInit(spec)) return s["started"] === true;
  if (s["ready"] === true) return true;
  const state = stateOf(s);
  return isRecord(state["terminated"]) && state["terminated"]["exitCode"] === 0;
}

/** Whether the init containers are done: each regular one exited 0, each sidecar started. */
export function initDone(initSpecs: Rec[], initStatuses: Rec[]): boolean {
  return initSpecs.every((spec, i) =>
    initContainerDone(spec, statusNamed(initStatuses, spec["name"]) ?? initStatuses[i]),
  );
}

/** upstream HasAnyRegularContainerStarted: a regular container is running or has terminated. */
function anyRegularStarted(specs: Rec[], statuses: Rec[]): boolean {
  return specs.some((c) => {
    const state = stateOf(statusNamed(statuses, c["name"]));
    return isRecord(state["running"]) || isRecord(state["terminated"]);
  });
}

/**
 * upstream getPhase. `podHasInitialized` (a regular container has been created) keeps a pod whose
 * sidecar restarts after initialization out of Pending; by default it is read off the statuses.
 *
 * One deliberate difference: a running sidecar does not keep a pod whose regular containers all
 * finished in Running. Upstream's kubelet kills the sidecars at that point and the pod turns
 * terminal once they stopped; this kubelet stops sidecars when the phase turns terminal.
 */
export function podPhase(pod: KObject, initStatuses: Rec[], statuses: Rec[], podHasInitialized?: boolean): string {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const policy = String(spec["restartPolicy"] ?? "Always");
  const initSpecs = containersOf(spec, "initContainers");
  const specs = containersOf(spec, "containers");
  const initialized =
    podHasInitialized ??
    specs.some((c) => {
      const s = statusNamed(statuses, c["name"]);
      if (!s) return false;
      const state = stateOf(s);
      return isRecord(state["running"]) || isRecord(state["terminated"]) || lastTerminated(s) !== undefined;
    });
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of initSpecs) {
    const s = statusNamed(initStatuses, c["name"]);
    const state = stateOf(s);
    if (isRestartableInit(c)) {
      if (!s) unknown++;
      else if (isRecord(state["running"])) {
        if (s["started"] !== true) pendingSidecars++;
      } else if (isRecord(state["terminated"])) {
        // a terminated sidecar does not count for the phase
      } else if (isRecord(state["waiting"])) {
        if (!lastTerminated(s)) {
          pendingSidecars++;
          waiting++;
        }
      } else {
        pendingSidecars++;
        unknown++;
      }
      continue;
    }
    if (!s || isRecord(state["running"])) {
      pendingInit++;
    } else if (isRecord(state["terminated"])) {
      if (state["terminated"]["exitCode"] !== 0) failedInit++;
    } else if (isRecord(state["waiting"])) {
      const lt = lastTerminated(s);
      if (!lt) pendingInit++;
      else if (lt["exitCode"] !== 0) failedInit++;
    } else {
      pendingInit++;
    }
  }
  for (const c of specs) {
    const s = statusNamed(statuses, c["name"]);
    const state = stateOf(s);
    if (!s) unknown++;
    else if (isRecord(state["running"])) running++;
    else if (isRecord(state["terminated"])) {
      stopped++;
      if (state["terminated"]["exitCode"] === 0) succeeded++;
    } else if (isRecord(state["waiting"])) {
      // a container waiting to be restarted (CrashLoopBackOff) counts as stopped
      if (lastTerminated(s)) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && policy === "Never") return "Failed";
  if (pendingInit > 0 || (pendingSidecars > 0 && !initialized) || waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
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

/** The conditions the kubelet owns (upstream PodConditionByKubelet); all others are kept as they are. */
const KUBELET_CONDITIONS = new Set([
  "PodScheduled",
  "Ready",
  "Initialized",
  "ContainersReady",
  "PodReadyToStartContainers",
]);

/** Go's %s of a []string: "[a b]". */
function goList(names: string[]): string {
  return `[${names.join(" ")}]`;
}

/** Why the readiness gates hold the pod back (upstream GeneratePodReadyCondition), empty when none does. */
function readinessGateMessages(spec: Rec, conditions: Rec[]): string[] {
  const gates = Array.isArray(spec["readinessGates"]) ? spec["readinessGates"].filter(isRecord) : [];
  const out: string[] = [];
  for (const g of gates) {
    const type = String(g["conditionType"] ?? "");
    const c = conditions.find((x) => x["type"] === type);
    if (!c) out.push(`corresponding condition of pod readiness gate "${type}" does not exist.`);
    else if (c["status"] !== "True") {
      out.push(`the status of pod readiness gate "${type}" is not "True", but ${String(c["status"] ?? "")}`);
    }
  }
  return out;
}

/** The whole status the kubelet writes for a pod. */
export function computePodStatus(input: PodStatusInput): Rec {
  const pod = input.pod;
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const old = isRecord(pod["status"]) ? pod["status"] : {};
  const oldConditions = Array.isArray(old["conditions"]) ? old["conditions"].filter(isRecord) : [];
  const mine = input.previous ?? old;
  // where the kubelet's own conditions take their transition times from
  const myConditions = Array.isArray(mine["conditions"]) ? mine["conditions"].filter(isRecord) : oldConditions;
  const initSpecs = containersOf(spec, "initContainers");
  const specs = containersOf(spec, "containers");
  // with init containers, a container the runtime does not know yet waits with PodInitializing
  const defaultWaiting = initSpecs.length > 0 ? "PodInitializing" : "ContainerCreating";

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
      true,
    );
    if (initBlocked && (input.attempts.get(name)?.length ?? 0) === 0) {
      s["state"] = { waiting: { reason: "PodInitializing" } };
    }
    initStatuses.push(s);
    if (!initContainerDone(c, s)) initBlocked = true;
  }
  const statuses = specs.map((c) => {
    const name = String(c["name"] ?? "");
    return containerStatus(
      c,
      byAttempt(input.attempts.get(name)),
      input.knowledge.get(name),
      input,
      defaultWaiting,
      false,
    );
  });

  const hasInitialized = specs.some((c) => (input.attempts.get(String(c["name"] ?? ""))?.length ?? 0) > 0);
  let phase = podPhase(pod, initStatuses, statuses, hasInitialized);
  // once terminal, always terminal (the kubelet never restarts a finished pod)
  for (const o of [old, mine]) if (o["phase"] === "Succeeded" || o["phase"] === "Failed") phase = String(o["phase"]);
  if (input.terminal) phase = input.terminal.phase;

  const unready = [
    ...initSpecs.filter(isRestartableInit).map((c) => statusNamed(initStatuses, c["name"])!),
    ...statuses,
  ]
    .filter((s) => s["ready"] !== true)
    .map((s) => String(s["name"]));
  const incomplete = initSpecs
    .filter((c) => !initContainerDone(c, statusNamed(initStatuses, c["name"])))
    .map((c) => String(c["name"] ?? ""));

  // conditions others own (DisruptionTarget, readiness gates' types) first, as they are
  const conditions: Rec[] = oldConditions.filter((c) => !KUBELET_CONDITIONS.has(String(c["type"])));
  conditions.push(condition(myConditions, "PodReadyToStartContainers", input.sandboxReady, input.now));
  if (phase === "Succeeded") {
    conditions.push(condition(myConditions, "Initialized", true, input.now, "PodCompleted"));
  } else if (incomplete.length === 0 || anyRegularStarted(specs, statuses)) {
    conditions.push(condition(myConditions, "Initialized", true, input.now));
  } else {
    conditions.push(
      condition(
        myConditions,
        "Initialized",
        false,
        input.now,
        "ContainersNotInitialized",
        `containers with incomplete status: ${goList(incomplete)}`,
      ),
    );
  }
  let containersReady: Rec;
  if (phase === "Succeeded" || phase === "Failed") {
    const why = phase === "Succeeded" ? "PodCompleted" : "PodFailed";
    containersReady = condition(myConditions, "ContainersReady", false, input.now, why);
  } else if (unready.length > 0) {
    containersReady = condition(
      myConditions,
      "ContainersReady",
      false,
      input.now,
      "ContainersNotReady",
      `containers with unready status: ${goList(unready)}`,
    );
  } else {
    containersReady = condition(myConditions, "ContainersReady", true, input.now);
  }
  let ready: Rec;
  if (containersReady["status"] !== "True") {
    // Ready says what ContainersReady says
    ready = condition(
      myConditions,
      "Ready",
      false,
      input.now,
      containersReady["reason"] as string | undefined,
      containersReady["message"] as string | undefined,
    );
  } else {
    const gates = readinessGateMessages(spec, conditions);
    ready =
      gates.length > 0
        ? condition(myConditions, "Ready", false, input.now, "ReadinessGatesNotReady", gates.join(", "))
        : condition(myConditions, "Ready", true, input.now);
  }
  conditions.push(ready, containersReady);
  const scheduled = oldConditions.find((c) => c["type"] === "PodScheduled");
  conditions.push(scheduled ?? condition(myConditions, "PodScheduled", true, input.now));

  const status: Rec = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: old["startTime"] ?? mine["startTime"] ?? rfc3339(input.now),
    // sorted by name, as upstream (SortedContainerStatuses); init containers stay in spec order
    containerStatuses: [...statuses].sort((a, b) => (String(a["name"]) < String(b["name"]) ? -1 : 1)),
  };
  if (input.podIP) {
    status["podIP"] = input.podIP;
    status["podIPs"] = [{ ip: input.podIP }];
  }
  if (initStatuses.length > 0) status["initContainerStatuses"] = initStatuses;
  if (old["qosClass"] !== undefined) status["qosClass"] = old["qosClass"];
  if (old["nominatedNodeName"] !== undefined) status["nominatedNodeName"] = old["nominatedNodeName"];
  // the reason and message belong to the phase: kept while it does not change
  const samePhase = old["phase"] === phase;
  const reason = input.terminal?.reason ?? (samePhase && typeof old["reason"] === "string" ? old["reason"] : undefined);
  const message =
    input.terminal?.message ?? (samePhase && typeof old["message"] === "string" ? old["message"] : undefined);
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
