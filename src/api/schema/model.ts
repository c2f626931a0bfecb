import { readFileSync } from "node:fs";
import { dataPath } from "../../util/paths.js";
import { type GroupVersionKind, isRecord } from "../types.js";

/** How a value is shaped, as far as patching, apply and unknown-field detection care. */
export type SchemaNodeKind =
  /** A struct: declared `properties`. */
  | "object"
  /** A string-keyed map: every value follows `additionalProperties`. */
  | "map"
  /** A list: every item follows `items`. */
  | "array"
  /** A string, number, boolean, int-or-string, quantity, time... */
  | "scalar"
  /** Anything goes (RawExtension, JSON, x-kubernetes-preserve-unknown-fields without properties). */
  | "unknown";

export interface SchemaNode {
  kind: SchemaNodeKind;
  /** object: the declared fields. */
  properties?: Record<string, SchemaNode>;
  /** map: the schema of every value. */
  additionalProperties?: SchemaNode;
  /** array: the schema of every item. */
  items?: SchemaNode;
  /** `x-kubernetes-patch-strategy` split on ",": e.g. ["merge"], ["merge", "retainKeys"], ["replace"]. */
  patchStrategy?: string[];
  /** `x-kubernetes-patch-merge-key`. */
  patchMergeKey?: string;
  /** `x-kubernetes-list-type`. Lists without one are atomic for apply. */
  listType?: "atomic" | "set" | "map";
  /** `x-kubernetes-list-map-keys` (listType map). */
  listMapKeys?: string[];
  /** `x-kubernetes-map-type` (also on structs, e.g. LabelSelector is atomic). */
  mapType?: "atomic" | "granular";
  /** `x-kubernetes-preserve-unknown-fields`: fields not in `properties` are kept and not reported. */
  preserveUnknownFields?: boolean;
  /** `x-kubernetes-embedded-resource`: apiVersion, kind and metadata are implied. */
  embeddedResource?: boolean;
  /** scalar: the JSON type values must have ("int-or-string" accepts both; Quantity also takes numbers). */
  scalarType?: "string" | "integer" | "number" | "boolean" | "int-or-string";
  /** The definition name this node came from (swagger), for debugging. */
  definition?: string;
}

/**
 * Versions the server still serves whose kinds are no longer in the OpenAPI document: each maps
 * `group/version/Kind` to the group-version-kind whose definition describes the same shape.
 */
export const legacyAliases: Readonly<Record<string, GroupVersionKind>> = buildLegacyAliases();

function buildLegacyAliases(): Record<string, GroupVersionKind> {
  const table: Record<string, GroupVersionKind> = {};
  const add = (group: string, versions: string[], kinds: string[], to: { group: string; version: string }): void => {
    for (const version of versions) {
      for (const kind of kinds) table[`${group}/${version}/${kind}`] = { group: to.group, version: to.version, kind };
    }
  };
  add("extensions", ["v1beta1"], ["DaemonSet", "Deployment", "ReplicaSet"], { group: "apps", version: "v1" });
  add("apps", ["v1beta1", "v1beta2"], ["StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "ControllerRevision"], {
    group: "apps",
    version: "v1",
  });
  add("batch", ["v1beta1"], ["CronJob"], { group: "batch", version: "v1" });
  add("autoscaling", ["v2beta2", "v2beta1"], ["HorizontalPodAutoscaler"], { group: "autoscaling", version: "v2" });
  add("policy", ["v1beta1"], ["PodDisruptionBudget"], { group: "policy", version: "v1" });
  return table;
}

interface SwaggerModel {
  byGvk: Map<string, SchemaNode>;
  byName: Map<string, SchemaNode>;
}

let model: SwaggerModel | undefined;

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** The schema of a built-in kind, or undefined when the OpenAPI document does not describe it (CRDs). */
export function schemaForKind(gvk: GroupVersionKind): SchemaNode | undefined {
  const m = loadModel();
  const direct = m.byGvk.get(gvkKey(gvk.group, gvk.version, gvk.kind));
  if (direct) return direct;
  const alias = legacyAliases[gvkKey(gvk.group, gvk.version, gvk.kind)];
  return alias ? m.byGvk.get(gvkKey(alias.group, alias.version, alias.kind)) : undefined;
}

/** A swagger definition by its full name, e.g. `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`. */
export function schemaForDefinition(name: string): SchemaNode | undefined {
  return loadModel().byName.get(name);
}

function loadModel(): SwaggerModel {
  if (model) return model;
  const doc: unknown = JSON.parse(readFileSync(dataPath("openapi", "swagger.json"), "utf8"));
  const definitions = isRecord(doc) && isRecord(doc["definitions"]) ? doc["definitions"] : {};
  model = buildSwaggerModel(definitions);
  return model;
}

const refPrefix = "#/definitions/";

/** Builds every definition in two passes so recursive definitions (JSONSchemaProps) share nodes. */
export function buildSwaggerModel(definitions: Record<string, unknown>): SwaggerModel {
  const byName = new Map<string, SchemaNode>();
  const byGvk = new Map<string, SchemaNode>();
  // Pass 1: a node per definition with its kind decided and an (empty) properties record to fill.
  for (const [name, def] of Object.entries(definitions)) {
    if (!isRecord(def)) continue;
    const node = shallowNode(def);
    node.definition = name;
    byName.set(name, node);
    const gvks = def["x-kubernetes-group-version-kind"];
    if (Array.isArray(gvks)) {
      for (const g of gvks) {
        if (!isRecord(g)) continue;
        const group = typeof g["group"] === "string" ? g["group"] : "";
        const version = typeof g["version"] === "string" ? g["version"] : "";
        const kind = typeof g["kind"] === "string" ? g["kind"] : "";
        const key = gvkKey(group, version, kind);
        // Prefer the definition whose own apiVersion/kind fields exist (WatchEvent & co. list many GVKs).
        if (!byGvk.has(key) || node.properties?.["kind"]) byGvk.set(key, node);
      }
    }
  }
  // Pass 2: fill properties, items and additionalProperties.
  const resolve = (s: unknown): SchemaNode => {
    if (!isRecord(s)) return { kind: "unknown" };
    const ref = s["$ref"];
    if (typeof ref === "string") {
      const target = byName.get(ref.startsWith(refPrefix) ? ref.slice(refPrefix.length) : ref);
      const base: SchemaNode = target ?? { kind: "unknown" };
      const ext = fieldExtensions(s);
      return Object.keys(ext).length === 0 ? base : { ...base, ...ext };
    }
    const node = shallowNode(s);
    fill(node, s);
    return node;
  };
  const fill = (node: SchemaNode, s: Record<string, unknown>): void => {
    const props = s["properties"];
    if (isRecord(props) && node.properties) {
      for (const [k, v] of Object.entries(props)) node.properties[k] = resolve(v);
    }
    if (node.kind === "map") node.additionalProperties = resolve(s["additionalProperties"]);
    if (node.kind === "array") node.items = resolve(s["items"]);
  };
  for (const [name, def] of Object.entries(definitions)) {
    const node = byName.get(name);
    if (node && isRecord(def)) fill(node, def);
  }
  return { byGvk, byName };
}

/** The x-kubernetes-* extensions a field carries. */
function fieldExtensions(s: Record<string, unknown>): Partial<SchemaNode> {
  const out: Partial<SchemaNode> = {};
  const strategy = s["x-kubernetes-patch-strategy"];
  if (typeof strategy === "string" && strategy !== "") out.patchStrategy = strategy.split(",").map((x) => x.trim());
  const mergeKey = s["x-kubernetes-patch-merge-key"];
  if (typeof mergeKey === "string" && mergeKey !== "") out.patchMergeKey = mergeKey;
  const listType = s["x-kubernetes-list-type"];
  if (listType === "atomic" || listType === "set" || listType === "map") out.listType = listType;
  const keys = s["x-kubernetes-list-map-keys"];
  if (Array.isArray(keys)) out.listMapKeys = keys.filter((k): k is string => typeof k === "string");
  const mapType = s["x-kubernetes-map-type"];
  if (mapType === "atomic" || mapType === "granular") out.mapType = mapType;
  if (s["x-kubernetes-preserve-unknown-fields"] === true) out.preserveUnknownFields = true;
  if (s["x-kubernetes-embedded-resource"] === true) out.embeddedResource = true;
  return out;
}

/** A node with kind and extensions decided, children not yet resolved. */
function shallowNode(s: Record<string, unknown>): SchemaNode {
  const ext = fieldExtensions(s);
  const type = s["type"];
  const hasProps = isRecord(s["properties"]);
  const additional = s["additionalProperties"];
  let kind: SchemaNodeKind;
  if (s["x-kubernetes-int-or-string"] === true) kind = "scalar";
  else if (type === "array" || (type === undefined && s["items"] !== undefined)) kind = "array";
  else if (hasProps) kind = "object";
  else if (isRecord(additional)) kind = "map";
  else if (type === "object") kind = ext.embeddedResource ? "object" : "unknown";
  else if (typeof type === "string") kind = "scalar";
  else kind = "unknown";
  const node: SchemaNode = { kind, ...ext };
  if (kind === "object") node.properties = {};
  if (kind === "scalar") {
    if (s["x-kubernetes-int-or-string"] === true || s["format"] === "int-or-string") node.scalarType = "int-or-string";
    else if (type === "string" || type === "integer" || type === "number" || type === "boolean") node.scalarType = type;
  }
  return node;
}

/**
 * A CRD version's `openAPIV3Schema` as a SchemaNode. apiVersion, kind and metadata are always
 * declared at the root (metadata uses the built-in ObjectMeta definition), as the CRD handler does.
 */
export function schemaFromOpenAPIV3(schema: unknown): SchemaNode {
  const root = fromV3(schema);
  if (root.kind === "unknown") {
    root.kind = "object";
    root.preserveUnknownFields = true;
  }
  root.properties = { ...(root.properties ?? {}), ...typeMetaFields() };
  return root;
}

function typeMetaFields(): Record<string, SchemaNode> {
  const meta = schemaForDefinition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") ?? {
    kind: "unknown",
    preserveUnknownFields: true,
  };
  return {
    apiVersion: { kind: "scalar", scalarType: "string" },
    kind: { kind: "scalar", scalarType: "string" },
    metadata: meta,
  };
}

function fromV3(s: unknown): SchemaNode {
  if (!isRecord(s)) return { kind: "unknown" };
  const node = shallowNode(s);
  // x-kubernetes-preserve-unknown-fields on an object without properties: an open object.
  if (node.kind === "unknown" && node.preserveUnknownFields) {
    node.kind = "object";
    node.properties = {};
  }
  const props = s["properties"];
  if (isRecord(props)) {
    node.properties = {};
    for (const [k, v] of Object.entries(props)) node.properties[k] = fromV3(v);
  }
  if (node.kind === "map") node.additionalProperties = fromV3(s["additionalProperties"]);
  if (node.kind === "array") node.items = fromV3(s["items"]);
  if (node.embeddedResource && node.kind === "object") {
    node.properties = { ...(node.properties ?? {}), ...typeMetaFields() };
  }
  return node;
}

/** The schema of field `name` inside an object or map node (undefined when unknown). */
export function fieldSchema(node: SchemaNode | undefined, name: string): SchemaNode | undefined {
  if (!node) return undefined;
  if (node.kind === "object") {
    const p = node.properties?.[name];
    if (p) return p;
    return node.additionalProperties;
  }
  if (node.kind === "map") return node.additionalProperties;
  return undefined;
}

/** The schema at a dotted field path such as ["spec", "template", "spec", "containers"] (arrays step into items). */
export function schemaAtPath(node: SchemaNode | undefined, path: readonly string[]): SchemaNode | undefined {
  let cur = node;
  for (const part of path) {
    while (cur && cur.kind === "array") cur = cur.items;
    cur = fieldSchema(cur, part);
  }
  return cur;
}
