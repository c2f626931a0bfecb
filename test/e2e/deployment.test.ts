/**
 * Deployments through the real kubectl on a server with an embedded `sim` node: create, scale, set
 * image, rollout status/history/undo/pause/resume/restart, the columns, describe, delete; and the
 * seed 001 extensions/v1beta1 Deployment.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestCluster } from "./harness.js";
import { kubectlOk, kubectlSkip, simCluster, until } from "./support.js";

describe("Deployments with kubectl", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  before(async () => {
    c = await simCluster();
  });
  after(async () => {
    await c?.stop();
  });

  const k = kubectlOk(() => c);
  const sets = async () =>
    (await k("get", "rs", "-l", "app=nginx", "--no-headers"))
      .trim()
      .split("\n")
      .filter((l) => l !== "");

  it("create deployment → rollout status → READY 1/1; scale → 2/2", async () => {
    assert.equal((await k("create", "deployment", "nginx", "--image=nginx")).trim(), "deployment.apps/nginx created");
    const status = await k("rollout", "status", "deploy/nginx", "--timeout=30s");
    assert.match(status, /deployment "nginx" successfully rolled out\n$/);
    const get = await k("get", "deploy", "nginx");
    assert.match(get, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nnginx\s+1\/1\s+1\s+1\s+\d+s\n$/);
    assert.equal((await k("scale", "deploy", "nginx", "--replicas=2")).trim(), "deployment.apps/nginx scaled");
    await k("rollout", "status", "deploy/nginx", "--timeout=30s");
    assert.match(await k("get", "deploy", "nginx", "--no-headers"), /^nginx\s+2\/2\s+2\s+2\s/);
    const rs = await sets();
    assert.equal(rs.length, 1);
    assert.match(rs[0]!, /^nginx-[bcdfghjklmnpqrstvwxz2456789]{1,10}\s+2\s+2\s+2\s+\d+s$/);
    const pods = (await k("get", "pods", "-l", "app=nginx", "-o", "name")).trim().split("\n");
    assert.equal(pods.length, 2);
    assert.ok(
      pods.every((p) => /^pod\/nginx-[a-z0-9]+-[a-z0-9]{5}$/.test(p)),
      pods.join(" "),
    );
  });

  it("set image rolls out a second revision; history lists both; undo goes back to the first template", async () => {
    assert.equal(
      (await k("set", "image", "deploy/nginx", "nginx=nginx:1.25")).trim(),
      "deployment.apps/nginx image updated",
    );
    assert.match(await k("rollout", "status", "deploy/nginx", "--timeout=30s"), /successfully rolled out/);
    assert.match(await k("get", "deploy", "nginx", "-o", "wide", "--no-headers"), /\snginx:1\.25\s+app=nginx$/m);
    const history = await k("rollout", "history", "deploy/nginx");
    assert.match(history, /^deployment\.apps\/nginx \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    const rev2 = await k("rollout", "history", "deploy/nginx", "--revision=2");
    assert.match(rev2, /Image:\s+nginx:1\.25/);
    const rs = await sets();
    assert.equal(rs.length, 2);
    assert.ok(
      rs.some((l) => /\s0\s+0\s+0\s/.test(l)),
      rs.join("\n"),
    );
    assert.equal((await k("rollout", "undo", "deploy/nginx")).trim(), "deployment.apps/nginx rolled back");
    await k("rollout", "status", "deploy/nginx", "--timeout=30s");
    assert.equal(
      await k("get", "deploy", "nginx", "-o", "jsonpath={.spec.template.spec.containers[0].image}"),
      "nginx",
    );
    const after = await k("rollout", "history", "deploy/nginx");
    assert.match(after, /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
    // still two sets: the first one came back as revision 3
    assert.equal((await sets()).length, 2);
  });

  it("pause holds a template change; resume rolls it out; restart makes a new revision", async () => {
    assert.equal((await k("rollout", "pause", "deploy/nginx")).trim(), "deployment.apps/nginx paused");
    await k("set", "image", "deploy/nginx", "nginx=nginx:1.26");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await sets()).length, 2);
    const described = await k("describe", "deploy", "nginx");
    assert.match(described, /Progressing\s+Unknown\s+DeploymentPaused/);
    assert.equal((await k("rollout", "resume", "deploy/nginx")).trim(), "deployment.apps/nginx resumed");
    await k("rollout", "status", "deploy/nginx", "--timeout=30s");
    assert.equal((await sets()).length, 3);
    assert.equal((await k("rollout", "restart", "deploy/nginx")).trim(), "deployment.apps/nginx restarted");
    await k("rollout", "status", "deploy/nginx", "--timeout=30s");
    assert.equal((await sets()).length, 4);
    const d = await k("describe", "deploy", "nginx");
    assert.match(d, /Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/);
    assert.match(d, /StrategyType:\s+RollingUpdate/);
    assert.match(d, /RollingUpdateStrategy:\s+25% max unavailable, 25% max surge/);
    assert.match(d, /Available\s+True\s+MinimumReplicasAvailable/);
    assert.match(d, /Progressing\s+True\s+NewReplicaSetAvailable/);
    assert.match(d, /NewReplicaSet:\s+nginx-\w+ \(2\/2 replicas created\)/);
    assert.match(d, /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set nginx-\w+ to 1/);
    assert.match(d, /Scaled down replica set nginx-\w+ to \d from \d/);
  });

  it("delete deployment takes its ReplicaSets and pods", async () => {
    assert.equal((await k("delete", "deploy", "nginx")).trim(), 'deployment.apps "nginx" deleted');
    await until("sets and pods gone", async () => {
      const rs = await k("get", "rs,pods", "-l", "app=nginx", "-o", "name");
      return rs.trim() === "" ? true : undefined;
    });
  });

  it("seed 001's extensions/v1beta1 Deployment (no selector) is accepted and runs its pod", async () => {
    const yaml = `kind: Deployment
apiVersion: extensions/v1beta1
metadata:
  name: deploy-heketi
  labels:
    glusterfs: heketi-deployment
    deploy-heketi: heket-deployment
  annotations:
    description: Defines how to deploy Heketi
spec:
  replicas: 1
  template:
    metadata:
      name: deploy-heketi
      labels:
        glusterfs: heketi-pod
        name: deploy-heketi
    spec:
      containers:
      - image: heketi/heketi
        imagePullPolicy: IfNotPresent
        name: deploy-heketi
        ports:
        - containerPort: 8080
`;
    assert.equal(
      (await c.kubectl(["create", "-f", "-"], { stdin: yaml })).stdout.trim(),
      "deployment.extensions/deploy-heketi created",
    );
    await k("rollout", "status", "deploy/deploy-heketi", "--timeout=30s");
    assert.match(await k("get", "deploy", "deploy-heketi", "--no-headers"), /^deploy-heketi\s+1\/1\s+1\s+1\s/);
    // the Deployment's annotations are copied to its set
    assert.equal(
      await k("get", "rs", "-l", "name=deploy-heketi", "-o", "jsonpath={.items[0].metadata.annotations.description}"),
      "Defines how to deploy Heketi",
    );
    await k("delete", "deploy", "deploy-heketi");
  });
});
