/**
 * The scheduler's shared vocabulary: plugin statuses (upstream framework.Status codes), the
 * resource vector a pod requests and a node offers, and the plugin names used in diagnoses.
 */

/** framework.Code: what a plugin answers. */
export type Code = "Success" | "Error" | "Unschedulable" | "UnschedulableAndUnresolvable" | "Skip";

/** A plugin's verdict on a pod (and node); `null` stands for success on hot paths. */
export interface Status {
  code: Code;
  /** Reasons shown in the FitError histogram ("Insufficient cpu", ...). */
  reasons: string[];
  /** The plugin that produced it. */
  plugin: string;
}

export function status(code: Code, plugin: string, ...reasons: string[]): Status {
  return { code, reasons, plugin };
}

/** Unschedulable or UnschedulableAndUnresolvable (upstream IsRejected). */
export function isRejected(s: Status | null | undefined): boolean {
  return s !== null && s !== undefined && (s.code === "Unschedulable" || s.code === "UnschedulableAndUnresolvable");
}

/** The status's message: its reasons joined by ", " (upstream Status.Message). */
export function statusMessage(s: Status | null | undefined): string {
  return s ? s.reasons.join(", ") : "";
}

/**
 * A resource vector (upstream framework.Resource): cpu in millicores, memory and ephemeral storage
 * in bytes, pods as a count (only meaningful for allocatable), and scalar resources (extended
 * resources, hugepages-*, attachable-volumes-*, kubernetes.io/ prefixed) by name.
 */
export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  allowedPods: number;
  scalar: Map<string, number> | undefined;
}

export function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, allowedPods: 0, scalar: undefined };
}

export function cloneResources(r: Resources): Resources {
  return {
    milliCpu: r.milliCpu,
    memory: r.memory,
    ephemeralStorage: r.ephemeralStorage,
    allowedPods: r.allowedPods,
    scalar: r.scalar ? new Map(r.scalar) : undefined,
  };
}

/** Plugin names, as upstream's profile names them (they appear in diagnoses and queue hints). */
export const PluginName = {
  NodeUnschedulable: "NodeUnschedulable",
  NodeName: "NodeName",
  TaintToleration: "TaintToleration",
  NodeAffinity: "NodeAffinity",
  NodePorts: "NodePorts",
  NodeResourcesFit: "NodeResourcesFit",
  NodeResourcesBalancedAllocation: "NodeResourcesBalancedAllocation",
  VolumeBinding: "VolumeBinding",
  PodTopologySpread: "PodTopologySpread",
  InterPodAffinity: "InterPodAffinity",
  DefaultPreemption: "DefaultPreemption",
  DefaultBinder: "DefaultBinder",
} as const;

/** Highest score a score plugin gives after normalisation (framework.MaxNodeScore). */
export const MAX_NODE_SCORE = 100;

/** Requests assumed for containers that set none, for scoring (upstream DefaultMilliCPURequest/DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;
