/**
 * ResourceQuota with the real kubectl (seed 000, "Resource quota"): the controller keeps
 * status.used, `kubectl describe quota` shows it, and admission refuses what would exceed it.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { ApiError } from "../../src/apiserver/errors.js";
import { LocalClient } from "../../src/controllers/client.js";
import { startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, show } from "./support.js";

const NS = "tutorial";

const QUOTA_YAML = `apiVersion: v1
kind: ResourceQuota
metadata:
  name: tutorial-quota
spec:
  hard:
    requests.cpu: "1"
    requests.memory: 1Gi
    limits.cpu: "2"
    limits.memory: 2Gi
`;

const pod = (name: string, resources: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: nginx
    image: nginx:1.25
${resources}`;

const sized = (name: string, req: [string, string], lim: [string, string]) =>
  pod(
    name,
    `    resources:
      requests: {cpu: "${req[0]}", memory: ${req[1]}}
      limits: {cpu: "${lim[0]}", memory: ${lim[1]}}
`,
  );

/** Whether the server's own admission already refuses what a quota forbids (dry run, nothing stored). */
async function quotaWired(client: LocalClient): Promise<boolean> {
  const ns = client.resource("", "v1", "namespaces");
  await client.ensure(ns, { apiVersion: "v1", kind: "Namespace", metadata: { name: "quota-probe" } });
  const rq = client.resource("", "v1", "resourcequotas");
  await client.ensure(rq, {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "none", namespace: "quota-probe" },
    spec: { hard: { "count/secrets": "0" } },
  });
  const secrets = client.resource("", "v1", "secrets");
  const secret: KObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "quota-probe" } };
  try {
    await client.registry.create(secrets, "quota-probe", secret, { dryRun: true });
    return false;
  } catch (err) {
    if (err instanceof ApiError && err.code === 403) return true;
    throw err;
  }
}

describe("ResourceQuota with kubectl", { skip: kubectlSkip() }, () => {
  let cluster: TestCluster;
  let client: LocalClient;

  before(async () => {
    cluster = await startCluster({ store: "memory" });
    client = new LocalClient(cluster.server.api.catalog, cluster.server.api.registry);
  });

  after(async () => {
    await cluster?.stop();
  });

  const file = (name: string, text: string): string => {
    const path = join(cluster.dataDir, name);
    writeFileSync(path, text);
    return path;
  };

  async function ok(args: string[]): Promise<string> {
    const r = await cluster.kubectl(args);
    assert.equal(r.code, 0, show(r));
    return r.stdout;
  }

  async function fails(args: string[]): Promise<string> {
    const r = await cluster.kubectl(args);
    assert.notEqual(r.code, 0, show(r));
    return r.stderr;
  }

  /** `kubectl describe quota` once it prints `want` (the controller catches up asynchronously). */
  async function describeUntil(args: string[], want: (out: string) => boolean): Promise<string> {
    const end = Date.now() + 10_000;
    let out = "";
    while (Date.now() < end) {
      out = await ok(["describe", "quota", ...args]);
      if (want(out)) return out;
      await new Promise((r) => setTimeout(r, 100));
    }
    return out;
  }

  it("the server's admission refuses what a quota forbids (a dry run stores nothing)", async () => {
    assert.equal(await quotaWired(client), true);
  });

  it("a new quota shows each hard resource with 0 used", async () => {
    assert.equal(await ok(["create", "namespace", NS]), `namespace/${NS} created\n`);
    assert.equal(
      await ok(["create", "-f", file("quota.yaml", QUOTA_YAML), "-n", NS]),
      "resourcequota/tutorial-quota created\n",
    );
    const out = await describeUntil(["-n", NS], (o) => /^requests\.cpu\s+0\s+1$/m.test(o));
    assert.match(out, /^limits\.cpu\s+0\s+2$/m, out);
    assert.match(out, /^limits\.memory\s+0\s+2Gi$/m, out);
    assert.match(out, /^requests\.cpu\s+0\s+1$/m, out);
    assert.match(out, /^requests\.memory\s+0\s+1Gi$/m, out);
  });

  it("describe quota sums the pods' requests and limits, as in the seed", async () => {
    await ok(["create", "-f", file("a.yaml", sized("a", ["100m", "256Mi"], ["200m", "512Mi"])), "-n", NS]);
    await ok(["create", "-f", file("b.yaml", sized("b", ["200m", "356Mi"], ["300m", "612Mi"])), "-n", NS]);
    const want = [
      "Name:            tutorial-quota",
      "Namespace:       tutorial",
      "Resource         Used    Hard",
      "--------         ----    ----",
      "limits.cpu       500m    2",
      "limits.memory    1124Mi  2Gi",
      "requests.cpu     300m    1",
      "requests.memory  612Mi   1Gi",
      "",
    ].join("\n");
    assert.equal(await describeUntil(["-n", NS], (o) => o === want), want);
  });

  it("deleting a pod gives its share back", async () => {
    await ok(["delete", "pod", "b", "-n", NS, "--wait=false"]);
    const out = await describeUntil(["-n", NS], (o) => /^requests\.cpu\s+100m\s+1$/m.test(o));
    assert.match(out, /^requests\.cpu\s+100m\s+1$/m, out);
    assert.match(out, /^limits\.memory\s+512Mi\s+2Gi$/m, out);
  });

  it("a pod stuck terminating stops counting once its grace period is over", async () => {
    const stuck = sized("stuck", ["100m", "100Mi"], ["100m", "100Mi"]).replace("spec:\n", "spec:\n  nodeName: gone\n");
    await ok(["create", "-f", file("stuck.yaml", stuck), "-n", NS]);
    await describeUntil(["-n", NS], (o) => /^requests\.cpu\s+200m\s+1$/m.test(o));
    await ok(["delete", "pod", "stuck", "-n", NS, "--grace-period=1", "--wait=false"]);
    // no kubelet finishes it: the pod stays, marked for deletion, and is no longer charged afterwards
    const out = await describeUntil(["-n", NS], (o) => /^requests\.cpu\s+100m\s+1$/m.test(o));
    assert.match(out, /^requests\.cpu\s+100m\s+1$/m, out);
    assert.equal(await ok(["get", "pod", "stuck", "-n", NS, "-o", "name"]), "pod/stuck\n");
  });

  it("a pod exceeding the quota is refused with upstream's message (the seed's, word for word)", async () => {
    const path = file("pod_exceeds_quota.yaml", sized("pod", ["2", "1Gi"], ["2", "1Gi"]));
    const err = await fails(["create", "-f", path, "-n", NS]);
    assert.equal(
      err,
      `Error from server (Forbidden): error when creating "${path}": pods "pod" is forbidden: exceeded quota: tutorial-quota, ` +
        "requested: limits.cpu=2,requests.cpu=2,requests.memory=1Gi, used: limits.cpu=200m,requests.cpu=100m,requests.memory=256Mi, " +
        "limited: limits.cpu=2,requests.cpu=1,requests.memory=1Gi\n",
    );
  });

  it("a pod without requests or limits must specify them", async () => {
    const path = file("bare.yaml", pod("bare", ""));
    const err = await fails(["create", "-f", path, "-n", NS]);
    assert.equal(
      err,
      `Error from server (Forbidden): error when creating "${path}": pods "bare" is forbidden: failed quota: tutorial-quota: ` +
        "must specify limits.cpu for: nginx; limits.memory for: nginx; requests.cpu for: nginx; requests.memory for: nginx\n",
    );
  });

  it("object counts: services, node ports and count/<resource>.<group>", async () => {
    assert.equal(
      await ok([
        "create",
        "quota",
        "objects",
        "-n",
        NS,
        "--hard=services=1,services.nodeports=0,count/deployments.apps=1",
      ]),
      "resourcequota/objects created\n",
    );
    const nodePort = await fails(["create", "service", "nodeport", "np", "--tcp=80", "-n", NS]);
    assert.match(
      nodePort,
      /services "np" is forbidden: exceeded quota: objects, requested: services\.nodeports=1, used: services\.nodeports=0, limited: services\.nodeports=0$/m,
    );
    await ok(["create", "service", "clusterip", "one", "--tcp=80", "-n", NS]);
    const second = await fails(["create", "service", "clusterip", "two", "--tcp=80", "-n", NS]);
    assert.match(second, /exceeded quota: objects, requested: services=1, used: services=1, limited: services=1$/m);
    await ok(["create", "deployment", "web", "--image=nginx", "-n", NS]);
    const out = await describeUntil(["objects", "-n", NS], (o) => /^count\/deployments\.apps\s+1\s+1$/m.test(o));
    assert.match(out, /^count\/deployments\.apps\s+1\s+1$/m, out);
    assert.match(out, /^services\s+1\s+1$/m, out);
    assert.match(out, /^services\.nodeports\s+0\s+0$/m, out);
    const deploy = await fails(["create", "deployment", "api", "--image=nginx", "-n", NS]);
    assert.match(
      deploy,
      /deployments\.apps "api" is forbidden: exceeded quota: objects, requested: count\/deployments\.apps=1/,
    );
  });

  it("the controller picks up again after it was stopped and started (leadership lost and regained)", async () => {
    const elector = cluster.server.elector;
    await elector.stop();
    assert.equal(elector.isLeader, false);
    elector.start();
    for (let i = 0; i < 100 && !elector.isLeader; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(elector.isLeader, true);
    await ok(["delete", "service", "one", "-n", NS]);
    const out = await describeUntil(["objects", "-n", NS], (o) => /^services\s+0\s+1$/m.test(o));
    assert.match(out, /^services\s+0\s+1$/m, out);
  });

  it("concurrent creates cannot together exceed a quota: exactly the allowed number gets through", async () => {
    const secrets = client.resource("", "v1", "secrets");
    await client.ensure(client.resource("", "v1", "namespaces"), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "race" },
    });
    await client.ensure(client.resource("", "v1", "resourcequotas"), {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "three-secrets", namespace: "race" },
      spec: { hard: { "count/secrets": "3" } },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        client.registry.create(
          secrets,
          "race",
          { apiVersion: "v1", kind: "Secret", metadata: { name: `s${i}`, namespace: "race" } },
          { dryRun: false },
        ),
      ),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 3);
    for (const r of results) {
      if (r.status === "rejected") assert.match(String((r.reason as Error).message), /exceeded quota: three-secrets/);
    }
  });
});
