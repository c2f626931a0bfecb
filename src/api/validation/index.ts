/**
 * Object validation with upstream-shaped causes. `validateObject` runs the metadata checks and the per-kind rules of
 * pkg/apis/{core,apps,batch,storage,autoscaling}/validation for create (no `old`) or update (with `old`).
 */

import type { KObject } from "../types.js";
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateHPASpec,
  validateResourceQuotaSpec,
  validateSecret,
  validateSecretUpdate,
  validateServiceSpec,
  validateServiceUpdate,
} from "./core.js";
import { type FieldError, fe, invalidMessage, statusCauses } from "./field.js";
import { rec } from "./json.js";
import { type NameRule, nameRuleFor, validateObjectMeta, validateObjectMetaUpdate } from "./meta.js";
import { validatePodSpec, validatePodSpecUpdate, validatePodTemplateSpec } from "./pod.js";
import {
  validatePersistentVolumeClaimSpec,
  validatePersistentVolumeClaimUpdate,
  validatePersistentVolumeSpec,
  validatePersistentVolumeUpdate,
  validateStorageClass,
  validateStorageClassUpdate,
} from "./storage.js";
import {
  validateCronJobSpec,
  validateDaemonSetSpec,
  validateDeploymentSpec,
  validateJobSpec,
  validateJobUpdate,
  validateReplicaSetSpec,
  validateReplicationControllerSpec,
  validateSelectorImmutable,
  validateStatefulSetSpec,
  validateStatefulSetUpdate,
} from "./workloads.js";

export { cronScheduleError } from "./cron.js";
export {
  aggregateMessage,
  child,
  errorString,
  type FieldError,
  type FieldErrorType,
  fe,
  goJSON,
  goQuote,
  index,
  invalidMessage,
  key,
  mapValue,
  qualifiedKind,
  RawValue,
  statusCauses,
} from "./field.js";
export {
  ensureNamespaceMatches,
  FIELD_IMMUTABLE,
  NAMESPACE_MISMATCH,
  type NameRule,
  nameRuleFor,
  type ObjectMetaOptions,
  TOTAL_ANNOTATION_SIZE_LIMIT,
  validateAnnotations,
  validateLabelSelector,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "./meta.js";
export * as names from "./names.js";
export {
  POD_UPDATE_FORBIDDEN,
  validatePodSpec,
  validatePodSpecUpdate,
  validatePodTemplateSpec,
  validateResourceRequirements,
} from "./pod.js";
export { PVC_IMMUTABLE } from "./storage.js";
export { STATEFULSET_FORBIDDEN } from "./workloads.js";

/** Cluster-scoped kinds, keyed `group/Kind`; everything else is namespaced. */
const CLUSTER_SCOPED = new Set([
  "/Namespace",
  "/Node",
  "/PersistentVolume",
  "/ComponentStatus",
  "storage.k8s.io/StorageClass",
  "storage.k8s.io/CSIDriver",
  "storage.k8s.io/CSINode",
  "storage.k8s.io/VolumeAttachment",
  "storage.k8s.io/VolumeAttributesClass",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "apiregistration.k8s.io/APIService",
  "scheduling.k8s.io/PriorityClass",
  "node.k8s.io/RuntimeClass",
  "networking.k8s.io/IngressClass",
  "networking.k8s.io/IPAddress",
  "networking.k8s.io/ServiceCIDR",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
  "admissionregistration.k8s.io/MutatingAdmissionPolicy",
  "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding",
  "certificates.k8s.io/CertificateSigningRequest",
  "certificates.k8s.io/ClusterTrustBundle",
  "flowcontrol.apiserver.k8s.io/FlowSchema",
  "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
  "resource.k8s.io/DeviceClass",
  "resource.k8s.io/ResourceSlice",
  "authentication.k8s.io/TokenReview",
  "authentication.k8s.io/SelfSubjectReview",
  "authorization.k8s.io/SubjectAccessReview",
  "authorization.k8s.io/SelfSubjectAccessReview",
  "authorization.k8s.io/SelfSubjectRulesReview",
]);

/** Whether upstream treats the kind as namespaced. */
export function isNamespacedKind(group: string, kind: string): boolean {
  return !CLUSTER_SCOPED.has(`${group}/${kind}`);
}

export interface ValidateOptions {
  /** Override the built-in scope table (e.g. for custom resources). */
  namespaced?: boolean;
  /** Override the built-in name rule table. */
  nameRule?: NameRule;
}

type SpecRule = (obj: KObject) => FieldError[];
type UpdateRule = (obj: KObject, old: KObject) => FieldError[];

interface KindRules {
  create: SpecRule;
  update?: UpdateRule;
}

const spec = (o: KObject): unknown => o["spec"];

const RULES: Readonly<Record<string, KindRules>> = {
  "/Pod": {
    create: (o) => validatePodSpec(spec(o), "spec", { isPod: true }),
    update: (o, old) => validatePodSpecUpdate(spec(o), spec(old)),
  },
  "/PodTemplate": { create: (o) => validatePodTemplateSpec(o["template"], "template") },
  "/ReplicationController": { create: (o) => validateReplicationControllerSpec(spec(o)) },
  "/Service": { create: (o) => validateServiceSpec(spec(o)), update: validateServiceUpdate },
  "/ConfigMap": { create: validateConfigMap, update: validateConfigMapUpdate },
  "/Secret": { create: validateSecret, update: validateSecretUpdate },
  "/Namespace": { create: () => [] },
  "/ResourceQuota": { create: (o) => validateResourceQuotaSpec(spec(o)) },
  "/PersistentVolume": { create: (o) => validatePersistentVolumeSpec(spec(o)), update: validatePersistentVolumeUpdate },
  "/PersistentVolumeClaim": {
    create: (o) => validatePersistentVolumeClaimSpec(spec(o)),
    update: validatePersistentVolumeClaimUpdate,
  },
  "apps/Deployment": { create: (o) => validateDeploymentSpec(spec(o)), update: validateSelectorImmutable },
  "apps/ReplicaSet": { create: (o) => validateReplicaSetSpec(spec(o)), update: validateSelectorImmutable },
  "apps/DaemonSet": { create: (o) => validateDaemonSetSpec(spec(o)), update: validateSelectorImmutable },
  "apps/StatefulSet": { create: (o) => validateStatefulSetSpec(spec(o)), update: validateStatefulSetUpdate },
  "batch/Job": { create: (o) => validateJobSpec(spec(o)), update: validateJobUpdate },
  "batch/CronJob": {
    create: (o) => {
      // Job names get an 11-character suffix, so a CronJob name may use at most 63 - 11 characters.
      const name = o.metadata.name ?? "";
      const errs = name.length > 52 ? [fe.invalid("metadata.name", name, "must be no more than 52 characters")] : [];
      return [...errs, ...validateCronJobSpec(spec(o))];
    },
  },
  "storage.k8s.io/StorageClass": { create: validateStorageClass, update: validateStorageClassUpdate },
  "autoscaling/HorizontalPodAutoscaler": { create: (o) => validateHPASpec(spec(o)) },
};

/** True when validateObject has spec rules for the kind (metadata is checked for every kind). */
export function hasKindRules(group: string, kind: string): boolean {
  return Object.hasOwn(RULES, `${group}/${kind}`);
}

/**
 * Validates an object for create (no `old`) or update (`old` given): metadata (name format per kind, namespace,
 * labels, annotations, ...) and the kind's spec rules. Expects defaulting to have run on both objects for updates,
 * so that fields the server fills do not read as changes.
 */
export function validateObject(
  group: string,
  kind: string,
  obj: KObject,
  old?: KObject,
  opts: ValidateOptions = {},
): FieldError[] {
  const rules = RULES[`${group}/${kind}`];
  const errs: FieldError[] = [];
  if (old === undefined) {
    errs.push(
      ...validateObjectMeta(obj, {
        namespaced: opts.namespaced ?? isNamespacedKind(group, kind),
        nameRule: opts.nameRule ?? nameRuleFor(group, kind),
      }),
    );
    if (rules) errs.push(...rules.create(obj));
  } else {
    errs.push(...validateObjectMetaUpdate(obj, old));
    if (rules) {
      errs.push(...rules.create(obj));
      if (rules.update) errs.push(...rules.update(obj, old));
    }
  }
  return errs;
}

/** The metav1.Status (422 Invalid) upstream returns for these errors. */
export function invalidStatus(
  kind: string,
  group: string,
  name: string,
  errs: readonly FieldError[],
): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: invalidMessage(kind, group, name, errs),
    reason: "Invalid",
    details: { name, group, kind, causes: statusCauses(errs) },
    code: 422,
  };
}

/** Shorthand used by registries: the object's name for messages (generateName objects have none yet). */
export function objectName(obj: KObject): string {
  return typeof rec(obj.metadata)["name"] === "string" ? (obj.metadata.name as string) : "";
}
