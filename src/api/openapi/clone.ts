/**
 * Synthesizing what the 1.36 spec lacks by cloning what it has: legacy group/versions (extensions/v1beta1
 * DaemonSet from apps/v1) and custom resources (paths templated on a built-in resource).
 */
import type { GroupVersionKind } from "../types.js";
import { isRecord } from "../types.js";
import type { JsonObject } from "./json.js";
import { asObject, asString, cloneJson, DEFINITIONS_PREFIX, definitionClosure, rewriteRefs } from "./json.js";
import type { GroupVersion } from "./names.js";
import { gvkEquals, operationGV, operationTag } from "./names.js";
import type { ResourcePath } from "./paths.js";
import { formatResourcePath, OPERATION_METHODS } from "./paths.js";

export const GVK_EXTENSION = "x-kubernetes-group-version-kind";

export interface ResourceIdentity {
  gv: GroupVersion;
  plural: string;
  kind: string;
}

export interface ResourceRename {
  from: ResourceIdentity;
  to: ResourceIdentity;
  /** Definition renames (full names, without "#/definitions/"). */
  definitions: Map<string, string>;
  /** Turn namespaced paths into cluster-scoped ones (drops "namespaces/{namespace}/" and its parameter). */
  clusterScoped?: boolean;
}

function replaceWord(text: string, from: string, to: string): string {
  if (from === to || from === "") return text;
  return text.replace(new RegExp(`\\b${from}\\b`, "g"), to);
}

function renameRef(rename: ResourceRename): (ref: string) => string | undefined {
  return (ref) => {
    if (!ref.startsWith(DEFINITIONS_PREFIX)) return undefined;
    const next = rename.definitions.get(ref.slice(DEFINITIONS_PREFIX.length));
    return next === undefined ? undefined : DEFINITIONS_PREFIX + next;
  };
}

function isNamespaceParameter(p: unknown): boolean {
  if (!isRecord(p)) return false;
  const ref = asString(p["$ref"]);
  if (ref !== undefined) return ref.startsWith("#/parameters/namespace-");
  return p["name"] === "namespace" && p["in"] === "path";
}

function rewriteParameters(params: unknown, rename: ResourceRename): unknown {
  if (!Array.isArray(params)) return params;
  const kept = rename.clusterScoped ? params.filter((p) => !isNamespaceParameter(p)) : params;
  for (const p of kept) {
    if (isRecord(p) && typeof p["description"] === "string") {
      p["description"] = replaceWord(p["description"], rename.from.kind, rename.to.kind);
    }
  }
  return kept;
}

function rewriteOperation(op: JsonObject, rename: ResourceRename): void {
  const { from, to } = rename;
  const opId = asString(op["operationId"]);
  if (opId !== undefined) {
    const fromGV = operationGV(from.gv);
    const toGV = operationGV(to.gv);
    const at = opId.indexOf(fromGV);
    if (at >= 0) {
      let tail = opId.slice(at + fromGV.length);
      if (rename.clusterScoped) tail = tail.replace("Namespaced", "");
      if (from.kind !== to.kind) tail = tail.replace(from.kind, to.kind);
      op["operationId"] = opId.slice(0, at) + toGV + tail;
    }
  }
  if (Array.isArray(op["tags"])) {
    const fromTag = operationTag(from.gv);
    op["tags"] = op["tags"].map((t) => (t === fromTag ? operationTag(to.gv) : t));
  }
  if (typeof op["description"] === "string") {
    op["description"] = replaceWord(op["description"], from.kind, to.kind);
  }
  const gvk = asObject(op[GVK_EXTENSION]);
  if (gvk !== undefined) {
    const fromGVK = { group: from.gv.group, version: from.gv.version, kind: from.kind };
    if (gvkEquals(gvk as unknown as GroupVersionKind, fromGVK)) {
      op[GVK_EXTENSION] = { group: to.gv.group, kind: to.kind, version: to.gv.version };
    }
  }
  if (op["parameters"] !== undefined) op["parameters"] = rewriteParameters(op["parameters"], rename);
}

/** A copy of one path item of `rename.from`, rewritten for `rename.to`; returns its new path too. */
export function clonePathItem(parsed: ResourcePath, item: JsonObject, rename: ResourceRename): [string, JsonObject] {
  const copy = cloneJson(item);
  rewriteRefs(copy, renameRef(rename));
  for (const method of OPERATION_METHODS) {
    const op = asObject(copy[method]);
    if (op !== undefined) rewriteOperation(op, rename);
  }
  if (copy["parameters"] !== undefined) copy["parameters"] = rewriteParameters(copy["parameters"], rename);
  const path = formatResourcePath({
    ...parsed,
    gv: rename.to.gv,
    plural: rename.to.plural,
    inNamespace: rename.clusterScoped ? false : parsed.inNamespace,
  });
  return [path, copy];
}

/** Rewrites a discovery path item ("/apis/batch/v1/") for another group/version. */
export function cloneDiscoveryItem(
  item: JsonObject,
  from: GroupVersion,
  to: GroupVersion,
  groupOnly: boolean,
): JsonObject {
  const copy = cloneJson(item);
  const op = asObject(copy["get"]);
  if (op === undefined) return copy;
  const fromId = groupOnly ? operationGV({ group: from.group, version: "" }) : operationGV(from);
  const toId = groupOnly ? operationGV({ group: to.group, version: "" }) : operationGV(to);
  const opId = asString(op["operationId"]);
  if (opId !== undefined) op["operationId"] = opId.replace(fromId, toId);
  const fromTag = groupOnly ? operationTag({ group: from.group, version: "" }).slice(0, -1) : operationTag(from);
  const toTag = groupOnly ? operationTag({ group: to.group, version: "" }).slice(0, -1) : operationTag(to);
  if (Array.isArray(op["tags"])) op["tags"] = op["tags"].map((t) => (t === fromTag ? toTag : t));
  return copy;
}

/**
 * Clones the definition `sourceName` (a kind), its List and everything they reach in the same package into
 * `targetPackage`, with refs between the clones rewritten and `x-kubernetes-group-version-kind` set to the
 * target group/version. Existing definitions are never overwritten. Returns the renames (source → target).
 */
export function cloneKindDefinitions(
  definitions: Record<string, unknown>,
  sourceName: string,
  target: GroupVersion,
  targetPackage: string,
): Map<string, string> {
  const dot = sourceName.lastIndexOf(".");
  const sourcePackage = sourceName.slice(0, dot);
  const roots = [sourceName, `${sourceName}List`];
  const names = definitionClosure(definitions, roots, (n) => n.startsWith(`${sourcePackage}.`));
  const renames = new Map<string, string>();
  for (const name of names) renames.set(name, targetPackage + name.slice(sourcePackage.length));
  const rename = (ref: string): string | undefined => {
    if (!ref.startsWith(DEFINITIONS_PREFIX)) return undefined;
    const next = renames.get(ref.slice(DEFINITIONS_PREFIX.length));
    return next === undefined ? undefined : DEFINITIONS_PREFIX + next;
  };
  for (const [name, targetName] of renames) {
    if (definitions[targetName] !== undefined) continue;
    const copy = cloneJson(definitions[name]);
    if (!isRecord(copy)) continue;
    rewriteRefs(copy, rename);
    const gvks = copy[GVK_EXTENSION];
    if (Array.isArray(gvks)) {
      const kind = asString(asObject(gvks[0])?.["kind"]) ?? name.slice(name.lastIndexOf(".") + 1);
      copy[GVK_EXTENSION] = [{ group: target.group, kind, version: target.version }];
    }
    relaxLegacySpec(copy, targetName, target);
    definitions[targetName] = copy;
  }
  return renames;
}

/**
 * extensions/v1beta1 and apps/v1beta1 workloads did not require `spec.selector` (it was defaulted
 * from the template's labels) and had fields apps/v1 dropped: put that back so old kubectl
 * client-side validation accepts the manifests written for them.
 */
function relaxLegacySpec(def: JsonObject, name: string, target: GroupVersion): void {
  const legacy = target.group === "extensions" || (target.group === "apps" && target.version === "v1beta1");
  if (!legacy || !/\.(DaemonSet|Deployment|ReplicaSet|StatefulSet)Spec$/.test(name)) return;
  if (Array.isArray(def["required"])) {
    def["required"] = def["required"].filter((r) => r !== "selector");
    if ((def["required"] as unknown[]).length === 0) delete def["required"];
  }
  const props = asObject(def["properties"]);
  if (!props) return;
  if (name.endsWith("DeploymentSpec")) {
    props["rollbackTo"] = {
      description: "DEPRECATED. The config this deployment is rolling back to. Will be cleared after rollback is done.",
      type: "object",
      properties: {
        revision: {
          description: "The revision to rollback to. If set to 0, rollback to the last revision.",
          type: "integer",
          format: "int64",
        },
      },
    };
  }
  if (name.endsWith("DaemonSetSpec") && target.group === "extensions") {
    props["templateGeneration"] = {
      description: "DEPRECATED. A sequence number representing a specific generation of the template.",
      type: "integer",
      format: "int64",
    };
  }
}

export function isPathItemEmpty(item: JsonObject): boolean {
  return !OPERATION_METHODS.some((m) => item[m] !== undefined);
}
