/**
 * Resource arithmetic as the scheduler does it: quantities as integers (cpu in millicores, the rest
 * in whole units, rounded up as upstream's MilliValue/Value), a pod's effective requests
 * (upstream resourcehelper.PodRequests: max(sum of containers, largest init container, counting
 * restartable init containers as sidecars) + overhead) and a node's allocatable.
 */
import { Quantity } from "../api/quantity.js";
import { isRecord } from "../api/types.js";
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, emptyResources, type Resources } from "./types.js";

/** Parsed quantities by text: pods and nodes repeat the same few strings ("100m", "1Gi"). */
const parsed = new Map<string, { milli: number; value: number } | null>();

function parseQuantity(v: unknown): { milli: number; value: number } | null {
  const text = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : undefined;
  if (text === undefined) return null;
  const hit = parsed.get(text);
  if (hit !== undefined) return hit;
  const q = Quantity.tryParse(text);
  const out = q ? { milli: Number(q.milliValue()), value: Number(q.value()) } : null;
  if (parsed.size > 50_000) parsed.clear();
  parsed.set(text, out);
  return out;
}

/** The integer the scheduler keeps for `name`: millicores for cpu, whole units otherwise; null when unparsable. */
export function resourceAmount(name: string, v: unknown): number | null {
  const q = parseQuantity(v);
  if (q === null) return null;
  return name === "cpu" ? q.milli : q.value;
}

/** upstream schedutil.IsScalarResourceName: extended, hugepages-*, kubernetes.io/-prefixed, attachable-volumes-*. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith("hugepages-") || name.startsWith("attachable-volumes-")) return true;
  if (name.includes("kubernetes.io/")) return true;
  return isExtendedResourceName(name);
}

/** An extended resource: a domain-qualified name outside kubernetes.io, not a quota "requests." name. */
export function isExtendedResourceName(name: string): boolean {
  return name.includes("/") && !name.includes("kubernetes.io/") && !name.startsWith("requests.");
}

/** A resource list (cpu in millicores) with the names that could not be parsed. */
export interface ResourceList {
  values: Map<string, number>;
  invalid: string[];
}

export function parseResourceList(v: unknown): ResourceList {
  const values = new Map<string, number>();
  const invalid: string[] = [];
  if (isRecord(v)) {
    for (const name of Object.keys(v)) {
      const amount = resourceAmount(name, v[name]);
      if (amount === null) invalid.push(name);
      else values.set(name, amount);
    }
  }
  return { values, invalid };
}

function addInto(into: Map<string, number>, from: Map<string, number>): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}

function maxInto(into: Map<string, number>, from: Map<string, number>): void {
  for (const [k, v] of from) {
    const cur = into.get(k);
    if (cur === undefined || v > cur) into.set(k, v);
  }
}

/** Container requests with cpu/memory defaults for the ones missing (upstream NonMissingContainerRequests). */
function withDefaults(reqs: Map<string, number>): Map<string, number> {
  if (reqs.has("cpu") && reqs.has("memory")) return reqs;
  const out = new Map(reqs);
  if (!out.has("cpu")) out.set("cpu", DEFAULT_MILLI_CPU_REQUEST);
  if (!out.has("memory")) out.set("memory", DEFAULT_MEMORY_REQUEST);
  return out;
}

interface ContainerRequests {
  requests: Map<string, number>;
  sidecar: boolean;
}

/** The effective requests of a pod spec, with and without the scoring defaults. */
export interface PodRequests {
  requests: Resources;
  /** cpu (millicores) and memory (bytes) with 100m / 200Mi for containers that request none. */
  nonZeroCpu: number;
  nonZeroMemory: number;
  /** Resource names whose quantity could not be parsed (the pod is not scheduled: an error). */
  invalid: string[];
}

function aggregate(
  containers: ContainerRequests[],
  inits: ContainerRequests[],
  overhead: Map<string, number>,
  defaults: boolean,
): Map<string, number> {
  const reqs = new Map<string, number>();
  for (const c of containers) addInto(reqs, defaults ? withDefaults(c.requests) : c.requests);
  const sidecars = new Map<string, number>();
  const initMax = new Map<string, number>();
  for (const c of inits) {
    const own = defaults ? withDefaults(c.requests) : c.requests;
    if (c.sidecar) {
      addInto(reqs, own);
      addInto(sidecars, own);
      maxInto(initMax, sidecars);
    } else {
      const tmp = new Map(own);
      addInto(tmp, sidecars);
      maxInto(initMax, tmp);
    }
  }
  maxInto(reqs, initMax);
  addInto(reqs, overhead);
  return reqs;
}

function containersOf(v: unknown, invalid: string[]): ContainerRequests[] {
  if (!Array.isArray(v)) return [];
  const out: ContainerRequests[] = [];
  for (const c of v) {
    if (!isRecord(c)) continue;
    const res = isRecord(c["resources"]) ? c["resources"] : {};
    const list = parseResourceList(res["requests"]);
    invalid.push(...list.invalid);
    out.push({ requests: list.values, sidecar: c["restartPolicy"] === "Always" });
  }
  return out;
}

/** upstream computePodResourceRequest / PodInfo.CalculateResource for a pod spec. */
export function podRequests(spec: Record<string, unknown>): PodRequests {
  const invalid: string[] = [];
  const containers = containersOf(spec["containers"], invalid);
  const inits = containersOf(spec["initContainers"], invalid);
  const overheadList = parseResourceList(spec["overhead"]);
  invalid.push(...overheadList.invalid);
  const reqs = aggregate(containers, inits, overheadList.values, false);
  const nonZero = aggregate(containers, inits, overheadList.values, true);
  return {
    requests: toResources(reqs),
    nonZeroCpu: nonZero.get("cpu") ?? 0,
    nonZeroMemory: nonZero.get("memory") ?? 0,
    invalid,
  };
}

/** A resource list as a vector: cpu, memory, ephemeral-storage, pods and the scalar resources. */
export function toResources(list: Map<string, number>): Resources {
  const r = emptyResources();
  for (const [name, v] of list) {
    switch (name) {
      case "cpu":
        r.milliCpu += v;
        break;
      case "memory":
        r.memory += v;
        break;
      case "ephemeral-storage":
        r.ephemeralStorage += v;
        break;
      case "pods":
        r.allowedPods += v;
        break;
      default:
        if (isScalarResourceName(name)) {
          r.scalar ??= new Map();
          r.scalar.set(name, (r.scalar.get(name) ?? 0) + v);
        }
    }
  }
  return r;
}

/** True when the pod requests nothing at all (upstream's early return in fitsRequest). */
export function requestsNothing(r: Resources): boolean {
  if (r.milliCpu !== 0 || r.memory !== 0 || r.ephemeralStorage !== 0) return false;
  return r.scalar === undefined || r.scalar.size === 0;
}
