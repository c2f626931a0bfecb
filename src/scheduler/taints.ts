/** Taints and tolerations (upstream core/v1 helpers ToleratesTaint / FindMatchingUntoleratedTaint). */
import { isRecord } from "../api/types.js";

export interface Taint {
  key: string;
  value: string;
  effect: string;
}

export interface Toleration {
  key: string;
  operator: string;
  value: string;
  effect: string;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

export function parseTaints(v: unknown): Taint[] {
  if (!Array.isArray(v)) return [];
  const out: Taint[] = [];
  for (const t of v) {
    if (isRecord(t)) out.push({ key: str(t["key"]), value: str(t["value"]), effect: str(t["effect"]) });
  }
  return out;
}

export function parseTolerations(v: unknown): Toleration[] {
  if (!Array.isArray(v)) return [];
  const out: Toleration[] = [];
  for (const t of v) {
    if (!isRecord(t)) continue;
    out.push({ key: str(t["key"]), operator: str(t["operator"]), value: str(t["value"]), effect: str(t["effect"]) });
  }
  return out;
}

/** Does the toleration tolerate the taint? Empty effect and empty key match any; "" operator is Equal. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== "" && t.effect !== taint.effect) return false;
  if (t.key !== "" && t.key !== taint.key) return false;
  switch (t.operator) {
    case "":
    case "Equal":
      return t.value === taint.value;
    case "Exists":
      return true;
    default:
      return false;
  }
}

export function tolerated(taint: Taint, tolerations: readonly Toleration[]): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint with a NoSchedule or NoExecute effect that no toleration tolerates. */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!tolerated(taint, tolerations)) return taint;
  }
  return undefined;
}

/** The taint the scheduler puts in front of spec.unschedulable (node.kubernetes.io/unschedulable:NoSchedule). */
export const UNSCHEDULABLE_TAINT: Taint = { key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule" };
