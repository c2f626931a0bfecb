import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, defaulted, y } from "./helpers.js";

describe("HorizontalPodAutoscaler (autoscaling/v2) defaults", () => {
  it("an HPA without metrics gets minReplicas 1 and CPU utilization 80%, and no behavior", () => {
    const hpa = defaulted(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 5}
`);
    assert.equal(at(hpa, "spec.minReplicas"), 1);
    assert.deepEqual(at(hpa, "spec.metrics"), [
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
    ]);
    assert.equal(at(hpa, "spec.behavior"), undefined);
  });

  it("a behavior with only a scale-down window gets both rule sets filled", () => {
    const hpa = defaulted(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 1Gi}}}]
  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}
`);
    assert.deepEqual(
      at(hpa, "spec.behavior"),
      y(`
scaleUp:
  stabilizationWindowSeconds: 0
  selectPolicy: Max
  policies: [{type: Pods, value: 4, periodSeconds: 15}, {type: Percent, value: 100, periodSeconds: 15}]
scaleDown:
  stabilizationWindowSeconds: 60
  selectPolicy: Max
  policies: [{type: Percent, value: 100, periodSeconds: 15}]
`),
    );
    assert.equal(at(hpa, "spec.metrics.0.resource.name"), "memory");
  });
});

describe("RBAC defaults", () => {
  for (const kind of ["RoleBinding", "ClusterRoleBinding"]) {
    it(`a ${kind} gets roleRef.apiGroup and User/Group subjects get apiGroup rbac.authorization.k8s.io`, () => {
      const rb = defaulted(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ${kind}
metadata: {name: b}
roleRef: {kind: ClusterRole, name: view}
subjects:
- {kind: User, name: alice}
- {kind: Group, name: devs}
- {kind: ServiceAccount, name: default, namespace: default}
`);
      assert.equal(at(rb, "roleRef.apiGroup"), "rbac.authorization.k8s.io");
      assert.deepEqual(rb["subjects"], [
        { kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" },
        { kind: "Group", name: "devs", apiGroup: "rbac.authorization.k8s.io" },
        { kind: "ServiceAccount", name: "default", namespace: "default" },
      ]);
    });
  }
});

describe("other groups", () => {
  it("a PriorityClass gets preemptionPolicy PreemptLowerPriority", () => {
    const pc = defaulted(
      "{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: high}, value: 1000}",
    );
    assert.equal(pc["preemptionPolicy"], "PreemptLowerPriority");
  });

  it("a CRD gets singular, listKind, conversion None and storedVersions", () => {
    const crd = defaulted(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - {name: v1beta1, served: true, storage: false}
  - {name: v1, served: true, storage: true}
`);
    assert.deepEqual(at(crd, "spec.names"), {
      kind: "Widget",
      plural: "widgets",
      singular: "widget",
      listKind: "WidgetList",
    });
    assert.deepEqual(at(crd, "spec.conversion"), { strategy: "None" });
    assert.deepEqual(at(crd, "status.storedVersions"), ["v1"]);
  });

  it("a CRD conversion webhook service gets port 443", () => {
    const crd = defaulted(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  names: {kind: Widget, plural: widgets}
  conversion: {strategy: Webhook, webhook: {conversionReviewVersions: [v1], clientConfig: {service: {name: conv, namespace: x}}}}
`);
    assert.equal(at(crd, "spec.conversion.webhook.clientConfig.service.port"), 443);
  });

  it("webhook configurations get failurePolicy, matchPolicy, selectors, timeout, rule scope, service port", () => {
    const cfg = defaulted(`
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: m}
webhooks:
- name: m.example.com
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig: {service: {name: hook, namespace: x}}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
`);
    assert.deepEqual(
      at(cfg, "webhooks.0"),
      y(`
name: m.example.com
sideEffects: None
admissionReviewVersions: [v1]
clientConfig: {service: {name: hook, namespace: x, port: 443}}
rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods], scope: "*"}]
failurePolicy: Fail
matchPolicy: Equivalent
namespaceSelector: {}
objectSelector: {}
timeoutSeconds: 10
reinvocationPolicy: Never
`),
    );
  });

  it("a ValidatingAdmissionPolicy gets failurePolicy Fail and matchConstraints defaults", () => {
    const vap = defaulted(`
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: p}
spec:
  matchConstraints: {resourceRules: [{operations: [CREATE], apiGroups: [apps], apiVersions: [v1], resources: [deployments]}]}
  validations: [{expression: "object.spec.replicas <= 5"}]
`);
    assert.equal(at(vap, "spec.failurePolicy"), "Fail");
    assert.equal(at(vap, "spec.matchConstraints.matchPolicy"), "Equivalent");
    assert.deepEqual(at(vap, "spec.matchConstraints.namespaceSelector"), {});
    assert.equal(at(vap, "spec.matchConstraints.resourceRules.0.scope"), "*");
  });

  it("flowcontrol: FlowSchema precedence 1000, limited priority level shares 30 and queuing 8/64/50", () => {
    const fs = defaulted(
      "{apiVersion: flowcontrol.apiserver.k8s.io/v1, kind: FlowSchema, metadata: {name: f}, spec: {priorityLevelConfiguration: {name: x}}}",
    );
    assert.equal(at(fs, "spec.matchingPrecedence"), 1000);
    const plc = defaulted(`
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: p}
spec: {type: Limited, limited: {limitResponse: {type: Queue, queuing: {}}}}
`);
    assert.deepEqual(
      at(plc, "spec.limited"),
      y(
        "{nominalConcurrencyShares: 30, lendablePercent: 0, limitResponse: {type: Queue, queuing: {handSize: 8, queues: 64, queueLengthLimit: 50}}}",
      ),
    );
  });

  it("an APIService's service gets port 443", () => {
    const svc = defaulted(`
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec: {group: metrics.k8s.io, version: v1beta1, service: {name: metrics-server, namespace: kube-system}}
`);
    assert.equal(at(svc, "spec.service.port"), 443);
  });
});

describe("ValidatingAdmissionPolicyBinding defaults", () => {
  it("a binding's paramRef gets parameterNotFoundAction Deny and matchResources defaults", () => {
    const b = defaulted(`
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec:
  policyName: p
  validationActions: [Deny]
  paramRef: {name: limits}
  matchResources: {}
`);
    assert.deepEqual(at(b, "spec.paramRef"), { name: "limits", parameterNotFoundAction: "Deny" });
    assert.deepEqual(at(b, "spec.matchResources"), {
      matchPolicy: "Equivalent",
      namespaceSelector: {},
      objectSelector: {},
    });
  });
});

describe("dynamic resource allocation (resource.k8s.io/v1) defaults", () => {
  it("exact device requests and sub-requests get ExactCount 1; tolerations get operator Equal", () => {
    const claim = defaulted(`
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: gpu}
spec:
  devices:
    requests:
    - name: one
      exactly: {deviceClassName: gpu, tolerations: [{key: k, effect: NoSchedule}]}
    - name: all
      exactly: {deviceClassName: gpu, allocationMode: All}
    - name: either
      firstAvailable: [{name: big, deviceClassName: big-gpu, count: 2}, {name: small, deviceClassName: gpu}]
`);
    assert.deepEqual(
      at(claim, "spec.devices.requests"),
      y(`
- name: one
  exactly: {deviceClassName: gpu, allocationMode: ExactCount, count: 1, tolerations: [{key: k, effect: NoSchedule, operator: Equal}]}
- name: all
  exactly: {deviceClassName: gpu, allocationMode: All}
- name: either
  firstAvailable:
  - {name: big, deviceClassName: big-gpu, count: 2, allocationMode: ExactCount}
  - {name: small, deviceClassName: gpu, allocationMode: ExactCount, count: 1}
`),
    );
  });
});
