import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, defaulted, y } from "./helpers.js";

const TEMPLATE_SPEC_DEFAULTS = `
containers:
- name: c
  image: nginx:1.25
  imagePullPolicy: IfNotPresent
  resources: {}
  terminationMessagePath: /dev/termination-log
  terminationMessagePolicy: File
dnsPolicy: ClusterFirst
restartPolicy: Always
schedulerName: default-scheduler
securityContext: {}
terminationGracePeriodSeconds: 30
`;

const TEMPLATE = `
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: "nginx:1.25"}]`;

describe("workload defaults", () => {
  it("a Deployment with no strategy gets RollingUpdate 25%/25%, replicas 1, history 10, deadline 600", () => {
    const d = defaulted(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:${TEMPLATE}
`);
    assert.equal(at(d, "spec.replicas"), 1);
    assert.deepEqual(at(d, "spec.strategy"), {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" },
    });
    assert.equal(at(d, "spec.revisionHistoryLimit"), 10);
    assert.equal(at(d, "spec.progressDeadlineSeconds"), 600);
    assert.deepEqual(at(d, "spec.template.spec"), y(TEMPLATE_SPEC_DEFAULTS));
  });

  it("pod templates get PodSpec defaults but not Pod-only ones (enableServiceLinks, requests from limits)", () => {
    const d = defaulted(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: c, image: x:1, resources: {limits: {cpu: "1"}}}]
`);
    assert.equal(at(d, "spec.template.spec.enableServiceLinks"), undefined);
    assert.deepEqual(at(d, "spec.template.spec.containers.0.resources"), { limits: { cpu: "1" } });
  });

  it("a Deployment keeps integer maxSurge and a Recreate strategy gets no rollingUpdate", () => {
    const a = defaulted(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec: {replicas: 0, strategy: {rollingUpdate: {maxSurge: 2}}, template: {spec: {containers: []}}}
`);
    assert.equal(at(a, "spec.replicas"), 0);
    assert.deepEqual(at(a, "spec.strategy"), {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 2, maxUnavailable: "25%" },
    });
    const b = defaulted(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
spec: {strategy: {type: Recreate}, template: {spec: {containers: []}}}
`);
    assert.deepEqual(at(b, "spec.strategy"), { type: "Recreate" });
  });

  it("a ReplicaSet gets replicas 1 and template defaults", () => {
    const rs = defaulted(`
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  template:${TEMPLATE}
`);
    assert.equal(at(rs, "spec.replicas"), 1);
    assert.deepEqual(at(rs, "spec.template.spec"), y(TEMPLATE_SPEC_DEFAULTS));
  });

  it("a ReplicationController gets selector and labels from its template, and replicas 1", () => {
    const rc = defaulted(`
apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  template:${TEMPLATE}
`);
    assert.deepEqual(at(rc, "spec.selector"), { app: "web" });
    assert.deepEqual(at(rc, "metadata.labels"), { app: "web" });
    assert.equal(at(rc, "spec.replicas"), 1);
    assert.deepEqual(at(rc, "spec.template.spec"), y(TEMPLATE_SPEC_DEFAULTS));
  });

  it("a DaemonSet gets RollingUpdate maxUnavailable 1 (an integer) and maxSurge 0", () => {
    const ds = defaulted(`
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:${TEMPLATE}
`);
    assert.deepEqual(at(ds, "spec.updateStrategy"), {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    assert.equal(at(ds, "spec.revisionHistoryLimit"), 10);
    assert.deepEqual(at(ds, "spec.template.spec"), y(TEMPLATE_SPEC_DEFAULTS));
  });

  it("a StatefulSet gets OrderedReady, partition 0, Retain/Retain and PVC template defaults with phase Pending", () => {
    const ss = defaulted(`
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  template:${TEMPLATE}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`);
    assert.equal(at(ss, "spec.replicas"), 1);
    assert.equal(at(ss, "spec.podManagementPolicy"), "OrderedReady");
    assert.deepEqual(at(ss, "spec.updateStrategy"), { type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    assert.deepEqual(at(ss, "spec.persistentVolumeClaimRetentionPolicy"), {
      whenDeleted: "Retain",
      whenScaled: "Retain",
    });
    assert.equal(at(ss, "spec.revisionHistoryLimit"), 10);
    assert.deepEqual(
      at(ss, "spec.volumeClaimTemplates.0"),
      y(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, volumeMode: Filesystem}
status: {phase: Pending}
`),
    );
  });

  it("a StatefulSet with an explicit RollingUpdate type and no rollingUpdate gets no partition", () => {
    const ss = defaulted(`
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec: {updateStrategy: {type: RollingUpdate}, template: {spec: {containers: []}}}
`);
    assert.deepEqual(at(ss, "spec.updateStrategy"), { type: "RollingUpdate" });
  });

  it("a Job with neither completions nor parallelism gets both 1, and the other Job defaults", () => {
    const job = defaulted(`
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "nginx:1.25"}]
`);
    assert.deepEqual(
      { ...(at(job, "spec") as object), template: undefined },
      {
        completions: 1,
        parallelism: 1,
        backoffLimit: 6,
        completionMode: "NonIndexed",
        suspend: false,
        podReplacementPolicy: "TerminatingOrFailed",
        template: undefined,
      },
    );
    assert.equal(at(job, "spec.template.spec.restartPolicy"), "Never");
    assert.equal(at(job, "spec.template.spec.dnsPolicy"), "ClusterFirst");
    assert.equal(at(job, "spec.selector"), undefined, "the selector is the registry's job");
    assert.equal(at(job, "spec.manualSelector"), undefined);
  });

  const jobCases: [string, string, Record<string, unknown>][] = [
    ["parallelism alone leaves completions unset", "{parallelism: 3}", { parallelism: 3, completions: undefined }],
    ["completions alone gets parallelism 1", "{completions: 5}", { parallelism: 1, completions: 5 }],
    [
      "backoffLimitPerIndex makes backoffLimit MaxInt32",
      "{completionMode: Indexed, completions: 2, backoffLimitPerIndex: 1}",
      { backoffLimit: 2147483647 },
    ],
    [
      "a podFailurePolicy makes podReplacementPolicy Failed",
      "{podFailurePolicy: {rules: []}}",
      { podReplacementPolicy: "Failed" },
    ],
  ];
  for (const [name, spec, expected] of jobCases) {
    it(`Job: ${name}`, () => {
      const job = defaulted(`
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: ${spec.slice(0, -1)}, template: {spec: {containers: []}}}
`);
      for (const [key, value] of Object.entries(expected)) assert.equal(at(job, `spec.${key}`), value, key);
    });
  }

  it("a Job's podFailurePolicy onPodConditions patterns get status True", () => {
    const job = defaulted(`
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}
  template: {spec: {containers: []}}
`);
    assert.deepEqual(at(job, "spec.podFailurePolicy.rules.0.onPodConditions.0"), {
      type: "DisruptionTarget",
      status: "True",
    });
  });

  it("a Job without labels takes its template's labels", () => {
    const job = defaulted(`
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {template: {metadata: {labels: {team: a}}, spec: {containers: []}}}
`);
    assert.deepEqual(at(job, "metadata.labels"), { team: "a" });
  });

  it("a CronJob gets Allow, suspend false, history 3/1, and only pod-template defaults in its job template", () => {
    const cj = defaulted(`
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
`);
    assert.equal(at(cj, "spec.concurrencyPolicy"), "Allow");
    assert.equal(at(cj, "spec.suspend"), false);
    assert.equal(at(cj, "spec.successfulJobsHistoryLimit"), 3);
    assert.equal(at(cj, "spec.failedJobsHistoryLimit"), 1);
    assert.equal(at(cj, "spec.jobTemplate.spec.backoffLimit"), undefined);
    assert.equal(at(cj, "spec.jobTemplate.spec.template.spec.containers.0.imagePullPolicy"), "Always");
    assert.equal(at(cj, "spec.jobTemplate.spec.template.spec.schedulerName"), "default-scheduler");
  });

  it("a PodTemplate gets PodSpec defaults", () => {
    const pt = defaulted(`
apiVersion: v1
kind: PodTemplate
metadata: {name: t}
template:${TEMPLATE.replaceAll("\n    ", "\n  ")}
`);
    assert.deepEqual(at(pt, "template.spec"), y(TEMPLATE_SPEC_DEFAULTS));
  });
});
