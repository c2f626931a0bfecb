/**
 * persistentVolumeClaim volumes through the volume manager with the ClaimVolumes hook: each PV
 * source, node affinity, upstream's access mode rules and the stats entries, on a temporary root.
 */
import assert from "node:assert/strict";
import { mkdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../../src/api/types.js";
import type { ListOptions, ResourceId } from "../../../src/client/types.js";
import { SummaryProvider } from "../../../src/kubelet/server/stats.js";
import { accessConflict, ClaimVolumes, mountOptionsOf, nfsExportFor } from "../../../src/kubelet/volumes/claims.js";
import { VolumeError, VolumeManager } from "../../../src/kubelet/volumes/index.js";
import { allocatable, cleanup, FakeClient, makePod, tempRoot } from "./helpers.js";

/** The FakeClient, listing pods too (the access mode checks list the claim's namespace). */
class Client extends FakeClient {
  override async list(r: ResourceId, opts?: ListOptions): Promise<{ items: KObject[]; resourceVersion: string }> {
    const prefix = `${r.plural}/${opts?.namespace ?? ""}/`;
    const items = [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([, v]) => structuredClone(v));
    return { items, resourceVersion: "1" };
  }
}

let root = "";
let lpRoot = "";
let outside = "";
let nfsRoot = "";
const client = new Client();
const node: KObject = { metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "node-1" } } };
const EXPORTS = [{ server: "10.0.0.5", path: "/exports", root: "" }];

function claims(extra: Partial<ConstructorParameters<typeof ClaimVolumes>[0]> = {}): ClaimVolumes {
  return new ClaimVolumes({
    client,
    nodeName: "node-1",
    localPathRoot: lpRoot,
    nfsExports: EXPORTS.map((e) => ({ ...e, root: nfsRoot })),
    node: () => node,
    mounts: true,
    mount: async () => {
      throw new Error("mount is not expected here");
    },
    ...extra,
  });
}

function manager(c: ClaimVolumes): VolumeManager {
  return new VolumeManager({
    client,
    rootDir: root,
    nodeName: "node-1",
    nodeAllocatable: allocatable,
    pvc: c.resolve,
    mounts: false,
  });
}

const hostnameAffinity = (n: string) => ({
  required: {
    nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [n] }] }],
  },
});

let seq = 0;

/** A PV bound to a new claim; returns the claim's name. */
function bound(pvSpec: Record<string, unknown>, pvMeta: Partial<KObject["metadata"]> = {}, claimModes?: string[]) {
  seq++;
  const claim = `claim-${seq}`;
  const pv = `pv-${seq}`;
  const uid = `c0000000-0000-4000-8000-${String(seq).padStart(12, "0")}`;
  client.put("persistentvolumes", {
    metadata: { name: pv, ...pvMeta },
    spec: {
      accessModes: ["ReadWriteOnce"],
      capacity: { storage: "1Gi" },
      claimRef: { namespace: "default", name: claim, uid },
      ...pvSpec,
    },
    status: { phase: "Bound" },
  });
  client.put("persistentvolumeclaims", {
    metadata: { name: claim, namespace: "default", uid },
    spec: { volumeName: pv, accessModes: claimModes ?? ["ReadWriteOnce"] },
    status: { phase: "Bound" },
  });
  return { claim, pv, uid };
}

function claimPod(claim: string, opts: { readOnly?: boolean; name?: string } = {}): KObject {
  return makePod(
    {
      nodeName: "node-1",
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim, readOnly: opts.readOnly ?? false } }],
    },
    { name: opts.name ?? `pod-${++seq}`, creationTimestamp: "2025-01-01T00:00:10Z" },
  );
}

/** Another pod of the claim, as the API has it: on `nodeName`, in `phase`. */
function otherPod(claim: string, nodeName: string, phase: string, name = `other-${++seq}`): KObject {
  const p = makePod(
    { nodeName, volumes: [{ name: "v", persistentVolumeClaim: { claimName: claim } }] },
    { name, creationTimestamp: "2025-01-01T00:00:00Z" },
  );
  p["status"] = { phase };
  client.put("pods", p);
  return p;
}

async function setUpFails(m: VolumeManager, pod: KObject): Promise<VolumeError> {
  try {
    await m.setUp(pod);
  } catch (err) {
    assert.ok(err instanceof VolumeError, String(err));
    return err;
  }
  assert.fail("setUp succeeded");
}

before(async () => {
  root = await tempRoot("claims");
  lpRoot = join(root, "storage");
  outside = join(root, "outside");
  nfsRoot = join(root, "nfs");
  await mkdir(lpRoot, { recursive: true });
  await mkdir(outside, { recursive: true });
  await mkdir(join(nfsRoot, "team", "a"), { recursive: true });
});

after(async () => {
  await cleanup(root);
});

describe("hostPath PersistentVolumes", () => {
  it("a DirectoryOrCreate hostPath PV is made and mounted as the host path itself", async () => {
    const path = join(root, "host", "data");
    const { claim } = bound({ hostPath: { path, type: "DirectoryOrCreate" } });
    const vols = await manager(claims()).setUp(claimPod(claim));
    assert.deepEqual(vols.volumes.get("data"), {
      name: "data",
      plugin: "kubernetes.io/persistent-claim",
      path,
      readOnly: false,
      file: false,
    });
    assert.ok((await stat(path)).isDirectory());
  });

  it("a hostPath PV of type Directory that is missing fails with hostPath's check", async () => {
    const path = join(root, "host", "missing");
    const { claim, pv } = bound({ hostPath: { path, type: "Directory" } });
    const err = await setUpFails(manager(claims()), claimPod(claim));
    assert.equal(err.volume, "data");
    assert.equal(
      err.message,
      `MountVolume.SetUp failed for volume "${pv}" : hostPath type check failed: ${path} is not a directory`,
    );
  });
});

describe("local PersistentVolumes", () => {
  it("a k8ts.io/local-path volume's directory is made inside the node's root, mode 0777", async () => {
    const path = join(lpRoot, "pvc-1111_default_data");
    const { claim } = bound(
      { local: { path }, nodeAffinity: hostnameAffinity("node-1"), persistentVolumeReclaimPolicy: "Delete" },
      { annotations: { "pv.kubernetes.io/provisioned-by": "k8ts.io/local-path" } },
    );
    const vols = await manager(claims()).setUp(claimPod(claim));
    assert.equal(vols.volumes.get("data")?.path, path);
    const st = await stat(path);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o777);
  });

  it("a local-path PV whose path lies outside the node's root is not made: the path must exist", async () => {
    const path = join(outside, "pvc-2222_default_data");
    const { claim, pv } = bound(
      { local: { path }, nodeAffinity: hostnameAffinity("node-1") },
      { annotations: { "pv.kubernetes.io/provisioned-by": "k8ts.io/local-path" } },
    );
    const err = await setUpFails(manager(claims()), claimPod(claim));
    assert.equal(err.reason, "FailedMount");
    assert.equal(
      err.message,
      `MountVolume.NewMounter initialization failed for volume "${pv}" : path "${path}" does not exist`,
    );
    await assert.rejects(stat(path), { code: "ENOENT" });
  });

  it("the root itself, or a path escaping it with '..', is never made", async () => {
    for (const path of [lpRoot, `${lpRoot}/../escaped`]) {
      const { claim, pv } = bound(
        { local: { path }, nodeAffinity: hostnameAffinity("node-1") },
        { annotations: { "pv.kubernetes.io/provisioned-by": "k8ts.io/local-path" } },
      );
      const err = await setUpFails(manager(claims()), claimPod(claim));
      if (path === lpRoot)
        assert.equal(
          err.message,
          `MountVolume.NewMounter initialization failed for volume "${pv}" : path "${path}" is the node's local-path root or holds it, not a volume inside it`,
        );
      else
        assert.equal(
          err.message,
          `MountVolume.NewMounter initialization failed for volume "${pv}" : invalid path: ${path} must not contain '..'`,
        );
    }
    await assert.rejects(stat(join(root, "escaped")), { code: "ENOENT" });
  });

  it("a static local PV (not provisioned by k8ts) must exist; its directory is mounted", async () => {
    const path = join(root, "disk1");
    await mkdir(path, { recursive: true });
    const { claim } = bound({ local: { path }, nodeAffinity: hostnameAffinity("node-1") });
    const vols = await manager(claims()).setUp(claimPod(claim));
    assert.equal(vols.volumes.get("data")?.path, path);
  });

  it("a PV pinned to another node fails the node affinity check", async () => {
    const path = join(lpRoot, "pvc-3333_default_data");
    const { claim, pv } = bound(
      { local: { path }, nodeAffinity: hostnameAffinity("node-2") },
      { annotations: { "pv.kubernetes.io/provisioned-by": "k8ts.io/local-path" } },
    );
    const err = await setUpFails(manager(claims()), claimPod(claim));
    assert.equal(err.reason, "FailedMount");
    assert.equal(
      err.message,
      `MountVolume.NodeAffinity check failed for volume "${pv}" : no matching NodeSelectorTerms (node "node-1" had volume node affinity conflict)`,
    );
    await assert.rejects(stat(path), { code: "ENOENT" });
  });
});

describe("nfs PersistentVolumes", () => {
  it("inside a declared export, the volume is the export's local directory plus the remainder", async () => {
    const { claim } = bound({ nfs: { server: "10.0.0.5", path: "/exports/team/a" }, accessModes: ["ReadWriteMany"] });
    const vols = await manager(claims()).setUp(claimPod(claim));
    assert.equal(vols.volumes.get("data")?.path, join(nfsRoot, "team", "a"));
  });

  it("a symlink inside the export that leads out of it is refused; so is '..'", async () => {
    await symlink(outside, join(nfsRoot, "escape"));
    const viaLink = bound({ nfs: { server: "10.0.0.5", path: "/exports/escape" } });
    const err = await setUpFails(manager(claims()), claimPod(viaLink.claim));
    assert.equal(
      err.message,
      `MountVolume.SetUp failed for volume "${viaLink.pv}" : 10.0.0.5:/exports/escape resolves outside of NFS export 10.0.0.5:/exports`,
    );
    const dotdot = bound({ nfs: { server: "10.0.0.5", path: "/exports/../etc" } });
    const err2 = await setUpFails(manager(claims()), claimPod(dotdot.claim));
    assert.equal(
      err2.message,
      `MountVolume.SetUp failed for volume "${dotdot.pv}" : invalid NFS path /exports/../etc: must not contain '..'`,
    );
  });

  it("the nfs source's readOnly makes the volume read-only", async () => {
    const { claim } = bound({ nfs: { server: "10.0.0.5", path: "/exports/team", readOnly: true } });
    const vols = await manager(claims()).setUp(claimPod(claim));
    assert.equal(vols.volumes.get("data")?.readOnly, true);
  });

  it("elsewhere mount -t nfs runs below the pod's directory with the PV's mount options; without an NFS client it says so", async () => {
    const calls: string[][] = [];
    const c = claims({
      mount: async (args) => {
        calls.push(args);
        throw new Error("exit status 32: mount: /x: unknown filesystem type 'nfs'.");
      },
    });
    const { claim, pv } = bound(
      { nfs: { server: "nfs.example", path: "/srv/share" }, mountOptions: ["hard"] },
      { annotations: { "volume.beta.kubernetes.io/mount-options": "nfsvers=4.1,noatime" } },
    );
    const pod = claimPod(claim, { readOnly: true });
    const err = await setUpFails(manager(c), pod);
    const target = join(root, "pods", pod.metadata.uid!, "volumes", "kubernetes.io~nfs", "data");
    assert.deepEqual(calls, [["-t", "nfs", "-o", "nfsvers=4.1,noatime,ro", "nfs.example:/srv/share", target]]);
    assert.equal(err.reason, "FailedMount");
    assert.equal(
      err.message,
      `MountVolume.SetUp failed for volume "${pv}" : mount -t nfs -o nfsvers=4.1,noatime,ro nfs.example:/srv/share ${target} failed: exit status 32: mount: /x: unknown filesystem type 'nfs'. (this machine has no NFS client: install nfs-common, or declare the export with --nfs-export nfs.example:/srv/share=<local dir>)`,
    );
  });

  it("without root, an nfs mount fails saying what it needs", async () => {
    const { claim } = bound({ nfs: { server: "nfs.example", path: "/srv/share" } });
    const err = await setUpFails(manager(claims({ mounts: false })), claimPod(claim));
    assert.match(err.message, /mount -t nfs nfs\.example:\/srv\/share needs root \(CAP_SYS_ADMIN\)/);
  });
});

describe("nfs volumes of the pod itself (seed 002's provisioner Deployment)", () => {
  const nfsPod = (source: Record<string, unknown>) =>
    makePod(
      { nodeName: "node-1", volumes: [{ name: "nfs-client-root", nfs: source }] },
      { name: `nfs-pod-${++seq}`, creationTimestamp: "2025-01-01T00:00:10Z" },
    );
  const withNfs = (c: ClaimVolumes) =>
    new VolumeManager({
      client,
      rootDir: root,
      nodeName: "node-1",
      nodeAllocatable: allocatable,
      pvc: c.resolve,
      nfs: c.resolveNfs,
      mounts: false,
    });

  it("inside a declared export: its local directory, read-only when the source says so", async () => {
    const vols = await withNfs(claims()).setUp(nfsPod({ server: "10.0.0.5", path: "/exports/team" }));
    assert.equal(vols.volumes.get("nfs-client-root")?.path, join(nfsRoot, "team"));
    assert.equal(vols.volumes.get("nfs-client-root")?.plugin, "kubernetes.io/nfs");
    const ro = await withNfs(claims()).setUp(nfsPod({ server: "10.0.0.5", path: "/exports/team", readOnly: true }));
    assert.equal(ro.volumes.get("nfs-client-root")?.readOnly, true);
  });

  it("an escape from the export is refused, naming the pod's volume", async () => {
    const err = await setUpFails(withNfs(claims()), nfsPod({ server: "10.0.0.5", path: "/exports/../etc" }));
    assert.equal(
      err.message,
      `MountVolume.SetUp failed for volume "nfs-client-root" : invalid NFS path /exports/../etc: must not contain '..'`,
    );
  });

  it("without the hook the pod fails saying so", async () => {
    const err = await setUpFails(manager(claims()), nfsPod({ server: "10.0.0.5", path: "/exports/team" }));
    assert.match(err.message, /nfs volumes are not supported by this k8ts node agent/);
  });
});

describe("other PersistentVolume sources", () => {
  it("an rbd PV fails saying k8ts does not support it", async () => {
    const { claim, pv } = bound({ rbd: { monitors: ["10.0.0.1:6789"], image: "foo" } });
    const err = await setUpFails(manager(claims()), claimPod(claim));
    assert.equal(err.reason, "FailedMount");
    assert.equal(
      err.message,
      `MountVolume.SetUp failed for volume "${pv}" : rbd volumes are not supported by k8ts: its node agent mounts hostPath, local and nfs volumes`,
    );
  });
});

describe("access modes", () => {
  const dir = () => join(root, "shared");

  it("ReadWriteOnce: a pod running on another node holds the volume (Multi-Attach error, FailedAttachVolume)", async () => {
    await mkdir(dir(), { recursive: true });
    const { claim, pv } = bound({ hostPath: { path: dir() } });
    otherPod(claim, "node-2", "Running", "writer-0");
    const err = await setUpFails(manager(claims()), claimPod(claim));
    assert.equal(err.reason, "FailedAttachVolume");
    assert.equal(err.message, `Multi-Attach error for volume "${pv}" Volume is already used by pod(s) writer-0`);
  });

  it("ReadWriteOnce: pods on the same node share it; finished pods elsewhere do not count", async () => {
    const { claim } = bound({ hostPath: { path: dir() } });
    otherPod(claim, "node-1", "Running");
    otherPod(claim, "node-2", "Succeeded");
    await manager(claims()).setUp(claimPod(claim));
  });

  it("ReadWriteOnce + ReadOnlyMany (seed 003): a writer on one node, a read-only reader on another", async () => {
    const { claim } = bound({ hostPath: { path: dir() }, accessModes: ["ReadWriteOnce", "ReadOnlyMany"] }, {}, [
      "ReadWriteOnce",
      "ReadOnlyMany",
    ]);
    otherPod(claim, "node-2", "Running", "task-pv-pod-rw");
    const vols = await manager(claims()).setUp(claimPod(claim, { readOnly: true, name: "task-pv-pod-readonly" }));
    assert.equal(vols.volumes.get("data")?.readOnly, true);
  });

  it("ReadWriteOncePod: a second pod fails, even on the same node", async () => {
    const { claim, pv } = bound({ hostPath: { path: dir() }, accessModes: ["ReadWriteOncePod"] }, {}, [
      "ReadWriteOncePod",
    ]);
    otherPod(claim, "node-1", "Running");
    const err = await setUpFails(manager(claims()), claimPod(claim));
    assert.equal(err.reason, "FailedMount");
    assert.equal(
      err.message,
      `MountVolume.SetUp failed for volume "${pv}" : volume uses the ReadWriteOncePod access mode and is already in use by another pod`,
    );
  });

  it("a pod that has its volume keeps it when another pod appears elsewhere", async () => {
    const { claim } = bound({ hostPath: { path: dir() } });
    const c = claims();
    const m = manager(c);
    const pod = claimPod(claim);
    await m.setUp(pod);
    otherPod(claim, "node-2", "Running");
    await m.setUp(pod);
  });

  const table: Array<{
    name: string;
    modes: string[];
    other: { node: string; phase: string; older: boolean };
    want?: string;
  }> = [
    {
      name: "RWO, pending newer pod elsewhere: not a holder",
      modes: ["ReadWriteOnce"],
      other: { node: "node-2", phase: "Pending", older: false },
    },
    {
      name: "RWO, pending older pod elsewhere: holds",
      modes: ["ReadWriteOnce"],
      other: { node: "node-2", phase: "Pending", older: true },
      want: "FailedAttachVolume",
    },
    {
      name: "RWX, running elsewhere: shared",
      modes: ["ReadWriteMany"],
      other: { node: "node-2", phase: "Running", older: true },
    },
    {
      name: "RWOP, failed pod: not a holder",
      modes: ["ReadWriteOncePod"],
      other: { node: "node-1", phase: "Failed", older: true },
    },
    {
      name: "RWOP, running pod: holds",
      modes: ["ReadWriteOncePod"],
      other: { node: "node-1", phase: "Running", older: false },
      want: "FailedMount",
    },
  ];
  for (const t of table) {
    it(`accessConflict: ${t.name}`, () => {
      const claim: KObject = { metadata: { name: "c", namespace: "default" }, spec: { accessModes: t.modes } };
      const pv: KObject = { metadata: { name: "pv" }, spec: { accessModes: t.modes } };
      const mk = (name: string, node: string, phase: string, ts: string): KObject => ({
        metadata: { name, namespace: "default", uid: name, creationTimestamp: ts },
        spec: { nodeName: node, volumes: [{ name: "v", persistentVolumeClaim: { claimName: "c" } }] },
        status: { phase },
      });
      const pod = mk("me", "node-1", "Pending", "2025-01-01T00:00:10Z");
      const other = mk(
        "other",
        t.other.node,
        t.other.phase,
        t.other.older ? "2025-01-01T00:00:00Z" : "2025-01-01T00:00:20Z",
      );
      const got = accessConflict({ pod, claim, pv, nodeName: "node-1", pods: [pod, other] });
      assert.equal(got?.reason, t.want);
    });
  }
});

describe("readings", () => {
  it("mount options: the beta annotation wins over spec.mountOptions; extras are added once", () => {
    assert.deepEqual(mountOptionsOf({ metadata: {}, spec: { mountOptions: ["hard", "nfsvers=4"] } }, ["ro"]), [
      "hard",
      "nfsvers=4",
      "ro",
    ]);
    assert.deepEqual(
      mountOptionsOf(
        {
          metadata: { annotations: { "volume.beta.kubernetes.io/mount-options": "soft, ro" } },
          spec: { mountOptions: ["hard"] },
        },
        ["ro"],
      ),
      ["soft", "ro"],
    );
  });

  it("the most specific export of the server holds the path; another server's does not", () => {
    const exports = [
      { server: "a", path: "/srv", root: "/x" },
      { server: "a", path: "/srv/deep", root: "/y" },
      { server: "b", path: "/", root: "/z" },
    ];
    assert.deepEqual(nfsExportFor(exports, "a", "/srv/deep/v1"), { export: exports[1], rel: "v1" });
    assert.deepEqual(nfsExportFor(exports, "A", "/srv/other/"), { export: exports[0], rel: "other" });
    assert.equal(nfsExportFor(exports, "a", "/srvx"), undefined);
    assert.equal(nfsExportFor(exports, "c", "/srv"), undefined);
  });
});

describe("volume stats", () => {
  it("a mounted claim volume reports usage with its pvcRef; unmounted pods report none", async () => {
    const path = join(lpRoot, "pvc-4444_default_data");
    const { claim } = bound(
      { local: { path }, nodeAffinity: hostnameAffinity("node-1") },
      { annotations: { "pv.kubernetes.io/provisioned-by": "k8ts.io/local-path" } },
    );
    let now = Date.UTC(2025, 0, 1);
    const c = claims({ now: () => now });
    const pod = claimPod(claim);
    await manager(c).setUp(pod);
    await writeFile(join(path, "blob"), Buffer.alloc(64 * 1024, 1));
    const stats = await c.volumeStats([pod, claimPod(claim)]);
    assert.deepEqual([...stats.keys()], [pod.metadata.uid]);
    const [entry] = stats.get(pod.metadata.uid!)!;
    assert.ok(entry);
    assert.equal(entry["name"], "data");
    assert.deepEqual(entry["pvcRef"], { name: claim, namespace: "default" });
    assert.equal(entry["time"], "2025-01-01T00:00:00Z");
    assert.ok(Number(entry["usedBytes"]) >= 64 * 1024, String(entry["usedBytes"]));
    assert.equal(entry["inodesUsed"], 2);
    assert.ok(Number(entry["capacityBytes"]) > 0 && Number(entry["availableBytes"]) > 0);
    assert.ok(Number(entry["inodes"]) >= Number(entry["inodesFree"]));
    // as /stats/summary shows it: the pod's "volume" list
    const summary = await new SummaryProvider().summary({
      nodeName: "node-1",
      pods: [pod],
      containers: [],
      stats: [],
      rootDir: root,
      volumes: stats,
    });
    const [podStats] = summary["pods"] as Array<Record<string, unknown>>;
    assert.deepEqual(podStats?.["volume"], [entry]);
    // the walk is reused within a minute: a new file shows only once the minute has passed
    await writeFile(join(path, "more"), "x");
    assert.equal((await c.volumeStats([pod])).get(pod.metadata.uid!)?.[0]?.["inodesUsed"], 2);
    now += 61_000;
    await c.volumeStats([pod]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await c.volumeStats([pod])).get(pod.metadata.uid!)?.[0]?.["inodesUsed"], 3);
  });
});
