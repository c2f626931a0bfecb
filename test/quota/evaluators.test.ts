/** Quota usage of single objects and of a namespace, as upstream's evaluators measure it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import {
  calculateUsage,
  evaluatorFor,
  podEvaluator,
  type QuotaLister,
  quotaStatus,
  quotaStatusEqual,
  type ResourceList,
  resourceListToJSON,
  serviceEvaluator,
} from "../../src/apiserver/quota.js";

const NOW = Date.parse("2025-01-01T00:00:00Z");

function json(l: ResourceList): Record<string, string> {
  return resourceListToJSON(l);
}

type Res = { requests?: Record<string, string>; limits?: Record<string, string> };

function pod(
  name: string,
  containers: Res[],
  extra: Record<string, unknown> = {},
  more: Partial<KObject> = {},
): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns", ...(more.metadata ?? {}) },
    spec: { containers: containers.map((r, i) => ({ name: `c${i}`, image: "x", resources: r })), ...extra },
    status: more["status"] ?? { phase: "Running" },
  };
}

describe("pod usage", () => {
  const cases: Array<{ name: string; pod: KObject; want: Record<string, string> }> = [
    {
      name: "a pod without resources counts only itself",
      pod: pod("p", [{}]),
      want: { "count/pods": "1", pods: "1" },
    },
    {
      name: "requests count under both the bare and the requests. names; limits under limits.",
      pod: pod("p", [{ requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "200m", memory: "512Mi" } }]),
      want: {
        "count/pods": "1",
        cpu: "100m",
        "limits.cpu": "200m",
        "limits.memory": "512Mi",
        memory: "256Mi",
        pods: "1",
        "requests.cpu": "100m",
        "requests.memory": "256Mi",
      },
    },
    {
      name: "containers add up",
      pod: pod("p", [{ requests: { cpu: "100m" } }, { requests: { cpu: "250m", "ephemeral-storage": "1Gi" } }]),
      want: {
        "count/pods": "1",
        cpu: "350m",
        "ephemeral-storage": "1Gi",
        pods: "1",
        "requests.cpu": "350m",
        "requests.ephemeral-storage": "1Gi",
      },
    },
    {
      name: "a larger init container sets the pod's request",
      pod: pod("p", [{ requests: { cpu: "100m" } }], {
        initContainers: [{ name: "i", image: "x", resources: { requests: { cpu: "1" } } }],
      }),
      want: { "count/pods": "1", cpu: "1", pods: "1", "requests.cpu": "1" },
    },
    {
      name: "sidecar init containers add to the containers",
      pod: pod("p", [{ requests: { cpu: "100m" } }], {
        initContainers: [{ name: "s", image: "x", restartPolicy: "Always", resources: { requests: { cpu: "50m" } } }],
      }),
      want: { "count/pods": "1", cpu: "150m", pods: "1", "requests.cpu": "150m" },
    },
    {
      name: "the pod overhead adds to requests, and to limits only where a limit exists",
      pod: pod("p", [{ requests: { cpu: "100m" }, limits: { cpu: "100m" } }], {
        overhead: { cpu: "10m", memory: "10Mi" },
      }),
      want: {
        "count/pods": "1",
        cpu: "110m",
        "limits.cpu": "110m",
        memory: "10Mi",
        pods: "1",
        "requests.cpu": "110m",
        "requests.memory": "10Mi",
      },
    },
    {
      name: "hugepages and extended resources count as requests.<name>",
      pod: pod("p", [{ requests: { "hugepages-2Mi": "4Mi", "example.com/gpu": "2" } }]),
      want: {
        "count/pods": "1",
        "hugepages-2Mi": "4Mi",
        pods: "1",
        "requests.example.com/gpu": "2",
        "requests.hugepages-2Mi": "4Mi",
      },
    },
    {
      name: "a Succeeded pod counts only in count/pods",
      pod: pod("p", [{ requests: { cpu: "1" } }], {}, { status: { phase: "Succeeded" } }),
      want: { "count/pods": "1" },
    },
    {
      name: "a Failed pod counts only in count/pods",
      pod: pod("p", [{ requests: { cpu: "1" } }], {}, { status: { phase: "Failed" } }),
      want: { "count/pods": "1" },
    },
    {
      name: "a pod being deleted still counts within its grace period",
      pod: pod(
        "p",
        [{ requests: { cpu: "1" } }],
        {},
        { metadata: { name: "p", deletionTimestamp: "2024-12-31T23:59:50Z", deletionGracePeriodSeconds: 30 } },
      ),
      want: { "count/pods": "1", cpu: "1", pods: "1", "requests.cpu": "1" },
    },
    {
      name: "a pod past its deletion grace period counts only in count/pods",
      pod: pod(
        "p",
        [{ requests: { cpu: "1" } }],
        {},
        { metadata: { name: "p", deletionTimestamp: "2024-12-31T23:59:00Z", deletionGracePeriodSeconds: 30 } },
      ),
      want: { "count/pods": "1" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(json(podEvaluator.usage(c.pod, NOW)), c.want);
    });
  }
});

describe("service usage", () => {
  const svc = (spec: Record<string, unknown>): KObject => ({ metadata: { name: "s", namespace: "ns" }, spec });
  const ports = [
    { port: 80, nodePort: 30080 },
    { port: 443, nodePort: 0 },
  ];
  const cases: Array<[string, Record<string, unknown>, Record<string, string>]> = [
    [
      "a ClusterIP service uses no node port and no load balancer",
      { type: "ClusterIP", ports },
      { "count/services": "1", services: "1", "services.loadbalancers": "0", "services.nodeports": "0" },
    ],
    [
      "a NodePort service uses one node port per port",
      { type: "NodePort", ports },
      { "count/services": "1", services: "1", "services.loadbalancers": "0", "services.nodeports": "2" },
    ],
    [
      "a LoadBalancer service uses a load balancer and its node ports",
      { type: "LoadBalancer", ports },
      { "count/services": "1", services: "1", "services.loadbalancers": "1", "services.nodeports": "2" },
    ],
    [
      "a LoadBalancer without node port allocation counts only the explicit node ports",
      { type: "LoadBalancer", ports, allocateLoadBalancerNodePorts: false },
      { "count/services": "1", services: "1", "services.loadbalancers": "1", "services.nodeports": "1" },
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(json(serviceEvaluator.usage(svc(spec), NOW)), want));
  }
});

describe("persistentvolumeclaim usage", () => {
  const pvc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KObject => ({
    metadata: { name: "c", namespace: "ns" },
    spec,
    status,
  });
  const ev = evaluatorFor("", "persistentvolumeclaims");
  const cases: Array<[string, KObject, Record<string, string>]> = [
    [
      "a claim without a class counts its storage",
      pvc({ resources: { requests: { storage: "1Gi" } } }),
      { "count/persistentvolumeclaims": "1", persistentvolumeclaims: "1", "requests.storage": "1Gi" },
    ],
    [
      "a claim with a class also counts under <class>.storageclass.storage.k8s.io/",
      pvc({ storageClassName: "gold", resources: { requests: { storage: "5Gi" } } }),
      {
        "count/persistentvolumeclaims": "1",
        "gold.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
        "gold.storageclass.storage.k8s.io/requests.storage": "5Gi",
        persistentvolumeclaims: "1",
        "requests.storage": "5Gi",
      },
    ],
    [
      "a larger allocated size counts instead of the request",
      pvc({ resources: { requests: { storage: "1Gi" } } }, { allocatedResources: { storage: "2Gi" } }),
      { "count/persistentvolumeclaims": "1", persistentvolumeclaims: "1", "requests.storage": "2Gi" },
    ],
    [
      "a fractional byte request is rounded up to a whole byte",
      pvc({ resources: { requests: { storage: "1500m" } } }),
      { "count/persistentvolumeclaims": "1", persistentvolumeclaims: "1", "requests.storage": "2" },
    ],
  ];
  for (const [name, obj, want] of cases) {
    it(name, () => assert.deepEqual(json(ev.usage(obj, NOW)), want));
  }
});

describe("object counts", () => {
  const cases: Array<[string, string, string, Record<string, string>]> = [
    [
      "configmaps count under count/configmaps and the legacy configmaps",
      "",
      "configmaps",
      { "count/configmaps": "1", configmaps: "1" },
    ],
    ["secrets keep their legacy name too", "", "secrets", { "count/secrets": "1", secrets: "1" }],
    ["any other resource counts as count/<plural>.<group>", "apps", "deployments", { "count/deployments.apps": "1" }],
    ["a core resource without a legacy name counts as count/<plural>", "", "endpoints", { "count/endpoints": "1" }],
  ];
  for (const [name, group, plural, want] of cases) {
    it(name, () => assert.deepEqual(json(evaluatorFor(group, plural).usage({ metadata: { name: "x" } }, NOW)), want));
  }
});

describe("pod scopes", () => {
  const best = pod("best", [{}]);
  const burst = pod("burst", [{ requests: { cpu: "100m" } }]);
  const deadline = pod("deadline", [{}], { activeDeadlineSeconds: 60 });
  const high = pod("high", [{}], { priorityClassName: "high" });
  const cross = pod("cross", [{}], {
    affinity: {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ namespaces: ["other"], topologyKey: "k" }] },
    },
  });
  const cases: Array<[string, string, string[] | undefined, KObject, boolean]> = [
    ["BestEffort matches a pod with no cpu/memory request or limit", "BestEffort", undefined, best, true],
    ["BestEffort does not match a pod with a cpu request", "BestEffort", undefined, burst, false],
    ["NotBestEffort matches a pod with a cpu request", "NotBestEffort", undefined, burst, true],
    ["Terminating matches a pod with activeDeadlineSeconds", "Terminating", undefined, deadline, true],
    ["NotTerminating matches a pod without activeDeadlineSeconds", "NotTerminating", undefined, best, true],
    ["PriorityClass In matches the named class", "PriorityClass/In", ["high"], high, true],
    ["PriorityClass In does not match a pod without a class", "PriorityClass/In", ["high"], best, false],
    ["PriorityClass NotIn matches a pod without a class", "PriorityClass/NotIn", ["high"], best, true],
    ["PriorityClass Exists matches a pod with any class", "PriorityClass/Exists", undefined, high, true],
    ["PriorityClass DoesNotExist matches a pod without a class", "PriorityClass/DoesNotExist", undefined, best, true],
    ["CrossNamespacePodAffinity matches a term naming namespaces", "CrossNamespacePodAffinity", undefined, cross, true],
    ["CrossNamespacePodAffinity does not match a plain pod", "CrossNamespacePodAffinity", undefined, best, false],
  ];
  for (const [name, scope, values, obj, want] of cases) {
    it(name, () => {
      const [scopeName = "", operator = "Exists"] = scope.split("/");
      assert.equal(podEvaluator.matchesScope({ scopeName, operator, values }, obj), want);
    });
  }
});

function listerOf(objects: Record<string, KObject[]>): QuotaLister {
  return (group, plural, namespace) =>
    (objects[`${group}/${plural}`] ?? []).filter((o) => (o.metadata.namespace ?? "ns") === namespace);
}

function quota(hard: Record<string, string>, spec: Record<string, unknown> = {}, status?: unknown): KObject {
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "q", namespace: "ns" },
    spec: { hard, ...spec },
    ...(status === undefined ? {} : { status }),
  };
}

describe("namespace usage of a quota", () => {
  const objects = listerOf({
    "/pods": [
      pod("a", [{ requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "200m", memory: "512Mi" } }]),
      pod("b", [{ requests: { cpu: "200m", memory: "356Mi" }, limits: { cpu: "300m", memory: "612Mi" } }]),
      pod("done", [{ requests: { cpu: "5" } }], {}, { status: { phase: "Succeeded" } }),
      pod("best", [{}]),
      { ...pod("elsewhere", [{ requests: { cpu: "5" } }]), metadata: { name: "elsewhere", namespace: "other" } },
    ],
    "/configmaps": [{ metadata: { name: "c1", namespace: "ns" } }, { metadata: { name: "c2", namespace: "ns" } }],
    "apps/deployments": [{ metadata: { name: "d", namespace: "ns" } }],
    "/services": [{ metadata: { name: "s", namespace: "ns" }, spec: { type: "NodePort", ports: [{ port: 1 }] } }],
  });
  const cases: Array<[string, KObject, Record<string, string>]> = [
    [
      "sums the compute resources of the namespace's live pods (the seed's describe quota)",
      quota({ "limits.cpu": "2", "limits.memory": "2Gi", "requests.cpu": "1", "requests.memory": "1Gi" }),
      { "limits.cpu": "500m", "limits.memory": "1124Mi", "requests.cpu": "300m", "requests.memory": "612Mi" },
    ],
    [
      "counts pods not yet finished under pods and every pod under count/pods",
      quota({ pods: "10", "count/pods": "10" }),
      { "count/pods": "4", pods: "3" },
    ],
    [
      "a tracked resource nothing uses is 0",
      quota({ secrets: "5", "requests.storage": "10Gi" }),
      { "requests.storage": "0", secrets: "0" },
    ],
    [
      "counts any resource named count/<plural>.<group>, and legacy names",
      quota({ "count/deployments.apps": "3", configmaps: "5", "services.nodeports": "2" }),
      { configmaps: "2", "count/deployments.apps": "1", "services.nodeports": "1" },
    ],
    [
      "a hard resource no evaluator knows gets no usage",
      quota({ "example.com/unknown": "1", pods: "5" }),
      { pods: "3" },
    ],
    [
      "a BestEffort quota counts only best-effort pods",
      quota({ pods: "10" }, { scopes: ["BestEffort"] }),
      { pods: "1" },
    ],
    ["a NotBestEffort quota counts the others", quota({ pods: "10" }, { scopes: ["NotBestEffort"] }), { pods: "2" }],
  ];
  for (const [name, q, want] of cases) {
    it(name, () => assert.deepEqual(json(calculateUsage(q, objects, NOW)), want));
  }

  it("status keeps an earlier observation for a hard resource no evaluator tracks, and only hard resources", () => {
    const q = quota({ "example.com/unknown": "1", pods: "5" }, {}, { used: { "example.com/unknown": "1", gone: "3" } });
    assert.deepEqual(quotaStatus(q, objects, NOW), {
      hard: { "example.com/unknown": "1", pods: "5" },
      used: { "example.com/unknown": "1", pods: "3" },
    });
  });

  it("a status equal by value (1024Mi = 1Gi) needs no write; a different one does", () => {
    const q = quota({ memory: "1Gi" }, {}, { hard: { memory: "1024Mi" }, used: { memory: "0" } });
    assert.equal(quotaStatusEqual(q, { hard: { memory: "1Gi" }, used: { memory: "0" } }), true);
    assert.equal(quotaStatusEqual(q, { hard: { memory: "1Gi" }, used: { memory: "1" } }), false);
    assert.equal(quotaStatusEqual(q, { hard: { memory: "1Gi", pods: "1" }, used: { memory: "0" } }), false);
  });
});
