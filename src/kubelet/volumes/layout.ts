/**
 * Where pod volumes live on the node, exactly as upstream lays them out:
 * `<root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>` and
 * `<root>/pods/<uid>/volume-subpaths/<volume>/<container>/<mount index>`.
 */
import { isAbsolute, join, relative, sep } from "node:path";

export const PLUGINS = {
  emptyDir: "kubernetes.io/empty-dir",
  configMap: "kubernetes.io/configmap",
  secret: "kubernetes.io/secret",
  downwardAPI: "kubernetes.io/downward-api",
  projected: "kubernetes.io/projected",
  hostPath: "kubernetes.io/host-path",
  pvc: "kubernetes.io/persistent-claim",
  nfs: "kubernetes.io/nfs",
} as const;

export type PluginName = (typeof PLUGINS)[keyof typeof PLUGINS];

/** Volume sources of upstream's other in-tree and CSI plugins: remote storage k8ts's node agent does not mount. */
export const FOREIGN_SOURCES: readonly string[] = [
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "csi",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "glusterfs",
  "iscsi",
  "photonPersistentDisk",
  "portworxVolume",
  "quobyte",
  "rbd",
  "scaleIO",
  "storageos",
  "vsphereVolume",
];

/** A plugin name as a directory name (upstream EscapeQualifiedName: `/` → `~`). */
export function escapePluginName(plugin: string): string {
  return plugin.replaceAll("/", "~");
}

/**
 * A name that becomes one path component (pod uid, volume or container name): the API validates
 * them, but the node agent does not trust its input to keep paths inside its root.
 */
export function isSafeComponent(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

export function podDir(root: string, podUid: string): string {
  return join(root, "pods", podUid);
}

export function volumesDir(root: string, podUid: string): string {
  return join(podDir(root, podUid), "volumes");
}

export function pluginDir(root: string, podUid: string, plugin: string): string {
  return join(volumesDir(root, podUid), escapePluginName(plugin));
}

export function volumeDir(root: string, podUid: string, plugin: string, volume: string): string {
  return join(pluginDir(root, podUid, plugin), volume);
}

export function subpathsDir(root: string, podUid: string): string {
  return join(podDir(root, podUid), "volume-subpaths");
}

export function subpathTarget(root: string, podUid: string, volume: string, container: string, index: number): string {
  return join(subpathsDir(root, podUid), volume, container, String(index));
}

/** `p` is `base` or lies below it (both absolute and clean). */
export function isWithin(p: string, base: string): boolean {
  if (p === base) return true;
  const rel = relative(base, p);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}
