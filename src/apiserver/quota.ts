/**
 * ResourceQuota usage evaluation and admission, as upstream's quota evaluators
 * (pkg/quota/v1/evaluator/core, k8s.io/apiserver/pkg/quota/v1/generic) and the ResourceQuota
 * admission plug-in (k8s.io/apiserver/pkg/admission/plugin/resourcequota).
 *
 * Everything here is pure: objects in, resource lists or an ApiError out. The resourcequota
 * controller uses `calculateUsage` to write status.used; admission uses `checkQuota`.
 */
import { Quantity, quantityFromJSON } from "../api/quantity.js";
import { claimClass } from "../api/storage.js";
import { isRecord, type KObject } from "../api/types.js";
import { keyPrefixFor } from "./catalog.js";
import { forbidden } from "./errors.js";
import type { WatchCache } from "./watchcache.js";

/** A resource list (corev1.ResourceList): resource name → quantity. */
export type ResourceList = Map<string, Quantity>;

/** One scope requirement of a quota (spec.scopes entries become `Exists` requirements). */
export interface ScopeRequirement {
  scopeName: string;
  /** In, NotIn, Exists or DoesNotExist. */
  operator: string;
  values?: string[];
}

/** Lists the objects of a resource in a namespace (storage version), e.g. from the watch cache. */
export type QuotaLister = (group: string, plural: string, namespace: string) => Iterable<KObject>;

export type QuotaOperation = "create" | "update";

/** What admission knows about the request's resource. */
export interface QuotaResourceInfo {
  /** API group of the resource ("" = core). */
  group: string;
  plural: string;
  /** The subresource written, "" (or absent) for the main resource. */
  subresource?: string;
}

/** An evaluator knows how one resource consumes quota. */
export interface QuotaEvaluator {
  readonly group: string;
  readonly plural: string;
  /** Whether an admission request for this resource can change quota usage. */
  handles(op: QuotaOperation, subresource: string, obj: KObject, old: KObject | undefined): boolean;
  /** The subset of `names` this evaluator accounts for. */
  matchingResources(names: readonly string[]): string[];
  /** Whether an object matches one scope requirement (false for resources without scopes). */
  matchesScope(req: ScopeRequirement, obj: KObject): boolean;
  /** The usage one object charges (`now` in ms, for pods past their deletion grace period). */
  usage(obj: KObject, now: number): ResourceList;
  /** Required-field violations for the given tracked resources, worded as upstream, or undefined. */
  constraints(required: readonly string[], obj: KObject): string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Resource list arithmetic (k8s.io/apiserver/pkg/quota/v1/resources.go)

const ZERO = Quantity.fromInt(0);
const ONE = Quantity.fromInt(1);

/** Sum of two lists (keys of either). Keeps the left quantity's format, as upstream Add. */
export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    out.set(k, cur ? cur.add(v) : v);
  }
  return out;
}

/** a - b per key, never below zero; keys only in b are zero (upstream SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of a) {
    const other = b.get(k);
    const q = other ? v.sub(other) : v;
    out.set(k, q.sign() > 0 ? q : ZERO);
  }
  for (const k of b.keys()) if (!out.has(k)) out.set(k, ZERO);
  return out;
}

/** Only the given keys. */
export function maskList(a: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const n of names) {
    const v = a.get(n);
    if (v) out.set(n, v);
  }
  return out;
}

/** Without zero quantities. */
export function removeZeros(a: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of a) if (!v.isZero()) out.set(k, v);
  return out;
}

/** Keys present in both lists with equal quantities, and no others (upstream quota.Equals). */
export function listsEqual(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (!o?.equals(v)) return false;
  }
  return true;
}

/** Names whose quantity in a is greater than in b (names absent from b are not limited). */
export function exceededNames(a: ResourceList, b: ResourceList): string[] {
  const out: string[] = [];
  for (const [k, v] of a) {
    const lim = b.get(k);
    if (lim && v.cmp(lim) > 0) out.push(k);
  }
  return out;
}

/** "a=1,b=2Gi", sorted by name (upstream prettyPrint). */
export function prettyPrint(a: ResourceList): string {
  return [...a.keys()]
    .sort(byCodeUnit)
    .map((k) => `${k}=${String(a.get(k))}`)
    .join(",");
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A ResourceList from JSON ({"cpu": "1", ...}); unparsable values are skipped. */
export function parseResourceList(v: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (!isRecord(v)) return out;
  for (const [k, raw] of Object.entries(v)) {
    try {
      out.set(k, quantityFromJSON(raw));
    } catch {
      // validation rejects these on write; a stored bad value counts as absent
    }
  }
  return out;
}

/** The JSON form of a list, keys sorted as Go's encoder sorts map keys. */
export function resourceListToJSON(a: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...a.keys()].sort(byCodeUnit)) out[k] = String(a.get(k));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small readers

function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

function records(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** The object-count resource name of a resource: count/pods, count/deployments.apps. */
export function objectCountName(group: string, plural: string): string {
  return group === "" ? `count/${plural}` : `count/${plural}.${group}`;
}

/** Parses "count/<plural>[.<group>]" into its resource, or undefined. */
export function parseObjectCountName(name: string): { group: string; plural: string } | undefined {
  if (!name.startsWith("count/")) return undefined;
  const rest = name.slice("count/".length);
  if (rest === "") return undefined;
  const dot = rest.indexOf(".");
  return dot < 0 ? { group: "", plural: rest } : { group: rest.slice(dot + 1), plural: rest.slice(0, dot) };
}

/** A quota's scope requirements: spec.scopes (as Exists) then spec.scopeSelector.matchExpressions. */
export function quotaScopes(quota: KObject): ScopeRequirement[] {
  const spec = rec(quota["spec"]);
  const out: ScopeRequirement[] = [];
  if (Array.isArray(spec["scopes"])) {
    for (const s of spec["scopes"]) if (typeof s === "string") out.push({ scopeName: s, operator: "Exists" });
  }
  for (const e of records(rec(spec["scopeSelector"])["matchExpressions"])) {
    out.push({
      scopeName: String(e["scopeName"] ?? ""),
      operator: String(e["operator"] ?? ""),
      values: Array.isArray(e["values"]) ? e["values"].map(String) : [],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pods (pkg/quota/v1/evaluator/core/pods.go)

const POD_RESOURCES = [
  "count/pods",
  "cpu",
  "memory",
  "ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "pods",
];

/** Quota on these makes every container state them (a backward-compatibility rule upstream keeps). */
const VALIDATION_SET = new Set(["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]);

function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

function isExtendedResourceName(name: string): boolean {
  return !isNativeResource(name) && !name.startsWith("requests.");
}

function isExtendedResourceNameForQuota(name: string): boolean {
  return !isNativeResource(name) && name.startsWith("requests.");
}

/** Compute usage of one set of requests and limits (upstream podComputeUsageHelper). */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([["pods", ONE]]);
  for (const name of ["cpu", "memory", "ephemeral-storage"]) {
    const req = requests.get(name);
    if (req) {
      out.set(name, req);
      out.set(`requests.${name}`, req);
    }
    const lim = limits.get(name);
    if (lim) out.set(`limits.${name}`, lim);
  }
  for (const [name, req] of requests) {
    if (name.startsWith("hugepages-")) {
      out.set(name, req);
      out.set(`requests.${name}`, req);
    }
    if (isExtendedResourceName(name)) out.set(`requests.${name}`, req);
  }
  return out;
}

function maxInto(into: ResourceList, other: ResourceList): void {
  for (const [k, v] of other) {
    const cur = into.get(k);
    if (!cur || v.cmp(cur) > 0) into.set(k, v);
  }
}

/**
 * A pod's effective requests or limits (upstream resourcehelper.PodRequests / PodLimits): the sum
 * over containers and restartable (sidecar) init containers, at least the largest init container
 * (plus the sidecars started before it), pod-level resources where set, then the pod overhead
 * (for limits only where a limit exists).
 */
export function podResources(pod: KObject, key: "requests" | "limits"): ResourceList {
  const spec = rec(pod["spec"]);
  let total: ResourceList = new Map();
  for (const c of records(spec["containers"])) total = addLists(total, parseResourceList(rec(c["resources"])[key]));
  let sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of records(spec["initContainers"])) {
    const own = parseResourceList(rec(c["resources"])[key]);
    if (c["restartPolicy"] === "Always") {
      total = addLists(total, own);
      sidecars = addLists(sidecars, own);
      maxInto(initMax, sidecars);
    } else {
      maxInto(initMax, addLists(own, sidecars));
    }
  }
  maxInto(total, initMax);
  const podLevel = parseResourceList(rec(spec["resources"])[key]);
  for (const [k, v] of podLevel) {
    if (k === "cpu" || k === "memory" || k.startsWith("hugepages-")) total.set(k, v);
  }
  const overhead = parseResourceList(spec["overhead"]);
  for (const [k, v] of overhead) {
    const cur = total.get(k);
    if (key === "requests") total.set(k, cur ? cur.add(v) : v);
    else if (cur) total.set(k, cur.add(v));
  }
  return total;
}

/**
 * Whether a pod is charged for compute resources: not in a terminal phase, and not marked for
 * deletion with its grace period over (upstream QuotaV1Pod). `now` in ms.
 */
export function podChargesCompute(pod: KObject, now: number): boolean {
  const phase = rec(pod["status"])["phase"];
  if (phase === "Succeeded" || phase === "Failed") return false;
  const ts = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (ts !== undefined && typeof grace === "number") {
    const deadline = Date.parse(ts) + grace * 1000;
    if (now > deadline) return false;
  }
  return true;
}

/** When a deleted pod stops being charged (ms), if it is being deleted with a grace period. */
export function podChargeEndsAt(pod: KObject): number | undefined {
  const ts = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (ts === undefined || typeof grace !== "number") return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t + grace * 1000;
}

function positive(v: unknown): boolean {
  if (v === undefined) return false;
  try {
    return quantityFromJSON(v).sign() > 0;
  } catch {
    return false;
  }
}

/** BestEffort QoS: status.qosClass when set, else no cpu/memory request or limit anywhere. */
export function podIsBestEffort(pod: KObject): boolean {
  const qos = rec(pod["status"])["qosClass"];
  if (typeof qos === "string" && qos !== "") return qos === "BestEffort";
  const spec = rec(pod["spec"]);
  const lists = [rec(spec["resources"])];
  for (const c of [...records(spec["containers"]), ...records(spec["initContainers"])]) lists.push(rec(c["resources"]));
  for (const r of lists) {
    for (const key of ["requests", "limits"]) {
      const l = rec(r[key]);
      if (positive(l["cpu"]) || positive(l["memory"])) return false;
    }
  }
  return true;
}

function podIsTerminating(pod: KObject): boolean {
  const ads = rec(pod["spec"])["activeDeadlineSeconds"];
  return typeof ads === "number" && ads >= 0;
}

function crossNamespaceTerms(terms: unknown, weighted: boolean): boolean {
  for (const t of records(terms)) {
    const term = weighted ? rec(t["podAffinityTerm"]) : t;
    const ns = term["namespaces"];
    if ((Array.isArray(ns) && ns.length > 0) || isRecord(term["namespaceSelector"])) return true;
  }
  return false;
}

function usesCrossNamespacePodAffinity(pod: KObject): boolean {
  const affinity = rec(rec(pod["spec"])["affinity"]);
  for (const key of ["podAffinity", "podAntiAffinity"]) {
    const a = affinity[key];
    if (!isRecord(a)) continue;
    if (crossNamespaceTerms(a["requiredDuringSchedulingIgnoredDuringExecution"], false)) return true;
    if (crossNamespaceTerms(a["preferredDuringSchedulingIgnoredDuringExecution"], true)) return true;
  }
  return false;
}

/** A scope selector requirement against a single-label set, as a label selector would match it. */
function selectorMatches(req: ScopeRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    default:
      return false;
  }
}

function podMatchesScope(req: ScopeRequirement, pod: KObject): boolean {
  switch (req.scopeName) {
    case "Terminating":
      return podIsTerminating(pod);
    case "NotTerminating":
      return !podIsTerminating(pod);
    case "BestEffort":
      return podIsBestEffort(pod);
    case "NotBestEffort":
      return !podIsBestEffort(pod);
    case "PriorityClass": {
      const pc = rec(pod["spec"])["priorityClassName"];
      return selectorMatches(req, typeof pc === "string" && pc !== "" ? pc : undefined);
    }
    case "CrossNamespacePodAffinity":
      return usesCrossNamespacePodAffinity(pod);
    default:
      return false;
  }
}

function containerUsageNames(c: Record<string, unknown>): Set<string> {
  const r = rec(c["resources"]);
  return new Set(computeUsage(parseResourceList(r["requests"]), parseResourceList(r["limits"])).keys());
}

export const podEvaluator: QuotaEvaluator = {
  group: "",
  plural: "pods",
  handles(op, subresource) {
    if (subresource !== "" && subresource !== "resize") return false;
    return op === "create" || (subresource === "resize" && op === "update");
  },
  matchingResources(names) {
    return names.filter(
      (n) =>
        POD_RESOURCES.includes(n) ||
        n.startsWith("hugepages-") ||
        n.startsWith("requests.hugepages-") ||
        isExtendedResourceNameForQuota(n),
    );
  },
  matchesScope: podMatchesScope,
  usage(pod, now) {
    const out: ResourceList = new Map([["count/pods", ONE]]);
    if (!podChargesCompute(pod, now)) return out;
    return addLists(out, computeUsage(podResources(pod, "requests"), podResources(pod, "limits")));
  },
  constraints(required, pod) {
    const req = required.filter((r) => VALIDATION_SET.has(r));
    if (req.length === 0) return undefined;
    const spec = rec(pod["spec"]);
    const missing = new Map<string, Set<string>>();
    for (const c of [...records(spec["containers"]), ...records(spec["initContainers"])]) {
      const have = containerUsageNames(c);
      for (const r of req) {
        if (have.has(r)) continue;
        let names = missing.get(r);
        if (!names) {
          names = new Set();
          missing.set(r, names);
        }
        names.add(String(c["name"] ?? ""));
      }
    }
    if (missing.size === 0) return undefined;
    const parts = [...missing.keys()]
      .sort(byCodeUnit)
      .map((r) => `${r} for: ${[...(missing.get(r) ?? [])].sort(byCodeUnit).join(",")}`);
    return `must specify ${parts.join("; ")}`;
  },
};

// ---------------------------------------------------------------------------------------------
// Services (pkg/quota/v1/evaluator/core/services.go)

const SERVICE_RESOURCES = ["count/services", "services", "services.nodeports", "services.loadbalancers"];

export const serviceEvaluator: QuotaEvaluator = {
  group: "",
  plural: "services",
  handles: (op) => op === "create" || op === "update",
  matchingResources: (names) => names.filter((n) => SERVICE_RESOURCES.includes(n)),
  matchesScope: () => false,
  usage(svc) {
    const spec = rec(svc["spec"]);
    const ports = records(spec["ports"]);
    const out: ResourceList = new Map([
      ["count/services", ONE],
      ["services", ONE],
      ["services.loadbalancers", ZERO],
      ["services.nodeports", ZERO],
    ]);
    if (spec["type"] === "NodePort") {
      out.set("services.nodeports", Quantity.fromInt(ports.length));
    } else if (spec["type"] === "LoadBalancer") {
      const n =
        spec["allocateLoadBalancerNodePorts"] === false
          ? ports.filter((p) => typeof p["nodePort"] === "number" && p["nodePort"] !== 0).length
          : ports.length;
      out.set("services.nodeports", Quantity.fromInt(n));
      out.set("services.loadbalancers", ONE);
    }
    return out;
  },
  constraints: () => undefined,
};

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaims (pkg/quota/v1/evaluator/core/persistent_volume_claims.go)

const STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/";
const PVC_RESOURCES = ["persistentvolumeclaims", "requests.storage"];

/** Rounded up to whole units (bytes), as upstream RoundUp(0). */
function roundUpWhole(q: Quantity): Quantity {
  return new Quantity(q.value() * 1_000_000_000n, q.format);
}

function pvcStorage(pvc: KObject): Quantity | undefined {
  const req = parseResourceList(rec(rec(pvc["spec"])["resources"])["requests"]).get("storage");
  if (!req) return undefined;
  let out = roundUpWhole(req);
  const allocated = parseResourceList(rec(pvc["status"])["allocatedResources"]).get("storage");
  if (allocated && allocated.cmp(out) > 0) out = roundUpWhole(allocated);
  return out;
}

export const pvcEvaluator: QuotaEvaluator = {
  group: "",
  plural: "persistentvolumeclaims",
  handles(op, subresource, obj, old) {
    if (subresource === "") return op === "create" || op === "update";
    if (subresource === "status" && old) {
      const a = parseResourceList(rec(obj["status"])["allocatedResources"]).get("storage");
      const b = parseResourceList(rec(old["status"])["allocatedResources"]).get("storage");
      return !(a === undefined ? b === undefined : b !== undefined && a.equals(b));
    }
    return false;
  },
  matchingResources(names) {
    return names.filter(
      (n) =>
        n === "count/persistentvolumeclaims" ||
        PVC_RESOURCES.includes(n) ||
        PVC_RESOURCES.some((r) => n.endsWith(STORAGE_CLASS_SUFFIX + r)),
    );
  },
  matchesScope: () => false,
  usage(pvc) {
    const out: ResourceList = new Map([
      ["persistentvolumeclaims", ONE],
      ["count/persistentvolumeclaims", ONE],
    ]);
    const sc = claimClass(pvc);
    if (sc !== "") out.set(`${sc}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, ONE);
    const storage = pvcStorage(pvc);
    if (storage) {
      out.set("requests.storage", storage);
      if (sc !== "") out.set(`${sc}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
    }
    return out;
  },
  constraints: () => undefined,
};

// ---------------------------------------------------------------------------------------------
// Object counts (generic.NewObjectCountEvaluator)

/** Counts objects of a resource as count/<plural>[.<group>], plus a legacy alias ("configmaps"). */
export function objectCountEvaluator(group: string, plural: string, alias?: string): QuotaEvaluator {
  const names = alias ? [objectCountName(group, plural), alias] : [objectCountName(group, plural)];
  return {
    group,
    plural,
    handles: (op) => op === "create",
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    matchesScope: () => false,
    usage: () => new Map(names.map((n) => [n, ONE])),
    constraints: () => undefined,
  };
}

/** The core evaluators (upstream's quota registry): the resources the quota controller watches. */
export const builtinEvaluators: readonly QuotaEvaluator[] = [
  podEvaluator,
  serviceEvaluator,
  pvcEvaluator,
  objectCountEvaluator("", "configmaps", "configmaps"),
  objectCountEvaluator("", "resourcequotas", "resourcequotas"),
  objectCountEvaluator("", "replicationcontrollers", "replicationcontrollers"),
  objectCountEvaluator("", "secrets", "secrets"),
];

/** Resources quota admission never looks at (upstream's DefaultIgnoredResources). */
const IGNORED = new Set(["/events"]);

/** The evaluator for a resource: a core one, or an object counter. */
export function evaluatorFor(group: string, plural: string): QuotaEvaluator {
  return builtinEvaluators.find((e) => e.group === group && e.plural === plural) ?? objectCountEvaluator(group, plural);
}

/** The evaluators a quota needs: the core ones plus an object counter for each other count/<r>.<g>. */
export function evaluatorsForQuota(hardNames: readonly string[]): QuotaEvaluator[] {
  const out = [...builtinEvaluators];
  for (const n of hardNames) {
    const gr = parseObjectCountName(n);
    if (!gr || out.some((e) => e.group === gr.group && e.plural === gr.plural)) continue;
    out.push(objectCountEvaluator(gr.group, gr.plural));
  }
  return out;
}

function matchesScopes(ev: QuotaEvaluator, scopes: readonly ScopeRequirement[], obj: KObject): boolean {
  return scopes.every((s) => ev.matchesScope(s, obj));
}

/**
 * Observed usage for a quota (upstream quota.CalculateUsage): for every evaluator that tracks one
 * of the hard resources, the sum over the namespace's objects that match the quota's scopes, each
 * tracked resource starting at zero; masked to the tracked hard resources.
 */
export function calculateUsage(quota: KObject, list: QuotaLister, now: number = Date.now()): ResourceList {
  const namespace = quota.metadata.namespace ?? "";
  const hardNames = [...parseResourceList(rec(quota["spec"])["hard"]).keys()];
  const scopes = quotaScopes(quota);
  const evaluators = evaluatorsForQuota(hardNames);
  let used: ResourceList = new Map();
  const matched = new Set<string>();
  for (const ev of evaluators) {
    const names = ev.matchingResources(hardNames);
    if (names.length === 0) continue;
    for (const n of names) matched.add(n);
    let stats: ResourceList = new Map(names.map((n) => [n, ZERO]));
    for (const obj of list(ev.group, ev.plural, namespace)) {
      if (!matchesScopes(ev, scopes, obj)) continue;
      stats = addLists(stats, ev.usage(obj, now));
    }
    used = addLists(used, stats);
  }
  return maskList(used, matched);
}

/**
 * The status a quota should have: hard = spec.hard; used = the observed usage, keeping earlier
 * observations for hard resources no evaluator tracks; only hard resources (upstream
 * syncResourceQuota). Returns the JSON status.
 */
export function quotaStatus(
  quota: KObject,
  list: QuotaLister,
  now: number = Date.now(),
): { hard: Record<string, string>; used: Record<string, string> } {
  const hard = parseResourceList(rec(quota["spec"])["hard"]);
  const used = addLists(new Map(), parseResourceList(rec(quota["status"])["used"]));
  for (const [k, v] of calculateUsage(quota, list, now)) used.set(k, v);
  return { hard: resourceListToJSON(hard), used: resourceListToJSON(maskList(used, hard.keys())) };
}

/** Whether a quota's status already says `want` (quantities compared by value). */
export function quotaStatusEqual(
  quota: KObject,
  want: { hard: Record<string, string>; used: Record<string, string> },
): boolean {
  const status = rec(quota["status"]);
  return (
    listsEqual(parseResourceList(status["hard"]), parseResourceList(want.hard)) &&
    listsEqual(parseResourceList(status["used"]), parseResourceList(want.used))
  );
}

// ---------------------------------------------------------------------------------------------
// Admission (k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go, CheckRequest)

export interface CheckQuotaOptions {
  /**
   * How current usage is known. A lister: usage is recomputed from the namespace's objects (the
   * watch cache), so a quota the controller has not synced yet still applies. Absent: usage is the
   * quota's status.used, as upstream's admission reads it (a quota without it for a tracked
   * resource refuses with "status unknown for quota").
   */
  lister?: QuotaLister;
  /** ms; for pods past their deletion grace period. Default Date.now(). */
  now?: number;
}

/**
 * Refuses (throws the upstream 403 Forbidden ApiError) a create/update that would take the
 * namespace over any of `quotas`' hard limits, or that lacks the cpu/memory requests or limits a
 * quota requires. `quotas`: the ResourceQuotas of the object's namespace. Returns normally when
 * the request is within quota or quota does not apply.
 */
export function checkQuota(
  op: QuotaOperation,
  info: QuotaResourceInfo,
  obj: KObject,
  old: KObject | undefined,
  quotas: readonly KObject[],
  opts: CheckQuotaOptions = {},
): void {
  const namespace = obj.metadata.namespace ?? old?.metadata.namespace ?? "";
  if (namespace === "" || quotas.length === 0) return;
  if (IGNORED.has(`${info.group}/${info.plural}`)) return;
  const subresource = info.subresource ?? "";
  const ev = evaluatorFor(info.group, info.plural);
  if (!ev.handles(op, subresource, obj, old)) return;
  const now = opts.now ?? Date.now();
  const name = obj.metadata.name ?? "";
  const refuse = (why: string) => forbidden(info.group, info.plural, name, why);

  const interesting: Array<{ quota: KObject; hard: ResourceList; used: ResourceList }> = [];
  for (const quota of quotas) {
    if ((quota.metadata.namespace ?? namespace) !== namespace) continue;
    const scopes = quotaScopes(quota);
    // upstream matches against status.hard; the spec is what status.hard becomes, so a quota the
    // controller has not synced yet applies at once in the recomputing mode
    const hard = parseResourceList(rec(opts.lister ? quota["spec"] : quota["status"])["hard"]);
    const restricted = ev.matchingResources([...hard.keys()]);
    if (restricted.length === 0 || !matchesScopes(ev, scopes, obj)) continue;
    const quotaName = quota.metadata.name ?? "";
    const violation = ev.constraints(restricted, obj);
    if (violation !== undefined) throw refuse(`failed quota: ${quotaName}: ${violation}`);
    let used: ResourceList;
    if (opts.lister) {
      used = calculateUsage(quota, opts.lister, now);
    } else {
      used = parseResourceList(rec(quota["status"])["used"]);
      const missing = restricted.filter((r) => !used.has(r));
      if (missing.length > 0) {
        throw refuse(
          `status unknown for quota: ${quotaName}, resources: ${[...restricted].sort(byCodeUnit).join(",")}`,
        );
      }
    }
    interesting.push({ quota, hard, used });
  }
  if (interesting.length === 0) return;

  const input = ev.usage(obj, now);
  const negative = [...input].filter(([, q]) => q.sign() < 0).map(([k]) => k);
  if (negative.length > 0) {
    throw refuse(`quota usage is negative for resource(s): ${negative.sort(byCodeUnit).join(",")}`);
  }
  let prevUsage: ResourceList | undefined;
  if (op === "update" && old && old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion !== "") {
    prevUsage = ev.usage(old, now);
  }
  for (const { quota, hard, used } of interesting) {
    // on update only the growth is charged, when the old object counted against this quota
    const charged =
      prevUsage && old && matchesScopes(ev, quotaScopes(quota), old) ? subtractNonNegative(input, prevUsage) : input;
    const delta = removeZeros(charged);
    if (delta.size === 0) continue;
    const requested = maskList(delta, hard.keys());
    if (subresource === "status") continue;
    const newUsage = maskList(addLists(used, requested), requested.keys());
    const exceeded = exceededNames(newUsage, hard);
    if (exceeded.length > 0) {
      throw refuse(
        `exceeded quota: ${quota.metadata.name ?? ""}, requested: ${prettyPrint(maskList(requested, exceeded))}, ` +
          `used: ${prettyPrint(maskList(used, exceeded))}, limited: ${prettyPrint(maskList(hard, exceeded))}`,
      );
    }
  }
}

/**
 * A lister over the watch cache (objects in their storage version). `prefixFor` maps a resource
 * to its store key prefix; by default /registry/<group|core>/<plural>/.
 */
export function cacheQuotaLister(
  cache: WatchCache,
  prefixFor: (group: string, plural: string) => string = keyPrefixFor,
): QuotaLister {
  return (group, plural, namespace) => {
    const rc = cache.resource(prefixFor(group, plural));
    return rc.list(`${namespace}/`).map((c) => c.obj);
  };
}

/**
 * The admission hook BuiltinAdmission calls after validation: the namespace's ResourceQuotas from
 * the watch cache, usage recomputed from the cache. Throws the upstream Forbidden ApiError.
 */
export function admitQuota(
  cache: WatchCache,
  op: QuotaOperation,
  info: QuotaResourceInfo,
  obj: KObject,
  old: KObject | undefined,
): void {
  const namespace = obj.metadata.namespace ?? "";
  if (namespace === "") return;
  const quotas = cache
    .resource("/registry/core/resourcequotas/")
    .list(`${namespace}/`)
    .map((c) => c.obj);
  if (quotas.length === 0) return;
  checkQuota(op, info, obj, old, quotas, { lister: cacheQuotaLister(cache) });
}
