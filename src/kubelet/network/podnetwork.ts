/**
 * Pod networking as the CNI bridge plugin with host-local IPAM does it: a Linux bridge holding
 * the gateway address of the node's pod CIDR, and per pod sandbox a network namespace
 * (`ip netns add <prefix><short uid>`, so it outlives the kubelet and containers join it by path)
 * with a veth pair whose host end is on the bridge and whose pod end is `eth0` with the pod's
 * address, `lo` up and a default route via the gateway. Pods on the node reach each other over
 * the bridge; traffic leaving the pod CIDR is masqueraded (nft or iptables) with IP forwarding on.
 *
 * Every step is idempotent: setting up a sandbox that is half set up (a crash in between) first
 * removes what is there; tearing down what is not there is fine.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { log } from "../../util/log.js";
import { type Cidr4, gatewayOf, parseCidr } from "./cidr.js";
import { findExecutable, runCommand, runTool } from "./command.js";
import { HostLocalIpam } from "./ipam.js";
import { detectMasqueradeBackend, ensureMasquerade, type MasqueradeBackend } from "./masquerade.js";

export interface PodNetworkOptions {
  /** The bridge's name. Default `k8ts0`. */
  bridge?: string;
  /** The node's pod CIDR; the bridge gets its first address. Default `10.244.0.0/24`. */
  podCidr?: string;
  /** Where the IPAM keeps its allocations file. Default `/var/lib/k8ts/network`. */
  stateDir?: string;
  /** Prefix of the network namespaces' names (under /run/netns). Default `k8ts-`. */
  netnsPrefix?: string;
  /** The node's address, which host-network pods get. Default: the first non-internal IPv4 address. */
  nodeIP?: string;
  /** The `ip` tool (iproute2). Default: the one on PATH or in /usr/sbin, /sbin. */
  ipPath?: string;
  /** MTU of the bridge and veths. Default 1500. */
  mtu?: number;
  /** Turn on IPv4 forwarding and masquerade traffic leaving the pod CIDR. Default true. */
  masquerade?: boolean;
}

export interface PodNetworkStatus {
  ip: string;
  netnsName: string;
  /** The path containers join (`/run/netns/<name>`). */
  netnsPath: string;
}

const NETNS_DIR = "/run/netns";

/** A short, name-safe id for a pod uid: the uuid's first 12 hex digits, else a hash. */
export function shortPodId(uid: string): string {
  const hex = uid.toLowerCase().replace(/-/g, "");
  if (/^[0-9a-f]{32}$/.test(hex)) return hex.slice(0, 12);
  return createHash("sha256").update(uid).digest("hex").slice(0, 12);
}

/** Host-side veth name (at most 15 bytes, unique per bridge and pod). */
export function hostVethName(bridge: string, uid: string): string {
  return `vk${createHash("sha256").update(`${bridge}\0${uid}`).digest("hex").slice(0, 12)}`;
}

/** The node's first non-internal IPv4 address, or 127.0.0.1. */
export function detectNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

function isMissing(stderr: string): boolean {
  return /Cannot find device|does not exist|No such file|not found/i.test(stderr);
}

export class PodNetwork {
  readonly bridge: string;
  readonly cidr: Cidr4;
  readonly gateway: string;
  readonly nodeIP: string;
  private readonly ip: string;
  private readonly prefix: string;
  private readonly mtu: number;
  private readonly masquerade: boolean;
  private readonly ipam: HostLocalIpam;
  private bridgeReady: Promise<void> | undefined;
  private masq: MasqueradeBackend | undefined;
  /** Set when pods cannot reach beyond the node (no nft/iptables), for the runtime's notices. */
  egressWarning: string | undefined;

  constructor(opts: PodNetworkOptions = {}) {
    this.bridge = opts.bridge ?? "k8ts0";
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(this.bridge)) throw new Error(`invalid bridge name "${this.bridge}"`);
    this.cidr = parseCidr(opts.podCidr ?? "10.244.0.0/24");
    this.gateway = gatewayOf(this.cidr);
    this.prefix = opts.netnsPrefix ?? "k8ts-";
    if (!/^[A-Za-z0-9_.-]{0,32}$/.test(this.prefix)) throw new Error(`invalid netns prefix "${this.prefix}"`);
    this.nodeIP = opts.nodeIP ?? detectNodeIP();
    const ip = opts.ipPath ?? findExecutable("ip");
    if (!ip) throw new Error("pod networking needs the `ip` tool (iproute2), which is not installed");
    this.ip = ip;
    this.mtu = opts.mtu ?? 1500;
    this.masquerade = opts.masquerade ?? true;
    this.ipam = new HostLocalIpam(this.cidr, opts.stateDir ?? "/var/lib/k8ts/network");
  }

  netnsName(uid: string): string {
    return `${this.prefix}${shortPodId(uid)}`;
  }

  netnsPath(uid: string): string {
    return `${NETNS_DIR}/${this.netnsName(uid)}`;
  }

  /** Creates the bridge with the gateway address (once; again if it vanished), forwarding and NAT. */
  ensureBridge(): Promise<void> {
    if (this.bridgeReady && existsSync(`/sys/class/net/${this.bridge}`)) return this.bridgeReady;
    const p = this.setupBridge();
    this.bridgeReady = p;
    p.catch(() => {
      if (this.bridgeReady === p) this.bridgeReady = undefined;
    });
    return p;
  }

  private async setupBridge(): Promise<void> {
    if (!existsSync(`/sys/class/net/${this.bridge}`)) {
      const r = await runTool(this.ip, ["link", "add", this.bridge, "type", "bridge"]);
      if (r.code !== 0 && !/File exists/.test(r.stderr)) {
        throw new Error(`cannot create bridge ${this.bridge}: ${r.stderr.trim()}`);
      }
    }
    const addr = `${this.gateway}/${this.cidr.prefix}`;
    const shown = await runCommand(this.ip, ["-o", "-4", "addr", "show", "dev", this.bridge]);
    if (!shown.includes(` ${addr} `)) {
      const r = await runTool(this.ip, ["addr", "add", addr, "dev", this.bridge]);
      if (r.code !== 0 && !/File exists/.test(r.stderr)) {
        throw new Error(`cannot give bridge ${this.bridge} address ${addr}: ${r.stderr.trim()}`);
      }
    }
    await runCommand(this.ip, ["link", "set", this.bridge, "mtu", String(this.mtu), "up"]);
    if (!this.masquerade) return;
    try {
      if (readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim() !== "1") {
        writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
        log.info("pod network: turned on net.ipv4.ip_forward");
      }
    } catch (err) {
      log.warn("pod network: cannot turn on net.ipv4.ip_forward", { error: (err as Error).message });
    }
    this.masq ??= detectMasqueradeBackend();
    if (this.masq.kind === "none") {
      this.egressWarning = `neither nft nor iptables is installed: traffic from pods (${this.cidr.text}) is not masqueraded, so pods reach only this node and each other`;
      log.warn(`pod network: ${this.egressWarning}`);
      return;
    }
    try {
      const done = await ensureMasquerade(this.masq, this.bridge, this.cidr.text);
      log.info("pod network: masquerade", { rule: done });
      this.egressWarning = undefined;
    } catch (err) {
      this.egressWarning = `masquerade for ${this.cidr.text} failed, pods may not reach beyond this node: ${(err as Error).message}`;
      log.warn(`pod network: ${this.egressWarning}`);
    }
  }

  /** Sets up the sandbox's namespace (or returns the one fully set up already). */
  async setup(uid: string): Promise<PodNetworkStatus> {
    await this.ensureBridge();
    const name = this.netnsName(uid);
    const veth = hostVethName(this.bridge, uid);
    const ip = this.ipam.allocate(uid, name);
    const status = { ip, netnsName: name, netnsPath: this.netnsPath(uid) };
    if (await this.isComplete(uid, ip)) return status;
    await this.removeLinks(uid);
    try {
      await runCommand(this.ip, ["-batch", "-"], {
        input: [
          `netns add ${name}`,
          `link add ${veth} mtu ${this.mtu} type veth peer name eth0 mtu ${this.mtu} netns ${name}`,
          `link set ${veth} master ${this.bridge}`,
          `link set ${veth} up`,
          "",
        ].join("\n"),
      });
      await runCommand(this.ip, ["-n", name, "-batch", "-"], {
        input: [
          "link set lo up",
          `addr add ${ip}/${this.cidr.prefix} dev eth0`,
          "link set eth0 up",
          `route add default via ${this.gateway} dev eth0`,
          "",
        ].join("\n"),
      });
    } catch (err) {
      await this.teardown(uid).catch(() => {});
      throw new Error(`cannot set up the network of pod ${uid}: ${(err as Error).message}`);
    }
    return status;
  }

  /** The sandbox's network if it has an address. */
  lookup(uid: string): PodNetworkStatus | undefined {
    const ip = this.ipam.lookup(uid);
    return ip !== undefined ? { ip, netnsName: this.netnsName(uid), netnsPath: this.netnsPath(uid) } : undefined;
  }

  /** Removes the veth, the namespace and the address. Idempotent. */
  async teardown(uid: string): Promise<void> {
    await this.removeLinks(uid);
    this.ipam.release(uid);
  }

  /** Tears down every sandbox holding an address whose owner is not in `keep` (after a restart). */
  async collectGarbage(keep: Set<string>): Promise<string[]> {
    const gone: string[] = [];
    for (const a of Object.values(this.ipam.list())) {
      if (keep.has(a.owner)) continue;
      await this.teardown(a.owner);
      gone.push(a.owner);
    }
    return gone;
  }

  private async isComplete(uid: string, ip: string): Promise<boolean> {
    if (!existsSync(this.netnsPath(uid))) return false;
    if (!existsSync(`/sys/class/net/${hostVethName(this.bridge, uid)}`)) return false;
    const r = await runTool(this.ip, ["-n", this.netnsName(uid), "-o", "-4", "addr", "show", "dev", "eth0"]);
    return r.code === 0 && r.stdout.includes(` ${ip}/${this.cidr.prefix} `);
  }

  private async removeLinks(uid: string): Promise<void> {
    const veth = hostVethName(this.bridge, uid);
    if (existsSync(`/sys/class/net/${veth}`)) {
      const r = await runTool(this.ip, ["link", "del", veth]);
      if (r.code !== 0 && !isMissing(r.stderr)) throw new Error(`cannot delete veth ${veth}: ${r.stderr.trim()}`);
    }
    const name = this.netnsName(uid);
    const path = this.netnsPath(uid);
    if (existsSync(path)) {
      const r = await runTool(this.ip, ["netns", "del", name]);
      if (r.code !== 0 && !isMissing(r.stderr)) throw new Error(`cannot delete netns ${name}: ${r.stderr.trim()}`);
      // a file left behind by a crash between creating and mounting it
      if (existsSync(path)) rmSync(path, { force: true });
    }
  }
}
