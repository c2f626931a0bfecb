/** How upstream names things after a group/version: URL prefixes, operation ids, tags, definition packages. */
import type { GroupVersionKind } from "../types.js";

export interface GroupVersion {
  group: string;
  version: string;
}

/** "/api/v1" or "/apis/apps/v1" (no trailing slash). */
export function gvPrefix(gv: GroupVersion): string {
  return gv.group === "" ? `/api/${gv.version}` : `/apis/${gv.group}/${gv.version}`;
}

/** The /openapi/v3 index key: "api/v1" or "apis/apps/v1". */
export function gvIndexKey(gv: GroupVersion): string {
  return gvPrefix(gv).slice(1);
}

function capitalize(s: string): string {
  return s === "" ? s : s[0]!.toUpperCase() + s.slice(1);
}

/** Group words as upstream spells them in operation ids: "" → Core, rbac.authorization.k8s.io → RbacAuthorization. */
function groupWords(group: string): string[] {
  if (group === "") return ["core"];
  const trimmed = group.endsWith(".k8s.io") ? group.slice(0, -".k8s.io".length) : group;
  return trimmed.split(/[.-]/).filter((w) => w !== "");
}

/** "AppsV1", "CoreV1", "RbacAuthorizationV1", "StableExampleComV1": the middle of upstream operation ids. */
export function operationGV(gv: GroupVersion): string {
  return groupWords(gv.group).map(capitalize).join("") + capitalize(gv.version);
}

/** "apps_v1", "core_v1", "rbacAuthorization_v1": the tag upstream puts on operations. */
export function operationTag(gv: GroupVersion): string {
  const words = groupWords(gv.group);
  return words.map((w, i) => (i === 0 ? w : capitalize(w))).join("") + "_" + gv.version;
}

/**
 * The definition package a group/version's types live in when the spec has none:
 * built-in groups follow "io.k8s.api.<short group>.<version>", others the reversed domain ("com.example.stable.v1").
 */
export function definitionPackage(gv: GroupVersion): string {
  if (gv.group === "") return `io.k8s.api.core.${gv.version}`;
  if (!gv.group.includes(".") || gv.group.endsWith(".k8s.io")) {
    return `io.k8s.api.${gv.group.split(".")[0]}.${gv.version}`;
  }
  return `${gv.group.split(".").reverse().join(".")}.${gv.version}`;
}

export function gvkEquals(a: GroupVersionKind, b: GroupVersionKind): boolean {
  return a.group === b.group && a.version === b.version && a.kind === b.kind;
}

export function gvkKey(g: GroupVersionKind): string {
  return `${g.group}/${g.version}/${g.kind}`;
}
