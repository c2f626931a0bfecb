/** Pod networking: bridge, a network namespace per pod sandbox, host-local IPAM, masquerade. */
export { type Cidr4, cidrContains, gatewayOf, parseCidr } from "./cidr.js";
export { CommandError, findExecutable, runCommand, runTool } from "./command.js";
export { HostLocalIpam } from "./ipam.js";
export { detectMasqueradeBackend, type MasqueradeBackend } from "./masquerade.js";
export {
  detectNodeIP,
  hostVethName,
  PodNetwork,
  type PodNetworkOptions,
  type PodNetworkStatus,
  shortPodId,
} from "./podnetwork.js";
