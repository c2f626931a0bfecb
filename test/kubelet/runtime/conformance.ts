import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, afterEach, describe, it } from "node:test";
import type { ContainerConfig, ContainerStatus, Runtime, SandboxConfig } from "../../../src/kubelet/runtime/types.js";

/**
 * The contract every Runtime keeps (runc, process, sim): each runtime's test file calls
 * `runtimeConformance` with a factory. Every call of `make` returns a new, not yet initialised
 * instance over the same node state, so a second instance's init() must adopt what the first
 * left running. Cases use their own pods and remove them afterwards.
 *
 * Containers run `/bin/sh` commands; a runtime that cannot do something by design turns the
 * capability off (the cases that need it are skipped, saying which capability is missing).
 */
export interface RuntimeCapabilities {
  /** argv really runs (exit codes, output, env, working dir, signals). Default true. */
  commands?: boolean;
  /** exec / execSync. Default true. */
  exec?: boolean;
  /** attach to the main process (output and stdin). Default true. */
  attach?: boolean;
  /** Mounts appear at their containerPath. Default true. */
  mounts?: boolean;
  /** A new instance over the same state adopts running containers. Default true. */
  adoption?: boolean;
  /** stats() reports running containers. Default true. */
  stats?: boolean;
}

export interface RuntimeConformanceOptions {
  /** A new runtime instance over this suite's node state (not initialised yet). */
  make: () => Promise<Runtime>;
  /** Skips the whole suite with this reason (e.g. runc cannot run here). */
  skip?: string | undefined;
  capabilities?: RuntimeCapabilities;
}

const POLL_MS = 50;

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** CRI log lines of a file: [stream, tag, text]. */
export function criLines(path: string): Array<{ time: string; stream: string; tag: string; text: string }> {
  if (!existsSync(path)) return [];
  const out: Array<{ time: string; stream: string; tag: string; text: string }> = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line) continue;
    const m = /^(\S+) (stdout|stderr) (F|P) ([^\n]*)$/.exec(line);
    if (!m) throw new Error(`not a CRI log line: ${JSON.stringify(line)}`);
    out.push({ time: m[1]!, stream: m[2]!, tag: m[3]!, text: m[4]! });
  }
  return out;
}

export function logText(path: string, stream?: "stdout" | "stderr"): string {
  return criLines(path)
    .filter((l) => stream === undefined || l.stream === stream)
    .map((l) => l.text)
    .join("\n");
}

function collector(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (b: Buffer) => chunks.push(b));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

/** A container of `argv` logging to `logPath`: no env, mounts, limits or stdin unless `extra` says. */
export function containerConfig(
  name: string,
  argv: string[],
  logPath: string,
  extra: Partial<ContainerConfig> = {},
): ContainerConfig {
  return {
    name,
    attempt: 0,
    image: "busybox",
    argv,
    env: [],
    mounts: [],
    resources: { cpuRequestMilli: 0, cpuLimitMilli: 0, memoryLimitBytes: 0 },
    stdin: false,
    stdinOnce: false,
    tty: false,
    logPath,
    labels: {},
    podAnnotations: {},
    ...extra,
  };
}

export function runtimeConformance(name: string, opts: RuntimeConformanceOptions): void {
  const caps: Required<RuntimeCapabilities> = {
    commands: true,
    exec: true,
    attach: true,
    mounts: true,
    adoption: true,
    stats: true,
    ...opts.capabilities,
  };
  const needs = (...c: Array<keyof RuntimeCapabilities>): { skip: string | false } => {
    const missing = c.filter((k) => !caps[k]);
    return { skip: missing.length > 0 ? `${name} cannot (capability ${missing.join(", ")} is off)` : false };
  };

  describe(`Runtime conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    const scratch = opts.skip ? "" : mkdtempSync(join(tmpdir(), "k8ts-rt-conf-"));
    const open: Runtime[] = [];
    const pods = new Set<string>();

    const fresh = async (): Promise<Runtime> => {
      const rt = await opts.make();
      await rt.init();
      open.push(rt);
      return rt;
    };
    const closeRuntime = async (rt: Runtime): Promise<void> => {
      const i = open.indexOf(rt);
      if (i >= 0) open.splice(i, 1);
      await rt.close();
    };
    afterEach(async () => {
      if (pods.size === 0) return;
      const rt = open.at(-1) ?? (await fresh());
      for (const uid of pods) await rt.removePodSandbox(uid).catch(() => undefined);
      pods.clear();
    });
    after(async () => {
      for (const rt of [...open]) await closeRuntime(rt);
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    const sandbox = async (rt: Runtime, extra: Partial<SandboxConfig> = {}) => {
      const podUid = randomUUID();
      pods.add(podUid);
      const podDir = join(scratch, "pods", podUid);
      mkdirSync(podDir, { recursive: true });
      const cfg: SandboxConfig = {
        podUid,
        namespace: "conformance",
        name: `pod-${podUid.slice(0, 8)}`,
        hostname: `pod-${podUid.slice(0, 8)}`,
        hostNetwork: false,
        podDir,
        labels: {},
        annotations: {},
        ...extra,
      };
      const status = await rt.runPodSandbox(cfg);
      return { podUid, cfg, status };
    };

    const container = (podUid: string, name: string, argv: string[], extra: Partial<ContainerConfig> = {}) =>
      containerConfig(
        name,
        argv,
        join(scratch, "logs", podUid, `${name}-${extra.attempt ?? 0}-${randomUUID().slice(0, 6)}.log`),
        extra,
      );

    const run = async (rt: Runtime, podUid: string, cfg: ContainerConfig): Promise<string> => {
      const id = await rt.createContainer(podUid, cfg);
      await rt.startContainer(id);
      return id;
    };

    const exited = (rt: Runtime, id: string, ms = 20_000): Promise<ContainerStatus> =>
      waitFor(
        `container ${id.slice(0, 12)} to exit`,
        async () => {
          const s = await rt.containerStatus(id);
          return s?.state === "exited" ? s : undefined;
        },
        ms,
      );

    const logged = (path: string, needle: string, ms = 15_000) =>
      waitFor(`"${needle}" in ${path}`, () => (logText(path).includes(needle) ? true : undefined), ms);

    const sh = (script: string) => ["/bin/sh", "-c", script];

    it("a sandbox is listed ready with an IP, not ready after stop, and gone after removal", async () => {
      const rt = await fresh();
      const { podUid, status } = await sandbox(rt);
      assert.equal(status.podUid, podUid);
      assert.equal(status.ready, true);
      assert.match(status.ip, /^\d+\.\d+\.\d+\.\d+$/);
      const listed = (await rt.listPodSandboxes()).find((s) => s.podUid === podUid);
      assert.deepEqual(listed, { podUid, ip: status.ip, ready: true });
      await rt.stopPodSandbox(podUid);
      assert.equal((await rt.listPodSandboxes()).find((s) => s.podUid === podUid)?.ready, false);
      await rt.removePodSandbox(podUid);
      assert.equal(
        (await rt.listPodSandboxes()).find((s) => s.podUid === podUid),
        undefined,
      );
    });

    it("running a pod's sandbox twice returns the same sandbox and IP", async () => {
      const rt = await fresh();
      const { cfg, status } = await sandbox(rt);
      const again = await rt.runPodSandbox(cfg);
      assert.deepEqual(again, status);
      assert.equal((await rt.listPodSandboxes()).filter((s) => s.podUid === cfg.podUid).length, 1);
    });

    it(
      "a created container is listed as created, then running, then exited 0 as Completed",
      needs("commands"),
      async () => {
        const rt = await fresh();
        const { podUid } = await sandbox(rt);
        const cfg = container(podUid, "ok", sh("sleep 0.5; exit 0"));
        const id = await rt.createContainer(podUid, cfg);
        const created = await rt.containerStatus(id);
        assert.equal(created?.state, "created");
        assert.equal(created?.name, "ok");
        assert.equal(created?.podUid, podUid);
        assert.equal(created?.image, "busybox");
        assert.equal(created?.attempt, 0);
        assert.ok((await rt.listContainers()).some((c) => c.id === id));
        await rt.startContainer(id);
        const running = await rt.containerStatus(id);
        assert.ok(running?.state === "running" || running?.state === "exited");
        const s = await exited(rt, id);
        assert.equal(s.exitCode, 0);
        assert.equal(s.reason, "Completed");
        assert.ok(s.startedAt !== undefined && s.finishedAt !== undefined && s.finishedAt >= s.startedAt);
        assert.ok(s.createdAt <= s.startedAt);
      },
    );

    it("a container exiting 3 is exited with reason Error and exitCode 3", needs("commands"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "three", sh("exit 3")));
      const s = await exited(rt, id);
      assert.equal(s.exitCode, 3);
      assert.equal(s.reason, "Error");
    });

    it("onContainerEvent tells the pod's uid when its container exits", needs("commands"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const seen: string[] = [];
      rt.onContainerEvent((uid) => seen.push(uid));
      const id = await run(rt, podUid, container(podUid, "ev", sh("sleep 0.3")));
      await exited(rt, id);
      await waitFor("an event for the pod", () => (seen.includes(podUid) ? true : undefined));
    });

    it(
      "stdout and stderr reach the log in CRI format, each line tagged with its stream",
      needs("commands"),
      async () => {
        const rt = await fresh();
        const { podUid } = await sandbox(rt);
        const cfg = container(podUid, "logs", sh("echo out-line; echo err-line >&2; printf 'no newline'"));
        const id = await run(rt, podUid, cfg);
        await exited(rt, id);
        const lines = await waitFor("three log records", () => {
          const l = criLines(cfg.logPath);
          return l.length >= 3 ? l : undefined;
        });
        for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
        assert.ok(lines.some((l) => l.stream === "stdout" && l.tag === "F" && l.text === "out-line"));
        assert.ok(lines.some((l) => l.stream === "stderr" && l.tag === "F" && l.text === "err-line"));
        assert.ok(lines.some((l) => l.stream === "stdout" && l.text === "no newline"));
      },
    );

    it("env and workingDir reach the process", needs("commands"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const cfg = container(podUid, "env", sh('echo "foo=$FOO"; echo "two=$TWO_WORDS"; pwd'), {
        env: [
          { name: "FOO", value: "bar" },
          { name: "TWO_WORDS", value: "a b" },
        ],
        workingDir: "/tmp",
      });
      const id = await run(rt, podUid, cfg);
      assert.equal((await exited(rt, id)).exitCode, 0);
      const out = logText(cfg.logPath, "stdout").split("\n");
      assert.ok(out.includes("foo=bar"), out.join("|"));
      assert.ok(out.includes("two=a b"), out.join("|"));
      assert.ok(out.includes("/tmp"), out.join("|"));
    });

    it("mounts are readable at their containerPath (directories and files)", needs("commands", "mounts"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const dir = join(scratch, "vol", podUid);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "data.txt"), "from-the-volume\n");
      const file = join(scratch, "vol", `${podUid}.conf`);
      writeFileSync(file, "from-the-file\n");
      const cfg = container(podUid, "mounts", sh("cat /k8ts-conformance/vol/data.txt /k8ts-conformance/conf.txt"), {
        mounts: [
          { containerPath: "/k8ts-conformance/vol", hostPath: dir, readOnly: true },
          { containerPath: "/k8ts-conformance/conf.txt", hostPath: file, readOnly: true, file: true },
        ],
      });
      const id = await run(rt, podUid, cfg);
      const s = await exited(rt, id);
      assert.equal(s.exitCode, 0, logText(cfg.logPath));
      const out = logText(cfg.logPath, "stdout");
      assert.match(out, /from-the-volume/);
      assert.match(out, /from-the-file/);
    });

    it(
      "stopContainer on a process that ignores SIGTERM kills it once the timeout is over",
      needs("commands"),
      async () => {
        const rt = await fresh();
        const { podUid } = await sandbox(rt);
        const cfg = container(podUid, "stubborn", sh("trap '' TERM; echo ready; while :; do sleep 0.1; done"));
        const id = await run(rt, podUid, cfg);
        await logged(cfg.logPath, "ready");
        const t0 = Date.now();
        await rt.stopContainer(id, 2);
        const took = Date.now() - t0;
        const s = await rt.containerStatus(id);
        assert.equal(s?.state, "exited");
        assert.ok(took >= 1800, `stopped after ${took} ms, before the 2 s timeout`);
        assert.ok(took < 2000 + 5000, `stopped after ${took} ms, long after the 2 s timeout`);
        assert.equal(s?.exitCode, 137);
        assert.equal(s?.reason, "Error");
      },
    );

    it(
      "stopContainer on a process that exits on SIGTERM does not wait for the timeout",
      needs("commands"),
      async () => {
        const rt = await fresh();
        const { podUid } = await sandbox(rt);
        const cfg = container(podUid, "polite", sh("trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"));
        const id = await run(rt, podUid, cfg);
        await logged(cfg.logPath, "ready");
        const t0 = Date.now();
        await rt.stopContainer(id, 30);
        assert.ok(Date.now() - t0 < 10_000, "waited for the 30 s timeout");
        const s = await rt.containerStatus(id);
        assert.equal(s?.state, "exited");
        assert.equal(s?.exitCode, 0);
        assert.equal(s?.reason, "Completed");
      },
    );

    it("a container without a command runs until stopped, then exits 0", needs("commands"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "default-cmd", []));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await rt.containerStatus(id))?.state, "running");
      await rt.stopContainer(id, 10);
      const s = await rt.containerStatus(id);
      assert.equal(s?.state, "exited");
      assert.equal(s?.exitCode, 0);
    });

    it(
      "exec streams the command's stdout and stderr and resolves with its exit code",
      needs("commands", "exec"),
      async () => {
        const rt = await fresh();
        const { podUid } = await sandbox(rt);
        const id = await run(rt, podUid, container(podUid, "exec", []));
        const out = collector();
        const err = collector();
        const code = await rt.exec(id, sh("echo to-out; echo to-err >&2; exit 4"), {
          stdout: out.stream,
          stderr: err.stream,
          tty: false,
        });
        assert.equal(code, 4);
        assert.equal(out.text(), "to-out\n");
        assert.equal(err.text(), "to-err\n");
      },
    );

    it("exec feeds stdin to the command", needs("commands", "exec"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "exec-stdin", []));
      const input = new PassThrough();
      const out = collector();
      const p = rt.exec(id, ["cat"], { stdin: input, stdout: out.stream, tty: false });
      input.end("typed text\n");
      assert.equal(await p, 0);
      assert.equal(out.text(), "typed text\n");
    });

    it("execSync returns the exit code and the combined output", needs("commands", "exec"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "execsync", [], { env: [{ name: "GREETING", value: "hi" }] }));
      const ok = await rt.execSync(id, sh('echo "$GREETING"; echo warn >&2'), 10_000);
      assert.equal(ok.exitCode, 0);
      assert.equal(ok.timedOut, false);
      assert.match(ok.output, /hi\n/);
      assert.match(ok.output, /warn\n/);
      const bad = await rt.execSync(id, sh("exit 5"), 10_000);
      assert.equal(bad.exitCode, 5);
    });

    it(
      "execSync stops a command that outlives its timeout and says it timed out",
      needs("commands", "exec"),
      async () => {
        const rt = await fresh();
        const { podUid } = await sandbox(rt);
        const id = await run(rt, podUid, container(podUid, "execsync-timeout", []));
        const t0 = Date.now();
        const r = await rt.execSync(id, ["sleep", "30"], 500);
        assert.equal(r.timedOut, true);
        assert.ok(Date.now() - t0 < 10_000);
        assert.notEqual(r.exitCode, 0);
      },
    );

    it("execSync caps the output at maxOutput bytes", needs("commands", "exec"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "execsync-cap", []));
      const r = await rt.execSync(
        id,
        sh("i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done"),
        10_000,
        1000,
      );
      assert.equal(r.exitCode, 0);
      assert.ok(r.output.length <= 1000, `output of ${r.output.length} bytes`);
      assert.ok(r.output.startsWith("0123456789\n"));
    });

    it("attach streams the main process's live output and feeds its stdin", needs("commands", "attach"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const cfg = container(
        podUid,
        "attach",
        sh('echo started; while read line; do echo "got:$line"; done; echo eof'),
        {
          stdin: true,
        },
      );
      const id = await run(rt, podUid, cfg);
      await logged(cfg.logPath, "started");
      const input = new PassThrough();
      const out = collector();
      const attached = rt.attach(id, { stdin: input, stdout: out.stream, stderr: out.stream, tty: false });
      input.write("hello\n");
      await waitFor("the echo of stdin on the attached stream", () =>
        out.text().includes("got:hello") ? true : undefined,
      );
      assert.ok(!out.text().includes("started"), "attach replayed old output");
      await rt.stopContainer(id, 0);
      await attached;
      assert.match(logText(cfg.logPath), /got:hello/);
    });

    it(
      "with stdinOnce, the end of the first attach's stdin is the container's EOF",
      needs("commands", "attach"),
      async () => {
        const rt = await fresh();
        const { podUid } = await sandbox(rt);
        const cfg = container(
          podUid,
          "once",
          sh('echo started; while read line; do echo "got:$line"; done; echo eof; exit 6'),
          {
            stdin: true,
            stdinOnce: true,
          },
        );
        const id = await run(rt, podUid, cfg);
        await logged(cfg.logPath, "started");
        const input = new PassThrough();
        const out = collector();
        const attached = rt.attach(id, { stdin: input, stdout: out.stream, stderr: out.stream, tty: false });
        input.end("only line\n");
        const s = await exited(rt, id);
        await attached;
        assert.equal(s.exitCode, 6);
        assert.match(out.text(), /got:only line\neof/);
      },
    );

    it("stats reports a running container's CPU and memory", needs("commands", "stats"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "stats", []));
      const st = await waitFor("stats of the container", async () => (await rt.stats()).find((s) => s.id === id));
      assert.ok(st.cpuUsageNanoSeconds >= 0);
      assert.ok(st.memoryWorkingSetBytes >= 0);
      assert.ok(Math.abs(st.timestamp - Date.now()) < 60_000);
    });

    it("stopPodSandbox stops the pod's running containers", needs("commands"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "sleeper", sh("sleep 300")));
      await rt.stopPodSandbox(podUid);
      assert.equal((await rt.containerStatus(id))?.state, "exited");
    });

    it("removeContainer forgets the container; unknown ids have no status", needs("commands"), async () => {
      const rt = await fresh();
      const { podUid } = await sandbox(rt);
      const id = await run(rt, podUid, container(podUid, "gone", sh("exit 0")));
      await exited(rt, id);
      await rt.removeContainer(id);
      assert.equal(await rt.containerStatus(id), undefined);
      assert.ok(!(await rt.listContainers()).some((c) => c.id === id));
      assert.equal(await rt.containerStatus("0".repeat(64)), undefined);
    });

    it(
      "a new runtime instance adopts running containers once and keeps exited ones",
      needs("commands", "adoption"),
      async () => {
        const first = await fresh();
        const { podUid } = await sandbox(first);
        const doneCfg = container(podUid, "done", sh("echo finished; exit 2"));
        const doneId = await run(first, podUid, doneCfg);
        await exited(first, doneId);
        const liveCfg = container(podUid, "long", sh("echo before; while :; do sleep 0.2; done"));
        const liveId = await run(first, podUid, liveCfg);
        await logged(liveCfg.logPath, "before");
        await closeRuntime(first);

        const second = await fresh();
        for (let round = 0; round < 2; round++) {
          // a second init() of the same instance adopts nothing twice
          if (round === 1) await second.init();
          const all = await second.listContainers();
          assert.equal(all.filter((c) => c.id === liveId).length, 1);
          assert.equal(all.find((c) => c.id === liveId)?.state, "running");
          const d = all.find((c) => c.id === doneId);
          assert.equal(d?.state, "exited");
          assert.equal(d?.exitCode, 2);
          assert.ok((await second.listPodSandboxes()).some((s) => s.podUid === podUid && s.ready));
        }
        await second.stopContainer(liveId, 0);
        const s = await second.containerStatus(liveId);
        assert.equal(s?.state, "exited");
      },
    );
  });
}
