import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseProcStat, parsePss } from "../../../src/kubelet/runtime/runc/procstats.js";
import { hostRootPlan } from "../../../src/kubelet/runtime/runc/rootfs.js";
import {
  type CgroupDirAccess,
  cgroupDelegation,
  rootlessDegradations,
  runcVersionOf,
  unifiedCgroupOf,
  userNamespacesForbidden,
} from "../../../src/kubelet/runtime/runc/rootless.js";
import { buildSpec, type SpecInput } from "../../../src/kubelet/runtime/runc/spec.js";

describe("rootless decisions", () => {
  it("user namespace sysctls: each forbidding setting is named, missing ones allow", () => {
    const none = { maxUserNamespaces: undefined, unprivilegedUsernsClone: undefined, apparmorRestrict: undefined };
    assert.equal(userNamespacesForbidden(none), undefined);
    assert.equal(userNamespacesForbidden({ ...none, maxUserNamespaces: 15000, unprivilegedUsernsClone: 1 }), undefined);
    assert.match(userNamespacesForbidden({ ...none, maxUserNamespaces: 0 }) ?? "", /max_user_namespaces is 0/);
    assert.match(userNamespacesForbidden({ ...none, unprivilegedUsernsClone: 0 }) ?? "", /unprivileged_userns_clone/);
    assert.match(userNamespacesForbidden({ ...none, apparmorRestrict: 1 }) ?? "", /AppArmor/);
  });

  it("the unified cgroup of /proc/self/cgroup", () => {
    assert.equal(
      unifiedCgroupOf("0::/user.slice/user-1000.slice/session-2.scope\n"),
      "/user.slice/user-1000.slice/session-2.scope",
    );
    assert.equal(unifiedCgroupOf("12:memory:/x\n1:name=systemd:/x\n"), undefined);
  });

  it("delegation: the nearest writable ancestor with memory and cpu, never the own cgroup nor the root", () => {
    const own = "/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope";
    const dirs: Record<string, CgroupDirAccess> = {
      "/user.slice/user-1000.slice/user@1000.service": {
        writable: true,
        filesWritable: true,
        subtreeControl: ["cpu", "io", "memory", "pids"],
      },
      "/user.slice/user-1000.slice/user@1000.service/app.slice": {
        writable: true,
        filesWritable: true,
        subtreeControl: ["pids"],
      },
    };
    const access = (c: string): CgroupDirAccess =>
      dirs[c] ?? { writable: false, filesWritable: false, subtreeControl: undefined };
    assert.deepEqual(cgroupDelegation({ version: 2 }, own, access), {
      ok: true,
      base: "/user.slice/user-1000.slice/user@1000.service",
    });
    const v1 = cgroupDelegation({ version: 1 }, own, access);
    assert.equal(v1.ok, false);
    const nothing = cgroupDelegation({ version: 2 }, "/a", () => ({
      writable: true,
      filesWritable: true,
      subtreeControl: ["memory", "cpu"],
    }));
    assert.equal(nothing.ok, false, "the root cgroup is never the delegated one");
    assert.equal(cgroupDelegation({ version: 2 }, undefined, access).ok, false);
  });

  it("degradations: limits named only without a delegated cgroup", () => {
    assert.equal(rootlessDegradations({ ok: true, base: "/u" }).length, 3);
    const d = rootlessDegradations({ ok: false, reason: "cgroup v1" });
    assert.equal(d.length, 4);
    assert.match(d[3] ?? "", /not enforced.*cgroup v1/);
  });

  it("runc's version", () => {
    assert.deepEqual(runcVersionOf("runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1\n"), [1, 1]);
    assert.equal(runcVersionOf("something else"), undefined);
  });
});

describe("rootless root filesystem plan", () => {
  it("binds directories read-only, copies symlinks, leaves the runtime's own mount points empty", () => {
    const plan = hostRootPlan([
      { name: "usr", kind: "dir" },
      { name: "bin", kind: "symlink", target: "usr/bin" },
      { name: "proc", kind: "dir" },
      { name: "tmp", kind: "dir" },
      { name: "swapfile", kind: "file" },
      { name: "dev", kind: "dir" },
      { name: "sock", kind: "other" },
      { name: "..", kind: "dir" },
    ]);
    assert.deepEqual(plan.symlinks, [{ name: "bin", target: "usr/bin" }]);
    assert.deepEqual(plan.files, ["swapfile"]);
    assert.ok(plan.dirs.includes("usr") && plan.dirs.includes("proc") && plan.dirs.includes("tmp"));
    assert.deepEqual(
      plan.mounts.map((m) => [m.destination, m.options]),
      [
        ["/swapfile", ["bind", "rprivate", "ro"]],
        ["/usr", ["rbind", "rprivate", "rro"]],
      ],
    );
  });
});

describe("rootless OCI spec", () => {
  const input = (extra: Partial<SpecInput> = {}): SpecInput => ({
    argv: ["/bin/true"],
    env: [],
    cwd: "/",
    uid: 0,
    gid: 0,
    tty: false,
    rootfs: "/r",
    hostname: "h",
    readonlyRootfs: false,
    netnsPath: undefined,
    cgroupsPath: "/k8ts/podx/c",
    cgroupVersion: 1,
    mounts: [],
    resources: { cpuRequestMilli: 100, cpuLimitMilli: 500, memoryLimitBytes: 64 << 20 },
    limitSwap: false,
    privileged: false,
    hostCapabilities: ["CAP_CHOWN", "CAP_KILL"],
    hostDevices: [],
    maskedPaths: [],
    maskMounts: [],
    annotations: {},
    ...extra,
  });
  const rootless = { hostUid: 1000, hostGid: 1000, cgroups: false, rootBinds: [], tmpfs: ["/tmp"] };

  it("maps uid/gid 0 to the node user, adds a user namespace, binds /sys, and sets no cgroup or limits", () => {
    const s = buildSpec(input({ rootless }));
    assert.deepEqual(s.linux.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
    assert.deepEqual(s.linux.gidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
    assert.ok(s.linux.namespaces.some((n) => n.type === "user"));
    assert.equal(s.linux.cgroupsPath, undefined);
    assert.deepEqual(s.linux.resources, {});
    assert.equal(s.root.readonly, true);
    const sys = s.mounts.find((m) => m.destination === "/sys");
    assert.equal(sys?.type, "bind");
    assert.ok(!s.mounts.some((m) => m.destination === "/sys/fs/cgroup"));
    assert.ok(s.mounts.some((m) => m.destination === "/tmp" && m.type === "tmpfs"));
    const pts = s.mounts.find((m) => m.destination === "/dev/pts");
    assert.ok(pts && !(pts.options ?? []).includes("gid=5"));
  });

  it("with a delegated cgroup keeps the cgroup path and the limits", () => {
    const s = buildSpec(input({ rootless: { ...rootless, cgroups: true } }));
    assert.equal(s.linux.cgroupsPath, "/k8ts/podx/c");
    assert.equal(s.linux.resources.memory?.limit, 64 << 20);
    assert.equal(s.linux.resources.devices, undefined);
  });

  it("as root nothing of this applies", () => {
    const s = buildSpec(input());
    assert.equal(s.linux.uidMappings, undefined);
    assert.ok(!s.linux.namespaces.some((n) => n.type === "user"));
    assert.equal(s.mounts.find((m) => m.destination === "/sys")?.type, "sysfs");
  });
});

describe("usage from /proc", () => {
  it("parses stat (comm with spaces and parentheses) and smaps_rollup", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    // state at field 3; utime..cstime 14..17 = 14+15+16+17, rss 24
    const stat = `123 (a (b) c) ${fields.join(" ")}`;
    assert.deepEqual(parseProcStat(stat), { ticks: 14 + 15 + 16 + 17, rssPages: 24 });
    assert.equal(parseProcStat("garbage"), undefined);
    assert.equal(parsePss("Rss:  10 kB\nPss:   8 kB\n"), 8 * 1024);
    assert.equal(parsePss("Rss: 1 kB\n"), undefined);
  });
});
