import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isRecord, type KObject, rfc3339 } from "../../src/api/types.js";
import { ApiError } from "../../src/apiserver/errors.js";
import type { ApiClient, PatchType, ResourceId, WatchHandle } from "../../src/client/types.js";
import { allocatableOf, type NodeConfig, NodeManager, nodeStatus } from "../../src/kubelet/node.js";

type Rec = Record<string, unknown>;

const T0 = Date.parse("2025-03-01T10:00:00Z");

const cfg: NodeConfig = {
  name: "node-a",
  ip: "192.168.1.10",
  kubeletPort: 10250,
  labels: { zone: "z1" },
  taints: [],
  rootDir: "/tmp",
  containerRuntimeVersion: "sim://0.1.0",
  capacity: { cpu: "4", memory: "16384000Ki", ephemeralStorage: "104857600Ki", pods: "110" },
  simulated: true,
};

function conditionsOf(s: Rec): Rec[] {
  return (s["conditions"] as Rec[]) ?? [];
}

describe("node status (upstream nodestatus setters)", () => {
  it("reports the four kubelet conditions with upstream's reasons and messages, in upstream's order", () => {
    const s = nodeStatus(cfg, undefined, T0);
    assert.deepEqual(
      conditionsOf(s).map((c) => [c["type"], c["status"], c["reason"], c["message"]]),
      [
        ["MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"],
        ["DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"],
        ["PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"],
        ["Ready", "True", "KubeletReady", "kubelet is posting ready status"],
      ],
    );
    for (const c of conditionsOf(s)) {
      assert.equal(c["lastHeartbeatTime"], rfc3339(T0));
      assert.equal(c["lastTransitionTime"], rfc3339(T0));
    }
  });

  it("keeps transition times while the status holds; the heartbeat moves", () => {
    const first = nodeStatus(cfg, undefined, T0);
    const later = nodeStatus(cfg, first, T0 + 10_000);
    for (const c of conditionsOf(later)) {
      assert.equal(c["lastTransitionTime"], rfc3339(T0));
      assert.equal(c["lastHeartbeatTime"], rfc3339(T0 + 10_000));
    }
  });

  it("moves the transition time when the node lifecycle controller had marked the node Unknown", () => {
    const first = nodeStatus(cfg, undefined, T0);
    const unknown = {
      ...first,
      conditions: conditionsOf(first).map((c) =>
        c["type"] === "Ready"
          ? { ...c, status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." }
          : c,
      ),
    };
    const back = nodeStatus(cfg, unknown, T0 + 60_000);
    const ready = conditionsOf(back).find((c) => c["type"] === "Ready")!;
    assert.equal(ready["status"], "True");
    assert.equal(ready["reason"], "KubeletReady");
    assert.equal(ready["lastTransitionTime"], rfc3339(T0 + 60_000));
    const mem = conditionsOf(back).find((c) => c["type"] === "MemoryPressure")!;
    assert.equal(mem["lastTransitionTime"], rfc3339(T0));
  });

  it("keeps conditions other components own", () => {
    const net = {
      type: "NetworkUnavailable",
      status: "False",
      reason: "RouteCreated",
      message: "RouteController created a route",
      lastHeartbeatTime: rfc3339(T0),
      lastTransitionTime: rfc3339(T0),
    };
    const s = nodeStatus(cfg, { conditions: [net, ...conditionsOf(nodeStatus(cfg, undefined, T0))] }, T0 + 10_000);
    assert.deepEqual(
      conditionsOf(s).find((c) => c["type"] === "NetworkUnavailable"),
      net,
    );
    assert.equal(conditionsOf(s).length, 5);
  });

  it("capacity as configured, allocatable less the default eviction thresholds, addresses and endpoints", () => {
    const s = nodeStatus(cfg, undefined, T0);
    assert.deepEqual(s["capacity"], {
      cpu: "4",
      memory: "16384000Ki",
      "ephemeral-storage": "104857600Ki",
      pods: "110",
      "hugepages-1Gi": "0",
      "hugepages-2Mi": "0",
    });
    assert.deepEqual(s["allocatable"], {
      cpu: "4",
      memory: "16281600Ki",
      "ephemeral-storage": "96636764160",
      pods: "110",
      "hugepages-1Gi": "0",
      "hugepages-2Mi": "0",
    });
    assert.deepEqual(s["addresses"], [
      { type: "InternalIP", address: "192.168.1.10" },
      { type: "Hostname", address: "node-a" },
    ]);
    assert.deepEqual(s["daemonEndpoints"], { kubeletEndpoint: { Port: 10250 } });
    const info = s["nodeInfo"] as Rec;
    assert.equal(info["containerRuntimeVersion"], "sim://0.1.0");
    assert.equal(info["operatingSystem"], "linux");
    assert.equal(info["machineID"], "node-a", "a simulated node names itself");
  });

  const alloc: Array<[string, { memory: string; ephemeralStorage: string }, string, string]> = [
    [
      "memory less 100Mi, storage less 10%",
      { memory: "16384000Ki", ephemeralStorage: "104857600Ki" },
      "16281600Ki",
      "96636764160",
    ],
    ["capacity in Gi is understood", { memory: "8Gi", ephemeralStorage: "100Gi" }, "8286208Ki", "96636764160"],
    [
      "storage keeps capacity minus int64(10%), as upstream rounds",
      { memory: "1Gi", ephemeralStorage: "1049601" },
      "946176Ki",
      "944641",
    ],
    ["memory below 100Mi is 0", { memory: "50Mi", ephemeralStorage: "0" }, "0", "0"],
  ];
  for (const [name, c, mem, eph] of alloc) {
    it(`allocatable: ${name}`, () => {
      const a = allocatableOf({ cpu: "2", pods: "110", ...c });
      assert.equal(a["memory"], mem);
      assert.equal(a["ephemeral-storage"], eph);
    });
  }
});

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Rec = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** An ApiClient over an in-memory store of nodes and leases, recording the writes. */
class FakeClient implements ApiClient {
  readonly identity = "system:node:node-a";
  readonly objects = new Map<string, KObject>();
  readonly writes: Array<{ verb: string; plural: string; subresource?: string; body: unknown }> = [];
  private uid = 0;

  private key(r: ResourceId, ns: string | undefined, name: string): string {
    return `${r.plural}/${ns ?? ""}/${name}`;
  }

  async get(r: ResourceId, ns: string | undefined, name: string): Promise<KObject> {
    const o = this.objects.get(this.key(r, ns, name));
    if (!o) throw new ApiError(404, "NotFound", `${r.plural} "${name}" not found`);
    return structuredClone(o);
  }
  async list(): Promise<{ items: KObject[]; resourceVersion: string }> {
    return { items: [], resourceVersion: "1" };
  }
  watch(): WatchHandle {
    throw new Error("not used");
  }
  async create(r: ResourceId, ns: string | undefined, obj: KObject): Promise<KObject> {
    const k = this.key(r, ns, obj.metadata.name ?? "");
    if (this.objects.has(k))
      throw new ApiError(409, "AlreadyExists", `${r.plural} "${obj.metadata.name}" already exists`);
    const stored = structuredClone({ ...obj, metadata: { ...obj.metadata, uid: `uid-${++this.uid}` } });
    this.objects.set(k, stored);
    this.writes.push({ verb: "create", plural: r.plural, body: obj });
    return structuredClone(stored);
  }
  async update(): Promise<KObject> {
    throw new Error("not used");
  }
  async patch(
    r: ResourceId,
    ns: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts?: { subresource?: string },
  ): Promise<KObject> {
    assert.equal(type, "merge");
    const k = this.key(r, ns, name);
    const o = this.objects.get(k);
    if (!o) throw new ApiError(404, "NotFound", `${r.plural} "${name}" not found`);
    const next = mergePatch(o, body) as KObject;
    this.objects.set(k, next);
    this.writes.push({ verb: "patch", plural: r.plural, subresource: opts?.subresource, body });
    return structuredClone(next);
  }
  async delete(r: ResourceId, ns: string | undefined, name: string): Promise<void> {
    this.objects.delete(this.key(r, ns, name));
  }
  async raw(): Promise<{ code: number; body: string }> {
    return { code: 404, body: "" };
  }
  close(): void {}

  statusPatches(): number {
    return this.writes.filter((w) => w.plural === "nodes" && w.subresource === "status").length;
  }
  node(): KObject {
    return this.objects.get("nodes//node-a")!;
  }
}

function manager(client: FakeClient, clock: { t: number }) {
  return new NodeManager(client, cfg, { now: () => clock.t, reportMs: 5 * 60_000 });
}

describe("NodeManager", () => {
  it("registers the Node with its labels, posts its status and creates its Lease", async () => {
    const client = new FakeClient();
    const clock = { t: T0 };
    const m = manager(client, clock);
    await m.register();
    const node = client.node();
    assert.equal(node.metadata.labels?.["kubernetes.io/hostname"], "node-a");
    assert.equal(node.metadata.labels?.["zone"], "z1");
    assert.equal(conditionsOf(node["status"] as Rec).length, 4);
    const lease = client.objects.get("leases/kube-node-lease/node-a")!;
    assert.equal((lease["spec"] as Rec)["holderIdentity"], "node-a");
    assert.equal((lease["spec"] as Rec)["leaseDurationSeconds"], 40);
    assert.deepEqual(lease.metadata.ownerReferences, [
      { apiVersion: "v1", kind: "Node", name: "node-a", uid: node.metadata.uid },
    ]);
  });

  it("does not post a status that differs only in heartbeats, but renews the lease every round", async () => {
    const client = new FakeClient();
    const clock = { t: T0 };
    const m = manager(client, clock);
    await m.register();
    const posted = client.statusPatches();
    const leases = client.writes.filter((w) => w.plural === "leases").length;
    for (let i = 1; i <= 3; i++) {
      clock.t = T0 + i * 10_000;
      await m.tick();
    }
    assert.equal(client.statusPatches(), posted);
    assert.equal(client.writes.filter((w) => w.plural === "leases").length, leases + 3);
  });

  it("posts the status at least every 5 minutes even when unchanged", async () => {
    const client = new FakeClient();
    const clock = { t: T0 };
    const m = manager(client, clock);
    await m.register();
    const posted = client.statusPatches();
    clock.t = T0 + 5 * 60_000;
    await m.tick();
    assert.equal(client.statusPatches(), posted + 1);
    const ready = conditionsOf(client.node()["status"] as Rec).find((c) => c["type"] === "Ready")!;
    assert.equal(ready["lastHeartbeatTime"], rfc3339(T0 + 5 * 60_000));
    assert.equal(ready["lastTransitionTime"], rfc3339(T0));
  });

  it("posts at once when the server's status differs (the controller marked it Unknown)", async () => {
    const client = new FakeClient();
    const clock = { t: T0 };
    const m = manager(client, clock);
    await m.register();
    const node = client.node();
    const st = node["status"] as Rec;
    st["conditions"] = conditionsOf(st).map((c) => (c["type"] === "Ready" ? { ...c, status: "Unknown" } : c));
    const posted = client.statusPatches();
    clock.t = T0 + 50_000;
    await m.tick();
    assert.equal(client.statusPatches(), posted + 1);
    const ready = conditionsOf(client.node()["status"] as Rec).find((c) => c["type"] === "Ready")!;
    assert.equal(ready["status"], "True");
    assert.equal(ready["lastTransitionTime"], rfc3339(T0 + 50_000));
  });

  it("keeps another component's node condition through its status posts", async () => {
    const client = new FakeClient();
    const clock = { t: T0 };
    const m = manager(client, clock);
    await m.register();
    const st = client.node()["status"] as Rec;
    const net = { type: "NetworkUnavailable", status: "False", reason: "RouteCreated", message: "ok" };
    st["conditions"] = [...conditionsOf(st), net];
    const posted = client.statusPatches();
    clock.t = T0 + 10_000;
    await m.tick();
    assert.equal(client.statusPatches(), posted, "an extra condition is no change of ours");
    clock.t = T0 + 5 * 60_000;
    await m.tick();
    assert.deepEqual(
      conditionsOf(client.node()["status"] as Rec).find((c) => c["type"] === "NetworkUnavailable"),
      net,
    );
  });

  it("registers again when its Node was deleted", async () => {
    const client = new FakeClient();
    const clock = { t: T0 };
    const m = manager(client, clock);
    await m.register();
    client.objects.delete("nodes//node-a");
    clock.t = T0 + 10_000;
    await m.tick();
    assert.ok(client.objects.has("nodes//node-a"));
    assert.equal(conditionsOf(client.node()["status"] as Rec).length, 4);
  });

  it("takes over an existing Node of its name, keeping its spec and refreshing its labels", async () => {
    const client = new FakeClient();
    await client.create({ group: "", version: "v1", plural: "nodes", namespaced: false }, undefined, {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-a", labels: { old: "x" } },
      spec: { unschedulable: true },
    });
    const m = manager(client, { t: T0 });
    await m.register();
    const node = client.node();
    assert.deepEqual(node["spec"], { unschedulable: true });
    assert.equal(node.metadata.labels?.["old"], "x");
    assert.equal(node.metadata.labels?.["zone"], "z1");
  });
});
