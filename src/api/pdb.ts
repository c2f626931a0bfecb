/** Pod readiness and PodDisruptionBudget status helpers shared by the eviction subresource and the controllers. */
import { isRecord, type KObject, rfc3339 } from "./types.js";

type Rec = Record<string, unknown>;

/** metav1 SetStatusCondition: the transition time moves only when the status changes. */
export function setCondition(conditions: Rec[], cond: Rec, now: number): Rec[] {
  const i = conditions.findIndex((c) => c["type"] === cond["type"]);
  if (i < 0) return [...conditions, { ...cond, lastTransitionTime: rfc3339(now) }];
  const cur = conditions[i]!;
  const next = {
    ...cur,
    ...cond,
    lastTransitionTime: cur["status"] === cond["status"] ? cur["lastTransitionTime"] : rfc3339(now),
  };
  return conditions.map((c, j) => (j === i ? next : c));
}

/** The condition for a given disruptionsAllowed (upstream UpdateDisruptionAllowedCondition). */
export function allowedCondition(allowed: number, observedGeneration: number): Rec {
  return allowed > 0
    ? { type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration }
    : { type: "DisruptionAllowed", status: "False", reason: "InsufficientPods", message: "", observedGeneration };
}

/** The pod's Ready condition is True (upstream podutil.IsPodReady). */
export function isPodReady(pod: KObject): boolean {
  const status = isRecord(pod["status"]) ? pod["status"] : {};
  const conds = status["conditions"];
  return Array.isArray(conds) && conds.some((c) => isRecord(c) && c["type"] === "Ready" && c["status"] === "True");
}
