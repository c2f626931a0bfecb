/**
 * The catalog: every (group, version, resource) the server serves right now — the built-in table
 * plus CustomResourceDefinitions as they are established — with the converter to storage.
 */
import { type Converter, converterFor } from "../api/registry/conversion.js";
import { builtinResources, type ResourceDef, type ResourceVersionDef } from "../api/registry/resources.js";
import { apiVersionOf, isRecord, type KObject } from "../api/types.js";

export interface ServedVersion {
  def: ResourceDef;
  version: ResourceVersionDef;
  /** apiVersion of this served version, e.g. "apps/v1beta1". */
  apiVersion: string;
  converter: Converter;
  /** Group of the storage version ("" = core); the key space is shared by all versions/groups of a kind. */
  storageGroup: string;
  /** Store key prefix for the resource, ending with "/": /registry/<group|core>/<plural>/ */
  keyPrefix: string;
  /** Set for custom resources. */
  crd?: CrdInfo;
}

export interface CrdInfo {
  name: string;
  uid: string;
  /** The openAPIV3Schema of this version (for validation/unknown-field pruning), if any. */
  schema: unknown;
  additionalPrinterColumns: Array<{
    name: string;
    type: string;
    format?: string;
    description?: string;
    priority?: number;
    jsonPath: string;
  }>;
}

/** Group ordering in /apis, as upstream orders its groups (legacy extensions last among built-ins). */
const GROUP_ORDER = [
  "",
  "apiregistration.k8s.io",
  "apps",
  "events.k8s.io",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "autoscaling",
  "batch",
  "certificates.k8s.io",
  "networking.k8s.io",
  "policy",
  "rbac.authorization.k8s.io",
  "storage.k8s.io",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "scheduling.k8s.io",
  "coordination.k8s.io",
  "node.k8s.io",
  "discovery.k8s.io",
  "flowcontrol.apiserver.k8s.io",
  "extensions",
];

export function keyPrefixFor(storageGroup: string, plural: string): string {
  return `/registry/${storageGroup === "" ? "core" : storageGroup}/${plural}/`;
}

/** The store key of one object. */
export function objectKey(prefix: string, namespace: string | undefined, name: string): string {
  return namespace ? `${prefix}${namespace}/${name}` : `${prefix}${name}`;
}

export class Catalog {
  private byPath = new Map<string, ServedVersion>();
  private groups = new Map<string, { versions: string[] }>();
  private crdEntries = new Map<string, ServedVersion[]>();
  /** Bumped whenever the served set changes (discovery caches key on it). */
  generation = 0;

  constructor() {
    for (const def of builtinResources) this.addDef(def);
  }

  private addDef(def: ResourceDef, crd?: (version: string) => CrdInfo | undefined): ServedVersion[] {
    const slash = def.storageVersion.indexOf("/");
    const storageGroup = slash < 0 ? "" : def.storageVersion.slice(0, slash);
    const added: ServedVersion[] = [];
    for (const v of def.versions) {
      const apiVersion = apiVersionOf(def.group, v.version);
      const entry: ServedVersion = {
        def,
        version: v,
        apiVersion,
        converter: converterFor(def.group, v.version, def.kind, def.storageVersion),
        storageGroup,
        keyPrefix: keyPrefixFor(storageGroup, def.plural),
      };
      const info = crd?.(v.version);
      if (info) entry.crd = info;
      this.byPath.set(`${def.group}/${v.version}/${def.plural}`, entry);
      let g = this.groups.get(def.group);
      if (!g) {
        g = { versions: [] };
        this.groups.set(def.group, g);
      }
      if (!g.versions.includes(v.version)) g.versions.push(v.version);
      added.push(entry);
    }
    this.generation++;
    return added;
  }

  lookup(group: string, version: string, plural: string): ServedVersion | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** The served entry for an object's apiVersion + kind. */
  lookupKind(apiVersion: string, kind: string): ServedVersion | undefined {
    for (const e of this.byPath.values()) if (e.apiVersion === apiVersion && e.def.kind === kind) return e;
    return undefined;
  }

  all(): ServedVersion[] {
    return [...this.byPath.values()];
  }

  /** Groups in discovery order with their versions (preferred first). */
  groupList(): Array<{ name: string; versions: string[]; preferred: string }> {
    const names = [...this.groups.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    return names.map((name) => {
      const versions = sortVersions(this.groups.get(name)!.versions);
      return { name, versions, preferred: versions[0]! };
    });
  }

  resourcesIn(group: string, version: string): ServedVersion[] {
    return this.all().filter((e) => e.def.group === group && e.version.version === version);
  }

  /** Serves (or re-serves) a CustomResourceDefinition that is established. */
  upsertCrd(crd: KObject): void {
    this.removeCrd(crd.metadata.name ?? "");
    const spec = crd["spec"];
    if (!isRecord(spec) || !isRecord(spec["names"])) return;
    const names = spec["names"];
    const group = String(spec["group"] ?? "");
    const rawVersions = Array.isArray(spec["versions"]) ? spec["versions"].filter(isRecord) : [];
    const served = rawVersions.filter((v) => v["served"] !== false);
    if (served.length === 0 || group === "") return;
    const storage = rawVersions.find((v) => v["storage"] === true) ?? served[0]!;
    const sortedServed = sortVersions(served.map((v) => String(v["name"])));
    const def: ResourceDef = {
      group,
      kind: String(names["kind"]),
      plural: String(names["plural"]),
      singular: String(names["singular"] ?? String(names["kind"]).toLowerCase()),
      namespaced: spec["scope"] !== "Cluster",
      versions: sortedServed.map((v) => {
        const raw = served.find((r) => r["name"] === v)!;
        const out: ResourceVersionDef = { version: v };
        if (raw["deprecated"] === true) {
          out.deprecated = true;
          out.warning =
            typeof raw["deprecationWarning"] === "string"
              ? raw["deprecationWarning"]
              : `${group}/${v} ${String(names["kind"])} is deprecated`;
        }
        return out;
      }),
      storageVersion: `${group}/${String(storage["name"])}`,
      shortNames: Array.isArray(names["shortNames"]) ? names["shortNames"].map(String) : [],
      categories: Array.isArray(names["categories"]) ? names["categories"].map(String) : [],
      status: false,
      extraSubresources: [],
      nameRule: "path-segment",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      generation: true,
    };
    const byVersion = new Map(rawVersions.map((v) => [String(v["name"]), v]));
    const first = byVersion.get(sortedServed[0]!);
    const subs =
      first && isRecord(first["subresources"])
        ? first["subresources"]
        : isRecord(spec["subresources"])
          ? spec["subresources"]
          : {};
    if (isRecord(subs)) {
      if (subs["status"] !== undefined) def.status = true;
      const scale = subs["scale"];
      if (isRecord(scale)) {
        def.scale = {
          specReplicasPath: jsonPathToPath(String(scale["specReplicasPath"] ?? ".spec.replicas")),
          statusReplicasPath: jsonPathToPath(String(scale["statusReplicasPath"] ?? ".status.replicas")),
          selectorPath:
            typeof scale["labelSelectorPath"] === "string" ? jsonPathToPath(scale["labelSelectorPath"]) : undefined,
        };
      }
    }
    const entries = this.addDef(def, (version) => {
      const raw = byVersion.get(version);
      if (!raw) return undefined;
      const schema = isRecord(raw["schema"]) ? raw["schema"]["openAPIV3Schema"] : undefined;
      const cols = Array.isArray(raw["additionalPrinterColumns"])
        ? raw["additionalPrinterColumns"].filter(isRecord)
        : [];
      return {
        name: crd.metadata.name ?? "",
        uid: crd.metadata.uid ?? "",
        schema,
        additionalPrinterColumns: cols.map((c) => ({
          name: String(c["name"]),
          type: String(c["type"]),
          format: typeof c["format"] === "string" ? c["format"] : undefined,
          description: typeof c["description"] === "string" ? c["description"] : undefined,
          priority: typeof c["priority"] === "number" ? c["priority"] : undefined,
          jsonPath: String(c["jsonPath"]),
        })),
      };
    });
    this.crdEntries.set(crd.metadata.name ?? "", entries);
  }

  removeCrd(name: string): void {
    const entries = this.crdEntries.get(name);
    if (!entries) return;
    for (const e of entries) {
      this.byPath.delete(`${e.def.group}/${e.version.version}/${e.def.plural}`);
      const g = this.groups.get(e.def.group);
      if (g && !this.all().some((x) => x.def.group === e.def.group)) this.groups.delete(e.def.group);
      else if (g) g.versions = g.versions.filter((v) => this.lookupAnyInGroupVersion(e.def.group, v));
    }
    this.crdEntries.delete(name);
    this.generation++;
  }

  private lookupAnyInGroupVersion(group: string, version: string): boolean {
    return this.all().some((x) => x.def.group === group && x.version.version === version);
  }
}

function rank(group: string): number {
  const i = GROUP_ORDER.indexOf(group);
  return i < 0 ? GROUP_ORDER.length - 1 : i;
}

/** Kubernetes version priority: GA > beta > alpha, then by number descending. */
export function sortVersions(versions: string[]): string[] {
  const key = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0];
    const stage = m[2] === undefined ? 0 : m[2] === "beta" ? 1 : 2;
    return [stage, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  return [...versions].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2] || a.localeCompare(b);
  });
}

function jsonPathToPath(p: string): string[] {
  return p
    .replace(/^\./, "")
    .split(".")
    .filter((s) => s !== "");
}
