/**
 * The node side of the kubelet (upstream pkg/kubelet/kubelet_node_status.go and nodelease):
 * registers the Node with its capacity, allocatable, addresses, nodeInfo and conditions; posts
 * status every 10 s when something changed and at least every 5 minutes; renews the node's Lease
 * in kube-node-lease every 10 s (40 s duration).
 */
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { availableParallelism, networkInterfaces, release, totalmem } from "node:os";
import { Quantity } from "../api/quantity.js";
import { isRecord, type KObject, microTime, rfc3339 } from "../api/types.js";
import { ApiError } from "../apiserver/errors.js";
import { KUBERNETES_VERSION } from "../apiserver/server.js";
import { type ApiClient, resources } from "../client/types.js";
import { log } from "../util/log.js";
import { sameStatus } from "./status.js";

export interface NodeConfig {
  name: string;
  /** The node's InternalIP. */
  ip: string;
  kubeletPort: number;
  labels: Record<string, string>;
  /** Annotations set at registration and put back when removed (k8ts.io/local-path-root). */
  annotations?: Record<string, string>;
  /** Taints set at registration only (as --register-with-taints). */
  taints: Array<{ key: string; value?: string; effect: string }>;
  /** Directory whose file system backs ephemeral storage. */
  rootDir: string;
  /** e.g. "runc://1.1.5" */
  containerRuntimeVersion: string;
  /** Overrides for simulated nodes (no reading of the host). */
  capacity?: { cpu: string; memory: string; ephemeralStorage: string; pods: string };
  /** Skip the host's identity files (simulated nodes). */
  simulated?: boolean;
}

export interface NodeManagerOptions {
  leaseDurationSeconds?: number;
  /** How often status is computed and the lease renewed, ms (default 10 s). */
  updateMs?: number;
  /** Status is posted at least this often even when unchanged, ms (default 5 min). */
  reportMs?: number;
  now?: () => number;
  /** The Node as the server has it now (a fleet's shared informer); default: a GET each round. */
  current?: (name: string) => KObject | undefined;
}

function readTrim(path: string): string {
  try {
    return existsSync(path) ? readFileSync(path, "utf8").trim() : "";
  } catch {
    return "";
  }
}

/** The host's first non-internal IPv4 address (the kubelet's default node IP), else 127.0.0.1. */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readTrim("/etc/os-release"));
  return m?.[1] ?? "Linux";
}

/** Capacity read off the host: CPUs, memory, the root dir's file system, 110 pods. */
export function hostCapacity(rootDir: string): { cpu: string; memory: string; ephemeralStorage: string; pods: string } {
  let ephemeral = 0;
  try {
    const fs = statfsSync(rootDir);
    ephemeral = Number(fs.blocks) * Number(fs.bsize);
  } catch {
    ephemeral = 0;
  }
  return {
    cpu: String(availableParallelism()),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    ephemeralStorage: `${Math.floor(ephemeral / 1024)}Ki`,
    pods: "110",
  };
}

function bytesOf(q: string): number {
  const v = Quantity.tryParse(q.trim());
  return v ? Number(v.value()) : 0;
}

/** Bytes as "<n>Ki" when whole KiB (the form the capacity uses), plain bytes otherwise. */
function kiOrBytes(bytes: number): string {
  if (bytes === 0) return "0";
  return bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(bytes);
}

/**
 * Allocatable = capacity minus the default hard eviction thresholds (upstream
 * GetNodeAllocatableReservation with memory.available<100Mi, nodefs.available<10%): memory less
 * 100Mi, ephemeral storage less int64(10% of it) in bytes.
 */
export function allocatableOf(c: {
  cpu: string;
  memory: string;
  ephemeralStorage: string;
  pods: string;
}): Record<string, string> {
  const mem = Math.max(0, bytesOf(c.memory) - 100 * 1024 * 1024);
  const cap = bytesOf(c.ephemeralStorage);
  const eph = Math.max(0, cap - Math.trunc(cap * 0.1));
  return {
    cpu: c.cpu,
    memory: kiOrBytes(mem),
    "ephemeral-storage": String(eph),
    pods: c.pods,
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
  };
}

const CONDITIONS = [
  ["MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"],
  ["DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"],
  ["PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"],
  ["Ready", "True", "KubeletReady", "kubelet is posting ready status"],
] as const;

/** The Node's status as this kubelet sees it; transition times kept from `old` where unchanged. */
export function nodeStatus(
  cfg: NodeConfig,
  old: Record<string, unknown> | undefined,
  now: number,
): Record<string, unknown> {
  const cap = cfg.capacity ?? hostCapacity(cfg.rootDir);
  const oldConds = Array.isArray(old?.["conditions"]) ? (old["conditions"] as unknown[]).filter(isRecord) : [];
  const conditions: Array<Record<string, unknown>> = CONDITIONS.map(([type, status, reason, message]) => {
    const prev = oldConds.find((c) => c["type"] === type);
    return {
      type,
      status,
      lastHeartbeatTime: rfc3339(now),
      // the transition time moves only when the status does (also back from the controller's Unknown)
      lastTransitionTime:
        prev && prev["status"] === status && typeof prev["lastTransitionTime"] === "string"
          ? prev["lastTransitionTime"]
          : rfc3339(now),
      reason,
      message,
    };
  });
  // conditions other components own (NetworkUnavailable, a problem detector's) are kept as they are
  const ours = new Set<string>(CONDITIONS.map(([type]) => type));
  for (const c of oldConds) if (!ours.has(String(c["type"]))) conditions.push(c);
  const machineID = cfg.simulated ? cfg.name : readTrim("/etc/machine-id");
  return {
    capacity: {
      cpu: cap.cpu,
      memory: cap.memory,
      "ephemeral-storage": cap.ephemeralStorage,
      pods: cap.pods,
      "hugepages-1Gi": "0",
      "hugepages-2Mi": "0",
    },
    allocatable: allocatableOf(cap),
    conditions,
    addresses: [
      { type: "InternalIP", address: cfg.ip },
      { type: "Hostname", address: cfg.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: cfg.kubeletPort } },
    nodeInfo: {
      machineID,
      systemUUID: cfg.simulated ? cfg.name : readTrim("/sys/class/dmi/id/product_uuid") || machineID,
      bootID: cfg.simulated ? cfg.name : readTrim("/proc/sys/kernel/random/boot_id"),
      kernelVersion: release(),
      osImage: osImage(),
      containerRuntimeVersion: cfg.containerRuntimeVersion,
      kubeletVersion: KUBERNETES_VERSION.gitVersion,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: process.arch === "x64" ? "amd64" : process.arch,
    },
  };
}

/** Whether two statuses differ in anything but heartbeat times. */
function statusChanged(a: Record<string, unknown>, b: Record<string, unknown> | undefined): boolean {
  if (!b) return true;
  const strip = (s: Record<string, unknown>) => ({
    ...s,
    conditions: Array.isArray(s["conditions"])
      ? (s["conditions"] as unknown[]).filter(isRecord).map((c) => ({ ...c, lastHeartbeatTime: undefined }))
      : [],
    images: undefined,
    volumesInUse: undefined,
    volumesAttached: undefined,
    config: undefined,
    runtimeHandlers: undefined,
    features: undefined,
  });
  return !sameStatus(strip(a), strip(b));
}

export class NodeManager {
  private readonly client: ApiClient;
  readonly cfg: NodeConfig;
  private readonly leaseDuration: number;
  private readonly updateMs: number;
  private readonly reportMs: number;
  private readonly now: () => number;
  private readonly current: ((name: string) => KObject | undefined) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastReport = 0;
  private stopped = false;
  /** The Node as last read or written. */
  node: KObject | undefined;

  constructor(client: ApiClient, cfg: NodeConfig, opts: NodeManagerOptions = {}) {
    this.client = client;
    this.cfg = cfg;
    this.leaseDuration = opts.leaseDurationSeconds ?? 40;
    this.updateMs = opts.updateMs ?? 10_000;
    this.reportMs = opts.reportMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    this.current = opts.current;
  }

  /** The freshest copy of the Node at hand: the fleet's watch when there is one, else the last read or written. */
  currentNode(): KObject | undefined {
    return this.current?.(this.cfg.name) ?? this.node;
  }

  /** Registers the Node (or takes over an existing one of that name) and renews the lease. */
  async register(): Promise<KObject> {
    const now = this.now();
    const status = nodeStatus(this.cfg, undefined, now);
    const labels = {
      "beta.kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
      "beta.kubernetes.io/os": "linux",
      "kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
      "kubernetes.io/hostname": this.cfg.name,
      "kubernetes.io/os": "linux",
      ...this.cfg.labels,
    };
    const body: KObject = {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: this.cfg.name,
        labels,
        annotations: {
          "node.alpha.kubernetes.io/ttl": "0",
          "volumes.kubernetes.io/controller-managed-attach-detach": "true",
          ...this.cfg.annotations,
        },
      },
      spec: this.cfg.taints.length > 0 ? { taints: this.cfg.taints } : {},
    };
    let node: KObject;
    try {
      node = await this.client.create(resources.nodes, undefined, body);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 409) throw err;
      // an existing Node of this name: a restart of this kubelet; keep its spec, refresh our labels
      const metadata = this.cfg.annotations ? { labels, annotations: this.cfg.annotations } : { labels };
      node = await this.client.patch(resources.nodes, undefined, this.cfg.name, "merge", { metadata });
    }
    const posted = await this.postStatus(status, now);
    await this.renewLease(node);
    return posted;
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      void this.tick().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(loop, this.updateMs);
        this.timer.unref();
      });
    };
    this.timer = setTimeout(loop, this.updateMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One round: lease renewal, status when changed or due. */
  async tick(): Promise<void> {
    try {
      await this.renewLease(this.node);
      const now = this.now();
      // compare with what the server holds: the node lifecycle controller may have marked it Unknown
      const server = this.current
        ? this.current(this.cfg.name)
        : await this.client.get(resources.nodes, undefined, this.cfg.name);
      if (server) this.node = server;
      if (server) await this.restoreAnnotations(server);
      const current = server && isRecord(server["status"]) ? server["status"] : undefined;
      const status = nodeStatus(this.cfg, current, now);
      if (statusChanged(status, current) || now - this.lastReport >= this.reportMs) {
        await this.postStatus(status, now);
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) {
        // the Node was deleted: register again, as the kubelet does
        await this.register().catch((e: unknown) => log.warn("node re-registration failed", { error: String(e) }));
        return;
      }
      log.warn("node status update failed", { node: this.cfg.name, error: String(err) });
    }
  }

  /** Puts back the annotations this node publishes when someone removed or changed them. */
  private async restoreAnnotations(node: KObject): Promise<void> {
    const want = this.cfg.annotations ?? {};
    const have = node.metadata.annotations ?? {};
    const missing = Object.entries(want).filter(([k, v]) => have[k] !== v);
    if (missing.length === 0) return;
    this.node = await this.client.patch(resources.nodes, undefined, this.cfg.name, "merge", {
      metadata: { annotations: Object.fromEntries(missing) },
    });
  }

  private async postStatus(status: Record<string, unknown>, now: number): Promise<KObject> {
    const node = await this.client.patch(
      resources.nodes,
      undefined,
      this.cfg.name,
      "merge",
      { status },
      { subresource: "status" },
    );
    this.node = node;
    this.lastReport = now;
    return node;
  }

  private async renewLease(node: KObject | undefined): Promise<void> {
    const spec = {
      holderIdentity: this.cfg.name,
      leaseDurationSeconds: this.leaseDuration,
      renewTime: microTime(this.now()),
    };
    try {
      await this.client.patch(resources.leases, "kube-node-lease", this.cfg.name, "merge", { spec });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
      const owner = node?.metadata.uid
        ? [{ apiVersion: "v1", kind: "Node", name: this.cfg.name, uid: node.metadata.uid }]
        : undefined;
      await this.client.create(resources.leases, "kube-node-lease", {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.cfg.name, namespace: "kube-node-lease", ...(owner ? { ownerReferences: owner } : {}) },
        spec,
      });
    }
  }
}
