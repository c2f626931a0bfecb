/**
 * A container's environment and command line as the kubelet builds them (upstream
 * pkg/kubelet/kubelet_pods.go makeEnvironmentVariables and third_party/forked/golang/expansion):
 * service links, envFrom, env with value / fieldRef / resourceFieldRef / configMapKeyRef /
 * secretKeyRef, `$(VAR)` expansion in values, command and args.
 */
import { Quantity } from "../api/quantity.js";
import { isRecord, type KObject } from "../api/types.js";

/** A failure to build the environment: the container waits with CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContainerConfigError";
  }
}

/** What env resolution reads besides the pod. */
export interface EnvSources {
  configMap(namespace: string, name: string): Promise<KObject | undefined>;
  secret(namespace: string, name: string): Promise<KObject | undefined>;
  /** Services of the pod's namespace and the `kubernetes` service of `default`, for service links. */
  services(namespace: string): KObject[];
  nodeAllocatable: { cpuMilli: number; memoryBytes: number; ephemeralBytes: number };
  hostIP: string;
  podIP: string;
}

/**
 * Expands `$(VAR)` from `lookup`; `$$` is an escaped `$`; an undefined reference stays as written.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== "$" || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1]!;
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const v = lookup(name);
      out += v ?? `$(${name})`;
      i = close;
      continue;
    }
    out += c;
  }
  return out;
}

/** Service link variables (FOO_SERVICE_HOST, FOO_PORT_80_TCP...) of services with a cluster IP. */
export function serviceEnv(services: KObject[]): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  const sorted = [...services].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  for (const svc of sorted) {
    const spec = isRecord(svc["spec"]) ? svc["spec"] : {};
    const ip = typeof spec["clusterIP"] === "string" ? spec["clusterIP"] : "";
    if (ip === "" || ip === "None") continue;
    const ports = Array.isArray(spec["ports"]) ? spec["ports"].filter(isRecord) : [];
    if (ports.length === 0) continue;
    const prefix = (svc.metadata.name ?? "").toUpperCase().replace(/-/g, "_");
    const first = ports[0]!;
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(first["port"]) });
    for (const p of ports) {
      if (typeof p["name"] === "string" && p["name"] !== "") {
        out.push({
          name: `${prefix}_SERVICE_PORT_${p["name"].toUpperCase().replace(/-/g, "_")}`,
          value: String(p["port"]),
        });
      }
    }
    const proto = (v: unknown) => (typeof v === "string" ? v : "TCP");
    out.push({ name: `${prefix}_PORT`, value: `${proto(first["protocol"]).toLowerCase()}://${ip}:${first["port"]}` });
    for (const p of ports) {
      const pr = proto(p["protocol"]);
      const base = `${prefix}_PORT_${p["port"]}_${pr.toUpperCase()}`;
      out.push({ name: base, value: `${pr.toLowerCase()}://${ip}:${p["port"]}` });
      out.push({ name: `${base}_PROTO`, value: pr.toLowerCase() });
      out.push({ name: `${base}_PORT`, value: String(p["port"]) });
      out.push({ name: `${base}_ADDR`, value: ip });
    }
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The value a downward API fieldRef path names (also used by downwardAPI volumes). */
export function fieldRefValue(pod: KObject, fieldPath: string, hostIP: string, podIP: string): string {
  const meta = pod.metadata;
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) {
    const map = (m[1] === "labels" ? meta.labels : meta.annotations) ?? {};
    return map[m[2]!] ?? "";
  }
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "spec.nodeName":
      return str(spec["nodeName"]) ?? "";
    case "spec.serviceAccountName":
      return str(spec["serviceAccountName"]) ?? "";
    case "status.hostIP":
    case "status.hostIPs":
      return hostIP;
    case "status.podIP":
    case "status.podIPs":
      return podIP;
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/**
 * The value of a resourceFieldRef (limits.cpu, requests.memory, ...) in units of its divisor,
 * rounded up as upstream; a missing limit reads as the node's allocatable.
 */
export function resourceFieldValue(
  container: Record<string, unknown>,
  resource: string,
  divisor: string | undefined,
  allocatable: EnvSources["nodeAllocatable"],
): string {
  const resources = isRecord(container["resources"]) ? container["resources"] : {};
  const [kind, name] = resource.split(".", 2) as [string, string | undefined];
  const list = isRecord(resources[kind]) ? resources[kind] : {};
  const raw = list[name ?? ""];
  let q: Quantity | undefined;
  if (typeof raw === "string" || typeof raw === "number") q = Quantity.tryParse(String(raw));
  if (!q && kind === "requests") {
    // a missing request defaults to the limit
    const limits = isRecord(resources["limits"]) ? resources["limits"] : {};
    const l = limits[name ?? ""];
    if (typeof l === "string" || typeof l === "number") q = Quantity.tryParse(String(l));
  }
  const d = Quantity.tryParse(divisor ?? "1") ?? Quantity.parse("1");
  if (name === "cpu") {
    const milli = q ? Number(q.milliValue()) : kind === "limits" ? allocatable.cpuMilli : 0;
    return String(Math.ceil(milli / Number(d.milliValue())));
  }
  if (name === "memory" || name === "ephemeral-storage") {
    const fallback = name === "memory" ? allocatable.memoryBytes : allocatable.ephemeralBytes;
    const bytes = q ? Number(q.value()) : kind === "limits" ? fallback : 0;
    return String(Math.ceil(bytes / Math.max(1, Number(d.value()))));
  }
  if (name?.startsWith("hugepages-")) {
    return String(q ? Math.ceil(Number(q.value()) / Math.max(1, Number(d.value()))) : 0);
  }
  throw new ContainerConfigError(`unsupported container resource: ${resource}`);
}

function dataOf(obj: KObject, binary: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const data = isRecord(obj["data"]) ? obj["data"] : {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === "string") out[k] = binary ? Buffer.from(v, "base64").toString("utf8") : v;
  }
  if (!binary && isRecord(obj["binaryData"])) {
    for (const [k, v] of Object.entries(obj["binaryData"])) {
      if (typeof v === "string") out[k] = Buffer.from(v, "base64").toString("utf8");
    }
  }
  return out;
}

/** The container's environment, in the order upstream builds it (later names override earlier ones). */
export async function containerEnv(
  pod: KObject,
  container: Record<string, unknown>,
  src: EnvSources,
): Promise<Array<{ name: string; value: string }>> {
  const ns = pod.metadata.namespace ?? "default";
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const vars = new Map<string, string>();
  if (spec["enableServiceLinks"] !== false) {
    for (const e of serviceEnv(src.services(ns))) vars.set(e.name, e.value);
  } else {
    // the master service's variables are always there
    for (const e of serviceEnv(src.services(ns).filter((s) => s.metadata.name === "kubernetes"))) {
      vars.set(e.name, e.value);
    }
  }
  const envFrom = Array.isArray(container["envFrom"]) ? container["envFrom"].filter(isRecord) : [];
  for (const from of envFrom) {
    const prefix = str(from["prefix"]) ?? "";
    const cmRef = isRecord(from["configMapRef"]) ? from["configMapRef"] : undefined;
    const secRef = isRecord(from["secretRef"]) ? from["secretRef"] : undefined;
    const ref = cmRef ?? secRef;
    if (!ref) continue;
    const name = str(ref["name"]) ?? "";
    const obj = cmRef ? await src.configMap(ns, name) : await src.secret(ns, name);
    if (!obj) {
      if (ref["optional"] === true) continue;
      throw new ContainerConfigError(`${cmRef ? "configmap" : "secret"} "${name}" not found`);
    }
    for (const [k, v] of Object.entries(dataOf(obj, !cmRef))) vars.set(prefix + k, v);
  }
  const env = Array.isArray(container["env"]) ? container["env"].filter(isRecord) : [];
  for (const e of env) {
    const name = str(e["name"]) ?? "";
    if (name === "") continue;
    const from = isRecord(e["valueFrom"]) ? e["valueFrom"] : undefined;
    if (!from) {
      // values may refer to variables defined before them
      vars.set(
        name,
        expand(str(e["value"]) ?? "", (n) => vars.get(n)),
      );
      continue;
    }
    if (isRecord(from["fieldRef"])) {
      vars.set(name, fieldRefValue(pod, str(from["fieldRef"]["fieldPath"]) ?? "", src.hostIP, src.podIP));
    } else if (isRecord(from["resourceFieldRef"])) {
      const r = from["resourceFieldRef"];
      const containers = [
        ...(Array.isArray(spec["containers"]) ? spec["containers"] : []),
        ...(Array.isArray(spec["initContainers"]) ? spec["initContainers"] : []),
      ].filter(isRecord);
      const target = str(r["containerName"])
        ? (containers.find((c) => c["name"] === r["containerName"]) ?? container)
        : container;
      const divisor = r["divisor"] === undefined ? undefined : String(r["divisor"]);
      vars.set(name, resourceFieldValue(target, str(r["resource"]) ?? "", divisor, src.nodeAllocatable));
    } else if (isRecord(from["configMapKeyRef"]) || isRecord(from["secretKeyRef"])) {
      const isCm = isRecord(from["configMapKeyRef"]);
      const ref = (isCm ? from["configMapKeyRef"] : from["secretKeyRef"]) as Record<string, unknown>;
      const refName = str(ref["name"]) ?? "";
      const key = str(ref["key"]) ?? "";
      const obj = isCm ? await src.configMap(ns, refName) : await src.secret(ns, refName);
      if (!obj) {
        if (ref["optional"] === true) continue;
        throw new ContainerConfigError(`${isCm ? "configmap" : "secret"} "${refName}" not found`);
      }
      const data = dataOf(obj, !isCm);
      if (!(key in data)) {
        if (ref["optional"] === true) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in ${isCm ? "ConfigMap" : "Secret"} ${ns}/${refName}`);
      }
      vars.set(name, data[key]!);
    }
  }
  return [...vars].map(([name, value]) => ({ name, value }));
}

/** command + args with `$(VAR)` references expanded from the environment. */
export function containerArgv(
  container: Record<string, unknown>,
  env: Array<{ name: string; value: string }>,
): string[] {
  const lookup = new Map(env.map((e) => [e.name, e.value]));
  const list = (v: unknown) => (Array.isArray(v) ? v.map((x) => expand(String(x), (n) => lookup.get(n))) : []);
  return [...list(container["command"]), ...list(container["args"])];
}
