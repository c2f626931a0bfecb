/**
 * Admission: defaulting, mutating plug-ins (service IP allocation), then validation. Runs on every
 * create and update, from HTTP and from in-process clients alike.
 */
import { applyDefaults } from "../api/defaults/index.js";
import { isRecord, type KObject } from "../api/types.js";
import { invalidMessage, validateObject } from "../api/validation/index.js";
import type { ServedVersion } from "./catalog.js";
import { forbidden, invalid } from "./errors.js";
import { admitQuota } from "./quota.js";
import { admitPodServiceAccount } from "./serviceaccount-admission.js";
import { mutateStorage, validateClaimResize } from "./storage-admission.js";
import type { WatchCache } from "./watchcache.js";

export type Operation = "create" | "update";

export interface Admission {
  admit(
    op: Operation,
    sv: ServedVersion,
    obj: KObject,
    old: KObject | undefined,
    opts: { dryRun: boolean },
  ): Promise<void>;
}

export interface AdmissionOptions {
  /** Service cluster IP range, as a /16 or /24 base (default 10.43.0.0/16, as k3s). */
  serviceCIDR: string;
  /** NodePort range (default 30000-32767). */
  nodePortRange: [number, number];
}

export const defaultAdmissionOptions: AdmissionOptions = {
  serviceCIDR: "10.43.0.0/16",
  nodePortRange: [30000, 32767],
};

function ipToInt(ip: string): number {
  return ip.split(".").reduce((a, b) => a * 256 + Number(b), 0);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * The DefaultTolerationSeconds plugin: pods tolerate not-ready and unreachable nodes for 300 s
 * unless they say otherwise.
 */
function addDefaultTolerations(pod: KObject): void {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const tolerations = Array.isArray(spec["tolerations"]) ? spec["tolerations"].filter(isRecord) : [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const covered = tolerations.some(
      (t) =>
        (t["effect"] === "NoExecute" || t["effect"] === undefined || t["effect"] === "") &&
        ((t["operator"] === "Exists" && (t["key"] === undefined || t["key"] === "" || t["key"] === key)) ||
          t["key"] === key),
    );
    if (!covered) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  spec["tolerations"] = tolerations;
}

/** The first usable IP of a service range: the `kubernetes` service's address. */
export function firstServiceIP(serviceCIDR: string): string {
  const [base] = serviceCIDR.split("/");
  return intToIp(ipToInt(base ?? "10.43.0.0") + 1);
}

export class BuiltinAdmission implements Admission {
  private readonly cache: WatchCache;
  private readonly opts: AdmissionOptions;

  constructor(cache: WatchCache, opts: AdmissionOptions = defaultAdmissionOptions) {
    this.cache = cache;
    this.opts = opts;
  }

  async admit(op: Operation, sv: ServedVersion, obj: KObject, old: KObject | undefined): Promise<void> {
    const group = sv.storageGroup;
    const kind = sv.def.kind;
    if (!sv.crd) applyDefaults(group, kind, obj);
    if (group === "" && kind === "Service") this.allocateService(obj, old);
    if (group === "" && kind === "Pod" && op === "create") {
      const sas = "/registry/core/serviceaccounts/";
      await admitPodServiceAccount(obj, (ns, name) => this.cache.resource(sas).items.get(`${sas}${ns}/${name}`)?.obj);
      this.admitPriority(obj);
      addDefaultTolerations(obj);
    }
    if (group === "" && op === "create") mutateStorage(this.cache, kind, obj);
    const quotaInfo = { group: sv.def.group, plural: sv.def.plural };
    if (sv.crd) {
      admitQuota(this.cache, op, quotaInfo, obj, old);
      return;
    }
    const errs = validateObject(group, kind, obj, op === "update" ? old : undefined);
    if (errs.length > 0) {
      const name = obj.metadata.name ?? "";
      throw invalid(kind, group, name, errs, invalidMessage(kind, group, name, errs));
    }
    if (group === "" && kind === "PersistentVolumeClaim" && op === "update" && old) {
      validateClaimResize(this.cache, obj, old);
    }
    // ResourceQuota admission: usage recomputed from the cache (dry runs are checked too)
    admitQuota(this.cache, op, quotaInfo, obj, old);
  }

  /**
   * The Priority admission plugin: a pod's priorityClassName (or the global default class) sets
   * spec.priority and preemptionPolicy; a class that does not exist is refused.
   */
  private admitPriority(pod: KObject): void {
    const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
    pod["spec"] = spec;
    const classes = this.cache.resource("/registry/scheduling.k8s.io/priorityclasses/").items;
    const name = typeof spec["priorityClassName"] === "string" ? spec["priorityClassName"] : "";
    let pc: KObject | undefined;
    if (name !== "") {
      pc = classes.get(`/registry/scheduling.k8s.io/priorityclasses/${name}`)?.obj;
      if (!pc) {
        throw forbidden("", "pods", pod.metadata.name ?? "", `no PriorityClass with name ${name} was found`);
      }
    } else {
      for (const c of classes.values()) if (c.obj["globalDefault"] === true) pc = c.obj;
    }
    const value = pc && typeof pc["value"] === "number" ? pc["value"] : 0;
    if (spec["priority"] !== undefined && spec["priority"] !== value) {
      throw forbidden(
        "",
        "pods",
        pod.metadata.name ?? "",
        "the integer value of priority (" +
          String(spec["priority"]) +
          ") must not be provided in pod spec; priority admission controller computed " +
          String(value) +
          " from the given PriorityClass name",
      );
    }
    spec["priority"] = value;
    if (pc && name === "" && typeof pc.metadata.name === "string") spec["priorityClassName"] = pc.metadata.name;
    spec["preemptionPolicy"] ??= (pc?.["preemptionPolicy"] as string | undefined) ?? "PreemptLowerPriority";
  }

  /** ClusterIP and NodePort allocation (upstream's service registry allocators), from the cache. */
  private allocateService(svc: KObject, old: KObject | undefined): void {
    const spec = isRecord(svc["spec"]) ? svc["spec"] : {};
    svc["spec"] = spec;
    const oldSpec = old && isRecord(old["spec"]) ? old["spec"] : undefined;
    const type = String(spec["type"] ?? "ClusterIP");
    const services = this.cache.resource("/registry/core/services/").items;
    if (type !== "ExternalName") {
      if (oldSpec?.["clusterIP"] && spec["clusterIP"] === undefined) spec["clusterIP"] = oldSpec["clusterIP"];
      if (spec["clusterIP"] === undefined || spec["clusterIP"] === "") {
        const used = new Set<string>();
        for (const c of services.values()) {
          const s = c.obj["spec"];
          if (isRecord(s) && typeof s["clusterIP"] === "string") used.add(s["clusterIP"]);
        }
        const [base, bitsText] = this.opts.serviceCIDR.split("/");
        const size = 2 ** (32 - Number(bitsText ?? "16"));
        const start = ipToInt(base ?? "10.43.0.0");
        // random probing as upstream's allocator does, skipping network and broadcast
        for (let tries = 0; tries < size; tries++) {
          const offset = 2 + Math.floor(Math.random() * (size - 3));
          const ip = intToIp(start + offset);
          if (!used.has(ip)) {
            spec["clusterIP"] = ip;
            break;
          }
        }
      }
      if (spec["clusterIP"] !== "None") {
        spec["clusterIPs"] ??= [spec["clusterIP"]];
      } else {
        spec["clusterIPs"] ??= ["None"];
      }
      spec["ipFamilies"] ??= ["IPv4"];
      spec["ipFamilyPolicy"] ??= "SingleStack";
    }
    if (type === "NodePort" || type === "LoadBalancer") {
      const used = new Set<number>();
      for (const c of services.values()) {
        const s = c.obj["spec"];
        if (!isRecord(s) || !Array.isArray(s["ports"])) continue;
        for (const p of s["ports"]) if (isRecord(p) && typeof p["nodePort"] === "number") used.add(p["nodePort"]);
      }
      const oldPorts = oldSpec && Array.isArray(oldSpec["ports"]) ? oldSpec["ports"].filter(isRecord) : [];
      const ports = Array.isArray(spec["ports"]) ? spec["ports"].filter(isRecord) : [];
      const [lo, hi] = this.opts.nodePortRange;
      for (const p of ports) {
        if (typeof p["nodePort"] === "number" && p["nodePort"] !== 0) continue;
        const prev = oldPorts.find((o) => o["port"] === p["port"] && typeof o["nodePort"] === "number");
        if (prev) {
          p["nodePort"] = prev["nodePort"];
          continue;
        }
        for (let tries = 0; tries < hi - lo + 1; tries++) {
          const n = lo + Math.floor(Math.random() * (hi - lo + 1));
          if (!used.has(n)) {
            p["nodePort"] = n;
            used.add(n);
            break;
          }
        }
      }
    }
  }
}
