/**
 * Defaults of the smaller groups: networking, discovery, rbac, scheduling, admissionregistration,
 * flowcontrol, apiextensions and apiregistration (each group's upstream defaults.go).
 */
import { child, defaultInt, defaultPtr, defaultString, ensure, isEmpty, items, type Obj } from "./fields.js";

// ---- networking.k8s.io/v1 ----

export function defaultNetworkPolicy(np: Obj): void {
  const spec = ensure(np, "spec");
  if (!spec) return;
  for (const rule of [...items(spec, "ingress"), ...items(spec, "egress")]) {
    for (const port of items(rule, "ports")) defaultPtr(port, "protocol", "TCP");
  }
  if (isEmpty(spec["policyTypes"])) {
    spec["policyTypes"] = isEmpty(spec["egress"]) ? ["Ingress"] : ["Ingress", "Egress"];
  }
}

export function defaultIngressClass(ic: Obj): void {
  const params = child(child(ic, "spec") ?? {}, "parameters");
  if (params) defaultPtr(params, "scope", "Cluster");
}

// ---- discovery.k8s.io/v1 ----

export function defaultEndpointSlice(slice: Obj): void {
  for (const port of items(slice, "ports")) {
    defaultPtr(port, "name", "");
    defaultPtr(port, "protocol", "TCP");
  }
}

// ---- rbac.authorization.k8s.io/v1 ----

const RBAC_GROUP = "rbac.authorization.k8s.io";

/** RoleBinding and ClusterRoleBinding: roleRef.apiGroup, and apiGroup of User/Group subjects. */
export function defaultRoleBinding(rb: Obj): void {
  const roleRef = ensure(rb, "roleRef");
  if (roleRef) defaultString(roleRef, "apiGroup", RBAC_GROUP);
  for (const subject of items(rb, "subjects")) {
    if (subject["kind"] === "User" || subject["kind"] === "Group") defaultString(subject, "apiGroup", RBAC_GROUP);
  }
}

// ---- scheduling.k8s.io/v1 ----

export function defaultPriorityClass(pc: Obj): void {
  defaultPtr(pc, "preemptionPolicy", "PreemptLowerPriority");
}

// ---- admissionregistration.k8s.io/v1 ----

function defaultServiceReference(clientConfig: Obj | undefined): void {
  const service = clientConfig ? child(clientConfig, "service") : undefined;
  if (service) defaultPtr(service, "port", 443);
}

function defaultRuleScopes(o: Obj, key: string): void {
  for (const rule of items(o, key)) defaultPtr(rule, "scope", "*");
}

/**
 * Both webhook configuration kinds; `mutating` adds reinvocationPolicy. In v1, sideEffects and
 * admissionReviewVersions are required, not defaulted (v1beta1 defaulted them).
 */
export function defaultWebhookConfiguration(cfg: Obj, mutating: boolean): void {
  for (const hook of items(cfg, "webhooks")) {
    defaultPtr(hook, "failurePolicy", "Fail");
    defaultPtr(hook, "matchPolicy", "Equivalent");
    defaultPtr(hook, "namespaceSelector", {});
    defaultPtr(hook, "objectSelector", {});
    defaultPtr(hook, "timeoutSeconds", 10);
    if (mutating) defaultPtr(hook, "reinvocationPolicy", "Never");
    defaultServiceReference(child(hook, "clientConfig"));
    defaultRuleScopes(hook, "rules");
  }
}

function defaultMatchResources(match: Obj | undefined): void {
  if (!match) return;
  defaultPtr(match, "matchPolicy", "Equivalent");
  defaultPtr(match, "namespaceSelector", {});
  defaultPtr(match, "objectSelector", {});
  defaultRuleScopes(match, "resourceRules");
  defaultRuleScopes(match, "excludeResourceRules");
}

export function defaultValidatingAdmissionPolicy(vap: Obj): void {
  const spec = ensure(vap, "spec");
  if (!spec) return;
  defaultPtr(spec, "failurePolicy", "Fail");
  defaultMatchResources(child(spec, "matchConstraints"));
}

export function defaultValidatingAdmissionPolicyBinding(binding: Obj): void {
  const spec = child(binding, "spec");
  if (!spec) return;
  defaultMatchResources(child(spec, "matchResources"));
  const paramRef = child(spec, "paramRef");
  if (paramRef) defaultPtr(paramRef, "parameterNotFoundAction", "Deny");
}

// ---- flowcontrol.apiserver.k8s.io/v1 ----

export function defaultFlowSchema(fs: Obj): void {
  const spec = ensure(fs, "spec");
  if (spec) defaultInt(spec, "matchingPrecedence", 1000);
}

export function defaultPriorityLevelConfiguration(plc: Obj): void {
  const spec = child(plc, "spec");
  if (!spec) return;
  const exempt = child(spec, "exempt");
  if (exempt) {
    defaultPtr(exempt, "nominalConcurrencyShares", 0);
    defaultPtr(exempt, "lendablePercent", 0);
  }
  const limited = child(spec, "limited");
  if (limited) {
    defaultPtr(limited, "nominalConcurrencyShares", 30);
    defaultPtr(limited, "lendablePercent", 0);
    const queuing = child(child(limited, "limitResponse") ?? {}, "queuing");
    if (queuing) {
      defaultInt(queuing, "handSize", 8);
      defaultInt(queuing, "queues", 64);
      defaultInt(queuing, "queueLengthLimit", 50);
    }
  }
}

// ---- apiextensions.k8s.io/v1 ----

export function defaultCustomResourceDefinition(crd: Obj): void {
  const spec = ensure(crd, "spec");
  if (!spec) return;
  const names = ensure(spec, "names");
  if (names) {
    const kind = typeof names["kind"] === "string" ? names["kind"] : "";
    defaultString(names, "singular", kind.toLowerCase());
    if (kind.length > 0) defaultString(names, "listKind", `${kind}List`);
  }
  const conversion = ensure(spec, "conversion");
  if (conversion) {
    defaultString(conversion, "strategy", "None");
    defaultServiceReference(child(child(conversion, "webhook") ?? {}, "clientConfig"));
  }
  const status = ensure(crd, "status");
  if (status && isEmpty(status["storedVersions"])) {
    const storage = items(spec, "versions").find((v) => v["storage"] === true);
    if (storage && typeof storage["name"] === "string") status["storedVersions"] = [storage["name"]];
  }
}

// ---- apiregistration.k8s.io/v1 ----

export function defaultAPIService(svc: Obj): void {
  const service = child(child(svc, "spec") ?? {}, "service");
  if (service) defaultPtr(service, "port", 443);
}

// ---- resource.k8s.io/v1 (dynamic resource allocation) ----

/** An exact device request or a sub-request: ExactCount of 1, tolerations with operator Equal. */
function defaultDeviceRequest(req: Obj): void {
  defaultString(req, "allocationMode", "ExactCount");
  if (req["allocationMode"] === "ExactCount") defaultInt(req, "count", 1);
  for (const toleration of items(req, "tolerations")) defaultString(toleration, "operator", "Equal");
}

function defaultDeviceClaim(claimSpec: Obj | undefined): void {
  const devices = claimSpec ? child(claimSpec, "devices") : undefined;
  if (!devices) return;
  for (const request of items(devices, "requests")) {
    const exactly = child(request, "exactly");
    if (exactly) defaultDeviceRequest(exactly);
    for (const sub of items(request, "firstAvailable")) defaultDeviceRequest(sub);
  }
}

export function defaultResourceClaim(claim: Obj): void {
  defaultDeviceClaim(child(claim, "spec"));
}

export function defaultResourceClaimTemplate(template: Obj): void {
  defaultDeviceClaim(child(child(template, "spec") ?? {}, "spec"));
}
