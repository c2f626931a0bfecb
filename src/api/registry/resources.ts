/**
 * The declarative table of every built-in resource the API server serves. One row drives
 * discovery, routing, storage keys, the OpenAPI documents, printing and the REST strategy.
 */
export type NameRule = "dns1123subdomain" | "dns1123label" | "path-segment";

export interface ResourceVersionDef {
  version: string;
  /** Served but removed upstream (or deprecated): answers carry a `Warning: 299` header. */
  deprecated?: boolean;
  /** Text of the deprecation warning (after `299 - `). */
  warning?: string;
}

export interface ScaleDef {
  specReplicasPath: string[];
  statusReplicasPath: string[];
  /** Path of the label selector in the object (a metav1.LabelSelector) or undefined. */
  selectorPath?: string[];
}

export interface ResourceDef {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  /** Served versions; the first is the preferred (discovery) version. */
  versions: ResourceVersionDef[];
  /** The version objects are stored in (and converted to). */
  storageVersion: string;
  shortNames: string[];
  categories: string[];
  /** Has a /status subresource: the main endpoint ignores status changes, /status ignores the rest. */
  status: boolean;
  scale?: ScaleDef;
  /** Extra subresources handled elsewhere (binding, eviction, log, exec, attach, portforward, proxy, token, finalize). */
  extraSubresources: string[];
  nameRule: NameRule;
  verbs: string[];
  /** Generation is bumped when anything but metadata and status changes. Default true. */
  generation: boolean;
  /** A review: created and answered at once, never stored (access reviews, SelfSubjectReview). */
  review?: boolean;
}

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

interface Row {
  group?: string;
  kind: string;
  plural?: string;
  namespaced?: boolean;
  versions?: Array<string | ResourceVersionDef>;
  storage?: string;
  short?: string[];
  cat?: string[];
  status?: boolean;
  scale?: ScaleDef;
  extra?: string[];
  nameRule?: NameRule;
  verbs?: string[];
  generation?: boolean;
  review?: boolean;
}

const replicasScale: ScaleDef = {
  specReplicasPath: ["spec", "replicas"],
  statusReplicasPath: ["status", "replicas"],
  selectorPath: ["spec", "selector"],
};

/** A version upstream deprecated in `since` and removed in `until`; the warning is worded as upstream's. */
function removed(
  version: string,
  group: string,
  kind: string,
  since: string,
  until: string,
  use: string,
): ResourceVersionDef {
  return {
    version,
    deprecated: true,
    warning: `${group}/${version} ${kind} is deprecated in v${since}+, unavailable in v${until}+; use ${use} ${kind}`,
  };
}

const rows: Row[] = [
  // core
  { kind: "Namespace", namespaced: false, short: ["ns"], status: true, nameRule: "dns1123label", generation: false },
  { kind: "Node", namespaced: false, short: ["no"], status: true, extra: ["proxy"], generation: false },
  {
    kind: "Pod",
    short: ["po"],
    cat: ["all"],
    status: true,
    extra: ["binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers", "resize"],
    generation: true,
  },
  { kind: "Service", short: ["svc"], cat: ["all"], status: true, nameRule: "dns1123label", extra: ["proxy"] },
  { kind: "Endpoints", plural: "endpoints", short: ["ep"], generation: false },
  { kind: "ConfigMap", short: ["cm"], generation: false },
  { kind: "Secret", generation: false },
  { kind: "ServiceAccount", short: ["sa"], extra: ["token"], generation: false },
  { kind: "Event", short: ["ev"], generation: false },
  { kind: "PersistentVolume", namespaced: false, short: ["pv"], status: true },
  { kind: "PersistentVolumeClaim", short: ["pvc"], status: true },
  { kind: "ResourceQuota", short: ["quota"], status: true },
  { kind: "LimitRange", short: ["limits"] },
  { kind: "ReplicationController", short: ["rc"], cat: ["all"], status: true, scale: replicasScale },
  { kind: "PodTemplate", generation: false },
  // apps
  {
    group: "apps",
    kind: "Deployment",
    short: ["deploy"],
    cat: ["all"],
    status: true,
    scale: replicasScale,
    versions: [
      "v1",
      removed("v1beta2", "apps", "Deployment", "1.9", "1.16", "apps/v1"),
      removed("v1beta1", "apps", "Deployment", "1.9", "1.16", "apps/v1"),
    ],
  },
  {
    group: "apps",
    kind: "ReplicaSet",
    short: ["rs"],
    cat: ["all"],
    status: true,
    scale: replicasScale,
    versions: ["v1", removed("v1beta2", "apps", "ReplicaSet", "1.9", "1.16", "apps/v1")],
  },
  {
    group: "apps",
    kind: "DaemonSet",
    short: ["ds"],
    cat: ["all"],
    status: true,
    versions: ["v1", removed("v1beta2", "apps", "DaemonSet", "1.9", "1.16", "apps/v1")],
  },
  {
    group: "apps",
    kind: "StatefulSet",
    short: ["sts"],
    cat: ["all"],
    status: true,
    scale: replicasScale,
    versions: [
      "v1",
      removed("v1beta2", "apps", "StatefulSet", "1.9", "1.16", "apps/v1"),
      removed("v1beta1", "apps", "StatefulSet", "1.9", "1.16", "apps/v1"),
    ],
  },
  {
    group: "apps",
    kind: "ControllerRevision",
    versions: [
      "v1",
      removed("v1beta2", "apps", "ControllerRevision", "1.9", "1.16", "apps/v1"),
      removed("v1beta1", "apps", "ControllerRevision", "1.9", "1.16", "apps/v1"),
    ],
    generation: false,
  },
  // extensions/v1beta1 (removed upstream in 1.16; served for the seeds)
  {
    group: "extensions",
    kind: "DaemonSet",
    status: true,
    versions: [removed("v1beta1", "extensions", "DaemonSet", "1.14", "1.16", "apps/v1")],
    storage: "apps/v1",
  },
  {
    group: "extensions",
    kind: "Deployment",
    status: true,
    scale: replicasScale,
    versions: [removed("v1beta1", "extensions", "Deployment", "1.14", "1.16", "apps/v1")],
    storage: "apps/v1",
  },
  {
    group: "extensions",
    kind: "ReplicaSet",
    status: true,
    scale: replicasScale,
    versions: [removed("v1beta1", "extensions", "ReplicaSet", "1.14", "1.16", "apps/v1")],
    storage: "apps/v1",
  },
  // batch
  {
    group: "batch",
    kind: "Job",
    cat: ["all"],
    status: true,
  },
  {
    group: "batch",
    kind: "CronJob",
    short: ["cj"],
    cat: ["all"],
    status: true,
    versions: ["v1", removed("v1beta1", "batch", "CronJob", "1.21", "1.25", "batch/v1")],
  },
  // autoscaling
  {
    group: "autoscaling",
    kind: "HorizontalPodAutoscaler",
    short: ["hpa"],
    cat: ["all"],
    status: true,
    versions: [
      "v2",
      "v1",
      removed("v2beta2", "autoscaling", "HorizontalPodAutoscaler", "1.23", "1.26", "autoscaling/v2"),
    ],
    storage: "autoscaling/v2",
  },
  // policy
  { group: "policy", kind: "PodDisruptionBudget", short: ["pdb"], status: true },
  // storage
  { group: "storage.k8s.io", kind: "StorageClass", namespaced: false, short: ["sc"], generation: false },
  { group: "storage.k8s.io", kind: "CSIDriver", namespaced: false },
  { group: "storage.k8s.io", kind: "CSINode", namespaced: false },
  { group: "storage.k8s.io", kind: "VolumeAttachment", namespaced: false, status: true },
  { group: "storage.k8s.io", kind: "CSIStorageCapacity" },
  // coordination, scheduling, discovery, events, node
  { group: "coordination.k8s.io", kind: "Lease", generation: false },
  { group: "scheduling.k8s.io", kind: "PriorityClass", namespaced: false, short: ["pc"], generation: false },
  { group: "discovery.k8s.io", kind: "EndpointSlice", generation: false },
  { group: "events.k8s.io", kind: "Event", short: ["ev"], storage: "v1", generation: false },
  { group: "node.k8s.io", kind: "RuntimeClass", namespaced: false, generation: false },
  // networking
  { group: "networking.k8s.io", kind: "Ingress", short: ["ing"], status: true },
  { group: "networking.k8s.io", kind: "IngressClass", namespaced: false },
  { group: "networking.k8s.io", kind: "NetworkPolicy", short: ["netpol"] },
  // rbac
  { group: "rbac.authorization.k8s.io", kind: "Role", nameRule: "path-segment", generation: false },
  {
    group: "rbac.authorization.k8s.io",
    kind: "ClusterRole",
    namespaced: false,
    nameRule: "path-segment",
    generation: false,
  },
  { group: "rbac.authorization.k8s.io", kind: "RoleBinding", nameRule: "path-segment", generation: false },
  {
    group: "rbac.authorization.k8s.io",
    kind: "ClusterRoleBinding",
    namespaced: false,
    nameRule: "path-segment",
    generation: false,
  },
  // apiextensions
  {
    group: "apiextensions.k8s.io",
    kind: "CustomResourceDefinition",
    namespaced: false,
    short: ["crd", "crds"],
    cat: ["api-extensions"],
    status: true,
  },
  // reviews: answered, never stored
  {
    group: "authorization.k8s.io",
    kind: "SelfSubjectAccessReview",
    namespaced: false,
    verbs: ["create"],
    review: true,
  },
  { group: "authorization.k8s.io", kind: "SelfSubjectRulesReview", namespaced: false, verbs: ["create"], review: true },
  { group: "authorization.k8s.io", kind: "SubjectAccessReview", namespaced: false, verbs: ["create"], review: true },
  { group: "authorization.k8s.io", kind: "LocalSubjectAccessReview", verbs: ["create"], review: true },
  { group: "authentication.k8s.io", kind: "SelfSubjectReview", namespaced: false, verbs: ["create"], review: true },
  { group: "authentication.k8s.io", kind: "TokenReview", namespaced: false, verbs: ["create"], review: true },
  // certificates
  { group: "certificates.k8s.io", kind: "CertificateSigningRequest", namespaced: false, short: ["csr"], status: true },
];

function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith("s")) return `${lower}es`;
  if (lower.endsWith("y")) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

function toDef(r: Row): ResourceDef {
  const group = r.group ?? "";
  const versions = (r.versions ?? ["v1"]).map((v) => (typeof v === "string" ? { version: v } : v));
  const storage = r.storage ?? `${group === "" ? "" : `${group}/`}${versions[0]?.version ?? "v1"}`;
  return {
    group,
    kind: r.kind,
    plural: r.plural ?? pluralOf(r.kind),
    singular: r.kind.toLowerCase(),
    namespaced: r.namespaced ?? true,
    versions,
    storageVersion: storage,
    shortNames: r.short ?? [],
    categories: r.cat ?? [],
    status: r.status ?? false,
    scale: r.scale,
    extraSubresources: r.extra ?? [],
    nameRule: r.nameRule ?? "dns1123subdomain",
    verbs: r.verbs ?? ALL_VERBS,
    generation: r.generation ?? true,
    review: r.review,
  };
}

export const builtinResources: ResourceDef[] = rows.map(toDef);
