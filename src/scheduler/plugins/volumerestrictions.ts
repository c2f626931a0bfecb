/**
 * VolumeRestrictions (upstream plugins/volumerestrictions): volumes one pod may use at a time.
 *
 * - A PersistentVolumeClaim with the ReadWriteOncePod access mode is used by at most one pod in
 *   the cluster: while a scheduled (or assumed) pod that has not finished uses it, another pod
 *   using it fits no node — Unschedulable, so preemption may evict the pod holding it.
 * - Inline GCE persistent disks, AWS EBS volumes, iSCSI and Ceph RBD images may be mounted by
 *   several pods of a node only when all mount them read-only (EBS: never twice).
 *
 * PreFilter reads the pod's claims (a missing one rules the pod out: UnschedulableAndUnresolvable)
 * and counts the ReadWriteOncePod claims already in use; AddPod/RemovePod keep that count right for
 * preemption dry runs and nominated pods.
 */
import { accessModes } from "../../api/storage.js";
import { isRecord, type KObject } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import type { LocalClient } from "../../controllers/client.js";
import type { CycleState, FilterPlugin, PluginState } from "../framework.js";
import type { NodeInfo } from "../nodeinfo.js";
import type { PodInfo } from "../podinfo.js";
import { status } from "../types.js";

export const VOLUME_RESTRICTIONS = "VolumeRestrictions";
/** ErrReasonDiskConflict. */
export const REASON_DISK_CONFLICT = "node(s) had no available disk";
/** ErrReasonReadWriteOncePodConflict. */
export const REASON_RWOP_CONFLICT =
  "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

const STATE_KEY = `PreFilter${VOLUME_RESTRICTIONS}`;

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** An inline volume that pods of one node share only read-only (EBS: not at all). */
export type Disk =
  | { kind: "gce"; pdName: string; readOnly: boolean }
  | { kind: "aws"; volumeID: string }
  | { kind: "iscsi"; iqn: string; readOnly: boolean }
  | { kind: "rbd"; monitors: string[]; pool: string; image: string; readOnly: boolean };

function volumesOf(pod: KObject): Rec[] {
  const v = rec(pod["spec"])["volumes"];
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** The pod's volumes upstream checks for disk conflicts (needsRestrictionsCheck). */
export function disksOf(pod: KObject): Disk[] {
  const out: Disk[] = [];
  for (const v of volumesOf(pod)) {
    if (isRecord(v["gcePersistentDisk"])) {
      const d = v["gcePersistentDisk"];
      out.push({ kind: "gce", pdName: str(d["pdName"]), readOnly: d["readOnly"] === true });
    } else if (isRecord(v["awsElasticBlockStore"])) {
      out.push({ kind: "aws", volumeID: str(v["awsElasticBlockStore"]["volumeID"]) });
    } else if (isRecord(v["iscsi"])) {
      const d = v["iscsi"];
      out.push({ kind: "iscsi", iqn: str(d["iqn"]), readOnly: d["readOnly"] === true });
    } else if (isRecord(v["rbd"])) {
      const d = v["rbd"];
      const monitors = Array.isArray(d["monitors"]) ? d["monitors"].filter((m) => typeof m === "string") : [];
      // the API defaults the pool to "rbd"
      out.push({
        kind: "rbd",
        monitors,
        pool: str(d["pool"]) || "rbd",
        image: str(d["image"]),
        readOnly: d["readOnly"] === true,
      });
    }
  }
  return out;
}

/** upstream isVolumeConflict for one pair. */
export function disksConflict(a: Disk, b: Disk): boolean {
  if (a.kind === "gce" && b.kind === "gce") return a.pdName === b.pdName && !(a.readOnly && b.readOnly);
  if (a.kind === "aws" && b.kind === "aws") return a.volumeID === b.volumeID;
  if (a.kind === "iscsi" && b.kind === "iscsi") return a.iqn === b.iqn && !(a.readOnly && b.readOnly);
  if (a.kind === "rbd" && b.kind === "rbd") {
    return (
      a.monitors.some((m) => b.monitors.includes(m)) &&
      a.pool === b.pool &&
      a.image === b.image &&
      !(a.readOnly && b.readOnly)
    );
  }
  return false;
}

/** The claim names of the pod's persistentVolumeClaim volumes (what upstream's PVCRefCounts count). */
function pvcNames(pod: KObject): string[] {
  const out: string[] = [];
  for (const v of volumesOf(pod)) {
    const name = rec(v["persistentVolumeClaim"])["claimName"];
    if (typeof name === "string") out.push(name);
  }
  return out;
}

const refsByNode = new WeakMap<NodeInfo, { generation: number; refs: Set<string> }>();

/** `<ns>/<claim>` of every claim the node's pods use (upstream NodeInfo.PVCRefCounts), kept per node generation. */
function claimRefsOf(node: NodeInfo): Set<string> {
  const cached = refsByNode.get(node);
  if (cached && cached.generation === node.generation) return cached.refs;
  const refs = new Set<string>();
  for (const p of node.pods) {
    if (!p.hasClaims) continue;
    for (const name of pvcNames(p.obj)) refs.add(`${p.namespace}/${name}`);
  }
  refsByNode.set(node, { generation: node.generation, refs });
  return refs;
}

class RestrictionsState implements PluginState {
  constructor(
    readonly namespace: string,
    /** The pod's ReadWriteOncePod claims. */
    readonly rwop: ReadonlySet<string>,
    /** How many of them scheduled pods use. */
    public conflicts: number,
    readonly disks: readonly Disk[],
  ) {}

  clone(): RestrictionsState {
    return new RestrictionsState(this.namespace, this.rwop, this.conflicts, this.disks);
  }

  /** The references `other` holds to the pod's ReadWriteOncePod claims. */
  refsOf(other: PodInfo): number {
    if (this.rwop.size === 0 || !other.hasClaims || other.namespace !== this.namespace) return 0;
    let n = 0;
    for (const name of pvcNames(other.obj)) if (this.rwop.has(name)) n++;
    return n;
  }
}

function stateOf(state: CycleState): RestrictionsState | undefined {
  return state.read<RestrictionsState>(STATE_KEY);
}

/** The plugin; `getClaim(namespace, name)` reads a claim from the watch cache. */
export function volumeRestrictions(getClaim: (namespace: string, name: string) => KObject | undefined): FilterPlugin {
  return {
    name: VOLUME_RESTRICTIONS,
    preFilter(state, pod, snap) {
      const disks = disksOf(pod.obj);
      if (!pod.hasClaims && disks.length === 0) return "skip";
      const rwop = new Set<string>();
      for (const name of pvcNames(pod.obj)) {
        const pvc = getClaim(pod.namespace, name);
        if (!pvc) {
          return status(
            "UnschedulableAndUnresolvable",
            VOLUME_RESTRICTIONS,
            `persistentvolumeclaim "${name}" not found`,
          );
        }
        if (accessModes(pvc).includes("ReadWriteOncePod")) rwop.add(name);
      }
      let conflicts = 0;
      if (rwop.size > 0) {
        const used = new Set<string>();
        for (const node of snap.nodes()) {
          const refs = claimRefsOf(node);
          if (refs.size === 0) continue;
          for (const name of rwop) if (refs.has(`${pod.namespace}/${name}`)) used.add(name);
        }
        conflicts = used.size;
      }
      if (disks.length === 0 && conflicts === 0) return "skip";
      state.write(STATE_KEY, new RestrictionsState(pod.namespace, rwop, conflicts, disks));
      return null;
    },
    filter(state, _pod, node) {
      const s = stateOf(state);
      if (!s) return null;
      if (s.disks.length > 0) {
        for (const other of node.pods) {
          const theirs = disksOf(other.obj);
          if (theirs.length === 0) continue;
          if (s.disks.some((d) => theirs.some((t) => disksConflict(d, t)))) {
            return status("Unschedulable", VOLUME_RESTRICTIONS, REASON_DISK_CONFLICT);
          }
        }
      }
      if (s.conflicts > 0) return status("Unschedulable", VOLUME_RESTRICTIONS, REASON_RWOP_CONFLICT);
      return null;
    },
    addPod(state, _pod, added) {
      const s = stateOf(state);
      if (s) s.conflicts += s.refsOf(added);
    },
    removePod(state, _pod, removed) {
      const s = stateOf(state);
      if (s) s.conflicts -= s.refsOf(removed);
    },
  };
}

/** The plugin over the registry's watch cache (the scheduler's registration). */
export function volumeRestrictionsFor(client: LocalClient): FilterPlugin {
  let pvcs: ServedVersion | undefined;
  return volumeRestrictions((ns, name) => {
    pvcs ??= client.resource("", "v1", "persistentvolumeclaims");
    return client.get(pvcs, ns, name);
  });
}
