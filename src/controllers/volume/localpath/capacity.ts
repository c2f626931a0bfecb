/**
 * Local-path capacity accounting: a node offers its ephemeral-storage capacity
 * (status.capacity["ephemeral-storage"]) to local-path volumes, and every k8ts.io/local-path
 * volume pinned to it (by its kubernetes.io/hostname node affinity) uses its spec.capacity of it,
 * whatever its phase, until the object is gone. The index is fed by a PV informer, so a claim
 * costs a map lookup, not a scan; provisioning, the kubelet side and volume expansion share it.
 */

import { Quantity } from "../../../api/quantity.js";
import {
  ANN_LOCAL_PATH_ROOT,
  bytesOf,
  LOCAL_PATH_PROVISIONER,
  provisionedBy,
  statusOf,
  volumeCapacityBytes,
  volumeNodeTerms,
} from "../../../api/storage.js";
import { isRecord, type KObject } from "../../../api/types.js";

/** The well-known node label local-path volumes are pinned by. */
export const HOSTNAME_LABEL = "kubernetes.io/hostname";

/** A byte count as a quantity (`10Gi`, `1536Mi`, `1000` when not a multiple of 1Ki). */
export function formatBytes(bytes: bigint): string {
  return Quantity.fromInt(bytes < 0n ? 0n : bytes, "BinarySI").toString();
}

/** The value a volume's node affinity uses for a node: its kubernetes.io/hostname label, else its name. */
export function hostnameOf(node: KObject): string {
  return node.metadata.labels?.[HOSTNAME_LABEL] ?? node.metadata.name ?? "";
}

/** The node's local-path capacity: status.capacity["ephemeral-storage"] in bytes, undefined when not reported. */
export function localPathBytes(node: KObject): bigint | undefined {
  const cap = statusOf(node)["capacity"];
  return isRecord(cap) ? bytesOf(cap["ephemeral-storage"]) : undefined;
}

/** The directory the node's agent keeps local-path volumes in (k8ts.io/local-path-root), when it offers them. */
export function localPathRootOf(node: KObject): string | undefined {
  const root = node.metadata.annotations?.[ANN_LOCAL_PATH_ROOT];
  return root === undefined || root === "" ? undefined : root;
}

/** The required node affinity pinning a volume to the node with `hostname`. */
export function hostnameAffinity(hostname: string): Record<string, unknown> {
  return {
    required: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: "In", values: [hostname] }] }],
    },
  };
}

/** The hostname a local-path volume is pinned to (its first `kubernetes.io/hostname In [...]` requirement), or undefined. */
export function volumeHost(pv: KObject): string | undefined {
  for (const term of volumeNodeTerms(pv) ?? []) {
    const exprs = isRecord(term) ? term["matchExpressions"] : undefined;
    if (!Array.isArray(exprs)) continue;
    for (const e of exprs) {
      if (!isRecord(e) || e["key"] !== HOSTNAME_LABEL || e["operator"] !== "In" || !Array.isArray(e["values"]))
        continue;
      const v = e["values"][0];
      if (typeof v === "string" && v !== "") return v;
    }
  }
  return undefined;
}

/** Whether a volume is one of k8ts.io/local-path's. */
export function isLocalPathVolume(pv: KObject): boolean {
  return provisionedBy(pv) === LOCAL_PATH_PROVISIONER;
}

/** The local-path bytes in use per hostname, kept from a PV informer's callbacks. */
export class LocalPathUsage {
  private readonly volumes = new Map<string, { host: string; bytes: bigint }>();
  private readonly hosts = new Map<string, { bytes: bigint; names: Set<string> }>();

  /** Takes in a PV informer's callback (any PV; only local-path volumes with a host count). */
  observe(pv: KObject, deleted: boolean): void {
    const name = pv.metadata.name ?? "";
    const before = this.volumes.get(name);
    if (before) {
      const h = this.hosts.get(before.host);
      if (h) {
        h.bytes -= before.bytes;
        h.names.delete(name);
        if (h.names.size === 0) this.hosts.delete(before.host);
      }
      this.volumes.delete(name);
    }
    if (deleted || !isLocalPathVolume(pv)) return;
    const host = volumeHost(pv);
    if (host === undefined) return;
    const bytes = volumeCapacityBytes(pv);
    this.volumes.set(name, { host, bytes });
    const h = this.hosts.get(host) ?? { bytes: 0n, names: new Set<string>() };
    h.bytes += bytes;
    h.names.add(name);
    this.hosts.set(host, h);
  }

  /** Bytes the local-path volumes pinned to `host` take. */
  used(host: string): bigint {
    return this.hosts.get(host)?.bytes ?? 0n;
  }

  /** Whether the volume is counted (on whichever host). */
  counts(pvName: string): boolean {
    return this.volumes.has(pvName);
  }

  /** The names of the local-path volumes pinned to `host`. */
  volumesOn(host: string): string[] {
    return [...(this.hosts.get(host)?.names ?? [])];
  }

  /** What is left on `node` for new volumes (never below 0); undefined when it reports no capacity. */
  free(node: KObject): bigint | undefined {
    const cap = localPathBytes(node);
    if (cap === undefined) return undefined;
    const left = cap - this.used(hostnameOf(node));
    return left < 0n ? 0n : left;
  }

  /** Drops everything (a new informer fills it again). */
  forget(): void {
    this.volumes.clear();
    this.hosts.clear();
  }
}

/** Whether a claim of `bytes` fits on `node`: undefined when it does, else why not (the ProvisioningFailed message). */
export function fitRefusal(node: KObject, bytes: bigint, usage: LocalPathUsage): string | undefined {
  const name = node.metadata.name ?? "";
  const free = usage.free(node);
  if (free === undefined) return `node "${name}" reports no ephemeral-storage capacity for local-path volumes`;
  if (bytes > free) {
    return `node "${name}" has ${formatBytes(free)} of local-path capacity left, the claim asks for ${formatBytes(bytes)}`;
  }
  return undefined;
}

/** The answer of canGrow. */
export type GrowAnswer = { fits: true } | { fits: false; message: string };

/**
 * Whether a local-path volume may grow to `newBytes` on `node` (the node it is pinned to,
 * undefined when gone): the growth must fit in what the node has left.
 */
export function canGrow(pv: KObject, newBytes: bigint, node: KObject | undefined, usage: LocalPathUsage): GrowAnswer {
  const pvName = pv.metadata.name ?? "";
  const current = volumeCapacityBytes(pv);
  if (newBytes <= current) return { fits: true };
  if (!node)
    return { fits: false, message: `the node of volume ${pvName} (${volumeHost(pv) ?? "none"}) no longer exists` };
  const free = usage.free(node);
  const name = node.metadata.name ?? "";
  if (free === undefined) {
    return { fits: false, message: `node "${name}" reports no ephemeral-storage capacity for local-path volumes` };
  }
  // a volume not yet counted (the informer is behind) takes its current size as well
  const room = usage.counts(pvName) ? free : free - current;
  const more = newBytes - current;
  if (more <= room) return { fits: true };
  return {
    fits: false,
    message: `node "${name}" has ${formatBytes(room < 0n ? 0n : room)} of local-path capacity left, volume ${pvName} needs ${formatBytes(more)} more to grow to ${formatBytes(newBytes)}`,
  };
}
