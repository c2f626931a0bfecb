import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cgroupLayoutFrom,
  parseFlatKeyed,
  parseMountinfo,
  workingSet,
} from "../../../src/kubelet/runtime/runc/cgroups.js";
import { exitOutcome, lastRuncError, parseExitFile } from "../../../src/kubelet/runtime/runc/exit.js";
import { monitorArgv } from "../../../src/kubelet/runtime/runc/monitor.js";
import { parseStartTime } from "../../../src/kubelet/runtime/runc/records.js";
import { mountsUnder, overlayOptions } from "../../../src/kubelet/runtime/runc/rootfs.js";

describe("runc exit: how a finished container is reported", () => {
  const cases: Array<[string, number | undefined, number, { exitCode: number; reason: string }]> = [
    ["exit 0 is Completed", 0, 0, { exitCode: 0, reason: "Completed" }],
    ["exit 3 is Error with code 3", 3, 0, { exitCode: 3, reason: "Error" }],
    ["SIGKILL (137) without an OOM kill is Error", 137, 0, { exitCode: 137, reason: "Error" }],
    ["an OOM kill in the cgroup is OOMKilled with 137", 137, 1, { exitCode: 137, reason: "OOMKilled" }],
    ["an OOM kill of a child still marks the container OOMKilled", 1, 2, { exitCode: 1, reason: "OOMKilled" }],
  ];
  for (const [name, code, oom, want] of cases) {
    it(name, () => {
      const o = exitOutcome(code, oom);
      assert.equal(o.exitCode, want.exitCode);
      assert.equal(o.reason, want.reason);
    });
  }
  it("a lost status is Error 255 and says so", () => {
    const o = exitOutcome(undefined, 0);
    assert.equal(o.exitCode, 255);
    assert.equal(o.reason, "Error");
    assert.match(o.message ?? "", /exit status unknown/);
  });

  const files: Array<[string, number | undefined]> = [
    ["0\n", 0],
    ["137\n", 137],
    ["", undefined],
    ["abc", undefined],
    ["1234", undefined],
  ];
  for (const [text, want] of files) {
    it(`exit file ${JSON.stringify(text)} is ${want}`, () => assert.equal(parseExitFile(text), want));
  }

  it("runc's last logged error is the start error's message, without runc's prefix", () => {
    const log = [
      '{"level":"warning","msg":"something","time":"t"}',
      '{"level":"error","msg":"runc run failed: unable to start container process: exec: \\"nope\\": executable file not found in $PATH","time":"t"}',
      "",
    ].join("\n");
    assert.equal(
      lastRuncError(log),
      'unable to start container process: exec: "nope": executable file not found in $PATH',
    );
    assert.equal(lastRuncError('{"level":"info","msg":"x"}\n'), undefined);
    assert.equal(lastRuncError("plain text failure\n"), "plain text failure");
  });
});

describe("runc cgroups: reading the node's hierarchies", () => {
  const hybrid = [
    "30 23 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
    "32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
    "33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "34 30 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
    "35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
  ].join("\n");

  it("v1 with a unified mount beside it (hybrid) is v1, and the unified mount is one more hierarchy", () => {
    const l = cgroupLayoutFrom(parseMountinfo(hybrid))!;
    assert.equal(l.version, 1);
    assert.equal(l.controllers.get("memory"), "/sys/fs/cgroup/memory");
    assert.equal(l.controllers.get("cpuacct"), "/sys/fs/cgroup/cpuacct");
    assert.ok(l.hierarchies.includes("/sys/fs/cgroup/unified"));
    assert.ok(l.hierarchies.includes("/sys/fs/cgroup/systemd"));
  });

  it("combined controllers (cpu,cpuacct) map to the same mount", () => {
    const l = cgroupLayoutFrom(
      parseMountinfo("31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct"),
    )!;
    assert.equal(l.controllers.get("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
    assert.equal(l.controllers.get("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  });

  it("only a cgroup2 mount is v2", () => {
    const l = cgroupLayoutFrom(parseMountinfo("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate"))!;
    assert.equal(l.version, 2);
    assert.equal(l.unified, "/sys/fs/cgroup");
  });

  it("no cgroup mount at all is undefined", () => {
    assert.equal(cgroupLayoutFrom(parseMountinfo("1 0 8:0 / / rw - ext4 /dev/vda rw")), undefined);
  });

  it("flat keyed files become numbers; the working set is usage minus inactive file pages", () => {
    const m = parseFlatKeyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    assert.equal(m.get("oom_kill"), 2);
    assert.equal(workingSet(100, 30), 70);
    assert.equal(workingSet(10, 30), 0);
  });

  it("mountinfo's octal escapes are decoded", () => {
    const m = parseMountinfo("40 1 0:50 / /var/lib/a\\040b rw - overlay overlay rw,lowerdir=/");
    assert.equal(m[0]?.mountPoint, "/var/lib/a b");
  });
});

describe("runc rootfs", () => {
  const info = [
    "1 0 8:0 / / rw - ext4 /dev/vda rw",
    "50 1 0:60 / /r/containers/a/rootfs rw - overlay overlay rw",
    "51 1 0:61 / /r/containers/ab/rootfs rw - overlay overlay rw",
    "52 50 0:62 / /r/containers/a/rootfs/proc rw - proc proc rw",
  ].join("\n");

  it("finds the mounts under a directory, deepest first, and not its siblings with a longer name", () => {
    assert.deepEqual(mountsUnder("/r/containers/a", info), ["/r/containers/a/rootfs/proc", "/r/containers/a/rootfs"]);
    assert.deepEqual(mountsUnder("/r/other", info), []);
  });

  it("overlay options refuse paths that would break the option string", () => {
    assert.equal(overlayOptions("/", { upper: "/u", work: "/w", merged: "/m" }), "lowerdir=/,upperdir=/u,workdir=/w");
    assert.throws(() => overlayOptions("/", { upper: "/u,x", work: "/w", merged: "/m" }), /contains/);
    assert.throws(() => overlayOptions("/", { upper: "/u:x", work: "/w", merged: "/m" }), /contains/);
  });
});

describe("runc monitor and records", () => {
  it("the monitor runs runc run --keep in the foreground with the exit file as $1, paths as arguments not shell text", () => {
    const argv = monitorArgv(
      {
        runcPath: "/usr/sbin/runc",
        runcRoot: "/r/runc",
        bundle: "/r/containers/$(x)",
        id: "abc",
        exitFile: "/r/containers/$(x)/exit",
        pidFile: "/r/containers/$(x)/init.pid",
        runcLog: "/r/containers/$(x)/runc.log",
      },
      false,
    );
    assert.equal(argv[0], "-c");
    assert.ok(!argv[1]!.includes("$(x)"), "paths never enter the script");
    assert.deepEqual(argv.slice(2, 5), ["k8ts-monitor", "/r/containers/$(x)/exit", "/usr/sbin/runc"]);
    assert.ok(argv.includes("--keep"));
    assert.equal(argv.at(-1), "abc");
    assert.match(monitorArgv({ ...dummy }, true)[1]!, /^trap '' HUP; /);
  });

  it("the start time is field 22 of /proc/<pid>/stat, even when the command has spaces and parens", () => {
    const stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
    assert.equal(parseStartTime(stat), "98765");
  });
});

const dummy = {
  runcPath: "/r",
  runcRoot: "/r",
  bundle: "/b",
  id: "i",
  exitFile: "/e",
  pidFile: "/p",
  runcLog: "/l",
};
