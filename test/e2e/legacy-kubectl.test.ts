/**
 * The seeds were written for old clusters: Debian's kubectl 1.20 (client-go 1.20: /openapi/v2 as
 * protobuf for client-side validation, plain discovery) must work too, on the removed API versions.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { legacyKubectlBinary, startCluster, type TestCluster } from "./harness.js";

const bin = legacyKubectlBinary();
const fixture = (name: string) => new URL(`../../../test/fixtures/seeds/${name}`, import.meta.url).pathname;

describe("kubectl 1.20 against k8ts", {
  skip: bin ? false : "Debian's kubectl 1.20 is not unpacked (.ci/run does it)",
}, () => {
  let cluster: TestCluster;
  const k = (args: string[]) => cluster.kubectl(args, { bin });
  before(async () => {
    // the seeds make their own `standard` classes (minikube's, AWS's): no default class of ours in the way
    cluster = await startCluster({ store: "memory", defaultStorageClass: false });
  });
  after(async () => {
    await cluster?.stop();
  });

  it("lists the system namespaces", async () => {
    const r = await k(["get", "ns"]);
    assert.equal(r.code, 0, r.stderr);
    for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"])
      assert.match(r.stdout, new RegExp(`^${ns}\\s+Active`, "m"));
  });

  it("validates every seed manifest client-side and creates it with a server-side dry run", async () => {
    for (const ns of ["tutorial", "test-pvc"]) await k(["create", "namespace", ns]);
    const dir = new URL("../../../test/fixtures/seeds/", import.meta.url).pathname;
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    assert.ok(files.length >= 30);
    for (const f of files) {
      const r = await k(["create", "--dry-run=server", "-f", join(dir, f)]);
      assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    }
  });

  for (const [file, kind, name, ns] of [
    ["001-glusterfs-daemonset.yaml", "daemonset", "glusterfs", "default"],
    ["001-heketi-deployment-svc.yaml", "deployment", "deploy-heketi", "default"],
    ["003-mysqltest-statefulset.yaml", "statefulset", "mysqltest", "kube-system"],
  ] as const) {
    it(`validates and creates ${file} (a removed API version) with client-side validation on`, async () => {
      const r = await k(["create", "-f", fixture(file)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /is deprecated in v1\.\d+\+, unavailable in v1\.\d+\+/);
      const got = await k(["get", kind, name, "-n", ns]);
      assert.equal(got.code, 0, got.stderr);
      assert.match(got.stdout, new RegExp(`^${name}\\s`, "m"));
      const applied = await k(["apply", "-f", fixture(file)]);
      assert.equal(applied.code, 0, applied.stderr);
    });
  }

  it("explains a field from the protobuf /openapi/v2", async () => {
    const r = await k(["explain", "job.spec.completions"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /FIELD:\s+completions <integer>/);
  });

  it("creates a namespace and a deployment with the typed client", async () => {
    assert.equal((await k(["create", "namespace", "legacy"])).code, 0);
    const r = await k(["create", "deployment", "web", "--image=nginx", "-n", "legacy"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match((await k(["get", "deploy", "-n", "legacy"])).stdout, /^web\s+0\/1/m);
  });
});
