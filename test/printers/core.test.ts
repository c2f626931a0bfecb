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

function check(resource: string, cases: Case[], group = ""): void {
  const p = printerFor(group, resource);
  for (const c of cases) {
    it(c.name, () => {
      const got = row(p, c.obj);
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k], v, k);
    });
  }
}

describe("nodes table", () => {
  it("columns", () => {
    const p = printerFor("", "nodes");
    assert.deepEqual(headers(p), ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert.deepEqual(headers(p, true).slice(5), [
      "INTERNAL-IP",
      "EXTERNAL-IP",
      "OS-IMAGE",
      "KERNEL-VERSION",
      "CONTAINER-RUNTIME",
    ]);
  });
  const node = (labels: Record<string, string>, status: Record<string, unknown>, spec: object = {}) =>
    obj("node-1", ago("12d"), { spec, status }, { labels });
  check("nodes", [
    {
      name: "a ready control-plane node",
      obj: node(
        { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "node-1" },
        {
          conditions: [
            { type: "MemoryPressure", status: "False" },
            { type: "Ready", status: "True" },
          ],
          addresses: [
            { type: "InternalIP", address: "192.168.1.10" },
            { type: "Hostname", address: "node-1" },
          ],
          nodeInfo: {
            kubeletVersion: "v1.36.0",
            osImage: "Ubuntu 22.04.4 LTS",
            kernelVersion: "5.15.0-105-generic",
            containerRuntimeVersion: "containerd://1.7.13",
          },
        },
      ),
      want: {
        NAME: "node-1",
        STATUS: "Ready",
        ROLES: "control-plane",
        AGE: "12d",
        VERSION: "v1.36.0",
        "INTERNAL-IP": "192.168.1.10",
        "EXTERNAL-IP": "<none>",
        "OS-IMAGE": "Ubuntu 22.04.4 LTS",
        "KERNEL-VERSION": "5.15.0-105-generic",
        "CONTAINER-RUNTIME": "containerd://1.7.13",
      },
    },
    {
      name: "a cordoned node that is not ready, with sorted roles from both label styles",
      obj: node(
        { "node-role.kubernetes.io/worker": "", "kubernetes.io/role": "edge", "node-role.kubernetes.io/": "x" },
        { conditions: [{ type: "Ready", status: "Unknown" }] },
        { unschedulable: true },
      ),
      want: { STATUS: "NotReady,SchedulingDisabled", ROLES: "edge,worker", "OS-IMAGE": "<unknown>" },
    },
    {
      name: "a node without a Ready condition is Unknown and has no roles",
      obj: node({}, {}),
      want: { STATUS: "Unknown", ROLES: "<none>", VERSION: "", "INTERNAL-IP": "<none>" },
    },
  ]);
});

describe("services table", () => {
  it("columns", () => {
    const p = printerFor("", "services");
    assert.deepEqual(headers(p), ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    assert.deepEqual(headers(p, true).slice(6), ["SELECTOR"]);
  });
  const svc = (spec: Record<string, unknown>, status: object = {}) => obj("web", ago("3h"), { spec, status });
  check("services", [
    {
      name: "a ClusterIP service",
      obj: svc({
        type: "ClusterIP",
        clusterIP: "10.96.0.10",
        clusterIPs: ["10.96.0.10"],
        ports: [
          { port: 53, protocol: "UDP" },
          { port: 9153, protocol: "TCP" },
        ],
        selector: { "k8s-app": "kube-dns", app: "dns" },
      }),
      want: {
        TYPE: "ClusterIP",
        "CLUSTER-IP": "10.96.0.10",
        "EXTERNAL-IP": "<none>",
        "PORT(S)": "53/UDP,9153/TCP",
        AGE: "3h",
        SELECTOR: "app=dns,k8s-app=kube-dns",
      },
    },
    {
      name: "a NodePort service shows port:nodePort",
      obj: svc({
        type: "NodePort",
        clusterIPs: ["10.96.1.2"],
        ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }],
      }),
      want: { "PORT(S)": "80:30080/TCP", "EXTERNAL-IP": "<none>", SELECTOR: "<none>" },
    },
    {
      name: "a LoadBalancer without an address is <pending>",
      obj: svc({
        type: "LoadBalancer",
        clusterIPs: ["10.96.1.3"],
        ports: [{ port: 443, nodePort: 31443, protocol: "TCP" }],
      }),
      want: { "EXTERNAL-IP": "<pending>" },
    },
    {
      name: "a LoadBalancer lists ingress IPs sorted, then external IPs",
      obj: svc(
        { type: "LoadBalancer", clusterIPs: ["10.96.1.3"], externalIPs: ["1.1.1.1"] },
        { loadBalancer: { ingress: [{ ip: "5.6.7.8" }, { hostname: "lb.example.com" }] } },
      ),
      want: { "EXTERNAL-IP": "5.6.7.8,lb.example.com,1.1.1.1" },
    },
    {
      name: "an ExternalName service shows its name and no cluster IP or ports",
      obj: svc({ type: "ExternalName", externalName: "db.example.com" }),
      want: { "CLUSTER-IP": "<none>", "EXTERNAL-IP": "db.example.com", "PORT(S)": "<none>" },
    },
    {
      name: "a headless service",
      obj: svc({ type: "ClusterIP", clusterIP: "None", clusterIPs: ["None"], ports: [{ port: 80, protocol: "TCP" }] }),
      want: { "CLUSTER-IP": "None", "PORT(S)": "80/TCP" },
    },
  ]);
});

describe("endpoints and endpointslices tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("", "endpoints")), ["NAME", "ENDPOINTS", "AGE"]);
    assert.deepEqual(headers(printerFor("discovery.k8s.io", "endpointslices")), [
      "NAME",
      "ADDRESSTYPE",
      "PORTS",
      "ENDPOINTS",
      "AGE",
    ]);
  });
  check("endpoints", [
    {
      name: "no subsets is <none>",
      obj: obj("web", ago("1h")),
      want: { ENDPOINTS: "<none>" },
    },
    {
      name: "every address with every port, at most three then a count",
      obj: obj("web", ago("1h"), {
        subsets: [
          {
            addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }],
            ports: [
              { name: "http", port: 80 },
              { name: "https", port: 443 },
            ],
          },
        ],
      }),
      want: { ENDPOINTS: "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..." },
    },
    {
      name: "headless endpoints without ports show bare IPs; IPv6 gets brackets with a port",
      obj: obj("web", ago("1h"), {
        subsets: [{ addresses: [{ ip: "10.0.0.1" }] }, { addresses: [{ ip: "fd00::1" }], ports: [{ port: 8080 }] }],
      }),
      want: { ENDPOINTS: "10.0.0.1,[fd00::1]:8080" },
    },
  ]);
  check(
    "endpointslices",
    [
      {
        name: "ports and addresses, three at most",
        obj: obj("web-abc12", ago("1h"), {
          addressType: "IPv4",
          ports: [{ name: "http", port: 80, protocol: "TCP" }],
          endpoints: [
            { addresses: ["10.0.0.1"] },
            { addresses: ["10.0.0.2"] },
            { addresses: ["10.0.0.3"] },
            { addresses: ["10.0.0.4"] },
          ],
        }),
        want: { ADDRESSTYPE: "IPv4", PORTS: "80", ENDPOINTS: "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more..." },
      },
      {
        name: "no endpoints and no ports are <unset>",
        obj: obj("web-abc12", ago("1h"), { addressType: "IPv4", endpoints: [], ports: [] }),
        want: { PORTS: "<unset>", ENDPOINTS: "<unset>" },
      },
    ],
    "discovery.k8s.io",
  );
});

describe("events table", () => {
  const p = printerFor("", "events");
  it("columns", () => {
    assert.deepEqual(headers(p), ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    assert.deepEqual(headers(p, true), [
      "LAST SEEN",
      "TYPE",
      "REASON",
      "OBJECT",
      "SUBOBJECT",
      "SOURCE",
      "MESSAGE",
      "FIRST SEEN",
      "COUNT",
      "NAME",
    ]);
    assert.equal(p.columns.find((c) => c.name === "Name")?.format, "name");
  });
  check("events", [
    {
      name: "a core/v1 event with first and last timestamps",
      obj: obj("web-1.17d2b0c", ago("10m"), {
        involvedObject: { kind: "Pod", name: "web-1", namespace: "default", fieldPath: "spec.containers{app}" },
        reason: "Pulled",
        message: 'Successfully pulled image "nginx"\n',
        source: { component: "kubelet", host: "node-1" },
        firstTimestamp: ago("10m"),
        lastTimestamp: ago("2m"),
        count: 4,
        type: "Normal",
      }),
      want: {
        "LAST SEEN": "2m",
        TYPE: "Normal",
        REASON: "Pulled",
        OBJECT: "pod/web-1",
        SUBOBJECT: "spec.containers{app}",
        SOURCE: "kubelet, node-1",
        MESSAGE: 'Successfully pulled image "nginx"',
        "FIRST SEEN": "10m",
        COUNT: 4,
        NAME: "web-1.17d2b0c",
      },
    },
    {
      name: "a new-style event uses eventTime, the reporting controller, and a count of 1",
      obj: obj("x", ago("1m"), {
        involvedObject: { kind: "Node", name: "node-1" },
        reason: "Starting",
        eventTime: "2024-06-01T11:59:15.123456Z",
        reportingController: "kube-proxy",
        type: "Normal",
      }),
      want: { "LAST SEEN": "44s", "FIRST SEEN": "44s", SOURCE: "kube-proxy", COUNT: 1, OBJECT: "node/node-1" },
    },
    {
      name: "a series event reports the series' last observation and count",
      obj: obj("x", ago("1h"), {
        involvedObject: { kind: "Pod" },
        eventTime: ago("1h"),
        series: { count: 12, lastObservedTime: ago("3m") },
        type: "Warning",
      }),
      want: { "LAST SEEN": "3m", "FIRST SEEN": "60m", COUNT: 12, OBJECT: "pod" },
    },
    {
      name: "an events.k8s.io/v1 shaped event reads regarding and note",
      obj: obj("y", ago("1h"), {
        regarding: { kind: "Deployment", name: "web" },
        note: "Scaled up replica set web-5d8 to 3",
        reason: "ScalingReplicaSet",
        deprecatedSource: { component: "deployment-controller" },
        deprecatedFirstTimestamp: ago("5m"),
        deprecatedLastTimestamp: ago("5m"),
        deprecatedCount: 1,
        type: "Normal",
      }),
      want: {
        OBJECT: "deployment/web",
        MESSAGE: "Scaled up replica set web-5d8 to 3",
        SOURCE: "deployment-controller",
      },
    },
  ]);
  it("events.k8s.io uses the same printer", () => assert.equal(printerFor("events.k8s.io", "events"), p));
});

describe("namespaces, secrets, configmaps and serviceaccounts tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("", "namespaces")), ["NAME", "STATUS", "AGE"]);
    assert.deepEqual(headers(printerFor("", "secrets")), ["NAME", "TYPE", "DATA", "AGE"]);
    assert.deepEqual(headers(printerFor("", "configmaps")), ["NAME", "DATA", "AGE"]);
    assert.deepEqual(headers(printerFor("", "serviceaccounts")), ["NAME", "SECRETS", "AGE"]);
  });
  check("namespaces", [
    {
      name: "an active namespace",
      obj: obj("kube-system", ago("30d"), { status: { phase: "Active" } }),
      want: { STATUS: "Active", AGE: "30d" },
    },
    {
      name: "a namespace being deleted",
      obj: obj("old", ago("90s"), { status: { phase: "Terminating" } }),
      want: { STATUS: "Terminating", AGE: "90s" },
    },
  ]);
  check("secrets", [
    {
      name: "a TLS secret counts its keys",
      obj: obj("tls", ago("4h"), { type: "kubernetes.io/tls", data: { "tls.crt": "x", "tls.key": "y" } }),
      want: { TYPE: "kubernetes.io/tls", DATA: 2, AGE: "4h" },
    },
    { name: "an empty Opaque secret", obj: obj("empty", ago("4h"), { type: "Opaque" }), want: { DATA: 0 } },
  ]);
  check("configmaps", [
    {
      name: "data and binaryData keys both count",
      obj: obj("kube-root-ca.crt", ago("8d"), { data: { "ca.crt": "..." }, binaryData: { blob: "AA==" } }),
      want: { DATA: 2, AGE: "8d" },
    },
  ]);
  check("serviceaccounts", [
    { name: "no secrets", obj: obj("default", ago("8d")), want: { SECRETS: 0 } },
    {
      name: "one secret",
      obj: obj("builder", ago("8d"), { secrets: [{ name: "builder-token" }] }),
      want: { SECRETS: 1 },
    },
  ]);
});

describe("persistent volumes and claims tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("", "persistentvolumes")), [
      "NAME",
      "CAPACITY",
      "ACCESS MODES",
      "RECLAIM POLICY",
      "STATUS",
      "CLAIM",
      "STORAGECLASS",
      "VOLUMEATTRIBUTESCLASS",
      "REASON",
      "AGE",
    ]);
    assert.deepEqual(headers(printerFor("", "persistentvolumes"), true).slice(10), ["VOLUMEMODE"]);
    assert.deepEqual(headers(printerFor("", "persistentvolumeclaims")), [
      "NAME",
      "STATUS",
      "VOLUME",
      "CAPACITY",
      "ACCESS MODES",
      "STORAGECLASS",
      "VOLUMEATTRIBUTESCLASS",
      "AGE",
    ]);
  });
  check("persistentvolumes", [
    {
      name: "a bound volume names its claim as namespace/name",
      obj: obj("pv0001", ago("20m"), {
        spec: {
          capacity: { storage: "1024Mi" },
          accessModes: ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Retain",
          claimRef: { namespace: "default", name: "myclaim" },
          storageClassName: "slow",
          volumeMode: "Filesystem",
        },
        status: { phase: "Bound" },
      }),
      want: {
        CAPACITY: "1Gi",
        "ACCESS MODES": "RWO,RWX",
        "RECLAIM POLICY": "Retain",
        STATUS: "Bound",
        CLAIM: "default/myclaim",
        STORAGECLASS: "slow",
        VOLUMEATTRIBUTESCLASS: "<unset>",
        REASON: "",
        AGE: "20m",
        VOLUMEMODE: "Filesystem",
      },
    },
    {
      name: "an available volume has an empty claim; the beta class annotation wins; deletion shows Terminating",
      obj: obj(
        "pv0002",
        ago("20m"),
        {
          spec: { capacity: { storage: "5Gi" }, accessModes: ["ReadOnlyMany"], storageClassName: "slow" },
          status: { phase: "Available" },
        },
        { annotations: { "volume.beta.kubernetes.io/storage-class": "fast" }, deletionTimestamp: ago("1s") },
      ),
      want: { CLAIM: "", "ACCESS MODES": "ROX", STORAGECLASS: "fast", STATUS: "Terminating", VOLUMEMODE: "<unset>" },
    },
  ]);
  check("persistentvolumeclaims", [
    {
      name: "a bound claim shows the volume's capacity and modes",
      obj: obj("myclaim", ago("5m"), {
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "8Gi" } },
          storageClassName: "standard",
          volumeName: "pvc-2f1d",
          volumeMode: "Filesystem",
        },
        status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "10Gi" } },
      }),
      want: {
        STATUS: "Bound",
        VOLUME: "pvc-2f1d",
        CAPACITY: "10Gi",
        "ACCESS MODES": "RWO",
        STORAGECLASS: "standard",
        VOLUMEATTRIBUTESCLASS: "<unset>",
        AGE: "5m",
        VOLUMEMODE: "Filesystem",
      },
    },
    {
      name: "a pending claim shows no volume, capacity or modes",
      obj: obj("pending", ago("5m"), {
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "8Gi" } } },
        status: { phase: "Pending" },
      }),
      want: { STATUS: "Pending", VOLUME: "", CAPACITY: "", "ACCESS MODES": "", STORAGECLASS: "" },
    },
  ]);
});

describe("resource quotas table", () => {
  const p = printerFor("", "resourcequotas");
  it("columns (AGE moved last upstream in 1.33)", () => {
    assert.deepEqual(headers(p), ["NAME", "REQUEST", "LIMIT", "AGE"]);
  });
  check("resourcequotas", [
    {
      name: "requests and limits split by the limits. prefix, sorted by name",
      obj: obj("compute", ago("2m"), {
        status: {
          hard: { "requests.cpu": "1", pods: "2", "limits.memory": "2Gi", "limits.cpu": "2", "requests.memory": "1Gi" },
          used: { "requests.cpu": "500m", pods: "1", "limits.cpu": "1000m" },
        },
      }),
      want: {
        REQUEST: "pods: 1/2, requests.cpu: 500m/1, requests.memory: 0/1Gi",
        LIMIT: "limits.cpu: 1/2, limits.memory: 0/2Gi",
        AGE: "2m",
      },
    },
    { name: "no status yet", obj: obj("q", ago("1s")), want: { REQUEST: "", LIMIT: "" } },
  ]);
});

describe("replication controllers and pod templates tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("", "replicationcontrollers"), true), [
      "NAME",
      "DESIRED",
      "CURRENT",
      "READY",
      "AGE",
      "CONTAINERS",
      "IMAGES",
      "SELECTOR",
    ]);
    assert.deepEqual(headers(printerFor("", "podtemplates")), ["NAME", "CONTAINERS", "IMAGES", "POD LABELS"]);
  });
  check("replicationcontrollers", [
    {
      name: "replica counts and the map selector",
      obj: obj("nginx", ago("1h"), {
        spec: {
          replicas: 3,
          selector: { app: "nginx" },
          template: { spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } },
        },
        status: { replicas: 3, readyReplicas: 2 },
      }),
      want: { DESIRED: 3, CURRENT: 3, READY: 2, CONTAINERS: "nginx", IMAGES: "nginx:1.25", SELECTOR: "app=nginx" },
    },
  ]);
  check("podtemplates", [
    {
      name: "containers, images and labels",
      obj: obj("tmpl", ago("1h"), {
        template: {
          metadata: { labels: { tier: "web", app: "x" } },
          spec: {
            containers: [
              { name: "a", image: "busybox" },
              { name: "b", image: "alpine" },
            ],
          },
        },
      }),
      want: { CONTAINERS: "a,b", IMAGES: "busybox,alpine", "POD LABELS": "app=x,tier=web" },
    },
  ]);
});
