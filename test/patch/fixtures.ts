import type { KObject } from "../../src/api/types.js";

/** The nginx Deployment of the tutorials, as stored (defaults elided). */
export function nginxDeployment(): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "nginx-deployment", namespace: "default", labels: { app: "nginx", tier: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "nginx" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: "nginx" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1.14.2",
              ports: [{ containerPort: 80, protocol: "TCP" }],
              env: [
                { name: "A", value: "1" },
                { name: "B", value: "2" },
              ],
            },
            { name: "sidecar", image: "busybox", args: ["sleep", "3600"] },
          ],
          volumes: [{ name: "www", emptyDir: {} }],
        },
      },
    },
  };
}

/** The StatefulSet "web" of the storage tutorial. */
export function webStatefulSet(): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "default" },
    spec: {
      serviceName: "nginx",
      replicas: 2,
      selector: { matchLabels: { app: "nginx" } },
      template: {
        metadata: { labels: { app: "nginx" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1.8",
              ports: [{ containerPort: 80, name: "web" }],
              volumeMounts: [{ name: "www", mountPath: "/usr/share/nginx/html" }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "www" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    },
  };
}

export function nginxService(): KObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "nginx", namespace: "default", labels: { app: "nginx" }, finalizers: ["a", "b"] },
    spec: {
      selector: { app: "nginx" },
      ports: [
        { name: "http", port: 80, protocol: "TCP", targetPort: 80 },
        { name: "https", port: 443, protocol: "TCP", targetPort: 443 },
      ],
      type: "ClusterIP",
    },
  };
}

/** Reads a nested value by field names and list indexes. */
export function at(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}
