/**
 * The node agent's volume manager (upstream pkg/kubelet/volumemanager with the in-tree plugins
 * emptyDir, hostPath, configMap, secret, downwardAPI and projected): sets up every volume of a
 * pod under `<root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`, keeps the projected
 * contents current, builds each container's mounts (subPath pinned safely), measures emptyDir
 * usage and tears it all down without ever deleting through a mount point.
 */
import { chmod, mkdir, readdir, realpath, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { PVC_PROTECTION_FINALIZER } from "../../api/storage.js";
import { isRecord, type KObject } from "../../api/types.js";
import { ApiError } from "../../apiserver/errors.js";
import { type ApiClient, resources } from "../../client/types.js";
import { log } from "../../util/log.js";
import type { Mount } from "../runtime/types.js";
import { type Payload, writeAtomic } from "./atomic-writer.js";
import type { NodeAllocatable } from "./downward.js";
import { diskUsage, emptyDirMemorySize, hugePageSize, sizeLimitOf } from "./emptydir.js";
import {
  aggregateMessage,
  containerConfigError,
  errnoOf,
  errorText,
  setUpFailed,
  tearDownFailed,
  VolumeError,
} from "./errors.js";
import { setUpHostPath } from "./hostpath.js";
import {
  escapePluginName,
  FOREIGN_SOURCES,
  isSafeComponent,
  isWithin,
  PLUGINS,
  type PluginName,
  podDir,
  subpathsDir,
  subpathTarget,
  volumeDir,
  volumesDir,
} from "./layout.js";
import { isMountPoint, mountHugetlbfs, mountTmpfs, readMounts, unmount } from "./mount.js";
import { nestedMountpoints } from "./nested.js";
import { ownedMode, type PodOwnership, podOwnership, setVolumeOwnership } from "./ownership.js";
import { configMapPayload, downwardAPIPayload, keyToPaths, modeOf, secretPayload } from "./payload.js";
import { removeAllNoCross, safeMakeDir } from "./safe-path.js";
import { cleanSubPaths, expandSubPathExpr, prepareSubPath, subPathSyntaxError } from "./subpath.js";
import { MAX_JITTER_SECONDS, ServiceAccountTokenManager } from "./tokens.js";

/** What the storage component is asked to mount for a persistentVolumeClaim (or ephemeral) volume. */
export interface PvcMountRequest {
  pod: KObject;
  /** The pod's volume name. */
  volumeName: string;
  /** The claim, checked to be bound (status.phase Bound, spec.volumeName set) and not being deleted. */
  claim: KObject;
  /** persistentVolumeClaim.readOnly of the pod volume. */
  readOnly: boolean;
  /** <root>/pods/<uid>: per-pod mount points belong below its volumes/ (tearDown unmounts them). */
  podDir: string;
}

export interface PvcMount {
  /** Host path the runtime bind-mounts. */
  path: string;
  /** The volume is read-only for every container. */
  readOnly?: boolean;
}

export type PvcResolver = (req: PvcMountRequest) => Promise<PvcMount>;

/** An nfs volume of the pod itself (not through a claim), for the storage component to mount. */
export interface NfsMountRequest {
  pod: KObject;
  volumeName: string;
  /** The volume's nfs source (server, path, readOnly). */
  source: Record<string, unknown>;
  podDir: string;
}

export type NfsResolver = (req: NfsMountRequest) => Promise<PvcMount>;

export interface VolumeManagerOptions {
  client: ApiClient;
  /** The kubelet's root directory (pods live in <rootDir>/pods/<uid>). */
  rootDir: string;
  nodeName: string;
  /** Node allocatable: downward API limits default to it, memory-backed volumes are at most its memory. */
  nodeAllocatable: NodeAllocatable;
  /** Mounts persistentVolumeClaim and ephemeral volumes; without it such pods fail saying so. */
  pvc?: PvcResolver;
  /** Mounts the pods' own nfs volumes; without it such pods fail saying so. */
  nfs?: NfsResolver;
  /**
   * Whether the manager may mount (tmpfs, hugetlbfs, bind mounts); default: when running as root.
   * Without, secret and projected volumes are written to the node's disk, and emptyDir medium
   * Memory/HugePages and subPath mounts fail with a message saying why.
   */
  mounts?: boolean;
  /** Clock for token renewal (default Date.now). */
  now?: () => number;
  /** Token renewal jitter in seconds, [0, 10) (default random). */
  tokenJitter?: () => number;
}

export interface PodVolume {
  name: string;
  /** Upstream plugin name (kubernetes.io/configmap, ...). */
  plugin: PluginName;
  /** What the runtime bind-mounts. */
  path: string;
  /** Mounted read-only into every container whatever the volumeMount says (configMap, secret, downwardAPI, projected). */
  readOnly: boolean;
  /** The path is not a directory (hostPath of a file, socket or device). */
  file: boolean;
}

export interface PodVolumes {
  podUid: string;
  volumes: Map<string, PodVolume>;
}

/** Pod volume sources this node agent does not set up (nfs is the storage hook's). */
const SOURCES_NOT_SUPPORTED: readonly string[] = [...FOREIGN_SOURCES, "gitRepo", "image"];

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec | undefined {
  return isRecord(v) ? v : undefined;
}

function specOf(pod: KObject): Rec {
  return rec(pod["spec"]) ?? {};
}

function volumesOf(pod: KObject): Rec[] {
  const v = specOf(pod)["volumes"];
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

function serviceAccountOf(pod: KObject): string {
  const spec = specOf(pod);
  const name = spec["serviceAccountName"] ?? spec["serviceAccount"];
  return typeof name === "string" && name !== "" ? name : "default";
}

/** The volume's source field (configMap, emptyDir, ...). */
function sourceKind(vol: Rec): string | undefined {
  for (const [k, v] of Object.entries(vol)) if (k !== "name" && isRecord(v)) return k;
  return undefined;
}

const CONTENT_PLUGINS: Record<string, PluginName> = {
  configMap: PLUGINS.configMap,
  secret: PLUGINS.secret,
  downwardAPI: PLUGINS.downwardAPI,
  projected: PLUGINS.projected,
};

export class VolumeManager {
  private readonly opts: VolumeManagerOptions;
  private readonly client: ApiClient;
  private readonly tokens: ServiceAccountTokenManager;
  private readonly mounts: boolean;
  private readonly locks = new Map<string, Promise<void>>();
  private root: Promise<string> | undefined;
  private warnedDiskSecrets = false;

  constructor(opts: VolumeManagerOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.mounts = opts.mounts ?? process.getuid?.() === 0;
    this.tokens = new ServiceAccountTokenManager({
      client: opts.client,
      now: opts.now ?? Date.now,
      jitter: opts.tokenJitter ?? (() => Math.random() * MAX_JITTER_SECONDS),
    });
  }

  /** Sets up every volume of the pod; idempotent (called on every pod sync). */
  async setUp(pod: KObject): Promise<PodVolumes> {
    const uid = podUidOf(pod);
    return this.withPodLock(uid, async () => {
      const root = await this.rootDir();
      await mkdir(volumesDir(root, uid), { recursive: true, mode: 0o750 });
      const own = podOwnership(pod);
      const out: PodVolumes = { podUid: uid, volumes: new Map() };
      const failures: VolumeError[] = [];
      for (const vol of volumesOf(pod)) {
        const name = String(vol["name"] ?? "");
        try {
          out.volumes.set(name, await this.setUpVolume(root, pod, vol, own));
        } catch (err) {
          failures.push(err instanceof VolumeError ? err : setUpFailed(name, err));
        }
      }
      if (failures.length > 0) throw withFailures(failures);
      return out;
    });
  }

  /** Rewrites configMap, secret, downwardAPI and projected volumes that are set up, if their contents changed. */
  async refresh(pod: KObject): Promise<void> {
    const uid = podUidOf(pod);
    await this.withPodLock(uid, async () => {
      const root = await this.rootDir();
      const own = podOwnership(pod);
      const failures: VolumeError[] = [];
      for (const vol of volumesOf(pod)) {
        const kind = sourceKind(vol);
        const name = String(vol["name"] ?? "");
        const plugin = kind === undefined ? undefined : CONTENT_PLUGINS[kind];
        if (!plugin || !isSafeComponent(name)) continue;
        const dir = volumeDir(root, uid, plugin, name);
        if (!(await exists(dir))) continue;
        try {
          await this.writeContent(pod, vol, kind!, dir, own);
        } catch (err) {
          failures.push(setUpFailed(name, err));
        }
      }
      if (failures.length > 0) throw withFailures(failures);
    });
  }

  /** The mounts of one container (volumeMounts in order), subPaths pinned. */
  async containerMounts(
    pod: KObject,
    container: Record<string, unknown>,
    vols: PodVolumes,
    env: Record<string, string>,
  ): Promise<Mount[]> {
    const uid = podUidOf(pod);
    const cname = String(container["name"] ?? "");
    const mounts = Array.isArray(container["volumeMounts"]) ? container["volumeMounts"].filter(isRecord) : [];
    return this.withPodLock(uid, async () => {
      const root = await this.rootDir();
      const out: Mount[] = [];
      for (const [index, vm] of mounts.entries()) {
        const name = String(vm["name"] ?? "");
        const vol = vols.volumes.get(name);
        if (!vol) throw containerConfigError(`cannot find volume "${name}" to mount into container "${cname}"`);
        let subPath = typeof vm["subPath"] === "string" ? vm["subPath"] : "";
        if (typeof vm["subPathExpr"] === "string" && vm["subPathExpr"] !== "") {
          try {
            subPath = expandSubPathExpr(vm["subPathExpr"], env);
          } catch (err) {
            throw containerConfigError(errorText(err));
          }
        }
        let hostPath = vol.path;
        let file = vol.file;
        if (subPath !== "") {
          const syntax = subPathSyntaxError(subPath);
          if (syntax) throw containerConfigError(syntax);
          const prepared = await this.prepareSubPath(root, uid, vol, cname, index, name, subPath);
          hostPath = prepared.hostPath;
          file = prepared.file;
        }
        const mountPath = String(vm["mountPath"] ?? "");
        const m: Mount = {
          containerPath: mountPath.startsWith("/") ? mountPath : `/${mountPath}`,
          hostPath,
          readOnly: vm["readOnly"] === true || vol.readOnly,
        };
        if (file) m.file = true;
        out.push(m);
      }
      return out;
    });
  }

  /** Bytes used by each emptyDir volume of the pod (for sizeLimit eviction). */
  async usage(podUid: string): Promise<Map<string, number>> {
    checkUid(podUid);
    const root = await this.rootDir();
    const dir = join(volumesDir(root, podUid), escapePluginName(PLUGINS.emptyDir));
    const out = new Map<string, number>();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return out;
      throw err;
    }
    for (const name of names) out.set(name, await diskUsage(join(dir, name)));
    return out;
  }

  /**
   * Unmounts everything mounted below the pod's volumes/ and volume-subpaths/ (tmpfs, subpath
   * pins, storage mounts), then removes both directories; nothing is removed while anything is
   * still mounted there.
   */
  async tearDown(podUid: string): Promise<void> {
    checkUid(podUid);
    await this.withPodLock(podUid, async () => {
      this.tokens.deletePod(podUid);
      const root = await this.rootDir();
      const vdir = volumesDir(root, podUid);
      const sdir = subpathsDir(root, podUid);
      const ours = (p: string) => isWithin(p, vdir) || isWithin(p, sdir);
      for (let round = 0; round < 256; round++) {
        const last = (await readMounts()).filter((m) => ours(m.mountPoint)).at(-1);
        if (!last) break;
        try {
          await unmount(last.mountPoint);
        } catch (err) {
          throw tearDownFailed(volumeNameOfPath(last.mountPoint, vdir, sdir), err);
        }
      }
      const table = await readMounts();
      const left = table.find((m) => ours(m.mountPoint));
      if (left) throw tearDownFailed(volumeNameOfPath(left.mountPoint, vdir, sdir), "still mounted");
      try {
        await cleanSubPaths(sdir);
        await removeAllNoCross(vdir, new Set(table.map((m) => m.mountPoint)));
      } catch (err) {
        throw new VolumeError("FailedUnmount", `error removing volumes of pod ${podUid}: ${errorText(err)}`);
      }
    });
  }

  /** Tokens cached for projected volumes (diagnostics). */
  cachedTokens(): number {
    return this.tokens.size();
  }

  // ---- set-up of one volume ----

  private async setUpVolume(root: string, pod: KObject, vol: Rec, own: PodOwnership): Promise<PodVolume> {
    const name = String(vol["name"] ?? "");
    const uid = podUidOf(pod);
    if (!isSafeComponent(name)) throw setUpFailed(name, `invalid volume name ${JSON.stringify(name)}`);
    const kind = sourceKind(vol);
    const volume = (plugin: PluginName, path: string, readOnly: boolean, file = false): PodVolume => ({
      name,
      plugin,
      path,
      readOnly,
      file,
    });
    switch (kind) {
      case "emptyDir": {
        const dir = volumeDir(root, uid, PLUGINS.emptyDir, name);
        await this.setUpEmptyDir(pod, rec(vol["emptyDir"]) ?? {}, dir, own);
        return volume(PLUGINS.emptyDir, dir, false);
      }
      case "hostPath": {
        const src = rec(vol["hostPath"]) ?? {};
        const path = String(src["path"] ?? "");
        const fileKind = await setUpHostPath(path, src["type"]);
        return volume(PLUGINS.hostPath, path, false, fileKind !== undefined && fileKind !== "Directory");
      }
      case "configMap":
      case "secret":
      case "downwardAPI":
      case "projected": {
        const plugin = CONTENT_PLUGINS[kind]!;
        const dir = volumeDir(root, uid, plugin, name);
        await this.ensureContentDir(pod, dir, kind === "secret" || kind === "projected");
        for (const rel of nestedMountpoints(name, pod)) {
          try {
            await safeMakeDir(dir, rel, 0o755);
          } catch (err) {
            throw new Error(`unable to create nested volume mountpoints: ${errorText(err)}`);
          }
        }
        await this.writeContent(pod, vol, kind, dir, own);
        return volume(plugin, dir, true);
      }
      case "persistentVolumeClaim": {
        const src = rec(vol["persistentVolumeClaim"]) ?? {};
        return this.setUpClaim(root, pod, name, String(src["claimName"] ?? ""), src["readOnly"] === true, false);
      }
      case "ephemeral":
        return this.setUpClaim(root, pod, name, `${pod.metadata.name ?? ""}-${name}`, false, true);
      case "nfs": {
        if (!this.opts.nfs) throw new Error("nfs volumes are not supported by this k8ts node agent");
        const src = rec(vol["nfs"]) ?? {};
        let mounted: PvcMount;
        try {
          mounted = await this.opts.nfs({ pod, volumeName: name, source: src, podDir: podDir(root, uid) });
        } catch (err) {
          throw setUpFailed(name, err);
        }
        return volume(PLUGINS.nfs, mounted.path, src["readOnly"] === true || mounted.readOnly === true);
      }
      case undefined:
        throw new Error("the volume has no source");
      default:
        if (SOURCES_NOT_SUPPORTED.includes(kind)) {
          throw new Error(`${kind} volumes are not supported by this k8ts node agent`);
        }
        throw new Error(`unknown volume source ${kind}`);
    }
  }

  private async setUpEmptyDir(pod: KObject, src: Rec, dir: string, own: PodOwnership): Promise<void> {
    const medium = typeof src["medium"] === "string" ? src["medium"] : "";
    if (medium === "") {
      if (await exists(dir)) return;
      await mkdir(dir, { recursive: true, mode: 0o750 });
      await chmod(dir, 0o777);
      await setVolumeOwnership(dir, own, false);
      return;
    }
    if (medium !== "Memory" && medium !== "HugePages" && !medium.startsWith("HugePages-")) {
      throw new Error(`unknown storage medium ${JSON.stringify(medium)}`);
    }
    await mkdir(dir, { recursive: true, mode: 0o750 });
    if (isMountPoint(await readMounts(), dir)) return;
    if (!this.mounts) throw new Error(this.cannotMount(`emptyDir medium ${medium}`));
    if (medium === "Memory") {
      const size = emptyDirMemorySize(this.opts.nodeAllocatable.memoryBytes, pod, sizeLimitOf(src));
      await mountTmpfs(dir, Number(size));
    } else {
      await mountHugetlbfs(dir, hugePageSize(medium, pod));
    }
    await chmod(dir, 0o777);
    await setVolumeOwnership(dir, own, false);
  }

  /** The directory of a configMap/secret/downwardAPI/projected volume; secret-bearing ones on tmpfs. */
  private async ensureContentDir(pod: KObject, dir: string, memory: boolean): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    if (memory && !this.mounts && !this.warnedDiskSecrets) {
      this.warnedDiskSecrets = true;
      log.warn("secret and projected volumes are written to the node's disk: mounting tmpfs needs root", {
        node: this.opts.nodeName,
        uid: process.getuid?.(),
      });
    }
    if (memory && this.mounts && !isMountPoint(await readMounts(), dir)) {
      const size = emptyDirMemorySize(this.opts.nodeAllocatable.memoryBytes, pod, undefined);
      await mountTmpfs(dir, Number(size));
    }
    // as upstream's wrapped emptyDir: the volume root is 0777 (files carry their own modes)
    if (((await stat(dir)).mode & 0o777) !== 0o777) await chmod(dir, 0o777);
  }

  private async writeContent(pod: KObject, vol: Rec, kind: string, dir: string, own: PodOwnership): Promise<void> {
    const payload = await this.payloadOf(pod, vol, kind, own);
    const always: PodOwnership = { ...own, changePolicy: "Always" };
    await writeAtomic(dir, payload, {
      now: this.opts.now,
      setPerms: own.fsGroup === undefined ? undefined : () => setVolumeOwnership(dir, always, true),
      modeOnDisk: own.fsGroup === undefined ? undefined : (m) => ownedMode(m, false, true),
    });
  }

  private async payloadOf(pod: KObject, vol: Rec, kind: string, own: PodOwnership): Promise<Payload> {
    const ns = pod.metadata.namespace ?? "default";
    const src = rec(vol[kind]) ?? {};
    switch (kind) {
      case "configMap": {
        const optional = src["optional"] === true;
        const name = String(src["name"] ?? "");
        const cm = await this.fetch("configmap", ns, name, optional);
        return configMapPayload(cm, keyToPaths(src["items"]), modeOf(src["defaultMode"]), optional);
      }
      case "secret": {
        const optional = src["optional"] === true;
        const name = String(src["secretName"] ?? "");
        const secret = await this.fetch("secret", ns, name, optional);
        return secretPayload(secret, keyToPaths(src["items"]), modeOf(src["defaultMode"]), optional);
      }
      case "downwardAPI":
        return downwardAPIPayload(pod, src["items"], modeOf(src["defaultMode"]), this.opts.nodeAllocatable);
      default:
        return this.projectedPayload(pod, src, own);
    }
  }

  /** Upstream projected collectData: every source's files merged; any failure fails the whole volume. */
  private async projectedPayload(pod: KObject, src: Rec, own: PodOwnership): Promise<Payload> {
    const ns = pod.metadata.namespace ?? "default";
    const defaultMode = modeOf(src["defaultMode"]);
    const payload: Payload = new Map();
    const errors: string[] = [];
    const sources = Array.isArray(src["sources"]) ? src["sources"].filter(isRecord) : [];
    for (const s of sources) {
      try {
        let part: Payload;
        if (isRecord(s["configMap"])) {
          const c = s["configMap"];
          const optional = c["optional"] === true;
          const cm = await this.fetch("configmap", ns, String(c["name"] ?? ""), optional);
          part = configMapPayload(cm, keyToPaths(c["items"]), defaultMode, optional);
        } else if (isRecord(s["secret"])) {
          const c = s["secret"];
          const optional = c["optional"] === true;
          const secret = await this.fetch("secret", ns, String(c["name"] ?? ""), optional);
          part = secretPayload(secret, keyToPaths(c["items"]), defaultMode, optional);
        } else if (isRecord(s["downwardAPI"])) {
          part = downwardAPIPayload(pod, s["downwardAPI"]["items"], defaultMode, this.opts.nodeAllocatable);
        } else if (isRecord(s["serviceAccountToken"])) {
          const t = s["serviceAccountToken"];
          const token = await this.tokens.get({
            namespace: ns,
            serviceAccount: serviceAccountOf(pod),
            audience: typeof t["audience"] === "string" ? t["audience"] : "",
            expirationSeconds: typeof t["expirationSeconds"] === "number" ? t["expirationSeconds"] : 3600,
            pod: { name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "" },
          });
          // with fsGroup or a common runAsUser the token is private to its owner (ownership adds group read)
          const owned = own.fsUser !== undefined || own.fsGroup !== undefined;
          const file = { data: Buffer.from(token, "utf8"), mode: owned ? 0o600 : defaultMode, fsUser: own.fsUser };
          if (file.fsUser === undefined) delete file.fsUser;
          part = new Map([[String(t["path"] ?? ""), file]]);
        } else if (isRecord(s["clusterTrustBundle"])) {
          throw new Error(
            "clusterTrustBundle projections are not supported by this k8ts node agent (no ClusterTrustBundle API)",
          );
        } else {
          throw new Error(`unsupported projection: ${Object.keys(s).join(", ") || "empty source"}`);
        }
        for (const [k, v] of part) payload.set(k, v);
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new Error(aggregateMessage(errors));
    return payload;
  }

  /** A ConfigMap or Secret; a missing optional one reads as empty, a missing required one fails. */
  private async fetch(kind: "configmap" | "secret", ns: string, name: string, optional: boolean): Promise<KObject> {
    try {
      return await this.client.get(kind === "configmap" ? resources.configmaps : resources.secrets, ns, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) {
        if (optional) return { metadata: { name, namespace: ns } };
        throw new Error(`${kind} "${name}" not found`);
      }
      throw err;
    }
  }

  /** persistentVolumeClaim / ephemeral volumes: the claim is checked as upstream's populator does, then handed to the storage hook. */
  private async setUpClaim(
    root: string,
    pod: KObject,
    volumeName: string,
    claimName: string,
    readOnly: boolean,
    ephemeral: boolean,
  ): Promise<PodVolume> {
    const ns = pod.metadata.namespace ?? "default";
    const fail = (why: string) =>
      new VolumeError("FailedMount", `error processing PVC ${ns}/${claimName}: ${why}`, { volume: volumeName });
    let claim: KObject;
    try {
      claim = await this.client.get(resources.persistentvolumeclaims, ns, claimName);
    } catch (err) {
      throw fail(`failed to fetch PVC from API server: ${errorText(err)}`);
    }
    const finalizers = claim.metadata.finalizers ?? [];
    if (claim.metadata.deletionTimestamp && !finalizers.includes(PVC_PROTECTION_FINALIZER)) {
      throw fail("PVC is being deleted");
    }
    if (ephemeral) {
      const owner = (claim.metadata.ownerReferences ?? []).find((o) => o.controller === true);
      if (!owner || owner.uid !== pod.metadata.uid) {
        throw fail(
          `PVC ${ns}/${claimName} was not created for pod ${ns}/${pod.metadata.name ?? ""} (pod is not owner)`,
        );
      }
    }
    const status = rec(claim["status"]) ?? {};
    const spec = rec(claim["spec"]) ?? {};
    if (status["phase"] !== "Bound") throw fail("PVC is not bound");
    if (typeof spec["volumeName"] !== "string" || spec["volumeName"] === "") {
      throw fail("PVC has empty pvc.Spec.VolumeName");
    }
    if (!this.opts.pvc) {
      throw fail(
        "persistentVolumeClaim volumes are mounted by the storage component, which is not running in this k8ts build",
      );
    }
    let mounted: PvcMount;
    try {
      mounted = await this.opts.pvc({ pod, volumeName, claim, readOnly, podDir: podDir(root, podUidOf(pod)) });
    } catch (err) {
      throw setUpFailed(volumeName, err);
    }
    let file = false;
    try {
      file = !(await stat(mounted.path)).isDirectory();
    } catch (err) {
      throw setUpFailed(volumeName, err);
    }
    return {
      name: volumeName,
      plugin: PLUGINS.pvc,
      path: mounted.path,
      readOnly: readOnly || mounted.readOnly === true,
      file,
    };
  }

  // ---- subPath ----

  private async prepareSubPath(
    root: string,
    uid: string,
    vol: PodVolume,
    container: string,
    index: number,
    mountName: string,
    subPath: string,
  ): Promise<{ hostPath: string; file: boolean }> {
    const prepareFailed = `failed to prepare subPath for volumeMount "${mountName}" of container "${container}"`;
    if (!this.mounts) throw containerConfigError(`${prepareFailed}: ${this.cannotMount("subPath")}`);
    if (!isSafeComponent(container)) throw containerConfigError(prepareFailed, `invalid container name ${container}`);
    const joined = join(vol.path, posix.normalize(subPath));
    try {
      await stat(joined);
    } catch (err) {
      if (errnoOf(err) !== "ENOENT") throw containerConfigError(prepareFailed, errorText(err));
      // created now, safely, so that it has the volume's mode rather than what a runtime would give it
      try {
        const perm = (await stat(vol.path)).mode & 0o7777;
        await safeMakeDir(vol.path, subPath, perm);
      } catch (mkErr) {
        throw containerConfigError(
          `failed to create subPath directory for volumeMount "${mountName}" of container "${container}"`,
          errorText(mkErr),
        );
      }
    }
    try {
      return await prepareSubPath({
        volumePath: vol.path,
        subPath,
        target: subpathTarget(root, uid, vol.name, container, index),
      });
    } catch (err) {
      const detail = errorText(err);
      log.warn("subPath rejected", { node: this.opts.nodeName, volume: vol.name, container, detail });
      throw containerConfigError(prepareFailed, detail);
    }
  }

  // ---- helpers ----

  private cannotMount(what: string): string {
    return `${what} needs mounting, which needs root (CAP_SYS_ADMIN); this node agent runs as uid ${process.getuid?.() ?? "?"}`;
  }

  private rootDir(): Promise<string> {
    this.root ??= (async () => {
      await mkdir(join(this.opts.rootDir, "pods"), { recursive: true, mode: 0o750 });
      // mount tables name real paths: work on the resolved root
      return realpath(this.opts.rootDir);
    })();
    return this.root;
  }

  private async withPodLock<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(uid) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const chained = prev.then(() => mine);
    this.locks.set(uid, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(uid) === chained) this.locks.delete(uid);
    }
  }
}

function podUidOf(pod: KObject): string {
  const uid = pod.metadata.uid ?? "";
  checkUid(uid);
  return uid;
}

function checkUid(uid: string): void {
  if (!isSafeComponent(uid)) {
    throw new VolumeError("FailedMount", `pod uid ${JSON.stringify(uid)} cannot name a directory`);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return false;
    throw err;
  }
}

function withFailures(failures: VolumeError[]): VolumeError {
  const first = failures[0]!;
  return new VolumeError(first.reason, first.message, {
    volume: first.volume,
    detail: first.detail,
    failures,
  });
}

/** The volume a mount below volumes/<plugin>/<name>/... or volume-subpaths/<name>/... belongs to. */
function volumeNameOfPath(p: string, vdir: string, sdir: string): string {
  if (isWithin(p, sdir)) return p.slice(sdir.length + 1).split("/")[0] ?? "";
  const parts = p.slice(vdir.length + 1).split("/");
  return parts[1] ?? parts[0] ?? "";
}
