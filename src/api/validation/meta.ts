/** ObjectMeta validation as k8s.io/apimachinery/pkg/api/validation/objectmeta.go, and the per-kind name rules. */

import type { KObject } from "../types.js";
import { child, type FieldError, fe, goJSON, index, mapValue, RawValue } from "./field.js";
import { arr, rec, str, strMap } from "./json.js";
import {
  byteLength,
  IS_NEGATIVE_ERROR,
  isQualifiedName,
  isValidLabelValue,
  type NameValidator,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
} from "./names.js";

/** Which format a kind's metadata.name must have. */
export type NameRule = "dns1123subdomain" | "dns1123label" | "dns1035label" | "path-segment" | "rbac" | "none";

export const FIELD_IMMUTABLE = "field is immutable";
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

const NAME_VALIDATORS: Record<NameRule, NameValidator> = {
  dns1123subdomain: nameIsDNSSubdomain,
  dns1123label: nameIsDNSLabel,
  dns1035label: nameIsDNS1035Label,
  "path-segment": nameIsPathSegment,
  rbac: nameIsPathSegment,
  none: () => [],
};

/** Name rules that differ from the default (DNS-1123 subdomain), keyed by `group/Kind`. */
const NAME_RULES: Readonly<Record<string, NameRule>> = {
  "/Namespace": "dns1123label",
  "/Service": "dns1035label",
  "/ReplicationController": "dns1123subdomain",
  "apps/StatefulSet": "dns1123label",
  "rbac.authorization.k8s.io/Role": "rbac",
  "rbac.authorization.k8s.io/ClusterRole": "rbac",
  "rbac.authorization.k8s.io/RoleBinding": "rbac",
  "rbac.authorization.k8s.io/ClusterRoleBinding": "rbac",
  "batch/CronJob": "dns1123subdomain",
  "scheduling.k8s.io/PriorityClass": "dns1123subdomain",
  "/ComponentStatus": "none",
  "authorization.k8s.io/SubjectAccessReview": "none",
  "authorization.k8s.io/SelfSubjectAccessReview": "none",
  "authorization.k8s.io/LocalSubjectAccessReview": "none",
  "authorization.k8s.io/SelfSubjectRulesReview": "none",
  "authentication.k8s.io/TokenReview": "none",
  "authentication.k8s.io/SelfSubjectReview": "none",
  "apiextensions.k8s.io/CustomResourceDefinition": "dns1123subdomain",
};

/** The name rule upstream applies to a kind (most kinds: DNS-1123 subdomain). */
export function nameRuleFor(group: string, kind: string): NameRule {
  return NAME_RULES[`${group}/${kind}`] ?? "dns1123subdomain";
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(strMap(labels))) {
    for (const m of isQualifiedName(k)) errs.push(fe.invalid(path, k, m));
    for (const m of isValidLabelValue(v)) errs.push(fe.invalid(path, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ann = strMap(annotations);
  let total = 0;
  for (const [k, v] of Object.entries(ann)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fe.invalid(path, k, m));
    total += byteLength(k) + byteLength(v);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fe.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = "";
  const list = arr(refs);
  for (const raw of list) {
    const ref = rec(raw);
    const apiVersion = str(ref["apiVersion"]);
    const version = apiVersion.includes("/") ? apiVersion.slice(apiVersion.indexOf("/") + 1) : apiVersion;
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    const kind = str(ref["kind"]);
    if (version === "") errs.push(fe.invalid(child(path, "apiVersion"), apiVersion, "version must not be empty"));
    if (kind === "") errs.push(fe.invalid(child(path, "kind"), kind, "must not be empty"));
    if (str(ref["name"]) === "") errs.push(fe.invalid(child(path, "name"), str(ref["name"]), "must not be empty"));
    if (str(ref["uid"]) === "") errs.push(fe.invalid(child(path, "uid"), str(ref["uid"]), "must not be empty"));
    if (group === "" && version === "v1" && kind === "Event")
      errs.push(fe.invalid(path, raw, "/v1, Kind=Event is disallowed from being an owner"));
    if (ref["controller"] === true) {
      const cur = `${kind}/${str(ref["name"])}`;
      if (firstController !== "")
        errs.push(
          fe.invalid(
            path,
            list,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`,
          ),
        );
      else firstController = cur;
    }
  }
  return errs;
}

function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = arr(finalizers).map(str);
  for (const f of list) for (const m of isQualifiedName(f)) errs.push(fe.invalid(path, f, m));
  if (list.includes("orphan") && list.includes("foregroundDeletion"))
    errs.push(fe.invalid(path, list, "finalizer orphan and foregroundDeletion cannot be both set"));
  return errs;
}

export interface ObjectMetaOptions {
  /** Whether the kind is namespaced (metadata.namespace required) or cluster-scoped (forbidden). */
  namespaced: boolean;
  /** Format of metadata.name; see nameRuleFor(). */
  nameRule: NameRule;
}

/** Labels, annotations, owner references, finalizers, generation: checks shared by create and update. */
function validateMetaCommon(meta: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const generation = meta["generation"];
  if (typeof generation === "number" && generation < 0)
    errs.push(fe.invalid(child(path, "generation"), generation, IS_NEGATIVE_ERROR));
  errs.push(...validateLabels(meta["labels"], child(path, "labels")));
  errs.push(...validateAnnotations(meta["annotations"], child(path, "annotations")));
  errs.push(...validateOwnerReferences(meta["ownerReferences"], child(path, "ownerReferences")));
  errs.push(...validateFinalizers(meta["finalizers"], child(path, "finalizers")));
  return errs;
}

/**
 * ValidateObjectMeta (create): name or generateName, the kind's name format, namespace presence and format, labels,
 * annotations (256 KiB in total), owner references and finalizers. Paths are under `path` ("metadata" by default).
 */
export function validateObjectMeta(obj: KObject, opts: ObjectMetaOptions, path = "metadata"): FieldError[] {
  return validateMetaAt(rec(obj.metadata), opts, path);
}

/** validateObjectMeta for a bare metadata object (e.g. a pod template's metadata). */
export function validateMetaAt(meta: Record<string, unknown>, opts: ObjectMetaOptions, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const nameFn = NAME_VALIDATORS[opts.nameRule];
  const generateName = str(meta["generateName"]);
  const name = str(meta["name"]);
  if (generateName !== "")
    for (const m of nameFn(generateName, true)) errs.push(fe.invalid(child(path, "generateName"), generateName, m));
  if (name === "") errs.push(fe.required(child(path, "name"), "name or generateName is required"));
  else for (const m of nameFn(name, false)) errs.push(fe.invalid(child(path, "name"), name, m));
  const ns = str(meta["namespace"]);
  if (opts.namespaced) {
    if (ns === "") errs.push(fe.required(child(path, "namespace")));
    else for (const m of nameIsDNSLabel(ns, false)) errs.push(fe.invalid(child(path, "namespace"), ns, m));
  } else if (ns !== "") {
    errs.push(fe.forbidden(child(path, "namespace"), "not allowed on this type"));
  }
  errs.push(...validateMetaCommon(meta, path));
  return errs;
}

/** ValidateObjectMetaUpdate: identity fields immutable, resourceVersion required, generation not decremented. */
export function validateObjectMetaUpdate(obj: KObject, old: KObject, path = "metadata"): FieldError[] {
  const errs: FieldError[] = [];
  const m = rec(obj.metadata);
  const o = rec(old.metadata);
  if (o["deletionTimestamp"]) {
    const oldF = new Set(arr(o["finalizers"]).map(str));
    const extra = [...new Set(arr(m["finalizers"]).map(str))].filter((f) => !oldF.has(f)).sort();
    if (extra.length > 0)
      errs.push(
        fe.forbidden(
          child(path, "finalizers"),
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map((f) => JSON.stringify(f)).join(", ")}}`,
        ),
      );
  }
  if (str(m["resourceVersion"]) === "")
    errs.push(fe.invalid(child(path, "resourceVersion"), "", "must be specified for an update"));
  const ng = typeof m["generation"] === "number" ? m["generation"] : 0;
  const og = typeof o["generation"] === "number" ? o["generation"] : 0;
  if (ng < og) errs.push(fe.invalid(child(path, "generation"), ng, "must not be decremented"));
  for (const f of ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"]) {
    const nv = m[f] ?? "";
    const ov = o[f] ?? "";
    if (nv !== ov)
      errs.push(fe.invalid(child(path, f), f.endsWith("Timestamp") && nv === "" ? null : nv, FIELD_IMMUTABLE));
  }
  if ((m["deletionGracePeriodSeconds"] ?? null) !== (o["deletionGracePeriodSeconds"] ?? null))
    errs.push(
      fe.invalid(child(path, "deletionGracePeriodSeconds"), m["deletionGracePeriodSeconds"] ?? null, FIELD_IMMUTABLE),
    );
  errs.push(...validateMetaCommon(m, path));
  return errs;
}

/** The JSON rendering Go gives a metav1.LabelSelector (matchLabels sorted, then matchExpressions). */
export function labelSelectorValue(sel: unknown): RawValue {
  if (sel === null || sel === undefined) return mapValue(null);
  const s = rec(sel);
  const parts: string[] = [];
  if (s["matchLabels"] && Object.keys(rec(s["matchLabels"])).length > 0)
    parts.push(`"matchLabels":${goJSON(s["matchLabels"], true)}`);
  const exprs = arr(s["matchExpressions"]);
  if (exprs.length > 0) {
    const rendered = exprs.map((e) => {
      const x = rec(e);
      const fields = [`"key":${goJSON(str(x["key"]))}`, `"operator":${goJSON(str(x["operator"]))}`];
      if (arr(x["values"]).length > 0) fields.push(`"values":${goJSON(x["values"])}`);
      return `{${fields.join(",")}}`;
    });
    parts.push(`"matchExpressions":[${rendered.join(",")}]`);
  }
  return new RawValue(`{${parts.join(",")}}`);
}

/** metav1validation.ValidateLabelSelector: operators, keys, values. */
export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (sel === null || sel === undefined) return errs;
  const s = rec(sel);
  arr(s["matchExpressions"]).forEach((raw, i) => {
    const e = rec(raw);
    const p = index(child(path, "matchExpressions"), i);
    const op = str(e["operator"]);
    const values = arr(e["values"]);
    switch (op) {
      case "In":
      case "NotIn":
        if (values.length === 0)
          errs.push(fe.required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0)
          errs.push(
            fe.forbidden(child(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
          );
        break;
      default:
        errs.push(fe.invalid(child(p, "operator"), op, "not a valid selector operator"));
    }
    const k = str(e["key"]);
    for (const m of isQualifiedName(k)) errs.push(fe.invalid(child(p, "key"), k, m));
  });
  errs.push(...validateLabels(s["matchLabels"], child(path, "matchLabels")));
  return errs;
}

export { index };

export const NAMESPACE_MISMATCH =
  "the namespace of the provided object does not match the namespace sent on the request";

/**
 * rest.EnsureObjectNamespaceMatchesRequestNamespace: fills an empty metadata.namespace from the request, clears it for
 * cluster-scoped kinds, and returns upstream's BadRequest message when the two disagree (undefined when fine).
 */
export function ensureNamespaceMatches(
  obj: KObject,
  requestNamespace: string,
  namespaced: boolean,
): string | undefined {
  const expected = namespaced ? requestNamespace : "";
  const ns = obj.metadata.namespace ?? "";
  if (ns === expected) return undefined;
  if (ns === "") {
    obj.metadata.namespace = expected;
    return undefined;
  }
  if (expected === "") {
    delete obj.metadata.namespace;
    return undefined;
  }
  return NAMESPACE_MISMATCH;
}
