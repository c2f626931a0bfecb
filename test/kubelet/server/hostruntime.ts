/**
 * A test double of the container runtime that really runs host processes: each container is its
 * argv spawned with real pipes (a pseudo-terminal from node-pty when tty is set), its output
 * written in the CRI log format by CriLogWriter; exec spawns the command beside it; attach joins the
 * main process's stdio. No images, no isolation: only what the kubelet API tests need, and all of it
 * real.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import { type IPty, spawn as spawnPty } from "node-pty";
import { forwardLocal } from "../../../src/kubelet/portforward/dial.js";
import { CriLogWriter } from "../../../src/kubelet/runtime/crilog.js";
import type {
  ContainerConfig,
  ContainerStats,
  ContainerStatus,
  ExecStreams,
  Runtime,
  RuntimeNotice,
  SandboxConfig,
  SandboxStatus,
} from "../../../src/kubelet/runtime/types.js";

interface HostContainer {
  id: string;
  podUid: string;
  cfg: ContainerConfig;
  state: ContainerStatus["state"];
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  child?: ChildProcess;
  pty?: IPty;
  log?: CriLogWriter;
  exited: Promise<void>;
  markExited: () => void;
}

let counter = 0;

export class HostRuntime implements Runtime {
  readonly name = "process" as const;
  private readonly containers = new Map<string, HostContainer>();
  private readonly listeners: Array<(podUid: string) => void> = [];
  private readonly execs = new Set<ChildProcess | IPty>();

  async init(): Promise<void> {}

  async runPodSandbox(cfg: SandboxConfig): Promise<SandboxStatus> {
    return { podUid: cfg.podUid, ip: "127.0.0.1", ready: true };
  }

  /** Host processes: the pod's localhost is the node's. */
  async portForward(_podUid: string, port: number, stream: Duplex): Promise<void> {
    await forwardLocal(port, stream);
  }

  async stopPodSandbox(podUid: string): Promise<void> {
    for (const c of this.containers.values()) if (c.podUid === podUid) this.kill(c);
  }

  async removePodSandbox(podUid: string): Promise<void> {
    for (const [id, c] of this.containers) if (c.podUid === podUid) this.containers.delete(id);
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    return [...new Set([...this.containers.values()].map((c) => c.podUid))].map((podUid) => ({
      podUid,
      ip: "127.0.0.1",
      ready: true,
    }));
  }

  async createContainer(podUid: string, cfg: ContainerConfig): Promise<string> {
    const id = `host${process.pid}x${++counter}`;
    let markExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    this.containers.set(id, { id, podUid, cfg, state: "created", createdAt: Date.now(), exited, markExited });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.must(id);
    const [file, ...args] = c.cfg.argv;
    if (!file) throw new Error("no command");
    const log = new CriLogWriter(c.cfg.logPath);
    c.log = log;
    c.startedAt = Date.now();
    c.state = "running";
    const env = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: "/tmp",
      ...Object.fromEntries(c.cfg.env.map((e) => [e.name, e.value])),
    };
    const onExit = (code: number) => {
      log.close();
      c.state = "exited";
      c.exitCode = code;
      c.finishedAt = Date.now();
      c.markExited();
      for (const l of this.listeners) l(c.podUid);
    };
    if (c.cfg.tty) {
      const pty = spawnPty(file, args, { cols: 80, rows: 24, env, cwd: c.cfg.workingDir ?? "/tmp" });
      c.pty = pty;
      pty.onData((d) => log.write("stdout", Buffer.from(d)));
      pty.onExit(({ exitCode }) => onExit(exitCode));
    } else {
      const child = spawn(file, args, { env, cwd: c.cfg.workingDir ?? "/tmp", stdio: ["pipe", "pipe", "pipe"] });
      c.child = child;
      child.stdout!.on("data", (d: Buffer) => log.write("stdout", d));
      child.stderr!.on("data", (d: Buffer) => log.write("stderr", d));
      child.stdin!.on("error", () => undefined);
      if (!c.cfg.stdin) child.stdin!.end();
      // "close", not "exit": the last output is read before the log is closed
      child.on("close", (code, signal) => onExit(code ?? (signal ? 128 + 9 : 1)));
    }
    for (const l of this.listeners) l(c.podUid);
  }

  async stopContainer(id: string, _timeoutSeconds: number): Promise<void> {
    const c = this.must(id);
    this.kill(c);
    await c.exited;
  }

  private kill(c: HostContainer): void {
    if (c.state !== "running") return;
    c.child?.kill("SIGKILL");
    c.pty?.kill("SIGKILL");
  }

  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
  }

  async listContainers(): Promise<ContainerStatus[]> {
    return [...this.containers.values()].map((c) => this.statusOf(c));
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const c = this.containers.get(id);
    return c && this.statusOf(c);
  }

  private statusOf(c: HostContainer): ContainerStatus {
    return {
      id: c.id,
      podUid: c.podUid,
      name: c.cfg.name,
      attempt: c.cfg.attempt,
      state: c.state,
      createdAt: c.createdAt,
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      ...(c.finishedAt !== undefined ? { finishedAt: c.finishedAt } : {}),
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode, reason: c.exitCode === 0 ? "Completed" : "Error" } : {}),
      image: c.cfg.image,
    };
  }

  /** Whether a container runs now (for a locator that must answer at once). */
  isRunning(id: string): boolean {
    return this.containers.get(id)?.state === "running";
  }

  onContainerEvent(listener: (podUid: string) => void): void {
    this.listeners.push(listener);
  }

  async exec(id: string, argv: string[], streams: ExecStreams): Promise<number> {
    const c = this.must(id);
    if (c.state !== "running") throw new Error(`container ${id} is not running`);
    const [file, ...args] = argv;
    if (!file) throw new Error("no command given");
    const cwd = c.cfg.workingDir ?? "/tmp";
    const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: "/tmp", TERM: "xterm" };
    if (streams.tty) {
      const pty = spawnPty(file, args, { cols: 80, rows: 24, env, cwd });
      this.execs.add(pty);
      pty.onData((d) => streams.stdout?.write(d));
      streams.onResize?.((size) => {
        if (size.width > 0 && size.height > 0) pty.resize(size.width, size.height);
      });
      streams.stdin?.on("data", (d: Buffer) => pty.write(d.toString("utf8")));
      return new Promise((resolve) => {
        pty.onExit(({ exitCode }) => {
          this.execs.delete(pty);
          // let the last output through before the result
          setImmediate(() => {
            streams.stdout?.end();
            resolve(exitCode);
          });
        });
      });
    }
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
      this.execs.add(child);
      child.on("error", (e) => {
        this.execs.delete(child);
        reject(new Error(`failed to start ${file}: ${e.message}`));
      });
      child.stdin!.on("error", () => undefined);
      if (streams.stdin) streams.stdin.pipe(child.stdin!);
      else child.stdin!.end();
      if (streams.stdout) child.stdout!.pipe(streams.stdout);
      else child.stdout!.resume();
      if (streams.stderr) child.stderr!.pipe(streams.stderr);
      else child.stderr!.resume();
      child.on("close", (code, signal) => {
        this.execs.delete(child);
        resolve(code ?? (signal ? 137 : 1));
      });
    });
  }

  async execSync(
    id: string,
    argv: string[],
    timeoutMs: number,
    maxOutput = 16 * 1024,
  ): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    this.must(id);
    const [file, ...args] = argv;
    return new Promise((resolve) => {
      const child = spawn(file ?? "false", args, { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      const add = (d: Buffer) => {
        if (output.length < maxOutput) output += d.toString().slice(0, maxOutput - output.length);
      };
      child.stdout!.on("data", add);
      child.stderr!.on("data", add);
      let timedOut = false;
      const t = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.on("close", (code) => {
        clearTimeout(t);
        resolve({ exitCode: code ?? 1, output, timedOut });
      });
    });
  }

  async attach(id: string, streams: ExecStreams): Promise<void> {
    const c = this.must(id);
    if (c.state !== "running" || !c.log) throw new Error(`container ${id} is not running`);
    const unsubscribe = c.log.subscribe((stream, data) => {
      const w = stream === "stderr" && streams.stderr ? streams.stderr : streams.stdout;
      w?.write(data);
    });
    if (streams.stdin && c.cfg.stdin) {
      streams.stdin.on("data", (d: Buffer) => {
        if (c.pty) c.pty.write(d.toString("utf8"));
        else c.child?.stdin?.write(d);
      });
      streams.stdin.on("end", () => {
        if (c.cfg.stdinOnce) c.child?.stdin?.end();
      });
    }
    if (c.pty && streams.tty) {
      streams.onResize?.((size) => {
        if (size.width > 0 && size.height > 0) c.pty?.resize(size.width, size.height);
      });
    }
    // until the container exits or the client goes away
    await new Promise<void>((resolve) => {
      void c.exited.then(resolve);
      streams.stdout?.once("close", resolve);
      streams.stderr?.once("close", resolve);
    });
    unsubscribe();
  }

  async stats(): Promise<ContainerStats[]> {
    const out: ContainerStats[] = [];
    for (const c of this.containers.values()) {
      const pid = c.child?.pid ?? c.pty?.pid;
      if (c.state !== "running" || pid === undefined) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const ticks = Number(fields[11]) + Number(fields[12]);
        const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        out.push({
          id: c.id,
          cpuUsageNanoSeconds: ticks * 1e7,
          memoryWorkingSetBytes: rss ? Number(rss[1]) * 1024 : 0,
          timestamp: Date.now(),
        });
      } catch {
        // the process went away between the listing and the reading
      }
    }
    return out;
  }

  onNotice(_listener: (n: RuntimeNotice) => void): void {}

  async close(): Promise<void> {
    for (const c of this.containers.values()) this.kill(c);
    for (const e of this.execs) e.kill("SIGKILL");
    await Promise.all([...this.containers.values()].filter((c) => c.state === "running").map((c) => c.exited));
  }

  private must(id: string): HostContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    return c;
  }
}
