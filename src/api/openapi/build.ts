/** Trimming the full 1.36 swagger to what this server serves, and filling in what 1.36 no longer has. */
import type { GroupVersionKind } from "../types.js";
import { isRecord } from "../types.js";
import { cloneDiscoveryItem, cloneKindDefinitions, clonePathItem, GVK_EXTENSION, isPathItemEmpty } from "./clone.js";
import type { CustomResourceInput } from "./crd.js";
import { customResourceDefinitions, toSwagger2Schema } from "./crd.js";
import type { JsonObject } from "./json.js";
import { asObject, asString, definitionClosure, definitionRefs, forEachRef, PARAMETERS_PREFIX } from "./json.js";
import type { GroupVersion } from "./names.js";
import { definitionPackage, gvkKey, gvPrefix } from "./names.js";
import type { ResourcePath } from "./paths.js";
import { OPERATION_METHODS, parsePath, subresourceOf, verbOfAction } from "./paths.js";

export interface ServedResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: string[];
  subresources: string[];
  /** the version objects are converted to/from; legacy versions map to these definitions */
  definitionGVK?: { group: string; version: string; kind: string };
  deprecated?: boolean;
}

/** The trimmed swagger 2.0 document, plus the v3 forms of definitions that are richer than their v2 form. */
export interface SpecModel {
  swagger: JsonObject;
  /** Definition name → schema to publish in /openapi/v3 instead of converting the v2 one (custom resources). */
  v3Definitions: Map<string, JsonObject>;
}

/** Where legacy kinds moved to, beyond "the same group, its most stable version". */
const MOVED_GROUPS: Record<string, string[]> = {
  extensions: ["apps", "networking.k8s.io", "policy"],
};

/** Definitions always published: the meta types clients decode (Status, DeleteOptions, WatchEvent, ...). */
const ALWAYS_DEFINITION_PREFIXES = ["io.k8s.apimachinery.pkg.apis.meta.v1.", "io.k8s.apimachinery.pkg.version."];

/** Meta kinds whose x-kubernetes-group-version-kind lists every group/version. */
const PER_GV_META_KINDS: Array<[string, string]> = [
  ["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "DeleteOptions"],
  ["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "WatchEvent"],
];

const CRD_TEMPLATE = { gv: { group: "apps", version: "v1" }, plural: "deployments", kind: "Deployment" };

function versionRank(version: string): number {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
  if (m === null) return 0;
  const major = Number(m[1]);
  const stage = m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1;
  return stage * 1_000_000 + major * 1000 + Number(m[3] ?? 0);
}

function gvkOf(v: unknown): GroupVersionKind | undefined {
  const o = asObject(v);
  if (o === undefined) return undefined;
  const group = asString(o["group"]);
  const version = asString(o["version"]);
  const kind = asString(o["kind"]);
  return group === undefined || version === undefined || kind === undefined ? undefined : { group, version, kind };
}

function normalizeSubresource(s: string): string {
  const i = s.indexOf("/");
  return i < 0 ? s : s.slice(i + 1);
}

interface SpecIndex {
  /** "group/version/plural" → resource paths. */
  resourcePaths: Map<string, Array<[string, ResourcePath]>>;
  /** gvkKey → definition name. */
  definitionByGVK: Map<string, string>;
  /** gvkKey → plural (from the collection path's operations). */
  pluralByGVK: Map<string, string>;
  kinds: GroupVersionKind[];
}

function resourceKey(group: string, version: string, plural: string): string {
  return `${group}/${version}/${plural}`;
}

function indexSpec(paths: Record<string, unknown>, definitions: Record<string, unknown>): SpecIndex {
  const resourcePaths = new Map<string, Array<[string, ResourcePath]>>();
  const pluralByGVK = new Map<string, string>();
  for (const [path, item] of Object.entries(paths)) {
    const parsed = parsePath(path);
    if (parsed.kind !== "resource") continue;
    const key = resourceKey(parsed.gv.group, parsed.gv.version, parsed.plural);
    const list = resourcePaths.get(key) ?? [];
    resourcePaths.set(key, list);
    list.push([path, parsed]);
    if (!parsed.item && parsed.rest === "" && !parsed.watch && isRecord(item)) {
      const gvk = gvkOf(asObject(item["get"])?.[GVK_EXTENSION]);
      if (gvk !== undefined && gvk.group === parsed.gv.group && gvk.version === parsed.gv.version) {
        pluralByGVK.set(gvkKey(gvk), parsed.plural);
      }
    }
  }
  const definitionByGVK = new Map<string, string>();
  const kinds: GroupVersionKind[] = [];
  for (const [name, def] of Object.entries(definitions)) {
    const gvks = isRecord(def) ? def[GVK_EXTENSION] : undefined;
    if (!Array.isArray(gvks) || gvks.length !== 1) continue;
    const gvk = gvkOf(gvks[0]);
    if (gvk === undefined) continue;
    definitionByGVK.set(gvkKey(gvk), name);
    kinds.push(gvk);
  }
  return { resourcePaths, definitionByGVK, pluralByGVK, kinds };
}

/** The built-in kind a legacy (or unknown-to-1.36) served kind is cloned from. */
function legacySource(r: ServedResource, index: SpecIndex): GroupVersionKind | undefined {
  if (r.definitionGVK !== undefined && index.definitionByGVK.has(gvkKey(r.definitionGVK))) return r.definitionGVK;
  const moved = MOVED_GROUPS[r.group] ?? [];
  let best: GroupVersionKind | undefined;
  let bestScore = -1;
  for (const gvk of index.kinds) {
    if (gvk.kind !== r.kind || !index.pluralByGVK.has(gvkKey(gvk))) continue;
    const groupScore = gvk.group === r.group ? 2 : moved.includes(gvk.group) ? 1 : 0;
    if (groupScore === 0) continue;
    const score = groupScore * 10_000_000 + versionRank(gvk.version);
    if (score > bestScore) {
      bestScore = score;
      best = gvk;
    }
  }
  return best;
}

interface PathFilter {
  verbs: Set<string>;
  subresources: Set<string>;
}

/** The path item with only the operations this server serves; undefined when none is left. */
function filterPathItem(parsed: ResourcePath, item: JsonObject, filter: PathFilter): JsonObject | undefined {
  const sub = subresourceOf(parsed);
  if (sub !== "" && !filter.subresources.has(sub)) return undefined;
  if (sub !== "" || filter.verbs.size === 0) return item;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(item)) {
    if ((OPERATION_METHODS as readonly string[]).includes(key)) {
      const action = asString(asObject(value)?.["x-kubernetes-action"]) ?? "";
      const verb = verbOfAction(action);
      if (verb !== undefined && !filter.verbs.has(verb)) continue;
    }
    out[key] = value;
  }
  return isPathItemEmpty(out) ? undefined : out;
}

/** A definition that accepts any object, for a served kind nothing describes. */
function permissiveDefinition(gvk: GroupVersionKind): JsonObject {
  return {
    description: `${gvk.kind} (${gvk.group === "" ? "" : `${gvk.group}/`}${gvk.version}); no schema is published for it.`,
    type: "object",
    "x-kubernetes-preserve-unknown-fields": true,
    [GVK_EXTENSION]: [{ group: gvk.group, kind: gvk.kind, version: gvk.version }],
  };
}

export function buildModel(
  spec: JsonObject,
  resources: readonly ServedResource[],
  crds: readonly CustomResourceInput[],
): SpecModel {
  const specPaths = asObject(spec["paths"]) ?? {};
  const definitions = asObject(spec["definitions"]) ?? {};
  const specParameters = asObject(spec["parameters"]) ?? {};
  const index = indexSpec(specPaths, definitions);
  const outPaths: JsonObject = {};
  const rootDefinitions = new Set<string>();
  const servedGVs = new Map<string, GroupVersion>();
  const v3Definitions = new Map<string, JsonObject>();
  const crdKeys = new Set(crds.map((c) => resourceKey(c.group, c.version, c.plural)));

  const requireDefinition = (gvk: GroupVersionKind, fallbackPackage: string): void => {
    const name = index.definitionByGVK.get(gvkKey(gvk));
    if (name !== undefined) {
      rootDefinitions.add(name);
      return;
    }
    const synthesized = `${fallbackPackage}.${gvk.kind}`;
    if (definitions[synthesized] === undefined) definitions[synthesized] = permissiveDefinition(gvk);
    index.definitionByGVK.set(gvkKey(gvk), synthesized);
    rootDefinitions.add(synthesized);
  };

  for (const r of resources) {
    const gv = { group: r.group, version: r.version };
    const key = resourceKey(r.group, r.version, r.plural);
    if (crdKeys.has(key)) continue;
    servedGVs.set(gvPrefix(gv), gv);
    const filter: PathFilter = {
      verbs: new Set(r.verbs),
      subresources: new Set(r.subresources.map(normalizeSubresource)),
    };
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const own = index.resourcePaths.get(key);
    if (own !== undefined) {
      for (const [path, parsed] of own) {
        const item = filterPathItem(parsed, specPaths[path] as JsonObject, filter);
        if (item !== undefined) outPaths[path] = item;
      }
      requireDefinition(gvk, definitionPackage(gv));
      continue;
    }
    const source = legacySource(r, index);
    if (source !== undefined && !index.definitionByGVK.has(gvkKey(gvk))) {
      const sourceName = index.definitionByGVK.get(gvkKey(source))!;
      const sourcePackage = sourceName.slice(0, sourceName.lastIndexOf("."));
      const targetPackage =
        source.group === r.group ? sourcePackage.replace(/\.[^.]+$/, `.${r.version}`) : definitionPackage(gv);
      const renames = cloneKindDefinitions(definitions, sourceName, gv, targetPackage);
      const target = renames.get(sourceName);
      if (target !== undefined) index.definitionByGVK.set(gvkKey(gvk), target);
      const targetList = renames.get(`${sourceName}List`);
      if (targetList !== undefined) {
        index.definitionByGVK.set(gvkKey({ ...gvk, kind: `${r.kind}List` }), targetList);
      }
    }
    const sourcePlural = source === undefined ? undefined : index.pluralByGVK.get(gvkKey(source));
    const sourcePaths =
      source === undefined || sourcePlural === undefined
        ? undefined
        : index.resourcePaths.get(resourceKey(source.group, source.version, sourcePlural));
    if (source !== undefined && sourcePlural !== undefined && sourcePaths !== undefined) {
      const sourceName = index.definitionByGVK.get(gvkKey(source))!;
      const renames = new Map<string, string>();
      const target = index.definitionByGVK.get(gvkKey(gvk));
      const targetList = index.definitionByGVK.get(gvkKey({ ...gvk, kind: `${r.kind}List` }));
      if (target !== undefined) renames.set(sourceName, target);
      if (targetList !== undefined) renames.set(`${sourceName}List`, targetList);
      const rename = {
        from: { gv: { group: source.group, version: source.version }, plural: sourcePlural, kind: source.kind },
        to: { gv, plural: r.plural, kind: r.kind },
        definitions: renames,
      };
      for (const [path, parsed] of sourcePaths) {
        const item = filterPathItem(parsed, specPaths[path] as JsonObject, filter);
        if (item === undefined) continue;
        const [newPath, copy] = clonePathItem(parsed, item, rename);
        outPaths[newPath] = copy;
      }
    }
    requireDefinition(gvk, definitionPackage(gv));
  }

  addCustomResources(crds, resources, specPaths, definitions, index, outPaths, rootDefinitions, v3Definitions);
  for (const c of crds) servedGVs.set(gvPrefix(c), { group: c.group, version: c.version });

  addDiscoveryPaths(specPaths, outPaths, servedGVs);
  addMetaGVKs(definitions, servedGVs);

  // Parameters and definitions the kept paths use.
  const parameters: JsonObject = {};
  forEachRef(outPaths, (ref) => {
    if (!ref.startsWith(PARAMETERS_PREFIX)) return;
    const name = ref.slice(PARAMETERS_PREFIX.length);
    const p = specParameters[name];
    if (p !== undefined) parameters[name] = p;
  });
  const roots = new Set<string>([...rootDefinitions, ...definitionRefs(outPaths), ...definitionRefs(parameters)]);
  for (const name of Object.keys(definitions)) {
    if (ALWAYS_DEFINITION_PREFIXES.some((p) => name.startsWith(p))) roots.add(name);
  }
  const kept = definitionClosure(definitions, roots);
  const outDefinitions: JsonObject = {};
  for (const name of [...kept].sort()) outDefinitions[name] = definitions[name];

  const swagger: JsonObject = {
    definitions: outDefinitions,
    info: spec["info"] ?? { title: "Kubernetes", version: "unversioned" },
    parameters,
    paths: outPaths,
    security: spec["security"] ?? [{ BearerToken: [] }],
    securityDefinitions: spec["securityDefinitions"] ?? {},
    swagger: "2.0",
  };
  return { swagger, v3Definitions };
}

function addCustomResources(
  crds: readonly CustomResourceInput[],
  resources: readonly ServedResource[],
  specPaths: JsonObject,
  definitions: JsonObject,
  index: SpecIndex,
  outPaths: JsonObject,
  rootDefinitions: Set<string>,
  v3Definitions: Map<string, JsonObject>,
): void {
  if (crds.length === 0) return;
  const template = CRD_TEMPLATE;
  const templateName = index.definitionByGVK.get(gvkKey({ ...template.gv, kind: template.kind }));
  const templateDef = templateName === undefined ? undefined : asObject(definitions[templateName]);
  const templateProps = asObject(templateDef?.["properties"]) ?? {};
  const listProps = asObject(asObject(definitions[`${templateName}List`])?.["properties"]) ?? {};
  const standard = {
    apiVersion: templateProps["apiVersion"] ?? { type: "string" },
    kind: templateProps["kind"] ?? { type: "string" },
    metadata: templateProps["metadata"] ?? {},
    listMetadata: listProps["metadata"] ?? {},
  };
  const templatePaths = index.resourcePaths.get(resourceKey(template.gv.group, template.gv.version, template.plural));
  for (const crd of crds) {
    const gv = { group: crd.group, version: crd.version };
    const defs = customResourceDefinitions(crd, standard);
    for (const [name, schema] of [defs.kind, defs.list]) {
      v3Definitions.set(name, schema);
      definitions[name] = toSwagger2Schema(schema);
      rootDefinitions.add(name);
    }
    index.definitionByGVK.set(gvkKey({ ...gv, kind: crd.kind }), defs.kind[0]);
    if (templatePaths === undefined || templateName === undefined) continue;
    const served = resources.find((r) => r.group === crd.group && r.version === crd.version && r.plural === crd.plural);
    const filter: PathFilter = {
      verbs: new Set(served?.verbs ?? []),
      subresources: new Set((crd.subresources ?? served?.subresources ?? []).map(normalizeSubresource)),
    };
    const rename = {
      from: template,
      to: { gv, plural: crd.plural, kind: crd.kind },
      definitions: new Map([
        [templateName, defs.kind[0]],
        [`${templateName}List`, defs.list[0]],
      ]),
      clusterScoped: !crd.namespaced,
    };
    for (const [path, parsed] of templatePaths) {
      if (parsed.watch) continue;
      if (!crd.namespaced && !parsed.inNamespace && !parsed.item) continue;
      const item = filterPathItem(parsed, specPaths[path] as JsonObject, filter);
      if (item === undefined) continue;
      const [newPath, copy] = clonePathItem(parsed, item, rename);
      dropProtobuf(copy);
      outPaths[newPath] = copy;
    }
  }
}

/**
 * Custom resources are not served as protobuf, and take no strategic merge patch (kubectl reads
 * the PATCH operation's media types to decide whether `kubectl apply` may send one).
 */
function dropProtobuf(item: JsonObject): void {
  const unsupported = new Set(["application/vnd.kubernetes.protobuf", "application/strategic-merge-patch+json"]);
  for (const method of OPERATION_METHODS) {
    const op = asObject(item[method]);
    if (op === undefined) continue;
    for (const key of ["consumes", "produces"]) {
      const list = op[key];
      if (Array.isArray(list)) op[key] = list.filter((t) => !unsupported.has(String(t)));
    }
  }
}

/** "/api/", "/apis/", "/version/", and the group and group/version discovery paths of what is served. */
function addDiscoveryPaths(specPaths: JsonObject, outPaths: JsonObject, servedGVs: Map<string, GroupVersion>): void {
  for (const p of ["/api/", "/apis/", "/version/"]) {
    const item = specPaths[p];
    if (item !== undefined) outPaths[p] = item;
  }
  const groupTemplate = asObject(specPaths["/apis/batch/"]);
  const gvTemplate = asObject(specPaths["/apis/batch/v1/"]);
  const templateGV = { group: "batch", version: "v1" };
  for (const gv of servedGVs.values()) {
    const gvPath = `${gvPrefix(gv)}/`;
    const own = asObject(specPaths[gvPath]);
    if (own !== undefined) outPaths[gvPath] = own;
    else if (gvTemplate !== undefined) outPaths[gvPath] = cloneDiscoveryItem(gvTemplate, templateGV, gv, false);
    if (gv.group === "") continue;
    const groupPath = `/apis/${gv.group}/`;
    const ownGroup = asObject(specPaths[groupPath]);
    if (ownGroup !== undefined) outPaths[groupPath] = ownGroup;
    else if (groupTemplate !== undefined) outPaths[groupPath] = cloneDiscoveryItem(groupTemplate, templateGV, gv, true);
  }
}

/** DeleteOptions and WatchEvent are listed for every group/version: add the served ones 1.36 lacks. */
function addMetaGVKs(definitions: JsonObject, servedGVs: Map<string, GroupVersion>): void {
  for (const [name, kind] of PER_GV_META_KINDS) {
    const def = asObject(definitions[name]);
    const list = def?.[GVK_EXTENSION];
    if (def === undefined || !Array.isArray(list)) continue;
    const have = new Set(list.map((g) => gvkKey(gvkOf(g) ?? { group: "?", version: "?", kind: "?" })));
    const sorted = [...servedGVs.values()].sort((a, b) => gvkKey({ ...a, kind }).localeCompare(gvkKey({ ...b, kind })));
    for (const gv of sorted) {
      const gvk = { group: gv.group, kind, version: gv.version };
      if (!have.has(gvkKey(gvk))) list.push(gvk);
    }
  }
}
