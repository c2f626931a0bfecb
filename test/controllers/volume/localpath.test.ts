/**
 * k8ts.io/local-path, server side: directory naming, capacity accounting and node choice by
 * table, and the provisioner under a ProvisionController on a live registry (node choice, refusal
 * for lack of room, deletion left to the node unless the node is gone).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ANN_LOCAL_PATH_ROOT,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  LOCAL_PATH_PROVISIONER,
  PROVISIONER_DELETION_FINALIZER,
} from "../../../src/api/storage.js";
import type { KObject } from "../../../src/api/types.js";
import {
  canGrow,
  chooseNode,
  fitRefusal,
  hostnameAffinity,
  LocalPathProvisioner,
  LocalPathUsage,
  localPathDir,
  volumeHost,
} from "../../../src/controllers/volume/localpath/index.js";
import { ProvisionController } from "../../../src/controllers/volume/provisioner/index.js";
import { liveRegistry, until } from "../support.js";
import { eventWith, makeClaim, makeClass, makeNode, resources, setPhase, settle } from "./provisioner-support.js";

const GI = 1024n ** 3n;
const ROOT = "/var/lib/k8ts/local-path";

function node(
  name: string,
  o: {
    gi?: number;
    ready?: boolean;
    unschedulable?: boolean;
    taint?: string;
    root?: string | null;
    hostname?: string;
  } = {},
): KObject {
  return {
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": o.hostname ?? name },
      annotations: o.root === null ? {} : { [ANN_LOCAL_PATH_ROOT]: o.root ?? ROOT },
    },
    spec: {
      ...(o.unschedulable ? { unschedulable: true } : {}),
      ...(o.taint ? { taints: [{ key: "k", effect: o.taint }] } : {}),
    },
    status: {
      capacity: { "ephemeral-storage": `${o.gi ?? 100}Gi` },
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  };
}

function localPV(name: string, host: string, storage: string, provisioner = LOCAL_PATH_PROVISIONER): KObject {
  return {
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: provisioner } },
    spec: {
      capacity: { storage },
      local: { path: `${ROOT}/${name}_default_c` },
      nodeAffinity: hostnameAffinity(host),
      claimRef: { namespace: "default", name: "c" },
    },
  };
}

describe("local-path accounting and placement", () => {
  it("a volume's directory is <root>/<pv>_<namespace>_<claim> (rancher's naming)", () => {
    const pv = localPV("pvc-u1", "n1", "1Gi");
    (pv["spec"] as Record<string, unknown>)["claimRef"] = { namespace: "shop", name: "data" };
    assert.equal(localPathDir(`${ROOT}/`, pv), `${ROOT}/pvc-u1_shop_data`);
    assert.equal(volumeHost(pv), "n1");
  });

  it("usage across many volumes: adds, resizes, moves, deletes; other provisioners' volumes do not count", () => {
    const usage = new LocalPathUsage();
    for (let i = 0; i < 300; i++) usage.observe(localPV(`pv-${i}`, `n${i % 3}`, "1Gi"), false);
    assert.equal(usage.used("n0"), 100n * GI);
    assert.equal(usage.used("n1"), 100n * GI);
    // a resize and a repeat of the same object
    usage.observe(localPV("pv-0", "n0", "11Gi"), false);
    usage.observe(localPV("pv-0", "n0", "11Gi"), false);
    assert.equal(usage.used("n0"), 110n * GI);
    for (let i = 0; i < 300; i += 3) usage.observe(localPV(`pv-${i}`, "n0", "1Gi"), true);
    assert.equal(usage.used("n0"), 0n);
    assert.deepEqual(usage.volumesOn("n0"), []);
    usage.observe(localPV("nfs-1", "n1", "500Gi", "k8s-sigs.io/nfs-subdir-external-provisioner"), false);
    assert.equal(usage.used("n1"), 100n * GI);
    assert.equal(usage.volumesOn("n2").length, 100);
  });

  it("free space: the node's ephemeral-storage less its volumes; the refusal names both sizes", () => {
    const usage = new LocalPathUsage();
    usage.observe(localPV("a", "n1", "90Gi"), false);
    assert.equal(usage.free(node("n1")), 10n * GI);
    assert.equal(fitRefusal(node("n1"), 10n * GI, usage), undefined);
    assert.equal(
      fitRefusal(node("n1"), 20n * GI, usage),
      'node "n1" has 10Gi of local-path capacity left, the claim asks for 20Gi',
    );
    const bare = node("n2");
    bare["status"] = {};
    assert.match(fitRefusal(bare, 1n, usage) ?? "", /reports no ephemeral-storage capacity/);
  });

  const choices: Array<[string, KObject[], bigint, string]> = [
    ["the node with the most room", [node("a", { gi: 50 }), node("b", { gi: 80 }), node("c", { gi: 60 })], GI, "b"],
    ["ties by name", [node("z", { gi: 50 }), node("m", { gi: 50 })], GI, "m"],
    ["NotReady nodes are skipped", [node("a", { gi: 500, ready: false }), node("b")], GI, "b"],
    ["cordoned nodes are skipped", [node("a", { gi: 500, unschedulable: true }), node("b")], GI, "b"],
    ["NoSchedule taints are skipped", [node("a", { gi: 500, taint: "NoSchedule" }), node("b")], GI, "b"],
    ["NoExecute taints are skipped", [node("a", { gi: 500, taint: "NoExecute" }), node("b")], GI, "b"],
    ["PreferNoSchedule taints are fine", [node("a", { gi: 500, taint: "PreferNoSchedule" }), node("b")], GI, "a"],
    ["nodes without a local-path root are skipped", [node("a", { gi: 500, root: null }), node("b")], GI, "b"],
    ["nodes with a relative root are skipped", [node("a", { gi: 500, root: "data" }), node("b")], GI, "b"],
  ];
  for (const [name, nodes, bytes, want] of choices) {
    it(`Immediate: ${name}`, () => {
      const got = chooseNode(nodes, bytes, new LocalPathUsage());
      assert.ok("node" in got, JSON.stringify(got));
      assert.equal(got.node.metadata.name, want);
    });
  }

  it("Immediate: room counts what the node's volumes take", () => {
    const usage = new LocalPathUsage();
    usage.observe(localPV("big", "b", "75Gi"), false);
    const got = chooseNode([node("a", { gi: 50 }), node("b", { gi: 80 })], GI, usage);
    assert.ok("node" in got && got.node.metadata.name === "a");
  });

  it("Immediate: none fits, or none offers local-path volumes", () => {
    const usage = new LocalPathUsage();
    usage.observe(localPV("x", "a", "45Gi"), false);
    assert.deepEqual(chooseNode([node("a", { gi: 50 }), node("b", { gi: 10 })], 20n * GI, usage), {
      refusal: 'no node has room for 20Gi of local-path storage: node "b" has 10Gi left, node "a" has 5Gi left',
    });
    assert.deepEqual(chooseNode([node("a", { ready: false }), node("b", { root: null })], GI, usage), {
      refusal: "no Ready, schedulable node offers local-path volumes",
    });
  });

  it("canGrow: growth must fit in what the node has left", () => {
    const usage = new LocalPathUsage();
    const pv = localPV("v", "n1", "10Gi");
    usage.observe(pv, false);
    usage.observe(localPV("w", "n1", "80Gi"), false);
    assert.deepEqual(canGrow(pv, 20n * GI, node("n1"), usage), { fits: true });
    assert.deepEqual(canGrow(pv, 5n * GI, node("n1"), usage), { fits: true });
    assert.deepEqual(canGrow(pv, 21n * GI, node("n1"), usage), {
      fits: false,
      message: 'node "n1" has 10Gi of local-path capacity left, volume v needs 11Gi more to grow to 21Gi',
    });
    assert.equal(canGrow(pv, 21n * GI, undefined, usage).fits, false);
  });
});

/** A registry with a ProvisionController running the local-path provisioner. */
function cluster() {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  const provisioner = new LocalPathProvisioner(client);
  const ctl = new ProvisionController(client, provisioner, { identity: "test" });
  return {
    live,
    client,
    provisioner,
    r: resources(client),
    async start(classExtra: Record<string, unknown> = {}) {
      await live.ready();
      await makeClass(client, "standard", LOCAL_PATH_PROVISIONER, classExtra);
      ctl.start();
    },
    stop() {
      ctl.stop();
      live.close();
    },
    addNode: (name: string, gi: number, annotations: Record<string, string> = { [ANN_LOCAL_PATH_ROOT]: ROOT }) =>
      makeNode(client, name, { ephemeral: `${gi}Gi`, annotations }),
    volumeOf: (claim: KObject) =>
      until(`volume of ${claim.metadata.name}`, () =>
        client.get(resources(client).volumes, undefined, `pvc-${claim.metadata.uid}`),
      ),
  };
}

describe("LocalPathProvisioner, Immediate class", () => {
  const c = cluster();
  before(async () => {
    await c.start();
    await c.addNode("node-a", 10);
    await c.addNode("node-b", 8);
  });
  after(() => c.stop());

  it("claims go to the node with the most room, each counting the volumes before it; the one that fits nowhere fails", async () => {
    const first = await makeClaim(c.client, "first", "standard", LOCAL_PATH_PROVISIONER, { storage: "6Gi" });
    const pv = await c.volumeOf(first);
    const spec = pv["spec"] as Record<string, unknown>;
    assert.deepEqual(spec["local"], { path: `${ROOT}/pvc-${first.metadata.uid}_default_first` });
    assert.deepEqual(spec["nodeAffinity"], hostnameAffinity("node-a"));
    assert.deepEqual(spec["capacity"], { storage: "6Gi" });
    // made one after the other: the second sees the first's 6Gi on node-a
    const second = await makeClaim(c.client, "second", "standard", LOCAL_PATH_PROVISIONER, { storage: "6Gi" });
    const third = await makeClaim(c.client, "third", "standard", LOCAL_PATH_PROVISIONER, { storage: "6Gi" });
    assert.equal(volumeHost(await c.volumeOf(second)), "node-b");
    const failed = await eventWith(c.client, "third", "ProvisioningFailed");
    assert.equal(
      failed.message,
      'failed to provision volume with StorageClass "standard": no node has room for 6Gi of local-path storage: node "node-a" has 4Gi left, node "node-b" has 2Gi left',
    );
    await settle();
    assert.equal(c.client.get(c.r.volumes, undefined, `pvc-${third.metadata.uid}`), undefined);
  });

  it("a volume going asks the claims that found no room to try again (not at their back-off)", async () => {
    const p = new LocalPathProvisioner(c.client);
    const watchers: Array<(o: KObject, deleted: boolean) => void> = [];
    const requeued: string[] = [];
    p.start({
      watch: (sv, fn) => {
        if (sv.def.plural === "persistentvolumes") watchers.push(fn);
      },
      requeueVolume: () => undefined,
      requeueClaim: (ns, name) => requeued.push(`${ns}/${name}`),
    });
    const big = await makeClaim(c.client, "big", "standard", LOCAL_PATH_PROVISIONER, { storage: "50Gi" });
    const sc = c.client.get(c.r.classes, undefined, "standard");
    assert.ok(sc);
    await assert.rejects(
      p.provision({ claim: big, storageClass: sc, pvName: "pvc-big", signal: new AbortController().signal }),
    );
    for (const w of watchers) w(localPV("other", "node-a", "1Gi", "example.com/else"), true);
    assert.deepEqual(requeued, [], "another provisioner's volume frees no local-path room");
    for (const w of watchers) w(localPV("gone", "node-a", "1Gi"), true);
    assert.deepEqual(requeued, ["default/big"]);
    await c.client.delete(c.r.claims, "default", "big");
  });

  it("room freed by a volume going: the claim that found none is provisioned then", async () => {
    const third = c.client.get(c.r.claims, "default", "third");
    assert.ok(third);
    const firstPv = `pvc-${c.client.get(c.r.claims, "default", "first")?.metadata.uid}`;
    await c.client.update(c.r.volumes, undefined, firstPv, "", (v) => {
      v.metadata.finalizers = [];
      return v;
    });
    await c.client.delete(c.r.volumes, undefined, firstPv);
    assert.equal(volumeHost(await c.volumeOf(third)), "node-a");
  });

  it("a class's allowedTopologies narrow the nodes: the claim lands where they admit, not where most room is", async () => {
    await c.client.update(c.r.nodes, undefined, "node-b", "", (n) => {
      n.metadata.labels = { ...n.metadata.labels, "k8ts.test/zone": "b" };
      return n;
    });
    await makeClass(c.client, "zoned", LOCAL_PATH_PROVISIONER, {
      allowedTopologies: [{ matchLabelExpressions: [{ key: "k8ts.test/zone", values: ["b"] }] }],
    });
    const roomy = await makeClaim(c.client, "roomy", "standard", LOCAL_PATH_PROVISIONER, { storage: "1Gi" });
    const zoned = await makeClaim(c.client, "zoned", "zoned", LOCAL_PATH_PROVISIONER, { storage: "1Gi" });
    assert.equal(volumeHost(await c.volumeOf(roomy)), "node-a", "without topology: the node with the most room");
    assert.equal(volumeHost(await c.volumeOf(zoned)), "node-b");
  });

  it("a released volume is left to its node; once the node is gone the controller deletes it", async () => {
    const claim = await makeClaim(c.client, "orphan", "standard", LOCAL_PATH_PROVISIONER, { storage: "1Gi" });
    const pv = await c.volumeOf(claim);
    const name = pv.metadata.name ?? "";
    const host = volumeHost(pv) ?? "";
    await setPhase(c.client, name, "Released");
    await settle();
    const kept = c.client.get(c.r.volumes, undefined, name);
    assert.ok(kept && !kept.metadata.deletionTimestamp, "the node's agent deletes it, not the controller");
    await c.client.delete(c.r.nodes, undefined, host);
    await until("volume deleted", () => {
      const now = c.client.get(c.r.volumes, undefined, name);
      return !now ||
        (now.metadata.deletionTimestamp && !now.metadata.finalizers?.includes(PROVISIONER_DELETION_FINALIZER))
        ? true
        : undefined;
    });
  });
});

describe("LocalPathProvisioner, WaitForFirstConsumer class", () => {
  const c = cluster();
  before(async () => {
    await c.start({ volumeBindingMode: "WaitForFirstConsumer" });
    await c.addNode("small", 10);
    await c.addNode("big", 100);
    await c.addNode("no-agent", 100, {});
  });
  after(() => c.stop());

  it("the selected node is used, even when another has more room", async () => {
    const claim = await makeClaim(c.client, "on-small", "standard", LOCAL_PATH_PROVISIONER, {
      storage: "2Gi",
      annotations: { [ANN_SELECTED_NODE]: "small" },
    });
    assert.equal(volumeHost(await c.volumeOf(claim)), "small");
  });

  it("a selected node without room: ProvisioningFailed with both sizes, and the scheduler chooses again", async () => {
    await makeClaim(c.client, "too-big", "standard", LOCAL_PATH_PROVISIONER, {
      storage: "20Gi",
      annotations: { [ANN_SELECTED_NODE]: "small" },
    });
    const failed = await eventWith(c.client, "too-big", "ProvisioningFailed");
    assert.equal(
      failed.message,
      'failed to provision volume with StorageClass "standard": node "small" has 8Gi of local-path capacity left, the claim asks for 20Gi',
    );
    await until("selected-node removed", () =>
      c.client.get(c.r.claims, "default", "too-big")?.metadata.annotations?.[ANN_SELECTED_NODE] === undefined
        ? true
        : undefined,
    );
  });

  it("a selected node whose agent offers no local-path volumes is refused with that reason", async () => {
    await makeClaim(c.client, "no-root", "standard", LOCAL_PATH_PROVISIONER, {
      annotations: { [ANN_SELECTED_NODE]: "no-agent" },
    });
    const failed = await eventWith(c.client, "no-root", "ProvisioningFailed");
    assert.match(failed.message, /node "no-agent" does not offer local-path volumes/);
  });

  it("canGrow looks the volume's node up and counts its volumes", async () => {
    const claim = await makeClaim(c.client, "grow", "standard", LOCAL_PATH_PROVISIONER, {
      storage: "1Gi",
      annotations: { [ANN_SELECTED_NODE]: "big" },
    });
    const pv = await c.volumeOf(claim);
    assert.deepEqual(await c.provisioner.canGrow(pv, 100n * GI), { fits: true });
    assert.equal((await c.provisioner.canGrow(pv, 101n * GI)).fits, false);
  });
});
