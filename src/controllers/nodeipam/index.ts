/**
 * Node IPAM (upstream pkg/controller/nodeipam, range allocator): every Node gets a pod CIDR, a
 * /24 out of the cluster CIDR (default 10.244.0.0/16, as kubeadm's flannel tutorials in the seeds
 * use), in spec.podCIDR and spec.podCIDRs. A CIDR in use by a node is never handed out twice; a
 * deleted node's CIDR becomes free again. When the range is full the node gets a
 * CIDRNotAvailable event, as upstream.
 */
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

export interface NodeIpamOptions {
  /** Default 10.244.0.0/16. */
  clusterCIDR?: string;
  /** Prefix length of each node's CIDR (default 24). */
  nodeMaskSize?: number;
}

function ipToInt(ip: string): number {
  const p = ip.split(".").map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** The CIDRs of `size` bits inside `cluster`, in order. */
export function subnets(cluster: string, size: number): { count: number; at(i: number): string } {
  const [base, bits] = cluster.split("/") as [string, string];
  const prefix = Number(bits);
  const start = ipToInt(base) & (prefix === 0 ? 0 : ~((1 << (32 - prefix)) - 1) >>> 0);
  const count = 2 ** (size - prefix);
  return { count, at: (i) => `${intToIp((start + i * 2 ** (32 - size)) >>> 0)}/${size}` };
}

export class NodeIpamController {
  private readonly client: LocalClient;
  private readonly cluster: string;
  private readonly size: number;
  private queue: WorkQueue;
  private stopInformer: (() => void) | undefined;
  /** CIDR → node name. */
  private readonly used = new Map<string, string>();
  /** Nodes that found the range full: tried again when a CIDR is freed (not on every update). */
  private readonly waiting = new Set<string>();

  constructor(client: LocalClient, opts: NodeIpamOptions = {}) {
    this.client = client;
    this.cluster = opts.clusterCIDR ?? "10.244.0.0/16";
    this.size = opts.nodeMaskSize ?? 24;
    this.queue = new WorkQueue("nodeipam", (key) => this.reconcile(key));
  }

  start(): void {
    this.queue = new WorkQueue("nodeipam", (key) => this.reconcile(key));
    this.used.clear();
    this.waiting.clear();
    const nodes = this.client.resource("", "v1", "nodes");
    const s = this.client.informer(nodes, (obj, deleted) => {
      const cidr = podCIDR(obj);
      const name = obj.metadata.name ?? "";
      if (deleted) {
        this.waiting.delete(name);
        if (cidr && this.used.get(cidr) === name) {
          this.used.delete(cidr);
          for (const w of this.waiting) this.queue.add(w);
        }
        return;
      }
      if (cidr) this.used.set(cidr, name);
      else if (!this.waiting.has(name)) this.queue.add(name);
    });
    this.stopInformer = () => s.stop();
  }

  stop(): void {
    this.stopInformer?.();
    this.stopInformer = undefined;
    this.queue.stop();
  }

  private async reconcile(name: string): Promise<ReconcileResult> {
    const nodes = this.client.resource("", "v1", "nodes");
    const node = this.client.get(nodes, undefined, name);
    if (!node || podCIDR(node)) return undefined;
    const all = subnets(this.cluster, this.size);
    let cidr: string | undefined;
    for (let i = 0; i < all.count; i++) {
      const c = all.at(i);
      if (!this.used.has(c)) {
        cidr = c;
        break;
      }
    }
    if (!cidr) {
      this.waiting.add(name);
      const events = this.client.resource("", "v1", "events");
      await this.client.ensure(events, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${name}.cidrnotavailable`, namespace: "default" },
        involvedObject: { kind: "Node", name, uid: node.metadata.uid, apiVersion: "v1" },
        reason: "CIDRNotAvailable",
        message: `Node ${name} status is now: CIDRNotAvailable`,
        source: { component: "cidrAllocator" },
        type: "Normal",
        count: 1,
        firstTimestamp: rfc3339(),
        lastTimestamp: rfc3339(),
      });
      return undefined;
    }
    this.waiting.delete(name);
    this.used.set(cidr, name);
    const chosen = cidr;
    await this.client.update(nodes, undefined, name, "", (cur) => {
      const spec = isRecord(cur["spec"]) ? cur["spec"] : {};
      if (!spec["podCIDR"]) {
        spec["podCIDR"] = chosen;
        spec["podCIDRs"] = [chosen];
      }
      cur["spec"] = spec;
      return cur;
    });
    return undefined;
  }
}

function podCIDR(node: KObject): string | undefined {
  const spec = isRecord(node["spec"]) ? node["spec"] : {};
  return typeof spec["podCIDR"] === "string" && spec["podCIDR"] !== "" ? spec["podCIDR"] : undefined;
}
