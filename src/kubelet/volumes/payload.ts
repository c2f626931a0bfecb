/**
 * The files a configMap, secret or downwardAPI source projects (upstream configmap.MakePayload,
 * secret.MakePayload, downwardapi.CollectData): pure functions of the fetched objects, throwing
 * with upstream's messages.
 */
import { isRecord, type KObject } from "../../api/types.js";
import type { FileProjection, Payload } from "./atomic-writer.js";
import { fieldPathValue, type NodeAllocatable, resourceFieldValue } from "./downward.js";
import { aggregateMessage } from "./errors.js";

/** Default mode of configMap, secret, downwardAPI and projected files (0644), as API defaulting sets it. */
export const DEFAULT_MODE = 0o644;

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

/** `items` of a volume source. */
export function keyToPaths(v: unknown): KeyToPath[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).map((i) => {
    const k: KeyToPath = { key: String(i["key"] ?? ""), path: String(i["path"] ?? "") };
    const mode = num(i["mode"]);
    if (mode !== undefined) k.mode = mode;
    return k;
  });
}

export function modeOf(v: unknown): number {
  return num(v) ?? DEFAULT_MODE;
}

function stringMap(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (isRecord(v)) for (const [k, s] of Object.entries(v)) if (typeof s === "string") out.set(k, s);
  return out;
}

/** A ConfigMap's keys as bytes: `data` as UTF-8, `binaryData` base64-decoded. */
export function configMapData(cm: KObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of stringMap(cm["data"])) out.set(k, Buffer.from(v, "utf8"));
  for (const [k, v] of stringMap(cm["binaryData"])) if (!out.has(k)) out.set(k, Buffer.from(v, "base64"));
  return out;
}

/** A Secret's keys as bytes (`data` is base64 on the wire). */
export function secretData(secret: KObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of stringMap(secret["data"])) out.set(k, Buffer.from(v, "base64"));
  return out;
}

function projectKeys(
  data: Map<string, Buffer>,
  items: KeyToPath[],
  defaultMode: number,
  optional: boolean,
  missing: (key: string) => string,
): Payload {
  const payload: Payload = new Map();
  if (items.length === 0) {
    for (const [k, v] of data) payload.set(k, { data: v, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new Error(missing(item.key));
    }
    payload.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** Upstream configmap.MakePayload: every key, or the listed `items` (key → path, per-item mode). */
export function configMapPayload(cm: KObject, items: KeyToPath[], defaultMode: number, optional: boolean): Payload {
  return projectKeys(
    configMapData(cm),
    items,
    defaultMode,
    optional,
    (k) => `configmap references non-existent config key: ${k}`,
  );
}

/** Upstream secret.MakePayload. */
export function secretPayload(secret: KObject, items: KeyToPath[], defaultMode: number, optional: boolean): Payload {
  return projectKeys(
    secretData(secret),
    items,
    defaultMode,
    optional,
    (k) => `references non-existent secret key: ${k}`,
  );
}

/** Upstream downwardapi.CollectData: one file per item (fieldRef or resourceFieldRef), errors aggregated. */
export function downwardAPIPayload(
  pod: KObject,
  items: unknown,
  defaultMode: number,
  allocatable: NodeAllocatable,
): Payload {
  const payload: Payload = new Map();
  const errors: string[] = [];
  for (const item of Array.isArray(items) ? items.filter(isRecord) : []) {
    const path = String(item["path"] ?? "");
    const f: FileProjection = { data: Buffer.alloc(0), mode: num(item["mode"]) ?? defaultMode };
    try {
      if (isRecord(item["fieldRef"])) {
        f.data = Buffer.from(fieldPathValue(pod, String(item["fieldRef"]["fieldPath"] ?? "")), "utf8");
      } else if (isRecord(item["resourceFieldRef"])) {
        const r = item["resourceFieldRef"];
        const divisor = r["divisor"] === undefined || r["divisor"] === null ? undefined : String(r["divisor"]);
        const value = resourceFieldValue(
          pod,
          String(r["containerName"] ?? ""),
          String(r["resource"] ?? ""),
          divisor,
          allocatable,
        );
        f.data = Buffer.from(value, "utf8");
      }
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
    payload.set(path, f);
  }
  if (errors.length > 0) throw new Error(aggregateMessage(errors));
  return payload;
}
