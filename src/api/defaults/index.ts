/**
 * API defaulting as upstream's `SetDefaults_*` functions and generated defaulters apply it to the
 * storage version of each kind. Defaults only fill what is unset (the Go zero value of the field);
 * user values are kept, with upstream's few deliberate exceptions (a Service with sessionAffinity
 * None loses sessionAffinityConfig; a Namespace's kubernetes.io/metadata.name label follows its
 * name; quantities in resource lists are rounded up to milli scale and written canonically).
 */
import type { KObject } from "../types.js";
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from "./apps.js";
import { defaultHorizontalPodAutoscaler } from "./autoscaling.js";
import { defaultCronJob, defaultJob } from "./batch.js";
import {
  defaultEndpoints,
  defaultLimitRange,
  defaultNamespace,
  defaultNode,
  defaultPodTemplateObject,
  defaultReplicationController,
  defaultResourceQuota,
  defaultSecret,
  defaultService,
} from "./core.js";
import type { Obj } from "./fields.js";
import {
  defaultAPIService,
  defaultCustomResourceDefinition,
  defaultEndpointSlice,
  defaultFlowSchema,
  defaultIngressClass,
  defaultNetworkPolicy,
  defaultPriorityClass,
  defaultPriorityLevelConfiguration,
  defaultResourceClaim,
  defaultResourceClaimTemplate,
  defaultRoleBinding,
  defaultValidatingAdmissionPolicy,
  defaultValidatingAdmissionPolicyBinding,
  defaultWebhookConfiguration,
} from "./groups.js";
import { defaultPod } from "./pod.js";
import {
  defaultCSIDriver,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultStorageClass,
  defaultVolumeAttachment,
} from "./volume.js";

export { defaultPullPolicy, parseImageRef } from "./image.js";
export { roundUpToMilli } from "./resources.js";

type Defaulter = (obj: Obj) => void;

/** Defaulters by "group/Kind" ("" group = core). Kinds without upstream defaults are absent. */
const defaulters: ReadonlyMap<string, Defaulter> = new Map<string, Defaulter>([
  ["/Pod", defaultPod],
  ["/PodTemplate", defaultPodTemplateObject],
  ["/ReplicationController", defaultReplicationController],
  ["/Service", defaultService],
  ["/Endpoints", defaultEndpoints],
  ["/Namespace", defaultNamespace],
  ["/Node", defaultNode],
  ["/Secret", defaultSecret],
  ["/LimitRange", defaultLimitRange],
  ["/ResourceQuota", defaultResourceQuota],
  ["/PersistentVolume", defaultPersistentVolume],
  ["/PersistentVolumeClaim", defaultPersistentVolumeClaim],
  ["apps/Deployment", defaultDeployment],
  ["apps/ReplicaSet", defaultReplicaSet],
  ["apps/DaemonSet", defaultDaemonSet],
  ["apps/StatefulSet", defaultStatefulSet],
  ["batch/Job", defaultJob],
  ["batch/CronJob", defaultCronJob],
  ["autoscaling/HorizontalPodAutoscaler", defaultHorizontalPodAutoscaler],
  ["storage.k8s.io/StorageClass", defaultStorageClass],
  ["storage.k8s.io/CSIDriver", defaultCSIDriver],
  ["storage.k8s.io/VolumeAttachment", defaultVolumeAttachment],
  ["networking.k8s.io/NetworkPolicy", defaultNetworkPolicy],
  ["networking.k8s.io/IngressClass", defaultIngressClass],
  ["discovery.k8s.io/EndpointSlice", defaultEndpointSlice],
  ["rbac.authorization.k8s.io/RoleBinding", defaultRoleBinding],
  ["rbac.authorization.k8s.io/ClusterRoleBinding", defaultRoleBinding],
  ["scheduling.k8s.io/PriorityClass", defaultPriorityClass],
  ["admissionregistration.k8s.io/ValidatingWebhookConfiguration", (o) => defaultWebhookConfiguration(o, false)],
  ["admissionregistration.k8s.io/MutatingWebhookConfiguration", (o) => defaultWebhookConfiguration(o, true)],
  ["admissionregistration.k8s.io/ValidatingAdmissionPolicy", defaultValidatingAdmissionPolicy],
  ["admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding", defaultValidatingAdmissionPolicyBinding],
  ["flowcontrol.apiserver.k8s.io/FlowSchema", defaultFlowSchema],
  ["flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration", defaultPriorityLevelConfiguration],
  ["apiextensions.k8s.io/CustomResourceDefinition", defaultCustomResourceDefinition],
  ["apiregistration.k8s.io/APIService", defaultAPIService],
  ["resource.k8s.io/ResourceClaim", defaultResourceClaim],
  ["resource.k8s.io/ResourceClaimTemplate", defaultResourceClaimTemplate],
]);

/** True when upstream defines defaults for this kind (callers may skip the call otherwise). */
export function hasDefaults(group: string, kind: string): boolean {
  return defaulters.has(`${group}/${kind}`);
}

/**
 * Mutates `obj` (the JSON of a storage-version object: core v1, apps/v1, batch/v1, autoscaling/v2,
 * storage.k8s.io/v1, rbac/v1, policy/v1, networking.k8s.io/v1, discovery.k8s.io/v1,
 * coordination.k8s.io/v1, scheduling.k8s.io/v1, apiextensions.k8s.io/v1 ...) in place, filling
 * upstream defaults. group "" = core. Kinds without defaults (ConfigMap, ServiceAccount, Lease,
 * Event, PodDisruptionBudget, Ingress, Role, custom resources ...) are left unchanged.
 * Idempotent: applying it twice equals applying it once.
 */
export function applyDefaults(group: string, kind: string, obj: KObject): void {
  defaulters.get(`${group}/${kind}`)?.(obj);
}
