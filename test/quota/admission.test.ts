/** Quota admission: what a create/update is refused with, worded as upstream's ResourceQuota plug-in. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { ApiError } from "../../src/apiserver/errors.js";
import { checkQuota, type QuotaLister } from "../../src/apiserver/quota.js";

type Res = { requests?: Record<string, string>; limits?: Record<string, string> };

function pod(name: string, ...containers: Res[]): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "tutorial" },
    spec: { containers: containers.map((r, i) => ({ name: `c${i}`, image: "x", resources: r })) },
    status: { phase: "Pending" },
  };
}

function quota(name: string, hard: Record<string, string>, extra: Record<string, unknown> = {}): KObject {
  return { metadata: { name, namespace: "tutorial" }, spec: { hard, ...extra } };
}

const seedQuota = quota("default-quota", {
  "limits.cpu": "2",
  "limits.memory": "2Gi",
  "requests.cpu": "1",
  "requests.memory": "1Gi",
});

const running = pod("running", {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "200m", memory: "512Mi" },
});

function lister(objects: Record<string, KObject[]>): QuotaLister {
  return (group, plural) => objects[`${group}/${plural}`] ?? [];
}

const PODS = { group: "", plural: "pods" };

/** The message checkQuota refuses with, or "" when it admits. */
function outcome(f: () => void): string {
  try {
    f();
    return "";
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 403);
    assert.equal(err.reason, "Forbidden");
    return err.message;
  }
}

describe("quota admission (usage recomputed from the cache)", () => {
  const objects = lister({ "/pods": [running] });
  const cases: Array<{ name: string; obj: KObject; quotas: KObject[]; want: string }> = [
    {
      name: "a pod over the requests and limits is refused naming each exceeded resource (the seed's message)",
      obj: pod("pod", { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } }),
      quotas: [seedQuota],
      want:
        'pods "pod" is forbidden: exceeded quota: default-quota, requested: limits.cpu=2,requests.cpu=2,requests.memory=1Gi, ' +
        "used: limits.cpu=200m,requests.cpu=100m,requests.memory=256Mi, limited: limits.cpu=2,requests.cpu=1,requests.memory=1Gi",
    },
    {
      name: "a pod that fits is admitted",
      obj: pod("small", { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "100m", memory: "128Mi" } }),
      quotas: [seedQuota],
      want: "",
    },
    {
      name: "a pod filling the quota exactly is admitted",
      obj: pod("exact", { requests: { cpu: "900m", memory: "768Mi" }, limits: { cpu: "1800m", memory: "1536Mi" } }),
      quotas: [seedQuota],
      want: "",
    },
    {
      name: "a pod without requests under a requests.cpu quota must specify them, per container",
      obj: pod("bare", {}, { requests: { cpu: "1m" } }),
      quotas: [quota("cpu-quota", { "requests.cpu": "1", "requests.memory": "1Gi" })],
      want: 'pods "bare" is forbidden: failed quota: cpu-quota: must specify requests.cpu for: c0; requests.memory for: c0,c1',
    },
    {
      name: "a pod missing limits under the seed quota names limits and requests",
      obj: pod("bare", { requests: { cpu: "1m", memory: "1Mi" } }),
      quotas: [seedQuota],
      want: 'pods "bare" is forbidden: failed quota: default-quota: must specify limits.cpu for: c0; limits.memory for: c0',
    },
    {
      name: "a quota on ephemeral storage does not require pods to state it",
      obj: pod("bare", {}),
      quotas: [quota("disk", { "requests.ephemeral-storage": "1Gi" })],
      want: "",
    },
    {
      name: "the pods count is refused once reached",
      obj: pod("third", {}),
      quotas: [quota("count", { pods: "1" })],
      want: 'pods "third" is forbidden: exceeded quota: count, requested: pods=1, used: pods=1, limited: pods=1',
    },
    {
      name: "a quota whose scope the pod is outside does not apply",
      obj: pod("third", {}),
      quotas: [quota("count", { pods: "1" }, { scopes: ["NotBestEffort"] })],
      want: "",
    },
    {
      name: "a quota on other resources does not apply to pods",
      obj: pod("third", {}),
      quotas: [quota("cms", { configmaps: "0" })],
      want: "",
    },
    {
      name: "a pod without a name yet (generateName) is named as the resource only",
      obj: { ...pod("", {}), metadata: { namespace: "tutorial" } },
      quotas: [quota("count", { pods: "1" })],
      want: "pods is forbidden: exceeded quota: count, requested: pods=1, used: pods=1, limited: pods=1",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(
        outcome(() => checkQuota("create", PODS, c.obj, undefined, c.quotas, { lister: objects })),
        c.want,
      );
    });
  }
});

describe("quota admission for other resources", () => {
  it("object counts: the next configmap over count/configmaps is refused", () => {
    const objects = lister({ "/configmaps": [{ metadata: { name: "a", namespace: "tutorial" } }] });
    const cm: KObject = { metadata: { name: "b", namespace: "tutorial" }, data: {} };
    assert.equal(
      outcome(() =>
        checkQuota(
          "create",
          { group: "", plural: "configmaps" },
          cm,
          undefined,
          [quota("q", { "count/configmaps": "1" })],
          {
            lister: objects,
          },
        ),
      ),
      'configmaps "b" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1',
    );
  });

  it("count/<plural>.<group> limits a resource of another group, named with its group", () => {
    const d: KObject = { metadata: { name: "web", namespace: "tutorial" } };
    assert.equal(
      outcome(() =>
        checkQuota(
          "create",
          { group: "apps", plural: "deployments" },
          d,
          undefined,
          [quota("q", { "count/deployments.apps": "0" })],
          {
            lister: lister({}),
          },
        ),
      ),
      'deployments.apps "web" is forbidden: exceeded quota: q, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0',
    );
  });

  it("updating a configmap is never refused by an object count", () => {
    const cm: KObject = { metadata: { name: "a", namespace: "tutorial", resourceVersion: "5" } };
    const objects = lister({ "/configmaps": [cm, { metadata: { name: "b", namespace: "tutorial" } }] });
    assert.equal(
      outcome(() =>
        checkQuota("update", { group: "", plural: "configmaps" }, cm, cm, [quota("q", { configmaps: "1" })], {
          lister: objects,
        }),
      ),
      "",
    );
  });

  it("a service changed to NodePort is charged its node ports on update", () => {
    const old: KObject = {
      metadata: { name: "s", namespace: "tutorial", resourceVersion: "3" },
      spec: { type: "ClusterIP", ports: [{ port: 80 }] },
    };
    const next: KObject = { ...old, spec: { type: "NodePort", ports: [{ port: 80 }] } };
    assert.equal(
      outcome(() =>
        checkQuota(
          "update",
          { group: "", plural: "services" },
          next,
          old,
          [quota("q", { "services.nodeports": "0", services: "1" })],
          {
            lister: lister({ "/services": [old] }),
          },
        ),
      ),
      'services "s" is forbidden: exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=0, limited: services.nodeports=0',
    );
  });

  it("a claim over the storage of its class is refused", () => {
    const pvc: KObject = {
      metadata: { name: "data", namespace: "tutorial" },
      spec: { storageClassName: "gold", resources: { requests: { storage: "10Gi" } } },
    };
    assert.equal(
      outcome(() =>
        checkQuota(
          "create",
          { group: "", plural: "persistentvolumeclaims" },
          pvc,
          undefined,
          [quota("q", { "gold.storageclass.storage.k8s.io/requests.storage": "5Gi", "requests.storage": "100Gi" })],
          { lister: lister({}) },
        ),
      ),
      'persistentvolumeclaims "data" is forbidden: exceeded quota: q, requested: gold.storageclass.storage.k8s.io/requests.storage=10Gi, ' +
        "used: gold.storageclass.storage.k8s.io/requests.storage=0, limited: gold.storageclass.storage.k8s.io/requests.storage=5Gi",
    );
  });

  it("events are never checked", () => {
    const ev: KObject = { metadata: { name: "e", namespace: "tutorial" } };
    assert.equal(
      outcome(() =>
        checkQuota("create", { group: "", plural: "events" }, ev, undefined, [quota("q", { "count/events": "0" })], {
          lister: lister({}),
        }),
      ),
      "",
    );
  });
});

describe("quota admission from status.used (upstream's own bookkeeping)", () => {
  it("uses status.hard and status.used, so the message shows the recorded usage", () => {
    const q: KObject = {
      metadata: { name: "q", namespace: "tutorial" },
      spec: { hard: { pods: "2" } },
      status: { hard: { pods: "2" }, used: { pods: "2" } },
    };
    assert.equal(
      outcome(() => checkQuota("create", PODS, pod("p", {}), undefined, [q])),
      'pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2',
    );
  });

  it("refuses while the quota's usage of a tracked resource is not known yet", () => {
    const q: KObject = {
      metadata: { name: "q", namespace: "tutorial" },
      spec: { hard: { pods: "2", "requests.storage": "1Gi" } },
      status: { hard: { pods: "2", "requests.storage": "1Gi" } },
    };
    assert.equal(
      outcome(() => checkQuota("create", PODS, pod("p", {}), undefined, [q])),
      'pods "p" is forbidden: status unknown for quota: q, resources: pods',
    );
  });
});
