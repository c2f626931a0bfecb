/** Parsing the shape of Kubernetes REST paths ("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"). */
import type { GroupVersion } from "./names.js";
import { gvPrefix } from "./names.js";

export interface ResourcePath {
  kind: "resource";
  gv: GroupVersion;
  /** The deprecated "/watch/" form. */
  watch: boolean;
  /** The path goes through "namespaces/{namespace}/". */
  inNamespace: boolean;
  plural: string;
  /** The path names one object ("/{name}"). */
  item: boolean;
  /** What follows "{name}/": "status", "proxy/{path}", ... ("" for none). */
  rest: string;
}

export interface DiscoveryPath {
  kind: "discovery";
  /** "/api/", "/apis/" → no gv; "/apis/batch/" → group only; "/apis/batch/v1/" → both. */
  group?: string;
  gv?: GroupVersion;
}

export type ParsedPath = ResourcePath | DiscoveryPath | { kind: "other" };

export function parsePath(path: string): ParsedPath {
  const segs = path.split("/");
  // segs[0] is "" (leading slash).
  let gv: GroupVersion;
  let i: number;
  if (segs[1] === "api") {
    if (segs.length === 3 && segs[2] === "") return { kind: "discovery" };
    if (segs[2] === undefined || segs[2] === "") return { kind: "other" };
    gv = { group: "", version: segs[2] };
    i = 3;
  } else if (segs[1] === "apis") {
    const group = segs[2];
    if (group === undefined || group === "") return segs.length === 3 ? { kind: "discovery" } : { kind: "other" };
    const version = segs[3];
    if (version === undefined) return { kind: "other" };
    if (version === "") return segs.length === 4 ? { kind: "discovery", group } : { kind: "other" };
    gv = { group, version };
    i = 4;
  } else {
    return { kind: "other" };
  }
  const rest = segs.slice(i);
  if (rest.length === 0) return { kind: "other" };
  if (rest.length === 1 && rest[0] === "") return { kind: "discovery", group: gv.group, gv };
  let watch = false;
  if (rest[0] === "watch") {
    watch = true;
    rest.shift();
  }
  let inNamespace = false;
  if (rest[0] === "namespaces" && rest[1] === "{namespace}" && rest.length > 2) {
    inNamespace = true;
    rest.splice(0, 2);
  }
  const plural = rest.shift();
  if (plural === undefined || plural === "" || plural.startsWith("{")) return { kind: "other" };
  const item = rest[0] === "{name}";
  if (item) rest.shift();
  return { kind: "resource", gv, watch, inNamespace, plural, item, rest: rest.join("/") };
}

export function formatResourcePath(p: Omit<ResourcePath, "kind">): string {
  let out = gvPrefix(p.gv);
  if (p.watch) out += "/watch";
  if (p.inNamespace) out += "/namespaces/{namespace}";
  out += `/${p.plural}`;
  if (p.item) out += "/{name}";
  if (p.rest !== "") out += `/${p.rest}`;
  return out;
}

/** The subresource a resource path addresses ("" for the resource itself). */
export function subresourceOf(p: ResourcePath): string {
  return p.rest.split("/")[0] ?? "";
}

/** HTTP methods that carry operations in a path item. */
export const OPERATION_METHODS = ["get", "put", "post", "delete", "options", "head", "patch"] as const;

/** The Kubernetes verb for an `x-kubernetes-action` ("post" → "create"); undefined for connect-style actions. */
export function verbOfAction(action: string): string | undefined {
  switch (action) {
    case "get":
    case "list":
    case "patch":
    case "delete":
    case "deletecollection":
    case "watch":
      return action;
    case "watchlist":
      return "watch";
    case "post":
      return "create";
    case "put":
      return "update";
    default:
      return undefined;
  }
}
