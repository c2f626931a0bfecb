/**
 * Which node gets a local-path volume: for a WaitForFirstConsumer class the scheduler's choice,
 * checked; for an Immediate class the Ready, schedulable node offering local-path volumes with the
 * most room left that fits, ties by name.
 */
import { posix } from "node:path";
import { isRecord, type KObject } from "../../../api/types.js";
import { fitRefusal, formatBytes, type LocalPathUsage, localPathRootOf } from "./capacity.js";

/** The node's local-path root when usable as one (absolute, no NUL, no `..`), cleaned. */
export function usableRoot(node: KObject): string | undefined {
  const root = localPathRootOf(node);
  if (root === undefined || !root.startsWith("/") || root.includes("\0") || root.split("/").includes("..")) {
    return undefined;
  }
  const n = posix.normalize(root);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

/** Why a node cannot hold local-path volumes at all (no or a bad root published), or undefined. */
export function rootRefusal(node: KObject): string | undefined {
  const name = node.metadata.name ?? "";
  const root = localPathRootOf(node);
  if (root === undefined) {
    return `node "${name}" does not offer local-path volumes: its agent publishes no k8ts.io/local-path-root annotation`;
  }
  if (usableRoot(node) === undefined)
    return `node "${name}" publishes an unusable local-path root ${JSON.stringify(root)}`;
  return undefined;
}

/** Whether new pods may land on the node: Ready, not cordoned, no NoSchedule or NoExecute taint. */
export function acceptsVolumes(node: KObject): boolean {
  const spec = isRecord(node["spec"]) ? node["spec"] : {};
  if (spec["unschedulable"] === true) return false;
  const taints = Array.isArray(spec["taints"]) ? spec["taints"] : [];
  for (const t of taints) {
    if (isRecord(t) && (t["effect"] === "NoSchedule" || t["effect"] === "NoExecute")) return false;
  }
  const status = isRecord(node["status"]) ? node["status"] : {};
  const conds = Array.isArray(status["conditions"]) ? status["conditions"] : [];
  return conds.some((c) => isRecord(c) && c["type"] === "Ready" && c["status"] === "True");
}

/** The node chosen for an Immediate claim of `bytes`, or why none fits. */
export function chooseNode(
  nodes: readonly KObject[],
  bytes: bigint,
  usage: LocalPathUsage,
): { node: KObject } | { refusal: string } {
  const candidates: Array<{ node: KObject; free: bigint }> = [];
  for (const node of nodes) {
    if (node.metadata.deletionTimestamp || !acceptsVolumes(node) || rootRefusal(node) !== undefined) continue;
    const free = usage.free(node);
    if (free !== undefined) candidates.push({ node, free });
  }
  if (candidates.length === 0) return { refusal: "no Ready, schedulable node offers local-path volumes" };
  const byName = (a: KObject, b: KObject) => {
    const x = a.metadata.name ?? "";
    const y = b.metadata.name ?? "";
    return x < y ? -1 : x > y ? 1 : 0;
  };
  candidates.sort((a, b) => (a.free === b.free ? byName(a.node, b.node) : a.free > b.free ? -1 : 1));
  const best = candidates[0]!;
  if (fitRefusal(best.node, bytes, usage) === undefined) return { node: best.node };
  const shown = candidates
    .slice(0, 3)
    .map((c) => `node "${c.node.metadata.name}" has ${formatBytes(c.free)} left`)
    .join(", ");
  const more = candidates.length > 3 ? `, and ${candidates.length - 3} more with less` : "";
  return { refusal: `no node has room for ${formatBytes(bytes)} of local-path storage: ${shown}${more}` };
}
