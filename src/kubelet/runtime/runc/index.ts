/** The runc runtime (OCI containers) and whether this machine can run it. */
import { RuncRuntime } from "./runtime.js";

export { type Availability, runcAvailability } from "./availability.js";
export { PLACEHOLDER_ARGV, RuncRuntime, type RuncRuntimeOptions } from "./runtime.js";

export interface NodeRuncOptions {
  /** The kubelet's root dir (hidden from containers). */
  rootDir: string;
  /** The runtime's state root. */
  stateDir: string;
  /** Host paths containers must never see (the k8ts data dir). */
  maskedPaths: string[];
  /** The node's spec.podCIDR. */
  podCIDR: string;
  /** The node's address (host-network pods get it). */
  nodeIP: string;
}

/** The runc runtime as a node agent configures it. */
export function createRuncRuntime(o: NodeRuncOptions): RuncRuntime {
  return new RuncRuntime({
    root: o.stateDir,
    kubeletRootDir: o.rootDir,
    maskedPaths: o.maskedPaths,
    network: { podCidr: o.podCIDR, nodeIP: o.nodeIP },
  });
}
