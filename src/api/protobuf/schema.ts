import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type * as Protobuf from "protobufjs";
import { dataPath } from "../../util/paths.js";
import { isRecord, parseApiVersion } from "../types.js";

/**
 * Lazy access to the upstream `.proto` schemas in `data/proto`. Nothing is read or parsed at import
 * time: protobufjs itself is required on first use, and each `generated.proto` (with its imports)
 * is parsed the first time a kind of its group/version is needed (core/v1 with its imports: ~60 ms).
 */

export type { Protobuf };

let pb: typeof Protobuf | undefined;
let root: Protobuf.Root | undefined;

/** protobufjs, required on first use so that importing this module costs nothing. */
export function protobufjs(): typeof Protobuf {
  if (pb === undefined) {
    const require = createRequire(import.meta.url);
    pb = require("protobufjs") as typeof Protobuf;
  }
  return pb;
}

function protoRoot(): Protobuf.Root {
  if (root === undefined) {
    const lib = protobufjs();
    const r = new lib.Root();
    // Imports are written relative to the proto path root ("k8s.io/api/core/v1/generated.proto").
    r.resolvePath = (_origin: string, target: string) => (target.startsWith("/") ? target : dataPath("proto", target));
    root = r;
  }
  return root;
}

const loaded = new Set<string>();

/** Parses one schema file (relative to data/proto) and its imports, once. Returns false if the file does not exist. */
export function loadProtoFile(file: string): boolean {
  if (loaded.has(file)) return true;
  const full = dataPath("proto", file);
  if (!existsSync(full)) return false;
  protoRoot().loadSync(full, { keepCase: true });
  loaded.add(file);
  return true;
}

/** A message type by its full name (no leading dot), loading `file` first. */
export function lookupMessage(file: string, fullName: string): Protobuf.Type | undefined {
  if (!loadProtoFile(file)) return undefined;
  const found = protoRoot().lookup(fullName);
  return found instanceof protobufjs().Type ? found : undefined;
}

export const META_V1_PACKAGE = "k8s.io.apimachinery.pkg.apis.meta.v1";
const META_V1_FILE = "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";

/** API groups whose proto folder under k8s.io/api is not the first label of the group name. */
const GROUP_FOLDERS: Record<string, string> = {
  "internal.apiserver.k8s.io": "apiserverinternal",
};

/** The proto package and file that hold the messages of one API group/version, e.g. apps/v1 → k8s.io.api.apps.v1. */
export function packageFor(apiVersion: string): { pkg: string; file: string } | undefined {
  const { group, version } = parseApiVersion(apiVersion);
  if (!/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(version)) return undefined;
  if (group === "meta.k8s.io") {
    return {
      pkg: `k8s.io.apimachinery.pkg.apis.meta.${version}`,
      file: `k8s.io/apimachinery/pkg/apis/meta/${version}/generated.proto`,
    };
  }
  let folder: string;
  if (group === "") folder = "core";
  else if (GROUP_FOLDERS[group] !== undefined) folder = GROUP_FOLDERS[group];
  else if (!group.includes(".")) folder = group;
  else if (group.endsWith(".k8s.io")) folder = group.slice(0, group.indexOf("."));
  else return undefined;
  if (!/^[a-z0-9]+$/.test(folder)) return undefined;
  return { pkg: `k8s.io.api.${folder}.${version}`, file: `k8s.io/api/${folder}/${version}/generated.proto` };
}

/**
 * Kinds of meta.k8s.io/v1 that every group/version also serves (metav1.AddToGroupVersion registers
 * the options types in each group; Status and WatchEvent are unversioned and ride along).
 */
const META_KINDS_IN_EVERY_GROUP = new Set([
  "Status",
  "WatchEvent",
  "DeleteOptions",
  "CreateOptions",
  "UpdateOptions",
  "PatchOptions",
  "GetOptions",
  "ListOptions",
]);

/** The message type of a kind served at apiVersion, or undefined when there is none. */
export function messageForKind(apiVersion: string, kind: string): Protobuf.Type | undefined {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const where = packageFor(apiVersion);
  if (where !== undefined) {
    const t = lookupMessage(where.file, `${where.pkg}.${kind}`);
    if (t !== undefined) return t;
  }
  if (META_KINDS_IN_EVERY_GROUP.has(kind)) return lookupMessage(META_V1_FILE, `${META_V1_PACKAGE}.${kind}`);
  return undefined;
}

/** Per-message JSON naming exceptions, generated from the OpenAPI spec (see data/proto/json-names.json). */
export interface JsonNames {
  /** message full name → proto field name → JSON name, or "" when the field is embedded inline (Go `json:",inline"`). */
  fields: Record<string, Record<string, string>>;
  /** Messages that stand for a Go slice type (`+protobuf.nullable=true`, one `repeated items` field): JSON is the array. */
  arrays: string[];
}

let jsonNames: JsonNames | undefined;

export function jsonNameTable(): JsonNames {
  if (jsonNames === undefined) {
    const parsed: unknown = JSON.parse(readFileSync(dataPath("proto", "json-names.json"), "utf8"));
    if (!isRecord(parsed) || !isRecord(parsed["fields"]) || !Array.isArray(parsed["arrays"])) {
      throw new Error("data/proto/json-names.json is malformed");
    }
    jsonNames = parsed as unknown as JsonNames;
  }
  return jsonNames;
}
