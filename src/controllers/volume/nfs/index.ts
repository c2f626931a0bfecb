/**
 * An NFS-subdir provisioner compatible with k8s-sigs.io/nfs-subdir-external-provisioner: each
 * volume is a directory inside one NFS export, which this machine has mounted at `root` (upstream
 * mounts it at /persistentvolumes). Provisioning makes the directory (mode 0777, as upstream) and
 * answers an `nfs` source for it; deleting a released volume acts on the directory its
 * `spec.nfs.path` records, as the class's `onDelete` (delete | retain) or, without it,
 * `archiveOnDelete` (default true: renamed `archived-<name>` beside itself) says.
 * Paths are user input (claim annotations feed pathPattern, anyone who can write a PV writes
 * nfs.path) and pods write inside the export: see pattern.ts and fs.ts for what is refused.
 */
import { posix } from "node:path";
import { NFS_SUBDIR_PROVISIONER, specOf } from "../../../api/storage.js";
import { isRecord, type KObject } from "../../../api/types.js";
import {
  type DeleteVolumeOptions,
  type Provisioner,
  ProvisioningError,
  type ProvisionOptions,
  type ProvisionResult,
} from "../provisioner/index.js";
import { makeDirInside, presentInside, removeInside, renameInside, UnsafePathError } from "./fs.js";
import { subdirSegments, volumeSubdir } from "./pattern.js";

export { UnsafePathError } from "./fs.js";
export { expandPathPattern, subdirSegments, volumeSubdir } from "./pattern.js";

/** Where the export is and where it is mounted here. */
export interface NfsProvisionerOptions {
  /** The NFS server the volumes name (spec.nfs.server). */
  server: string;
  /** The exported path on that server; a volume's spec.nfs.path is `<path>/<its directory>`. */
  path: string;
  /** Where the export is mounted on this machine (in tests, any directory standing in for it). */
  root: string;
  /** The provisioner name; default k8s-sigs.io/nfs-subdir-external-provisioner. */
  name?: string;
}

/** What deleting a volume does with its directory. */
export type DeletionMode = "delete" | "retain" | "archive";

/** Go's strconv.ParseBool; undefined for anything else. */
export function parseBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/** The class parameters as strings. */
export function classParameters(sc: KObject | undefined): Record<string, string> {
  const p = sc?.["parameters"];
  const out: Record<string, string> = {};
  if (!isRecord(p)) return out;
  for (const [k, v] of Object.entries(p)) if (typeof v === "string") out[k] = v;
  return out;
}

/** upstream Delete's rule: onDelete delete | retain wins; else archiveOnDelete (absent: archive; unparsable: an error). */
export function deletionMode(parameters: Record<string, string>): DeletionMode {
  const onDelete = parameters["onDelete"];
  if (onDelete === "delete" || onDelete === "retain") return onDelete;
  const archive = parameters["archiveOnDelete"];
  if (archive === undefined) return "archive";
  const b = parseBool(archive);
  if (b === undefined) throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(archive)}: invalid syntax`);
  return b ? "archive" : "delete";
}

/** An export path cleaned, without a trailing slash ("/" stays "/"). */
function cleanExport(path: string): string {
  const p = posix.normalize(path);
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

/** The nfs-subdir provisioner: a directory per volume inside one export. */
export class NfsProvisioner implements Provisioner {
  readonly name: string;
  readonly server: string;
  /** The export path, cleaned. */
  readonly exportPath: string;
  readonly root: string;

  constructor(opts: NfsProvisionerOptions) {
    if (!posix.isAbsolute(opts.path)) throw new Error(`NFS export path ${JSON.stringify(opts.path)} is not absolute`);
    this.name = opts.name ?? NFS_SUBDIR_PROVISIONER;
    this.server = opts.server;
    this.exportPath = cleanExport(opts.path);
    this.root = opts.root;
  }

  /** spec.nfs.path of the directory `segments` inside the export. */
  private serverPath(segments: readonly string[]): string {
    return posix.join(this.exportPath, ...segments);
  }

  async provision(o: ProvisionOptions): Promise<ProvisionResult> {
    const selector = specOf(o.claim)["selector"];
    if (selector !== undefined && selector !== null)
      throw new ProvisioningError("claim Selector is not supported", "final");
    const segments = volumeSubdir(o.claim, o.pvName, classParameters(o.storageClass));
    try {
      await makeDirInside(this.root, segments, 0o777);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // a refused path stays refused; a failing file system may come back
      const kind = err instanceof UnsafePathError ? "final" : "retry";
      throw new ProvisioningError(`unable to create directory to provision new pv: ${why}`, kind);
    }
    return { source: { nfs: { server: this.server, path: this.serverPath(segments) } } };
  }

  /**
   * The directory a volume of this provisioner records, as components inside the export; a volume
   * of another server or export, or one naming the export root or climbing out of it, is refused.
   */
  recordedSubdir(pv: KObject): string[] {
    const name = pv.metadata.name ?? "";
    const nfs = specOf(pv)["nfs"];
    const server = isRecord(nfs) ? nfs["server"] : undefined;
    const path = isRecord(nfs) ? nfs["path"] : undefined;
    if (typeof server !== "string" || typeof path !== "string") throw new Error(`volume ${name} has no nfs source`);
    if (server !== this.server) {
      throw new Error(`volume ${name} is on NFS server "${server}", not on this provisioner's "${this.server}"`);
    }
    const prefix = this.exportPath === "/" ? "/" : `${this.exportPath}/`;
    if (!path.startsWith(prefix)) {
      throw new Error(`volume ${name} has path "${path}", outside this provisioner's export "${this.exportPath}"`);
    }
    try {
      return subdirSegments(path.slice(prefix.length));
    } catch (err) {
      throw new Error(`volume ${name} has path "${path}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async delete(pv: KObject, o?: DeleteVolumeOptions): Promise<void> {
    const segments = this.recordedSubdir(pv);
    // upstream: a directory already gone is a deletion done
    if (!(await presentInside(this.root, segments))) return;
    const sc = o?.storageClass;
    if (!sc) throw new Error(`storage class of volume ${pv.metadata.name ?? ""} not found`);
    const mode = deletionMode(classParameters(sc));
    if (mode === "retain") return;
    if (mode === "delete") {
      await removeInside(this.root, segments);
      return;
    }
    await renameInside(this.root, segments, `archived-${segments[segments.length - 1] ?? ""}`);
  }
}
