/**
 * What a new cluster has: the four system namespaces, the two system PriorityClasses, the
 * `kubernetes` Service and Endpoints in `default` pointing at the API server, and — made at the
 * first start only, so that an administrator may delete or replace it — the default StorageClass
 * `standard` of the built-in k8ts.io/local-path provisioner. Idempotent: runs at every start.
 */
import { ANN_DEFAULT_CLASS, DEFAULT_CLASS_NAME, LOCAL_PATH_PROVISIONER } from "../api/storage.js";
import type { LocalClient } from "../controllers/client.js";

export async function bootstrap(
  client: LocalClient,
  opts: {
    serviceIP: string;
    advertiseIP: string;
    port: number;
    caCert: string;
    url: string;
    /** Make the default StorageClass when this is the cluster's first start (default true). */
    defaultStorageClass?: boolean;
  },
): Promise<void> {
  const ns = client.resource("", "v1", "namespaces");
  const firstStart = !client.get(ns, undefined, "default");
  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    await client.ensure(ns, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    });
  }
  const pcs = client.resource("scheduling.k8s.io", "v1", "priorityclasses");
  for (const [name, value, description] of [
    [
      "system-node-critical",
      2000001000,
      "Used for system critical pods that must not be moved from their current node.",
    ],
    [
      "system-cluster-critical",
      2000000000,
      "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ],
  ] as const) {
    await client.ensure(pcs, {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name },
      value,
      description,
    });
  }
  const svc = client.resource("", "v1", "services");
  await client.ensure(svc, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
    spec: {
      type: "ClusterIP",
      clusterIP: opts.serviceIP,
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: opts.port }],
      sessionAffinity: "None",
    },
  });
  const ep = client.resource("", "v1", "endpoints");
  await client.ensure(ep, {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
    },
    subsets: [{ addresses: [{ ip: opts.advertiseIP }], ports: [{ name: "https", port: opts.port, protocol: "TCP" }] }],
  });
  // what a joining node reads before it trusts the server (kubeadm's cluster-info, checked against --ca-cert-hash)
  const cm = client.resource("", "v1", "configmaps");
  const clusterInfo = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${Buffer.from(opts.caCert).toString("base64")}
    server: ${opts.url}
  name: ""
contexts: null
current-context: ""
kind: Config
preferences: {}
users: null
`;
  const existing = client.get(cm, "kube-public", "cluster-info");
  if (!existing) {
    await client.ensure(cm, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cluster-info", namespace: "kube-public" },
      data: { kubeconfig: clusterInfo },
    });
  } else if ((existing["data"] as Record<string, unknown> | undefined)?.["kubeconfig"] !== clusterInfo) {
    await client.update(cm, "kube-public", "cluster-info", "", (o) => ({ ...o, data: { kubeconfig: clusterInfo } }));
  }
  if (firstStart && opts.defaultStorageClass !== false) {
    await client.ensure(client.resource("storage.k8s.io", "v1", "storageclasses"), {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: DEFAULT_CLASS_NAME, annotations: { [ANN_DEFAULT_CLASS]: "true" } },
      provisioner: LOCAL_PATH_PROVISIONER,
      reclaimPolicy: "Delete",
      volumeBindingMode: "Immediate",
      allowVolumeExpansion: true,
    });
  }
}
