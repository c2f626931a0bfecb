/**
 * The Job rules that decide what a pod's failure or success means (upstream
 * pkg/controller/job/pod_failure_policy.go, success_policy.go): podFailurePolicy rules by exit code
 * or pod condition (FailJob, FailIndex, Ignore, Count), successPolicy rules over succeeded
 * indexes, and when a Job only replaces pods that have reached the Failed phase.
 */
import { isRecord, type KObject } from "../../api/types.js";

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function list(v: unknown): Rec[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

export interface FailureMatch {
  /** The action of the first matching rule; undefined when none matched (the failure counts). */
  action?: "FailJob" | "FailIndex" | "Ignore" | "Count";
  /** Does the failure count toward backoffLimit / backoffLimitPerIndex? */
  countFailed: boolean;
  /** FailJob's message for the Job's condition. */
  message?: string;
}

/** The first terminated container (non-zero exit) of `statuses` the requirement takes. */
function matchingContainer(statuses: unknown, req: Rec): Rec | undefined {
  const values = Array.isArray(req["values"]) ? req["values"].map(Number) : [];
  for (const cs of list(statuses)) {
    const term = rec(rec(cs["state"])["terminated"]);
    if (typeof term["exitCode"] !== "number") continue;
    if (typeof req["containerName"] === "string" && req["containerName"] !== cs["name"]) continue;
    const code = term["exitCode"];
    if (code === 0) continue;
    const inValues = values.includes(code);
    if ((req["operator"] === "In" && inValues) || (req["operator"] === "NotIn" && !inValues)) return cs;
  }
  return undefined;
}

/** Upstream matchPodFailurePolicy for a failed pod. */
export function matchPodFailurePolicy(policy: unknown, pod: KObject): FailureMatch {
  const rules = list(rec(policy)["rules"]);
  const status = rec(pod["status"]);
  const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
  for (const [i, rule] of rules.entries()) {
    const action = String(rule["action"]) as NonNullable<FailureMatch["action"]>;
    let message: string | undefined;
    if (isRecord(rule["onExitCodes"])) {
      const cs =
        matchingContainer(status["containerStatuses"], rule["onExitCodes"]) ??
        matchingContainer(status["initContainerStatuses"], rule["onExitCodes"]);
      if (!cs) continue;
      const code = rec(rec(cs["state"])["terminated"])["exitCode"];
      message = `Container ${cs["name"]} for pod ${who} failed with exit code ${code} matching ${action} rule at index ${i}`;
    } else if (Array.isArray(rule["onPodConditions"])) {
      const conds = list(status["conditions"]);
      const pattern = list(rule["onPodConditions"]).find((p) =>
        conds.some((c) => c["type"] === p["type"] && c["status"] === (p["status"] ?? "True")),
      );
      if (!pattern) continue;
      message = `Pod ${who} has condition ${pattern["type"]} matching ${action} rule at index ${i}`;
    } else {
      continue;
    }
    if (action === "FailJob") return { action, countFailed: true, message };
    if (action === "Ignore") return { action, countFailed: false };
    return { action, countFailed: true };
  }
  return { countFailed: true };
}

/** Completed indexes as upstream writes them: sorted, ranges folded ("0-2,4"). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** The indexes in a completedIndexes string. */
export function parseIndexes(s: unknown): Set<number> {
  const out = new Set<number>();
  if (typeof s !== "string" || s === "") return out;
  for (const part of s.split(",")) {
    const [a, b] = part.split("-").map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b === undefined || Number.isNaN(b) ? a : b); i++) out.add(i);
  }
  return out;
}

/** Upstream matchSuccessPolicy: the message of the first rule the succeeded indexes meet. */
export function matchSuccessPolicy(policy: unknown, succeeded: ReadonlySet<number>): string | undefined {
  for (const [i, rule] of list(rec(policy)["rules"]).entries()) {
    const count = typeof rule["succeededCount"] === "number" ? rule["succeededCount"] : undefined;
    if (typeof rule["succeededIndexes"] !== "string") {
      if (count !== undefined && succeeded.size >= count) return `Matched rules at index ${i}`;
      continue;
    }
    const wanted = parseIndexes(rule["succeededIndexes"]);
    const met = [...wanted].filter((x) => succeeded.has(x)).length;
    if (count === undefined ? met === wanted.size : met >= count) return `Matched rules at index ${i}`;
  }
  return undefined;
}

/** Replacement pods wait for the old pod to reach the Failed phase (upstream onlyReplaceFailedPods). */
export function onlyReplaceFailed(job: KObject): boolean {
  const spec = rec(job["spec"]);
  return spec["podReplacementPolicy"] === "Failed" || isRecord(spec["podFailurePolicy"]);
}
