/**
 * Projects a set of files into a volume directory so that a reader always sees one complete
 * version of them (upstream pkg/volume/util/atomic_writer.go's layout):
 *
 *   <dir>/..2024_05_01_10_20_30.123456789/   the files of one version (plus subdirectories)
 *   <dir>/..data -> ..2024_05_01_10_20_30.123456789
 *   <dir>/<key>  -> ..data/<key>             one symlink per top-level name
 *
 * A new version is written to a fresh timestamped directory, then `..data_tmp` pointing at it is
 * renamed over `..data` (rename is atomic), then user-visible links of new top-level names are
 * added, those of removed names deleted, and the old version removed. Paths beginning with `..`
 * are reserved.
 */
import { randomInt } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
} from "node:fs/promises";
import { basename, join, posix } from "node:path";
import { errnoOf } from "./errors.js";

export interface FileProjection {
  data: Buffer;
  /** Permission bits (0..0o777), applied regardless of the umask. */
  mode: number;
  /** Owner to give the file (the pod's common runAsUser for projected tokens). */
  fsUser?: number;
}

/** Relative path → content. */
export type Payload = Map<string, FileProjection>;

const DATA_DIR = "..data";
const NEW_DATA_DIR = "..data_tmp";
const MAX_FILE_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

/** Upstream validatePath: the error for a payload path that may not be written, or undefined. */
export function validatePayloadPath(p: string): string | undefined {
  if (p === "") return `invalid path: must not be empty: ""`;
  if (p.startsWith("/")) return `invalid path: must be relative path: ${p}`;
  if (p.length > MAX_PATH_LENGTH) return `invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`;
  const items = p.split("/");
  for (const item of items) {
    if (item === "..") return `invalid path: must not contain '..': ${p}`;
    if (item.length > MAX_FILE_NAME_LENGTH) {
      return `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME_LENGTH} characters`;
    }
  }
  if (items[0]!.startsWith("..") && items[0]!.length > 2) return `invalid path: must not start with '..': ${p}`;
  if (p.includes("\0")) return `invalid path: must not contain NUL: ${JSON.stringify(p)}`;
  if (posix.normalize(p).replace(/\/+$/, "") === ".") return `invalid path: must name a file: ${p}`;
  return undefined;
}

/** The payload with its paths validated and cleaned (`a//b/` → `a/b`); throws on the first bad path. */
export function cleanPayload(payload: Payload): Payload {
  const out: Payload = new Map();
  for (const [p, f] of payload) {
    const why = validatePayloadPath(p);
    if (why) throw new Error(why);
    out.set(posix.normalize(p).replace(/\/+$/, ""), f);
  }
  return out;
}

/** `..2006_01_02_15_04_05.<random digits>` for a moment (UTC), as upstream names versions. */
export function timestampDirName(nowMs: number, random: number): string {
  const d = new Date(nowMs);
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${d.getUTCFullYear()}_${two(d.getUTCMonth() + 1)}_${two(d.getUTCDate())}_${two(d.getUTCHours())}_${two(d.getUTCMinutes())}_${two(d.getUTCSeconds())}`;
  return `..${stamp}.${random}`;
}

function firstComponent(p: string): string {
  const i = p.indexOf("/");
  return i < 0 ? p : p.slice(0, i);
}

/** Every file of a version directory (relative path → content and mode), without following symlinks. */
async function readVersion(dir: string): Promise<Map<string, { data: Buffer; mode: number; uid: number }>> {
  const out = new Map<string, { data: Buffer; mode: number; uid: number }>();
  const walk = async (rel: string): Promise<void> => {
    for (const ent of await readdir(join(dir, rel), { withFileTypes: true })) {
      const childRel = rel === "" ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) await walk(childRel);
      else if (ent.isFile()) {
        const full = join(dir, childRel);
        const st = await lstat(full);
        out.set(childRel, { data: await readFile(full), mode: st.mode & 0o7777, uid: st.uid });
      } else out.set(childRel, { data: Buffer.alloc(0), mode: -1, uid: -1 });
    }
  };
  await walk("");
  return out;
}

/** Whether the version on disk holds exactly the payload (same paths, bytes, modes, owners). */
function sameVersion(
  payload: Payload,
  onDisk: Map<string, { data: Buffer; mode: number; uid: number }>,
  modeOnDisk: (mode: number) => number,
): boolean {
  if (onDisk.size !== payload.size) return false;
  for (const [p, f] of payload) {
    const cur = onDisk.get(p);
    if (cur === undefined) return false;
    if (!cur.data.equals(f.data)) return false;
    if (cur.mode !== modeOnDisk(f.mode & 0o7777)) return false;
    if (f.fsUser !== undefined && cur.uid !== f.fsUser) return false;
  }
  return true;
}

export interface WriteOptions {
  /** Runs on the new version directory before it is published (fsGroup ownership). */
  setPerms?: (versionDir: string) => Promise<void>;
  /** The mode a file of the given requested mode has once setPerms ran (default: unchanged). */
  modeOnDisk?: (mode: number) => number;
  now?: () => number;
}

/**
 * Writes `payload` into `targetDir` (which must exist) as one new version, unless the current
 * version already equals it. Resolves with whether a new version was published. Not safe to
 * call concurrently for the same directory: the caller serialises.
 */
export async function writeAtomic(targetDir: string, payload: Payload, opts: WriteOptions = {}): Promise<boolean> {
  const clean = cleanPayload(payload);
  const dataLink = join(targetDir, DATA_DIR);
  let oldVersion: string | undefined;
  try {
    oldVersion = await readlink(dataLink);
  } catch (err) {
    if (errnoOf(err) !== "ENOENT") throw err;
  }
  if (oldVersion !== undefined && (!oldVersion.startsWith("..") || oldVersion.includes("/"))) {
    throw new Error(`${dataLink} points at ${oldVersion}, which is not a version directory of this volume`);
  }
  let oldPaths = new Set<string>();
  let write = true;
  if (oldVersion !== undefined) {
    let onDisk: Map<string, { data: Buffer; mode: number; uid: number }> | undefined;
    try {
      onDisk = await readVersion(join(targetDir, oldVersion));
    } catch (err) {
      if (errnoOf(err) !== "ENOENT") throw err;
    }
    if (onDisk) {
      oldPaths = new Set(onDisk.keys());
      write = !sameVersion(clean, onDisk, opts.modeOnDisk ?? ((m) => m));
    }
  }

  if (write) {
    const versionDir = await newVersionDir(targetDir, opts.now ?? Date.now);
    const versionName = basename(versionDir);
    try {
      await writePayload(versionDir, clean);
      if (opts.setPerms) await opts.setPerms(versionDir);
      const tmpLink = join(targetDir, NEW_DATA_DIR);
      await rm(tmpLink, { force: true });
      await symlink(versionName, tmpLink);
      await rename(tmpLink, dataLink);
    } catch (err) {
      await rm(join(targetDir, NEW_DATA_DIR), { force: true }).catch(() => undefined);
      await rm(versionDir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  // user-visible links: one per top-level name, created once, stable across versions
  const newTop = new Set([...clean.keys()].map(firstComponent));
  for (const name of newTop) {
    const link = join(targetDir, name);
    try {
      await lstat(link);
    } catch (err) {
      if (errnoOf(err) !== "ENOENT") throw err;
      await symlink(`${DATA_DIR}/${name}`, link);
    }
  }
  // names that are gone: remove their links (only links of ours: never what else lives there)
  for (const name of new Set([...oldPaths].map(firstComponent))) {
    if (newTop.has(name)) continue;
    const link = join(targetDir, name);
    try {
      if ((await readlink(link)) === `${DATA_DIR}/${name}`) await unlink(link);
    } catch (err) {
      const code = errnoOf(err);
      if (code !== "ENOENT" && code !== "EINVAL") throw err;
    }
  }
  // the previous version, and any a crash left half-written, are no longer reachable: remove them
  const current = await readlink(dataLink);
  for (const name of await readdir(targetDir)) {
    if (name !== current && VERSION_DIR.test(name)) await rm(join(targetDir, name), { recursive: true, force: true });
  }
  return write;
}

const VERSION_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/;

async function newVersionDir(targetDir: string, now: () => number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const dir = join(targetDir, timestampDirName(now(), randomInt(0, 2 ** 32 - 1)));
    try {
      await mkdir(dir, 0o755);
    } catch (err) {
      if (errnoOf(err) === "EEXIST" && attempt < 10) continue;
      throw err;
    }
    // group and other must be able to traverse it, whatever the umask
    await chmod(dir, 0o755);
    return dir;
  }
}

async function writePayload(dir: string, payload: Payload): Promise<void> {
  for (const [p, f] of payload) {
    const full = join(dir, p);
    const slash = p.lastIndexOf("/");
    if (slash > 0) await mkdirMode(dir, p.slice(0, slash), 0o755);
    const fh = await open(full, "wx", f.mode & 0o7777);
    try {
      await fh.writeFile(f.data);
      // the umask applies to open(2)'s mode: set the requested one explicitly
      await fh.chmod(f.mode & 0o7777);
      if (f.fsUser !== undefined) await fh.chown(f.fsUser, -1);
    } finally {
      await fh.close();
    }
  }
}

/** mkdir -p of `rel` under `base` (inside a fresh version directory), each created directory 0755. */
async function mkdirMode(base: string, rel: string, mode: number): Promise<void> {
  let cur = base;
  for (const part of rel.split("/")) {
    cur = join(cur, part);
    try {
      await mkdir(cur, mode);
      await chmod(cur, mode);
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw err;
      if (!(await stat(cur)).isDirectory()) throw err;
    }
  }
}
