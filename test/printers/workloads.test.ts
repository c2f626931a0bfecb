import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { printerFor } from "../../src/api/printers/index.js";
import type { KObject } from "../../src/api/types.js";
import { ago, headers, obj, row } from "./helpers.js";

interface Case {
  name: string;
  obj: KObject;
  want: Record<string, unknown>;
}

function check(group: string, resource: string, cases: Case[]): void {
  const p = printerFor(group, resource);
  for (const c of cases) {
    it(c.name, () => {
      const got = row(p, c.obj);
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k], v, k);
    });
  }
}

const template = (containers: Array<[string, string]>) => ({
  metadata: { labels: { app: "web" } },
  spec: { containers: containers.map(([name, image]) => ({ name, image })) },
});

describe("deployments table", () => {
  it("columns", () => {
    const p = printerFor("apps", "deployments");
    assert.deepEqual(headers(p), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert.deepEqual(headers(p, true).slice(5), ["CONTAINERS", "IMAGES", "SELECTOR"]);
  });
  check("apps", "deployments", [
    {
      name: "READY is ready/desired",
      obj: obj("web", ago("3d"), {
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: template([
            ["nginx", "nginx:1.25"],
            ["log", "fluent-bit"],
          ]),
        },
        status: { replicas: 2, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 },
      }),
      want: {
        READY: "1/2",
        "UP-TO-DATE": 2,
        AVAILABLE: 1,
        AGE: "3d",
        CONTAINERS: "nginx,log",
        IMAGES: "nginx:1.25,fluent-bit",
        SELECTOR: "app=web",
      },
    },
    {
      name: "a fresh deployment without status; selector expressions render like labels.Selector",
      obj: obj("api", ago("5s"), {
        spec: {
          replicas: 3,
          selector: {
            matchLabels: { tier: "api" },
            matchExpressions: [
              { key: "env", operator: "In", values: ["prod", "dev"] },
              { key: "canary", operator: "DoesNotExist" },
            ],
          },
          template: template([["api", "api:v2"]]),
        },
      }),
      want: { READY: "0/3", "UP-TO-DATE": 0, AVAILABLE: 0, SELECTOR: "!canary,env in (dev,prod),tier=api" },
    },
    {
      name: "an invalid selector is <invalid>",
      obj: obj("bad", ago("5s"), {
        spec: {
          replicas: 1,
          selector: { matchExpressions: [{ key: "a", operator: "Bogus" }] },
          template: template([]),
        },
      }),
      want: { SELECTOR: "<invalid>", CONTAINERS: "", IMAGES: "" },
    },
  ]);
});

describe("replicasets, daemonsets and statefulsets tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("apps", "replicasets"), true), [
      "NAME",
      "DESIRED",
      "CURRENT",
      "READY",
      "AGE",
      "CONTAINERS",
      "IMAGES",
      "SELECTOR",
    ]);
    assert.deepEqual(headers(printerFor("apps", "daemonsets")), [
      "NAME",
      "DESIRED",
      "CURRENT",
      "READY",
      "UP-TO-DATE",
      "AVAILABLE",
      "NODE SELECTOR",
      "AGE",
    ]);
    assert.deepEqual(headers(printerFor("apps", "statefulsets"), true), [
      "NAME",
      "READY",
      "AGE",
      "CONTAINERS",
      "IMAGES",
    ]);
    assert.deepEqual(headers(printerFor("apps", "controllerrevisions")), ["NAME", "CONTROLLER", "REVISION", "AGE"]);
  });
  check("apps", "replicasets", [
    {
      name: "desired, current and ready counts",
      obj: obj("web-5d8c7f9b6", ago("3d"), {
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web", "pod-template-hash": "5d8c7f9b6" } },
          template: template([["nginx", "nginx"]]),
        },
        status: { replicas: 2, readyReplicas: 2 },
      }),
      want: { DESIRED: 2, CURRENT: 2, READY: 2, SELECTOR: "app=web,pod-template-hash=5d8c7f9b6" },
    },
    {
      name: "a scaled-down replicaset without status",
      obj: obj("web-old", ago("3d"), {
        spec: { replicas: 0, selector: {}, template: template([]) },
        status: { replicas: 0 },
      }),
      want: { DESIRED: 0, CURRENT: 0, READY: 0, SELECTOR: "<none>" },
    },
  ]);
  check("apps", "daemonsets", [
    {
      name: "status counts and the node selector",
      obj: obj("fluentd", ago("4h"), {
        spec: {
          selector: { matchLabels: { name: "fluentd" } },
          template: {
            spec: { nodeSelector: { "kubernetes.io/os": "linux" }, containers: [{ name: "f", image: "fluentd:v1" }] },
          },
        },
        status: {
          desiredNumberScheduled: 3,
          currentNumberScheduled: 3,
          numberReady: 2,
          updatedNumberScheduled: 3,
          numberAvailable: 2,
        },
      }),
      want: {
        DESIRED: 3,
        CURRENT: 3,
        READY: 2,
        "UP-TO-DATE": 3,
        AVAILABLE: 2,
        "NODE SELECTOR": "kubernetes.io/os=linux",
        SELECTOR: "name=fluentd",
        IMAGES: "fluentd:v1",
      },
    },
    {
      name: "no node selector is <none>",
      obj: obj("x", ago("4h"), { spec: { template: { spec: { containers: [] } } } }),
      want: { "NODE SELECTOR": "<none>", DESIRED: 0 },
    },
  ]);
  check("apps", "statefulsets", [
    {
      name: "READY is ready/desired",
      obj: obj("web", ago("90m"), {
        spec: { replicas: 3, serviceName: "nginx", template: template([["nginx", "registry.k8s.io/nginx-slim:0.8"]]) },
        status: { replicas: 3, readyReplicas: 2 },
      }),
      want: { READY: "2/3", AGE: "90m", CONTAINERS: "nginx", IMAGES: "registry.k8s.io/nginx-slim:0.8" },
    },
  ]);
  check("apps", "controllerrevisions", [
    {
      name: "the controller is kind.group/name",
      obj: obj(
        "web-7b4f5c6d8",
        ago("90m"),
        { revision: 2 },
        { ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "u", controller: true }] },
      ),
      want: { CONTROLLER: "statefulset.apps/web", REVISION: 2 },
    },
    {
      name: "no controller is <none>",
      obj: obj("orphan", ago("90m"), { revision: 1 }),
      want: { CONTROLLER: "<none>" },
    },
  ]);
});

describe("jobs table", () => {
  it("columns", () => {
    const p = printerFor("batch", "jobs");
    assert.deepEqual(headers(p), ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    assert.deepEqual(headers(p, true).slice(5), ["CONTAINERS", "IMAGES", "SELECTOR"]);
  });
  const job = (spec: Record<string, unknown>, status: Record<string, unknown>, meta: object = {}) =>
    obj("pi", ago("10m"), { spec: { template: template([["pi", "perl:5.34"]]), ...spec }, status }, meta);
  check("batch", "jobs", [
    {
      name: "a completed job",
      obj: job(
        { completions: 1, parallelism: 1, selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "abc" } } },
        {
          succeeded: 1,
          startTime: ago("10m"),
          completionTime: "2024-06-01T11:50:44Z",
          conditions: [
            { type: "SuccessCriteriaMet", status: "True" },
            { type: "Complete", status: "True" },
          ],
        },
      ),
      want: {
        STATUS: "Complete",
        COMPLETIONS: "1/1",
        DURATION: "44s",
        AGE: "10m",
        CONTAINERS: "pi",
        IMAGES: "perl:5.34",
        SELECTOR: "batch.kubernetes.io/controller-uid=abc",
      },
    },
    {
      name: "a running job's duration counts up to now",
      obj: job({ completions: 5, parallelism: 2 }, { active: 2, succeeded: 2, startTime: ago("3m30s") }),
      want: { STATUS: "Running", COMPLETIONS: "2/5", DURATION: "3m30s" },
    },
    {
      name: "a work-queue job with parallelism shows 'of N'",
      obj: job({ parallelism: 3 }, { succeeded: 0, startTime: ago("1m") }),
      want: { COMPLETIONS: "0/1 of 3", DURATION: "60s" },
    },
    {
      name: "a job without completions or parallelism shows n/1; not started has no duration",
      obj: job({}, {}),
      want: { COMPLETIONS: "0/1", DURATION: "", STATUS: "Running" },
    },
    {
      name: "a failed job",
      obj: job(
        { completions: 1 },
        {
          failed: 7,
          startTime: ago("9m"),
          conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }],
        },
      ),
      want: { STATUS: "Failed", COMPLETIONS: "0/1" },
    },
    {
      name: "a suspended job",
      obj: job({ completions: 1, suspend: true }, { conditions: [{ type: "Suspended", status: "True" }] }),
      want: { STATUS: "Suspended" },
    },
    {
      name: "a job being deleted is Terminating unless already finished",
      obj: job(
        { completions: 1 },
        { conditions: [{ type: "Suspended", status: "True" }] },
        { deletionTimestamp: ago("1s") },
      ),
      want: { STATUS: "Terminating" },
    },
    {
      name: "a job that hit its failure target",
      obj: job({ completions: 1 }, { conditions: [{ type: "FailureTarget", status: "True" }] }),
      want: { STATUS: "FailureTarget" },
    },
    {
      name: "a condition that is not True does not count",
      obj: job({ completions: 1 }, { conditions: [{ type: "Complete", status: "False" }] }),
      want: { STATUS: "Running" },
    },
  ]);
});

describe("cronjobs table", () => {
  it("columns", () => {
    const p = printerFor("batch", "cronjobs");
    assert.deepEqual(headers(p), ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"]);
    assert.deepEqual(headers(p, true).slice(7), ["CONTAINERS", "IMAGES", "SELECTOR"]);
    assert.equal(p.columns[3]?.type, "boolean");
  });
  const jobTemplate = { spec: { template: template([["hello", "busybox:1.28"]]) } };
  check("batch", "cronjobs", [
    {
      name: "a cronjob that has run",
      obj: obj("hello", ago("2d"), {
        spec: { schedule: "*/1 * * * *", suspend: false, jobTemplate },
        status: { active: [{ name: "hello-28619" }], lastScheduleTime: ago("45s") },
      }),
      want: {
        SCHEDULE: "*/1 * * * *",
        TIMEZONE: "<none>",
        SUSPEND: "False",
        ACTIVE: 1,
        "LAST SCHEDULE": "45s",
        AGE: "2d",
        CONTAINERS: "hello",
        IMAGES: "busybox:1.28",
        SELECTOR: "<none>",
      },
    },
    {
      name: "a suspended cronjob with a time zone that never ran",
      obj: obj("nightly", ago("2d"), {
        spec: { schedule: "0 3 * * *", timeZone: "Asia/Shanghai", suspend: true, jobTemplate },
        status: {},
      }),
      want: { TIMEZONE: "Asia/Shanghai", SUSPEND: "True", ACTIVE: 0, "LAST SCHEDULE": "<none>" },
    },
    {
      name: "suspend unset prints <unset>",
      obj: obj("x", ago("2d"), { spec: { schedule: "@hourly", jobTemplate } }),
      want: { SUSPEND: "<unset>" },
    },
  ]);
});

describe("horizontalpodautoscalers table", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("autoscaling", "horizontalpodautoscalers")), [
      "NAME",
      "REFERENCE",
      "TARGETS",
      "MINPODS",
      "MAXPODS",
      "REPLICAS",
      "AGE",
    ]);
  });
  const cpu = (target: object) => ({ type: "Resource", resource: { name: "cpu", target } });
  const hpa = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
    obj("php-apache", ago("18m"), {
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "php-apache" },
        maxReplicas: 10,
        ...spec,
      },
      status,
    });
  check("autoscaling", "horizontalpodautoscalers", [
    {
      name: "a CPU utilization target with a current value",
      obj: hpa(
        { minReplicas: 1, metrics: [cpu({ type: "Utilization", averageUtilization: 50 })] },
        {
          currentReplicas: 4,
          currentMetrics: [
            { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 20, averageValue: "40m" } } },
          ],
        },
      ),
      want: {
        REFERENCE: "Deployment/php-apache",
        TARGETS: "cpu: 20%/50%",
        MINPODS: "1",
        MAXPODS: 10,
        REPLICAS: 4,
        AGE: "18m",
      },
    },
    {
      name: "before metrics arrive the current value is <unknown>",
      obj: hpa({ minReplicas: 1, metrics: [cpu({ type: "Utilization", averageUtilization: 50 })] }),
      want: { TARGETS: "cpu: <unknown>/50%", REPLICAS: 0 },
    },
    {
      name: "average-value targets, pods and object metrics, more than two metrics collapse",
      obj: hpa(
        {
          metrics: [
            { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "500Mi" } } },
            {
              type: "Pods",
              pods: { metric: { name: "packets" }, target: { type: "AverageValue", averageValue: "1k" } },
            },
            { type: "Object", object: { metric: { name: "requests" }, target: { type: "Value", value: "10k" } } },
          ],
        },
        {
          currentMetrics: [
            { type: "Resource", resource: { name: "memory", current: { averageValue: "262144Ki" } } },
            { type: "Pods", pods: { metric: { name: "packets" }, current: { averageValue: "1500m" } } },
          ],
        },
      ),
      want: { TARGETS: "memory: 256Mi/500Mi, 1500m/1k + 1 more...", MINPODS: "<unset>" },
    },
    {
      name: "external average values, container resources and no metrics",
      obj: hpa({
        metrics: [
          {
            type: "External",
            external: { metric: { name: "queue" }, target: { type: "AverageValue", averageValue: "30" } },
          },
          {
            type: "ContainerResource",
            containerResource: { name: "cpu", container: "app", target: { type: "Utilization" } },
          },
        ],
      }),
      want: { TARGETS: "<unknown>/30 (avg), cpu: <unknown>/<auto>" },
    },
    { name: "no metrics at all", obj: hpa({ metrics: [] }), want: { TARGETS: "<none>" } },
  ]);
});

describe("poddisruptionbudgets table", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("policy", "poddisruptionbudgets")), [
      "NAME",
      "MIN AVAILABLE",
      "MAX UNAVAILABLE",
      "ALLOWED DISRUPTIONS",
      "AGE",
    ]);
  });
  check("policy", "poddisruptionbudgets", [
    {
      name: "minAvailable as a number",
      obj: obj("zk", ago("1h"), { spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } }),
      want: { "MIN AVAILABLE": "2", "MAX UNAVAILABLE": "N/A", "ALLOWED DISRUPTIONS": 1 },
    },
    {
      name: "maxUnavailable as a percentage",
      obj: obj("web", ago("1h"), { spec: { maxUnavailable: "25%" }, status: {} }),
      want: { "MIN AVAILABLE": "N/A", "MAX UNAVAILABLE": "25%", "ALLOWED DISRUPTIONS": 0 },
    },
  ]);
});
