/**
 * Mounting through util-linux `mount`/`umount` (Node has no mount syscall; upstream's mount-utils
 * shells out the same way) and reading the mount table from /proc/self/mountinfo.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { isWithin } from "./layout.js";

export interface MountInfo {
  id: number;
  parentId: number;
  /** The mounted directory inside its filesystem (for bind mounts, the source's path). */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** `\040`-style octal escapes of mountinfo fields, decoded. */
function unescapeField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * Parses /proc/<pid>/mountinfo (proc(5)): `id parent major:minor root mountpoint options
 * [optional fields...] - fstype source superoptions`. Lines that do not parse are skipped.
 */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (fields.length < 7 || dash < 0 || dash + 2 >= fields.length) continue;
    const id = Number(fields[0]);
    const parentId = Number(fields[1]);
    if (!Number.isInteger(id) || !Number.isInteger(parentId)) continue;
    out.push({
      id,
      parentId,
      root: unescapeField(fields[3]!),
      mountPoint: unescapeField(fields[4]!),
      fsType: fields[dash + 1]!,
      source: unescapeField(fields[dash + 2]!),
    });
  }
  return out;
}

export async function readMounts(): Promise<MountInfo[]> {
  return parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
}

/** Mounts at or below `dir`, in mount table order (a parent before what is mounted on it). */
export function mountsUnder(mounts: MountInfo[], dir: string): MountInfo[] {
  return mounts.filter((m) => isWithin(m.mountPoint, dir));
}

export function isMountPoint(mounts: MountInfo[], path: string): boolean {
  return mounts.some((m) => m.mountPoint === path);
}

const MOUNT_TIMEOUT_MS = 30_000;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: MOUNT_TIMEOUT_MS, encoding: "utf8" }, (err, _stdout, stderr) => {
      if (!err) {
        resolve();
        return;
      }
      const output = stderr.trim();
      const status = typeof err.code === "number" ? `exit status ${err.code}` : err.message;
      reject(
        new Error(
          `mount failed: ${status}\nMounting command: ${cmd}\nMounting arguments: ${args.join(" ")}\nOutput: ${output}`,
        ),
      );
    });
  });
}

/** `mount -t tmpfs -o size=<bytes> tmpfs <dir>` (upstream emptyDir medium Memory). */
export function mountTmpfs(dir: string, sizeBytes: number | undefined): Promise<void> {
  const args = ["-t", "tmpfs"];
  if (sizeBytes !== undefined && sizeBytes > 0) args.push("-o", `size=${Math.floor(sizeBytes)}`);
  args.push("tmpfs", dir);
  return run("mount", args);
}

/** `mount -t hugetlbfs -o pagesize=<size> nodev <dir>` (upstream emptyDir medium HugePages). */
export function mountHugetlbfs(dir: string, pageSize: string): Promise<void> {
  return run("mount", ["-t", "hugetlbfs", "-o", `pagesize=${pageSize}`, "nodev", dir]);
}

/**
 * Bind-mounts exactly the file or directory an open descriptor of this process refers to:
 * the kernel resolves /proc/<pid>/fd/<fd> to that inode, whatever happened to its path since it
 * was opened. `--no-canonicalize` keeps mount(8) from resolving the path itself first.
 */
export function bindMountFd(fd: number, target: string): Promise<void> {
  return run("mount", ["--no-canonicalize", "--bind", `/proc/${process.pid}/fd/${fd}`, target]);
}

export function unmount(target: string): Promise<void> {
  return run("umount", [target]);
}
