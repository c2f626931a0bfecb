import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runcAvailability } from "../../../src/kubelet/runtime/runc/availability.js";
import { detectCgroups } from "../../../src/kubelet/runtime/runc/cgroups.js";
import { detectCgroupDelegation } from "../../../src/kubelet/runtime/runc/rootless.js";
import { RuncRuntime } from "../../../src/kubelet/runtime/runc/runtime.js";
import type { ContainerConfig, RuntimeNotice } from "../../../src/kubelet/runtime/types.js";
import { containerConfig, logText, runtimeConformance, waitFor } from "./conformance.js";

/**
 * runc without root. As root (CI), this file runs itself again as uid/gid 65534 (nobody) with a
 * home of its own, and passes when that run passes; as any other user it runs the cases directly.
 */
const NOBODY = 65534;
const self = fileURLToPath(import.meta.url);
const asRoot = process.getuid?.() === 0;

if (asRoot) {
  const avail = runcAvailability();
  const readable = (() => {
    // nobody must be able to read the compiled tests and node_modules
    for (let d = join(self, ".."); d !== "/"; d = join(d, "..")) {
      if ((statSync(d).mode & 0o005) !== 0o005) return `${d} is not readable and searchable by others`;
    }
    return undefined;
  })();
  const skip = !avail.ok ? `runc cannot run here: ${avail.reason}` : readable;
  describe("runc rootless (run as uid 65534)", { skip: skip ?? false }, () => {
    const home = skip ? "" : mkdtempSync("/var/tmp/k8ts-rootless-home-");
    after(() => {
      if (home) rmSync(home, { recursive: true, force: true });
    });
    it("every case passes without root", { timeout: 600_000 }, () => {
      chownSync(home, NOBODY, NOBODY);
      const r = spawnSync(process.execPath, ["--test", self], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: home,
        env: { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: home, LANG: "C.UTF-8" },
        encoding: "utf8",
        timeout: 590_000,
      });
      const out = `${r.stdout}\n${r.stderr}`;
      assert.equal(r.status, 0, `the rootless run failed:\n${out}`);
      assert.match(out, /# pass [1-9]/, out);
      const skipped = /# skipped (\d+)/.exec(out);
      assert.equal(skipped?.[1], "0", `cases were skipped without root:\n${out}`);
    });
  });
} else {
  const avail = runcAvailability();
  const skip = !avail.ok ? `runc cannot run here: ${avail.reason}` : undefined;
  const root = skip ? "" : mkdtempSync("/var/tmp/k8ts-rootless-");
  const options = () => ({
    root: join(root, "runtime"),
    kubeletRootDir: join(root, "kubelet"),
    cgroupParent: "k8ts-rl",
  });
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  describe("runc availability without root", { skip: skip ?? false }, () => {
    it("is rootless and says what is degraded", () => {
      assert.ok(avail.ok);
      if (!avail.ok) return;
      assert.equal(avail.mode, "rootless");
      assert.ok(avail.degraded.some((d) => d.includes("shares the node's network")));
      assert.ok(avail.degraded.some((d) => d.includes("read-only")));
    });
  });

  runtimeConformance("runc (rootless)", { skip, make: async () => new RuncRuntime(options()) });

  describe("runc rootless specifics", { skip: skip ?? false }, () => {
    const notices: RuntimeNotice[] = [];
    let rt: RuncRuntime;
    const pods: string[] = [];
    after(async () => {
      for (const p of pods) await rt?.removePodSandbox(p).catch(() => undefined);
      await rt?.close();
    });
    const container = (name: string, argv: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig =>
      containerConfig(name, argv, join(root, "logs", `${name}-${randomUUID().slice(0, 6)}.log`), extra);
    const pod = async () => {
      if (!rt) {
        rt = new RuncRuntime(options());
        rt.onNotice((n) => notices.push(n));
        await rt.init();
      }
      const podUid = randomUUID();
      pods.push(podUid);
      const podDir = join(root, "pods", podUid);
      mkdirSync(podDir, { recursive: true });
      const st = await rt.runPodSandbox({
        podUid,
        namespace: "default",
        name: `p-${podUid.slice(0, 6)}`,
        hostname: `p-${podUid.slice(0, 6)}`,
        hostNetwork: false,
        podDir,
        labels: {},
        annotations: {},
      });
      return { podUid, podDir, ip: st.ip };
    };
    const runToExit = async (podUid: string, cfg: ContainerConfig) => {
      const id = await rt.createContainer(podUid, cfg);
      await rt.startContainer(id);
      return waitFor("the container to exit", async () => {
        const s = await rt.containerStatus(id);
        return s?.state === "exited" ? s : undefined;
      });
    };

    it("a container is root in its own user namespace, sees the host root read-only and writes to /tmp", async () => {
      const { podUid } = await pod();
      const cfg = container("probe", [
        "/bin/sh",
        "-c",
        "id -u; cat /proc/self/uid_map; touch /usr/k8ts-rl-probe 2>&1 || echo ro-ok; echo x > /tmp/f && cat /tmp/f; test -e /var/tmp && echo > /var/tmp/g && echo vartmp-ok",
      ]);
      const st = await runToExit(podUid, cfg);
      const out = logText(cfg.logPath);
      assert.equal(st.exitCode, 0, out);
      const lines = out.split("\n");
      assert.equal(lines[0], "0");
      assert.match(lines[1] ?? "", new RegExp(`^\\s*0\\s+${process.getuid?.()}\\s+1$`));
      assert.ok(out.includes("Read-only file system") && out.includes("ro-ok"), out);
      assert.ok(out.includes("\nx\n"), out);
      assert.equal(existsSync("/usr/k8ts-rl-probe"), false);
      assert.ok(notices.some((n) => n.podUid === podUid && n.reason === "PodNetworkUnavailable"));
      assert.ok(
        notices.some((n) => n.podUid === podUid && n.reason === "ImageStoreMissing" && /read-only/.test(n.message)),
      );
    });

    it("a volume is writable at its mount path and the file lands on the host, owned by the node user", async () => {
      const { podUid, podDir } = await pod();
      const vol = join(podDir, "volumes", "kubernetes.io~empty-dir", "cache");
      mkdirSync(vol, { recursive: true });
      const cfg = container("writer", ["/bin/sh", "-c", "echo hello > /cache/abc"], {
        mounts: [{ hostPath: vol, containerPath: "/cache", readOnly: false }],
      });
      const st = await runToExit(podUid, cfg);
      assert.equal(st.exitCode, 0, logText(cfg.logPath));
      assert.equal(readFileSync(join(vol, "abc"), "utf8"), "hello\n");
      assert.equal(statSync(join(vol, "abc")).uid, process.getuid?.());
    });

    it("runAsUser other than 0 is refused with a reason, never faked", async () => {
      const { podUid } = await pod();
      await assert.rejects(
        rt.createContainer(podUid, container("u1000", ["/bin/true"], { runAsUser: 1000 })),
        /runAsUser 1000/,
      );
    });

    it("limits are enforced under a delegated cgroup, else the pod is told they are not", async () => {
      const { podUid } = await pod();
      // the container reads its own memory limit where a cgroup v2 one would be
      const cfg = container("limited", ["/bin/sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || echo none"], {
        resources: { cpuRequestMilli: 0, cpuLimitMilli: 500, memoryLimitBytes: 64 * 1024 * 1024 },
      });
      const st = await runToExit(podUid, cfg);
      assert.equal(st.exitCode, 0, logText(cfg.logPath));
      const warning = notices.find((n) => n.podUid === podUid && n.reason === "ResourceLimitsNotEnforced");
      const layout = detectCgroups();
      const delegation = layout ? detectCgroupDelegation(layout) : { ok: false as const, reason: "no cgroups" };
      if (delegation.ok) {
        assert.equal(warning, undefined, "a delegated cgroup enforces the limits: no warning");
        assert.equal(logText(cfg.logPath).trim(), String(64 * 1024 * 1024));
      } else {
        assert.match(
          warning?.message ?? "(no warning)",
          /limits\.memory 64Mi and limits\.cpu 500m of container "limited" are not enforced/,
        );
      }
    });
  });
}
