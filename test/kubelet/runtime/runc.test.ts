import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, afterEach, describe, it } from "node:test";
import { runTool } from "../../../src/kubelet/network/command.js";
import { detectMasqueradeBackend, removeMasquerade } from "../../../src/kubelet/network/masquerade.js";
import { hostVethName, shortPodId } from "../../../src/kubelet/network/podnetwork.js";
import { runcAvailability } from "../../../src/kubelet/runtime/runc/availability.js";
import { detectCgroups } from "../../../src/kubelet/runtime/runc/cgroups.js";
import { mountsUnder, unmountAll } from "../../../src/kubelet/runtime/runc/rootfs.js";
import { RuncRuntime, type RuncRuntimeOptions } from "../../../src/kubelet/runtime/runc/runtime.js";
import type { ContainerConfig, RuntimeNotice, SandboxConfig } from "../../../src/kubelet/runtime/types.js";
import { logText, runtimeConformance, waitFor } from "./conformance.js";

const avail = runcAvailability();
const skip = avail.ok ? undefined : `runc cannot run here: ${avail.reason}`;

// Everything this file creates is its own: a temp root on the root filesystem (overlay upper dirs
// need a real filesystem), a bridge, a pod CIDR, netns prefix and cgroup parent no one else uses.
const tag = randomBytes(3).toString("hex");
const root = skip ? "" : mkdtempSync("/var/tmp/k8ts-runc-test-");
const bridge = `k8tst${tag}`;
const podCidr = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]!}.0/24`;
const netnsPrefix = `k8tst${tag}-`;
const cgroupParent = `k8ts-test-${tag}`;
const dataDir = join(root, "data");
const kubeletRoot = join(root, "kubelet");

const options = (): RuncRuntimeOptions => ({
  root: join(root, "runtime"),
  kubeletRootDir: kubeletRoot,
  maskedPaths: [dataDir],
  cgroupParent,
  network: { bridge, podCidr, netnsPrefix },
});

if (!skip) {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, "ca.key"), "-----BEGIN TOP SECRET-----\n", { mode: 0o600 });
  mkdirSync(kubeletRoot, { recursive: true });
  writeFileSync(join(kubeletRoot, "kubelet-secret"), "kubelet-secret-value\n");
}

after(async () => {
  if (skip) return;
  // belt and braces: whatever a failed case left behind
  const left = await runTool("runc", ["--root", join(root, "runtime", "runc"), "list", "-q"]);
  for (const id of left.stdout.split("\n").filter(Boolean)) {
    await runTool("runc", ["--root", join(root, "runtime", "runc"), "delete", "--force", id]);
  }
  await unmountAll(root);
  const netns = await runTool("ip", ["netns", "list"]);
  for (const line of netns.stdout.split("\n")) {
    const name = line.split(" ")[0];
    if (name?.startsWith(netnsPrefix)) await runTool("ip", ["netns", "del", name]);
  }
  await runTool("ip", ["link", "del", bridge]);
  await removeMasquerade(detectMasqueradeBackend(), bridge, podCidr);
  const cg = detectCgroups();
  if (cg) for (const h of cg.hierarchies) rmTreeOfCgroups(join(h, cgroupParent));
  if (mountsUnder(root).length === 0) rmSync(root, { recursive: true, force: true });
});

/** cgroup directories go with rmdir, deepest first. */
function rmTreeOfCgroups(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTreeOfCgroups(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // still busy: reported by the cases that check cleanup
  }
}

runtimeConformance("runc", { skip, make: async () => new RuncRuntime(options()) });

describe("runc runtime", { skip: skip ?? false }, () => {
  const open: RuncRuntime[] = [];
  const pods = new Set<string>();
  const fresh = async (): Promise<RuncRuntime> => {
    const rt = new RuncRuntime(options());
    await rt.init();
    open.push(rt);
    return rt;
  };
  const closeRt = async (rt: RuncRuntime) => {
    open.splice(open.indexOf(rt), 1);
    await rt.close();
  };
  afterEach(async () => {
    const rt = open.at(-1) ?? (await fresh());
    for (const uid of pods) await rt.removePodSandbox(uid).catch(() => undefined);
    pods.clear();
  });
  after(async () => {
    for (const rt of [...open]) await rt.close();
  });

  const sandbox = async (rt: RuncRuntime, extra: Partial<SandboxConfig> = {}) => {
    const podUid = randomUUID();
    pods.add(podUid);
    const status = await rt.runPodSandbox({
      podUid,
      namespace: "test",
      name: `p-${podUid.slice(0, 6)}`,
      hostname: `p-${podUid.slice(0, 6)}`,
      hostNetwork: false,
      podDir: join(kubeletRoot, "pods", podUid),
      labels: {},
      annotations: {},
      ...extra,
    });
    return { podUid, ip: status.ip };
  };
  const cfg = (
    podUid: string,
    name: string,
    argv: string[],
    extra: Partial<ContainerConfig> = {},
  ): ContainerConfig => ({
    name,
    attempt: 0,
    image: "docker.io/library/nginx:1.27",
    argv,
    env: [],
    mounts: [],
    resources: { cpuRequestMilli: 0, cpuLimitMilli: 0, memoryLimitBytes: 0 },
    stdin: false,
    stdinOnce: false,
    tty: false,
    logPath: join(root, "logs", podUid, `${name}-${randomUUID().slice(0, 6)}.log`),
    labels: {},
    podAnnotations: {},
    ...extra,
  });
  const run = async (rt: RuncRuntime, podUid: string, c: ContainerConfig) => {
    const id = await rt.createContainer(podUid, c);
    await rt.startContainer(id);
    return id;
  };
  const exited = (rt: RuncRuntime, id: string, ms = 20_000) =>
    waitFor(
      "the container to exit",
      async () => {
        const s = await rt.containerStatus(id);
        return s?.state === "exited" ? s : undefined;
      },
      ms,
    );
  const sh = (s: string) => ["/bin/sh", "-c", s];

  it("a memory limit is enforced: the container is OOMKilled with exit code 137", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    // tail keeps a line in memory until the newline that /dev/zero never sends
    const c = cfg(podUid, "hog", ["tail", "/dev/zero"], {
      resources: { cpuRequestMilli: 100, cpuLimitMilli: 0, memoryLimitBytes: 32 * 1024 * 1024 },
    });
    const id = await run(rt, podUid, c);
    const s = await exited(rt, id, 60_000);
    assert.equal(s.reason, "OOMKilled");
    assert.equal(s.exitCode, 137);
  });

  it("CPU request and limit become cpu shares and a CFS quota in the container's cgroup", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const c = cfg(podUid, "cpu", [], {
      resources: { cpuRequestMilli: 250, cpuLimitMilli: 500, memoryLimitBytes: 64 * 1024 * 1024 },
    });
    const id = await run(rt, podUid, c);
    const cg = detectCgroups()!;
    const rel = `/${cgroupParent}/pod${podUid}/${id}`;
    if (cg.version === 1) {
      assert.equal(readFileSync(join(cg.controllers.get("cpu")!, rel, "cpu.shares"), "utf8").trim(), "256");
      assert.equal(readFileSync(join(cg.controllers.get("cpu")!, rel, "cpu.cfs_quota_us"), "utf8").trim(), "50000");
      assert.equal(
        readFileSync(join(cg.controllers.get("memory")!, rel, "memory.limit_in_bytes"), "utf8").trim(),
        String(64 * 1024 * 1024),
      );
    } else {
      assert.equal(readFileSync(join(cg.unified!, rel, "cpu.max"), "utf8").trim(), "50000 100000");
      assert.equal(readFileSync(join(cg.unified!, rel, "memory.max"), "utf8").trim(), String(64 * 1024 * 1024));
    }
    await rt.stopContainer(id, 0);
  });

  it("a read-only mount cannot be written; a read-write one writes through to the host", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const ro = join(root, "vol-ro", podUid);
    const rw = join(root, "vol-rw", podUid);
    mkdirSync(ro, { recursive: true });
    mkdirSync(rw, { recursive: true });
    const c = cfg(podUid, "rw", sh("touch /data/ro/new 2>&1; echo ro=$?; echo hello > /data/rw/new; echo rw=$?"), {
      mounts: [
        { containerPath: "/data/ro", hostPath: ro, readOnly: true },
        { containerPath: "/data/rw", hostPath: rw, readOnly: false },
      ],
    });
    const id = await run(rt, podUid, c);
    await exited(rt, id);
    const out = logText(c.logPath);
    assert.match(out, /Read-only file system/);
    assert.match(out, /ro=1/);
    assert.match(out, /rw=0/);
    assert.equal(existsSync(join(ro, "new")), false);
    assert.equal(readFileSync(join(rw, "new"), "utf8"), "hello\n");
  });

  it("mount points are made inside the overlay: symlinks on the way resolve in the container's root, never on the host", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const vol = join(root, "vol-link", podUid);
    mkdirSync(vol, { recursive: true });
    writeFileSync(join(vol, "token"), "sa-token\n");
    const outside = mkdtempSync("/var/tmp/k8ts-link-test-");
    try {
      mkdirSync(join(outside, "target"));
      symlinkSync(join(outside, "target"), join(outside, "link"));
      const c = cfg(
        podUid,
        "links",
        sh(`cat /var/run/secrets/kubernetes.io/serviceaccount/token ${outside}/link/m/token`),
        {
          mounts: [
            // /var/run is a symlink to /run on Debian, as the service account token's path crosses it
            { containerPath: "/var/run/secrets/kubernetes.io/serviceaccount", hostPath: vol, readOnly: true },
            { containerPath: `${outside}/link/m`, hostPath: vol, readOnly: true },
          ],
        },
      );
      const id = await run(rt, podUid, c);
      const s = await exited(rt, id);
      assert.equal(s.exitCode, 0, logText(c.logPath));
      assert.equal(logText(c.logPath, "stdout"), "sa-token\nsa-token");
      assert.deepEqual(readdirSync(join(outside, "target")), [], "the mount point was made on the host");
      assert.equal(existsSync("/run/secrets/kubernetes.io"), false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("the k8ts data dir, the kubelet root and the runtime's root are hidden inside containers", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const script = [
      `cat ${join(dataDir, "ca.key")} 2>/dev/null; echo data=$?`,
      `cat ${join(kubeletRoot, "kubelet-secret")} 2>/dev/null; echo kubelet=$?`,
      `ls -A ${join(root, "runtime")} | wc -l`,
      `echo x > ${join(dataDir, "planted")} 2>/dev/null; echo write=$?`,
    ].join("; ");
    const c = cfg(podUid, "peek", sh(script));
    const id = await run(rt, podUid, c);
    await exited(rt, id);
    const out = logText(c.logPath);
    assert.doesNotMatch(out, /TOP SECRET|kubelet-secret-value/);
    assert.match(out, /data=1/);
    assert.match(out, /kubelet=1/);
    assert.match(out, /\n0\n/);
    assert.match(out, /write=[1-9]/);
    assert.equal(existsSync(join(dataDir, "planted")), false);
  });

  it("writes to the root filesystem stay in the container's overlay, not on the host", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const marker = `/etc/k8ts-overlay-test-${tag}`;
    const c = cfg(podUid, "cow", sh(`echo changed > ${marker} && cat ${marker} && hostname`));
    const id = await run(rt, podUid, c);
    const s = await exited(rt, id);
    assert.equal(s.exitCode, 0, logText(c.logPath));
    assert.match(logText(c.logPath), /changed/);
    assert.equal(existsSync(marker), false);
  });

  it("containers get own PID/UTS namespaces with the sandbox's hostname, readonly root when asked", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt, { hostname: "my-host-name" });
    const c = cfg(podUid, "ns", sh("echo pid=$$; hostname; cat /etc/hostname; touch /x 2>&1; echo touch=$?"), {
      readOnlyRootFilesystem: true,
    });
    const id = await run(rt, podUid, c);
    await exited(rt, id);
    const out = logText(c.logPath);
    assert.match(out, /pid=1\n/);
    assert.match(out, /my-host-name\nmy-host-name/);
    assert.match(out, /touch=1/);
  });

  it("a non-root runAsUser/runAsGroup is the process's identity, without capabilities beyond the default set", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const c = cfg(podUid, "user", sh("id -u; id -g; grep CapBnd /proc/self/status"), {
      runAsUser: 1234,
      runAsGroup: 4321,
    });
    const id = await run(rt, podUid, c);
    await exited(rt, id);
    const out = logText(c.logPath);
    assert.match(out, /^1234\n4321\n/);
    // containerd's 14 default capabilities = 0x00000000a80425fb
    assert.match(out, /CapBnd:\s+00000000a80425fb/);
  });

  it("two pods reach each other by pod IP over the bridge", async () => {
    const rt = await fresh();
    const a = await sandbox(rt);
    const b = await sandbox(rt);
    assert.notEqual(a.ip, b.ip);
    const site = join(root, "site", a.podUid);
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, "hello.txt"), "hello from pod a\n");
    const server = cfg(a.podUid, "server", ["python3", "-m", "http.server", "8080", "--bind", "0.0.0.0"], {
      workingDir: "/srv",
      mounts: [{ containerPath: "/srv", hostPath: site, readOnly: true }],
    });
    await run(rt, a.podUid, server);
    const client = cfg(b.podUid, "client", [
      "bash",
      "-c",
      `for i in $(seq 1 100); do if exec 3<>/dev/tcp/${a.ip}/8080; then printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3; exit 0; fi; sleep 0.1; done; exit 1`,
    ]);
    const cid = await run(rt, b.podUid, client);
    const s = await exited(rt, cid, 30_000);
    assert.equal(s.exitCode, 0, logText(client.logPath));
    assert.match(logText(client.logPath), /hello from pod a/);
  });

  it("a host-network pod gets the node's IP and sees the node's interfaces", async () => {
    const rt = await fresh();
    const { podUid, ip } = await sandbox(rt, { hostNetwork: true });
    const c = cfg(podUid, "hostnet", sh("cat /proc/net/dev"));
    const id = await run(rt, podUid, c);
    await exited(rt, id);
    assert.match(logText(c.logPath), new RegExp(`${bridge}:`));
    assert.ok(ip.length > 0);
    assert.doesNotMatch(ip, /^10\.2\d\d\./);
  });

  it("the pod is told its container runs on the host's root overlay, and that a command-less one runs a placeholder", async () => {
    const rt = await fresh();
    const notices: RuntimeNotice[] = [];
    rt.onNotice((n) => notices.push(n));
    const { podUid } = await sandbox(rt);
    const id = await rt.createContainer(podUid, cfg(podUid, "web", []));
    await rt.createContainer(podUid, cfg(podUid, "web", [], { attempt: 1 }));
    const store = notices.filter((n) => n.reason === "ImageStoreMissing");
    assert.equal(store.length, 1, "once per container, not per attempt");
    assert.equal(store[0]?.type, "Warning");
    assert.equal(store[0]?.container, "web");
    assert.match(
      store[0]!.message,
      /copy-on-write overlay of the host's root filesystem instead of image "docker.io\/library\/nginx:1.27"/,
    );
    const cmd = notices.filter((n) => n.reason === "ImageCommandUnknown");
    assert.equal(cmd.length, 1);
    assert.match(cmd[0]!.message, /default command of image .* is unknown/);
    await rt.startContainer(id);
    // SIGTERM exits it once its shell has set the trap (a few ms after start)
    await new Promise((r) => setTimeout(r, 300));
    await rt.stopContainer(id, 10);
    assert.equal((await rt.containerStatus(id))?.exitCode, 0);
  });

  it("a missing command is a start error with runc's message", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const id = await rt.createContainer(podUid, cfg(podUid, "nope", ["/no/such/binary"]));
    await assert.rejects(rt.startContainer(id), (e: Error & { reason?: string }) => {
      assert.equal(e.reason, "RunContainerError");
      assert.match(e.message, /no such file or directory|not found/);
      return true;
    });
    const s = await rt.containerStatus(id);
    assert.equal(s?.state, "exited");
    assert.equal(s?.reason, "StartError");
    assert.equal(s?.exitCode, 128);
  });

  it("a mount whose host path does not exist is a CreateContainerError naming the volume", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    await assert.rejects(
      rt.createContainer(
        podUid,
        cfg(podUid, "m", [], {
          mounts: [{ containerPath: "/x", hostPath: join(root, "missing"), readOnly: false, volume: "data" }],
        }),
      ),
      /volume "data": host path .* does not exist/,
    );
  });

  it("a container that exits while no runtime instance runs is reported with its real exit status", async () => {
    const first = await fresh();
    const { podUid } = await sandbox(first);
    const c = cfg(podUid, "bg", sh("echo one; sleep 1; echo two; exit 7"));
    const id = await run(first, podUid, c);
    await waitFor("first line", () => (logText(c.logPath).includes("one") ? true : undefined));
    await closeRt(first);
    await new Promise((r) => setTimeout(r, 1500));
    const second = await fresh();
    const s = await exited(second, id);
    assert.equal(s.exitCode, 7);
    assert.equal(s.reason, "Error");
  });

  it("an adopted container's output keeps reaching its log after the kubelet restarts", async () => {
    const first = await fresh();
    const { podUid } = await sandbox(first);
    const c = cfg(podUid, "talker", sh("echo one; sleep 1.5; echo two; sleep 300"));
    const id = await run(first, podUid, c);
    await waitFor("first line", () => (logText(c.logPath).includes("one") ? true : undefined));
    await closeRt(first);
    const second = await fresh();
    await waitFor("the line written after the restart", () => (logText(c.logPath).includes("two") ? true : undefined));
    assert.equal((await second.containerStatus(id))?.state, "running");
    const r = await second.execSync(id, ["echo", "exec-after-restart"], 10_000);
    assert.equal(r.output, "exec-after-restart\n");
    await second.stopContainer(id, 0);
  });

  it("a TTY container's output goes through a console; attach types into it and resizes it", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const c = cfg(podUid, "tty", ["/bin/sh"], { tty: true, stdin: true });
    const id = await run(rt, podUid, c);
    const input = new PassThrough();
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (b: Buffer) => chunks.push(b));
    let resize: ((s: { width: number; height: number }) => void) | undefined;
    const attached = rt.attach(id, {
      stdin: input,
      stdout: out,
      tty: true,
      onResize: (l) => {
        resize = l;
      },
    });
    assert.ok(resize !== undefined, "attach listens for resizes");
    resize({ width: 123, height: 45 });
    await new Promise((r) => setTimeout(r, 200));
    input.write("tty; stty size; echo term=$TERM; echo sum=$((40+2))\n");
    const text = () => Buffer.concat(chunks).toString("utf8");
    await waitFor("the shell's answers", () => (text().includes("sum=42") ? true : undefined));
    assert.match(text(), /\/dev\/(pts\/\d+|console)/);
    assert.match(text(), /45 123/);
    assert.match(text(), /term=xterm/);
    await waitFor("the log of the console", () => (logText(c.logPath).includes("sum=42") ? true : undefined));
    input.write("exit 3\n");
    const s = await exited(rt, id);
    await attached;
    assert.equal(s.exitCode, 3);
  });

  it("exec with a TTY gets a terminal that follows resizes", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const id = await run(rt, podUid, cfg(podUid, "x", []));
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (b: Buffer) => chunks.push(b));
    const code = await rt.exec(id, sh("sleep 0.5; stty size; tty; exit 9"), {
      stdout: out,
      tty: true,
      onResize: (l) => {
        setTimeout(() => l({ width: 99, height: 33 }), 100);
      },
    });
    assert.equal(code, 9);
    const text = Buffer.concat(chunks).toString("utf8");
    assert.match(text, /33 99/);
    assert.match(text, /\/dev\/pts\/\d+/);
  });

  it("a privileged container gets every capability the runtime holds and the host's devices", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const c = cfg(podUid, "priv", sh("grep CapBnd /proc/self/status; [ -c /dev/kmsg ] && echo has-kmsg"), {
      privileged: true,
    });
    const id = await run(rt, podUid, c);
    await exited(rt, id);
    const out = logText(c.logPath);
    const ours = /CapBnd:\s+([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]!;
    assert.match(out, new RegExp(`CapBnd:\\s+${ours}`));
    assert.match(out, /has-kmsg/);
  });

  it("a container whose monitor is killed keeps running and ends with an unknown exit status", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const id = await run(rt, podUid, cfg(podUid, "orphan", []));
    const rec = JSON.parse(readFileSync(join(root, "runtime", "containers", id, "container.json"), "utf8")) as {
      shim: { pid: number };
    };
    process.kill(rec.shim.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await rt.containerStatus(id))?.state, "running");
    await rt.stopContainer(id, 0);
    const s = await rt.containerStatus(id);
    assert.equal(s?.state, "exited");
    assert.equal(s?.exitCode, 255);
    assert.match(s?.message ?? "", /exit status unknown/);
  });

  it("execSync's timeout kills the command inside the container, not only runc", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const id = await run(rt, podUid, cfg(podUid, "x", []));
    const r = await rt.execSync(id, ["sleep", "77"], 300);
    assert.equal(r.timedOut, true);
    const ps = await rt.execSync(id, sh("for p in /proc/[0-9]*; do cat $p/cmdline; echo; done"), 10_000);
    assert.doesNotMatch(ps.output, /sleep\x0077/);
  });

  it("a failing exec is an error with runc's message, not an exit code", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const id = await run(rt, podUid, cfg(podUid, "x", []));
    await assert.rejects(rt.execSync(id, ["no-such-command"], 5000), /executable file not found/);
  });

  it("removing a pod leaves no mount, netns, veth, address or cgroup behind", async () => {
    const rt = await fresh();
    const { podUid } = await sandbox(rt);
    const vol = join(root, "vol-clean", podUid);
    mkdirSync(vol, { recursive: true });
    const id = await run(
      rt,
      podUid,
      cfg(podUid, "c", [], { mounts: [{ containerPath: "/v", hostPath: vol, readOnly: false }] }),
    );
    const id2 = await run(rt, podUid, cfg(podUid, "d", sh("exit 0")));
    await exited(rt, id2);
    const netns = `/run/netns/${netnsPrefix}${shortPodId(podUid)}`;
    const veth = `/sys/class/net/${hostVethName(bridge, podUid)}`;
    assert.ok(existsSync(netns));
    assert.ok(existsSync(veth));
    assert.ok(mountsUnder(join(root, "runtime", "containers", id)).length > 0);
    await rt.removePodSandbox(podUid);
    pods.delete(podUid);
    assert.deepEqual(mountsUnder(join(root, "runtime")), []);
    assert.equal(existsSync(netns), false);
    assert.equal(existsSync(veth), false);
    assert.equal(existsSync(join(root, "runtime", "containers", id)), false);
    const ipam = JSON.parse(readFileSync(join(root, "runtime", "network", "allocations.json"), "utf8")) as {
      allocations: Record<string, { owner: string }>;
    };
    assert.ok(!Object.values(ipam.allocations).some((a) => a.owner === podUid));
    const cg = detectCgroups()!;
    for (const h of cg.hierarchies) assert.equal(existsSync(join(h, cgroupParent, `pod${podUid}`)), false, h);
    // and tearing down again is fine
    await rt.stopPodSandbox(podUid);
    await rt.removePodSandbox(podUid);
  });

  it("a half-created sandbox (netns without veth) is repaired by runPodSandbox", async () => {
    const rt = await fresh();
    const podUid = randomUUID();
    pods.add(podUid);
    const name = `${netnsPrefix}${shortPodId(podUid)}`;
    await runTool("ip", ["netns", "add", name]);
    const st = await rt.runPodSandbox({
      podUid,
      namespace: "t",
      name: "half",
      hostname: "half",
      hostNetwork: false,
      podDir: join(kubeletRoot, "pods", podUid),
      labels: {},
      annotations: {},
    });
    const addr = await runTool("ip", ["-n", name, "-o", "-4", "addr", "show", "dev", "eth0"]);
    assert.match(addr.stdout, new RegExp(` ${st.ip.replace(/\./g, "\\.")}/24 `));
  });
});
