/** Core kinds other than pods: Service, ConfigMap, Secret, ResourceQuota, plus HorizontalPodAutoscaler. */

import { isIP } from "node:net";
import type { KObject } from "../types.js";
import { child, type FieldError, fe, index, key, RawValue } from "./field.js";
import { arr, type Json, jsonEqual, rec, str } from "./json.js";
import { FIELD_IMMUTABLE, validateLabels } from "./meta.js";
import {
  byteLength,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidPortName,
  isValidPortNum,
  nameIsPathSegment,
} from "./names.js";
import { isStandardResourceName, parseQuantityField, validateResourceQuantityValue } from "./pod.js";

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const SESSION_AFFINITIES = ["ClientIP", "None"];
const PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"];
const KUBELET_PORT = 10250;

/** 1 MiB: the most a ConfigMap's or Secret's data may hold. */
export const MAX_SECRET_SIZE = 1024 * 1024;

function clusterIPsOf(spec: Json): string[] {
  const ips = arr(spec["clusterIPs"]).map(str);
  if (ips.length > 0) return ips;
  const ip = str(spec["clusterIP"]);
  return ip === "" ? [] : [ip];
}

function isHeadless(spec: Json): boolean {
  const ips = clusterIPsOf(spec);
  return ips.length === 1 && ips[0] === "None";
}

function validateTargetPort(v: unknown, path: string): FieldError[] {
  if (typeof v === "number") return isValidPortNum(v).map((m) => fe.invalid(path, v, m));
  if (typeof v === "string") return isValidPortName(v).map((m) => fe.invalid(path, v, m));
  return [];
}

export function validateServiceSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  const ports = arr(spec["ports"]);
  const type = spec["type"];
  const headless = isHeadless(spec);
  const ips = clusterIPsOf(spec);
  if (ports.length === 0 && !headless && type !== "ExternalName") errs.push(fe.required(child(path, "ports")));
  if (type === "LoadBalancer") {
    if (headless)
      errs.push(
        fe.invalid(index(child(path, "clusterIPs"), 0), "None", "may not be set to 'None' for LoadBalancer services"),
      );
    ports.forEach((raw, i) => {
      if (rec(raw)["port"] === KUBELET_PORT)
        errs.push(
          fe.invalid(
            index(child(path, "ports"), i),
            KUBELET_PORT,
            `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`,
          ),
        );
    });
  } else if (type === "NodePort") {
    if (headless)
      errs.push(
        fe.invalid(index(child(path, "clusterIPs"), 0), "None", "may not be set to 'None' for NodePort services"),
      );
  } else if (type === "ExternalName") {
    if (ips.length > 0) errs.push(fe.forbidden(child(path, "clusterIPs"), "may not be set for ExternalName services"));
    const cname = str(spec["externalName"]).replace(/\.$/, "");
    if (cname === "") errs.push(fe.required(child(path, "externalName")));
    else for (const m of isDNS1123Subdomain(cname)) errs.push(fe.invalid(child(path, "externalName"), cname, m));
  }
  const names = new Set<string>();
  const ppath = child(path, "ports");
  ports.forEach((raw, i) => {
    const p = rec(raw);
    const pp = index(ppath, i);
    const name = str(p["name"]);
    if (ports.length > 1 && name === "") errs.push(fe.required(child(pp, "name")));
    else if (name !== "") {
      for (const m of isDNS1123Label(name)) errs.push(fe.invalid(child(pp, "name"), name, m));
      if (names.has(name)) errs.push(fe.duplicate(child(pp, "name"), name));
      else names.add(name);
    }
    const port = typeof p["port"] === "number" ? p["port"] : 0;
    for (const m of isValidPortNum(port)) errs.push(fe.invalid(child(pp, "port"), port, m));
    const proto = p["protocol"];
    if (proto === "") errs.push(fe.required(child(pp, "protocol")));
    else if (typeof proto === "string" && !PORT_PROTOCOLS.includes(proto))
      errs.push(fe.notSupported(child(pp, "protocol"), proto, PORT_PROTOCOLS));
    errs.push(...validateTargetPort(p["targetPort"], child(pp, "targetPort")));
    const np = p["nodePort"];
    if (typeof np === "number" && np !== 0)
      for (const m of isValidPortNum(np)) errs.push(fe.invalid(child(pp, "nodePort"), np, m));
  });
  if (spec["selector"] !== undefined && spec["selector"] !== null)
    errs.push(...validateLabels(spec["selector"], child(path, "selector")));
  const sa = spec["sessionAffinity"];
  if (sa === "") errs.push(fe.required(child(path, "sessionAffinity")));
  else if (typeof sa === "string" && !SESSION_AFFINITIES.includes(sa))
    errs.push(fe.notSupported(child(path, "sessionAffinity"), sa, SESSION_AFFINITIES));
  if (type !== "ExternalName") {
    ips.forEach((ip, i) => {
      if (ip === "None" && i === 0) return;
      if (isIP(ip) === 0)
        errs.push(
          fe.invalid(
            index(child(path, "clusterIPs"), i),
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
          ),
        );
    });
  }
  if (type === "") errs.push(fe.required(child(path, "type")));
  else if (typeof type === "string" && !SERVICE_TYPES.includes(type))
    errs.push(fe.notSupported(child(path, "type"), type, SERVICE_TYPES));
  if (type === undefined || type === "ClusterIP") {
    ports.forEach((raw, i) => {
      const np = rec(raw)["nodePort"];
      if (typeof np === "number" && np !== 0)
        errs.push(fe.forbidden(child(index(ppath, i), "nodePort"), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const seenNode = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((raw, i) => {
    const p = rec(raw);
    const proto = str(p["protocol"]) || "TCP";
    const np = p["nodePort"];
    if (typeof np === "number" && np !== 0) {
      const k = `${proto}/${np}`;
      if (seenNode.has(k)) errs.push(fe.duplicate(child(index(ppath, i), "nodePort"), np));
      seenNode.add(k);
    }
    const port = typeof p["port"] === "number" ? p["port"] : 0;
    const k = `${proto}/${port}`;
    if (seen.has(k))
      errs.push(
        fe.duplicate(
          index(ppath, i),
          new RawValue(
            `{"Name":"","Protocol":${JSON.stringify(proto)},"AppProtocol":null,"Port":${port},"TargetPort":0,"NodePort":0}`,
          ),
        ),
      );
    seen.add(k);
  });
  return errs;
}

/** Service update: the primary cluster IP may not change (unless switching to/from ExternalName). */
export function validateServiceUpdate(obj: KObject, old: KObject): FieldError[] {
  const n = rec(obj["spec"]);
  const o = rec(old["spec"]);
  if (n["type"] === "ExternalName" || o["type"] === "ExternalName") return [];
  const nIPs = clusterIPsOf(n);
  const oIPs = clusterIPsOf(o);
  // An update that leaves the IPs out keeps the allocated ones (the registry copies them over before validation).
  if (nIPs.length === 0 || (isHeadless(n) && isHeadless(o))) return [];
  const errs: FieldError[] = [];
  const path = "spec.clusterIPs";
  if (oIPs.length === nIPs.length) {
    oIPs.forEach((ip, i) => {
      if (ip !== nIPs[i]) errs.push(fe.invalid(index(path, i), nIPs, "may not change once set"));
    });
  } else if (oIPs.length > 0 && nIPs[0] !== oIPs[0]) {
    errs.push(fe.invalid(index(path, 0), nIPs, "may not change once set"));
  }
  return errs;
}

function base64Length(v: string): number {
  return Buffer.from(v, "base64").length;
}

export function validateConfigMap(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = rec(obj["data"]);
  const binary = rec(obj["binaryData"]);
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(fe.invalid(key("data", k), k, m));
    if (Object.hasOwn(binary, k)) errs.push(fe.invalid(key("data", k), k, "duplicate of key present in binaryData"));
    total += byteLength(str(v));
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(fe.invalid(key("binaryData", k), k, m));
    if (Object.hasOwn(data, k)) errs.push(fe.invalid(key("binaryData", k), k, "duplicate of key present in data"));
    total += base64Length(str(v));
  }
  // Upstream reports this on field.NewPath(""), which prints as "[]".
  if (total > MAX_SECRET_SIZE) errs.push(fe.tooLong("[]", MAX_SECRET_SIZE));
  return errs;
}

function immutableData(obj: KObject, old: KObject, fields: string[]): FieldError[] {
  const errs: FieldError[] = [];
  if (old["immutable"] !== true) return errs;
  if (obj["immutable"] !== true) errs.push(fe.forbidden("immutable", "field is immutable when `immutable` is set"));
  for (const f of fields)
    if (!jsonEqual(obj[f], old[f])) errs.push(fe.forbidden(f, "field is immutable when `immutable` is set"));
  return errs;
}

export function validateConfigMapUpdate(obj: KObject, old: KObject): FieldError[] {
  return immutableData(obj, old, ["data", "binaryData"]);
}

/** Secret data, with stringData merged in as the API server does before validation. */
function secretData(obj: KObject): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(rec(obj["data"]))) out.set(k, base64Length(str(v)));
  for (const [k, v] of Object.entries(rec(obj["stringData"]))) out.set(k, byteLength(str(v)));
  return out;
}

export function validateSecret(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = secretData(obj);
  let total = 0;
  for (const [k, size] of data) {
    for (const m of isConfigMapKey(k)) errs.push(fe.invalid(key("data", k), k, m));
    total += size;
  }
  if (total > MAX_SECRET_SIZE) errs.push(fe.tooLong("data", MAX_SECRET_SIZE));
  const type = str(obj["type"]);
  const need = (k: string): void => {
    if (!data.has(k)) errs.push(fe.required(key("data", k)));
  };
  switch (type) {
    case "kubernetes.io/service-account-token":
      if (str(rec(obj.metadata.annotations)["kubernetes.io/service-account.name"]) === "")
        errs.push(fe.required(key("metadata.annotations", "kubernetes.io/service-account.name")));
      break;
    case "kubernetes.io/dockercfg":
      need(".dockercfg");
      break;
    case "kubernetes.io/dockerconfigjson":
      need(".dockerconfigjson");
      break;
    case "kubernetes.io/basic-auth":
      if (!data.has("username") && !data.has("password")) {
        errs.push(fe.required(key("data", "username")));
        errs.push(fe.required(key("data", "password")));
      }
      break;
    case "kubernetes.io/ssh-auth":
      need("ssh-privatekey");
      break;
    case "kubernetes.io/tls":
      need("tls.key");
      need("tls.crt");
      break;
  }
  return errs;
}

export function validateSecretUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const nt = str(obj["type"]) || "Opaque";
  const ot = str(old["type"]) || "Opaque";
  if (nt !== ot) errs.push(fe.invalid("type", nt, FIELD_IMMUTABLE));
  errs.push(...immutableData(obj, old, ["data"]));
  return errs;
}

function validateQuotaResourceName(name: string, path: string): FieldError[] {
  if (name.includes("/") || name.startsWith("count/") || isStandardResourceName(name)) return [];
  if (name.startsWith("requests.") || name.startsWith("limits.")) return [];
  return [fe.invalid(path, name, "must be a standard resource type or fully qualified")];
}

export function validateResourceQuotaSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  const hard = child(path, "hard");
  for (const [name, raw] of Object.entries(rec(spec["hard"]))) {
    const p = key(hard, name);
    errs.push(...validateQuotaResourceName(name, p));
    const q = parseQuantityField(raw, p, errs);
    if (q) errs.push(...validateResourceQuantityValue(name, q, p));
  }
  const scopes = [
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
  ];
  arr(spec["scopes"]).forEach((s) => {
    if (typeof s === "string" && !scopes.includes(s)) errs.push(fe.notSupported(child(path, "scopes"), s, scopes));
  });
  return errs;
}

export function validateHPASpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  const min = spec["minReplicas"];
  const max = typeof spec["maxReplicas"] === "number" ? spec["maxReplicas"] : 0;
  if (typeof min === "number" && min < 1)
    errs.push(fe.invalid(child(path, "minReplicas"), min, "must be greater than or equal to 1"));
  if (max < 1) errs.push(fe.invalid(child(path, "maxReplicas"), max, "must be greater than 0"));
  if (typeof min === "number" && max < min)
    errs.push(fe.invalid(child(path, "maxReplicas"), max, "must be greater than or equal to `minReplicas`"));
  const ref = rec(spec["scaleTargetRef"]);
  const rpath = child(path, "scaleTargetRef");
  const kind = str(ref["kind"]);
  if (kind === "") errs.push(fe.required(child(rpath, "kind")));
  else for (const m of nameIsPathSegment(kind, false)) errs.push(fe.invalid(child(rpath, "kind"), kind, m));
  const name = str(ref["name"]);
  if (name === "") errs.push(fe.required(child(rpath, "name")));
  else for (const m of nameIsPathSegment(name, false)) errs.push(fe.invalid(child(rpath, "name"), name, m));
  const tcpu = spec["targetCPUUtilizationPercentage"];
  if (typeof tcpu === "number" && tcpu < 1)
    errs.push(fe.invalid(child(path, "targetCPUUtilizationPercentage"), tcpu, "must be greater than 0"));
  const metricTypes = ["ContainerResource", "External", "Object", "Pods", "Resource"];
  arr(spec["metrics"]).forEach((raw, i) => {
    const m = rec(raw);
    const mp = index(child(path, "metrics"), i);
    const t = str(m["type"]);
    if (t === "") errs.push(fe.required(child(mp, "type"), "must specify a metric source type"));
    else if (!metricTypes.includes(t)) errs.push(fe.notSupported(child(mp, "type"), t, metricTypes));
    const res = rec(m["resource"]);
    const util = rec(res["target"])["averageUtilization"];
    if (typeof util === "number" && util <= 0)
      errs.push(fe.invalid(child(mp, "resource", "target", "averageUtilization"), util, "must be greater than 0"));
  });
  return errs;
}
