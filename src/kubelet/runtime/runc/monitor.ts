/**
 * The process that watches a running container: `sh` running `runc run --keep` in the foreground
 * (runc stays the container's parent, relays its stdio and exits with its status, 128+n for a
 * signal) and then writing that status to the container's `exit` file. Spawned in its own session,
 * it outlives the kubelet, so a new kubelet learns the exit status from the file. `--keep` leaves
 * the stopped container (and its cgroup, with the OOM counter) until `runc delete`.
 *
 * Without a TTY the monitor's stdio are the container's FIFOs; with one it runs under a node-pty
 * pseudo-terminal held by this process (runc allocates the container's console and relays it), so
 * the console does not survive the kubelet: on restart the pty hangs up, runc forwards SIGHUP to
 * the container, and the monitor (which ignores SIGHUP) still records the exit status.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { IPty } from "node-pty";
import { DEFAULT_PATH } from "./spec.js";

/** $1 = exit file, the rest = runc's argv. */
const SCRIPT = 'exitf=$1; shift; "$@"; code=$?; printf "%s\\n" "$code" > "$exitf.tmp" && mv -f "$exitf.tmp" "$exitf"';

export interface MonitorArgs {
  runcPath: string;
  runcRoot: string;
  bundle: string;
  id: string;
  exitFile: string;
  pidFile: string;
  runcLog: string;
}

/** sh's argv: the script, $0, the exit file, then `runc ... run --keep ...`. */
export function monitorArgv(a: MonitorArgs, tty: boolean): string[] {
  return [
    "-c",
    tty ? `trap '' HUP; ${SCRIPT}` : SCRIPT,
    "k8ts-monitor",
    a.exitFile,
    a.runcPath,
    "--root",
    a.runcRoot,
    "--log",
    a.runcLog,
    "--log-format",
    "json",
    "run",
    "--keep",
    "--bundle",
    a.bundle,
    "--pid-file",
    a.pidFile,
    a.id,
  ];
}

/** Starts the monitor with the given stdio fds (or "ignore" for /dev/null). */
export function spawnMonitor(a: MonitorArgs, stdio: [number | "ignore", number, number]): ChildProcess {
  const child = spawn("/bin/sh", monitorArgv(a, false), {
    cwd: a.bundle,
    detached: true,
    stdio,
    env: { PATH: DEFAULT_PATH },
  });
  child.unref();
  return child;
}

/** Starts the monitor on a pseudo-terminal (TTY containers). */
export async function spawnPtyMonitor(a: MonitorArgs, size: { cols: number; rows: number }): Promise<IPty> {
  const { spawn: ptySpawn } = await import("node-pty");
  return ptySpawn("/bin/sh", monitorArgv(a, true), {
    name: "xterm",
    cols: size.cols,
    rows: size.rows,
    cwd: a.bundle,
    env: { PATH: DEFAULT_PATH, TERM: "xterm" },
    encoding: null,
  });
}

/** node-pty hands out Buffers when `encoding` is null (its types say string). */
export function ptyChunk(d: unknown): Buffer {
  if (Buffer.isBuffer(d)) return d;
  if (d instanceof Uint8Array) return Buffer.from(d);
  return Buffer.from(String(d), "utf8");
}
