/**
 * Discovery documents built from the catalog: /api, /apis, /apis/<group>, group-version resource
 * lists, and the aggregated (apidiscovery.k8s.io v2 / v2beta1) form kubectl 1.30+ asks for.
 */
import { createHash } from "node:crypto";
import type { Catalog, ServedVersion } from "./catalog.js";

interface SubresourceInfo {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

function subresourcesOf(sv: ServedVersion): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  const d = sv.def;
  if (d.status) out.push({ name: "status", kind: d.kind, verbs: ["get", "patch", "update"] });
  if (d.scale)
    out.push({ name: "scale", kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] });
  if (d.kind === "Namespace" && d.group === "") out.push({ name: "finalize", kind: "Namespace", verbs: ["update"] });
  for (const s of d.extraSubresources) {
    switch (s) {
      case "binding":
        out.push({ name: s, kind: "Binding", verbs: ["create"] });
        break;
      case "eviction":
        out.push({ name: s, kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] });
        break;
      case "log":
        out.push({ name: s, kind: "Pod", verbs: ["get"] });
        break;
      case "exec":
        out.push({ name: s, kind: "PodExecOptions", verbs: ["create", "get"] });
        break;
      case "attach":
        out.push({ name: s, kind: "PodAttachOptions", verbs: ["create", "get"] });
        break;
      case "portforward":
        out.push({ name: s, kind: "PodPortForwardOptions", verbs: ["create", "get"] });
        break;
      case "proxy":
        out.push({ name: s, kind: `${d.kind}ProxyOptions`, verbs: ["create", "delete", "get", "patch", "update"] });
        break;
      case "token":
        out.push({ name: s, kind: "TokenRequest", group: "authentication.k8s.io", version: "v1", verbs: ["create"] });
        break;
      case "ephemeralcontainers":
      case "resize":
        out.push({ name: s, kind: "Pod", verbs: ["get", "patch", "update"] });
        break;
      default:
        break;
    }
  }
  return out;
}

function storageVersionHash(sv: ServedVersion): string {
  return createHash("sha256").update(`${sv.def.storageVersion}/${sv.def.kind}`).digest("base64").slice(0, 11);
}

/** The APIResourceList of one group-version. */
export function resourceList(catalog: Catalog, group: string, version: string): Record<string, unknown> | undefined {
  const entries = catalog.resourcesIn(group, version);
  if (entries.length === 0) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  if (group === "" && version === "v1") {
    resources.push({ name: "bindings", singularName: "binding", namespaced: true, kind: "Binding", verbs: ["create"] });
  }
  for (const sv of entries.sort((a, b) => a.def.plural.localeCompare(b.def.plural))) {
    const d = sv.def;
    const r: Record<string, unknown> = {
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
    };
    if (d.shortNames.length > 0) r["shortNames"] = d.shortNames;
    if (d.categories.length > 0) r["categories"] = d.categories;
    r["storageVersionHash"] = storageVersionHash(sv);
    resources.push(r);
    for (const s of subresourcesOf(sv)) {
      const sr: Record<string, unknown> = { name: `${d.plural}/${s.name}`, singularName: "", namespaced: d.namespaced };
      if (s.group !== undefined) sr["group"] = s.group;
      if (s.version !== undefined) sr["version"] = s.version;
      sr["kind"] = s.kind;
      sr["verbs"] = s.verbs;
      resources.push(sr);
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function groupDoc(name: string, versions: string[], preferred: string): Record<string, unknown> {
  const gv = (v: string) => ({ groupVersion: `${name}/${v}`, version: v });
  return { name, versions: versions.map(gv), preferredVersion: gv(preferred) };
}

export function apiGroupList(catalog: Catalog): Record<string, unknown> {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: catalog
      .groupList()
      .filter((g) => g.name !== "")
      .map((g) => groupDoc(g.name, g.versions, g.preferred)),
  };
}

export function apiGroup(catalog: Catalog, name: string): Record<string, unknown> | undefined {
  const g = catalog.groupList().find((x) => x.name === name && name !== "");
  if (!g) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...groupDoc(g.name, g.versions, g.preferred) };
}

/** The aggregated discovery document for /api (core) or /apis (every other group). */
export function aggregatedDiscovery(catalog: Catalog, core: boolean, apiVersion: string): Record<string, unknown> {
  const items = catalog
    .groupList()
    .filter((g) => (g.name === "") === core)
    .map((g) => ({
      metadata: core ? { creationTimestamp: null } : { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: catalog
          .resourcesIn(g.name, v)
          .sort((a, b) => a.def.plural.localeCompare(b.def.plural))
          .map((sv) => {
            const d = sv.def;
            const r: Record<string, unknown> = {
              resource: d.plural,
              responseKind: { group: d.group, version: v, kind: d.kind },
              scope: d.namespaced ? "Namespaced" : "Cluster",
              singularResource: d.singular,
              verbs: d.verbs,
            };
            if (d.shortNames.length > 0) r["shortNames"] = d.shortNames;
            if (d.categories.length > 0) r["categories"] = d.categories;
            const subs = subresourcesOf(sv);
            if (subs.length > 0) {
              r["subresources"] = subs.map((s) => ({
                subresource: s.name,
                responseKind: { group: s.group ?? d.group, version: s.version ?? v, kind: s.kind },
                verbs: s.verbs,
              }));
            }
            return r;
          }),
        freshness: "Current",
      })),
    }));
  return { kind: "APIGroupDiscoveryList", apiVersion, metadata: {}, items };
}
