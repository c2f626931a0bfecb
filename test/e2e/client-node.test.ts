/**
 * The official JavaScript client against the server: kubeconfig loading, typed calls, and a
 * list+watch informer that must see every add, update and delete, in order.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type Informer, KubeConfig, makeInformer, type V1ConfigMap } from "@kubernetes/client-node";
import { startCluster, type TestCluster } from "./harness.js";

const NS = "informers";

const COUNT = 20;
const names = Array.from({ length: COUNT }, (_, i) => `cm-${String(i).padStart(2, "0")}`);

/**
 * Starts an informer without waiting for `start()` (a test below checks start() on its own: it
 * resolves once the watch response headers arrive).
 * The returned promise never rejects, so it can be awaited after stop().
 */
function launch(informer: Informer<V1ConfigMap>): Promise<void> {
  return informer.start().catch(() => undefined);
}

/** Resolves once `cond()` holds; rejects with `describeState()` after `timeoutMs`. */
async function eventually(cond: () => boolean, describeState: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out; state:\n${describeState()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("@kubernetes/client-node", () => {
  let cluster: TestCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;

  before(async () => {
    cluster = await startCluster();
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await cluster?.stop();
  });

  it("loads the kubeconfig the server wrote and reads the system namespaces", async () => {
    assert.equal(kc.getCurrentCluster()?.server, cluster.server.url);
    const list = await core.listNamespace();
    const got = list.items.map((n) => n.metadata?.name).sort();
    for (const ns of ["default", "kube-node-lease", "kube-public", "kube-system"])
      assert.ok(got.includes(ns), `${got}`);
    const created = await core.createNamespace({
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    });
    assert.equal(created.metadata?.name, NS);
    assert.equal(created.status?.phase, "Active");
  });

  it(`an informer on configmaps sees the add, update and delete of ${COUNT} configmaps in order`, async () => {
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    const events: string[] = [];
    const errors: unknown[] = [];
    const record = (verb: string) => (cm: V1ConfigMap) => {
      const name = cm.metadata?.name ?? "";
      if (name.startsWith("cm-")) events.push(`${verb} ${name} ${cm.data?.["v"] ?? ""}`);
    };
    informer.on("add", record("add"));
    informer.on("update", record("update"));
    informer.on("delete", record("delete"));
    informer.on("error", (err) => errors.push(err));
    const started = launch(informer);
    try {
      for (const name of names) {
        await core.createNamespacedConfigMap({
          namespace: NS,
          body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { v: "1" } },
        });
      }
      await eventually(
        () => informer.list(NS).filter((c) => c.metadata?.name?.startsWith("cm-")).length === COUNT,
        () => events.join("\n"),
      );
      for (const name of names) {
        const current = await core.readNamespacedConfigMap({ name, namespace: NS });
        await core.replaceNamespacedConfigMap({ name, namespace: NS, body: { ...current, data: { v: "2" } } });
      }
      for (const name of names) {
        await core.deleteNamespacedConfigMap({ name, namespace: NS });
      }
      const expected = [
        ...names.map((n) => `add ${n} 1`),
        ...names.map((n) => `update ${n} 2`),
        ...names.map((n) => `delete ${n} 2`),
      ];
      await eventually(
        () => events.length >= expected.length,
        () => events.join("\n"),
      );
      assert.deepEqual(events, expected);
      assert.deepEqual(errors, []);
      assert.equal(informer.list(NS).filter((c) => c.metadata?.name?.startsWith("cm-")).length, 0);
    } finally {
      await informer.stop();
      await started;
    }
  });

  it("an informer started after objects exist lists them as adds, then watches from there", async () => {
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "before" }, data: { v: "0" } },
    });
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    const events: string[] = [];
    informer.on("add", (cm) => events.push(`add ${cm.metadata?.name}`));
    informer.on("delete", (cm) => events.push(`delete ${cm.metadata?.name}`));
    const started = launch(informer);
    try {
      await eventually(
        () => events.includes("add before"),
        () => events.join("\n"),
      );
      await core.createNamespacedConfigMap({
        namespace: NS,
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after" } },
      });
      await core.deleteNamespacedConfigMap({ name: "before", namespace: NS });
      await eventually(
        () => events.includes("delete before"),
        () => events.join("\n"),
      );
      assert.deepEqual(
        events.filter((e) => /(before|after)$/.test(e)),
        ["add before", "add after", "delete before"],
      );
    } finally {
      await informer.stop();
      await started;
    }
  });

  it("informer.start() resolves once the list is done and the watch is open", {}, async () => {
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("start() still pending after 5s"), 5_000);
    });
    try {
      assert.equal(await Promise.race([informer.start().then(() => "started"), timeout]), "started");
    } finally {
      clearTimeout(timer);
      await informer.stop();
    }
  });

  it("a replace without resourceVersion is an unconditional update for configmaps", {}, async () => {
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "plain" }, data: { v: "1" } },
    });
    const cm = await core.replaceNamespacedConfigMap({
      name: "plain",
      namespace: NS,
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "plain", namespace: NS }, data: { v: "2" } },
    });
    assert.deepEqual(cm.data, { v: "2" });
  });

  it("a typed create whose body has no apiVersion/kind is accepted, as upstream defaults them from the URL", {}, async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "bare" } } });
    assert.equal(cm.kind, "ConfigMap");
    assert.equal(cm.apiVersion, "v1");
    assert.equal(cm.metadata?.name, "bare");
  });

  it("a 404 from a typed call carries the Status from the server", async () => {
    await assert.rejects(core.readNamespacedConfigMap({ name: "nope", namespace: NS }), (err: unknown) => {
      const e = err as { code?: number; body?: unknown };
      assert.equal(e.code, 404);
      const body = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
      assert.equal(body.kind, "Status");
      assert.equal(body.reason, "NotFound");
      assert.equal(body.message, 'configmaps "nope" not found');
      return true;
    });
  });
});
