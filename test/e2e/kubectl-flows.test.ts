/**
 * More user flows with the real kubectl: describe across kinds, diff, kustomize, autoscale,
 * expose, service account tokens and the auth subcommands.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type KubectlResult, startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, show } from "./support.js";

describe("kubectl flows", { skip: kubectlSkip() }, () => {
  let cluster: TestCluster;
  const ok = async (args: string[], stdin?: string): Promise<string> => {
    const r: KubectlResult = await cluster.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, show(r));
    return r.stdout;
  };
  before(async () => {
    cluster = await startCluster({ store: "memory" });
  });
  after(async () => {
    await cluster?.stop();
  });

  it("describes objects of many kinds", async () => {
    await ok(["create", "deployment", "d", "--image=nginx"]);
    await ok(["create", "role", "r", "--verb=get", "--resource=pods"]);
    await ok(["create", "rolebinding", "rb", "--role=r", "--user=u"]);
    await ok(["create", "clusterrole", "cr", "--verb=get", "--resource=pods"]);
    await ok(["create", "priorityclass", "pc", "--value=10"]);
    await ok(["create", "secret", "generic", "s", "--from-literal=a=b"]);
    await ok(["create", "configmap", "c", "--from-literal=a=b"]);
    await ok(["create", "service", "clusterip", "svc", "--tcp=80:80"]);
    await ok(["create", "poddisruptionbudget", "pdb", "--selector=a=b", "--min-available=1"]);
    await ok(["create", "cronjob", "cj", "--image=busybox", "--schedule=*/1 * * * *", "--", "echo", "hi"]);
    await ok(["create", "job", "j", "--from=cronjob/cj"]);
    await ok(["create", "ingress", "ing", "--rule=foo.com/bar=svc:80"]);
    for (const r of [
      "ns/default",
      "deploy/d",
      "role/r",
      "rolebinding/rb",
      "clusterrole/cr",
      "pc/pc",
      "secret/s",
      "cm/c",
      "svc/svc",
      "pdb/pdb",
      "cronjob/cj",
      "job/j",
      "ing/ing",
      "sa/default",
      "ep/kubernetes",
    ]) {
      const out = await ok(["describe", r]);
      assert.match(out, /^Name:\s+\S+/m, `${r}:\n${out}`);
    }
  });

  it("diff shows the change a server-side dry run would make", async () => {
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffed\ndata:\n  k: ${v}\n`;
    await ok(["apply", "-f", "-"], cm("one"));
    const r = await cluster.kubectl(["diff", "-f", "-"], { stdin: cm("two") });
    assert.equal(r.code, 1, show(r)); // kubectl diff exits 1 when there are differences
    assert.match(r.stdout, /^-\s+k: one$/m);
    assert.match(r.stdout, /^\+\s+k: two$/m);
    assert.doesNotMatch(r.stdout, /resourceVersion/);
  });

  it("applies a kustomization with a generated ConfigMap", async () => {
    const dir = join(cluster.dataDir, "kz");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "kustomization.yaml"), "configMapGenerator:\n- name: gen\n  literals: [a=b]\n");
    assert.match(await ok(["apply", "-k", dir]), /^configmap\/gen-[a-z0-9]{10} created$/m);
  });

  it("autoscales and exposes a deployment", async () => {
    await ok(["create", "deployment", "php", "--image=nginx"]);
    assert.equal(
      await ok(["autoscale", "deployment", "php", "--cpu-percent=50", "--min=1", "--max=10"]),
      "horizontalpodautoscaler.autoscaling/php autoscaled\n",
    );
    assert.match(await ok(["get", "hpa", "php"]), /^php\s+Deployment\/php\s+cpu: <unknown>\/50%\s+1\s+10\s+0\s+/m);
    assert.equal(
      await ok(["expose", "deployment", "php", "--type=LoadBalancer", "--port=80"]),
      "service/php exposed\n",
    );
    assert.match(
      await ok(["get", "svc", "php"]),
      /^php\s+LoadBalancer\s+10\.43\.\d+\.\d+\s+<pending>\s+80:3\d{4}\/TCP\s+/m,
    );
  });

  it("creates service account tokens and answers auth can-i and whoami", async () => {
    const token = (await ok(["create", "token", "default"])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(await ok(["auth", "can-i", "create", "pods"]), "yes\n");
    assert.match(await ok(["auth", "whoami"]), /^Username\s+system:admin$/m);
    const asSa = await cluster.kubectl(["--token", token, "auth", "whoami"]);
    assert.equal(asSa.code, 0, show(asSa));
    assert.match(asSa.stdout, /^Username\s+system:serviceaccount:default:default$/m);
  });
});
