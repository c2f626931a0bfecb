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
});
