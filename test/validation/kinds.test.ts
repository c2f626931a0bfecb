import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { errorString, validateObject } from "../../src/api/validation/index.js";

type Json = Record<string, unknown>;

const podSpec = (over: Json = {}): Json => ({ containers: [{ name: "app", image: "nginx" }], ...over });
const template = (labels: Json, spec: Json = podSpec()): Json => ({ metadata: { labels }, spec });

/** An object of `kind`; pass namespace null for cluster-scoped kinds. */
function obj(kind: string, body: Json, name = "x", namespace: string | null = "default"): KObject {
  return { kind, metadata: namespace === null ? { name } : { name, namespace }, ...body } as KObject;
}

interface Case {
  name: string;
  group: string;
  kind: string;
  obj: KObject;
  old?: KObject;
  want: string[];
}

function run(cases: Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(validateObject(c.group, c.kind, c.obj, c.old).map(errorString), c.want);
    });
  }
}

describe("Pod", () => {
  run(
    [
      { name: "a minimal pod is valid", group: "", kind: "Pod", obj: obj("Pod", { spec: podSpec() }), want: [] },
      {
        name: "no containers",
        group: "",
        kind: "Pod",
        obj: obj("Pod", { spec: { containers: [] } }),
        want: ["spec.containers: Required value"],
      },
      {
        name: "container without image",
        group: "",
        kind: "Pod",
        obj: obj("Pod", { spec: { containers: [{ name: "app" }] } }),
        want: ["spec.containers[0].image: Required value"],
      },
      {
        name: "duplicate container names",
        group: "",
        kind: "Pod",
        obj: obj("Pod", {
          spec: {
            containers: [
              { name: "a", image: "x" },
              { name: "a", image: "y" },
            ],
          },
        }),
        want: ['spec.containers[1].name: Duplicate value: "a"'],
      },
      {
        name: "container name must be a DNS-1123 label",
        group: "",
        kind: "Pod",
        obj: obj("Pod", { spec: { containers: [{ name: "App", image: "x" }] } }),
        want: [
          "spec.containers[0].name: Invalid value: \"App\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ],
      },
      {
        name: "unknown restartPolicy",
        group: "",
        kind: "Pod",
        obj: obj("Pod", { spec: podSpec({ restartPolicy: "Sometimes" }) }),
        want: ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
      },
      {
        name: "container port out of range and bad protocol",
        group: "",
        kind: "Pod",
        obj: obj("Pod", {
          spec: { containers: [{ name: "a", image: "x", ports: [{ containerPort: 70000, protocol: "ICMP" }] }] },
        }),
        want: [
          "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
          'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        ],
      },
      {
        name: "requests above limits",
        group: "",
        kind: "Pod",
        obj: obj("Pod", {
          spec: {
            containers: [
              {
                name: "a",
                image: "x",
                resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "1", memory: "1Gi" } },
              },
            ],
          },
        }),
        want: [
          'spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi',
        ],
      },
      {
        name: "unparseable and negative quantities",
        group: "",
        kind: "Pod",
        obj: obj("Pod", {
          spec: { containers: [{ name: "a", image: "x", resources: { limits: { cpu: "lots", memory: "-1Gi" } } }] },
        }),
        want: [
          "spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
          'spec.containers[0].resources.limits[memory]: Invalid value: "-1Gi": must be greater than or equal to 0',
        ],
      },
      {
        name: "unknown container resource name",
        group: "",
        kind: "Pod",
        obj: obj("Pod", { spec: { containers: [{ name: "a", image: "x", resources: { limits: { gpu: "1" } } }] } }),
        want: [
          'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
          'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
        ],
      },
      {
        name: "extended resources need equal requests and limits",
        group: "",
        kind: "Pod",
        obj: obj("Pod", {
          spec: {
            containers: [
              {
                name: "a",
                image: "x",
                resources: { requests: { "example.com/gpu": "1" }, limits: { "example.com/gpu": "2" } },
              },
            ],
          },
        }),
        want: [
          'spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2',
        ],
      },
      {
        name: "volume with no source, with two sources, and a mount of an unknown volume",
        group: "",
        kind: "Pod",
        obj: obj("Pod", {
          spec: {
            volumes: [{ name: "empty" }, { name: "two", emptyDir: {}, hostPath: { path: "/x" } }],
            containers: [{ name: "a", image: "x", volumeMounts: [{ name: "missing", mountPath: "/m" }] }],
          },
        }),
        want: [
          "spec.volumes[0]: Required value: must specify a volume type",
          "spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type",
          'spec.containers[0].volumeMounts[0].name: Not found: "missing"',
        ],
      },
      {
        name: "duplicate volume names",
        group: "",
        kind: "Pod",
        obj: obj("Pod", {
          spec: {
            volumes: [
              { name: "v", emptyDir: {} },
              { name: "v", emptyDir: {} },
            ],
            containers: [{ name: "a", image: "x" }],
          },
        }),
        want: ['spec.volumes[1].name: Duplicate value: "v"'],
      },
      {
        name: "updating anything but images is forbidden",
        group: "",
        kind: "Pod",
        obj: obj("Pod", { metadata: undefined, spec: podSpec({ nodeName: "n2" }) }),
        old: obj("Pod", { spec: podSpec({ nodeName: "n1" }) }),
        want: [],
      },
    ].slice(0, -1) as Case[],
  );
  it("updating an image is allowed; updating another field is forbidden with upstream's message", () => {
    const old = obj("Pod", { spec: podSpec({ nodeName: "n1" }) });
    old.metadata.resourceVersion = "1";
    const img = obj("Pod", { spec: { containers: [{ name: "app", image: "nginx:2" }], nodeName: "n1" } });
    img.metadata.resourceVersion = "1";
    assert.deepEqual(validateObject("", "Pod", img, old), []);
    const moved = obj("Pod", { spec: podSpec({ nodeName: "n2" }) });
    moved.metadata.resourceVersion = "1";
    const errs = validateObject("", "Pod", moved, old);
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.field, "spec");
    assert.equal(errs[0]?.type, "FieldValueForbidden");
    assert.ok(
      errs[0]?.message.startsWith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n",
      ),
    );
  });
});

const MISMATCH = "`selector` does not match template `labels`";

describe("workloads", () => {
  run([
    {
      name: "a Deployment whose selector matches its template is valid",
      group: "apps",
      kind: "Deployment",
      obj: obj("Deployment", { spec: { selector: { matchLabels: { app: "a" } }, template: template({ app: "a" }) } }),
      want: [],
    },
    {
      name: "Deployment selector does not match template labels",
      group: "apps",
      kind: "Deployment",
      obj: obj("Deployment", {
        spec: { selector: { matchLabels: { app: "a" } }, template: template({ app: "b", z: "1" }) },
      }),
      want: [`spec.template.metadata.labels: Invalid value: {"app":"b","z":"1"}: ${MISMATCH}`],
    },
    {
      name: "Deployment without selector, negative replicas, image missing",
      group: "apps",
      kind: "Deployment",
      obj: obj("Deployment", {
        spec: { replicas: -1, template: template({ app: "a" }, { containers: [{ name: "c" }] }) },
      }),
      want: [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "spec.selector: Required value",
        // upstream: a nil selector selects nothing, so it cannot match the template either
        `spec.template.metadata.labels: Invalid value: {"app":"a"}: ${MISMATCH}`,
        "spec.template.spec.containers[0].image: Required value",
      ],
    },
    {
      name: "Deployment with an empty selector",
      group: "apps",
      kind: "Deployment",
      obj: obj("Deployment", { spec: { selector: {}, template: template({ app: "a" }) } }),
      want: ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"],
    },
    {
      name: "Deployment template restartPolicy must be Always",
      group: "apps",
      kind: "Deployment",
      obj: obj("Deployment", {
        spec: {
          selector: { matchLabels: { app: "a" } },
          template: template({ app: "a" }, podSpec({ restartPolicy: "Never" })),
        },
      }),
      want: ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    },
    {
      name: "Deployment selector is immutable",
      group: "apps",
      kind: "Deployment",
      obj: {
        ...obj("Deployment", { spec: { selector: { matchLabels: { app: "b" } }, template: template({ app: "b" }) } }),
        metadata: { name: "x", namespace: "default", resourceVersion: "2" },
      },
      old: obj("Deployment", { spec: { selector: { matchLabels: { app: "a" } }, template: template({ app: "a" }) } }),
      want: ['spec.selector: Invalid value: {"matchLabels":{"app":"b"}}: field is immutable'],
    },
    {
      name: "ReplicaSet selector mismatch",
      group: "apps",
      kind: "ReplicaSet",
      obj: obj("ReplicaSet", {
        spec: { selector: { matchLabels: { tier: "frontend" } }, template: template({ tier: "nginx" }) },
      }),
      want: [`spec.template.metadata.labels: Invalid value: {"tier":"nginx"}: ${MISMATCH}`],
    },
    {
      name: "DaemonSet with an empty selector",
      group: "apps",
      kind: "DaemonSet",
      obj: obj("DaemonSet", { spec: { selector: {}, template: template({ a: "b" }) } }),
      want: ["spec.selector: Invalid value: {}: empty selector is invalid for daemonset"],
    },
    {
      name: "StatefulSet mounts a volumeClaimTemplate",
      group: "apps",
      kind: "StatefulSet",
      obj: obj("StatefulSet", {
        spec: {
          serviceName: "db",
          selector: { matchLabels: { a: "b" } },
          template: template(
            { a: "b" },
            { containers: [{ name: "c", image: "x", volumeMounts: [{ name: "data", mountPath: "/d" }] }] },
          ),
          volumeClaimTemplates: [{ metadata: { name: "data" }, spec: {} }],
        },
      }),
      want: [],
    },
    {
      name: "StatefulSet spec fields other than the mutable ones are forbidden on update",
      group: "apps",
      kind: "StatefulSet",
      obj: {
        ...obj("StatefulSet", {
          spec: { serviceName: "b", selector: { matchLabels: { a: "b" } }, template: template({ a: "b" }) },
        }),
        metadata: { name: "x", namespace: "default", resourceVersion: "2" },
      },
      old: obj("StatefulSet", {
        spec: { serviceName: "a", selector: { matchLabels: { a: "b" } }, template: template({ a: "b" }) },
      }),
      want: [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ],
    },
    {
      name: "StatefulSet replicas may change",
      group: "apps",
      kind: "StatefulSet",
      obj: {
        ...obj("StatefulSet", {
          spec: {
            replicas: 3,
            serviceName: "a",
            selector: { matchLabels: { a: "b" } },
            template: template({ a: "b" }),
          },
        }),
        metadata: { name: "x", namespace: "default", resourceVersion: "2" },
      },
      old: obj("StatefulSet", {
        spec: { replicas: 1, serviceName: "a", selector: { matchLabels: { a: "b" } }, template: template({ a: "b" }) },
      }),
      want: [],
    },
    {
      name: "Job template without restartPolicy (or defaulted to Always) must choose one",
      group: "batch",
      kind: "Job",
      obj: obj("Job", { spec: { selector: { matchLabels: { j: "1" } }, template: template({ j: "1" }) } }),
      want: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
    },
    {
      name: "Job template with an unknown restartPolicy",
      group: "batch",
      kind: "Job",
      obj: obj("Job", {
        spec: {
          selector: { matchLabels: { j: "1" } },
          template: template({ j: "1" }, podSpec({ restartPolicy: "Sometimes" })),
        },
      }),
      want: [
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
      ],
    },
    {
      name: "Job without selector",
      group: "batch",
      kind: "Job",
      obj: obj("Job", { spec: { template: template({ j: "1" }, podSpec({ restartPolicy: "Never" })) } }),
      want: ["spec.selector: Required value", `spec.template.metadata.labels: Invalid value: {"j":"1"}: ${MISMATCH}`],
    },
    {
      name: "CronJob names are limited to 52 characters",
      group: "batch",
      kind: "CronJob",
      obj: obj(
        "CronJob",
        {
          spec: {
            schedule: "@daily",
            jobTemplate: { spec: { template: template({}, podSpec({ restartPolicy: "Never" })) } },
          },
        },
        "c".repeat(53),
      ),
      want: [`metadata.name: Invalid value: "${"c".repeat(53)}": must be no more than 52 characters`],
    },
    {
      name: "Job negative completions and parallelism",
      group: "batch",
      kind: "Job",
      obj: obj("Job", {
        spec: {
          completions: -1,
          parallelism: -2,
          selector: { matchLabels: { j: "1" } },
          template: template({ j: "1" }, podSpec({ restartPolicy: "Never" })),
        },
      }),
      want: [
        "spec.parallelism: Invalid value: -2: must be greater than or equal to 0",
        "spec.completions: Invalid value: -1: must be greater than or equal to 0",
      ],
    },
    {
      name: "Job template is immutable",
      group: "batch",
      kind: "Job",
      obj: {
        ...obj("Job", {
          spec: {
            selector: { matchLabels: { j: "1" } },
            template: template({ j: "1" }, { restartPolicy: "Never", containers: [{ name: "app", image: "v2" }] }),
          },
        }),
        metadata: { name: "x", namespace: "default", resourceVersion: "2" },
      },
      old: obj("Job", {
        spec: {
          selector: { matchLabels: { j: "1" } },
          template: template({ j: "1" }, podSpec({ restartPolicy: "Never" })),
        },
      }),
      want: [
        'spec.template: Invalid value: {"metadata":{"labels":{"j":"1"}},"spec":{"restartPolicy":"Never","containers":[{"name":"app","image":"v2"}]}}: field is immutable',
      ],
    },
    {
      name: "CronJob without schedule",
      group: "batch",
      kind: "CronJob",
      obj: obj("CronJob", {
        spec: { jobTemplate: { spec: { template: template({}, podSpec({ restartPolicy: "OnFailure" })) } } },
      }),
      want: ["spec.schedule: Required value"],
    },
    {
      name: "CronJob with a schedule of the wrong shape",
      group: "batch",
      kind: "CronJob",
      obj: obj("CronJob", {
        spec: {
          schedule: "every minute",
          jobTemplate: { spec: { template: template({}, podSpec({ restartPolicy: "OnFailure" })) } },
        },
      }),
      want: ['spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]'],
    },
  ]);
});

describe("cron schedules (robfig/cron ParseStandard wording)", () => {
  const cases: Array<[string, string | undefined]> = [
    ["*/5 * * * *", undefined],
    ["0 0 * * MON-FRI", undefined],
    ["@hourly", undefined],
    ["@every 1h30m", undefined],
    ["CRON_TZ=UTC 0 * * * *", undefined],
    ["0 0 1 jan,jul *", undefined],
    ["60 * * * *", "end of range (60) above maximum (59): 60"],
    ["* 24 * * *", "end of range (24) above maximum (23): 24"],
    ["* * 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["* * * * 7", "end of range (7) above maximum (6): 7"],
    ["5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"],
    ["x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ["*/0 * * * *", "step of range should be a positive number: */0"],
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"],
    ["@often", "unrecognized descriptor: @often"],
  ];
  for (const [schedule, want] of cases) {
    it(`${JSON.stringify(schedule)} → ${want ?? "valid"}`, async () => {
      const { cronScheduleError } = await import("../../src/api/validation/index.js");
      assert.equal(cronScheduleError(schedule), want);
    });
  }
});

describe("services, config and quotas", () => {
  run([
    {
      name: "a ClusterIP service is valid",
      group: "",
      kind: "Service",
      obj: obj("Service", { spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: "a" } } }),
      want: [],
    },
    {
      name: "service without ports",
      group: "",
      kind: "Service",
      obj: obj("Service", { spec: { selector: { app: "a" } } }),
      want: ["spec.ports: Required value"],
    },
    {
      name: "unknown service type, bad port and targetPort",
      group: "",
      kind: "Service",
      obj: obj("Service", { spec: { type: "Internal", ports: [{ port: 0, targetPort: "Http" }] } }),
      want: [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[0].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      ],
    },
    {
      name: "multi-port services need port names",
      group: "",
      kind: "Service",
      obj: obj("Service", { spec: { ports: [{ port: 80 }, { port: 443 }] } }),
      want: ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"],
    },
    {
      name: "nodePort on a ClusterIP service",
      group: "",
      kind: "Service",
      obj: obj("Service", { spec: { type: "ClusterIP", ports: [{ port: 80, nodePort: 30080 }] } }),
      want: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    },
    {
      name: "ExternalName needs externalName",
      group: "",
      kind: "Service",
      obj: obj("Service", { spec: { type: "ExternalName" } }),
      want: ["spec.externalName: Required value"],
    },
    {
      name: "cluster IP may not change",
      group: "",
      kind: "Service",
      obj: {
        ...obj("Service", { spec: { clusterIP: "10.96.0.9", clusterIPs: ["10.96.0.9"], ports: [{ port: 80 }] } }),
        metadata: { name: "x", namespace: "default", resourceVersion: "3" },
      },
      old: obj("Service", { spec: { clusterIP: "10.96.0.5", clusterIPs: ["10.96.0.5"], ports: [{ port: 80 }] } }),
      want: ['spec.clusterIPs[0]: Invalid value: ["10.96.0.9"]: may not change once set'],
    },
    {
      name: "bad ConfigMap key",
      group: "",
      kind: "ConfigMap",
      obj: obj("ConfigMap", { data: { "a b": "x", "..x": "y" } }),
      want: [
        "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        "data[..x]: Invalid value: \"..x\": must not start with '..'",
      ],
    },
    {
      name: "ConfigMap over 1 MiB",
      group: "",
      kind: "ConfigMap",
      obj: obj("ConfigMap", { data: { big: "x".repeat(1024 * 1024 + 1) } }),
      want: ["[]: Too long: may not be more than 1048576 bytes"],
    },
    {
      name: "immutable ConfigMap data may not change",
      group: "",
      kind: "ConfigMap",
      obj: {
        ...obj("ConfigMap", { immutable: true, data: { a: "2" } }),
        metadata: { name: "x", namespace: "default", resourceVersion: "2" },
      },
      old: obj("ConfigMap", { immutable: true, data: { a: "1" } }),
      want: ["data: Forbidden: field is immutable when `immutable` is set"],
    },
    {
      name: "TLS secret needs tls.key and tls.crt",
      group: "",
      kind: "Secret",
      obj: obj("Secret", { type: "kubernetes.io/tls", data: {} }),
      want: ["data[tls.key]: Required value", "data[tls.crt]: Required value"],
    },
    {
      name: "secret type is immutable",
      group: "",
      kind: "Secret",
      obj: {
        ...obj("Secret", { type: "kubernetes.io/basic-auth", data: { username: "YQ==" } }),
        metadata: { name: "x", namespace: "default", resourceVersion: "2" },
      },
      old: obj("Secret", { type: "Opaque", data: { username: "YQ==" } }),
      want: ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable'],
    },
    {
      name: "ResourceQuota hard values must be non-negative, counts whole",
      group: "",
      kind: "ResourceQuota",
      obj: obj("ResourceQuota", { spec: { hard: { cpu: "-1", pods: "1500m", "requests.memory": "1Gi" } } }),
      want: [
        'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
        'spec.hard[pods]: Invalid value: "1500m": must be an integer',
      ],
    },
    {
      name: "HPA replicas bounds",
      group: "autoscaling",
      kind: "HorizontalPodAutoscaler",
      obj: obj("HorizontalPodAutoscaler", {
        spec: { minReplicas: 0, maxReplicas: 0, scaleTargetRef: { kind: "Deployment" } },
      }),
      want: [
        "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
        "spec.maxReplicas: Invalid value: 0: must be greater than 0",
        "spec.scaleTargetRef.name: Required value",
      ],
    },
  ]);
});

describe("storage", () => {
  run([
    {
      name: "a hostPath PV is valid",
      group: "",
      kind: "PersistentVolume",
      obj: obj(
        "PersistentVolume",
        { spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/d" } } },
        "pv",
        null,
      ),
      want: [],
    },
    {
      name: "PV without capacity, access modes or source; bad reclaim policy",
      group: "",
      kind: "PersistentVolume",
      obj: obj("PersistentVolume", { spec: { persistentVolumeReclaimPolicy: "Keep" } }, "pv", null),
      want: [
        "spec.accessModes: Required value",
        "spec.capacity: Required value",
        'spec.capacity: Unsupported value: {}: supported values: "storage"',
        'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
        "spec: Required value: must specify a volume type",
      ],
    },
    {
      name: "PV with two sources",
      group: "",
      kind: "PersistentVolume",
      obj: obj(
        "PersistentVolume",
        {
          spec: {
            capacity: { storage: "1Gi" },
            accessModes: ["ReadWriteOnce"],
            hostPath: { path: "/d" },
            nfs: { server: "s", path: "/e" },
          },
        },
        "pv",
        null,
      ),
      want: ["spec.nfs: Forbidden: may not specify more than 1 volume type"],
    },
    {
      name: "PVC without access modes and storage request",
      group: "",
      kind: "PersistentVolumeClaim",
      obj: obj("PersistentVolumeClaim", { spec: {} }),
      want: [
        "spec.accessModes: Required value: at least 1 access mode is required",
        "spec.resources[storage]: Required value",
      ],
    },
    {
      name: "PVC with a zero storage request and unknown access mode",
      group: "",
      kind: "PersistentVolumeClaim",
      obj: obj("PersistentVolumeClaim", {
        spec: { accessModes: ["ReadWriteAlways"], resources: { requests: { storage: "0" } } },
      }),
      want: [
        'spec.accessModes: Unsupported value: "ReadWriteAlways": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
        'spec.resources[storage]: Invalid value: "0": must be greater than zero',
      ],
    },
    {
      name: "a bound PVC may grow its request",
      group: "",
      kind: "PersistentVolumeClaim",
      obj: {
        ...obj("PersistentVolumeClaim", {
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } }, volumeName: "pv1" },
          status: { phase: "Bound" },
        }),
        metadata: { name: "x", namespace: "default", resourceVersion: "2" },
      },
      old: obj("PersistentVolumeClaim", {
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeName: "pv1" },
        status: { phase: "Bound" },
      }),
      want: [],
    },
    {
      name: "StorageClass without provisioner",
      group: "storage.k8s.io",
      kind: "StorageClass",
      obj: obj("StorageClass", { reclaimPolicy: "Recycle" }, "sc", null),
      want: [
        "provisioner: Required value",
        'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      ],
    },
    {
      name: "StorageClass parameters, provisioner and reclaimPolicy may not change",
      group: "storage.k8s.io",
      kind: "StorageClass",
      obj: {
        ...obj("StorageClass", { provisioner: "b.io/x", parameters: { t: "2" }, reclaimPolicy: "Retain" }, "sc", null),
        metadata: { name: "sc", resourceVersion: "2" },
      },
      old: obj("StorageClass", { provisioner: "a.io/x", parameters: { t: "1" }, reclaimPolicy: "Delete" }, "sc", null),
      want: [
        "parameters: Forbidden: updates to parameters are forbidden.",
        "provisioner: Forbidden: updates to provisioner are forbidden.",
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
      ],
    },
  ]);
  it("changing a PVC's access modes is forbidden with upstream's message", () => {
    const old = obj("PersistentVolumeClaim", {
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    const next = obj("PersistentVolumeClaim", {
      spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "1Gi" } } },
    });
    next.metadata.resourceVersion = "2";
    const errs = validateObject("", "PersistentVolumeClaim", next, old);
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.field, "spec");
    assert.ok(
      errs[0]?.message.startsWith(
        "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n",
      ),
    );
  });
});
