import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, defaulted, y } from "./helpers.js";

describe("Pod defaults", () => {
  it("a bare pod gets the PodSpec, Pod and container defaults a real API server shows", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: nginx
`);
    assert.deepEqual(
      pod["spec"],
      y(`
containers:
- name: web
  image: nginx
  imagePullPolicy: Always
  resources: {}
  terminationMessagePath: /dev/termination-log
  terminationMessagePolicy: File
dnsPolicy: ClusterFirst
enableServiceLinks: true
restartPolicy: Always
schedulerName: default-scheduler
securityContext: {}
terminationGracePeriodSeconds: 30
`),
    );
  });

  const pullPolicies: [string, string][] = [
    ["nginx:1.25", "IfNotPresent"],
    ["nginx", "Always"],
    ["nginx:latest", "Always"],
    ["registry.example.com:5000/team/app", "Always"],
    ["registry.example.com:5000/team/app:v2", "IfNotPresent"],
    ["nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent"],
    ["nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Always"],
    ["Nginx", "IfNotPresent"],
    ["", "IfNotPresent"],
  ];
  for (const [image, policy] of pullPolicies) {
    it(`a container image ${JSON.stringify(image)} gets imagePullPolicy ${policy}`, () => {
      const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: ${JSON.stringify(image)}}]
`);
      assert.equal(at(pod, "spec.containers.0.imagePullPolicy"), policy);
    });
  }

  it("user values are kept", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  restartPolicy: Never
  dnsPolicy: Default
  terminationGracePeriodSeconds: 0
  enableServiceLinks: false
  schedulerName: mine
  securityContext: {runAsUser: 1000}
  containers:
  - name: c
    image: nginx
    imagePullPolicy: Never
    terminationMessagePath: /tmp/log
    terminationMessagePolicy: FallbackToLogsOnError
    ports: [{containerPort: 53, protocol: UDP}]
`);
    assert.equal(at(pod, "spec.restartPolicy"), "Never");
    assert.equal(at(pod, "spec.dnsPolicy"), "Default");
    assert.equal(at(pod, "spec.terminationGracePeriodSeconds"), 0);
    assert.equal(at(pod, "spec.enableServiceLinks"), false);
    assert.equal(at(pod, "spec.schedulerName"), "mine");
    assert.deepEqual(at(pod, "spec.securityContext"), { runAsUser: 1000 });
    assert.equal(at(pod, "spec.containers.0.imagePullPolicy"), "Never");
    assert.equal(at(pod, "spec.containers.0.terminationMessagePath"), "/tmp/log");
    assert.equal(at(pod, "spec.containers.0.terminationMessagePolicy"), "FallbackToLogsOnError");
    assert.equal(at(pod, "spec.containers.0.ports.0.protocol"), "UDP");
  });

  it("requests default to limits, per resource missing from requests", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: a
    image: x:1
    resources:
      limits: {cpu: 500m, memory: 1Gi}
  - name: b
    image: x:1
    resources:
      limits: {cpu: "1", memory: 1Gi}
      requests: {cpu: 250m}
  initContainers:
  - name: i
    image: x:1
    resources:
      limits: {cpu: "0.5"}
`);
    assert.deepEqual(
      at(pod, "spec.containers.0.resources"),
      y("{limits: {cpu: 500m, memory: 1Gi}, requests: {cpu: 500m, memory: 1Gi}}"),
    );
    assert.deepEqual(at(pod, "spec.containers.1.resources.requests"), { cpu: "250m", memory: "1Gi" });
    assert.deepEqual(at(pod, "spec.initContainers.0.resources"), {
      limits: { cpu: "500m" },
      requests: { cpu: "500m" },
    });
  });

  const quantities: [unknown, string][] = [
    ["0.5", "500m"],
    [1, "1"],
    ["0.0001", "1m"],
    ["1.5Gi", "1536Mi"],
    ["100M", "100M"],
  ];
  for (const [input, output] of quantities) {
    it(`a resource quantity ${JSON.stringify(input)} is stored as ${output} (milli rounding, canonical form)`, () => {
      const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: x:1, resources: {requests: {cpu: ${JSON.stringify(input)}}}}]
`);
      assert.equal(at(pod, "spec.containers.0.resources.requests.cpu"), output);
    });
  }

  it("probes get thresholds, httpGet path and scheme, grpc service", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: x:1
    livenessProbe: {httpGet: {port: 8080}}
    readinessProbe: {grpc: {port: 9090}, periodSeconds: 5}
    startupProbe: {exec: {command: [true]}, failureThreshold: 30}
    lifecycle: {preStop: {httpGet: {port: 80, path: /quit}}}
`);
    assert.deepEqual(
      at(pod, "spec.containers.0.livenessProbe"),
      y(
        "{httpGet: {port: 8080, path: /, scheme: HTTP}, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3}",
      ),
    );
    assert.deepEqual(
      at(pod, "spec.containers.0.readinessProbe"),
      y(
        `{grpc: {port: 9090, service: ""}, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3}`,
      ),
    );
    assert.equal(at(pod, "spec.containers.0.startupProbe.failureThreshold"), 30);
    assert.deepEqual(at(pod, "spec.containers.0.lifecycle.preStop.httpGet"), {
      port: 80,
      path: "/quit",
      scheme: "HTTP",
    });
  });

  it("container ports get protocol TCP and env fieldRef gets apiVersion v1", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: x:1
    ports: [{containerPort: 80}]
    env:
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: PLAIN, value: x}
`);
    assert.equal(at(pod, "spec.containers.0.ports.0.protocol"), "TCP");
    assert.deepEqual(at(pod, "spec.containers.0.env.0.valueFrom.fieldRef"), {
      fieldPath: "spec.nodeName",
      apiVersion: "v1",
    });
    assert.deepEqual(at(pod, "spec.containers.0.env.1"), { name: "PLAIN", value: "x" });
  });

  it("hostNetwork pods get hostPort = containerPort", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true
  containers: [{name: c, image: x:1, ports: [{containerPort: 8080}, {containerPort: 9090, hostPort: 9090}]}]
`);
    assert.deepEqual(
      at(pod, "spec.containers.0.ports"),
      y("[{containerPort: 8080, hostPort: 8080, protocol: TCP}, {containerPort: 9090, hostPort: 9090, protocol: TCP}]"),
    );
  });

  it("volumes: configMap/secret/downwardAPI/projected get defaultMode 420, hostPath type '', empty volume gets emptyDir", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: x:1}]
  volumes:
  - {name: cm, configMap: {name: cfg}}
  - {name: s, secret: {secretName: sec, defaultMode: 256}}
  - {name: d, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - name: proj
    projected:
      sources:
      - serviceAccountToken: {path: token}
      - downwardAPI: {items: [{path: ns, fieldRef: {fieldPath: metadata.namespace}}]}
  - {name: hp, hostPath: {path: /data}}
  - {name: scratch}
  - {name: e, emptyDir: {medium: Memory}}
  - name: eph
    ephemeral:
      volumeClaimTemplate:
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`);
    const vols = at(pod, "spec.volumes");
    assert.deepEqual(
      vols,
      y(`
- {name: cm, configMap: {name: cfg, defaultMode: 420}}
- {name: s, secret: {secretName: sec, defaultMode: 256}}
- {name: d, downwardAPI: {defaultMode: 420, items: [{path: labels, fieldRef: {fieldPath: metadata.labels, apiVersion: v1}}]}}
- name: proj
  projected:
    defaultMode: 420
    sources:
    - serviceAccountToken: {path: token, expirationSeconds: 3600}
    - downwardAPI: {items: [{path: ns, fieldRef: {fieldPath: metadata.namespace, apiVersion: v1}}]}
- {name: hp, hostPath: {path: /data, type: ""}}
- {name: scratch, emptyDir: {}}
- {name: e, emptyDir: {medium: Memory}}
- name: eph
  ephemeral:
    volumeClaimTemplate:
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, volumeMode: Filesystem}
`),
    );
  });

  it("serviceAccountName, priority and preemptionPolicy are left to admission", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: x:1}]}
`);
    for (const key of ["serviceAccountName", "serviceAccount", "priority", "preemptionPolicy"]) {
      assert.equal(at(pod, `spec.${key}`), undefined, key);
    }
  });

  it("pod-level limits give pod-level requests from the containers' requests, then from the limits", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  resources: {limits: {cpu: "2", memory: 2Gi}}
  containers:
  - {name: a, image: x:1, resources: {requests: {cpu: 300m}}}
  - {name: b, image: x:1, resources: {requests: {cpu: 200m}}}
`);
    assert.deepEqual(at(pod, "spec.resources"), {
      limits: { cpu: "2", memory: "2Gi" },
      requests: { cpu: "500m", memory: "2Gi" },
    });
  });

  it("pod-level requests give pod-level limits only for resources every container limits", () => {
    const pod = defaulted(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  resources: {requests: {cpu: "1"}}
  containers:
  - {name: a, image: x:1, resources: {limits: {cpu: "1", memory: 1Gi}}}
  - {name: b, image: x:1, resources: {limits: {cpu: 500m}}}
`);
    assert.deepEqual(at(pod, "spec.resources.limits"), { cpu: "1500m" });
  });

  it("applying defaults twice changes nothing the second time", () => {
    const manifest = `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: x, resources: {limits: {cpu: "0.5"}}, livenessProbe: {httpGet: {port: 80}}}]
  volumes: [{name: v}]
`;
    const once = defaulted(manifest);
    const twice = structuredClone(once);
    // re-run through the same entry point
    const again = defaulted(JSON.stringify(twice));
    assert.deepEqual(again, once);
  });
});
