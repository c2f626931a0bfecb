/**
 * The vocabulary of persistent storage shared by the API server's admission, the volume
 * controllers, the provisioners, the scheduler and the kubelet: upstream's annotation and
 * finalizer names, and the small readings of PersistentVolume / PersistentVolumeClaim /
 * StorageClass objects every one of them makes.
 */
import { NodeSelector } from "../scheduler/nodeselector.js";
import { Quantity } from "./quantity.js";
import { isRecord, type KObject } from "./types.js";

// ---- annotations (upstream pkg/controller/volume/persistentvolume/util and component-helpers) ----

/** On a claim: the binding finished (set by the PV controller). */
export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
/** On a claim or volume: the PV controller (not the user) made the binding. */
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
/** On a volume: the provisioner that made it (and that deletes it). */
export const ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
/** On a volume: the provisioner that made it, as newer provisioners also write it (migration). */
export const ANN_MIGRATED_TO = "pv.kubernetes.io/migrated-to";
/** On a claim: the provisioner asked to provision it (set by the PV controller). */
export const ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
/** On a claim: the node the scheduler chose for a WaitForFirstConsumer claim. */
export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
/** On a claim: the class, as before storageClassName existed. */
export const ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";
/** On a StorageClass: it is the default class. */
export const ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class";
export const ANN_BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class";
/** On a volume: mount options, as before spec.mountOptions. */
export const ANN_MOUNT_OPTIONS = "volume.beta.kubernetes.io/mount-options";
/** On a k8ts.io/local-path volume: the node holding it (its agent watches only its own volumes). */
export const LABEL_LOCAL_PATH_NODE = "k8ts.io/local-path-node";
/** On a Node: where its agent keeps k8ts.io/local-path volumes (a directory per volume). */
export const ANN_LOCAL_PATH_ROOT = "k8ts.io/local-path-root";

// ---- finalizers ----

export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
export const PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection";
/** On a dynamically provisioned volume with reclaim policy Delete: its storage goes before the object. */
export const PROVISIONER_DELETION_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

// ---- provisioners built in ----

export const LOCAL_PATH_PROVISIONER = "k8ts.io/local-path";
export const NFS_SUBDIR_PROVISIONER = "k8s-sigs.io/nfs-subdir-external-provisioner";
/** The class created at first start. */
export const DEFAULT_CLASS_NAME = "standard";

/** "The NFS export server:path is available at the local directory root" (mounted outside k8ts, or a stand-in). */
export interface NfsExport {
  server: string;
  /** The exported path on the server (absolute). */
  path: string;
  /** The local directory holding that export's content (absolute). */
  root: string;
}

// ---- readings ----

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

export function specOf(obj: KObject): Rec {
  return rec(obj["spec"]);
}

export function statusOf(obj: KObject): Rec {
  return rec(obj["status"]);
}

/**
 * A claim's class as upstream's GetPersistentVolumeClaimClass reads it: the beta annotation first,
 * then spec.storageClassName; "" for none (which also stands for "no class requested").
 */
export function claimClass(pvc: KObject): string {
  const ann = pvc.metadata.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (ann !== undefined) return ann;
  const c = specOf(pvc)["storageClassName"];
  return typeof c === "string" ? c : "";
}

/** Whether the claim names no class at all (storageClassName absent and no beta annotation): admission or the retroactive rule may give it the default. */
export function claimClassUnset(pvc: KObject): boolean {
  return pvc.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] === undefined && specOf(pvc)["storageClassName"] == null;
}

/** A volume's class (GetPersistentVolumeClass): the beta annotation, then spec.storageClassName. */
export function volumeClass(pv: KObject): string {
  const ann = pv.metadata.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (ann !== undefined) return ann;
  const c = specOf(pv)["storageClassName"];
  return typeof c === "string" ? c : "";
}

/** Whether a StorageClass is marked default (either annotation, "true"). */
export function isDefaultClass(sc: KObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[ANN_DEFAULT_CLASS] === "true" || a[ANN_BETA_DEFAULT_CLASS] === "true";
}

/**
 * The default class among `classes` as upstream picks it (GetDefaultClass): of several defaults
 * the newest, ties broken by name; undefined when none is marked.
 */
export function defaultClass(classes: Iterable<KObject>): KObject | undefined {
  let best: KObject | undefined;
  for (const sc of classes) {
    if (!isDefaultClass(sc) || sc.metadata.deletionTimestamp) continue;
    if (!best) {
      best = sc;
      continue;
    }
    const a = Date.parse(sc.metadata.creationTimestamp ?? "") || 0;
    const b = Date.parse(best.metadata.creationTimestamp ?? "") || 0;
    if (a > b || (a === b && (sc.metadata.name ?? "") < (best.metadata.name ?? ""))) best = sc;
  }
  return best;
}

/** A quantity field in bytes (undefined when absent or unparsable). */
export function bytesOf(v: unknown): bigint | undefined {
  if (typeof v !== "string" && typeof v !== "number") return undefined;
  try {
    return Quantity.parse(String(v)).nanos / 1_000_000_000n;
  } catch {
    return undefined;
  }
}

/** The claim's requested storage (spec.resources.requests.storage) in bytes; 0 when absent. */
export function claimRequestBytes(pvc: KObject): bigint {
  return bytesOf(rec(rec(specOf(pvc)["resources"])["requests"])["storage"]) ?? 0n;
}

/** The volume's capacity (spec.capacity.storage) in bytes; 0 when absent. */
export function volumeCapacityBytes(pv: KObject): bigint {
  return bytesOf(rec(specOf(pv)["capacity"])["storage"]) ?? 0n;
}

export function accessModes(obj: KObject): string[] {
  const m = specOf(obj)["accessModes"];
  return Array.isArray(m) ? m.filter((x): x is string => typeof x === "string") : [];
}

/** "Filesystem" unless spec.volumeMode says Block. */
export function volumeMode(obj: KObject): string {
  const m = specOf(obj)["volumeMode"];
  return typeof m === "string" && m !== "" ? m : "Filesystem";
}

/** The claim a volume is bound (or pre-bound) to, from spec.claimRef. */
export function claimRefOf(pv: KObject): { namespace: string; name: string; uid?: string } | undefined {
  const r = specOf(pv)["claimRef"];
  if (!isRecord(r) || typeof r["name"] !== "string") return undefined;
  return {
    namespace: typeof r["namespace"] === "string" ? r["namespace"] : "",
    name: r["name"],
    uid: typeof r["uid"] === "string" && r["uid"] !== "" ? r["uid"] : undefined,
  };
}

/** The provisioner that made the volume (provisioned-by, else migrated-to), or "". */
export function provisionedBy(pv: KObject): string {
  const a = pv.metadata.annotations ?? {};
  return a[ANN_PROVISIONED_BY] ?? a[ANN_MIGRATED_TO] ?? "";
}

/** "Retain" | "Recycle" | "Delete" (defaulted Retain for static volumes by the API). */
export function reclaimPolicy(pv: KObject): string {
  const p = specOf(pv)["persistentVolumeReclaimPolicy"];
  return typeof p === "string" && p !== "" ? p : "Retain";
}

/** The volume's node affinity terms (spec.nodeAffinity.required.nodeSelectorTerms), or undefined. */
export function volumeNodeTerms(pv: KObject): unknown[] | undefined {
  const terms = rec(rec(specOf(pv)["nodeAffinity"])["required"])["nodeSelectorTerms"];
  return Array.isArray(terms) ? terms : undefined;
}

/** Parsed node affinity per volume object (a cached object never changes; a new version is a new object). */
const affinities = new WeakMap<KObject, NodeSelector | null>();

/** upstream CheckNodeAffinity: the volume's required node affinity admits the node (none: every node). */
export function volumeAdmitsNode(pv: KObject, nodeName: string, labels: Readonly<Record<string, string>>): boolean {
  let sel = affinities.get(pv);
  if (sel === undefined) {
    const terms = volumeNodeTerms(pv);
    sel = terms ? NodeSelector.parse({ nodeSelectorTerms: terms }) : null;
    affinities.set(pv, sel);
  }
  return sel === null || sel.matches(nodeName, labels);
}

/**
 * upstream MatchTopologySelectorTerms on a StorageClass's allowedTopologies: no terms admit every
 * node; otherwise some term (an empty one selects nothing) must have the node's label value among
 * the values of each of its matchLabelExpressions.
 */
export function topologyAdmits(allowedTopologies: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (!Array.isArray(allowedTopologies) || allowedTopologies.length === 0) return true;
  return allowedTopologies.some((t) => {
    const exprs = rec(t)["matchLabelExpressions"];
    if (!Array.isArray(exprs) || exprs.length === 0) return false;
    return exprs.every((e) => {
      const key = rec(e)["key"];
      const values = rec(e)["values"];
      return (
        typeof key === "string" && Array.isArray(values) && Object.hasOwn(labels, key) && values.includes(labels[key])
      );
    });
  });
}

/** The claim's status.capacity.storage in bytes; 0 when absent. */
export function claimCapacityBytes(pvc: KObject): bigint {
  return bytesOf(rec(statusOf(pvc)["capacity"])["storage"]) ?? 0n;
}
