/** Filter plugins, table-driven: which nodes a pod fits and the reason each other node gives. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cluster, filterAll, node, pod } from "./helpers.js";

describe("NodeUnschedulable", () => {
  const cases = [
    {
      name: "a cordoned node keeps an ordinary pod off",
      tolerations: [],
      want: "UnschedulableAndUnresolvable: node(s) were unschedulable",
    },
    {
      name: "a pod tolerating node.kubernetes.io/unschedulable:NoSchedule fits a cordoned node",
      tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
      want: "",
    },
    {
      name: "an Exists toleration with no key tolerates it too",
      tolerations: [{ operator: "Exists" }],
      want: "",
    },
    {
      name: "a NoExecute-only toleration does not",
      tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoExecute" }],
      want: "UnschedulableAndUnresolvable: node(s) were unschedulable",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { snap } = cluster([node("n1", { unschedulable: true })]);
      const got = filterAll(pod("p", { spec: { tolerations: c.tolerations } }), snap);
      assert.equal(got["n1"], c.want);
    });
  }
});

describe("NodeName", () => {
  it("a pod naming another node does not fit this one", () => {
    const { snap } = cluster([node("n1"), node("n2")]);
    const got = filterAll(pod("p", { spec: { nodeName: "n2" } }), snap);
    assert.deepEqual(got, { n1: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name", n2: "" });
  });
});

describe("TaintToleration", () => {
  const cp = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };
  const cases = [
    {
      name: "an untolerated NoSchedule taint is reported with its key and (empty) value",
      taints: [cp],
      tolerations: [],
      want: "UnschedulableAndUnresolvable: node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
    },
    {
      name: "NoExecute keeps pods off as well, with the value shown",
      taints: [{ key: "dedicated", value: "gpu", effect: "NoExecute" }],
      tolerations: [],
      want: "UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}",
    },
    {
      name: "PreferNoSchedule does not filter",
      taints: [{ key: "x", effect: "PreferNoSchedule" }],
      tolerations: [],
      want: "",
    },
    {
      name: "an Equal toleration with the same value tolerates",
      taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
      tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
      want: "",
    },
    {
      name: "an Equal toleration with another value does not",
      taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
      tolerations: [{ key: "dedicated", value: "cpu" }],
      want: "UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}",
    },
    {
      name: "the first untolerated taint is the one reported",
      taints: [cp, { key: "b", value: "2", effect: "NoSchedule" }],
      tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }],
      want: "UnschedulableAndUnresolvable: node(s) had untolerated taint {b: 2}",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { snap } = cluster([node("n1", { taints: c.taints })]);
      assert.equal(filterAll(pod("p", { spec: { tolerations: c.tolerations } }), snap)["n1"], c.want);
    });
  }
});

describe("NodeAffinity", () => {
  const nodes = [
    node("a", { labels: { zone: "z1", disk: "ssd", cores: "8" } }),
    node("b", { labels: { zone: "z2", cores: "2" } }),
  ];
  const miss = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";
  const required = (terms: unknown[]) => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
  });
  const cases = [
    {
      name: "nodeSelector must match every label",
      spec: { nodeSelector: { zone: "z1", disk: "ssd" } },
      want: { a: "", b: miss },
    },
    {
      name: "In on a label",
      spec: required([{ matchExpressions: [{ key: "zone", operator: "In", values: ["z2"] }] }]),
      want: { a: miss, b: "" },
    },
    {
      name: "NotIn also matches nodes without the label",
      spec: required([{ matchExpressions: [{ key: "disk", operator: "NotIn", values: ["ssd"] }] }]),
      want: { a: miss, b: "" },
    },
    {
      name: "DoesNotExist",
      spec: required([{ matchExpressions: [{ key: "disk", operator: "DoesNotExist" }] }]),
      want: { a: miss, b: "" },
    },
    {
      name: "Gt compares integers",
      spec: required([{ matchExpressions: [{ key: "cores", operator: "Gt", values: ["4"] }] }]),
      want: { a: "", b: miss },
    },
    {
      name: "terms are ORed",
      spec: required([
        { matchExpressions: [{ key: "zone", operator: "In", values: ["z1"] }] },
        { matchExpressions: [{ key: "zone", operator: "In", values: ["z2"] }] },
      ]),
      want: { a: "", b: "" },
    },
    {
      name: "an empty term matches nothing",
      spec: required([{}]),
      want: { a: miss, b: miss },
    },
    {
      name: "matchFields metadata.name narrows PreFilter to the named node",
      spec: required([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["b"] }] }]),
      want: { a: "not a PreFilter node", b: "" },
    },
    {
      name: "nodeSelector and affinity must both hold",
      spec: {
        nodeSelector: { zone: "z1" },
        ...required([{ matchExpressions: [{ key: "cores", operator: "Lt", values: ["4"] }] }]),
      },
      want: { a: miss, b: miss },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { snap } = cluster(nodes);
      assert.deepEqual(filterAll(pod("p", { spec: c.spec }), snap), c.want);
    });
  }
});

describe("NodePorts", () => {
  const withPort = (port: number, hostIP?: string, protocol?: string) => ({
    containers: [{ name: "c", image: "x", ports: [{ containerPort: 80, hostPort: port, hostIP, protocol }] }],
  });
  const miss = "Unschedulable: node(s) didn't have free ports for the requested pod ports";
  const cases = [
    { name: "the same host port on 0.0.0.0 conflicts", used: withPort(8080), want: withPort(8080), result: miss },
    { name: "another port is free", used: withPort(8080), want: withPort(8081), result: "" },
    { name: "another protocol is free", used: withPort(53), want: withPort(53, undefined, "UDP"), result: "" },
    {
      name: "two specific IPs do not conflict",
      used: withPort(80, "10.0.0.1"),
      want: withPort(80, "10.0.0.2"),
      result: "",
    },
    { name: "0.0.0.0 conflicts with a specific IP", used: withPort(80, "10.0.0.1"), want: withPort(80), result: miss },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { snap } = cluster([node("n1")], [["n1", pod("old", { spec: c.used })]]);
      assert.equal(filterAll(pod("p", { spec: c.want }), snap)["n1"], c.result);
    });
  }
});

describe("NodeResourcesFit", () => {
  const cases = [
    { name: "fits in what is left", used: ["1", "1Gi"], want: { cpu: "3", memory: "7Gi" }, result: "" },
    {
      name: "cpu beyond what is left",
      used: ["2", "1Gi"],
      want: { cpu: "3" },
      result: "Unschedulable: Insufficient cpu",
    },
    {
      name: "every insufficient resource is a reason",
      used: ["2", "6Gi"],
      want: { cpu: "3", memory: "3Gi" },
      result: "Unschedulable: Insufficient cpu, Insufficient memory",
    },
    {
      name: "an extended resource the node lacks",
      used: ["0", "0"],
      want: { cpu: "1", requests: { "example.com/gpu": "1" } },
      result: "Unschedulable: Insufficient example.com/gpu",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { snap } = cluster([node("n1")], [["n1", pod("old", { cpu: c.used[0], memory: c.used[1] })]]);
      assert.equal(filterAll(pod("p", c.want), snap)["n1"], c.result);
    });
  }

  it("a full node says Too many pods, even for a pod requesting nothing", () => {
    const { snap } = cluster([node("n1", { pods: "1" })], [["n1", pod("old")]]);
    assert.equal(filterAll(pod("p"), snap)["n1"], "Unschedulable: Too many pods");
  });

  it("init containers count at their largest, beside the containers' sum", () => {
    const { snap } = cluster([node("n1", { cpu: "2" })]);
    const p = pod("p", {
      cpu: "500m",
      spec: { initContainers: [{ name: "i", image: "x", resources: { requests: { cpu: "2500m" } } }] },
    });
    assert.equal(filterAll(p, snap)["n1"], "Unschedulable: Insufficient cpu");
  });
});

describe("PodTopologySpread (hard constraints)", () => {
  const zones = [
    node("a1", { labels: { zone: "a" } }),
    node("a2", { labels: { zone: "a" } }),
    node("b1", { labels: { zone: "b" } }),
    node("x", {}),
  ];
  const spread = (maxSkew: number, extra: Record<string, unknown> = {}) => ({
    topologySpreadConstraints: [
      {
        maxSkew,
        topologyKey: "zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { app: "web" } },
        ...extra,
      },
    ],
  });
  const web = (name: string) => pod(name, { labels: { app: "web" } });

  it("a domain already ahead by maxSkew is refused; a node without the key never fits", () => {
    const { snap } = cluster(zones, [["a1", web("w1")]]);
    assert.deepEqual(filterAll(pod("p", { labels: { app: "web" }, spec: spread(1) }), snap), {
      a1: "Unschedulable: node(s) didn't match pod topology spread constraints",
      a2: "Unschedulable: node(s) didn't match pod topology spread constraints",
      b1: "",
      x: "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)",
    });
  });

  it("maxSkew 2 allows one more in the fuller domain", () => {
    const { snap } = cluster(zones, [["a1", web("w1")]]);
    const got = filterAll(pod("p", { labels: { app: "web" }, spec: spread(2) }), snap);
    assert.equal(got["a1"], "");
    assert.equal(got["b1"], "");
  });

  it("pods in other namespaces and pods being deleted are not counted", () => {
    const { snap } = cluster(zones, [
      ["a1", pod("w1", { labels: { app: "web" }, namespace: "other" })],
      ["a2", pod("w2", { labels: { app: "web" }, terminating: true })],
    ]);
    assert.equal(filterAll(pod("p", { labels: { app: "web" }, spec: spread(1) }), snap)["a1"], "");
  });

  it("minDomains above the number of domains makes the global minimum 0", () => {
    const { snap } = cluster(zones, [["b1", web("w1")]]);
    const got = filterAll(pod("p", { labels: { app: "web" }, spec: spread(1, { minDomains: 3 }) }), snap);
    assert.equal(got["b1"], "Unschedulable: node(s) didn't match pod topology spread constraints");
    assert.equal(got["a1"], "");
  });

  it("nodes the pod's node affinity excludes are not domains (nodeAffinityPolicy Honor), unless Ignore", () => {
    const { snap } = cluster(zones, [["a1", web("w1")]]);
    const honor = filterAll(
      pod("p", { labels: { app: "web" }, spec: { ...spread(1), nodeSelector: { zone: "a" } } }),
      snap,
    );
    // only zone a is a domain: its own count is the minimum, so a2 fits
    assert.equal(honor["a2"], "");
    const ignore = filterAll(
      pod("p", {
        labels: { app: "web" },
        spec: { ...spread(1, { nodeAffinityPolicy: "Ignore" }), nodeSelector: { zone: "a" } },
      }),
      snap,
    );
    // empty zone b counts: a would be 2 ahead
    assert.equal(ignore["a2"], "Unschedulable: node(s) didn't match pod topology spread constraints");
  });
});

describe("InterPodAffinity (required)", () => {
  const nodes = [node("a1", { labels: { zone: "a" } }), node("b1", { labels: { zone: "b" } })];
  const term = (app: string) => ({ labelSelector: { matchLabels: { app } }, topologyKey: "zone" });

  it("affinity places the pod in the domain of a matching pod", () => {
    const { snap } = cluster(nodes, [["b1", pod("db", { labels: { app: "db" } })]]);
    const got = filterAll(
      pod("p", {
        spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db")] } } },
      }),
      snap,
    );
    assert.deepEqual(got, { a1: "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules", b1: "" });
  });

  it("the first pod of a group with affinity to itself may go anywhere", () => {
    const { snap } = cluster(nodes);
    const got = filterAll(
      pod("p", {
        labels: { app: "web" },
        spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } } },
      }),
      snap,
    );
    assert.deepEqual(got, { a1: "", b1: "" });
  });

  it("anti-affinity keeps the pod out of a domain with a matching pod", () => {
    const { snap } = cluster(nodes, [["a1", pod("w1", { labels: { app: "web" } })]]);
    const got = filterAll(
      pod("p", {
        labels: { app: "web" },
        spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } } },
      }),
      snap,
    );
    assert.deepEqual(got, { a1: "Unschedulable: node(s) didn't match pod anti-affinity rules", b1: "" });
  });

  it("an existing pod's anti-affinity keeps matching pods out of its domain", () => {
    const guard = pod("guard", {
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } } },
    });
    const { snap } = cluster(nodes, [["b1", guard]]);
    const got = filterAll(pod("p", { labels: { app: "web" } }), snap);
    assert.deepEqual(got, { a1: "", b1: "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules" });
  });

  it("a namespaceSelector term matches pods of the selected namespaces only", () => {
    const { snap } = cluster(
      nodes,
      [
        ["a1", pod("db1", { labels: { app: "db" }, namespace: "team-x" })],
        ["b1", pod("db2", { labels: { app: "db" }, namespace: "team-y" })],
      ],
      { "team-x": { team: "x" }, "team-y": { team: "y" } },
    );
    const got = filterAll(
      pod("p", {
        spec: {
          affinity: {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { ...term("db"), namespaceSelector: { matchLabels: { team: "y" } } },
              ],
            },
          },
        },
      }),
      snap,
    );
    assert.deepEqual(got, { a1: "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules", b1: "" });
  });
});
