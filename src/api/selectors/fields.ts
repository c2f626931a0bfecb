/**
 * Field selectors as k8s.io/apimachinery/pkg/fields (`metadata.name=x,status.phase!=Running`), the per-kind table of
 * selectable field labels with upstream's conversion errors, and the field sets objects expose for matching.
 */

import { isRecord, type KObject } from "../types.js";

export type FieldOperator = "=" | "==" | "!=";

export interface FieldRequirement {
  field: string;
  operator: FieldOperator;
  /** Unescaped value. */
  value: string;
}

export class FieldSelectorError extends Error {
  override name = "FieldSelectorError";
}

export type Fields = Readonly<Record<string, string>>;

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  matches(fields: Fields): boolean;
  empty(): boolean;
  /** Upstream String(): terms joined by ",", values escaped. */
  toString(): string;
  /** The value a `=`/`==` term pins `field` to, if any. */
  requiresExactMatch(field: string): string | undefined;
}

/** fields.EscapeValue. */
export function escapeFieldValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/,/g, "\\,").replace(/=/g, "\\=");
}

/** fields.UnescapeValue; throws with upstream's messages. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === "\\" || c === "," || c === "=") out += c;
      else throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === "\\") inSlash = true;
    else if (c === "," || c === "=")
      throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new FieldSelectorError("invalid field selector: invalid escape sequence: \\");
  return out;
}

function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const TERM_OPERATORS: readonly FieldOperator[] = ["!=", "==", "="];

function splitTerm(term: string): { lhs: string; op: FieldOperator; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function termString(r: FieldRequirement): string {
  return `${r.field}${r.operator === "!=" ? "!=" : "="}${escapeFieldValue(r.value)}`;
}

class TermsSelector implements FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}
  matches(fields: Fields): boolean {
    for (const r of this.requirements) {
      const v = Object.hasOwn(fields, r.field) ? fields[r.field] : "";
      if (r.operator === "!=" ? v === r.value : v !== r.value) return false;
    }
    return true;
  }
  empty(): boolean {
    return this.requirements.length === 0;
  }
  toString(): string {
    return this.requirements.map(termString).join(",");
  }
  requiresExactMatch(field: string): string | undefined {
    for (const r of this.requirements) if (r.field === field && r.operator !== "!=") return r.value;
    return undefined;
  }
}

/** Parses like upstream `fields.ParseSelector`; throws FieldSelectorError with upstream's message. */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === "") continue;
    const t = splitTerm(part);
    if (!t) throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    reqs.push({ field: t.lhs, operator: t.op, value: unescapeFieldValue(t.rhs) });
  }
  return new TermsSelector(reqs);
}

// ---- selectable field labels per resource (upstream's field label conversion funcs) ----

interface FieldLabelRule {
  kind: string;
  labels: readonly string[];
  /** Renders the conversion error for an unsupported label. */
  error: (label: string) => string;
}

const plain = (label: string): string => `field label not supported: ${label}`;
const defaultError = (label: string): string =>
  `${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`;
const batchError =
  (kind: string) =>
  (label: string): string =>
    `field label ${JSON.stringify(label)} not supported for ${JSON.stringify(kind)}`;

const META = ["metadata.name", "metadata.namespace"] as const;

const RULES: Readonly<Record<string, FieldLabelRule>> = {
  "/pods": {
    kind: "Pod",
    labels: [
      ...META,
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "spec.hostNetwork",
      "status.phase",
      "status.podIP",
      "status.podIPs",
      "status.nominatedNodeName",
      "spec.host",
    ],
    error: plain,
  },
  "/nodes": { kind: "Node", labels: ["metadata.name", "spec.unschedulable"], error: plain },
  "/replicationcontrollers": { kind: "ReplicationController", labels: [...META, "status.replicas"], error: plain },
  "/events": {
    kind: "Event",
    labels: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "source",
      "type",
      ...META,
    ],
    error: plain,
  },
  "/namespaces": { kind: "Namespace", labels: ["status.phase", "metadata.name"], error: plain },
  "/secrets": { kind: "Secret", labels: ["type", ...META], error: plain },
  "/services": { kind: "Service", labels: [...META, "spec.clusterIP", "spec.type"], error: plain },
  "batch/jobs": { kind: "Job", labels: [...META, "status.successful"], error: batchError("Job") },
  "batch/cronjobs": { kind: "CronJob", labels: [...META, "status.successful"], error: batchError("CronJob") },
  "certificates.k8s.io/certificatesigningrequests": {
    kind: "CertificateSigningRequest",
    labels: ["metadata.name", "spec.signerName"],
    error: plain,
  },
  "certificates.k8s.io/clustertrustbundles": {
    kind: "ClusterTrustBundle",
    labels: ["metadata.name", "spec.signerName"],
    error: plain,
  },
  "resource.k8s.io/resourceslices": {
    kind: "ResourceSlice",
    labels: ["metadata.name", "spec.nodeName", "spec.driver"],
    error: (label) => `field label not supported for resource.k8s.io/v1, Kind=ResourceSlice: ${label}`,
  },
};

/** The field labels a resource accepts in a field selector (upstream's conversion table). */
export function supportedFieldLabels(group: string, resource: string): readonly string[] {
  return RULES[`${group}/${resource}`]?.labels ?? META;
}

/**
 * Checks one field label for a resource as upstream's ConvertFieldLabel does: returns the label to use (pods map the
 * legacy `spec.host` to `spec.nodeName`), or throws FieldSelectorError with the upstream message.
 */
export function convertFieldLabel(group: string, resource: string, label: string): string {
  const rule = RULES[`${group}/${resource}`];
  if (!rule) {
    if (label === "metadata.name" || label === "metadata.namespace") return label;
    throw new FieldSelectorError(defaultError(label));
  }
  if (!rule.labels.includes(label)) throw new FieldSelectorError(rule.error(label));
  if (group === "" && resource === "pods" && label === "spec.host") return "spec.nodeName";
  return label;
}

/** Parses a field selector and checks every label against the resource's table (the API server's list path). */
export function parseFieldSelectorFor(group: string, resource: string, selector: string): FieldSelector {
  const parsed = parseFieldSelector(selector);
  const reqs = parsed.requirements.map((r) => ({ ...r, field: convertFieldLabel(group, resource, r.field) }));
  return new TermsSelector(reqs);
}

// ---- field sets of objects ----

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function int(v: unknown): string {
  return typeof v === "number" ? String(Math.trunc(v)) : "0";
}

function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/**
 * The selectable fields of an object of the given resource, as upstream's GetAttrs/ToSelectableFields build them.
 * Always includes metadata.name and metadata.namespace ("" for cluster-scoped objects).
 */
export function fieldsOf(group: string, resource: string, obj: KObject): Record<string, string> {
  const f: Record<string, string> = {
    "metadata.name": obj.metadata?.name ?? "",
    "metadata.namespace": obj.metadata?.namespace ?? "",
  };
  const spec = rec(obj["spec"]);
  const status = rec(obj["status"]);
  switch (`${group}/${resource}`) {
    case "/pods": {
      f["spec.nodeName"] = str(spec["nodeName"]);
      f["spec.restartPolicy"] = str(spec["restartPolicy"]);
      f["spec.schedulerName"] = str(spec["schedulerName"]);
      f["spec.serviceAccountName"] = str(spec["serviceAccountName"]);
      f["spec.hostNetwork"] = spec["hostNetwork"] === true ? "true" : "false";
      f["status.phase"] = str(status["phase"]);
      const ips = Array.isArray(status["podIPs"]) ? (status["podIPs"] as unknown[]).map((p) => str(rec(p)["ip"])) : [];
      f["status.podIP"] = ips[0] ?? str(status["podIP"]);
      f["status.podIPs"] = ips.length > 0 ? ips.join(",") : str(status["podIP"]);
      f["status.nominatedNodeName"] = str(status["nominatedNodeName"]);
      break;
    }
    case "/nodes":
      f["spec.unschedulable"] = spec["unschedulable"] === true ? "true" : "false";
      break;
    case "/replicationcontrollers":
    case "apps/replicasets":
      f["status.replicas"] = int(status["replicas"]);
      break;
    case "/events": {
      const io = rec(obj["involvedObject"]);
      for (const k of ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"])
        f[`involvedObject.${k}`] = str(io[k]);
      f["reason"] = str(obj["reason"]);
      f["reportingComponent"] = str(obj["reportingComponent"]);
      f["source"] = str(rec(obj["source"])["component"]) || str(obj["reportingComponent"]);
      f["type"] = str(obj["type"]);
      break;
    }
    case "/namespaces":
      f["status.phase"] = str(status["phase"]);
      break;
    case "/secrets":
      f["type"] = str(obj["type"]);
      break;
    case "/services":
      f["spec.clusterIP"] = str(spec["clusterIP"]);
      f["spec.type"] = str(spec["type"]);
      break;
    case "batch/jobs":
      f["status.successful"] = int(status["succeeded"]);
      break;
    case "certificates.k8s.io/certificatesigningrequests":
    case "certificates.k8s.io/clustertrustbundles":
      f["spec.signerName"] = str(spec["signerName"]);
      break;
    case "resource.k8s.io/resourceslices":
      f["spec.nodeName"] = str(spec["nodeName"]);
      f["spec.driver"] = str(spec["driver"]);
      break;
  }
  return f;
}

/**
 * A predicate for list/watch filtering: parses and checks the selector once (throws FieldSelectorError), then tests
 * objects against their field sets. An empty selector matches everything.
 */
export function fieldSelectorMatcher(group: string, resource: string, selector: string): (obj: KObject) => boolean {
  const sel = parseFieldSelectorFor(group, resource, selector);
  if (sel.empty()) return () => true;
  return (obj) => sel.matches(fieldsOf(group, resource, obj));
}
