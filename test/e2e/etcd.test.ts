/**
 * The API on etcd (Debian's etcd-server on a loopback port), with two API servers sharing it:
 * what one server writes, the other reads and streams to its watchers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EtcdProcess, etcdSkipReason, startEtcd } from "../store/etcd-process.js";
import { type KubectlResult, kubectlBinary, startCluster, type TestCluster } from "./harness.js";
import { spawnKubectl } from "./support.js";

const skip = etcdSkipReason() ?? (kubectlBinary() ? undefined : "kubectl is not installed");

describe("two API servers on one etcd", { skip: skip ?? false }, () => {
  let etcd: EtcdProcess;
  let a: TestCluster;
  let b: TestCluster;
  const ok = (r: KubectlResult) => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    etcd = await startEtcd();
    a = await startCluster({ store: "etcd", etcdEndpoints: [etcd.endpoint] });
    b = await startCluster({ store: "etcd", etcdEndpoints: [etcd.endpoint] });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await etcd?.stop();
  });

  it("both list the system namespaces", async () => {
    for (const c of [a, b]) assert.match(ok(await c.kubectl(["get", "ns"])), /^kube-system\s+Active/m);
  });

  it("an object created through one server is read through the other at once", async () => {
    ok(await a.kubectl(["create", "namespace", "ha"]));
    ok(await a.kubectl(["create", "configmap", "shared", "-n", "ha", "--from-literal=k=v"]));
    assert.equal(ok(await b.kubectl(["get", "configmap", "shared", "-n", "ha", "-o", "jsonpath={.data.k}"])), "v");
  });

  it("a watch on one server streams writes made through the other", async () => {
    const watch = spawnKubectl(b, ["get", "configmaps", "-n", "ha", "-w", "--output-watch-events"]);
    try {
      await watch.waitFor(/^ADDED\s+shared\s/m);
      ok(await a.kubectl(["create", "configmap", "second", "-n", "ha"]));
      await watch.waitFor(/^ADDED\s+second\s/m);
      ok(await a.kubectl(["delete", "configmap", "second", "-n", "ha"]));
      await watch.waitFor(/^DELETED\s+second\s/m);
    } finally {
      watch.stop();
    }
  });

  it("one server leads the controllers; when it stops, the other takes over", async () => {
    const leaders = () => [a, b].filter((c) => c.server.elector.isLeader).length;
    for (let i = 0; i < 100 && leaders() !== 1; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(leaders(), 1);
    const leader = a.server.elector.isLeader ? a : b;
    const other = leader === a ? b : a;
    await leader.server.elector.stop();
    for (let i = 0; i < 100 && !other.server.elector.isLeader; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(other.server.elector.isLeader, true);
  });

  it("optimistic concurrency holds across servers", async () => {
    const rv = ok(
      await a.kubectl(["get", "configmap", "shared", "-n", "ha", "-o", "jsonpath={.metadata.resourceVersion}"]),
    );
    ok(await b.kubectl(["label", "configmap", "shared", "-n", "ha", "x=y"]));
    const stale = JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "shared", namespace: "ha", resourceVersion: rv },
      data: { k: "stale" },
    });
    const r = await a.kubectl(["replace", "-f", "-"], { stdin: stale });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /Operation cannot be fulfilled on configmaps "shared": the object has been modified; please apply your changes to the latest version and try again/,
    );
  });
});
