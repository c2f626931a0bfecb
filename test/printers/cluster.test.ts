import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultTablePrinter, printerFor } from "../../src/api/printers/index.js";
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

describe("resources upstream prints with the default table", () => {
  const cases: Array<[string, string]> = [
    ["rbac.authorization.k8s.io", "roles"],
    ["rbac.authorization.k8s.io", "clusterroles"],
    ["", "limitranges"],
    ["apiextensions.k8s.io", "customresourcedefinitions"],
    ["example.com", "widgets"],
  ];
  for (const [group, resource] of cases) {
    it(`${resource}${group ? `.${group}` : ""} shows NAME and CREATED AT`, () => {
      const p = printerFor(group, resource);
      assert.equal(p, defaultTablePrinter);
      assert.deepEqual(headers(p), ["NAME", "CREATED AT"]);
    });
  }
  it("Created At is a date column holding RFC 3339 in UTC without fractions", () => {
    assert.equal(defaultTablePrinter.columns[1]?.type, "date");
    assert.deepEqual(defaultTablePrinter.cells(obj("admin", "2024-05-30T08:15:42.123+02:00"), new Date()), [
      "admin",
      "2024-05-30T06:15:42Z",
    ]);
    assert.deepEqual(defaultTablePrinter.cells({ metadata: { name: "x" } }, new Date()), ["x", "0001-01-01T00:00:00Z"]);
  });
});

describe("rbac bindings tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("rbac.authorization.k8s.io", "rolebindings"), true), [
      "NAME",
      "ROLE",
      "AGE",
      "USERS",
      "GROUPS",
      "SERVICEACCOUNTS",
    ]);
    assert.deepEqual(headers(printerFor("rbac.authorization.k8s.io", "clusterrolebindings")), ["NAME", "ROLE", "AGE"]);
  });
  check("rbac.authorization.k8s.io", "clusterrolebindings", [
    {
      name: "role is Kind/name; subjects split by kind",
      obj: obj("cluster-admin", ago("30d"), {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [
          { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:masters" },
          { kind: "User", name: "alice" },
          { kind: "User", name: "bob" },
          { kind: "ServiceAccount", namespace: "kube-system", name: "admin" },
        ],
      }),
      want: {
        ROLE: "ClusterRole/cluster-admin",
        AGE: "30d",
        USERS: "alice, bob",
        GROUPS: "system:masters",
        SERVICEACCOUNTS: "kube-system/admin",
      },
    },
  ]);
  check("rbac.authorization.k8s.io", "rolebindings", [
    {
      name: "no subjects",
      obj: obj("read", ago("1d"), { roleRef: { kind: "Role", name: "pod-reader" } }),
      want: { ROLE: "Role/pod-reader", USERS: "", GROUPS: "", SERVICEACCOUNTS: "" },
    },
  ]);
});

describe("storage tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("storage.k8s.io", "storageclasses")), [
      "NAME",
      "PROVISIONER",
      "RECLAIMPOLICY",
      "VOLUMEBINDINGMODE",
      "ALLOWVOLUMEEXPANSION",
      "AGE",
    ]);
    assert.deepEqual(headers(printerFor("storage.k8s.io", "csidrivers")), [
      "NAME",
      "ATTACHREQUIRED",
      "PODINFOONMOUNT",
      "STORAGECAPACITY",
      "TOKENREQUESTS",
      "REQUIRESREPUBLISH",
      "MODES",
      "AGE",
    ]);
    assert.deepEqual(headers(printerFor("storage.k8s.io", "csinodes")), ["NAME", "DRIVERS", "AGE"]);
    assert.deepEqual(headers(printerFor("storage.k8s.io", "volumeattachments")), [
      "NAME",
      "ATTACHER",
      "PV",
      "NODE",
      "ATTACHED",
      "AGE",
    ]);
  });
  check("storage.k8s.io", "storageclasses", [
    {
      name: "the default class gets a (default) suffix; unset fields get upstream defaults",
      obj: obj(
        "local-path",
        ago("8d"),
        { provisioner: "rancher.io/local-path" },
        { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      ),
      want: {
        NAME: "local-path (default)",
        PROVISIONER: "rancher.io/local-path",
        RECLAIMPOLICY: "Delete",
        VOLUMEBINDINGMODE: "Immediate",
        ALLOWVOLUMEEXPANSION: false,
        AGE: "8d",
      },
    },
    {
      name: "the beta default annotation also counts; explicit fields print as set",
      obj: obj(
        "nfs",
        ago("8d"),
        {
          provisioner: "nfs.csi.k8s.io",
          reclaimPolicy: "Retain",
          volumeBindingMode: "WaitForFirstConsumer",
          allowVolumeExpansion: true,
        },
        { annotations: { "storageclass.beta.kubernetes.io/is-default-class": "true" } },
      ),
      want: {
        NAME: "nfs (default)",
        RECLAIMPOLICY: "Retain",
        VOLUMEBINDINGMODE: "WaitForFirstConsumer",
        ALLOWVOLUMEEXPANSION: true,
      },
    },
    {
      name: "a non-default class has no suffix",
      obj: obj(
        "slow",
        ago("8d"),
        { provisioner: "x" },
        { annotations: { "storageclass.kubernetes.io/is-default-class": "false" } },
      ),
      want: { NAME: "slow" },
    },
  ]);
  check("storage.k8s.io", "csidrivers", [
    {
      name: "defaults when the spec is sparse",
      obj: obj("hostpath.csi.k8s.io", ago("1h"), { spec: {} }),
      want: {
        ATTACHREQUIRED: true,
        PODINFOONMOUNT: false,
        STORAGECAPACITY: false,
        TOKENREQUESTS: "<unset>",
        REQUIRESREPUBLISH: false,
        MODES: "<none>",
      },
    },
    {
      name: "token audiences and lifecycle modes",
      obj: obj("secrets-store.csi.k8s.io", ago("1h"), {
        spec: {
          attachRequired: false,
          podInfoOnMount: true,
          tokenRequests: [{ audience: "api" }, { audience: "vault" }],
          volumeLifecycleModes: ["Persistent", "Ephemeral"],
        },
      }),
      want: { ATTACHREQUIRED: false, PODINFOONMOUNT: true, TOKENREQUESTS: "api,vault", MODES: "Persistent,Ephemeral" },
    },
  ]);
  check("storage.k8s.io", "csinodes", [
    {
      name: "counts drivers",
      obj: obj("node-1", ago("1h"), { spec: { drivers: [{ name: "a" }, { name: "b" }] } }),
      want: { DRIVERS: 2 },
    },
  ]);
  check("storage.k8s.io", "volumeattachments", [
    {
      name: "attacher, pv, node and attached",
      obj: obj("csi-123", ago("1h"), {
        spec: { attacher: "ebs.csi.aws.com", source: { persistentVolumeName: "pv-1" }, nodeName: "node-1" },
        status: { attached: true },
      }),
      want: { ATTACHER: "ebs.csi.aws.com", PV: "pv-1", NODE: "node-1", ATTACHED: true },
    },
  ]);
  check("storage.k8s.io", "csistoragecapacities", [
    {
      name: "capacity unset",
      obj: obj("csisc-1", ago("1h"), { storageClassName: "fast" }),
      want: { STORAGECLASSNAME: "fast", CAPACITY: "<unset>" },
    },
  ]);
});

describe("coordination, scheduling and node tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("coordination.k8s.io", "leases")), ["NAME", "HOLDER", "AGE"]);
    assert.deepEqual(headers(printerFor("scheduling.k8s.io", "priorityclasses")), [
      "NAME",
      "VALUE",
      "GLOBAL-DEFAULT",
      "AGE",
      "PREEMPTIONPOLICY",
    ]);
    assert.deepEqual(headers(printerFor("node.k8s.io", "runtimeclasses")), ["NAME", "HANDLER", "AGE"]);
  });
  check("coordination.k8s.io", "leases", [
    {
      name: "holder identity; two hours still read as minutes",
      obj: obj("kube-scheduler", ago("2h"), { spec: { holderIdentity: "master_1f2e", leaseDurationSeconds: 15 } }),
      want: { HOLDER: "master_1f2e", AGE: "120m" },
    },
    { name: "no holder is empty", obj: obj("free", ago("2h"), { spec: {} }), want: { HOLDER: "" } },
  ]);
  check("scheduling.k8s.io", "priorityclasses", [
    {
      name: "a system priority class",
      obj: obj("system-node-critical", ago("30d"), {
        value: 2000001000,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
      }),
      want: { VALUE: 2000001000, "GLOBAL-DEFAULT": false, PREEMPTIONPOLICY: "PreemptLowerPriority", AGE: "30d" },
    },
  ]);
});

describe("networking tables", () => {
  it("columns", () => {
    assert.deepEqual(headers(printerFor("networking.k8s.io", "ingresses")), [
      "NAME",
      "CLASS",
      "HOSTS",
      "ADDRESS",
      "PORTS",
      "AGE",
    ]);
    assert.deepEqual(headers(printerFor("networking.k8s.io", "networkpolicies")), ["NAME", "POD-SELECTOR", "AGE"]);
    assert.deepEqual(headers(printerFor("networking.k8s.io", "ingressclasses")), [
      "NAME",
      "CONTROLLER",
      "PARAMETERS",
      "AGE",
    ]);
  });
  check("networking.k8s.io", "ingresses", [
    {
      name: "hosts, address and TLS ports",
      obj: obj("web", ago("1h"), {
        spec: {
          ingressClassName: "nginx",
          rules: [{ host: "a.example.com" }, { host: "b.example.com" }],
          tls: [{ hosts: ["a.example.com"] }],
        },
        status: { loadBalancer: { ingress: [{ ip: "192.168.49.2" }] } },
      }),
      want: { CLASS: "nginx", HOSTS: "a.example.com,b.example.com", ADDRESS: "192.168.49.2", PORTS: "80, 443" },
    },
    {
      name: "no class, no hosts, no address",
      obj: obj("catch-all", ago("1h"), { spec: { defaultBackend: { service: { name: "x" } } } }),
      want: { CLASS: "<none>", HOSTS: "*", ADDRESS: "", PORTS: "80" },
    },
    {
      name: "more than three hosts",
      obj: obj("many", ago("1h"), {
        spec: { rules: [{ host: "a" }, { host: "b" }, { host: "c" }, { host: "d" }, { host: "e" }] },
      }),
      want: { HOSTS: "a,b,c + 2 more..." },
    },
  ]);
  check("networking.k8s.io", "networkpolicies", [
    {
      name: "an empty pod selector selects everything and prints <none>",
      obj: obj("deny-all", ago("1h"), { spec: { podSelector: {} } }),
      want: { "POD-SELECTOR": "<none>" },
    },
    {
      name: "a label pod selector",
      obj: obj("allow-web", ago("1h"), { spec: { podSelector: { matchLabels: { app: "web" } } } }),
      want: { "POD-SELECTOR": "app=web" },
    },
  ]);
  check("networking.k8s.io", "ingressclasses", [
    {
      name: "parameters are Kind.group/name",
      obj: obj("nginx", ago("1h"), {
        spec: {
          controller: "k8s.io/ingress-nginx",
          parameters: { apiGroup: "k8s.example.com", kind: "IngressParameters", name: "p" },
        },
      }),
      want: { CONTROLLER: "k8s.io/ingress-nginx", PARAMETERS: "IngressParameters.k8s.example.com/p" },
    },
  ]);
});

describe("aggregated and admission tables", () => {
  check("apiregistration.k8s.io", "apiservices", [
    {
      name: "a local API service",
      obj: obj("v1.apps", ago("30d"), {
        spec: { group: "apps", version: "v1" },
        status: { conditions: [{ type: "Available", status: "True" }] },
      }),
      want: { SERVICE: "Local", AVAILABLE: "True" },
    },
    {
      name: "an unavailable aggregated API shows the reason",
      obj: obj("v1beta1.metrics.k8s.io", ago("1h"), {
        spec: { service: { namespace: "kube-system", name: "metrics-server" } },
        status: { conditions: [{ type: "Available", status: "False", reason: "MissingEndpoints" }] },
      }),
      want: { SERVICE: "kube-system/metrics-server", AVAILABLE: "False (MissingEndpoints)" },
    },
  ]);
  check("admissionregistration.k8s.io", "validatingwebhookconfigurations", [
    {
      name: "counts webhooks",
      obj: obj("policy", ago("1h"), { webhooks: [{ name: "a" }, { name: "b" }] }),
      want: { WEBHOOKS: 2 },
    },
  ]);
});
