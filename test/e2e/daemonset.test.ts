/**
 * DaemonSets through the real kubectl: seed 000's ds-nginx (extensions/v1beta1, as in the
 * tutorial's era) gets one pod on the embedded `sim` node and one on each simulated node that joins
 * later; seed 001's glusterfs set waits for a labelled node; set image / rollout status / history /
 * undo; delete takes the pods.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TestCluster } from "./harness.js";
import { FIXTURES, k8ts, kubectlOk, kubectlSkip, runK8ts, simCluster, until } from "./support.js";

// seed 000 shows `kubectl create -f resources/daemonset.yaml` and its output, not the file: this is
// the file of the tutorial's era (extensions/v1beta1, no selector)
const DS_NGINX = `apiVersion: extensions/v1beta1
kind: DaemonSet
metadata:
  name: ds-nginx
spec:
  template:
    metadata:
      labels:
        app: ds-nginx
    spec:
      containers:
      - name: nginx
        image: nginx
`;

describe("DaemonSets with kubectl", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  let fleet: ChildProcess | undefined;
  let root = "";
  before(async () => {
    c = await simCluster();
  });
  after(async () => {
    if (fleet) {
      fleet.kill("SIGTERM");
      await new Promise((r) => (fleet?.exitCode === null ? fleet.once("exit", r) : r(undefined)));
    }
    if (root) rmSync(root, { recursive: true, force: true });
    await c?.stop();
  });

  const k = kubectlOk(() => c);

  it("seed 000: kubectl create -f daemonset.yaml → one pod on the node, the upstream columns", async () => {
    const created = await c.kubectl(["create", "-f", "-"], { stdin: DS_NGINX });
    assert.equal(created.stdout.trim(), "daemonset.extensions/ds-nginx created");
    const row = await until("ds-nginx 1/1", async () => {
      const r = await k("get", "ds");
      return /\nds-nginx\s+1\s+1\s+1\s+1\s+1\s+<none>\s+\d+s\n$/.test(r) ? r : undefined;
    });
    assert.match(row, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\n/);
    assert.match(await k("get", "pods", "--no-headers"), /^ds-nginx-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\d+s\n$/);
  });

  it("nodes that join later get a pod each", async () => {
    const t = await runK8ts(["token", "create", "--data-dir", c.dataDir]);
    assert.equal(t.code, 0, t.stderr);
    root = mkdtempSync(join(tmpdir(), "k8ts-ds-sim-"));
    fleet = k8ts([
      "agent",
      ...t.stdout.trim().split(" ").slice(2),
      "--name",
      "sim",
      "--root-dir",
      root,
      "--sim-nodes",
      "3",
    ]);
    await until(
      "4 daemon pods Running",
      async () => {
        const r = await k("get", "ds", "ds-nginx", "--no-headers");
        return /^ds-nginx\s+4\s+4\s+4\s+4\s+4\s/.test(r) ? true : undefined;
      },
      60_000,
    );
    const wide = await k("get", "pods", "-l", "app=ds-nginx", "-o", "wide", "--no-headers");
    const nodes = wide
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/)[6])
      .sort();
    assert.equal(new Set(nodes).size, 4, wide);
  });

  it("seed 001's glusterfs set runs only on nodes labelled storagenode=glusterfs", async () => {
    const yaml = readFileSync(join(FIXTURES, "seeds", "001-glusterfs-daemonset.yaml"), "utf8");
    assert.equal(
      (await c.kubectl(["create", "-f", "-"], { stdin: yaml })).stdout.trim(),
      "daemonset.extensions/glusterfs created",
    );
    await until("DESIRED 0", async () => {
      const r = await k("get", "ds", "glusterfs", "--no-headers");
      return /^glusterfs\s+0\s+0\s+0\s+0\s+0\s+storagenode=glusterfs\s/.test(r) ? true : undefined;
    });
    assert.match(await k("label", "node", "sim-1", "storagenode=glusterfs"), /node\/sim-1 labeled/);
    const pod = await until("a glusterfs pod on sim-1", async () => {
      const r = await k("get", "pods", "-l", "glusterfs-node=pod", "-o", "jsonpath={.items[*].spec.nodeName}");
      return r === "sim-1" ? r : undefined;
    });
    assert.equal(pod, "sim-1");
    await k("delete", "ds", "glusterfs");
  });

  it("extensions/v1beta1 means OnDelete: set image waits for deletes; as RollingUpdate it rolls, with history and undo", async () => {
    assert.equal(await k("get", "ds", "ds-nginx", "-o", "jsonpath={.spec.updateStrategy.type}"), "OnDelete");
    assert.equal(
      await k(
        "get",
        "ds",
        "ds-nginx",
        "-o",
        "jsonpath={.metadata.annotations.deprecated\\.daemonset\\.template\\.generation}",
      ),
      "1",
    );
    const refused = await c.kubectl(["rollout", "status", "ds/ds-nginx"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /rollout status is only available for RollingUpdate strategy type/);
    assert.equal(
      (await k("set", "image", "ds/ds-nginx", "nginx=nginx:1.25")).trim(),
      "daemonset.apps/ds-nginx image updated",
    );
    const images = () => k("get", "pods", "-l", "app=ds-nginx", "-o", "jsonpath={.items[*].spec.containers[0].image}");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await images()).split(" "), ["nginx", "nginx", "nginx", "nginx"]);
    const gens = await k(
      "get",
      "pods",
      "-l",
      "app=ds-nginx",
      "-o",
      "jsonpath={.items[*].metadata.labels.pod-template-generation}",
    );
    assert.deepEqual(gens.split(" "), ["1", "1", "1", "1"]);
    assert.match(
      await k("patch", "ds", "ds-nginx", "-p", '{"spec":{"updateStrategy":{"type":"RollingUpdate"}}}'),
      /daemonset.apps\/ds-nginx patched/,
    );
    const status = await k("rollout", "status", "ds/ds-nginx", "--timeout=60s");
    assert.match(status, /daemon set "ds-nginx" successfully rolled out\n$/);
    assert.deepEqual((await images()).split(" "), ["nginx:1.25", "nginx:1.25", "nginx:1.25", "nginx:1.25"]);
    assert.match(
      await k("rollout", "history", "ds/ds-nginx"),
      /^daemonset\.apps\/ds-nginx \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/,
    );
    assert.equal((await k("rollout", "undo", "ds/ds-nginx")).trim(), "daemonset.apps/ds-nginx rolled back");
    await k("rollout", "status", "ds/ds-nginx", "--timeout=60s");
    assert.equal(await k("get", "ds", "ds-nginx", "-o", "jsonpath={.spec.template.spec.containers[0].image}"), "nginx");
    assert.deepEqual((await images()).split(" "), ["nginx", "nginx", "nginx", "nginx"]);
    assert.match(await k("rollout", "history", "ds/ds-nginx"), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
  });

  it("kubectl delete daemonset ds-nginx takes its pods", async () => {
    assert.equal((await k("delete", "daemonset", "ds-nginx")).trim(), 'daemonset.apps "ds-nginx" deleted');
    await until("pods gone", async () =>
      (await k("get", "pods", "-l", "app=ds-nginx", "-o", "name")).trim() === "" ? true : undefined,
    );
  });
});
