/**
 * What the runc runtime keeps on disk about its sandboxes and containers, so a new runtime
 * instance (a restarted kubelet) knows them: one JSON file per sandbox and per container, written
 * atomically (temp file + rename). Also process identity (pid + start time), so a recycled pid is
 * never taken for the process we started.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerConfig, ContainerState, SandboxConfig } from "../types.js";

export interface SandboxRecord {
  podUid: string;
  config: SandboxConfig;
  ip: string;
  /** The network namespace containers join; absent for host network. */
  netnsPath?: string;
  ready: boolean;
  createdAt: number;
}

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  startTime: string;
}

export interface ContainerRecord {
  id: string;
  podUid: string;
  config: ContainerConfig;
  state: ContainerState;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** The monitor (sh running `runc run`) while the container runs. */
  shim?: ProcessIdentity;
  /** The container's init process, as the host sees it. */
  init?: ProcessIdentity;
  cgroupsPath: string;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 1)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads every `<dir>/<entry>/<file>` that parses and passes `check`. */
export function readRecords<T>(dir: string, file: string, check: (v: Record<string, unknown>) => boolean): T[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out: T[] = [];
  for (const e of readdirSync(dir)) {
    const v = readJson(join(dir, e, file));
    if (isObj(v) && check(v)) out.push(v as T);
  }
  return out;
}

export const isSandboxRecord = (v: Record<string, unknown>): boolean =>
  typeof v["podUid"] === "string" && isObj(v["config"]) && typeof v["ip"] === "string";

export const isContainerRecord = (v: Record<string, unknown>): boolean =>
  typeof v["id"] === "string" &&
  /^[0-9a-f]{64}$/.test(v["id"]) &&
  typeof v["podUid"] === "string" &&
  isObj(v["config"]) &&
  typeof v["state"] === "string" &&
  typeof v["cgroupsPath"] === "string";

/** Start time of a pid from its /proc/<pid>/stat text (the field after the command's closing paren + 19). */
export function parseStartTime(statText: string): string | undefined {
  const close = statText.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = statText
    .slice(close + 2)
    .trim()
    .split(" ");
  return fields[19];
}

export function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const st = parseStartTime(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return st !== undefined ? { pid, startTime: st } : undefined;
  } catch {
    return undefined;
  }
}

/** The process is alive and is the one identified (not a zombie, not a recycled pid). */
export function isAlive(id: ProcessIdentity | undefined): boolean {
  if (!id) return false;
  try {
    const text = readFileSync(`/proc/${id.pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const state = text.slice(close + 2, close + 3);
    return state !== "Z" && state !== "X" && parseStartTime(text) === id.startTime;
  } catch {
    return false;
  }
}
