import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, defaulted, y } from "./helpers.js";

function service(spec: string, status = ""): ReturnType<typeof defaulted> {
  return defaulted(`
apiVersion: v1
kind: Service
metadata: {name: s}
spec: ${spec}
${status ? `status: ${status}` : ""}
`);
}

describe("Service defaults", () => {
  it("a ClusterIP service gets type, sessionAffinity None, port protocol TCP, targetPort = port, internalTrafficPolicy Cluster", () => {
    const svc = service("{selector: {app: web}, ports: [{port: 80}]}");
    assert.deepEqual(
      svc["spec"],
      y(`
selector: {app: web}
ports: [{port: 80, protocol: TCP, targetPort: 80}]
type: ClusterIP
sessionAffinity: None
internalTrafficPolicy: Cluster
`),
    );
  });

  const targetPorts: [string, unknown][] = [
    ["targetPort: 8080", 8080],
    ["targetPort: http", "http"],
    ["targetPort: 0", 443],
    [`targetPort: ""`, 443],
  ];
  for (const [field, expected] of targetPorts) {
    it(`a port with ${field} ends with targetPort ${JSON.stringify(expected)}`, () => {
      const svc = service(`{ports: [{port: 443, ${field}}]}`);
      assert.equal(at(svc, "spec.ports.0.targetPort"), expected);
    });
  }

  const byType: [string, Record<string, unknown>][] = [
    ["{type: NodePort, ports: [{port: 80}]}", { externalTrafficPolicy: "Cluster", internalTrafficPolicy: "Cluster" }],
    [
      "{type: LoadBalancer, ports: [{port: 80}]}",
      { externalTrafficPolicy: "Cluster", internalTrafficPolicy: "Cluster", allocateLoadBalancerNodePorts: true },
    ],
    [
      "{type: ClusterIP, externalIPs: [1.2.3.4]}",
      { externalTrafficPolicy: "Cluster", internalTrafficPolicy: "Cluster" },
    ],
    ["{type: ClusterIP}", { externalTrafficPolicy: undefined, allocateLoadBalancerNodePorts: undefined }],
    [
      "{type: ExternalName, externalName: example.com}",
      { externalTrafficPolicy: undefined, internalTrafficPolicy: undefined, sessionAffinity: "None" },
    ],
    ["{type: LoadBalancer, externalTrafficPolicy: Local}", { externalTrafficPolicy: "Local" }],
  ];
  for (const [spec, expected] of byType) {
    it(`a service ${spec} gets ${JSON.stringify(expected)}`, () => {
      const svc = service(spec);
      for (const [key, value] of Object.entries(expected)) assert.equal(at(svc, `spec.${key}`), value, key);
    });
  }

  it("ClientIP affinity gets a 10800 second timeout; None drops any affinity config", () => {
    assert.deepEqual(at(service("{sessionAffinity: ClientIP}"), "spec.sessionAffinityConfig"), {
      clientIP: { timeoutSeconds: 10800 },
    });
    assert.deepEqual(
      at(
        service("{sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}}"),
        "spec.sessionAffinityConfig",
      ),
      { clientIP: { timeoutSeconds: 60 } },
    );
    assert.equal(
      at(service("{sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}}"), "spec.sessionAffinityConfig"),
      undefined,
    );
  });

  it("load balancer ingress IPs get ipMode VIP", () => {
    const svc = service(
      "{type: LoadBalancer}",
      "{loadBalancer: {ingress: [{ip: 10.0.0.1}, {hostname: lb.example.com}]}}",
    );
    assert.deepEqual(at(svc, "status.loadBalancer.ingress"), [
      { ip: "10.0.0.1", ipMode: "VIP" },
      { hostname: "lb.example.com" },
    ]);
  });

  it("ipFamilies, ipFamilyPolicy and clusterIP are left to the registry", () => {
    const svc = service("{ports: [{port: 80}]}");
    for (const key of ["ipFamilies", "ipFamilyPolicy", "clusterIP", "clusterIPs"])
      assert.equal(at(svc, `spec.${key}`), undefined);
  });
});

describe("Endpoints and EndpointSlice defaults", () => {
  it("Endpoints subset ports get protocol TCP", () => {
    const ep = defaulted(`
apiVersion: v1
kind: Endpoints
metadata: {name: s}
subsets: [{addresses: [{ip: 10.0.0.1}], ports: [{port: 80}, {port: 53, protocol: UDP}]}]
`);
    assert.deepEqual(at(ep, "subsets.0.ports"), [
      { port: 80, protocol: "TCP" },
      { port: 53, protocol: "UDP" },
    ]);
  });

  it("EndpointSlice ports get name '' and protocol TCP", () => {
    const slice = defaulted(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s-abc}
addressType: IPv4
endpoints: []
ports: [{port: 80}, {name: dns, port: 53, protocol: UDP}]
`);
    assert.deepEqual(slice["ports"], [
      { port: 80, name: "", protocol: "TCP" },
      { name: "dns", port: 53, protocol: "UDP" },
    ]);
  });
});

describe("NetworkPolicy and IngressClass defaults", () => {
  const policyTypes: [string, string[]][] = [
    ["{podSelector: {}}", ["Ingress"]],
    ["{podSelector: {}, egress: [{}]}", ["Ingress", "Egress"]],
    ["{podSelector: {}, egress: [{}], policyTypes: [Egress]}", ["Egress"]],
  ];
  for (const [spec, expected] of policyTypes) {
    it(`a NetworkPolicy ${spec} gets policyTypes ${expected.join(",")}`, () => {
      const np = defaulted(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec: ${spec}
`);
      assert.deepEqual(at(np, "spec.policyTypes"), expected);
    });
  }

  it("NetworkPolicy rule ports get protocol TCP", () => {
    const np = defaulted(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 80}]}]
  egress: [{ports: [{port: 53, protocol: UDP}]}]
`);
    assert.equal(at(np, "spec.ingress.0.ports.0.protocol"), "TCP");
    assert.equal(at(np, "spec.egress.0.ports.0.protocol"), "UDP");
  });

  it("IngressClass parameters get scope Cluster; an Ingress gets nothing", () => {
    const ic = defaulted(`
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx, parameters: {kind: Params, name: p}}
`);
    assert.equal(at(ic, "spec.parameters.scope"), "Cluster");
    const manifest = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec: {rules: [{http: {paths: [{path: /, backend: {service: {name: web, port: {number: 80}}}}]}}]}
`;
    assert.deepEqual(defaulted(manifest), { ...(y(manifest) as object) });
  });
});
