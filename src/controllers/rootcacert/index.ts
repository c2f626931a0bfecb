/**
 * Root CA publisher: every active namespace has the `kube-root-ca.crt` ConfigMap holding the
 * cluster CA, which pods use to verify the API server (upstream's root-ca-cert-publisher).
 */
import type { KObject } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

export class RootCACertPublisher {
  private readonly client: LocalClient;
  private readonly caCert: string;
  private readonly queue: WorkQueue;
  private stops: Array<() => void> = [];

  constructor(client: LocalClient, caCert: string) {
    this.client = client;
    this.caCert = caCert;
    this.queue = new WorkQueue("root-ca-cert-publisher", (key) => this.reconcile(key));
  }

  start(): void {
    const ns = this.client.resource("", "v1", "namespaces");
    const cm = this.client.resource("", "v1", "configmaps");
    const a = this.client.informer(ns, (obj, deleted) => {
      if (!deleted) this.queue.add(obj.metadata.name ?? "");
    });
    const b = this.client.informer(cm, (obj) => {
      if (obj.metadata.name === ROOT_CA_CONFIGMAP) this.queue.add(obj.metadata.namespace ?? "");
    });
    this.stops = [() => a.stop(), () => b.stop()];
  }

  stop(): void {
    for (const s of this.stops) s();
    this.queue.stop();
  }

  async reconcile(namespace: string): Promise<ReconcileResult> {
    const ns = this.client.get(this.client.resource("", "v1", "namespaces"), undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp !== undefined) return undefined;
    const cm = this.client.resource("", "v1", "configmaps");
    const current = this.client.get(cm, namespace, ROOT_CA_CONFIGMAP);
    const data = { "ca.crt": this.caCert };
    if (!current) {
      await this.client.ensure(cm, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { "kubernetes.io/description": DESCRIPTION } },
        data,
      });
    } else if ((current["data"] as Record<string, string> | undefined)?.["ca.crt"] !== this.caCert) {
      await this.client.update(cm, namespace, ROOT_CA_CONFIGMAP, "", (o: KObject) => {
        o["data"] = data;
        return o;
      });
    }
    return undefined;
  }
}

const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
