import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeObject, encodeObject } from "../../src/api/protobuf/index.js";
import type { KObject } from "../../src/api/types.js";

/**
 * Objects in the JSON form the API carries; encoding then decoding must give each back unchanged.
 * The cases are chosen for the JSON conventions they pin (named in each case).
 */
const cases: { name: string; obj: KObject }[] = [
  {
    name: "Namespace with labels, annotations, finalizers and a creation time",
    obj: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "team-a",
        uid: "5d1c7d1e-0000-4000-8000-000000000001",
        resourceVersion: "42",
        creationTimestamp: "2024-05-06T07:08:09Z",
        labels: { "kubernetes.io/metadata.name": "team-a" },
        annotations: { note: "" },
      },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    },
  },
  {
    name: "Deployment keeps replicas: 0, quantities, intstr maxSurge '25%' and maxUnavailable 0",
    obj: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default", generation: 3, labels: { app: "web" } },
      spec: {
        replicas: 0,
        revisionHistoryLimit: 0,
        selector: { matchLabels: { app: "web" } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "nginx",
                image: "nginx:1.27",
                ports: [{ containerPort: 80, protocol: "TCP" }],
                resources: {
                  limits: { cpu: "500m", memory: "128Mi" },
                  requests: { cpu: "100m", memory: "64Mi", "ephemeral-storage": "1Gi" },
                },
              },
            ],
          },
        },
      },
      status: { observedGeneration: 3, replicas: 2, readyReplicas: 1 },
    },
  },
  {
    name: "ConfigMap carries data strings and binaryData bytes as base64",
    obj: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg", namespace: "default" },
      data: { "app.properties": "a=1\nb=2\n", empty: "" },
      binaryData: { blob: Buffer.from([0, 1, 0xff, 0xfe]).toString("base64") },
      immutable: false,
    },
  },
  {
    name: "Secret data bytes come back as the same base64 strings",
    obj: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: "default" },
      type: "Opaque",
      data: { password: Buffer.from("s3cr3t").toString("base64"), token: Buffer.from([0, 255]).toString("base64") },
    },
  },
  {
    name: "Pod with probes on intstr ports, env from fields and secrets, volumes inline, runAsUser 0",
    obj: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "p",
        namespace: "default",
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: "rs",
            uid: "u-1",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        terminationGracePeriodSeconds: 0,
        securityContext: { runAsUser: 0, runAsNonRoot: false, fsGroup: 2000 },
        containers: [
          {
            name: "app",
            image: "busybox",
            command: ["sh", "-c", "sleep 3600"],
            env: [
              { name: "A", value: "1" },
              { name: "NODE", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
              { name: "PW", valueFrom: { secretKeyRef: { name: "creds", key: "password", optional: false } } },
            ],
            livenessProbe: {
              httpGet: { path: "/healthz", port: "http", scheme: "HTTP" },
              initialDelaySeconds: 5,
              periodSeconds: 10,
            },
            readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 3 },
            startupProbe: { exec: { command: ["true"] } },
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              { name: "cfg", mountPath: "/etc/cfg", readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: "data", emptyDir: { sizeLimit: "1Gi" } },
          { name: "cfg", configMap: { name: "cfg", defaultMode: 420, items: [{ key: "a", path: "a.txt", mode: 0 }] } },
          { name: "pvc", persistentVolumeClaim: { claimName: "claim-1" } },
        ],
        tolerations: [
          { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 },
        ],
      },
    },
  },
  {
    name: "Eviction (policy/v1) with deleteOptions gracePeriodSeconds 0 and a uid precondition",
    obj: {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "p", namespace: "default" },
      deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: "u-1" }, dryRun: ["All"] },
    },
  },
  {
    name: "Job keeps backoffLimit 0, parallelism 0 and suspend false",
    obj: {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: "default" },
      spec: {
        backoffLimit: 0,
        parallelism: 0,
        completions: 1,
        suspend: false,
        template: { metadata: {}, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
      },
      status: { startTime: "2024-01-01T00:00:00Z", succeeded: 1 },
    },
  },
  {
    name: "CronJob (batch/v1) with history limits of 0",
    obj: {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "cj", namespace: "default" },
      spec: {
        schedule: "*/5 * * * *",
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 0,
        failedJobsHistoryLimit: 1,
        jobTemplate: {
          metadata: {},
          spec: {
            template: { metadata: {}, spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "x" }] } },
          },
        },
      },
      status: { lastScheduleTime: "2024-01-01T00:05:00Z" },
    },
  },
  {
    name: "CronJob (batch/v1beta1) from older clients",
    obj: {
      apiVersion: "batch/v1beta1",
      kind: "CronJob",
      metadata: { name: "old", namespace: "default" },
      spec: {
        schedule: "@hourly",
        suspend: true,
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } } },
        },
      },
    },
  },
  {
    name: "DaemonSet (extensions/v1beta1) with templateGeneration and an intstr maxUnavailable",
    obj: {
      apiVersion: "extensions/v1beta1",
      kind: "DaemonSet",
      metadata: { name: "ds", namespace: "kube-system" },
      spec: {
        selector: { matchLabels: { app: "ds" } },
        templateGeneration: 2,
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
        template: { metadata: { labels: { app: "ds" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
    },
  },
  {
    name: "Event (events.k8s.io/v1) with a MicroTime eventTime",
    obj: {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "e", namespace: "default" },
      eventTime: "2024-03-04T05:06:07.123456Z",
      reportingController: "k8ts/scheduler",
      reportingInstance: "k8ts",
      action: "Binding",
      reason: "Scheduled",
      type: "Normal",
      regarding: { kind: "Pod", namespace: "default", name: "p" },
    },
  },
  {
    name: "Lease (coordination.k8s.io/v1) with MicroTime renewTime and leaseTransitions 0",
    obj: {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "node-1", namespace: "kube-node-lease" },
      spec: {
        holderIdentity: "node-1",
        leaseDurationSeconds: 40,
        leaseTransitions: 0,
        renewTime: "2024-03-04T05:06:07.000001Z",
      },
    },
  },
  {
    name: "ControllerRevision carries its RawExtension data as a JSON object",
    obj: {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name: "ds-1", namespace: "default" },
      data: { spec: { template: { spec: { containers: [{ name: "c", image: "x" }] } } } },
      revision: 1,
    },
  },
  {
    name: "managedFields carry FieldsV1 as a JSON object and a Time",
    obj: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "sa",
        namespace: "default",
        managedFields: [
          {
            manager: "kubectl-create",
            operation: "Update",
            apiVersion: "v1",
            time: "2024-01-02T03:04:05Z",
            fieldsType: "FieldsV1",
            fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:a": {} } } },
          },
        ],
      },
      automountServiceAccountToken: false,
    },
  },
  {
    name: "PersistentVolume spec flattens the inline PersistentVolumeSource, storageClassName '' stays on the PVC",
    obj: {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "c", namespace: "default" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "",
        resources: { requests: { storage: "8Gi" } },
        volumeMode: "Filesystem",
      },
    },
  },
  {
    name: "PersistentVolume with an inline hostPath source",
    obj: {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv" },
      spec: {
        capacity: { storage: "10Gi" },
        hostPath: { path: "/mnt/pv", type: "DirectoryOrCreate" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Delete",
      },
    },
  },
  {
    name: "ValidatingWebhookConfiguration uses JSON names where the proto says Webhooks and inlines rules",
    obj: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "vw" },
      webhooks: [
        {
          name: "v.example.com",
          clientConfig: { service: { namespace: "default", name: "svc", port: 443 } },
          rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "*" }],
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
          timeoutSeconds: 5,
        },
      ],
    },
  },
  {
    name: "Status (metav1) encodes for protobuf-only clients",
    obj: {
      apiVersion: "v1",
      kind: "Status",
      metadata: {},
      status: "Failure",
      message: 'pods "x" not found',
      reason: "NotFound",
      details: { name: "x", kind: "pods" },
      code: 404,
    },
  },
  {
    name: "PodList: lists encode with their items",
    obj: {
      apiVersion: "v1",
      kind: "PodList",
      metadata: { resourceVersion: "7" },
      items: [
        { metadata: { name: "a", namespace: "default" }, spec: { containers: [{ name: "c", image: "x" }] } },
        { metadata: { name: "b", namespace: "default" }, spec: { containers: [{ name: "c", image: "y" }] } },
      ],
    },
  },
  {
    name: "PartialObjectMetadataList (meta.k8s.io/v1) for metadata-only informers",
    obj: {
      apiVersion: "meta.k8s.io/v1",
      kind: "PartialObjectMetadataList",
      metadata: { resourceVersion: "9", continue: "abc", remainingItemCount: 0 },
      items: [{ metadata: { name: "a", namespace: "default", labels: { x: "y" } } }],
    },
  },
];

describe("protobuf round trip (JSON → protobuf → JSON)", () => {
  for (const c of cases) {
    it(c.name, () => {
      const bytes = encodeObject(c.obj);
      assert.deepEqual([...bytes.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
      assert.deepEqual(decodeObject(bytes), c.obj);
    });
  }
});
