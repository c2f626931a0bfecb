/**
 * VolumeBinding: the scheduler's side of PersistentVolumeClaims, delegated to a hook the volume
 * component provides (which PVs a node can use, binding them before the pod). Without one, pods
 * with claims pass (the hook's default). The hook keeps its own per-pod state between the calls
 * of one scheduling cycle (preFilter → filter per node → reserve), which the scheduler makes
 * synchronously, one pod at a time; preBind and unreserve may come later, for several pods at once.
 */
import type { KObject } from "../../api/types.js";
import type { FilterPlugin } from "../framework.js";
import { PluginName, type Status, status } from "../types.js";

/** A volume verdict: the reasons the pod's volumes rule the node (or the pod) out. */
export interface VolumeVerdict {
  reasons: string[];
  /** True when only a change to volumes can help (preemption cannot): UnschedulableAndUnresolvable. */
  unresolvable?: boolean;
}

/** What the scheduler asks of the volume component (upstream VolumeBinding plugin's extension points). */
export interface VolumeBinding {
  /** The scheduler starts (or regains leadership): open what the hook reads. Optional; idempotent. */
  start?(): void;
  /** The scheduler stops: close it, forget every decision, and reject the PreBind waits in flight. */
  stop?(): void;
  /** Before filtering (e.g. "pod has unbound immediate PersistentVolumeClaims"); undefined passes. */
  preFilter?(pod: KObject): VolumeVerdict | undefined;
  /** Can the pod's claims be satisfied on this node? undefined passes. */
  filter(pod: KObject, node: KObject): VolumeVerdict | undefined;
  /** The node was chosen: hold the volume decisions for it. */
  reserve?(pod: KObject, nodeName: string): void;
  /** The decision is abandoned (binding failed): release what reserve held. */
  unreserve?(pod: KObject, nodeName: string): void;
  /** Before the pod is bound: bind its claims (may wait for provisioning); a rejection fails this attempt. */
  preBind(pod: KObject, nodeName: string): Promise<void>;
}

/** The default: every node passes and nothing needs binding. */
export const passThroughVolumeBinding: VolumeBinding = {
  filter: () => undefined,
  preBind: async () => undefined,
};

function toStatus(v: VolumeVerdict | undefined): Status | null {
  if (!v || v.reasons.length === 0) return null;
  return status(
    v.unresolvable ? "UnschedulableAndUnresolvable" : "Unschedulable",
    PluginName.VolumeBinding,
    ...v.reasons,
  );
}

export function volumeBindingFilter(hook: VolumeBinding): FilterPlugin {
  return {
    name: PluginName.VolumeBinding,
    preFilter(_state, pod) {
      if (!pod.hasClaims) return "skip";
      return toStatus(hook.preFilter?.(pod.obj));
    },
    filter(_state, pod, node) {
      if (!node.node) return null;
      return toStatus(hook.filter(pod.obj, node.node));
    },
  };
}
