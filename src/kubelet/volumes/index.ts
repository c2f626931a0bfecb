/**
 * Pod volumes for the node agent: the volume manager and what the kubelet needs around it.
 * Other components import only from here.
 */
export type { FileProjection, Payload } from "./atomic-writer.js";
export { ClaimVolumes, type ClaimVolumesOptions, claimResolver, type MountedClaim, type NfsExport } from "./claims.js";
export type { NodeAllocatable } from "./downward.js";
export { emptyDirEvictionMessage, emptyDirsOverLimit } from "./emptydir.js";
export { VolumeError, type VolumeErrorReason } from "./errors.js";
export { LocalPathNode, type LocalPathNodeOptions, prepareLocalPathRoot } from "./localpath.js";
export {
  type NfsMountRequest,
  type NfsResolver,
  type PodVolume,
  type PodVolumes,
  type PvcMount,
  type PvcMountRequest,
  type PvcResolver,
  VolumeManager,
  type VolumeManagerOptions,
} from "./manager.js";
