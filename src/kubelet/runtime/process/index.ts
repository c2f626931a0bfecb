/**
 * The `process` runtime: containers are host processes, for machines without runc (or without
 * root). Documented limits, each reported rather than hidden:
 * - no image and no root file system of its own: the command runs on the host, as the kubelet's
 *   user (or spec runAsUser when the kubelet is root);
 * - no volume mounts: a container that mounts a volume fails with CreateContainerError naming
 *   the mount — except the service account token volume every pod gets, which is skipped with a
 *   Warning event giving its host path;
 * - no resource limits enforced and no network namespace: the pod IP is the node's IP.
 * Processes run in their own process group with stdout/stderr on FIFOs the runtime reads into
 * CRI log files; they keep running across a kubelet restart and are adopted by the next runtime
 * (their exit codes are then unknown and reported as such). A container without a command runs a
 * placeholder that sleeps, with a Warning.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import type { Duplex, Writable } from "node:stream";
import { log } from "../../../util/log.js";
import { forwardLocal, PortForwardError } from "../../portforward/dial.js";
import { CriLogWriter } from "../crilog.js";
import {
  type ContainerConfig,
  type ContainerStats,
  type ContainerStatus,
  type ExecStreams,
  type Runtime,
  RuntimeError,
  type RuntimeNotice,
  type SandboxConfig,
  type SandboxStatus,
  SERVICE_ACCOUNT_MOUNT_PATH,
} from "../types.js";

export interface ProcessRuntimeOptions {
  /** Where container state, FIFOs and sandboxes are kept. */
  stateDir: string;
  /** The node IP (every pod's IP). */
  nodeIP: string;
}

const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PLACEHOLDER = ["/bin/sh", "-c", 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

interface Record_ {
  id: string;
  podUid: string;
  name: string;
  attempt: number;
  image: string;
  argv: string[];
  env: Array<{ name: string; value: string }>;
  cwd: string;
  uid?: number;
  gid?: number;
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  pid?: number;
  /** /proc/<pid>/stat start time, against pid reuse. */
  pidStart?: string;
  state: ContainerStatus["state"];
}

interface Live {
  child?: ChildProcess;
  log?: CriLogWriter;
  stdinFd?: number;
  readers: Socket[];
  exited: Promise<void>;
  markExited: () => void;
  pty?: import("node-pty").IPty;
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number, start: string | undefined): boolean {
  return start !== undefined && procStart(pid) === start;
}

/** mkfifo(1), without blocking the event loop (Node has no mkfifo of its own). */
function mkfifo(path: string): Promise<void> {
  if (existsSync(path)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    execFile("mkfifo", ["-m", "0600", path], (err, _out, stderr) =>
      err ? reject(new RuntimeError("CreateContainerError", `mkfifo ${path}: ${stderr || err.message}`)) : resolve(),
    );
  });
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGABRT: 6,
  SIGSEGV: 11,
  SIGPIPE: 13,
};

export class ProcessRuntime implements Runtime {
  readonly name = "process" as const;
  private readonly opts: ProcessRuntimeOptions;
  private readonly records = new Map<string, Record_>();
  private readonly live = new Map<string, Live>();
  private readonly sandboxes = new Map<string, SandboxStatus>();
  private readonly eventListeners: Array<(podUid: string) => void> = [];
  private readonly noticeListeners: Array<(n: RuntimeNotice) => void> = [];
  private poller: NodeJS.Timeout | undefined;

  constructor(opts: ProcessRuntimeOptions) {
    this.opts = opts;
  }

  private dir(...p: string[]): string {
    return join(this.opts.stateDir, ...p);
  }

  async init(): Promise<void> {
    mkdirSync(this.dir("containers"), { recursive: true, mode: 0o700 });
    mkdirSync(this.dir("sandboxes"), { recursive: true, mode: 0o700 });
    for (const f of readdirSync(this.dir("sandboxes"))) {
      try {
        const s = JSON.parse(readFileSync(this.dir("sandboxes", f), "utf8")) as SandboxStatus;
        this.sandboxes.set(s.podUid, s);
      } catch {
        // a half-written file from a crash: the sandbox is recreated on the next sync
      }
    }
    for (const f of readdirSync(this.dir("containers"))) {
      if (!f.endsWith(".json")) continue;
      let r: Record_;
      try {
        r = JSON.parse(readFileSync(this.dir("containers", f), "utf8")) as Record_;
      } catch {
        continue;
      }
      this.records.set(r.id, r);
      if (r.state === "running" && r.pid !== undefined) {
        if (alive(r.pid, r.pidStart)) this.adopt(r);
        else this.lostExit(r);
      }
    }
    this.poller = setInterval(() => this.pollAdopted(), 1000);
    this.poller.unref();
  }

  private save(r: Record_): void {
    const path = this.dir("containers", `${r.id}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(r), { mode: 0o600 });
    // rename is atomic: a crash leaves the old or the new state, never half of one
    renameSync(`${path}.tmp`, path);
  }

  private emit(podUid: string): void {
    for (const l of this.eventListeners) l(podUid);
  }

  private notice(n: RuntimeNotice): void {
    for (const l of this.noticeListeners) l(n);
  }

  onContainerEvent(listener: (podUid: string) => void): void {
    this.eventListeners.push(listener);
  }

  onNotice(listener: (n: RuntimeNotice) => void): void {
    this.noticeListeners.push(listener);
  }

  async runPodSandbox(cfg: SandboxConfig): Promise<SandboxStatus> {
    const existing = this.sandboxes.get(cfg.podUid);
    if (existing) {
      existing.ready = true;
      return existing;
    }
    // no network namespace: every pod has the node's IP
    const s: SandboxStatus = { podUid: cfg.podUid, ip: this.opts.nodeIP, ready: true };
    this.sandboxes.set(cfg.podUid, s);
    writeFileSync(this.dir("sandboxes", `${cfg.podUid}.json`), JSON.stringify(s), { mode: 0o600 });
    return s;
  }

  async stopPodSandbox(podUid: string): Promise<void> {
    const ids = [...this.records.values()].filter((r) => r.podUid === podUid && r.state === "running").map((r) => r.id);
    await Promise.all(ids.map((id) => this.stopContainer(id, 0)));
    const s = this.sandboxes.get(podUid);
    if (s) s.ready = false;
  }

  async removePodSandbox(podUid: string): Promise<void> {
    await this.stopPodSandbox(podUid);
    for (const r of [...this.records.values()]) if (r.podUid === podUid) await this.removeContainer(r.id);
    this.sandboxes.delete(podUid);
    rmSync(this.dir("sandboxes", `${podUid}.json`), { force: true });
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    return [...this.sandboxes.values()];
  }

  async createContainer(podUid: string, cfg: ContainerConfig): Promise<string> {
    if (!this.sandboxes.has(podUid)) throw new RuntimeError("CreateContainerError", `pod sandbox ${podUid} not found`);
    for (const m of cfg.mounts) {
      if (m.containerPath === SERVICE_ACCOUNT_MOUNT_PATH) {
        this.notice({
          podUid,
          container: cfg.name,
          type: "Warning",
          reason: "MountNotSupported",
          message: `the process runtime runs containers as host processes without mounts: the service account token for container "${cfg.name}" is at ${m.hostPath}, not ${m.containerPath}`,
        });
        continue;
      }
      throw new RuntimeError(
        "CreateContainerError",
        `the process runtime cannot mount volumes: container "${cfg.name}" mounts volume "${m.volume ?? m.hostPath}" at ${m.containerPath} (run k8ts as root with runc installed for volume mounts)`,
      );
    }
    let argv = cfg.argv;
    if (argv.length === 0) {
      argv = PLACEHOLDER;
      this.notice({
        podUid,
        container: cfg.name,
        type: "Warning",
        reason: "NoImageCommand",
        message: `no image store: the default command of image "${cfg.image}" is unknown, so container "${cfg.name}" runs a placeholder that sleeps until stopped`,
      });
    }
    const cwd = cfg.workingDir ?? "/";
    const id = randomBytes(32).toString("hex");
    const r: Record_ = {
      id,
      podUid,
      name: cfg.name,
      attempt: cfg.attempt,
      image: cfg.image,
      argv,
      env: cfg.env,
      cwd,
      logPath: cfg.logPath,
      stdin: cfg.stdin,
      stdinOnce: cfg.stdinOnce,
      tty: cfg.tty,
      createdAt: Date.now(),
      state: "created",
    };
    if (process.getuid?.() === 0) {
      if (cfg.runAsUser !== undefined) r.uid = cfg.runAsUser;
      if (cfg.runAsGroup !== undefined) r.gid = cfg.runAsGroup;
    }
    this.records.set(id, r);
    this.save(r);
    return id;
  }

  private envOf(r: Record_): Record<string, string> {
    const env: Record<string, string> = { PATH: HOST_PATH, HOSTNAME: r.podUid.slice(0, 8), HOME: "/root" };
    for (const e of r.env) env[e.name] = e.value;
    return env;
  }

  private newLive(): Live {
    let markExited = () => {};
    const exited = new Promise<void>((res) => (markExited = res));
    return { readers: [], exited, markExited };
  }

  async startContainer(id: string): Promise<void> {
    const r = this.records.get(id);
    if (!r) throw new RuntimeError("RunContainerError", `container ${id} not found`);
    if (r.state !== "created") throw new RuntimeError("RunContainerError", `container ${id} is ${r.state}`);
    if (!existsSync(r.cwd) || !statSync(r.cwd).isDirectory()) {
      this.finish(r, 128, "ContainerCannotRun", `chdir ${r.cwd}: no such file or directory`);
      throw new RuntimeError("RunContainerError", `chdir ${r.cwd}: no such file or directory`);
    }
    const live = this.newLive();
    live.log = new CriLogWriter(r.logPath);
    this.live.set(id, live);
    if (r.tty) {
      await this.startTty(r, live);
      return;
    }
    const out = this.dir("containers", `${id}.stdout`);
    const err = this.dir("containers", `${id}.stderr`);
    await Promise.all([mkfifo(out), mkfifo(err)]);
    // the child holds its output FIFOs read-write: it never gets EPIPE while no kubelet reads them
    const outFd = openSync(out, "r+");
    const errFd = openSync(err, "r+");
    // our read ends are opened before the spawn (and before the child's descriptors are closed):
    // a FIFO socket made on a descriptor number the spawn just released never reports data
    const readers = this.openOutputs(r);
    let inFd: number | "ignore" = "ignore";
    if (r.stdin) {
      const stdinPath = this.dir("containers", `${id}.stdin`);
      await mkfifo(stdinPath);
      live.stdinFd = openSync(stdinPath, "r+");
      inFd = openSync(stdinPath, "r");
    }
    let child: ChildProcess;
    try {
      child = spawn(r.argv[0]!, r.argv.slice(1), {
        cwd: r.cwd,
        env: this.envOf(r),
        stdio: [inFd, outFd, errFd],
        detached: true,
        uid: r.uid,
        gid: r.gid,
      });
    } finally {
      closeSync(outFd);
      closeSync(errFd);
      if (typeof inFd === "number") closeSync(inFd);
    }
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once("spawn", () => resolve(undefined));
      child.once("error", (e) => resolve(e));
    });
    if (spawnError) {
      for (const [, fd] of readers) closeSync(fd);
      live.log.close();
      this.live.delete(id);
      const msg = `exec: "${r.argv[0]}": ${(spawnError as NodeJS.ErrnoException).code === "ENOENT" ? "executable file not found in $PATH" : spawnError.message}`;
      this.finish(r, 128, "ContainerCannotRun", msg);
      throw new RuntimeError("RunContainerError", msg);
    }
    child.unref();
    live.child = child;
    r.pid = child.pid;
    r.pidStart = procStart(child.pid!);
    r.startedAt = Date.now();
    r.state = "running";
    this.save(r);
    this.readOutputs(live, readers);
    child.on("exit", (code, signal) => {
      const exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 15) : 15);
      // the output FIFOs end once every writer is gone (children that kept them may live on): the
      // record says exited after they drained, or after 2 s at most
      const drained = Promise.all(
        live.readers.map(
          (sock) =>
            new Promise<void>((res) => {
              if (sock.destroyed || sock.readableEnded) res();
              else sock.once("close", () => res());
            }),
        ),
      );
      const timer = setTimeout(() => this.finish(r, exitCode), 2000);
      void drained.then(() => {
        clearTimeout(timer);
        this.finish(r, exitCode);
      });
    });
    this.emit(r.podUid);
  }

  private async startTty(r: Record_, live: Live): Promise<void> {
    const pty = await import("node-pty");
    const p = pty.spawn(r.argv[0]!, r.argv.slice(1), {
      cwd: r.cwd,
      env: this.envOf(r),
      cols: 80,
      rows: 24,
      uid: r.uid,
      gid: r.gid,
    });
    live.pty = p;
    r.pid = p.pid;
    r.pidStart = procStart(p.pid);
    r.startedAt = Date.now();
    r.state = "running";
    this.save(r);
    p.onData((d) => live.log?.write("stdout", Buffer.from(d, "utf8")));
    p.onExit(({ exitCode, signal }) => {
      this.finish(r, signal ? 128 + signal : exitCode);
    });
    this.emit(r.podUid);
  }

  /** Opens the read ends of the output FIFOs (before the process starts: see startContainer). */
  private openOutputs(r: Record_): Array<["stdout" | "stderr", number]> {
    const out: Array<["stdout" | "stderr", number]> = [];
    for (const stream of ["stdout", "stderr"] as const) {
      const path = this.dir("containers", `${r.id}.${stream}`);
      if (existsSync(path)) out.push([stream, openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)]);
    }
    return out;
  }

  private readOutputs(live: Live, fds: Array<["stdout" | "stderr", number]>): void {
    for (const [stream, fd] of fds) {
      const sock = new Socket({ fd, readable: true, writable: false });
      sock.on("data", (d: Buffer) => live.log?.write(stream, d));
      sock.on("error", () => undefined);
      live.readers.push(sock);
    }
  }

  /** A process left running by a previous kubelet: read its output again and watch for its end. */
  private adopt(r: Record_): void {
    const live = this.newLive();
    live.log = new CriLogWriter(r.logPath);
    this.live.set(r.id, live);
    this.readOutputs(live, this.openOutputs(r));
    if (r.stdin) {
      const stdinPath = this.dir("containers", `${r.id}.stdin`);
      if (existsSync(stdinPath)) live.stdinFd = openSync(stdinPath, "r+");
    }
  }

  private pollAdopted(): void {
    for (const r of this.records.values()) {
      if (r.state !== "running" || r.pid === undefined) continue;
      const live = this.live.get(r.id);
      if (live?.child || live?.pty) continue;
      if (!alive(r.pid, r.pidStart)) this.lostExit(r);
    }
  }

  private lostExit(r: Record_): void {
    this.finish(
      r,
      137,
      "ContainerStatusUnknown",
      "the process ended while the kubelet was not running: its exit code is unknown",
    );
  }

  private finish(r: Record_, exitCode: number, reason?: string, message?: string): void {
    if (r.state === "exited") return;
    r.state = "exited";
    r.exitCode = exitCode;
    r.finishedAt = Date.now();
    r.startedAt ??= r.finishedAt;
    r.reason = reason ?? (exitCode === 0 ? "Completed" : "Error");
    if (message) r.message = message;
    this.save(r);
    const live = this.live.get(r.id);
    if (live) {
      for (const s of live.readers) s.destroy();
      live.readers = [];
      if (live.stdinFd !== undefined) closeSync(live.stdinFd);
      live.stdinFd = undefined;
      live.log?.close();
      live.log = undefined;
      live.markExited();
    }
    for (const f of ["stdout", "stderr", "stdin"]) rmSync(this.dir("containers", `${r.id}.${f}`), { force: true });
    this.emit(r.podUid);
  }

  private signal(r: Record_, sig: NodeJS.Signals): void {
    if (r.pid === undefined || !alive(r.pid, r.pidStart)) return;
    try {
      process.kill(-r.pid, sig);
    } catch {
      try {
        process.kill(r.pid, sig);
      } catch {
        // gone already
      }
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const r = this.records.get(id);
    if (r?.state !== "running") return;
    this.signal(r, "SIGTERM");
    const deadline = Date.now() + Math.max(0, timeoutSeconds) * 1000;
    while (r.state === "running" && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      if (r.pid !== undefined && !alive(r.pid, r.pidStart) && !this.live.get(id)?.child) this.lostExit(r);
    }
    if (r.state === "running") {
      this.signal(r, "SIGKILL");
      const hard = Date.now() + 5000;
      while (r.state === "running" && Date.now() < hard) {
        await new Promise((res) => setTimeout(res, 20));
        if (r.pid !== undefined && !alive(r.pid, r.pidStart) && !this.live.get(id)?.child) this.lostExit(r);
      }
    }
  }

  async removeContainer(id: string): Promise<void> {
    const r = this.records.get(id);
    if (!r) return;
    if (r.state === "running") await this.stopContainer(id, 0);
    this.records.delete(id);
    this.live.delete(id);
    rmSync(this.dir("containers", `${id}.json`), { force: true });
    rmSync(r.logPath, { force: true });
  }

  async listContainers(): Promise<ContainerStatus[]> {
    return [...this.records.values()].map((r) => this.statusOf(r));
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const r = this.records.get(id);
    return r ? this.statusOf(r) : undefined;
  }

  private statusOf(r: Record_): ContainerStatus {
    const s: ContainerStatus = {
      id: r.id,
      podUid: r.podUid,
      name: r.name,
      attempt: r.attempt,
      state: r.state,
      createdAt: r.createdAt,
      image: r.image,
    };
    if (r.startedAt !== undefined) s.startedAt = r.startedAt;
    if (r.finishedAt !== undefined) s.finishedAt = r.finishedAt;
    if (r.exitCode !== undefined) s.exitCode = r.exitCode;
    if (r.reason !== undefined) s.reason = r.reason;
    if (r.message !== undefined) s.message = r.message;
    return s;
  }

  private running(id: string): Record_ {
    const r = this.records.get(id);
    if (r?.state !== "running") throw new RuntimeError("ContainerNotRunning", `container ${id} is not running`);
    return r;
  }

  async exec(id: string, argv: string[], streams: ExecStreams): Promise<number> {
    const r = this.running(id);
    if (argv.length === 0) throw new RuntimeError("ExecError", "command is required");
    if (streams.tty) {
      const pty = await import("node-pty");
      const p = pty.spawn(argv[0]!, argv.slice(1), {
        cwd: r.cwd,
        env: this.envOf(r),
        cols: 80,
        rows: 24,
        uid: r.uid,
        gid: r.gid,
      });
      p.onData((d) => streams.stdout?.write(d));
      streams.onResize?.((s) => p.resize(Math.max(1, s.width), Math.max(1, s.height)));
      streams.stdin?.on("data", (d: Buffer) => p.write(d.toString("utf8")));
      streams.stdin?.on("end", () => p.write("\x04"));
      return new Promise((resolve) => p.onExit(({ exitCode, signal }) => resolve(signal ? 128 + signal : exitCode)));
    }
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: r.cwd,
        env: this.envOf(r),
        stdio: [
          streams.stdin ? "pipe" : "ignore",
          streams.stdout ? "pipe" : "ignore",
          streams.stderr ? "pipe" : "ignore",
        ],
        uid: r.uid,
        gid: r.gid,
      });
      child.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new RuntimeError(
            "ExecError",
            e.code === "ENOENT" ? `exec: "${argv[0]}": executable file not found in $PATH` : e.message,
          ),
        ),
      );
      if (streams.stdin && child.stdin) {
        streams.stdin.pipe(child.stdin);
        child.stdin.on("error", () => undefined);
      }
      const pipeOut = (src: NodeJS.ReadableStream | null, dst: Writable | undefined) => {
        if (src && dst) src.on("data", (d: Buffer) => dst.write(d));
      };
      pipeOut(child.stdout, streams.stdout);
      pipeOut(child.stderr, streams.stderr);
      child.on("close", (code, sig) => resolve(code ?? 128 + (sig ? (SIGNALS[sig] ?? 15) : 15)));
    });
  }

  async execSync(
    id: string,
    argv: string[],
    timeoutMs: number,
    maxOutput = 16 * 1024,
  ): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const r = this.running(id);
    return new Promise((resolve) => {
      let output = "";
      let timedOut = false;
      let child: ChildProcess;
      try {
        child = spawn(argv[0] ?? "", argv.slice(1), {
          cwd: r.cwd,
          env: this.envOf(r),
          uid: r.uid,
          gid: r.gid,
          detached: true,
        });
      } catch (e) {
        resolve({ exitCode: 126, output: String((e as Error).message), timedOut: false });
        return;
      }
      const add = (d: Buffer) => {
        if (output.length < maxOutput) output += d.toString("utf8").slice(0, maxOutput - output.length);
      };
      child.stdout?.on("data", add);
      child.stderr?.on("data", add);
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, timeoutMs);
      child.once("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({
          exitCode: 126,
          output: e.code === "ENOENT" ? `exec: "${argv[0]}": executable file not found in $PATH` : e.message,
          timedOut: false,
        });
      });
      child.on("close", (code, sig) => {
        clearTimeout(timer);
        resolve({ exitCode: code ?? 128 + (sig ? (SIGNALS[sig] ?? 9) : 9), output, timedOut });
      });
    });
  }

  /** Host processes share the node's network: the node's localhost is the pod's. */
  async portForward(podUid: string, port: number, stream: Duplex): Promise<void> {
    if (!this.sandboxes.get(podUid)?.ready) throw new PortForwardError(`pod sandbox ${podUid} is not running`);
    await forwardLocal(port, stream);
  }

  async attach(id: string, streams: ExecStreams): Promise<void> {
    const r = this.running(id);
    const live = this.live.get(id);
    if (!live) throw new RuntimeError("AttachError", `container ${id} cannot be attached`);
    if (live.pty) {
      const p = live.pty;
      const sub = p.onData((d) => streams.stdout?.write(d));
      streams.onResize?.((s) => p.resize(Math.max(1, s.width), Math.max(1, s.height)));
      streams.stdin?.on("data", (d: Buffer) => p.write(d.toString("utf8")));
      await live.exited;
      sub.dispose();
      return;
    }
    const unsubscribe = live.log?.subscribe((stream, data) => {
      const dst = stream === "stderr" && !streams.tty ? streams.stderr : streams.stdout;
      dst?.write(data);
    });
    if (streams.stdin && r.stdin && live.stdinFd !== undefined) {
      const fd = live.stdinFd;
      streams.stdin.on("data", (d: Buffer) => {
        try {
          // synchronous write to a FIFO we hold read-write: cannot block past the pipe buffer
          writeAll(fd, d);
        } catch (err) {
          log.debug("attach stdin write failed", { error: String(err) });
        }
      });
      streams.stdin.on("end", () => {
        if (r.stdinOnce && live.stdinFd !== undefined) {
          closeSync(live.stdinFd);
          live.stdinFd = undefined;
        }
      });
    }
    await Promise.race([
      live.exited,
      // the client leaving ends the attach; its stdin ending does not (output still flows)
      new Promise<void>((res) => {
        streams.stdout?.once("close", () => res());
      }),
    ]);
    unsubscribe?.();
  }

  async stats(): Promise<ContainerStats[]> {
    const now = Date.now();
    const out: ContainerStats[] = [];
    const ticks = 100;
    for (const r of this.records.values()) {
      if (r.state !== "running" || r.pid === undefined) continue;
      try {
        const stat = readFileSync(`/proc/${r.pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const cpu = (Number(f[11]) + Number(f[12])) / ticks;
        const rssPages = Number(readFileSync(`/proc/${r.pid}/statm`, "utf8").split(" ")[1]);
        out.push({
          id: r.id,
          cpuUsageNanoSeconds: Math.round(cpu * 1e9),
          memoryWorkingSetBytes: rssPages * 4096,
          timestamp: now,
        });
      } catch {
        // exited between the listing and the read
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    for (const live of this.live.values()) {
      for (const s of live.readers) s.destroy();
      if (live.stdinFd !== undefined) closeSync(live.stdinFd);
      live.log?.close();
    }
    this.live.clear();
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data.subarray(off));
}
