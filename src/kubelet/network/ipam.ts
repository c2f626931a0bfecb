/**
 * Host-local IP address management for the node's pod CIDR, as CNI's host-local plugin: one
 * address per owner (a pod sandbox), handed out round-robin after the last one given (so a freed
 * address is not reused at once), kept in a file so a restarted kubelet never hands out an address
 * that is still live. Each change is a synchronous read-modify-write with an atomic rename, so two
 * callers in one process cannot interleave.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Cidr4, cidrContains, intToIp, ipToInt, podRange } from "./cidr.js";

export interface Allocation {
  owner: string;
  /** Free text kept for whoever reads the file (the netns name). */
  note?: string;
}

interface IpamFile {
  cidr: string;
  /** The last address handed out (round-robin start). */
  last?: string;
  allocations: Record<string, Allocation>;
}

/** Picks the next free address after `last` (wrapping), or undefined when the range is full. */
export function nextFreeAddress(
  range: { first: number; last: number },
  used: Set<number>,
  last?: number,
): number | undefined {
  const size = range.last - range.first + 1;
  if (size <= 0) return undefined;
  const start = last !== undefined && last >= range.first && last <= range.last ? last + 1 : range.first;
  for (let i = 0; i < size; i++) {
    let candidate = start + i;
    if (candidate > range.last) candidate -= size;
    if (!used.has(candidate)) return candidate;
  }
  return undefined;
}

export class HostLocalIpam {
  private readonly file: string;

  constructor(
    private readonly cidr: Cidr4,
    dir: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, "allocations.json");
  }

  /** The owner's address: the one it already holds, or a new one. Throws when the range is full. */
  allocate(owner: string, note?: string): string {
    const state = this.read();
    for (const [ip, a] of Object.entries(state.allocations)) {
      if (a.owner === owner && cidrContains(this.cidr, ip)) return ip;
    }
    const used = new Set<number>();
    for (const ip of Object.keys(state.allocations)) used.add(ipToInt(ip));
    const range = podRange(this.cidr);
    const next = nextFreeAddress(range, used, state.last !== undefined ? ipToInt(state.last) : undefined);
    if (next === undefined) {
      throw new Error(`no free address in pod CIDR ${this.cidr.text}: all ${range.last - range.first + 1} are in use`);
    }
    const ip = intToIp(next);
    state.allocations[ip] = note !== undefined ? { owner, note } : { owner };
    state.last = ip;
    this.write(state);
    return ip;
  }

  /** Releases every address of the owner; releasing nothing is fine. */
  release(owner: string): void {
    const state = this.read();
    let changed = false;
    for (const [ip, a] of Object.entries(state.allocations)) {
      if (a.owner === owner) {
        delete state.allocations[ip];
        changed = true;
      }
    }
    if (changed) this.write(state);
  }

  /** The address the owner holds, if any. */
  lookup(owner: string): string | undefined {
    for (const [ip, a] of Object.entries(this.read().allocations)) if (a.owner === owner) return ip;
    return undefined;
  }

  /** Every allocation (ip → allocation). */
  list(): Record<string, Allocation> {
    return this.read().allocations;
  }

  private read(): IpamFile {
    if (!existsSync(this.file)) return { cidr: this.cidr.text, allocations: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, "utf8"));
    } catch (err) {
      throw new Error(`IPAM state ${this.file} is unreadable: ${(err as Error).message}`);
    }
    return validateIpamFile(parsed, this.file, this.cidr.text);
  }

  private write(state: IpamFile): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

function validateIpamFile(v: unknown, file: string, cidr: string): IpamFile {
  if (typeof v !== "object" || v === null) throw new Error(`IPAM state ${file} is not an object`);
  const o = v as Record<string, unknown>;
  const allocations: Record<string, Allocation> = {};
  const raw = o["allocations"];
  if (typeof raw === "object" && raw !== null) {
    for (const [ip, a] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof a !== "object" || a === null) continue;
      const owner = (a as Record<string, unknown>)["owner"];
      const note = (a as Record<string, unknown>)["note"];
      try {
        ipToInt(ip);
      } catch {
        continue;
      }
      if (typeof owner === "string") allocations[ip] = typeof note === "string" ? { owner, note } : { owner };
    }
  }
  const last = typeof o["last"] === "string" ? o["last"] : undefined;
  return last !== undefined ? { cidr, last, allocations } : { cidr, allocations };
}
