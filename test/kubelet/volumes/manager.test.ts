/** The volume manager end to end on a temporary kubelet root, with an in-memory API client. */
import assert from "node:assert/strict";
import { lstat, readdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../../src/api/types.js";
import { emptyDirsOverLimit, VolumeError, VolumeManager } from "../../../src/kubelet/volumes/index.js";
import { allocatable, cleanup, FakeClient, fsType, isRoot, makePod, mountsBelow, tempRoot } from "./helpers.js";

let root = "";
let now = Date.UTC(2025, 0, 1);
const client = new FakeClient(() => now);

function manager(extra: Partial<ConstructorParameters<typeof VolumeManager>[0]> = {}): VolumeManager {
  return new VolumeManager({
    client,
    rootDir: root,
    nodeName: "node-1",
    nodeAllocatable: allocatable,
    now: () => now,
    tokenJitter: () => 0,
    ...extra,
  });
}

const vm = () => manager();
const rootOnly = { skip: isRoot ? false : "mounting tmpfs needs root" };

function volDir(pod: KObject, plugin: string, name: string): string {
  return join(root, "pods", pod.metadata.uid!, "volumes", `kubernetes.io~${plugin}`, name);
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
  root = await tempRoot("volumes");
  client.put("serviceaccounts", { metadata: { name: "default", namespace: "default" } });
  client.put("configmaps", {
    metadata: { name: "app-config", namespace: "default" },
    data: { "app.properties": "color=blue", "log.level": "info" },
  });
  client.put("configmaps", {
    metadata: { name: "kube-root-ca.crt", namespace: "default" },
    data: { "ca.crt": "-----BEGIN CERTIFICATE-----\n" },
  });
  client.put("secrets", {
    metadata: { name: "db", namespace: "default" },
    data: { user: Buffer.from("admin").toString("base64"), pass: Buffer.from("hunter2").toString("base64") },
  });
});

after(async () => {
  await cleanup(root);
});

describe("configMap volumes", () => {
  it("projects every key read-only under kubernetes.io~configmap/<name> with the atomic writer's layout", async () => {
    const pod = makePod({ volumes: [{ name: "cfg", configMap: { name: "app-config", defaultMode: 0o644 } }] });
    const vols = await vm().setUp(pod);
    const dir = volDir(pod, "configmap", "cfg");
    assert.deepEqual(vols.volumes.get("cfg"), {
      name: "cfg",
      plugin: "kubernetes.io/configmap",
      path: dir,
      readOnly: true,
      file: false,
    });
    assert.equal(await readFile(join(dir, "app.properties"), "utf8"), "color=blue");
    assert.equal(await readlink(join(dir, "log.level")), "..data/log.level");
    assert.equal((await stat(join(dir, "log.level"))).mode & 0o777, 0o644);
    assert.equal((await stat(dir)).mode & 0o777, 0o777);
  });

  it("items choose keys and paths, per-item modes over defaultMode", async () => {
    const pod = makePod({
      volumes: [
        {
          name: "cfg",
          configMap: {
            name: "app-config",
            defaultMode: 0o600,
            items: [
              { key: "app.properties", path: "conf/app.properties" },
              { key: "log.level", path: "level", mode: 0o444 },
            ],
          },
        },
      ],
    });
    await vm().setUp(pod);
    const dir = volDir(pod, "configmap", "cfg");
    assert.deepEqual((await readdir(dir)).filter((n) => !n.startsWith("..")).sort(), ["conf", "level"]);
    assert.equal((await stat(join(dir, "conf/app.properties"))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "level"))).mode & 0o777, 0o444);
  });

  it("a missing configMap fails as upstream's event says; an optional one is an empty volume", async () => {
    const m = vm();
    const err = await setUpFails(m, makePod({ volumes: [{ name: "cfg", configMap: { name: "x" } }] }));
    assert.equal(err.reason, "FailedMount");
    assert.equal(err.message, 'MountVolume.SetUp failed for volume "cfg" : configmap "x" not found');
    const pod = makePod({ volumes: [{ name: "cfg", configMap: { name: "x", optional: true } }] });
    await m.setUp(pod);
    const dir = volDir(pod, "configmap", "cfg");
    assert.deepEqual(
      (await readdir(dir)).filter((n) => !n.startsWith("..")),
      [],
    );
  });

  it("a missing key fails unless the configMap is optional", async () => {
    const items = [{ key: "k", path: "k" }];
    const err = await setUpFails(
      vm(),
      makePod({ volumes: [{ name: "cfg", configMap: { name: "app-config", items } }] }),
    );
    assert.equal(
      err.message,
      'MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: k',
    );
    await vm().setUp(makePod({ volumes: [{ name: "cfg", configMap: { name: "app-config", items, optional: true } }] }));
  });

  it("refresh() publishes a changed configMap atomically: new content, removed key gone", async () => {
    const m = vm();
    client.put("configmaps", { metadata: { name: "live", namespace: "default" }, data: { a: "1", b: "1" } });
    const pod = makePod({ volumes: [{ name: "cfg", configMap: { name: "live" } }] });
    await m.setUp(pod);
    const dir = volDir(pod, "configmap", "cfg");
    const v1 = await readlink(join(dir, "..data"));
    client.put("configmaps", { metadata: { name: "live", namespace: "default" }, data: { a: "2", c: "2" } });
    await m.refresh(pod);
    assert.notEqual(await readlink(join(dir, "..data")), v1);
    assert.equal(await readFile(join(dir, "a"), "utf8"), "2");
    assert.equal(await readFile(join(dir, "c"), "utf8"), "2");
    await assert.rejects(lstat(join(dir, "b")), { code: "ENOENT" });
    await assert.rejects(lstat(join(dir, v1)), { code: "ENOENT" });
  });

  it("a configMap deleted after set-up keeps its last content and reports the failure", async () => {
    const m = vm();
    client.put("configmaps", { metadata: { name: "doomed", namespace: "default" }, data: { a: "1" } });
    const pod = makePod({ volumes: [{ name: "cfg", configMap: { name: "doomed" } }] });
    await m.setUp(pod);
    client.remove("configmaps", "default", "doomed");
    await assert.rejects(m.refresh(pod), {
      message: 'MountVolume.SetUp failed for volume "cfg" : configmap "doomed" not found',
    });
    assert.equal(await readFile(join(volDir(pod, "configmap", "cfg"), "a"), "utf8"), "1");
  });

  it("creates mount points for volumes mounted below it inside the read-only volume", async () => {
    const pod = makePod({
      volumes: [
        { name: "cfg", configMap: { name: "app-config" } },
        { name: "scratch", emptyDir: {} },
      ],
      containers: [
        {
          name: "c",
          volumeMounts: [
            { name: "cfg", mountPath: "/etc/app" },
            { name: "scratch", mountPath: "/etc/app/cache/tmp" },
          ],
        },
      ],
    });
    await vm().setUp(pod);
    assert.ok((await lstat(join(volDir(pod, "configmap", "cfg"), "cache/tmp"))).isDirectory());
  });
});

describe("secret volumes", () => {
  it("decodes data into files on a tmpfs (secrets never touch the node's disk)", rootOnly, async () => {
    const pod = makePod({ volumes: [{ name: "creds", secret: { secretName: "db", defaultMode: 0o400 } }] });
    await vm().setUp(pod);
    const dir = volDir(pod, "secret", "creds");
    assert.equal(fsType(dir), "tmpfs");
    assert.equal(await readFile(join(dir, "pass"), "utf8"), "hunter2");
    assert.equal((await stat(join(dir, "pass"))).mode & 0o777, 0o400);
    await vm().tearDown(pod.metadata.uid!);
  });

  it("a missing secret and a missing key fail with upstream's messages", async () => {
    const m = manager({ mounts: false });
    let err = await setUpFails(m, makePod({ volumes: [{ name: "creds", secret: { secretName: "nope" } }] }));
    assert.equal(err.message, 'MountVolume.SetUp failed for volume "creds" : secret "nope" not found');
    err = await setUpFails(
      m,
      makePod({ volumes: [{ name: "creds", secret: { secretName: "db", items: [{ key: "token", path: "t" }] } }] }),
    );
    assert.equal(
      err.message,
      'MountVolume.SetUp failed for volume "creds" : references non-existent secret key: token',
    );
  });

  it("setUp reports every failing volume, the first as the error itself", async () => {
    const pod = makePod({
      volumes: [
        { name: "a", secret: { secretName: "nope" } },
        { name: "b", configMap: { name: "nope" } },
      ],
    });
    const err = await setUpFails(manager({ mounts: false }), pod);
    assert.deepEqual(
      err.failures.map((f) => f.message),
      [
        'MountVolume.SetUp failed for volume "a" : secret "nope" not found',
        'MountVolume.SetUp failed for volume "b" : configmap "nope" not found',
      ],
    );
  });
});

describe("downwardAPI volumes", () => {
  it("writes fields in upstream's formats and resources in divisor units", async () => {
    const pod = makePod(
      {
        volumes: [
          {
            name: "info",
            downwardAPI: {
              defaultMode: 0o644,
              items: [
                { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
                { path: "annotations", fieldRef: { fieldPath: "metadata.annotations" } },
                { path: "name", fieldRef: { fieldPath: "metadata.name" } },
                { path: "uid", fieldRef: { fieldPath: "metadata.uid" } },
                { path: "mem", resourceFieldRef: { containerName: "c", resource: "limits.memory", divisor: "1Mi" } },
                { path: "cpu", resourceFieldRef: { containerName: "c", resource: "limits.cpu", divisor: "1m" } },
              ],
            },
          },
        ],
        containers: [{ name: "c", resources: { limits: { memory: "256Mi" } } }],
      },
      { labels: { tier: "front", app: "web" }, annotations: { "build/commit": 'abc"1' } },
    );
    await vm().setUp(pod);
    const dir = volDir(pod, "downward-api", "info");
    const read = (f: string) => readFile(join(dir, f), "utf8");
    assert.equal(await read("labels"), 'app="web"\ntier="front"');
    assert.equal(await read("annotations"), 'build/commit="abc\\"1"');
    assert.equal(await read("name"), "web");
    assert.equal(await read("uid"), pod.metadata.uid);
    assert.equal(await read("mem"), "256");
    // no cpu limit: the node's allocatable (4 cores)
    assert.equal(await read("cpu"), "4000");
  });

  it("refresh() follows label changes", async () => {
    const m = vm();
    const pod = makePod(
      {
        volumes: [
          { name: "info", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        ],
      },
      { labels: { v: "1" } },
    );
    await m.setUp(pod);
    pod.metadata.labels = { v: "2" };
    await m.refresh(pod);
    assert.equal(await readFile(join(volDir(pod, "downward-api", "info"), "labels"), "utf8"), 'v="2"');
  });
});

describe("projected volumes", () => {
  const kubeApiAccess = {
    name: "kube-api-access-x7k2p",
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    },
  };

  it("the kube-api-access volume holds a pod-bound token, ca.crt and namespace", async () => {
    const m = manager({ mounts: false });
    const pod = makePod({ volumes: [kubeApiAccess] });
    const calls = client.tokenCalls.length;
    await m.setUp(pod);
    const dir = volDir(pod, "projected", "kube-api-access-x7k2p");
    assert.match(await readFile(join(dir, "token"), "utf8"), /^token-\d+$/);
    assert.equal(await readFile(join(dir, "ca.crt"), "utf8"), "-----BEGIN CERTIFICATE-----\n");
    assert.equal(await readFile(join(dir, "namespace"), "utf8"), "default");
    assert.equal((await stat(join(dir, "token"))).mode & 0o777, 0o644);
    assert.deepEqual(client.tokenCalls.slice(calls), [
      {
        namespace: "default",
        serviceAccount: "default",
        spec: {
          audiences: [],
          expirationSeconds: 3607,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: "web", uid: pod.metadata.uid },
        },
      },
    ]);
  });

  it("refresh() renews the token once 80% of its lifetime passed, not before", async () => {
    const m = manager({ mounts: false });
    const pod = makePod({
      volumes: [{ name: "tok", projected: { sources: [{ serviceAccountToken: { audience: "vault", path: "t" } }] } }],
    });
    await m.setUp(pod);
    const file = join(volDir(pod, "projected", "tok"), "t");
    const first = await readFile(file, "utf8");
    now += 30 * 60 * 1000;
    await m.refresh(pod);
    assert.equal(await readFile(file, "utf8"), first);
    now += 20 * 60 * 1000;
    await m.refresh(pod);
    assert.notEqual(await readFile(file, "utf8"), first);
    assert.deepEqual(client.tokenCalls.at(-1)?.spec["audiences"], ["vault"]);
    assert.equal(client.tokenCalls.at(-1)?.spec["expirationSeconds"], 3600);
  });

  it("with fsGroup and a common runAsUser the token is owned by that user, 0640 (upstream)", rootOnly, async () => {
    const pod = makePod({
      securityContext: { fsGroup: 2000, runAsUser: 1000 },
      volumes: [
        { name: "tok", projected: { defaultMode: 0o644, sources: [{ serviceAccountToken: { path: "token" } }] } },
      ],
    });
    await manager({ mounts: false }).setUp(pod);
    const st = await stat(join(volDir(pod, "projected", "tok"), "token"));
    assert.equal(st.uid, 1000);
    assert.equal(st.gid, 2000);
    assert.equal(st.mode & 0o777, 0o640);
  });

  it("clusterTrustBundle sources fail saying they are not supported", async () => {
    const pod = makePod({
      volumes: [{ name: "ctb", projected: { sources: [{ clusterTrustBundle: { name: "x", path: "b.pem" } }] } }],
    });
    const err = await setUpFails(manager({ mounts: false }), pod);
    assert.match(
      err.message,
      /^MountVolume.SetUp failed for volume "ctb" : clusterTrustBundle projections are not supported/,
    );
  });

  it("a token for a missing service account fails the volume (nothing is half-written)", async () => {
    const pod = makePod({
      serviceAccountName: "ghost",
      volumes: [
        {
          name: "mix",
          projected: { sources: [{ configMap: { name: "app-config" } }, { serviceAccountToken: { path: "token" } }] },
        },
      ],
    });
    const err = await setUpFails(manager({ mounts: false }), pod);
    assert.equal(
      err.message,
      'MountVolume.SetUp failed for volume "mix" : failed to fetch token: serviceaccounts "ghost" not found',
    );
    assert.deepEqual(await readdir(volDir(pod, "projected", "mix")), []);
  });
});

describe("emptyDir volumes", () => {
  it("is a 0777 directory on the node's disk", async () => {
    const pod = makePod({ volumes: [{ name: "scratch", emptyDir: {} }] });
    const vols = await vm().setUp(pod);
    const dir = volDir(pod, "empty-dir", "scratch");
    assert.equal(vols.volumes.get("scratch")?.readOnly, false);
    assert.equal((await stat(dir)).mode & 0o777, 0o777);
  });

  it("usage() reports bytes used, and emptyDirsOverLimit names volumes past their sizeLimit", async () => {
    const m = vm();
    const pod = makePod({ volumes: [{ name: "scratch", emptyDir: { sizeLimit: "64Ki" } }] });
    await m.setUp(pod);
    await writeFile(join(volDir(pod, "empty-dir", "scratch"), "blob"), Buffer.alloc(256 * 1024, 1));
    const usage = await m.usage(pod.metadata.uid!);
    assert.ok((usage.get("scratch") ?? 0) >= 256 * 1024, JSON.stringify([...usage]));
    assert.deepEqual(emptyDirsOverLimit(pod, usage), [
      { volume: "scratch", message: 'Usage of EmptyDir volume "scratch" exceeds the limit "64Ki". ' },
    ]);
  });

  it("medium Memory is a tmpfs of sizeLimit, set up once however often setUp runs", rootOnly, async () => {
    const m = vm();
    const pod = makePod({ volumes: [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }] });
    await m.setUp(pod);
    await m.setUp(pod);
    const dir = volDir(pod, "empty-dir", "shm");
    assert.equal(fsType(dir), "tmpfs");
    assert.deepEqual(await mountsBelow(dir), [dir]);
    const { execFileSync } = await import("node:child_process");
    const blocks = execFileSync("stat", ["-f", "-c", "%b %S", dir], { encoding: "utf8" }).trim().split(" ");
    assert.equal(Number(blocks[0]) * Number(blocks[1]), 16 * 1024 * 1024);
    assert.equal((await stat(dir)).mode & 0o777, 0o777);
    await m.tearDown(pod.metadata.uid!);
    assert.deepEqual(await mountsBelow(join(root, "pods", pod.metadata.uid!)), []);
  });

  it("medium Memory without mount rights fails saying why", async () => {
    const pod = makePod({ volumes: [{ name: "shm", emptyDir: { medium: "Memory" } }] });
    const err = await setUpFails(manager({ mounts: false }), pod);
    assert.match(
      err.message,
      /^MountVolume.SetUp failed for volume "shm" : emptyDir medium Memory needs mounting, which needs root/,
    );
  });
});

describe("hostPath volumes", () => {
  it("uses the host path itself; a file is marked so the runtime bind-mounts a file", async () => {
    const file = join(root, "host-file");
    await writeFile(file, "x");
    const pod = makePod({
      volumes: [
        { name: "f", hostPath: { path: file, type: "File" } },
        { name: "d", hostPath: { path: join(root, "host-dir"), type: "DirectoryOrCreate" } },
      ],
    });
    const vols = await vm().setUp(pod);
    assert.deepEqual(vols.volumes.get("f"), {
      name: "f",
      plugin: "kubernetes.io/host-path",
      path: file,
      readOnly: false,
      file: true,
    });
    assert.equal(vols.volumes.get("d")?.file, false);
  });

  it("type check failures and FileOrCreate without a parent are reported as upstream", async () => {
    let err = await setUpFails(
      vm(),
      makePod({ volumes: [{ name: "h", hostPath: { path: "/etc/hostname", type: "Directory" } }] }),
    );
    assert.equal(
      err.message,
      'MountVolume.SetUp failed for volume "h" : hostPath type check failed: /etc/hostname is not a directory',
    );
    const missing = join(root, "no-such-dir", "f");
    err = await setUpFails(
      vm(),
      makePod({ volumes: [{ name: "h", hostPath: { path: missing, type: "FileOrCreate" } }] }),
    );
    assert.equal(err.message, `MountVolume.SetUp failed for volume "h" : open ${missing}: no such file or directory`);
  });
});

describe("persistentVolumeClaim volumes", () => {
  const claimPod = () => makePod({ volumes: [{ name: "data", persistentVolumeClaim: { claimName: "p" } }] });

  it("a claim that does not exist fails as upstream's volume manager says", async () => {
    const err = await setUpFails(vm(), claimPod());
    assert.equal(
      err.message,
      'error processing PVC default/p: failed to fetch PVC from API server: persistentvolumeclaims "p" not found',
    );
  });

  it("an unbound claim fails", async () => {
    client.put("persistentvolumeclaims", {
      metadata: { name: "p", namespace: "default" },
      spec: {},
      status: { phase: "Pending" },
    });
    assert.equal((await setUpFails(vm(), claimPod())).message, "error processing PVC default/p: PVC is not bound");
  });

  it("without the storage component a bound claim fails saying so; with it, its mount is used", async () => {
    client.put("persistentvolumeclaims", {
      metadata: { name: "p", namespace: "default" },
      spec: { volumeName: "pv-1" },
      status: { phase: "Bound" },
    });
    const err = await setUpFails(vm(), claimPod());
    assert.match(
      err.message,
      /^error processing PVC default\/p: persistentVolumeClaim volumes are mounted by the storage component, which is not running/,
    );
    const pvDir = join(root, "pv-1");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(pvDir, { recursive: true });
    const seen: string[] = [];
    const m = manager({
      pvc: async (req) => {
        seen.push(`${req.volumeName}:${String((req.claim["spec"] as Record<string, unknown>)["volumeName"])}`);
        return { path: pvDir };
      },
    });
    const vols = await m.setUp(claimPod());
    assert.deepEqual(seen, ["data:pv-1"]);
    assert.equal(vols.volumes.get("data")?.path, pvDir);
  });
});

describe("unsupported and malformed volumes", () => {
  it("an in-tree network volume type fails saying it is not supported", async () => {
    const err = await setUpFails(vm(), makePod({ volumes: [{ name: "n", nfs: { server: "x", path: "/" } }] }));
    assert.equal(
      err.message,
      'MountVolume.SetUp failed for volume "n" : nfs volumes are not supported by this k8ts node agent',
    );
  });
  it("a volume name that would leave the pod's directory is refused", async () => {
    const err = await setUpFails(vm(), makePod({ volumes: [{ name: "../../x", emptyDir: {} }] }));
    assert.match(err.message, /invalid volume name/);
  });
});

describe("container mounts", () => {
  it("configMap volumes are read-only whatever the volumeMount says; readOnly volumeMounts are honoured", async () => {
    const m = vm();
    const pod = makePod({
      volumes: [
        { name: "cfg", configMap: { name: "app-config" } },
        { name: "scratch", emptyDir: {} },
      ],
    });
    const vols = await m.setUp(pod);
    const container = {
      name: "c",
      volumeMounts: [
        { name: "cfg", mountPath: "/etc/app" },
        { name: "scratch", mountPath: "data", readOnly: true },
        { name: "scratch", mountPath: "/rw" },
      ],
    };
    assert.deepEqual(await m.containerMounts(pod, container, vols, {}), [
      { containerPath: "/etc/app", hostPath: volDir(pod, "configmap", "cfg"), readOnly: true },
      { containerPath: "/data", hostPath: volDir(pod, "empty-dir", "scratch"), readOnly: true },
      { containerPath: "/rw", hostPath: volDir(pod, "empty-dir", "scratch"), readOnly: false },
    ]);
  });

  it("a mount of an unknown volume fails as upstream (CreateContainerConfigError)", async () => {
    const m = vm();
    const pod = makePod({ volumes: [] });
    const vols = await m.setUp(pod);
    await assert.rejects(
      m.containerMounts(pod, { name: "c", volumeMounts: [{ name: "x", mountPath: "/x" }] }, vols, {}),
      {
        reason: "CreateContainerConfigError",
        message: 'cannot find volume "x" to mount into container "c"',
      },
    );
  });
});

describe("tearDown", () => {
  it("unmounts every tmpfs before removing the pod's volumes, leaving no mount behind", rootOnly, async () => {
    const m = vm();
    const pod = makePod({
      volumes: [
        { name: "creds", secret: { secretName: "db" } },
        { name: "shm", emptyDir: { medium: "Memory" } },
        { name: "cfg", configMap: { name: "app-config" } },
        { name: "scratch", emptyDir: {} },
      ],
    });
    await m.setUp(pod);
    const podDir = join(root, "pods", pod.metadata.uid!);
    assert.equal((await mountsBelow(podDir)).length, 2);
    await writeFile(join(volDir(pod, "empty-dir", "scratch"), "f"), "x");
    await m.tearDown(pod.metadata.uid!);
    assert.deepEqual(await mountsBelow(podDir), []);
    await assert.rejects(stat(join(podDir, "volumes")), { code: "ENOENT" });
    // idempotent
    await m.tearDown(pod.metadata.uid!);
  });

  it("never deletes through a mount it did not make: it unmounts it first", rootOnly, async () => {
    const m = vm();
    const pod = makePod({ volumes: [{ name: "scratch", emptyDir: {} }] });
    await m.setUp(pod);
    // something else (say a storage mount) bind-mounted into the volume
    const outside = join(root, "precious");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, "keep.txt"), "do not delete");
    const target = join(volDir(pod, "empty-dir", "scratch"), "mnt");
    await mkdir(target);
    const { execFileSync } = await import("node:child_process");
    execFileSync("mount", ["--bind", outside, target]);
    await m.tearDown(pod.metadata.uid!);
    assert.equal(await readFile(join(outside, "keep.txt"), "utf8"), "do not delete");
    assert.deepEqual(await mountsBelow(join(root, "pods", pod.metadata.uid!)), []);
  });
});
