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
 * Expands `$(VAR)` from `lookup` as upstream's forked expansion package does: `$$` is an escaped
 * `$`; an undefined reference stays as written; an unterminated `$(` is kept and scanning goes on
 * after it; a `$` before anything else is kept as is.
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
        // incomplete reference: keep "$(" and read on from the next character
        out += "$(";
        i++;
        continue;
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

/** net.JoinHostPort: an IPv6 address in brackets. */
function joinHostPort(host: string, port: unknown): string {
  return host.includes(":") ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}

/** upstream makeEnvVariableName: upper case, dashes to underscores. */
function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, "_");
}

/**
 * Service link variables (FOO_SERVICE_HOST, FOO_SERVICE_PORT, FOO_SERVICE_PORT_<NAME>, and the
 * Docker link ones FOO_PORT, FOO_PORT_80_TCP[_PROTO|_PORT|_ADDR]) of services with a cluster IP,
 * as upstream pkg/kubelet/envvars FromServices.
 */
export function serviceEnv(services: KObject[]): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  const sorted = [...services].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  for (const svc of sorted) {
    const spec = isRecord(svc["spec"]) ? svc["spec"] : {};
    const ip = typeof spec["clusterIP"] === "string" ? spec["clusterIP"] : "";
    if (ip === "" || ip === "None") continue;
    const ports = Array.isArray(spec["ports"]) ? spec["ports"].filter(isRecord) : [];
    if (ports.length === 0) continue;
    const prefix = envName(svc.metadata.name ?? "");
    const first = ports[0]!;
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(first["port"]) });
    for (const p of ports) {
      if (typeof p["name"] === "string" && p["name"] !== "") {
        out.push({ name: `${prefix}_SERVICE_PORT_${envName(p["name"])}`, value: String(p["port"]) });
      }
    }
    const proto = (v: unknown) => (typeof v === "string" && v !== "" ? v : "TCP");
    ports.forEach((p, i) => {
      const pr = proto(p["protocol"]);
      const url = `${pr.toLowerCase()}://${joinHostPort(ip, p["port"])}`;
      // Docker special-cases the first port
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const base = `${prefix}_PORT_${String(p["port"])}_${pr.toUpperCase()}`;
      out.push({ name: base, value: url });
      out.push({ name: `${base}_PROTO`, value: pr.toLowerCase() });
      out.push({ name: `${base}_PORT`, value: String(p["port"]) });
      out.push({ name: `${base}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The services whose variables a pod in `namespace` sees (upstream getServiceEnvVarMap): the
 * `kubernetes` service of `default` always, the namespace's own services when service links are
 * enabled (a namespace's own `kubernetes` service then wins over the master one).
 */
export function linkedServices(all: KObject[], namespace: string, enableServiceLinks: boolean): KObject[] {
  const byName = new Map<string, KObject>();
  for (const svc of all) {
    const name = svc.metadata.name ?? "";
    const ns = svc.metadata.namespace ?? "default";
    if (ns === "default" && name === "kubernetes") {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (ns === namespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  return [...byName.values()];
}

/** Go's %q for a string (strconv.Quote): JSON's escapes, but \xNN for other control bytes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code === 7) out += "\\a";
    else if (code === 8) out += "\\b";
    else if (code === 11) out += "\\v";
    else if (code === 12) out += "\\f";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** upstream fieldpath.FormatMap: `key="value"` lines sorted by key. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m![k]!)}`)
    .join("\n");
}

/** `metadata.labels['x']` → ["metadata.labels", "x"] (upstream SplitMaybeSubscriptedPath). */
function splitSubscript(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const body = fieldPath.slice(0, -2);
  const at = body.indexOf("['");
  if (at <= 0) return undefined;
  return [body.slice(0, at), body.slice(at + 2)];
}

/**
 * The value a downward API fieldRef path names, as the kubelet resolves env vars
 * (podFieldSelectorRuntimeValue): errors are worded as upstream's.
 */
export function fieldRefValue(pod: KObject, fieldPath: string, hostIP: string, podIP: string): string {
  const meta = pod.metadata;
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const sub = splitSubscript(fieldPath);
  if (sub) {
    const [path, key] = sub;
    if (path === "metadata.labels") return meta.labels?.[key] ?? "";
    if (path === "metadata.annotations") return meta.annotations?.[key] ?? "";
    throw new ContainerConfigError(`field label does not support subscript: ${fieldPath}`);
  }
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
      return formatMap(meta.labels);
    case "metadata.annotations":
      return formatMap(meta.annotations);
    case "spec.nodeName":
    case "spec.host":
      return str(spec["nodeName"]) ?? "";
    case "spec.serviceAccountName":
      return str(spec["serviceAccountName"]) ?? "";
    case "status.hostIP":
    case "status.hostIPs":
      return hostIP;
    case "status.podIP":
    case "status.podIPs":
      return podIP;
    case "spec.restartPolicy":
    case "spec.schedulerName":
    case "spec.terminationGracePeriodSeconds":
    case "status.phase":
      // valid downward API labels, but not ones an env var can read
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
    default:
      throw new ContainerConfigError(`field label not supported: ${fieldPath}`);
  }
}

function quantityOf(v: unknown): Quantity | undefined {
  return typeof v === "string" || typeof v === "number" ? Quantity.tryParse(String(v).trim()) : undefined;
}

/** ceil(q / divisor) as upstream convertQuantityToString (0 for a missing or non-positive value). */
function ceilDiv(q: Quantity | undefined, divisor: Quantity, cpu: boolean): string {
  if (!q || q.sign() <= 0 || divisor.sign() <= 0) return "0";
  const n = cpu ? q.milliValue() : q.value();
  const d = cpu ? divisor.milliValue() : divisor.value();
  if (d <= 0n) return "0";
  return String((n + d - 1n) / d);
}

/**
 * The value of a resourceFieldRef (limits.cpu, requests.memory, ...) in units of its divisor,
 * rounded up as upstream; a missing (or zero) cpu, memory or ephemeral-storage limit reads as the
 * node's allocatable (upstream MergeContainerResourceLimits); a missing request is the limit the
 * spec sets (API defaulting) or 0.
 */
export function resourceFieldValue(
  container: Record<string, unknown>,
  resource: string,
  divisor: string | undefined,
  allocatable: EnvSources["nodeAllocatable"],
): string {
  const resources = isRecord(container["resources"]) ? container["resources"] : {};
  const limits = isRecord(resources["limits"]) ? resources["limits"] : {};
  const requests = isRecord(resources["requests"]) ? resources["requests"] : {};
  const dot = resource.indexOf(".");
  const kind = dot < 0 ? resource : resource.slice(0, dot);
  const name = dot < 0 ? "" : resource.slice(dot + 1);
  const parsedDivisor = divisor === undefined ? undefined : quantityOf(divisor);
  // an unset (zero) divisor means 1
  const d = parsedDivisor && !parsedDivisor.isZero() ? parsedDivisor : Quantity.parse("1");
  const standard = name === "cpu" || name === "memory" || name === "ephemeral-storage";
  if ((kind !== "limits" && kind !== "requests") || (!standard && !name.startsWith("hugepages-"))) {
    throw new ContainerConfigError(`unsupported container resource : ${resource}`);
  }
  let q = quantityOf(kind === "limits" ? limits[name] : requests[name]);
  if (kind === "requests" && q === undefined) q = quantityOf(limits[name]);
  if (kind === "limits" && standard && (q === undefined || q.isZero())) {
    const node =
      name === "cpu"
        ? Quantity.fromMilli(Math.round(allocatable.cpuMilli))
        : Quantity.fromInt(Math.floor(name === "memory" ? allocatable.memoryBytes : allocatable.ephemeralBytes));
    q = node;
  }
  return ceilDiv(q, d, name === "cpu");
}

function dataOf(obj: KObject, binary: boolean): Record<string, string> {
  // env reads a ConfigMap's data only (binaryData is for volumes), a Secret's data decoded
  const out: Record<string, string> = {};
  const data = isRecord(obj["data"]) ? obj["data"] : {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === "string") out[k] = binary ? Buffer.from(v, "base64").toString("utf8") : v;
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
  const services = new Map<string, string>();
  for (const e of serviceEnv(linkedServices(src.services(ns), ns, spec["enableServiceLinks"] !== false))) {
    services.set(e.name, e.value);
  }
  // the container's own variables (envFrom, then env); service variables fill in the rest
  const vars = new Map<string, string>();
  const lookup = (n: string) => vars.get(n) ?? services.get(n);
  const configMaps = new Map<string, KObject | undefined>();
  const secrets = new Map<string, KObject | undefined>();
  const fetch = async (isCm: boolean, name: string) => {
    const cache = isCm ? configMaps : secrets;
    if (!cache.has(name)) cache.set(name, isCm ? await src.configMap(ns, name) : await src.secret(ns, name));
    return cache.get(name);
  };
  const envFrom = Array.isArray(container["envFrom"]) ? container["envFrom"].filter(isRecord) : [];
  for (const from of envFrom) {
    const prefix = str(from["prefix"]) ?? "";
    const cmRef = isRecord(from["configMapRef"]) ? from["configMapRef"] : undefined;
    const secRef = isRecord(from["secretRef"]) ? from["secretRef"] : undefined;
    const ref = cmRef ?? secRef;
    if (!ref) continue;
    const name = str(ref["name"]) ?? "";
    const obj = await fetch(cmRef !== undefined, name);
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
    const value = str(e["value"]) ?? "";
    const from = isRecord(e["valueFrom"]) ? e["valueFrom"] : undefined;
    if (value !== "" || !from) {
      // values may refer to variables defined before them, and to service variables
      vars.set(name, expand(value, lookup));
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
      const targetName = str(r["containerName"]) ?? "";
      const target = targetName === "" ? container : containers.find((c) => c["name"] === targetName);
      if (!target) throw new ContainerConfigError(`container ${targetName} not found`);
      const divisor = r["divisor"] === undefined || r["divisor"] === null ? undefined : String(r["divisor"]);
      vars.set(name, resourceFieldValue(target, str(r["resource"]) ?? "", divisor, src.nodeAllocatable));
    } else if (isRecord(from["configMapKeyRef"]) || isRecord(from["secretKeyRef"])) {
      const isCm = isRecord(from["configMapKeyRef"]);
      const ref = (isCm ? from["configMapKeyRef"] : from["secretKeyRef"]) as Record<string, unknown>;
      const refName = str(ref["name"]) ?? "";
      const key = str(ref["key"]) ?? "";
      const obj = await fetch(isCm, refName);
      if (!obj) {
        if (ref["optional"] === true) continue;
        throw new ContainerConfigError(`${isCm ? "configmap" : "secret"} "${refName}" not found`);
      }
      const data = dataOf(obj, !isCm);
      if (!Object.hasOwn(data, key)) {
        if (ref["optional"] === true) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in ${isCm ? "ConfigMap" : "Secret"} ${ns}/${refName}`);
      }
      vars.set(name, data[key]!);
    } else {
      vars.set(name, "");
    }
  }
  const out = [...vars].map(([name, value]) => ({ name, value }));
  for (const [name, value] of services) if (!vars.has(name)) out.push({ name, value });
  return out;
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
