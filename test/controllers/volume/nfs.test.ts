/**
 * The NFS-subdir provisioner: path patterns by table, what it refuses (paths out of the export,
 * symlinks planted inside it), delete / archive / retain on a directory standing in for the
 * export's mount, and seed 002 (class managed-nfs-storage, test-claim) through the ProvisionController.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the provisioner's pathPattern placeholders are ${...} in plain strings
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { ANN_PROVISIONED_BY, ANN_STORAGE_PROVISIONER, NFS_SUBDIR_PROVISIONER } from "../../../src/api/storage.js";
import type { KObject } from "../../../src/api/types.js";
import {
  deletionMode,
  expandPathPattern,
  NfsProvisioner,
  volumeSubdir,
} from "../../../src/controllers/volume/nfs/index.js";
import { ProvisionController, ProvisioningError } from "../../../src/controllers/volume/provisioner/index.js";
import { liveRegistry, until } from "../support.js";
import {
  eventWith,
  makeClaim,
  makeClass,
  resources,
  setPhase,
  volumeReleasedByProvisioner,
} from "./provisioner-support.js";

const SEEDS = new URL("../../../../test/fixtures/seeds/", import.meta.url).pathname;

function claim(
  o: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): KObject {
  return {
    metadata: {
      name: o.name ?? "test-claim",
      namespace: "default",
      uid: "u1",
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {},
  };
}

function nfsClass(parameters: Record<string, string>): KObject {
  return { metadata: { name: "nfs" }, provisioner: NFS_SUBDIR_PROVISIONER, parameters };
}

function nfsVolume(path: string, server = "nfs.example"): KObject {
  return {
    metadata: { name: "pvc-u1", annotations: { [ANN_PROVISIONED_BY]: NFS_SUBDIR_PROVISIONER } },
    spec: { nfs: { server, path }, storageClassName: "nfs" },
  };
}

const signal = new AbortController().signal;

describe("NFS path patterns", () => {
  const expand: Array<[string, string, KObject, string]> = [
    ["namespace and name", "${.PVC.namespace}/${.PVC.name}", claim(), "default/test-claim"],
    ["a label", "${.PVC.labels.team}/x", claim({ labels: { team: "blue" } }), "blue/x"],
    [
      "an annotation with a slash in its key",
      "${.PVC.annotations.nfs.io/storage-path}",
      claim({ annotations: { "nfs.io/storage-path": "data" } }),
      "data",
    ],
    ["a missing annotation is empty", "${.PVC.namespace}/${.PVC.annotations.nfs.io/storage-path}", claim(), "default/"],
    ["a missing label is empty", "a${.PVC.labels.none}b", claim(), "ab"],
    ["an unknown field is empty", "${.PVC.uid}x", claim(), "x"],
    [
      "a value that looks like a placeholder is not expanded again",
      "${.PVC.annotations.a}",
      claim({ annotations: { a: "${.PVC.name}" } }),
      "${.PVC.name}",
    ],
  ];
  for (const [name, pattern, c, want] of expand) {
    it(`expands ${name}`, () => assert.equal(expandPathPattern(pattern, c), want));
  }

  const dirs: Array<[string, Record<string, string>, KObject, string[]]> = [
    ["without a pattern: <namespace>-<claim>-<pv>", {}, claim(), ["default-test-claim-pvc-u1"]],
    [
      "seed 002 without the annotation: default (the trailing slash trimmed)",
      { pathPattern: "${.PVC.namespace}/${.PVC.annotations.nfs.io/storage-path}" },
      claim(),
      ["default"],
    ],
    [
      "seed 002 with the annotation: nested",
      { pathPattern: "${.PVC.namespace}/${.PVC.annotations.nfs.io/storage-path}" },
      claim({ annotations: { "nfs.io/storage-path": "db/data" } }),
      ["default", "db", "data"],
    ],
    [
      "a pattern expanding to nothing falls back to the default",
      { pathPattern: "${.PVC.labels.none}" },
      claim(),
      ["default-test-claim-pvc-u1"],
    ],
    ["doubled slashes and ./ are cleaned", { pathPattern: "./a//b/" }, claim(), ["a", "b"]],
  ];
  for (const [name, params, c, want] of dirs) {
    it(name, () => assert.deepEqual(volumeSubdir(c, "pvc-u1", params), want));
  }

  const refused: Array<[string, Record<string, string>, KObject, RegExp]> = [
    [
      "an annotation climbing out with ../../etc",
      { pathPattern: "${.PVC.namespace}/${.PVC.annotations.nfs.io/storage-path}" },
      claim({ annotations: { "nfs.io/storage-path": "../../etc" } }),
      /climbs out of the export/,
    ],
    ["a pattern with ..", { pathPattern: "a/../../b" }, claim(), /climbs out/],
    ["an absolute pattern", { pathPattern: "/etc" }, claim(), /is absolute/],
    [
      "an absolute annotation",
      { pathPattern: "${.PVC.annotations.p}" },
      claim({ annotations: { p: "/etc/cron.d" } }),
      /is absolute/,
    ],
    ["a NUL byte", { pathPattern: "${.PVC.annotations.p}" }, claim({ annotations: { p: "a\0b" } }), /NUL/],
    [
      "the export root itself",
      { pathPattern: "${.PVC.annotations.p}" },
      claim({ annotations: { p: "./" } }),
      /export root itself/,
    ],
  ];
  for (const [name, params, c, want] of refused) {
    it(`refuses ${name}, finally`, () => {
      assert.throws(
        () => volumeSubdir(c, "pvc-u1", params),
        (err: unknown) => err instanceof ProvisioningError && err.kind === "final" && want.test(err.message),
      );
    });
  }

  it("deletion mode: onDelete wins, else archiveOnDelete (default archive)", () => {
    assert.equal(deletionMode({}), "archive");
    assert.equal(deletionMode({ onDelete: "delete", archiveOnDelete: "true" }), "delete");
    assert.equal(deletionMode({ onDelete: "retain" }), "retain");
    assert.equal(deletionMode({ archiveOnDelete: "false" }), "delete");
    assert.equal(deletionMode({ archiveOnDelete: "T" }), "archive");
    assert.equal(deletionMode({ onDelete: "other", archiveOnDelete: "0" }), "delete");
    assert.throws(() => deletionMode({ archiveOnDelete: "maybe" }), /invalid syntax/);
  });
});

describe("NFS provisioner on a directory", () => {
  let base: string;
  let root: string;
  let outside: string;
  let p: NfsProvisioner;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), "k8ts-nfs-"));
    root = join(base, "export");
    outside = join(base, "outside");
    await mkdir(root);
    await mkdir(outside);
    await writeFile(join(outside, "secret"), "keep me");
    p = new NfsProvisioner({ server: "nfs.example", path: "/data/nfs/k8s/", root });
  });
  after(() => rm(base, { recursive: true, force: true }));

  const provision = (c: KObject, parameters: Record<string, string>) =>
    p.provision({ claim: c, storageClass: nfsClass(parameters), pvName: "pvc-u1", signal });

  it("makes the directory 0777 whatever the umask and answers the export path of it", async () => {
    const old = process.umask(0o077);
    try {
      const res = await provision(claim({ name: "modes" }), {});
      assert.deepEqual(res.source, { nfs: { server: "nfs.example", path: "/data/nfs/k8s/default-modes-pvc-u1" } });
      assert.equal((await stat(join(root, "default-modes-pvc-u1"))).mode & 0o777, 0o777);
      // again: idempotent
      await provision(claim({ name: "modes" }), {});
    } finally {
      process.umask(old);
    }
  });

  it("makes nested directories of a pattern", async () => {
    const res = await provision(claim({ annotations: { p: "team/a/b" } }), { pathPattern: "${.PVC.annotations.p}" });
    assert.deepEqual(res.source, { nfs: { server: "nfs.example", path: "/data/nfs/k8s/team/a/b" } });
    assert.ok((await stat(join(root, "team", "a", "b"))).isDirectory());
  });

  it("refuses to create through a symlinked component pointing outside, and creates nothing there", async () => {
    await symlink(outside, join(root, "planted"));
    await assert.rejects(
      provision(claim({ annotations: { p: "planted/x" } }), { pathPattern: "${.PVC.annotations.p}" }),
      (err: unknown) => err instanceof ProvisioningError && err.kind === "final" && /symbolic link/.test(err.message),
    );
    assert.deepEqual(await readdir(outside), ["secret"]);
  });

  it("refuses a final component that is a symlink (even to a directory inside the root)", async () => {
    await mkdir(join(root, "real"));
    await symlink(join(root, "real"), join(root, "default-link-pvc-u1"));
    await assert.rejects(provision(claim({ name: "link" }), {}), /symbolic link/);
  });

  it("delete removes the tree without following symlinks: outside files and directories stay", async () => {
    const dir = join(root, "reclaim");
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(join(dir, "SUCCESS"), "");
    await symlink(join(outside, "secret"), join(dir, "to-file"));
    await symlink(outside, join(dir, "sub", "to-dir"));
    await p.delete(nfsVolume("/data/nfs/k8s/reclaim"), { storageClass: nfsClass({ onDelete: "delete" }), signal });
    assert.equal(existsSync(dir), false);
    assert.equal(await readFile(join(outside, "secret"), "utf8"), "keep me");
    assert.deepEqual(await readdir(outside), ["secret"]);
  });

  it("delete of a volume directory replaced by a symlink removes the link, not its target", async () => {
    await symlink(outside, join(root, "swapped"));
    await p.delete(nfsVolume("/data/nfs/k8s/swapped"), { storageClass: nfsClass({ onDelete: "delete" }), signal });
    assert.equal(existsSync(join(root, "swapped")), false);
    assert.deepEqual(await readdir(outside), ["secret"]);
  });

  it("delete refuses a recorded path whose intermediate component became a symlink", async () => {
    await mkdir(join(outside, "x"));
    await writeFile(join(outside, "x", "data"), "outside data");
    await symlink(outside, join(root, "nested-link"));
    await assert.rejects(
      p.delete(nfsVolume("/data/nfs/k8s/nested-link/x"), { storageClass: nfsClass({ onDelete: "delete" }), signal }),
      /symbolic link/,
    );
    assert.equal(await readFile(join(outside, "x", "data"), "utf8"), "outside data");
  });

  it("archive renames the last component to archived-<name> in the same parent (nested)", async () => {
    await mkdir(join(root, "ns1", "vol"), { recursive: true });
    await writeFile(join(root, "ns1", "vol", "f"), "x");
    await p.delete(nfsVolume("/data/nfs/k8s/ns1/vol"), { storageClass: nfsClass({}), signal });
    assert.equal(existsSync(join(root, "ns1", "vol")), false);
    assert.equal(await readFile(join(root, "ns1", "archived-vol", "f"), "utf8"), "x");
  });

  it("nested delete removes only the volume's directory", async () => {
    await mkdir(join(root, "ns2", "vol"), { recursive: true });
    await mkdir(join(root, "ns2", "other"));
    await p.delete(nfsVolume("/data/nfs/k8s/ns2/vol"), {
      storageClass: nfsClass({ archiveOnDelete: "false" }),
      signal,
    });
    assert.deepEqual(await readdir(join(root, "ns2")), ["other"]);
  });

  it("retain leaves the directory; a directory already gone is a deletion done", async () => {
    await mkdir(join(root, "kept"));
    await p.delete(nfsVolume("/data/nfs/k8s/kept"), { storageClass: nfsClass({ onDelete: "retain" }), signal });
    assert.ok(existsSync(join(root, "kept")));
    await p.delete(nfsVolume("/data/nfs/k8s/never-made"), { storageClass: nfsClass({ onDelete: "delete" }), signal });
    await p.delete(nfsVolume("/data/nfs/k8s/missing-parent/x"), {
      storageClass: nfsClass({ onDelete: "delete" }),
      signal,
    });
  });

  const foreign: Array<[string, KObject, RegExp]> = [
    ["another server", nfsVolume("/data/nfs/k8s/kept", "other.example"), /NFS server "other.example"/],
    ["a path outside the export", nfsVolume("/data/nfs/other/kept"), /outside this provisioner's export/],
    ["the export root itself", nfsVolume("/data/nfs/k8s/"), /export root itself/],
    ["a path climbing out", nfsVolume("/data/nfs/k8s/../../../etc"), /climbs out/],
    ["a prefix that is not a directory boundary", nfsVolume("/data/nfs/k8sx"), /outside this provisioner's export/],
    ["no nfs source", { metadata: { name: "pvc-u1" }, spec: { hostPath: { path: "/" } } }, /has no nfs source/],
  ];
  for (const [name, pv, want] of foreign) {
    it(`delete refuses a volume with ${name}`, async () => {
      await assert.rejects(p.delete(pv, { storageClass: nfsClass({ onDelete: "delete" }), signal }), want);
      assert.ok(existsSync(join(root, "kept")));
      assert.deepEqual(await readdir(outside), ["secret", "x"]);
    });
  }

  it("delete without the volume's class is an error (as upstream), leaving the directory", async () => {
    await assert.rejects(p.delete(nfsVolume("/data/nfs/k8s/kept"), { signal }), /storage class/);
    assert.ok((await lstat(join(root, "kept"))).isDirectory());
  });
});

describe("seed 002 through the ProvisionController", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  const r = resources(client);
  let base: string;
  let root: string;
  let ctl: ProvisionController;

  before(async () => {
    await live.ready();
    base = await mkdtemp(join(tmpdir(), "k8ts-nfs-seed-"));
    root = join(base, "persistentvolumes");
    await mkdir(root);
    ctl = new ProvisionController(
      client,
      new NfsProvisioner({ server: "172.20.70.205", path: "/data/nfs/k8s", root }),
      {
        identity: "test",
      },
    );
    ctl.start();
  });
  after(async () => {
    ctl.stop();
    live.close();
    await rm(base, { recursive: true, force: true });
  });

  it("test-claim gets directory `default`, the pod's SUCCESS lands there, and deleting removes it (onDelete: delete)", async () => {
    const sc = parse(readFileSync(join(SEEDS, "002-storageclass-managed-nfs-storage.yaml"), "utf8")) as KObject;
    const pvc = parse(readFileSync(join(SEEDS, "002-test-claim.yaml"), "utf8")) as KObject;
    await client.registry.create(r.classes, undefined, sc, { dryRun: false });
    // the PV controller hands the claim to the class's provisioner
    pvc.metadata.annotations = { [ANN_STORAGE_PROVISIONER]: NFS_SUBDIR_PROVISIONER };
    const made = (await client.registry.create(r.claims, "default", pvc, { dryRun: false })).obj;
    const pvName = `pvc-${made.metadata.uid}`;
    const pv = await until("volume", () => client.get(r.volumes, undefined, pvName));
    const spec = pv["spec"] as Record<string, unknown>;
    assert.deepEqual(spec["nfs"], { server: "172.20.70.205", path: "/data/nfs/k8s/default" });
    assert.deepEqual(spec["capacity"], { storage: "1Mi" });
    assert.deepEqual(spec["accessModes"], ["ReadWriteMany"]);
    assert.equal(spec["storageClassName"], "managed-nfs-storage");
    assert.deepEqual(await readdir(root), ["default"]);
    // test-pod: touch /mnt/SUCCESS
    await writeFile(join(root, "default", "SUCCESS"), "");
    await setPhase(client, pvName, "Released");
    await volumeReleasedByProvisioner(client, pvName);
    assert.deepEqual(await readdir(root), []);
  });

  it("a claim annotated ../../etc is refused with ProvisioningFailed and nothing is made", async () => {
    await makeClaim(client, "escape", "managed-nfs-storage", NFS_SUBDIR_PROVISIONER, {
      annotations: { "nfs.io/storage-path": "../../etc" },
    });
    const failed = await eventWith(client, "escape", "ProvisioningFailed");
    assert.match(
      failed.message,
      /^failed to provision volume with StorageClass "managed-nfs-storage": path .* climbs out/,
    );
    assert.deepEqual(await readdir(root), []);
    assert.deepEqual(await readdir(base), ["persistentvolumes"]);
  });

  it("a claim of a class with a symlink planted in its pattern's path is refused", async () => {
    await makeClass(client, "nfs-nested", NFS_SUBDIR_PROVISIONER, {
      parameters: { pathPattern: "${.PVC.namespace}/${.PVC.name}" },
    });
    await symlink(base, join(root, "default"));
    await makeClaim(client, "via-link", "nfs-nested", NFS_SUBDIR_PROVISIONER);
    const failed = await eventWith(client, "via-link", "ProvisioningFailed");
    assert.match(failed.message, /refusing to follow the symbolic link/);
    assert.deepEqual((await readdir(base)).sort(), ["persistentvolumes"]);
  });
});
