/** Printers for networking, rbac, storage, scheduling, coordination and the other API groups. */

import { isRecord } from "../types.js";
import { AGE, ageOf, col, listWithMore, NAME, nameOf, printer } from "./common.js";
import { loadBalancerIngress } from "./core.js";
import * as d from "./descriptions.js";
import { humanDuration } from "./duration.js";
import { arr, at, bool, num, optBool, optNum, optStr, rec, str } from "./json.js";
import { formatQuantity } from "./quantity.js";
import { formatLabelSelector, labelSelectorString } from "./selectors.js";
import type { Printer } from "./types.js";

// ---------------------------------------------------------------------------------------------
// networking.k8s.io

function formatHosts(rules: unknown): string {
  const list: string[] = [];
  const all = arr(rules);
  const max = 3;
  let more = false;
  for (const rule of all) {
    if (list.length === max) more = true;
    const host = str(at(rule, "host"));
    if (!more && host !== "") list.push(host);
  }
  if (list.length === 0) return "*";
  const ret = list.join(",");
  return more ? `${ret} + ${all.length - max} more...` : ret;
}

export const ingressPrinter: Printer = printer(
  [
    NAME,
    col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
    col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
  ],
  (ing, now) => {
    const spec = rec(ing["spec"]);
    return [
      nameOf(ing),
      optStr(spec["ingressClassName"]) ?? "<none>",
      formatHosts(spec["rules"]),
      loadBalancerIngress(at(ing, "status", "loadBalancer")),
      arr(spec["tls"]).length !== 0 ? "80, 443" : "80",
      ageOf(ing, now),
    ];
  },
);

export const ingressClassPrinter: Printer = printer(
  [
    NAME,
    col("Controller", "string", "Controller that is responsible for handling this class"),
    col("Parameters", "string", "A reference to a resource with additional parameters"),
    AGE,
  ],
  (obj, now) => {
    const p = at(obj, "spec", "parameters");
    let parameters = "<none>";
    if (isRecord(p)) {
      parameters = str(p["kind"]);
      const group = optStr(p["apiGroup"]);
      if (group !== undefined) parameters = `${parameters}.${group}`;
      parameters = `${parameters}/${str(p["name"])}`;
    }
    return [nameOf(obj), str(at(obj, "spec", "controller")), parameters, ageOf(obj, now)];
  },
);

export const networkPolicyPrinter: Printer = printer(
  [NAME, col("Pod-Selector", "string", d.networkPolicySpecPodSelector), AGE],
  (obj, now) => [nameOf(obj), formatLabelSelector(at(obj, "spec", "podSelector")), ageOf(obj, now)],
);

export const serviceCIDRPrinter: Printer = printer(
  [NAME, col("CIDRs", "string", d.serviceCIDRSpecCidrs), AGE],
  (obj, now) => [
    nameOf(obj),
    arr(at(obj, "spec", "cidrs"))
      .map(str)
      .join(","),
    ageOf(obj, now),
  ],
);

// Upstream declares only Name and ParentRef but prints an age cell too; the column is added so
// that every row has one cell per column.
export const ipAddressPrinter: Printer = printer(
  [NAME, col("ParentRef", "string", d.ipAddressSpecParentRef), AGE],
  (obj, now) => {
    const ref = at(obj, "spec", "parentRef");
    let parent = "<none>";
    if (isRecord(ref)) {
      const group = str(ref["group"]);
      const resource = str(ref["resource"]);
      parent = (group === "" ? resource : `${resource}.${group}`).toLowerCase();
      const ns = str(ref["namespace"]);
      if (ns !== "") parent += `/${ns}`;
      parent += `/${str(ref["name"])}`;
    }
    return [nameOf(obj), parent, ageOf(obj, now)];
  },
);

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io

/** SubjectsStrings: users, groups and "namespace/name" service accounts, each joined with ", ". */
function subjects(list: unknown): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of arr(list)) {
    const kind = str(at(s, "kind"));
    if (kind === "ServiceAccount") sas.push(`${str(at(s, "namespace"))}/${str(at(s, "name"))}`);
    else if (kind === "User") users.push(str(at(s, "name")));
    else if (kind === "Group") groups.push(str(at(s, "name")));
  }
  return [users.join(", "), groups.join(", "), sas.join(", ")];
}

function bindingPrinter(roleRefDescription: string, noun: string): Printer {
  return printer(
    [
      NAME,
      col("Role", "string", roleRefDescription),
      AGE,
      col("Users", "string", `Users in the ${noun}`, { priority: 1 }),
      col("Groups", "string", `Groups in the ${noun}`, { priority: 1 }),
      col("ServiceAccounts", "string", `ServiceAccounts in the ${noun}`, { priority: 1 }),
    ],
    (obj, now) => [
      nameOf(obj),
      `${str(at(obj, "roleRef", "kind"))}/${str(at(obj, "roleRef", "name"))}`,
      ageOf(obj, now),
      ...subjects(obj["subjects"]),
    ],
  );
}

export const roleBindingPrinter = bindingPrinter(d.roleBindingRoleRef, "roleBinding");
export const clusterRoleBindingPrinter = bindingPrinter(d.clusterRoleBindingRoleRef, "clusterRoleBinding");

// ---------------------------------------------------------------------------------------------
// certificates.k8s.io

function csrCondition(csr: Record<string, unknown>): string {
  let approved = false;
  let denied = false;
  let failed = false;
  for (const c of arr(at(csr, "status", "conditions"))) {
    const type = str(at(c, "type"));
    if (type === "Approved") approved = true;
    else if (type === "Denied") denied = true;
    else if (type === "Failed") failed = true;
  }
  let status = denied ? "Denied" : approved ? "Approved" : "Pending";
  if (failed) status += ",Failed";
  if (str(at(csr, "status", "certificate")).length > 0) status += ",Issued";
  return status;
}

export const certificateSigningRequestPrinter: Printer = printer(
  [
    NAME,
    AGE,
    col("SignerName", "string", d.csrSpecSignerName),
    col("Requestor", "string", d.csrSpecRequest),
    col("RequestedDuration", "string", d.csrSpecExpirationSeconds),
    col("Condition", "string", d.csrStatusConditions),
  ],
  (csr, now) => {
    const spec = rec(csr["spec"]);
    const seconds = optNum(spec["expirationSeconds"]);
    return [
      nameOf(csr),
      ageOf(csr, now),
      str(spec["signerName"]) || "<none>",
      str(spec["username"]),
      seconds !== undefined ? humanDuration(seconds * 1000) : "<none>",
      csrCondition(csr),
    ];
  },
);

export const clusterTrustBundlePrinter: Printer = printer(
  [NAME, col("SignerName", "string", d.clusterTrustBundleSignerName)],
  (obj) => [nameOf(obj), str(at(obj, "spec", "signerName")) || "<none>"],
);

// ---------------------------------------------------------------------------------------------
// coordination.k8s.io

export const leasePrinter: Printer = printer(
  [NAME, col("Holder", "string", d.leaseSpecHolderIdentity), AGE],
  (obj, now) => [nameOf(obj), str(at(obj, "spec", "holderIdentity")), ageOf(obj, now)],
);

export const leaseCandidatePrinter: Printer = printer(
  [
    NAME,
    col("LeaseName", "string", d.leaseCandidateLeaseName),
    col("BinaryVersion", "string", ""),
    col("EmulationVersion", "string", ""),
    AGE,
  ],
  (obj, now) => {
    const spec = rec(obj["spec"]);
    return [
      nameOf(obj),
      str(spec["leaseName"]),
      str(spec["binaryVersion"]),
      str(spec["emulationVersion"]),
      ageOf(obj, now),
    ];
  },
);

// ---------------------------------------------------------------------------------------------
// storage.k8s.io

const DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class";
const BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class";

export const storageClassPrinter: Printer = printer(
  [
    NAME,
    col("Provisioner", "string", d.storageClassProvisioner),
    col("ReclaimPolicy", "string", d.storageClassReclaimPolicy),
    col("VolumeBindingMode", "string", d.storageClassVolumeBindingMode),
    col("AllowVolumeExpansion", "string", d.storageClassAllowVolumeExpansion),
    AGE,
  ],
  (sc, now) => {
    const annotations = sc.metadata?.annotations ?? {};
    const isDefault = annotations[DEFAULT_CLASS] === "true" || annotations[BETA_DEFAULT_CLASS] === "true";
    return [
      isDefault ? `${nameOf(sc)} (default)` : nameOf(sc),
      str(sc["provisioner"]),
      optStr(sc["reclaimPolicy"]) ?? "Delete",
      optStr(sc["volumeBindingMode"]) ?? "Immediate",
      bool(sc["allowVolumeExpansion"]),
      ageOf(sc, now),
    ];
  },
);

export const volumeAttributesClassPrinter: Printer = printer(
  [NAME, col("DriverName", "string", d.volumeAttributesClassDriverName), AGE],
  (obj, now) => [nameOf(obj), str(obj["driverName"]), ageOf(obj, now)],
);

export const volumeAttachmentPrinter: Printer = printer(
  [
    NAME,
    col("Attacher", "string", d.volumeAttachmentSpecAttacher, { format: "name" }),
    col("PV", "string", d.volumeAttachmentSourcePV),
    col("Node", "string", d.volumeAttachmentSpecNodeName),
    col("Attached", "boolean", d.volumeAttachmentStatusAttached),
    AGE,
  ],
  (obj, now) => [
    nameOf(obj),
    str(at(obj, "spec", "attacher")),
    str(at(obj, "spec", "source", "persistentVolumeName")),
    str(at(obj, "spec", "nodeName")),
    bool(at(obj, "status", "attached")),
    ageOf(obj, now),
  ],
);

export const csiNodePrinter: Printer = printer(
  [NAME, col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"), AGE],
  (obj, now) => [nameOf(obj), arr(at(obj, "spec", "drivers")).length, ageOf(obj, now)],
);

export const csiDriverPrinter: Printer = printer(
  [
    NAME,
    col("AttachRequired", "boolean", d.csiDriverAttachRequired),
    col("PodInfoOnMount", "boolean", d.csiDriverPodInfoOnMount),
    col("StorageCapacity", "boolean", d.csiDriverStorageCapacity),
    col("TokenRequests", "string", d.csiDriverTokenRequests),
    col("RequiresRepublish", "boolean", d.csiDriverRequiresRepublish),
    col("Modes", "string", d.csiDriverVolumeLifecycleModes),
    AGE,
  ],
  (obj, now) => {
    const spec = rec(obj["spec"]);
    const tokenRequests = spec["tokenRequests"];
    const modes = arr(spec["volumeLifecycleModes"]).map(str).join(",");
    return [
      nameOf(obj),
      optBool(spec["attachRequired"]) ?? true,
      optBool(spec["podInfoOnMount"]) ?? false,
      optBool(spec["storageCapacity"]) ?? false,
      Array.isArray(tokenRequests) ? tokenRequests.map((t) => str(at(t, "audience"))).join(",") : "<unset>",
      optBool(spec["requiresRepublish"]) ?? false,
      modes || "<none>",
      ageOf(obj, now),
    ];
  },
);

export const csiStorageCapacityPrinter: Printer = printer(
  [
    NAME,
    col("StorageClassName", "string", d.csiStorageCapacityStorageClassName),
    col("Capacity", "string", d.csiStorageCapacityCapacity),
  ],
  (obj) => {
    const capacity = obj["capacity"];
    return [
      nameOf(obj),
      str(obj["storageClassName"]),
      capacity === undefined || capacity === null ? "<unset>" : formatQuantity(capacity),
    ];
  },
);

// ---------------------------------------------------------------------------------------------
// scheduling.k8s.io, node.k8s.io, discovery.k8s.io

export const priorityClassPrinter: Printer = printer(
  [
    NAME,
    col("Value", "integer", d.priorityClassValue),
    col("Global-Default", "boolean", d.priorityClassGlobalDefault),
    AGE,
    col("PreemptionPolicy", "string", d.priorityClassPreemptionPolicy),
  ],
  (obj, now) => [
    nameOf(obj),
    num(obj["value"]),
    bool(obj["globalDefault"]),
    ageOf(obj, now),
    str(obj["preemptionPolicy"]),
  ],
);

export const runtimeClassPrinter: Printer = printer([NAME, col("Handler", "string", ""), AGE], (obj, now) => [
  nameOf(obj),
  str(obj["handler"]),
  ageOf(obj, now),
]);

function formatDiscoveryPorts(ports: unknown): string {
  const all = arr(ports).map((p) => {
    const port = optNum(at(p, "port"));
    if (port !== undefined) return String(port);
    return optStr(at(p, "name")) ?? "*";
  });
  return listWithMore(all, all.length, 3);
}

function formatDiscoveryEndpoints(endpoints: unknown): string {
  const all = arr(endpoints).flatMap((e) => arr(at(e, "addresses")).map(str));
  return listWithMore(all, all.length, 3);
}

export const endpointSlicePrinter: Printer = printer(
  [
    NAME,
    col("AddressType", "string", d.endpointSliceAddressType),
    col("Ports", "string", d.endpointSlicePorts),
    col("Endpoints", "string", d.endpointSliceEndpoints),
    AGE,
  ],
  (obj, now) => [
    nameOf(obj),
    str(obj["addressType"]),
    formatDiscoveryPorts(obj["ports"]),
    formatDiscoveryEndpoints(obj["endpoints"]),
    ageOf(obj, now),
  ],
);

// ---------------------------------------------------------------------------------------------
// admissionregistration.k8s.io

function webhookPrinter(): Printer {
  return printer(
    [
      NAME,
      col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
      AGE,
    ],
    (obj, now) => [nameOf(obj), arr(obj["webhooks"]).length, ageOf(obj, now)],
  );
}

export const mutatingWebhookConfigurationPrinter = webhookPrinter();
export const validatingWebhookConfigurationPrinter = webhookPrinter();

const PARAM_KIND = col(
  "ParamKind",
  "string",
  "ParamKind specifies the kind of resources used to parameterize this policy",
);

function admissionPolicyPrinter(countColumn: string, description: string, listField: string): Printer {
  return printer([NAME, col(countColumn, "integer", description), PARAM_KIND, AGE], (obj, now) => {
    const pk = at(obj, "spec", "paramKind");
    const paramKind = isRecord(pk) ? `${str(pk["apiVersion"])}/${str(pk["kind"])}` : "<unset>";
    return [nameOf(obj), arr(at(obj, "spec", listField)).length, paramKind, ageOf(obj, now)];
  });
}

export const validatingAdmissionPolicyPrinter = admissionPolicyPrinter(
  "Validations",
  "Validations indicates the number of validation rules defined in this configuration",
  "validations",
);
export const mutatingAdmissionPolicyPrinter = admissionPolicyPrinter(
  "Mutations",
  "Mutation indicates the number of mutations rules defined in this configuration",
  "mutations",
);

function admissionPolicyBindingPrinter(): Printer {
  return printer(
    [
      NAME,
      col("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to"),
      col("ParamRef", "string", "ParamRef indicates the param resource which sets the configration param"),
      AGE,
    ],
    (obj, now) => {
      const pr = at(obj, "spec", "paramRef");
      let paramName = "<unset>";
      if (isRecord(pr)) {
        const name = str(pr["name"]);
        const ns = str(pr["namespace"]);
        if (name !== "") paramName = ns !== "" ? `${ns}/${name}` : `*/${name}`;
        else if (isRecord(pr["selector"])) paramName = labelSelectorString(pr["selector"]) ?? "<error>";
      }
      return [nameOf(obj), str(at(obj, "spec", "policyName")), paramName, ageOf(obj, now)];
    },
  );
}

export const validatingAdmissionPolicyBindingPrinter = admissionPolicyBindingPrinter();
export const mutatingAdmissionPolicyBindingPrinter = admissionPolicyBindingPrinter();

// ---------------------------------------------------------------------------------------------
// flowcontrol.apiserver.k8s.io

export const flowSchemaPrinter: Printer = printer(
  [
    NAME,
    col("PriorityLevel", "string", d.flowSchemaPriorityLevelName),
    col("MatchingPrecedence", "string", d.flowSchemaMatchingPrecedence),
    col("DistinguisherMethod", "string", d.flowSchemaDistinguisherMethod),
    AGE,
    col("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration"),
  ],
  (obj, now) => {
    const spec = rec(obj["spec"]);
    const dm = spec["distinguisherMethod"];
    const dangling = arr(at(obj, "status", "conditions")).find((c) => str(at(c, "type")) === "Dangling");
    return [
      nameOf(obj),
      str(at(spec, "priorityLevelConfiguration", "name")),
      num(spec["matchingPrecedence"]),
      isRecord(dm) ? str(dm["type"]) : "<none>",
      ageOf(obj, now),
      dangling !== undefined ? str(at(dangling, "status")) : "?",
    ];
  },
);

export const priorityLevelConfigurationPrinter: Printer = printer(
  [
    NAME,
    col("Type", "string", d.priorityLevelType),
    col("NominalConcurrencyShares", "string", d.priorityLevelNominalConcurrencyShares),
    col("Queues", "string", d.queuingQueues),
    col("HandSize", "string", d.queuingHandSize),
    col("QueueLengthLimit", "string", d.queuingQueueLengthLimit),
    AGE,
  ],
  (obj, now) => {
    const spec = rec(obj["spec"]);
    let ncs: unknown = "<none>";
    let queues: unknown = "<none>";
    let handSize: unknown = "<none>";
    let queueLengthLimit: unknown = "<none>";
    const limited = spec["limited"];
    if (isRecord(limited)) {
      ncs = num(limited["nominalConcurrencyShares"]);
      const q = at(limited, "limitResponse", "queuing");
      if (isRecord(q)) {
        queues = num(q["queues"]);
        handSize = num(q["handSize"]);
        queueLengthLimit = num(q["queueLengthLimit"]);
      }
    }
    return [nameOf(obj), str(spec["type"]), ncs, queues, handSize, queueLengthLimit, ageOf(obj, now)];
  },
);

// ---------------------------------------------------------------------------------------------
// apiregistration.k8s.io (kube-aggregator's own table convertor)

export const apiServicePrinter: Printer = printer(
  [
    NAME,
    col("Service", "string", "The reference to the service that hosts this API endpoint."),
    col("Available", "string", "Whether this service is available."),
    AGE,
  ],
  (obj, now) => {
    const svc = at(obj, "spec", "service");
    const service = isRecord(svc) ? `${str(svc["namespace"])}/${str(svc["name"])}` : "Local";
    let available = "Unknown";
    const cond = arr(at(obj, "status", "conditions")).find((c) => str(at(c, "type")) === "Available");
    if (cond !== undefined) {
      const status = str(at(cond, "status"));
      const reason = str(at(cond, "reason"));
      available = status !== "True" && reason !== "" ? `${status} (${reason})` : status;
    }
    return [nameOf(obj), service, available, ageOf(obj, now)];
  },
);

// ---------------------------------------------------------------------------------------------
// resource.k8s.io

export const deviceClassPrinter: Printer = printer([NAME, AGE], (obj, now) => [nameOf(obj), ageOf(obj, now)]);
export const resourceClaimTemplatePrinter: Printer = printer([NAME, AGE], (obj, now) => [nameOf(obj), ageOf(obj, now)]);

export const resourceClaimPrinter: Printer = printer(
  [NAME, col("State", "string", "A summary of the current state (allocated, pending, reserved, etc.)."), AGE],
  (obj, now) => {
    const deleting = typeof obj.metadata?.deletionTimestamp === "string";
    const states: string[] = [];
    if (deleting) states.push("deleted");
    if (!isRecord(at(obj, "status", "allocation"))) {
      if (!deleting) states.push("pending");
    } else {
      states.push("allocated");
      if (arr(at(obj, "status", "reservedFor")).length > 0) states.push("reserved");
    }
    return [nameOf(obj), states.join(","), ageOf(obj, now)];
  },
);

export const resourceSlicePrinter: Printer = printer(
  [
    NAME,
    col("Node", "string", d.resourceSliceNodeName),
    col("Driver", "string", d.resourceSliceDriver),
    col("Pool", "string", d.resourcePoolName),
    AGE,
  ],
  (obj, now) => [
    nameOf(obj),
    str(at(obj, "spec", "nodeName")),
    str(at(obj, "spec", "driver")),
    str(at(obj, "spec", "pool", "name")),
    ageOf(obj, now),
  ],
);
