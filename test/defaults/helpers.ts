import { parse } from "yaml";
import { applyDefaults } from "../../src/api/defaults/index.js";
import { isRecord, type KObject, parseApiVersion } from "../../src/api/types.js";

/** Parses a YAML manifest and applies defaults for its apiVersion/kind. */
export function defaulted(manifest: string): KObject {
  const obj: unknown = parse(manifest);
  if (!isRecord(obj) || typeof obj["apiVersion"] !== "string" || typeof obj["kind"] !== "string") {
    throw new Error("test manifest needs apiVersion and kind");
  }
  const kobj = { metadata: {}, ...obj } as KObject;
  applyDefaults(parseApiVersion(obj["apiVersion"]).group, obj["kind"], kobj);
  return kobj;
}

/** Parses YAML (an expected value). */
export function y(text: string): unknown {
  return parse(text);
}

/** Walks a dotted path ("spec.template.spec.containers.0"). */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isRecord(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}
