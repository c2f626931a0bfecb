/** Pod and pod template validation (pkg/apis/core/validation: ValidatePodSpec, containers, volumes, resources). */

import { QUANTITY_FORMAT_ERROR, Quantity } from "../quantity.js";
import { child, type FieldError, fe, index, key } from "./field.js";
import { arr, clone, type Json, jsonEqual, rec, recOrUndef, str } from "./json.js";
import { validateAnnotations, validateLabels } from "./meta.js";
import {
  IS_NEGATIVE_ERROR,
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
} from "./names.js";

export const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;
const PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"];
const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];

/** Volume source fields of a pod volume, in the order upstream checks them. */
const VOLUME_SOURCES = [
  "emptyDir",
  "hostPath",
  "gitRepo",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "secret",
  "nfs",
  "iscsi",
  "glusterfs",
  "flocker",
  "persistentVolumeClaim",
  "rbd",
  "flexVolume",
  "cinder",
  "cephfs",
  "downwardAPI",
  "fc",
  "azureFile",
  "configMap",
  "vsphereVolume",
  "quobyte",
  "azureDisk",
  "photonPersistentDisk",
  "projected",
  "portworxVolume",
  "scaleIO",
  "storageos",
  "csi",
  "ephemeral",
  "image",
];

function dns1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((m) => fe.invalid(path, value, m));
}

function validateVolumeSource(vol: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const src of VOLUME_SOURCES) {
    const v = vol[src];
    if (v === undefined || v === null) continue;
    const p = child(path, src);
    if (n > 0) {
      errs.push(fe.forbidden(p, "may not specify more than 1 volume type"));
      continue;
    }
    n++;
    const s = rec(v);
    switch (src) {
      case "hostPath":
        if (str(s["path"]) === "") errs.push(fe.required(child(p, "path")));
        break;
      case "secret":
        if (str(s["secretName"]) === "") errs.push(fe.required(child(p, "secretName")));
        break;
      case "configMap":
        if (str(s["name"]) === "") errs.push(fe.required(child(p, "name")));
        break;
      case "persistentVolumeClaim":
        if (str(s["claimName"]) === "") errs.push(fe.required(child(p, "claimName")));
        break;
      case "nfs":
        if (str(s["server"]) === "") errs.push(fe.required(child(p, "server")));
        if (str(s["path"]) === "") errs.push(fe.required(child(p, "path")));
        else if (!str(s["path"]).startsWith("/"))
          errs.push(fe.invalid(child(p, "path"), str(s["path"]), "must be an absolute path"));
        break;
      case "emptyDir": {
        const limit = s["sizeLimit"];
        if (typeof limit === "string" || typeof limit === "number") {
          const q = Quantity.tryParse(String(limit));
          if (q && q.sign() < 0)
            errs.push(fe.forbidden(child(p, "sizeLimit"), "SizeLimit field must be a valid resource quantity"));
        }
        break;
      }
    }
  }
  if (n === 0) errs.push(fe.required(path, "must specify a volume type"));
  return errs;
}

/** ValidateVolumes: returns the errors and the names of the volumes that validated. */
function validateVolumes(volumes: unknown, path: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(volumes).forEach((raw, i) => {
    const vol = rec(raw);
    const p = index(path, i);
    const name = str(vol["name"]);
    const el = validateVolumeSource(vol, p);
    if (name === "") el.push(fe.required(child(p, "name")));
    else el.push(...dns1123Label(name, child(p, "name")));
    if (names.has(name)) el.push(fe.duplicate(child(p, "name"), name));
    if (el.length === 0) names.add(name);
    else errs.push(...el);
  });
  return { errs, names };
}

const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);
const STANDARD_RESOURCES = new Set([
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
  "services",
  "replicationcontrollers",
  "resourcequotas",
  "secrets",
  "persistentvolumeclaims",
  "configmaps",
  "storage",
  "requests.storage",
  "services.nodeports",
  "services.loadbalancers",
]);

function isHugePages(name: string): boolean {
  return (
    name.startsWith("hugepages-") || name.startsWith("requests.hugepages-") || name.startsWith("limits.hugepages-")
  );
}

function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith("requests.")) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePages(name);
}

/** Standard resource names (helper.IsStandardResourceName). */
export function isStandardResourceName(name: string): boolean {
  return STANDARD_RESOURCES.has(name) || isHugePages(name);
}

function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fe.invalid(path, name, m));
  if (errs.length > 0) return errs;
  if (!name.includes("/") && !isStandardResourceName(name))
    errs.push(fe.invalid(path, name, "must be a standard resource type or fully qualified"));
  return errs;
}

function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes("/")) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith("hugepages-"))
      errs.push(fe.invalid(path, name, "must be a standard resource for containers"));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(fe.invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

const INTEGER_RESOURCES = new Set([
  "pods",
  "services",
  "replicationcontrollers",
  "resourcequotas",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "services.nodeports",
  "services.loadbalancers",
]);

/** Parses a quantity field; an unparseable one yields the decoder's message as a field error. */
export function parseQuantityField(v: unknown, path: string, errs: FieldError[]): Quantity | undefined {
  if (typeof v !== "string" && typeof v !== "number") {
    errs.push(fe.invalid(path, v ?? null, QUANTITY_FORMAT_ERROR));
    return undefined;
  }
  const q = Quantity.tryParse(typeof v === "number" ? String(v) : v.trim());
  if (!q) errs.push(fe.invalid(path, v, QUANTITY_FORMAT_ERROR));
  return q;
}

/** ValidateResourceQuantityValue: non-negative, and whole for integer resources. */
export function validateResourceQuantityValue(resource: string, q: Quantity, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (q.sign() < 0) errs.push(fe.invalid(path, q.toString(), IS_NEGATIVE_ERROR));
  if (
    (INTEGER_RESOURCES.has(resource) || resource.startsWith("count/") || isExtendedResourceName(resource)) &&
    q.milliValue() % 1000n !== 0n
  )
    errs.push(fe.invalid(path, q.toString(), "must be an integer"));
  return errs;
}

/** Container resources: names, quantities, requests ≤ limits, extended resources requests == limits. */
export function validateResourceRequirements(resources: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = rec(resources);
  const limPath = child(path, "limits");
  const reqPath = child(path, "requests");
  const limits = new Map<string, Quantity>();
  let limCpuMem = false;
  let reqCpuMem = false;
  let hugePages = false;
  for (const [name, raw] of Object.entries(rec(r["limits"]))) {
    const p = key(limPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const q = parseQuantityField(raw, p, errs);
    if (!q) continue;
    errs.push(...validateResourceQuantityValue(name, q, p));
    limits.set(name, q);
    if (name === "cpu" || name === "memory") limCpuMem = true;
    if (name.startsWith("hugepages-")) hugePages = true;
  }
  for (const [name, raw] of Object.entries(rec(r["requests"]))) {
    const p = key(reqPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const q = parseQuantityField(raw, p, errs);
    if (!q) continue;
    errs.push(...validateResourceQuantityValue(name, q, p));
    const limit = limits.get(name);
    if (limit) {
      if (q.cmp(limit) !== 0 && !isOvercommitAllowed(name))
        errs.push(fe.invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${limit.toString()}`));
      else if (q.cmp(limit) > 0)
        errs.push(
          fe.invalid(reqPath, q.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`),
        );
    } else if (!isOvercommitAllowed(name)) {
      errs.push(fe.required(limPath, "Limit must be set for non overcommitable resources"));
    }
    if (name === "cpu" || name === "memory") reqCpuMem = true;
    if (name.startsWith("hugepages-")) hugePages = true;
  }
  if (!limCpuMem && !reqCpuMem && hugePages) errs.push(fe.forbidden(path, "HugePages require cpu or memory"));
  return errs;
}

function validatePorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(ports).forEach((raw, i) => {
    const port = rec(raw);
    const p = index(path, i);
    const name = str(port["name"]);
    if (name !== "") {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) for (const m of msgs) errs.push(fe.invalid(child(p, "name"), name, m));
      else if (names.has(name)) errs.push(fe.duplicate(child(p, "name"), name));
      else names.add(name);
    }
    const cp = port["containerPort"];
    if (cp === undefined || cp === null || cp === 0) errs.push(fe.required(child(p, "containerPort")));
    else for (const m of isValidPortNum(Number(cp))) errs.push(fe.invalid(child(p, "containerPort"), cp, m));
    const hp = port["hostPort"];
    if (typeof hp === "number" && hp !== 0)
      for (const m of isValidPortNum(hp)) errs.push(fe.invalid(child(p, "hostPort"), hp, m));
    const proto = port["protocol"];
    if (proto === "") errs.push(fe.required(child(p, "protocol")));
    else if (typeof proto === "string" && !PORT_PROTOCOLS.includes(proto))
      errs.push(fe.notSupported(child(p, "protocol"), proto, PORT_PROTOCOLS));
  });
  return errs;
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(env).forEach((raw, i) => {
    const e = rec(raw);
    const p = index(path, i);
    const name = str(e["name"]);
    if (name === "") errs.push(fe.required(child(p, "name")));
    else for (const m of isRelaxedEnvVarName(name)) errs.push(fe.invalid(child(p, "name"), name, m));
    const from = recOrUndef(e["valueFrom"]);
    if (from) {
      const kinds = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"].filter(
        (k) => from[k] !== undefined && from[k] !== null,
      );
      if (kinds.length === 0)
        errs.push(
          fe.invalid(
            child(p, "valueFrom"),
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
          ),
        );
      else if (kinds.length > 1)
        errs.push(fe.invalid(child(p, "valueFrom"), "", "may not have more than one field specified at a time"));
      if (str(e["value"]) !== "" && kinds.length > 0)
        errs.push(fe.invalid(child(p, "valueFrom"), "", "may not be specified when `value` is not empty"));
      for (const k of ["configMapKeyRef", "secretKeyRef"]) {
        const ref = recOrUndef(from[k]);
        if (!ref) continue;
        const kp = child(p, "valueFrom", k);
        if (str(ref["name"]) === "") errs.push(fe.required(child(kp, "name")));
        const refKey = str(ref["key"]);
        if (refKey === "") errs.push(fe.required(child(kp, "key")));
        else for (const m of isConfigMapKey(refKey)) errs.push(fe.invalid(child(kp, "key"), refKey, m));
      }
    }
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  arr(mounts).forEach((raw, i) => {
    const m = rec(raw);
    const p = index(path, i);
    const name = str(m["name"]);
    if (name === "") errs.push(fe.required(child(p, "name")));
    if (!volumes.has(name)) errs.push(fe.notFound(child(p, "name"), name));
    const mp = str(m["mountPath"]);
    if (mp === "") errs.push(fe.required(child(p, "mountPath")));
    if (mountPoints.has(mp)) errs.push(fe.invalid(child(p, "mountPath"), mp, "must be unique"));
    mountPoints.add(mp);
    const sub = str(m["subPath"]);
    if (sub !== "") {
      if (sub.startsWith("/")) errs.push(fe.invalid(child(p, "subPath"), sub, "must be a relative path"));
      if (sub.split("/").includes("..")) errs.push(fe.invalid(child(p, "subPath"), sub, "must not contain '..'"));
    }
  });
  return errs;
}

function validateContainer(c: Json, path: string, volumes: Set<string>, isPod: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c["name"]);
  if (name === "") errs.push(fe.required(child(path, "name")));
  else errs.push(...dns1123Label(name, child(path, "name")));
  const image = str(c["image"]);
  if (image === "") errs.push(fe.required(child(path, "image")));
  else if (isPod && image.trim() !== image)
    errs.push(fe.invalid(child(path, "image"), image, "must not have leading or trailing whitespace"));
  const pull = c["imagePullPolicy"];
  if (pull === "") errs.push(fe.required(child(path, "imagePullPolicy")));
  else if (typeof pull === "string" && !PULL_POLICIES.includes(pull))
    errs.push(fe.notSupported(child(path, "imagePullPolicy"), pull, PULL_POLICIES));
  errs.push(...validatePorts(c["ports"], child(path, "ports")));
  errs.push(...validateEnv(c["env"], child(path, "env")));
  errs.push(...validateVolumeMounts(c["volumeMounts"], volumes, child(path, "volumeMounts")));
  errs.push(...validateResourceRequirements(c["resources"], child(path, "resources")));
  const tmp = c["terminationMessagePolicy"];
  if (tmp === "") errs.push(fe.required(child(path, "terminationMessagePolicy")));
  else if (typeof tmp === "string" && tmp !== "File" && tmp !== "FallbackToLogsOnError")
    errs.push(fe.notSupported(child(path, "terminationMessagePolicy"), tmp, ["File", "FallbackToLogsOnError"]));
  return errs;
}

export interface PodSpecOptions {
  /** True for a Pod (stricter image checks); false for pod templates. */
  isPod: boolean;
  /** Extra names volume mounts may refer to (a StatefulSet's volumeClaimTemplates). */
  extraVolumeNames?: readonly string[];
}

/**
 * ValidatePodSpec. Fields that defaulting fills (restartPolicy, dnsPolicy, protocol, imagePullPolicy, ...) are only
 * checked when present, so objects may be validated before or after defaulting; an explicit "" is "Required".
 */
export function validatePodSpec(specRaw: unknown, path: string, opts: PodSpecOptions): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  const vols = validateVolumes(spec["volumes"], child(path, "volumes"));
  errs.push(...vols.errs);
  const volumes = new Set([...vols.names, ...(opts.extraVolumeNames ?? [])]);
  const containers = arr(spec["containers"]);
  const cpath = child(path, "containers");
  const names = new Set<string>();
  if (containers.length === 0) errs.push(fe.required(cpath));
  containers.forEach((raw, i) => {
    const c = rec(raw);
    const p = index(cpath, i);
    errs.push(...validateContainer(c, p, volumes, opts.isPod));
    const name = str(c["name"]);
    if (names.has(name)) errs.push(fe.duplicate(child(p, "name"), name));
    else names.add(name);
  });
  const ipath = child(path, "initContainers");
  arr(spec["initContainers"]).forEach((raw, i) => {
    const c = rec(raw);
    const p = index(ipath, i);
    errs.push(...validateContainer(c, p, volumes, opts.isPod));
    const name = str(c["name"]);
    if (names.has(name)) errs.push(fe.duplicate(child(p, "name"), name));
    else names.add(name);
  });
  const rp = spec["restartPolicy"];
  if (rp === "") errs.push(fe.required(child(path, "restartPolicy")));
  else if (typeof rp === "string" && !(RESTART_POLICIES as readonly string[]).includes(rp))
    errs.push(fe.notSupported(child(path, "restartPolicy"), rp, RESTART_POLICIES));
  const dns = spec["dnsPolicy"];
  if (dns === "") errs.push(fe.required(child(path, "dnsPolicy")));
  else if (typeof dns === "string" && !DNS_POLICIES.includes(dns))
    errs.push(fe.notSupported(child(path, "dnsPolicy"), dns, DNS_POLICIES));
  errs.push(...validateLabels(spec["nodeSelector"], child(path, "nodeSelector")));
  const sa = str(spec["serviceAccountName"]);
  if (sa !== "")
    for (const m of isDNS1123Subdomain(sa)) errs.push(fe.invalid(child(path, "serviceAccountName"), sa, m));
  const node = str(spec["nodeName"]);
  if (node !== "") for (const m of isDNS1123Subdomain(node)) errs.push(fe.invalid(child(path, "nodeName"), node, m));
  const ads = spec["activeDeadlineSeconds"];
  if (typeof ads === "number" && (ads < 1 || ads > 2147483647))
    errs.push(fe.invalid(child(path, "activeDeadlineSeconds"), ads, inclusiveRangeError(1, 2147483647)));
  for (const f of ["hostname", "subdomain"]) {
    const v = str(spec[f]);
    if (v !== "") errs.push(...dns1123Label(v, child(path, f)));
  }
  return errs;
}

/** ValidatePodTemplateSpec: template labels/annotations and the pod spec. */
export function validatePodTemplateSpec(
  templateRaw: unknown,
  path: string,
  opts?: Partial<PodSpecOptions>,
): FieldError[] {
  const t = rec(templateRaw);
  const meta = rec(t["metadata"]);
  const errs: FieldError[] = [];
  errs.push(...validateLabels(meta["labels"], child(path, "labels")));
  errs.push(...validateAnnotations(meta["annotations"], child(path, "annotations")));
  errs.push(...validatePodSpec(t["spec"], child(path, "spec"), { isPod: false, ...opts }));
  return errs;
}

export const POD_UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** A short, line-per-field rendering of how two JSON objects differ (stands in for upstream's cmp.Diff). */
export function specDiff(oldSpec: Json, newSpec: Json): string {
  const lines: string[] = [];
  const keys = [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort();
  for (const k of keys) {
    if (jsonEqual(oldSpec[k], newSpec[k])) continue;
    if (oldSpec[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(oldSpec[k])}`);
    if (newSpec[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(newSpec[k])}`);
  }
  return lines.map((l) => `  ${l}`).join("\n");
}

/** ValidatePodUpdate's spec rule: only images, activeDeadlineSeconds, added tolerations and grace period may change. */
export function validatePodSpecUpdate(newSpecRaw: unknown, oldSpecRaw: unknown, path = "spec"): FieldError[] {
  const errs: FieldError[] = [];
  const newSpec = rec(newSpecRaw);
  const oldSpec = rec(oldSpecRaw);
  // activeDeadlineSeconds may be set, or lowered, never raised or removed.
  const na = newSpec["activeDeadlineSeconds"];
  const oa = oldSpec["activeDeadlineSeconds"];
  if (typeof oa === "number") {
    if (typeof na !== "number" || na > oa)
      errs.push(
        fe.invalid(child(path, "activeDeadlineSeconds"), na ?? null, "must be less than or equal to previous value"),
      );
  }
  const mask = (s: Json, imagesFrom: Json): Json => {
    const c = clone(s);
    for (const list of ["containers", "initContainers"]) {
      const from = arr(imagesFrom[list]);
      arr(c[list]).forEach((ct, i) => {
        if (i < from.length) rec(ct)["image"] = rec(from[i])["image"];
      });
    }
    c["activeDeadlineSeconds"] = imagesFrom["activeDeadlineSeconds"];
    c["terminationGracePeriodSeconds"] = imagesFrom["terminationGracePeriodSeconds"];
    // Tolerations may only be added: the old ones must be a prefix-preserving subset.
    const oldTol = arr(imagesFrom["tolerations"]);
    const newTol = arr(c["tolerations"]);
    if (oldTol.every((t) => newTol.some((n) => jsonEqual(n, t)))) c["tolerations"] = imagesFrom["tolerations"];
    // schedulingGates may only be removed (upstream validateSchedulingGates on update)
    const oldGates = arr(imagesFrom["schedulingGates"]);
    const newGates = arr(c["schedulingGates"]);
    if (newGates.every((g) => oldGates.some((o) => jsonEqual(o, g))))
      c["schedulingGates"] = imagesFrom["schedulingGates"];
    return c;
  };
  const masked = mask(newSpec, oldSpec);
  if (!jsonEqual(masked, oldSpec))
    errs.push(fe.forbidden(path, `${POD_UPDATE_FORBIDDEN}\n${specDiff(oldSpec, masked)}`));
  return errs;
}
