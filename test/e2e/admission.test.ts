/** Admission plug-ins that shape new pods as upstream's do: Priority and DefaultTolerationSeconds. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, clientFor } from "./client.js";
import { startCluster, type TestCluster } from "./harness.js";

const pod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { containers: [{ name: "c", image: "busybox" }], ...spec },
});

describe("pod admission", () => {
  let cluster: TestCluster;
  let client: Client;
  const create = async (body: unknown) => {
    const r = await client.call("POST", "/api/v1/namespaces/default/pods", body);
    return { code: r.code, obj: JSON.parse(r.body) as Record<string, Record<string, unknown>> };
  };
  before(async () => {
    cluster = await startCluster({ store: "memory" });
    client = clientFor(cluster.kubeconfig);
  });
  after(async () => {
    client?.agent.destroy();
    await cluster?.stop();
  });

  it("gives a pod without a class priority 0 and PreemptLowerPriority", async () => {
    const { code, obj } = await create(pod("plain"));
    assert.equal(code, 201);
    assert.equal(obj["spec"]?.["priority"], 0);
    assert.equal(obj["spec"]?.["preemptionPolicy"], "PreemptLowerPriority");
  });

  it("takes the priority from the system-node-critical class", async () => {
    const { code, obj } = await create(pod("critical", { priorityClassName: "system-node-critical" }));
    assert.equal(code, 201);
    assert.equal(obj["spec"]?.["priority"], 2000001000);
  });

  it("refuses a class that does not exist", async () => {
    const { code, obj } = await create(pod("nope", { priorityClassName: "gold" }));
    assert.equal(code, 403);
    assert.equal(obj["message"] as unknown, 'pods "nope" is forbidden: no PriorityClass with name gold was found');
  });

  it("adds the 300 s not-ready and unreachable tolerations, and keeps a pod's own", async () => {
    const { obj } = await create(pod("tolerant"));
    assert.deepEqual(obj["spec"]?.["tolerations"], [
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]);
    const own = {
      key: "node.kubernetes.io/unreachable",
      operator: "Exists",
      effect: "NoExecute",
      tolerationSeconds: 5,
    };
    const second = await create(pod("own", { tolerations: [own] }));
    assert.deepEqual(second.obj["spec"]?.["tolerations"], [
      own,
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]);
  });

  it("binds a pod to a node once, through pods/binding and the bindings resource", async () => {
    await create(pod("bind-a"));
    await create(pod("bind-b"));
    const binding = (name: string, node: string) => ({
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name },
      target: { apiVersion: "v1", kind: "Node", name: node },
    });
    assert.equal(
      (await client.call("POST", "/api/v1/namespaces/default/pods/bind-a/binding", binding("bind-a", "n1"))).code,
      201,
    );
    assert.equal((await client.call("POST", "/api/v1/namespaces/default/bindings", binding("bind-b", "n2"))).code, 201);
    const a = JSON.parse((await client.call("GET", "/api/v1/namespaces/default/pods/bind-a")).body) as {
      spec: { nodeName: string };
      status: { conditions: Array<{ type: string; status: string }> };
    };
    assert.equal(a.spec.nodeName, "n1");
    assert.deepEqual(
      a.status.conditions.map((c) => [c.type, c.status]),
      [["PodScheduled", "True"]],
    );
    const b = JSON.parse((await client.call("GET", "/api/v1/namespaces/default/pods/bind-b")).body) as {
      spec: { nodeName: string };
    };
    assert.equal(b.spec.nodeName, "n2");
    const again = await client.call("POST", "/api/v1/namespaces/default/pods/bind-a/binding", binding("bind-a", "n2"));
    assert.equal(again.code, 409);
    assert.match(JSON.parse(again.body).message as string, /pod bind-a is already assigned to node "n1"/);
  });

  it("evicts a pod only while its PodDisruptionBudget allows it, as upstream's eviction subresource", async () => {
    const running = async (name: string, ready: boolean) => {
      await create({ ...pod(name), metadata: { name, labels: { app: "guarded" } } });
      const cur = JSON.parse((await client.call("GET", `/api/v1/namespaces/default/pods/${name}`)).body) as Record<
        string,
        unknown
      >;
      cur["status"] = {
        ...(cur["status"] as object),
        phase: "Running",
        conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      };
      assert.equal((await client.call("PUT", `/api/v1/namespaces/default/pods/${name}/status`, cur)).code, 200);
    };
    const evict = (name: string) =>
      client.call("POST", `/api/v1/namespaces/default/pods/${name}/eviction`, {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name, namespace: "default" },
      });
    const budget = async (want: (s: Record<string, unknown>) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const pdb = JSON.parse(
          (await client.call("GET", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/budget")).body,
        ) as { status?: Record<string, unknown> };
        if (pdb.status && want(pdb.status)) return pdb.status;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("the disruption controller never brought the budget's status there");
    };
    await running("guarded-1", true);
    await running("guarded-2", true);
    await client.call("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "budget" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "guarded" } } },
    });
    await budget((s) => s["observedGeneration"] === 1 && s["disruptionsAllowed"] === 1);
    assert.equal((await evict("guarded-1")).code, 201);
    assert.equal((await client.call("GET", "/api/v1/namespaces/default/pods/guarded-1")).code, 404);
    await budget((s) => s["currentHealthy"] === 1 && s["disruptionsAllowed"] === 0);
    const refused = await evict("guarded-2");
    assert.equal(refused.code, 429);
    const body = JSON.parse(refused.body) as { message: string; details: { causes: Array<{ message: string }> } };
    assert.equal(body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(
      body.details.causes[0]?.message,
      "The disruption budget budget needs 1 healthy pods and has 1 currently",
    );
    assert.equal((await client.call("GET", "/api/v1/namespaces/default/pods/guarded-2")).code, 200);
    // a pod that is not Ready goes without using the budget while the budget is met (IfHealthyBudget)
    await running("guarded-3", false);
    await budget((s) => s["expectedPods"] === 2);
    assert.equal((await evict("guarded-3")).code, 201);
    assert.equal((await client.call("GET", "/api/v1/namespaces/default/pods/guarded-3")).code, 404);
  });
});
