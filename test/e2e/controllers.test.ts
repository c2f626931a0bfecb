/**
 * The built-in control-plane controllers: root CA ConfigMap and default ServiceAccount per
 * namespace, event TTL, and leader election between servers sharing one store.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalClient } from "../../src/controllers/client.js";
import { EventTTLController } from "../../src/controllers/eventttl/index.js";
import { type Client, clientFor } from "./client.js";
import { startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip } from "./support.js";

async function eventually<T>(fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("control-plane controllers", () => {
  let cluster: TestCluster;
  let client: Client;
  before(async () => {
    cluster = await startCluster({ store: "memory" });
    client = clientFor(cluster.kubeconfig);
  });
  after(async () => {
    client?.agent.destroy();
    await cluster?.stop();
  });

  it("publishes the cluster CA as kube-root-ca.crt in a new namespace, with the default ServiceAccount", async () => {
    await client.call("POST", "/api/v1/namespaces", { metadata: { name: "fresh" } });
    const cm = await eventually(async () => {
      const r = await client.call("GET", "/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt");
      return r.code === 200 ? (JSON.parse(r.body) as { data: Record<string, string> }) : undefined;
    });
    assert.equal(cm.data["ca.crt"], readFileSync(join(cluster.dataDir, "tls", "ca.crt"), "utf8"));
    await eventually(async () =>
      (await client.call("GET", "/api/v1/namespaces/fresh/serviceaccounts/default")).code === 200 ? true : undefined,
    );
  });

  it("puts the edited root CA ConfigMap back", async () => {
    await client.call("PATCH", "/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt", '{"data":{"ca.crt":"junk"}}', {
      "content-type": "application/merge-patch+json",
    });
    await eventually(async () => {
      const r = JSON.parse((await client.call("GET", "/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt")).body) as {
        data: Record<string, string>;
      };
      return r.data["ca.crt"]?.startsWith("-----BEGIN CERTIFICATE-----") ? true : undefined;
    });
  });

  it("deletes events an hour after they were last seen, and keeps newer ones", async () => {
    const ev = (name: string, last: string) => ({
      metadata: { name, namespace: "default" },
      involvedObject: { kind: "Pod", name: "p", namespace: "default" },
      reason: "Test",
      message: name,
      type: "Normal",
      lastTimestamp: last,
      firstTimestamp: last,
    });
    const now = Date.now();
    await client.call(
      "POST",
      "/api/v1/namespaces/default/events",
      ev("old", new Date(now - 2 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z")),
    );
    await client.call(
      "POST",
      "/api/v1/namespaces/default/events",
      ev("new", new Date(now - 60_000).toISOString().replace(/\.\d+Z$/, "Z")),
    );
    const ttl = new EventTTLController(new LocalClient(cluster.server.api.catalog, cluster.server.api.registry));
    assert.equal(await ttl.sweep(now), 1);
    assert.equal((await client.call("GET", "/api/v1/namespaces/default/events/old")).code, 404);
    assert.equal((await client.call("GET", "/api/v1/namespaces/default/events/new")).code, 200);
  });

  it("holds the controller lease in kube-system", async () => {
    const lease = await eventually(async () => {
      const r = await client.call(
        "GET",
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/k8ts-controller-manager",
      );
      return r.code === 200 ? (JSON.parse(r.body) as { spec: Record<string, unknown> }) : undefined;
    });
    assert.equal(cluster.server.elector.isLeader, true);
    assert.match(String(lease.spec["holderIdentity"]), /_[0-9a-f-]{36}$/);
    assert.match(String(lease.spec["renewTime"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it("kubectl create -f a ReplicaSet → its pods; kubectl scale brings it down; describe shows the events", {
    skip: kubectlSkip(),
  }, async () => {
    const yaml = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  labels:
    app: guestbook
spec:
  replicas: 3
  selector:
    matchLabels:
      tier: frontend
  template:
    metadata:
      labels:
        tier: frontend
    spec:
      containers:
      - name: php-redis
        image: busybox
`;
    assert.equal(
      (await cluster.kubectl(["create", "-f", "-"], { stdin: yaml })).stdout.trim(),
      "replicaset.apps/frontend created",
    );
    const row = await eventually(async () => {
      const r = await cluster.kubectl(["get", "rs", "frontend", "--no-headers"]);
      return /^frontend\s+3\s+3\s+0\s/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(row, /^frontend\s+3\s+3\s+0\s+\S+/);
    const names = (await cluster.kubectl(["get", "pods", "-l", "tier=frontend", "-o", "name"])).stdout
      .trim()
      .split("\n");
    assert.equal(names.length, 3);
    assert.ok(
      names.every((n) => /^pod\/frontend-[a-z0-9]{5}$/.test(n)),
      names.join(" "),
    );
    assert.equal(
      (await cluster.kubectl(["scale", "rs", "frontend", "--replicas=1"])).stdout.trim(),
      "replicaset.apps/frontend scaled",
    );
    await eventually(async () => {
      const r = await cluster.kubectl(["get", "rs", "frontend", "--no-headers"]);
      return /^frontend\s+1\s+1\s+0\s/.test(r.stdout) ? true : undefined;
    });
    const d = await cluster.kubectl(["describe", "rs", "frontend"]);
    assert.match(
      d.stdout,
      /Normal\s+SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: frontend-[a-z0-9]{5}/,
    );
    assert.match(
      d.stdout,
      /Normal\s+SuccessfulDelete\s+\S+\s+replicaset-controller\s+Deleted pod: frontend-[a-z0-9]{5}/,
    );
    assert.match(d.stdout, /Replicas:\s+1 current \/ 1 desired/);
    // kubectl delete cascades (background): the garbage collector takes the pods
    assert.equal(
      (await cluster.kubectl(["delete", "rs", "frontend"])).stdout.trim(),
      'replicaset.apps "frontend" deleted',
    );
    await eventually(async () => {
      const r = await cluster.kubectl(["get", "pods", "-l", "tier=frontend", "-o", "name"]);
      return r.stdout.trim() === "" ? true : undefined;
    });
    // --cascade=orphan keeps them, without the reference
    await cluster.kubectl(["create", "-f", "-"], { stdin: yaml });
    await eventually(async () => {
      const r = await cluster.kubectl(["get", "pods", "-l", "tier=frontend", "-o", "name"]);
      return r.stdout.trim().split("\n").length === 3 ? true : undefined;
    });
    await cluster.kubectl(["delete", "rs", "frontend", "--cascade=orphan"]);
    const owners = await cluster.kubectl([
      "get",
      "pods",
      "-l",
      "tier=frontend",
      "-o",
      "jsonpath={range .items[*]}{.metadata.name}={.metadata.ownerReferences}{'\\n'}{end}",
    ]);
    const lines = owners.stdout.trim().split("\n");
    assert.equal(lines.length, 3, owners.stdout);
    assert.ok(
      lines.every((l) => l.endsWith("=")),
      owners.stdout,
    );
  });

  it("seed 000's batch/v1beta1 CronJob makes hello-<minutes since epoch> at the next minute; delete takes its Jobs", {
    skip: kubectlSkip(),
    timeout: 120_000,
  }, async () => {
    const yaml = `apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox
            args:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
`;
    const created = await cluster.kubectl(["create", "-f", "-"], { stdin: yaml });
    assert.equal(created.stdout.trim(), "cronjob.batch/hello created");
    const job = await eventually(async () => {
      const r = await cluster.kubectl(["get", "jobs", "-o", "name"]);
      const m = /job\.batch\/(hello-(\d+))/.exec(r.stdout);
      return m ? { name: m[1]!, minutes: Number(m[2]) } : undefined;
    }, 75_000);
    // the name is the scheduled minute, which has just passed
    const nowMin = Math.floor(Date.now() / 60_000);
    assert.ok(nowMin - job.minutes <= 1, `${job.name} vs minute ${nowMin}`);
    const row = await eventually(async () => {
      const r = await cluster.kubectl(["get", "cronjob", "hello", "--no-headers"]);
      return /^hello\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+1\s+\d+s\s+\S+/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(row, /^hello\s+\*\/1 \* \* \* \*/);
    assert.equal(
      (await cluster.kubectl(["delete", "cronjob", "hello"])).stdout.trim(),
      'cronjob.batch "hello" deleted',
    );
    await eventually(async () => {
      const r = await cluster.kubectl(["get", "jobs", "-o", "name"]);
      return r.stdout.includes(job.name) ? undefined : true;
    }, 20_000);
  });
});
