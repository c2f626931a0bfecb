/**
 * persistentVolumeClaim volumes on this node (the VolumeManager's `pvc` hook): the bound claim's
 * PersistentVolume is fetched and mounted by its source, as upstream's in-tree plugins do —
 * hostPath (pkg/volume/hostpath), local (pkg/volume/local: the path must exist, except for the
 * directories of k8ts.io/local-path volumes, made here on first use) and nfs (pkg/volume/nfs:
 * `mount -t nfs`, or a declared local stand-in of the export). Before the first mount of a pod's
 * volume the kubelet-side checks upstream makes are made: the PV's node affinity, and the access
 * modes (the attach/detach controller's Multi-Attach rule for ReadWriteOnce, ReadWriteOncePod's
 * single pod). What is mounted is remembered for /stats/summary's volume entries.
 */
import { execFile } from "node:child_process";
import type { Stats } from "node:fs";
import { lstat, mkdir, readdir, realpath, stat, statfs } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import {
  ANN_MOUNT_OPTIONS,
  accessModes,
  LOCAL_PATH_PROVISIONER,
  type NfsExport,
  provisionedBy,
  specOf,
  statusOf,
  volumeAdmitsNode,
  volumeMode,
  volumeNodeTerms,
} from "../../api/storage.js";
import { isRecord, type KObject } from "../../api/types.js";
import { type ApiClient, resources } from "../../client/types.js";
import { errnoOf, errorText, VolumeError } from "./errors.js";
import { setUpHostPath } from "./hostpath.js";
import { escapePluginName, FOREIGN_SOURCES, isWithin } from "./layout.js";
import type { NfsResolver, PvcMount, PvcMountRequest, PvcResolver } from "./manager.js";
import { isMountPoint, readMounts } from "./mount.js";
import { safeMakeDir } from "./safe-path.js";

type Rec = Record<string, unknown>;

export type { NfsExport };

/** How a claim's volume is provided on this node. */
export type ClaimSource = "hostPath" | "local" | "nfs";

/** A claim volume set up for a pod. */
export interface MountedClaim {
  volumeName: string;
  claim: { namespace: string; name: string };
  pv: string;
  source: ClaimSource;
  /** What the runtime bind-mounts. */
  path: string;
  /** The path is an NFS mount made here (usage from statfs, not a walk of the server's files). */
  nfsMount: boolean;
  readOnly: boolean;
}

export interface ClaimVolumesOptions {
  client: ApiClient;
  nodeName: string;
  /** This node's k8ts.io/local-path root (absolute, resolved): volumes provisioned there are made on first mount. */
  localPathRoot: string;
  /** NFS exports available locally (default none: every nfs volume is mounted with mount(8)). */
  nfsExports?: readonly NfsExport[];
  /** The Node as last seen, for the PV's node affinity (default: a GET of the Node). */
  node?: () => KObject | undefined;
  /** The pods of a namespace, for the access mode checks (default: a list through `client`). */
  pods?: (namespace: string) => Promise<KObject[]>;
  /** Runs mount(8) with these arguments (default: execFile, 30 s timeout); rejects with its output. */
  mount?: (args: string[]) => Promise<void>;
  /** Whether this agent may mount (default: when running as root). */
  mounts?: boolean;
  /** Clock for the usage cache (default Date.now). */
  now?: () => number;
}

// ---- pure readings and decisions ----

const TERMINAL = new Set(["Succeeded", "Failed"]);

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function phaseOf(pod: KObject): string {
  const p = statusOf(pod)["phase"];
  return typeof p === "string" ? p : "";
}

function nodeNameOf(pod: KObject): string {
  const n = specOf(pod)["nodeName"];
  return typeof n === "string" ? n : "";
}

/** The claims a pod's volumes name (persistentVolumeClaim, and ephemeral volumes' `<pod>-<volume>`), by volume name. */
export function podClaims(pod: KObject): Map<string, string> {
  const out = new Map<string, string>();
  const vols = specOf(pod)["volumes"];
  for (const v of Array.isArray(vols) ? vols.filter(isRecord) : []) {
    const name = typeof v["name"] === "string" ? v["name"] : "";
    const pvc = rec(v["persistentVolumeClaim"]);
    if (typeof pvc["claimName"] === "string") out.set(name, pvc["claimName"]);
    else if (isRecord(v["ephemeral"])) out.set(name, `${pod.metadata.name ?? ""}-${name}`);
  }
  return out;
}

function usesClaim(pod: KObject, claimName: string): boolean {
  for (const c of podClaims(pod).values()) if (c === claimName) return true;
  return false;
}

/** Whether `a` came before `b` (creation time, then name): of two pods starting at once, the earlier holds the volume. */
function earlier(a: KObject, b: KObject): boolean {
  const ta = Date.parse(a.metadata.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta < tb;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "");
}

export interface AccessCheck {
  /** The pod about to mount. */
  pod: KObject;
  claim: KObject;
  pv: KObject;
  /** This node. */
  nodeName: string;
  /** Pods of the claim's namespace (the pod itself may be among them). */
  pods: readonly KObject[];
}

/**
 * Whether the PV's access modes let the pod mount it now, as upstream enforces them: a volume
 * whose only mode is ReadWriteOncePod is used by one pod at all (the kubelet's check in
 * GenerateMountVolumeFunc, the scheduler's across nodes); a ReadWriteOnce volume without
 * ReadOnlyMany or ReadWriteMany is used on one node (the attach/detach controller's Multi-Attach
 * refusal). Another pod holds the volume when it is scheduled, not finished, and running or
 * created before this one (of two pods starting at once, the earlier wins). A pod already running
 * keeps its volume (it was checked when it mounted it).
 */
export function accessConflict(c: AccessCheck): VolumeError | undefined {
  if (phaseOf(c.pod) === "Running") return undefined;
  const modes = accessModes(c.pv).length > 0 ? accessModes(c.pv) : accessModes(c.claim);
  const claimName = c.claim.metadata.name ?? "";
  const holders = c.pods.filter(
    (p) =>
      p.metadata.uid !== c.pod.metadata.uid &&
      nodeNameOf(p) !== "" &&
      !TERMINAL.has(phaseOf(p)) &&
      usesClaim(p, claimName) &&
      (phaseOf(p) === "Running" || earlier(p, c.pod)),
  );
  const volumeName = c.pv.metadata.name ?? "";
  if (modes.length === 1 && modes[0] === "ReadWriteOncePod") {
    if (holders.length === 0) return undefined;
    return new VolumeError(
      "FailedMount",
      `MountVolume.SetUp failed for volume "${volumeName}" : volume uses the ReadWriteOncePod access mode and is already in use by another pod`,
      { detail: `used by ${holders.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(", ")}` },
    );
  }
  const multi = modes.includes("ReadOnlyMany") || modes.includes("ReadWriteMany");
  if (multi || !modes.includes("ReadWriteOnce")) return undefined;
  const elsewhere = holders.filter((p) => nodeNameOf(p) !== c.nodeName);
  if (elsewhere.length === 0) return undefined;
  const ns = c.pod.metadata.namespace ?? "";
  const local = elsewhere.filter((p) => p.metadata.namespace === ns).map((p) => p.metadata.name ?? "");
  const others = elsewhere.length - local.length;
  let msg =
    local.length > 0
      ? `Volume is already used by pod(s) ${local.join(", ")}`
      : `Volume is already used by ${others} pod(s) in different namespaces`;
  if (local.length > 0 && others > 0) msg += ` and ${others} pod(s) in different namespaces`;
  return new VolumeError("FailedAttachVolume", `Multi-Attach error for volume "${volumeName}" ${msg}`, {
    detail: `used on node(s) ${[...new Set(elsewhere.map(nodeNameOf))].join(", ")}`,
  });
}

/** Mount options as upstream's MountOptionFromSpec: the beta annotation first, else spec.mountOptions; then `extra`, deduplicated. */
export function mountOptionsOf(pv: KObject, extra: readonly string[] = []): string[] {
  const ann = pv.metadata.annotations?.[ANN_MOUNT_OPTIONS];
  const spec = specOf(pv)["mountOptions"];
  const base =
    ann !== undefined
      ? ann.split(",")
      : Array.isArray(spec)
        ? spec.filter((o): o is string => typeof o === "string")
        : [];
  return [...new Set([...base, ...extra].map((o) => o.trim()).filter((o) => o !== ""))];
}

function cleanAbsolute(p: string): string | undefined {
  if (!p.startsWith("/") || p.includes("\0")) return undefined;
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

function hasBacksteps(p: string): boolean {
  return p.split("/").includes("..");
}

/** A host name or address mount(8) reads as the server of `server:path` (never an option). */
const NFS_SERVER = /^[A-Za-z0-9_.\-:[\]%]+$/;

function sameServer(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The export declared for an nfs source, the remainder of its path below the export; undefined when none is declared. */
export function nfsExportFor(
  exports: readonly NfsExport[],
  server: string,
  path: string,
): { export: NfsExport; rel: string } | undefined {
  const clean = cleanAbsolute(path);
  if (clean === undefined) return undefined;
  let best: { export: NfsExport; rel: string } | undefined;
  for (const e of exports) {
    const base = cleanAbsolute(e.path);
    if (!base || !sameServer(e.server, server) || !isWithin(clean, base)) continue;
    // the most specific export wins
    if (!best || base.length > (cleanAbsolute(best.export.path) ?? "").length) {
      best = { export: e, rel: relative(base, clean) };
    }
  }
  return best;
}

const NO_NFS_CLIENT =
  /unknown filesystem type|wrong fs type|bad option|helper program|mount\.nfs.*(not found|no such file)|ENOENT/i;

function defaultMount(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("mount", args, { timeout: 30_000, encoding: "utf8" }, (err, _stdout, stderr) => {
      if (!err) {
        resolve();
        return;
      }
      const status = typeof err.code === "number" ? `exit status ${err.code}` : err.message;
      reject(new Error(`${status}: ${stderr.trim()}`.replace(/: $/, "")));
    });
  });
}

/** The pod volume and the PV it is (messages name the PV, as upstream's operation generator does). */
interface VolumeRef {
  volume: string;
  pv: string;
}

const AFFINITY_FAILED = "MountVolume.NodeAffinity check failed";

// ---- usage (stats/v1alpha1 VolumeStats) ----

/** The du-like walk of a directory: bytes of the blocks allocated and inodes used, on its device only, symlinks not followed. */
export async function walkUsage(dir: string): Promise<{ usedBytes: number; inodesUsed: number }> {
  let top: Stats;
  try {
    top = await lstat(dir);
  } catch {
    return { usedBytes: 0, inodesUsed: 0 };
  }
  const seen = new Set<string>();
  let usedBytes = 0;
  let inodesUsed = 0;
  const stack: Array<[string, Stats]> = [[dir, top]];
  while (stack.length > 0) {
    const [p, st] = stack.pop()!;
    if (st.dev !== top.dev) continue;
    if (st.nlink > 1 && !st.isDirectory()) {
      const id = `${st.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    usedBytes += st.blocks * 512;
    inodesUsed++;
    if (!st.isDirectory()) continue;
    let names: string[];
    try {
      names = await readdir(p);
    } catch {
      continue;
    }
    for (const name of names) {
      const child = join(p, name);
      try {
        stack.push([child, await lstat(child)]);
      } catch {
        // removed while walking
      }
    }
  }
  return { usedBytes, inodesUsed };
}

interface UsageEntry {
  usedBytes: number;
  inodesUsed: number;
  at: number;
  refreshing: Promise<void> | undefined;
}

/** How long a walk's result is used before the next (upstream fsResourceAnalyzer's default period). */
export const USAGE_REFRESH_MS = 60_000;

// ---- the resolver ----

export class ClaimVolumes {
  /** The hook for VolumeManagerOptions.pvc. */
  readonly resolve: PvcResolver;
  /** The hook for VolumeManagerOptions.nfs: a pod's own nfs volumes, mounted as an nfs PV's would be. */
  readonly resolveNfs: NfsResolver;
  private readonly opts: ClaimVolumesOptions;
  private readonly root: string;
  private readonly exports: readonly NfsExport[];
  private readonly mountsAllowed: boolean;
  private readonly runMount: (args: string[]) => Promise<void>;
  private readonly now: () => number;
  /** Per pod uid: its claim volumes as set up, and the pod's directory (gone: the pod was torn down). */
  private readonly mounted = new Map<string, { podDir: string; volumes: Map<string, MountedClaim> }>();
  private readonly usage = new Map<string, UsageEntry>();
  private lastPrune = 0;

  constructor(opts: ClaimVolumesOptions) {
    this.opts = opts;
    this.root = opts.localPathRoot;
    this.exports = opts.nfsExports ?? [];
    this.mountsAllowed = opts.mounts ?? process.getuid?.() === 0;
    this.runMount = opts.mount ?? defaultMount;
    this.now = opts.now ?? Date.now;
    this.resolve = (req) => this.mount(req);
    this.resolveNfs = async (req) => {
      const ref: VolumeRef = { volume: req.volumeName, pv: req.volumeName };
      const asVolume: KObject = {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: req.volumeName },
        spec: { nfs: req.source },
      };
      const readOnly = req.source["readOnly"] === true;
      const r = await this.setUpNfs(
        { pod: req.pod, volumeName: req.volumeName, claim: asVolume, readOnly, podDir: req.podDir },
        ref,
        asVolume,
        req.source,
        readOnly,
      );
      return { path: r.path, readOnly };
    };
  }

  /** Sets up the claim's volume for the pod (idempotent: called on every pod sync). */
  async mount(req: PvcMountRequest): Promise<PvcMount> {
    await this.prune();
    const uid = req.pod.metadata.uid ?? "";
    const ns = req.claim.metadata.namespace ?? req.pod.metadata.namespace ?? "default";
    const claimName = req.claim.metadata.name ?? "";
    const pvName = String(specOf(req.claim)["volumeName"] ?? "");
    const claimFail = (why: string) =>
      new VolumeError("FailedMount", `error processing PVC ${ns}/${claimName}: ${why}`, { volume: req.volumeName });
    let pv: KObject;
    try {
      pv = await this.opts.client.get(resources.persistentvolumes, undefined, pvName);
    } catch (err) {
      throw claimFail(`failed to fetch PV ${pvName} from API server: ${errorText(err)}`);
    }
    const claimRef = rec(specOf(pv)["claimRef"]);
    if (typeof claimRef["name"] !== "string") {
      throw claimFail(
        `found PV object ${pvName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`,
      );
    }
    const refUid = claimRef["uid"];
    if (typeof refUid === "string" && req.claim.metadata.uid && refUid !== req.claim.metadata.uid) {
      throw claimFail(
        `found PV object ${pvName} but its pv.Spec.ClaimRef.UID ${refUid} does not point to claim.UID ${req.claim.metadata.uid}`,
      );
    }
    const ref: VolumeRef = { volume: req.volumeName, pv: pvName };
    if (volumeMode(pv) === "Block") throw this.failure(ref, "volumeMode Block: k8ts mounts file systems only");

    const known = this.mounted.get(uid)?.volumes.get(req.volumeName);
    if (!known || known.pv !== pvName) {
      // checked before the first mount only: a pod keeps what it has
      await this.checkNodeAffinity(ref, pv);
      const conflict = accessConflict({
        pod: req.pod,
        claim: req.claim,
        pv,
        nodeName: this.opts.nodeName,
        pods: await this.podsOf(ns),
      });
      if (conflict) throw conflict;
    }

    const spec = specOf(pv);
    let path: string;
    let source: ClaimSource;
    let sourceReadOnly = false;
    let nfsMount = false;
    if (isRecord(spec["hostPath"])) {
      source = "hostPath";
      path = String(spec["hostPath"]["path"] ?? "");
      const type = spec["hostPath"]["type"];
      try {
        // an unchecked type ("") on a missing path: the container runtime makes the directory (as containerd's CRI does)
        await setUpHostPath(path, type === undefined || type === "" ? "DirectoryOrCreate" : type);
      } catch (err) {
        throw this.failure(ref, errorText(err));
      }
    } else if (isRecord(spec["local"])) {
      source = "local";
      path = await this.setUpLocal(ref, pv, spec["local"]);
    } else if (isRecord(spec["nfs"])) {
      source = "nfs";
      sourceReadOnly = spec["nfs"]["readOnly"] === true;
      const readOnly = req.readOnly || sourceReadOnly;
      const r = await this.setUpNfs(req, ref, pv, spec["nfs"], readOnly);
      path = r.path;
      nfsMount = r.mounted;
    } else {
      const kind = FOREIGN_SOURCES.find((k) => isRecord(spec[k]));
      throw this.failure(
        ref,
        kind
          ? `${kind} volumes are not supported by k8ts: its node agent mounts hostPath, local and nfs volumes`
          : "the PersistentVolume has no volume source k8ts can mount (hostPath, local or nfs)",
      );
    }
    const readOnly = req.readOnly || sourceReadOnly;
    const entry: MountedClaim = {
      volumeName: req.volumeName,
      claim: { namespace: ns, name: claimName },
      pv: pvName,
      source,
      path,
      nfsMount,
      readOnly,
    };
    let pod = this.mounted.get(uid);
    if (!pod) {
      pod = { podDir: req.podDir, volumes: new Map() };
      this.mounted.set(uid, pod);
    }
    pod.volumes.set(req.volumeName, entry);
    return readOnly ? { path, readOnly: true } : { path };
  }

  /** The claim volumes set up for a pod (for stats). */
  mountedFor(podUid: string): MountedClaim[] {
    return [...(this.mounted.get(podUid)?.volumes.values() ?? [])];
  }

  /**
   * stats/v1alpha1 VolumeStats of each pod's claim volumes, by pod uid: usedBytes and inodesUsed
   * from a walk of the directory (at most once a minute per directory; the first reading waits
   * for it, later ones are answered from the last walk while the next runs), capacity, available
   * and inodes from statfs. An NFS mount made here reads all of it from statfs.
   */
  async volumeStats(pods: readonly KObject[]): Promise<Map<string, Rec[]>> {
    const out = new Map<string, Rec[]>();
    const live = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? "";
      const claims = podClaims(pod);
      const entries: Rec[] = [];
      for (const m of this.mountedFor(uid)) {
        if (claims.get(m.volumeName) !== m.claim.name) continue;
        live.add(m.path);
        const s = await this.statsOf(m);
        if (s) entries.push(s);
      }
      if (entries.length > 0) out.set(uid, entries);
    }
    for (const p of this.usage.keys()) if (!live.has(p)) this.usage.delete(p);
    return out;
  }

  // ---- sources ----

  /** A failure worded as upstream's operation generator: `<op> for volume "<PV name>" : <why>`. */
  private failure(ref: VolumeRef, why: string, op = "MountVolume.SetUp failed"): VolumeError {
    return new VolumeError("FailedMount", `${op} for volume "${ref.pv}" : ${why}`, { volume: ref.volume });
  }

  /** Upstream's checkNodeAffinity: the PV's required node affinity must match this node's labels. */
  private async checkNodeAffinity(ref: VolumeRef, pv: KObject): Promise<void> {
    if (volumeNodeTerms(pv) === undefined) return;
    let node = this.opts.node?.();
    if (!node) {
      try {
        node = await this.opts.client.get(resources.nodes, undefined, this.opts.nodeName);
      } catch (err) {
        throw this.failure(ref, `error retrieving node: ${errorText(err)}`, AFFINITY_FAILED);
      }
    }
    const labels = node.metadata.labels ?? {};
    if (volumeAdmitsNode(pv, this.opts.nodeName, labels)) return;
    throw this.failure(
      ref,
      `no matching NodeSelectorTerms (node "${this.opts.nodeName}" had volume node affinity conflict)`,
      AFFINITY_FAILED,
    );
  }

  /**
   * A local volume: its path must exist and be a directory (upstream's "path ... does not exist"),
   * except a k8ts.io/local-path volume below this node's root, whose directory is made now (0777,
   * component by component without following symlinks).
   */
  private async setUpLocal(ref: VolumeRef, pv: KObject, src: Rec): Promise<string> {
    const raw = typeof src["path"] === "string" ? src["path"] : "";
    const newMounterFailed = (why: string) => this.failure(ref, why, "MountVolume.NewMounter initialization failed");
    if (raw === "") throw newMounterFailed(`LocalVolume volume "${ref.pv}" path is empty`);
    const path = cleanAbsolute(raw);
    if (path === undefined || hasBacksteps(raw)) throw newMounterFailed(`invalid path: ${raw} must not contain '..'`);
    const provisioned = provisionedBy(pv) === LOCAL_PATH_PROVISIONER;
    if (provisioned && isWithin(this.root, path)) {
      // the root (or what holds it) would hand every volume of the node to one pod
      throw newMounterFailed(`path "${path}" is the node's local-path root or holds it, not a volume inside it`);
    }
    if (provisioned && isWithin(path, this.root)) {
      try {
        await safeMakeDir(this.root, relative(this.root, path), 0o777);
      } catch (err) {
        throw this.failure(ref, `cannot create the local-path directory: ${errorText(err)}`);
      }
    }
    let st: Stats;
    try {
      st = await stat(path);
    } catch (err) {
      if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") {
        throw newMounterFailed(`path "${path}" does not exist`);
      }
      throw newMounterFailed(errorText(err));
    }
    if (st.isBlockDevice()) {
      throw newMounterFailed("local volumes on block devices are not supported by k8ts (a directory is)");
    }
    if (!st.isDirectory()) throw newMounterFailed("only directory and block device are supported");
    return path;
  }

  /** An nfs volume: a declared export's local directory, or a mount of the export below the pod's directory. */
  private async setUpNfs(
    req: PvcMountRequest,
    ref: VolumeRef,
    pv: KObject,
    src: Rec,
    readOnly: boolean,
  ): Promise<{ path: string; mounted: boolean }> {
    const server = typeof src["server"] === "string" ? src["server"] : "";
    const path = typeof src["path"] === "string" ? src["path"] : "";
    if (!NFS_SERVER.test(server) || server.startsWith("-")) {
      throw this.failure(ref, `invalid NFS server ${JSON.stringify(server)}`);
    }
    if (cleanAbsolute(path) === undefined) {
      throw this.failure(ref, `invalid NFS path ${JSON.stringify(path)}: must be absolute`);
    }
    const declared = this.exports.some((e) => sameServer(e.server, server));
    if (declared && hasBacksteps(path)) {
      throw this.failure(ref, `invalid NFS path ${path}: must not contain '..'`);
    }
    const found = nfsExportFor(this.exports, server, path);
    if (found) return { path: await this.standIn(ref, server, path, found), mounted: false };

    const dir = join(req.podDir, "volumes", escapePluginName("kubernetes.io/nfs"), req.volumeName);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    if (isMountPoint(await readMounts(), dir)) return { path: dir, mounted: true };
    const options = mountOptionsOf(pv, readOnly ? ["ro"] : []);
    const args = ["-t", "nfs", ...(options.length > 0 ? ["-o", options.join(",")] : []), `${server}:${path}`, dir];
    const declareHint = `declare the export with --nfs-export ${server}:${path}=<local dir>`;
    if (!this.mountsAllowed) {
      throw this.failure(
        ref,
        `mount -t nfs ${server}:${path} needs root (CAP_SYS_ADMIN); this node agent runs as uid ${process.getuid?.() ?? "?"} (or ${declareHint})`,
      );
    }
    try {
      await this.runMount(args);
    } catch (err) {
      const out = errorText(err);
      const hint = NO_NFS_CLIENT.test(out)
        ? ` (this machine has no NFS client: install nfs-common, or ${declareHint})`
        : "";
      throw this.failure(ref, `mount ${args.join(" ")} failed: ${out}${hint}`);
    }
    return { path: dir, mounted: true };
  }

  /** The directory of `server:path` inside a declared export, resolved; refused when it resolves outside the export's root. */
  private async standIn(
    ref: VolumeRef,
    server: string,
    path: string,
    found: { export: NfsExport; rel: string },
  ): Promise<string> {
    const e = found.export;
    let root: string;
    try {
      root = await realpath(e.root);
    } catch (err) {
      throw this.failure(ref, `the local directory of NFS export ${e.server}:${e.path}: ${errorText(err)}`);
    }
    let real: string;
    try {
      real = await realpath(join(root, found.rel));
    } catch (err) {
      if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") {
        throw this.failure(ref, `${server}:${path} does not exist on NFS export ${e.server}:${e.path}`);
      }
      throw this.failure(ref, errorText(err));
    }
    if (!isWithin(real, root)) {
      throw this.failure(ref, `${server}:${path} resolves outside of NFS export ${e.server}:${e.path}`);
    }
    return real;
  }

  // ---- helpers ----

  private async podsOf(namespace: string): Promise<KObject[]> {
    if (this.opts.pods) return this.opts.pods(namespace);
    return (await this.opts.client.list(resources.pods, { namespace })).items;
  }

  /** Drops pods whose directory is gone (torn down), at most once a minute. */
  private async prune(): Promise<void> {
    const now = this.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [uid, p] of this.mounted) {
      try {
        await stat(join(p.podDir, "volumes"));
      } catch (err) {
        if (errnoOf(err) === "ENOENT") this.mounted.delete(uid);
      }
    }
  }

  private async statsOf(m: MountedClaim): Promise<Rec | undefined> {
    const fs = await statfs(m.path).catch(() => undefined);
    if (!fs) return undefined;
    const capacityBytes = fs.blocks * fs.bsize;
    let used: { usedBytes: number; inodesUsed: number };
    if (m.nfsMount) {
      used = { usedBytes: capacityBytes - fs.bfree * fs.bsize, inodesUsed: fs.files - fs.ffree };
    } else {
      used = await this.walked(m.path);
    }
    return {
      time: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      availableBytes: fs.bavail * fs.bsize,
      capacityBytes,
      usedBytes: used.usedBytes,
      inodesFree: fs.ffree,
      inodes: fs.files,
      inodesUsed: used.inodesUsed,
      name: m.volumeName,
      pvcRef: { name: m.claim.name, namespace: m.claim.namespace },
    };
  }

  /** The last walk of `path`, walking again in the background when it is older than a minute. */
  private async walked(path: string): Promise<{ usedBytes: number; inodesUsed: number }> {
    let e = this.usage.get(path);
    if (!e) {
      const first = await walkUsage(path);
      e = { ...first, at: this.now(), refreshing: undefined };
      this.usage.set(path, e);
      return first;
    }
    if (this.now() - e.at >= USAGE_REFRESH_MS && !e.refreshing) {
      const entry = e;
      entry.refreshing = walkUsage(path)
        .then((u) => {
          entry.usedBytes = u.usedBytes;
          entry.inodesUsed = u.inodesUsed;
          entry.at = this.now();
        })
        .catch(() => undefined)
        .finally(() => {
          entry.refreshing = undefined;
        });
    }
    return { usedBytes: e.usedBytes, inodesUsed: e.inodesUsed };
  }
}

/** A PvcResolver for the VolumeManager (use ClaimVolumes directly to read what is mounted). */
export function claimResolver(opts: ClaimVolumesOptions): PvcResolver {
  return new ClaimVolumes(opts).resolve;
}
