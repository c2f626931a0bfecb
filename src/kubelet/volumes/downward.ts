/**
 * Downward API values as files (upstream pkg/fieldpath ExtractFieldPathAsString and FormatMap,
 * pkg/api/v1/resource ExtractResourceValueByContainerNameAndNodeAllocatable).
 */
import { Quantity } from "../../api/quantity.js";
import { isRecord, type KObject } from "../../api/types.js";

export interface NodeAllocatable {
  /** CPU, millicores. */
  cpuMilli: number;
  memoryBytes: number;
  ephemeralBytes: number;
}

/** Go's strconv.Quote (what `%q` prints): printable runes kept, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (cp === 0x20 || (cp > 0x20 && cp < 0x7f)) out += ch;
    else if (cp === 0x07) out += "\\a";
    else if (cp === 0x08) out += "\\b";
    else if (cp === 0x0c) out += "\\f";
    else if (cp === 0x0a) out += "\\n";
    else if (cp === 0x0d) out += "\\r";
    else if (cp === 0x09) out += "\\t";
    else if (cp === 0x0b) out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\ufffd";
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** `key="value"` lines sorted by key, no trailing newline (labels and annotations files). */
export function formatMap(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => `${k}=${goQuote(m![k]!)}`).join("\n");
}

const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function isQualifiedName(key: string): boolean {
  const slash = key.indexOf("/");
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (name.length === 0 || name.length > 63) return false;
  if (slash >= 0 && (slash === 0 || slash > 253)) return false;
  return QUALIFIED_NAME.test(key);
}

/** The text a downward API fieldRef (`metadata.name`, `metadata.labels['k']`, ...) yields for the pod. */
export function fieldPathValue(pod: KObject, fieldPath: string): string {
  const meta = pod.metadata;
  const sub = /^(metadata\.[a-z]+)\['(.*)'\]$/.exec(fieldPath);
  if (sub) {
    const [, path, key] = sub as unknown as [string, string, string];
    if (path === "metadata.annotations") {
      if (!isQualifiedName(key.toLowerCase())) throw new Error(`invalid key subscript in ${fieldPath}`);
      return meta.annotations?.[key] ?? "";
    }
    if (path === "metadata.labels") {
      if (!isQualifiedName(key)) throw new Error(`invalid key subscript in ${fieldPath}`);
      return meta.labels?.[key] ?? "";
    }
    throw new Error(`fieldPath "${path}" does not support subscript`);
  }
  switch (fieldPath) {
    case "metadata.annotations":
      return formatMap(meta.annotations);
    case "metadata.labels":
      return formatMap(meta.labels);
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    default:
      throw new Error(`unsupported fieldPath: ${fieldPath}`);
  }
}

function containersOf(pod: KObject): Record<string, unknown>[] {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const list = (v: unknown) => (Array.isArray(v) ? v.filter(isRecord) : []);
  return [...list(spec["containers"]), ...list(spec["initContainers"])];
}

function quantityOf(list: unknown, name: string): Quantity | undefined {
  if (!isRecord(list)) return undefined;
  const raw = list[name];
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  return Quantity.tryParse(String(raw));
}

function ceilDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) return 0n;
  return a >= 0n ? (a + b - 1n) / b : a / b;
}

/**
 * The value of a resourceFieldRef for one of the pod's containers, in units of the divisor and
 * rounded up; a missing (or zero) cpu, memory or ephemeral-storage limit reads as the node's
 * allocatable, as upstream merges it in.
 */
export function resourceFieldValue(
  pod: KObject,
  containerName: string,
  resource: string,
  divisor: string | undefined,
  allocatable: NodeAllocatable,
): string {
  const container = containersOf(pod).find((c) => c["name"] === containerName);
  if (!container) throw new Error(`container ${containerName} not found`);
  const res = isRecord(container["resources"]) ? container["resources"] : {};
  let d = divisor === undefined || divisor === "" ? undefined : Quantity.tryParse(divisor);
  if (!d || d.isZero()) d = Quantity.parse("1");
  const dot = resource.indexOf(".");
  const kind = dot < 0 ? resource : resource.slice(0, dot);
  const name = dot < 0 ? "" : resource.slice(dot + 1);
  if (kind !== "limits" && kind !== "requests") throw new Error(`unsupported container resource : ${resource}`);
  let q = quantityOf(res[kind], name);
  if (kind === "limits" && (!q || q.isZero())) {
    if (name === "cpu") q = Quantity.fromMilli(allocatable.cpuMilli);
    else if (name === "memory") q = Quantity.fromInt(allocatable.memoryBytes, "BinarySI");
    else if (name === "ephemeral-storage") q = Quantity.fromInt(allocatable.ephemeralBytes, "BinarySI");
  }
  const value = q ?? Quantity.fromInt(0);
  if (name === "cpu") return String(ceilDiv(value.milliValue(), d.milliValue()));
  if (name === "memory" || name === "ephemeral-storage" || name.startsWith("hugepages-")) {
    return String(ceilDiv(value.value(), d.value()));
  }
  throw new Error(`unsupported container resource : ${resource}`);
}
