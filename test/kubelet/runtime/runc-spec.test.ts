import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALL_CAPABILITIES,
  bindMounts,
  boundingSetOf,
  buildSpec,
  capabilitiesOf,
  cleanContainerPath,
  containerEnv,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  milliCpuToQuota,
  milliCpuToShares,
  type SpecInput,
} from "../../../src/kubelet/runtime/runc/spec.js";

const base = (extra: Partial<SpecInput> = {}): SpecInput => ({
  argv: ["/bin/true"],
  env: ["PATH=/bin"],
  cwd: "/",
  uid: 0,
  gid: 0,
  tty: false,
  hostname: "web-0",
  rootfs: "/var/lib/k8ts/runc/containers/x/rootfs",
  readonlyRootfs: false,
  netnsPath: "/run/netns/k8ts-abc",
  cgroupsPath: "/k8ts/podu/x",
  cgroupVersion: 1,
  mounts: [],
  resources: { cpuRequestMilli: 0, cpuLimitMilli: 0, memoryLimitBytes: 0 },
  limitSwap: false,
  privileged: false,
  hostCapabilities: ALL_CAPABILITIES,
  hostDevices: [],
  maskedPaths: ["/root/.k8ts"],
  maskMounts: [],
  annotations: {},
  ...extra,
});

describe("runc spec: CPU as upstream's kubelet converts it", () => {
  const shares: Array<[number, number]> = [
    [0, 2],
    [1, 2],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [300_000, 262_144],
  ];
  for (const [milli, want] of shares) {
    it(`a request of ${milli}m is ${want} cpu shares`, () => assert.equal(milliCpuToShares(milli), want));
  }
  const quotas: Array<[number, number]> = [
    [0, 0],
    [5, 1000],
    [500, 50_000],
    [1500, 150_000],
  ];
  for (const [milli, want] of quotas) {
    it(`a limit of ${milli}m is a CFS quota of ${want} per 100 ms`, () => assert.equal(milliCpuToQuota(milli), want));
  }
});

describe("runc spec: the container's process", () => {
  it("gets containerd's 14 default capabilities when not privileged", () => {
    const s = buildSpec(base());
    assert.deepEqual(s.process.capabilities.bounding, DEFAULT_CAPABILITIES);
    assert.equal(s.process.capabilities.bounding.length, 14);
    assert.ok(!s.process.capabilities.bounding.includes("CAP_SYS_ADMIN"));
  });

  it("privileged gets every capability the runtime holds, no default masks, writable /sys", () => {
    const held = ALL_CAPABILITIES.filter((c) => c !== "CAP_SYS_RESOURCE");
    const s = buildSpec(base({ privileged: true, hostCapabilities: held }));
    assert.deepEqual(s.process.capabilities.bounding, held);
    assert.deepEqual(s.linux.maskedPaths, ["/root/.k8ts"], "our own masks stay even when privileged");
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.ok(s.mounts.find((m) => m.destination === "/sys")?.options?.includes("rw"));
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: "rwm" }]);
  });

  it("the default set is cut to what the runtime holds", () => {
    const s = buildSpec(base({ hostCapabilities: DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_NET_RAW") }));
    assert.ok(!s.process.capabilities.bounding.includes("CAP_NET_RAW"));
    assert.equal(s.process.capabilities.bounding.length, 13);
  });

  it("runs as runAsUser/runAsGroup with the argv, env and cwd given, a TTY when asked", () => {
    const s = buildSpec(base({ uid: 1000, gid: 2000, argv: ["sleep", "1"], cwd: "/work", tty: true }));
    assert.deepEqual(s.process.user, { uid: 1000, gid: 2000 });
    assert.deepEqual(s.process.args, ["sleep", "1"]);
    assert.equal(s.process.cwd, "/work");
    assert.equal(s.process.terminal, true);
    assert.equal(s.ociVersion, "1.0.2");
  });

  it("has its own pid, ipc, uts and mount namespaces and joins the pod's network namespace", () => {
    const s = buildSpec(base());
    assert.deepEqual(s.linux.namespaces, [
      { type: "pid" },
      { type: "ipc" },
      { type: "uts" },
      { type: "mount" },
      { type: "network", path: "/run/netns/k8ts-abc" },
    ]);
    assert.equal(s.hostname, "web-0");
  });

  it("host network: no network namespace; cgroup v2 adds a cgroup namespace", () => {
    const s = buildSpec(base({ netnsPath: undefined, cgroupVersion: 2 }));
    assert.ok(!s.linux.namespaces.some((n) => n.type === "network"));
    assert.ok(s.linux.namespaces.some((n) => n.type === "cgroup"));
  });

  it("masks containerd's default paths plus ours, and makes containerd's read-only paths read-only", () => {
    const s = buildSpec(base({ maskedPaths: ["/root/.k8ts", "/var/lib/k8ts/kubelet"] }));
    for (const p of DEFAULT_MASKED_PATHS) assert.ok(s.linux.maskedPaths.includes(p), p);
    assert.ok(s.linux.maskedPaths.includes("/root/.k8ts"));
    assert.ok(s.linux.maskedPaths.includes("/var/lib/k8ts/kubelet"));
    assert.deepEqual(s.linux.readonlyPaths, DEFAULT_READONLY_PATHS);
  });

  it("paths to hide that do not exist yet get an empty read-only tmpfs", () => {
    const s = buildSpec(base({ maskMounts: ["/var/lib/k8ts/kubelet"] }));
    const m = s.mounts.find((x) => x.destination === "/var/lib/k8ts/kubelet");
    assert.equal(m?.type, "tmpfs");
    assert.ok(m?.options?.includes("ro"));
  });

  it("has the usual /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup /run mounts first", () => {
    const s = buildSpec(base());
    assert.deepEqual(
      s.mounts.slice(0, 8).map((m) => m.destination),
      ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/run"],
    );
    assert.ok(s.mounts.find((m) => m.destination === "/sys")?.options?.includes("ro"));
  });

  it("a readonly root filesystem is the spec's root.readonly", () => {
    assert.equal(buildSpec(base({ readonlyRootfs: true })).root.readonly, true);
    assert.equal(buildSpec(base()).root.readonly, false);
  });

  it("limits memory (and swap, where it can be limited) and sets cpu shares, quota and period", () => {
    const r = { cpuRequestMilli: 250, cpuLimitMilli: 500, memoryLimitBytes: 64 << 20 };
    const s = buildSpec(base({ resources: r, limitSwap: true }));
    assert.deepEqual(s.linux.resources.memory, { limit: 64 << 20, swap: 64 << 20 });
    assert.deepEqual(s.linux.resources.cpu, { shares: 256, quota: 50_000, period: 100_000 });
    const t = buildSpec(base({ resources: r, limitSwap: false }));
    assert.deepEqual(t.linux.resources.memory, { limit: 64 << 20 });
  });

  it("no limits: no memory section, best-effort cpu shares, no quota", () => {
    const s = buildSpec(base());
    assert.equal(s.linux.resources.memory, undefined);
    assert.deepEqual(s.linux.resources.cpu, { shares: 2 });
    assert.deepEqual(s.linux.resources.devices, [{ allow: false, access: "rwm" }]);
  });
});

describe("runc spec: mounts", () => {
  it("bind mounts are rbind + rprivate, ro or rw, parents before children, otherwise in the given order", () => {
    const m = bindMounts([
      { containerPath: "/data/cache/", hostPath: "/h/cache", readOnly: false },
      { containerPath: "/data", hostPath: "/h/data", readOnly: true },
      { containerPath: "/etc/app.conf", hostPath: "/h/app.conf", readOnly: true, file: true },
    ]);
    assert.deepEqual(
      m.map((x) => [x.destination, x.source, x.options]),
      [
        ["/data", "/h/data", ["rbind", "rprivate", "ro"]],
        ["/data/cache", "/h/cache", ["rbind", "rprivate", "rw"]],
        ["/etc/app.conf", "/h/app.conf", ["rbind", "rprivate", "ro"]],
      ],
    );
  });

  const bad: Array<[string, RegExp]> = [
    ["relative/path", /not absolute/],
    ["/a/../etc", /must not contain/],
    ["/a\0b", /NUL/],
  ];
  for (const [p, err] of bad) {
    it(`container path ${JSON.stringify(p)} is refused`, () => assert.throws(() => cleanContainerPath(p), err));
  }

  it("a mount at / is refused", () => {
    assert.throws(
      () => bindMounts([{ containerPath: "/", hostPath: "/x", readOnly: false }]),
      /cannot be mounted at \//,
    );
  });

  it("container paths are normalised", () => {
    assert.equal(cleanContainerPath("/a//b/./c/"), "/a/b/c");
  });
});

describe("runc spec: environment", () => {
  it("has PATH and HOSTNAME by default; the pod's variables win; TERM with a TTY", () => {
    assert.deepEqual(containerEnv([], "h", false), [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=h",
    ]);
    assert.deepEqual(
      containerEnv(
        [
          { name: "PATH", value: "/opt/bin" },
          { name: "A", value: "1=2" },
        ],
        "h",
        true,
      ),
      ["HOSTNAME=h", "TERM=xterm", "PATH=/opt/bin", "A=1=2"],
    );
  });
});

describe("runc spec: capabilities from masks", () => {
  it("reads the bounding set of /proc/self/status", () => {
    assert.deepEqual(boundingSetOf("Name:\tx\nCapBnd:\t00000000a80425fb\n"), DEFAULT_CAPABILITIES.toSorted(byNumber));
    assert.equal(capabilitiesOf(0x1ffffffffffn).length, 41);
    assert.ok(!capabilitiesOf(0x1fffeffffffn).includes("CAP_SYS_RESOURCE"));
  });
});

function byNumber(a: string, b: string): number {
  return ALL_CAPABILITIES.indexOf(a) - ALL_CAPABILITIES.indexOf(b);
}
