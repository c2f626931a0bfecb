/**
 * Why a pod fits no node (upstream framework.Diagnosis and FitError.Error): per-node statuses,
 * a status shared by the nodes not listed, and the messages of PreFilter and PostFilter, rendered
 * as "0/N nodes are available: <PreFilter>. <counted reasons, sorted>. <PostFilter>".
 */
import type { Status } from "./types.js";

export interface Diagnosis {
  /** Status of each node that was rejected, by name. */
  nodeToStatus: Map<string, Status>;
  /** Status of the nodes not in nodeToStatus (when PreFilter rejected or narrowed the nodes). */
  absentStatus: Status | undefined;
  /** Plugins that rejected the pod on some node (they decide which cluster events requeue it). */
  unschedulablePlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
}

export function newDiagnosis(): Diagnosis {
  return {
    nodeToStatus: new Map(),
    absentStatus: undefined,
    unschedulablePlugins: new Set(),
    preFilterMsg: "",
    postFilterMsg: "",
  };
}

/** The status of one node as the diagnosis records it (absent nodes share absentStatus). */
export function nodeStatus(d: Diagnosis, name: string): Status | undefined {
  return d.nodeToStatus.get(name) ?? d.absentStatus;
}

/** Go's sort.Strings order: byte-wise (UTF-16 code units agree for the ASCII reasons used). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The counted, sorted reasons, e.g. ["1 Insufficient memory", "2 Insufficient cpu"]. */
export function reasonHistogram(d: Diagnosis, numAllNodes: number): string[] {
  const counts = new Map<string, number>();
  for (const s of d.nodeToStatus.values()) {
    for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const absent = numAllNodes - d.nodeToStatus.size;
  if (absent > 0 && d.absentStatus) {
    for (const r of d.absentStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
  }
  return [...counts].map(([r, n]) => `${n} ${r}`).sort(byteOrder);
}

/** upstream FitError.Error(). */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg !== "") {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const reasons = reasonHistogram(d, numAllNodes);
    if (reasons.length > 0) msg += ` ${reasons.join(", ")}.`;
  }
  if (d.postFilterMsg !== "") msg += ` ${d.postFilterMsg}`;
  return msg;
}

/** Event notes are limited to 1024 bytes upstream (NoteLengthLimit); longer ones end in " ...". */
export function truncateMessage(message: string, max = 1024): string {
  if (message.length <= max) return message;
  return `${message.slice(0, max - 4)} ...`;
}

export const NO_NODES_AVAILABLE = "no nodes available to schedule pods";
