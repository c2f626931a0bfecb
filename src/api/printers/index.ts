/**
 * Server-side Table printing: the columns and cells `kubectl get` shows, as upstream's
 * pkg/printers/internalversion computes them (the apiserver always prints the wide columns;
 * kubectl hides priority > 0 unless `-o wide`).
 */

import {
  apiServicePrinter,
  certificateSigningRequestPrinter,
  clusterRoleBindingPrinter,
  clusterTrustBundlePrinter,
  csiDriverPrinter,
  csiNodePrinter,
  csiStorageCapacityPrinter,
  deviceClassPrinter,
  endpointSlicePrinter,
  flowSchemaPrinter,
  ingressClassPrinter,
  ingressPrinter,
  ipAddressPrinter,
  leaseCandidatePrinter,
  leasePrinter,
  mutatingAdmissionPolicyBindingPrinter,
  mutatingAdmissionPolicyPrinter,
  mutatingWebhookConfigurationPrinter,
  networkPolicyPrinter,
  priorityClassPrinter,
  priorityLevelConfigurationPrinter,
  resourceClaimPrinter,
  resourceClaimTemplatePrinter,
  resourceSlicePrinter,
  roleBindingPrinter,
  runtimeClassPrinter,
  serviceCIDRPrinter,
  storageClassPrinter,
  validatingAdmissionPolicyBindingPrinter,
  validatingAdmissionPolicyPrinter,
  validatingWebhookConfigurationPrinter,
  volumeAttachmentPrinter,
  volumeAttributesClassPrinter,
} from "./cluster.js";
import {
  componentStatusPrinter,
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  podPrinter,
  podTemplatePrinter,
  replicationControllerPrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from "./core.js";
import { defaultTablePrinter } from "./crd.js";
import type { Printer } from "./types.js";
import {
  controllerRevisionPrinter,
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  horizontalPodAutoscalerPrinter,
  jobPrinter,
  podDisruptionBudgetPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from "./workloads.js";

export { type CustomResourceColumn, crdPrinter, defaultTablePrinter } from "./crd.js";
export { humanDuration, shortHumanDuration } from "./duration.js";
export { formatQuantity } from "./quantity.js";
export { buildTable, type IncludeObject, type Table, type TableOptions, type TableRow } from "./table.js";
export type { Printer, TableColumnDefinition, TableRowCondition } from "./types.js";

const PRINTERS: Record<string, Record<string, Printer>> = {
  "": {
    componentstatuses: componentStatusPrinter,
    configmaps: configMapPrinter,
    endpoints: endpointsPrinter,
    events: eventPrinter,
    namespaces: namespacePrinter,
    nodes: nodePrinter,
    persistentvolumeclaims: persistentVolumeClaimPrinter,
    persistentvolumes: persistentVolumePrinter,
    pods: podPrinter,
    podtemplates: podTemplatePrinter,
    replicationcontrollers: replicationControllerPrinter,
    resourcequotas: resourceQuotaPrinter,
    secrets: secretPrinter,
    serviceaccounts: serviceAccountPrinter,
    services: servicePrinter,
  },
  "admissionregistration.k8s.io": {
    mutatingadmissionpolicies: mutatingAdmissionPolicyPrinter,
    mutatingadmissionpolicybindings: mutatingAdmissionPolicyBindingPrinter,
    mutatingwebhookconfigurations: mutatingWebhookConfigurationPrinter,
    validatingadmissionpolicies: validatingAdmissionPolicyPrinter,
    validatingadmissionpolicybindings: validatingAdmissionPolicyBindingPrinter,
    validatingwebhookconfigurations: validatingWebhookConfigurationPrinter,
  },
  "apiregistration.k8s.io": { apiservices: apiServicePrinter },
  apps: {
    controllerrevisions: controllerRevisionPrinter,
    daemonsets: daemonSetPrinter,
    deployments: deploymentPrinter,
    replicasets: replicaSetPrinter,
    statefulsets: statefulSetPrinter,
  },
  autoscaling: { horizontalpodautoscalers: horizontalPodAutoscalerPrinter },
  batch: { cronjobs: cronJobPrinter, jobs: jobPrinter },
  "certificates.k8s.io": {
    certificatesigningrequests: certificateSigningRequestPrinter,
    clustertrustbundles: clusterTrustBundlePrinter,
  },
  "coordination.k8s.io": { leasecandidates: leaseCandidatePrinter, leases: leasePrinter },
  "discovery.k8s.io": { endpointslices: endpointSlicePrinter },
  "events.k8s.io": { events: eventPrinter },
  "flowcontrol.apiserver.k8s.io": {
    flowschemas: flowSchemaPrinter,
    prioritylevelconfigurations: priorityLevelConfigurationPrinter,
  },
  "networking.k8s.io": {
    ingressclasses: ingressClassPrinter,
    ingresses: ingressPrinter,
    ipaddresses: ipAddressPrinter,
    networkpolicies: networkPolicyPrinter,
    servicecidrs: serviceCIDRPrinter,
  },
  "node.k8s.io": { runtimeclasses: runtimeClassPrinter },
  policy: { poddisruptionbudgets: podDisruptionBudgetPrinter },
  "rbac.authorization.k8s.io": {
    clusterrolebindings: clusterRoleBindingPrinter,
    rolebindings: roleBindingPrinter,
  },
  "resource.k8s.io": {
    deviceclasses: deviceClassPrinter,
    resourceclaims: resourceClaimPrinter,
    resourceclaimtemplates: resourceClaimTemplatePrinter,
    resourceslices: resourceSlicePrinter,
  },
  "scheduling.k8s.io": { priorityclasses: priorityClassPrinter },
  "storage.k8s.io": {
    csidrivers: csiDriverPrinter,
    csinodes: csiNodePrinter,
    csistoragecapacities: csiStorageCapacityPrinter,
    storageclasses: storageClassPrinter,
    volumeattachments: volumeAttachmentPrinter,
    volumeattributesclasses: volumeAttributesClassPrinter,
  },
};

/**
 * The printer for a built-in resource. `group` is "" for core; `resource` is the plural
 * ("pods", "horizontalpodautoscalers"). Resources upstream has no printer for (roles,
 * clusterroles, limitranges, customresourcedefinitions, ...) get the apiserver's default
 * table: NAME and "Created At".
 */
export function printerFor(group: string, resource: string): Printer {
  return PRINTERS[group]?.[resource] ?? defaultTablePrinter;
}

/** Every (group, resource) with a printer of its own, for wiring and tests. */
export function printedResources(): Array<{ group: string; resource: string }> {
  return Object.entries(PRINTERS).flatMap(([group, byResource]) =>
    Object.keys(byResource).map((resource) => ({ group, resource })),
  );
}
