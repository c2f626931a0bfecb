/**
 * subPath / subPathExpr: escapes refused (absolute, `..`, symlinks out of the volume), the verified
 * inode pinned even when a container swaps the path for a symlink after the check, missing
 * directories created safely, and nothing left mounted after tearDown.
 */
import assert from "node:assert/strict";
import { lstat, mkdir, readdir, readFile, rename, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../../src/api/types.js";
import { type PodVolumes, VolumeError, VolumeManager } from "../../../src/kubelet/volumes/index.js";
import { expandSubPathExpr, prepareSubPath, subPathSyntaxError } from "../../../src/kubelet/volumes/subpath.js";
import { allocatable, cleanup, FakeClient, isRoot, makePod, mountsBelow, tempRoot } from "./helpers.js";

let root = "";
const client = new FakeClient();
const rootOnly = { skip: isRoot ? false : "bind mounts need root" };

function manager(extra: Partial<ConstructorParameters<typeof VolumeManager>[0]> = {}): VolumeManager {
  return new VolumeManager({ client, rootDir: root, nodeName: "n", nodeAllocatable: allocatable, ...extra });
}

before(async () => {
  root = await tempRoot("subpath");
});
after(async () => {
  await cleanup(root);
});

describe("subPathExpr expansion (upstream ExpandContainerVolumeMounts)", () => {
  const env = { POD_NAME: "web-0", NS: "shop", EMPTY: "" };
  const cases: Array<[string, string | Error]> = [
    ["$(POD_NAME)", "web-0"],
    ["logs/$(NS)/$(POD_NAME)", "logs/shop/web-0"],
    ["cost$$5", "cost$5"],
    ["$(MISSING)/x", new Error("missing value for MISSING")],
    ["$(EMPTY)$(B)$(A)", new Error("missing value for A, B, EMPTY")],
    ["plain", "plain"],
  ];
  for (const [expr, want] of cases) {
    it(`${expr} → ${want instanceof Error ? want.message : want}`, () => {
      if (want instanceof Error) assert.throws(() => expandSubPathExpr(expr, env), { message: want.message });
      else assert.equal(expandSubPathExpr(expr, env), want);
    });
  }
});

describe("subPath syntax is refused as upstream's makeMounts words it", () => {
  const cases: Array<[string, string | undefined]> = [
    ["a/b", undefined],
    ["/etc", "error SubPath `/etc` must not be an absolute path"],
    ["../x", "unable to provision SubPath `../x`: must not contain '..'"],
    ["a/../../x", "unable to provision SubPath `a/../../x`: must not contain '..'"],
    ["a..b", undefined],
  ];
  for (const [p, want] of cases) it(`${p} → ${want ?? "accepted"}`, () => assert.equal(subPathSyntaxError(p), want));
});

interface Fixture {
  m: VolumeManager;
  pod: KObject;
  vols: PodVolumes;
  vol: string;
}

async function emptyDirPod(extra: Partial<ConstructorParameters<typeof VolumeManager>[0]> = {}): Promise<Fixture> {
  const m = manager(extra);
  const pod = makePod({ volumes: [{ name: "data", emptyDir: {} }] });
  const vols = await m.setUp(pod);
  return { m, pod, vols, vol: vols.volumes.get("data")!.path };
}

function mountAt(subPath: string, extra: Record<string, unknown> = {}) {
  return { name: "c", volumeMounts: [{ name: "data", mountPath: "/mnt", subPath, ...extra }] };
}

async function refused(p: Promise<unknown>): Promise<VolumeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof VolumeError, String(err));
    assert.equal(err.reason, "CreateContainerConfigError");
    return err;
  }
  assert.fail("the subPath was accepted");
}

describe("subPath mounts", () => {
  it("pins the subdirectory with a bind mount at volume-subpaths/<volume>/<container>/<index>", rootOnly, async () => {
    const f = await emptyDirPod();
    await mkdir(join(f.vol, "site/html"), { recursive: true });
    await writeFile(join(f.vol, "site/html/index.html"), "hello");
    const [mount] = await f.m.containerMounts(f.pod, mountAt("site/html"), f.vols, {});
    const target = join(root, "pods", f.pod.metadata.uid!, "volume-subpaths", "data", "c", "0");
    assert.deepEqual(mount, { containerPath: "/mnt", hostPath: target, readOnly: false });
    assert.deepEqual(await mountsBelow(target), [target]);
    assert.equal(await readFile(join(target, "index.html"), "utf8"), "hello");
    assert.equal((await stat(target)).ino, (await stat(join(f.vol, "site/html"))).ino);
    // the kubelet calls it again on every container start: the pin is reused, not stacked
    await f.m.containerMounts(f.pod, mountAt("site/html"), f.vols, {});
    assert.deepEqual(await mountsBelow(target), [target]);
    await f.m.tearDown(f.pod.metadata.uid!);
    assert.deepEqual(await mountsBelow(join(root, "pods", f.pod.metadata.uid!)), []);
  });

  it("a file subPath is bind-mounted as a file, read-only when the volumeMount says so", rootOnly, async () => {
    const f = await emptyDirPod();
    await writeFile(join(f.vol, "app.conf"), "x=1");
    const [mount] = await f.m.containerMounts(f.pod, mountAt("app.conf", { readOnly: true }), f.vols, {});
    assert.equal(mount?.file, true);
    assert.equal(mount?.readOnly, true);
    assert.ok((await lstat(mount!.hostPath)).isFile());
    assert.equal(await readFile(mount!.hostPath, "utf8"), "x=1");
    await f.m.tearDown(f.pod.metadata.uid!);
  });

  it("a missing subPath directory is created inside the volume with the volume's mode", rootOnly, async () => {
    const f = await emptyDirPod();
    await f.m.containerMounts(f.pod, mountAt("new/deeper"), f.vols, {});
    for (const d of ["new", "new/deeper"]) assert.equal((await stat(join(f.vol, d))).mode & 0o7777, 0o777, d);
    await f.m.tearDown(f.pod.metadata.uid!);
  });

  it("subPathExpr is expanded from the container's environment", rootOnly, async () => {
    const f = await emptyDirPod();
    const container = { name: "c", volumeMounts: [{ name: "data", mountPath: "/logs", subPathExpr: "$(POD_NAME)" }] };
    await f.m.containerMounts(f.pod, container, f.vols, { POD_NAME: "web-0" });
    assert.ok((await stat(join(f.vol, "web-0"))).isDirectory());
    await refused(f.m.containerMounts(f.pod, container, f.vols, {}));
    await f.m.tearDown(f.pod.metadata.uid!);
  });

  it("absolute and '..' subPaths are refused before anything is touched", async () => {
    const f = await emptyDirPod({ mounts: false });
    let err = await refused(f.m.containerMounts(f.pod, mountAt("/etc"), f.vols, {}));
    assert.equal(err.message, "error SubPath `/etc` must not be an absolute path");
    err = await refused(f.m.containerMounts(f.pod, mountAt("x/../../../etc"), f.vols, {}));
    assert.equal(err.message, "unable to provision SubPath `x/../../../etc`: must not contain '..'");
    err = await refused(
      f.m.containerMounts(
        f.pod,
        { name: "c", volumeMounts: [{ name: "data", mountPath: "/m", subPathExpr: "$(P)" }] },
        f.vols,
        {
          P: "../../etc",
        },
      ),
    );
    assert.equal(err.message, "unable to provision SubPath `../../etc`: must not contain '..'");
    assert.deepEqual(await readdir(f.vol), []);
  });

  it(
    "a symlink to / inside the volume is refused with upstream's message (details only in the log)",
    rootOnly,
    async () => {
      const f = await emptyDirPod();
      await symlink("/", join(f.vol, "escape"));
      for (const sub of ["escape", "escape/etc"]) {
        const err = await refused(f.m.containerMounts(f.pod, mountAt(sub), f.vols, {}));
        assert.equal(err.message, 'failed to prepare subPath for volumeMount "data" of container "c"');
        assert.match(err.detail ?? "", /not within volume path/);
      }
      assert.deepEqual(await mountsBelow(join(root, "pods", f.pod.metadata.uid!)), []);
      await f.m.tearDown(f.pod.metadata.uid!);
    },
  );

  it("no directory is created through a symlink leading out of the volume", rootOnly, async () => {
    const f = await emptyDirPod();
    const outside = join(root, "outside");
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(f.vol, "link"));
    const err = await refused(f.m.containerMounts(f.pod, mountAt("link/planted"), f.vols, {}));
    assert.equal(err.message, 'failed to create subPath directory for volumeMount "data" of container "c"');
    assert.deepEqual(await readdir(outside), []);
    await f.m.tearDown(f.pod.metadata.uid!);
  });

  it(
    "a symlink pointing inside the volume is followed (it is resolved, then the target opened safely)",
    rootOnly,
    async () => {
      const f = await emptyDirPod();
      await mkdir(join(f.vol, "real"));
      await writeFile(join(f.vol, "real/marker"), "inside");
      await symlink("real", join(f.vol, "alias"));
      const [mount] = await f.m.containerMounts(f.pod, mountAt("alias"), f.vols, {});
      assert.equal(await readFile(join(mount!.hostPath, "marker"), "utf8"), "inside");
      await f.m.tearDown(f.pod.metadata.uid!);
    },
  );

  it(
    "race: the directory swapped for a symlink to / after the check — the mount is still the verified inode",
    rootOnly,
    async () => {
      const f = await emptyDirPod();
      await mkdir(join(f.vol, "work"));
      await writeFile(join(f.vol, "work/marker"), "verified");
      const originalIno = (await stat(join(f.vol, "work"))).ino;
      const target = join(root, "pods", f.pod.metadata.uid!, "volume-subpaths", "data", "c", "0");
      const prepared = await prepareSubPath(
        { volumePath: f.vol, subPath: "work", target },
        {
          afterOpen: async () => {
            // a container replaces the checked directory by a symlink to the host's root
            await rename(join(f.vol, "work"), join(f.vol, "work-moved"));
            await symlink("/", join(f.vol, "work"));
          },
        },
      );
      assert.equal(prepared.hostPath, target);
      const pinned = await stat(target);
      assert.equal(pinned.ino, originalIno, "the bind mount is the inode that was verified");
      assert.notEqual(pinned.ino, (await stat("/")).ino);
      assert.equal(await readFile(join(target, "marker"), "utf8"), "verified");
      await assert.rejects(stat(join(target, "etc/passwd")), { code: "ENOENT" });
      await f.m.tearDown(f.pod.metadata.uid!);
      assert.deepEqual(await mountsBelow(join(root, "pods", f.pod.metadata.uid!)), []);
    },
  );

  it("race: a component swapped for a symlink after resolution is caught by the no-follow walk", rootOnly, async () => {
    const f = await emptyDirPod();
    await mkdir(join(f.vol, "a/etc"), { recursive: true });
    const target = join(root, "pods", f.pod.metadata.uid!, "volume-subpaths", "data", "c", "0");
    await assert.rejects(
      prepareSubPath(
        { volumePath: f.vol, subPath: "a/etc", target },
        {
          afterResolve: async () => {
            await rename(join(f.vol, "a"), join(f.vol, "a-moved"));
            await symlink("/", join(f.vol, "a"));
          },
        },
      ),
      /unexpected symlink found .*\/a$/,
    );
    assert.deepEqual(await mountsBelow(join(root, "pods", f.pod.metadata.uid!)), []);
    await f.m.tearDown(f.pod.metadata.uid!);
  });

  it("without mount rights a subPath fails saying why", async () => {
    const f = await emptyDirPod({ mounts: false });
    const err = await refused(f.m.containerMounts(f.pod, mountAt("x"), f.vols, {}));
    assert.match(
      err.message,
      /^failed to prepare subPath for volumeMount "data" of container "c": subPath needs mounting, which needs root/,
    );
  });

  it("subPaths of several containers and volumes are all unmounted by tearDown", rootOnly, async () => {
    const m = manager();
    client.put("configmaps", { metadata: { name: "cm", namespace: "default" }, data: { "nginx.conf": "events {}" } });
    const pod = makePod({
      volumes: [
        { name: "data", emptyDir: {} },
        { name: "cfg", configMap: { name: "cm" } },
      ],
    });
    const vols = await m.setUp(pod);
    const a = {
      name: "a",
      volumeMounts: [
        { name: "data", mountPath: "/x", subPath: "x" },
        { name: "cfg", mountPath: "/etc/nginx/nginx.conf", subPath: "nginx.conf" },
      ],
    };
    const b = { name: "b", volumeMounts: [{ name: "data", mountPath: "/y", subPath: "y" }] };
    const mounts = await m.containerMounts(pod, a, vols, {});
    assert.equal(await readFile(mounts[1]!.hostPath, "utf8"), "events {}");
    assert.equal(mounts[1]!.readOnly, true);
    await m.containerMounts(pod, b, vols, {});
    const podDir = join(root, "pods", pod.metadata.uid!);
    assert.equal((await mountsBelow(podDir)).length, 3);
    await m.tearDown(pod.metadata.uid!);
    assert.deepEqual(await mountsBelow(podDir), []);
    await assert.rejects(stat(join(podDir, "volume-subpaths")), { code: "ENOENT" });
    await assert.rejects(stat(join(podDir, "volumes")), { code: "ENOENT" });
  });
});
