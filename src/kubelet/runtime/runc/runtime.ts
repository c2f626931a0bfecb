/**
 * The runc runtime: OCI containers run by Debian's runc, each in its own PID, mount, IPC and UTS
 * namespaces, in its pod's network namespace (see ../../network), in a cgroup per container under a
 * pod cgroup under a `k8ts` parent, on a copy-on-write overlay of the host's root filesystem (there
 * is no image store yet — every container says so in a Warning event).
 *
 * Layout under `root` (default /var/lib/k8ts/runc; hidden from containers):
 *   sandboxes/<pod>/sandbox.json, hosts, hostname, resolv.conf
 *   containers/<id>/container.json   our record (config, state, exit status)
 *   containers/<id>/config.json      the OCI bundle's spec; rootfs/ upper/ work/ the overlay
 *   containers/<id>/stdout|stderr|stdin  FIFOs; exit (status written by the monitor); init.pid; runc.log
 *   runc/                            runc's own state (`runc --root`)
 *   network/                         the pod IPAM's allocations
 *
 * What survives a kubelet restart (a new RuncRuntime on the same root, `init()`):
 * - running containers keep running (their monitor is in its own session) and are adopted once,
 *   from our records joined with `runc list`; their logs continue (the FIFOs hold up to 64 KiB while
 *   no kubelet reads them, then the container blocks on write), exits that happened meanwhile are
 *   reported with their real status (the monitor's exit file), OOM kills too (the kept cgroup);
 * - network namespaces, addresses (IPAM file), cgroups and overlays.
 * What does not:
 * - a TTY container's console (it belongs to this process's pseudo-terminal: the container gets
 *   SIGHUP, and attach is refused afterwards); the log of its output after the restart;
 * - stdin of a `stdinOnce` container, which this process holds open for the first attach (the
 *   container sees EOF); plain `stdin` containers keep theirs;
 * - output a container wrote in its last moments if it exited while no kubelet was reading (the
 *   FIFO's buffer dies with its last holder); partial lines pending in the old log writer;
 * - in-flight exec sessions.
 *
 * Without root (a non-root uid) the runtime is rootless (./rootless.ts says what that changes and
 * why): containers get a user namespace mapping their uid/gid 0 to the node user, pods share the
 * node's network, the root filesystem is the host's read-only with private tmpfs on /tmp, /var/tmp
 * and /run, and there are cgroups (limits, OOM kills, cgroup stats) only under a cgroup v2 subtree
 * delegated to the user — else stats come from /proc. Each of these tells the pod in a Warning
 * event. The state root and runc's (`<root>/runc`) must belong to the user.
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import type { Socket } from "node:net";
import { homedir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import type { Duplex } from "node:stream";
import type { IPty } from "node-pty";
import { log } from "../../../util/log.js";
import { runTool } from "../../network/command.js";
import { detectNodeIP, PodNetwork, type PodNetworkOptions, shortPodId } from "../../network/podnetwork.js";
import { forwardInNetns, forwardLocal, PortForwardError } from "../../portforward/dial.js";
import { CriLogWriter } from "../crilog.js";
import {
  type ContainerConfig,
  type ContainerStats,
  type ContainerStatus,
  type ExecStreams,
  type Mount,
  type Runtime,
  RuntimeError,
  type RuntimeNotice,
  type SandboxConfig,
  type SandboxStatus,
} from "../types.js";
import { defaultRuncPath } from "./availability.js";
import { Cgroups, detectCgroups } from "./cgroups.js";
import { runcExec, runcExecSync } from "./exec.js";
import { exitOutcome, lastRuncError, parseExitFile } from "./exit.js";
import { type MonitorArgs, ptyChunk, spawnMonitor, spawnPtyMonitor } from "./monitor.js";
import { procUsage } from "./procstats.js";
import {
  type ContainerRecord,
  isAlive,
  isContainerRecord,
  isSandboxRecord,
  processIdentity,
  readRecords,
  type SandboxRecord,
  writeJsonAtomic,
} from "./records.js";
import { hostRootPlan, mountOverlay, prepareHostRoot, readHostRoot, removeUnmounted } from "./rootfs.js";
import { type CgroupDelegation, detectCgroupDelegation, ROOTLESS_TMPFS, type RuncMode } from "./rootless.js";
import { boundingSetOf, buildSpec, containerEnv, type OciDevice, type RootlessSpec } from "./spec.js";
import { LogPump, makeFifos, openMonitorEnd, openWriter } from "./stdio.js";

export interface RuncRuntimeOptions {
  /** The runc binary. Default `/usr/sbin/runc`, else the one on PATH. */
  runcPath?: string;
  /**
   * The runtime's state root (bundles, overlays, records, runc's state, IPAM). Default
   * `/var/lib/k8ts/runc`; without root `$XDG_DATA_HOME/k8ts/runc` (`~/.local/share/k8ts/runc`),
   * which must belong to the user.
   */
  root?: string;
  /** The kubelet's root dir, hidden from every container (pods see only their own mounts). Default `/var/lib/k8ts/kubelet`. */
  kubeletRootDir?: string;
  /**
   * Host paths containers must never see, besides the kubelet root and `root`. Default: the k8ts
   * data dir `~/.k8ts` (it holds the CA key and the store).
   */
  maskedPaths?: string[];
  /** Pod networking (bridge, pod CIDR, ...). `stateDir` defaults to `<root>/network`. */
  network?: PodNetworkOptions;
  /**
   * The cgroup every pod's cgroup is under (`/<parent>/pod<uid>/<container id>`). Default `k8ts`.
   * Rootless with a delegated cgroup v2 subtree, it is under that subtree (`<delegated>/<parent>/...`).
   */
  cgroupParent?: string;
  /** How long startContainer waits for runc to start the process. Default 30 s. */
  startTimeoutMs?: number;
}

/** A container with no command: the image's default is unknown, so it sleeps until stopped (exit 0 on SIGTERM). */
export const PLACEHOLDER_ARGV = ["/bin/sh", "-c", 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'];

interface Live {
  writer: CriLogWriter;
  pump?: LogPump;
  pty?: IPty;
  child?: ChildProcess;
  /** stdinOnce: the one writer of the container's stdin, closed when the first attach ends. */
  stdinWriter?: Socket;
  stdinUsed: boolean;
  /** This instance started the monitor and sees it exit (else the poller watches the files and pids). */
  monitored: boolean;
  /** The monitor exited (known only for monitors this instance started). */
  monitorExited: Promise<void>;
  markMonitorExited: () => void;
}

const ID_RE = /^[0-9a-f]{64}$/;

/** A cgroup/dir-safe form of a pod uid. */
export function podKey(uid: string): string {
  return /^[A-Za-z0-9-]{1,64}$/.test(uid) ? uid : `h${shortPodId(uid)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The rootless state root: `$XDG_DATA_HOME/k8ts/runc`, else `~/.local/share/k8ts/runc`. */
function defaultRootlessRoot(): string {
  const xdg = process.env["XDG_DATA_HOME"];
  return join(xdg?.startsWith("/") ? xdg : join(homedir(), ".local", "share"), "k8ts", "runc");
}

export class RuncRuntime implements Runtime {
  readonly name = "runc" as const;
  /** root, or rootless for a non-root uid (see the header). */
  readonly mode: RuncMode;
  private readonly runcPath: string;
  private readonly root: string;
  private readonly runcRoot: string;
  private readonly kubeletRootDir: string;
  private readonly masked: string[];
  private readonly cgroupParent: string;
  private readonly startTimeoutMs: number;
  private readonly networkOpts: PodNetworkOptions;
  private network: PodNetwork | undefined;
  /** Undefined when containers get no cgroups (rootless without a delegated subtree). */
  private cgroups: Cgroups | undefined;
  private cgroupVersion: 1 | 2 = 1;
  /** Rootless: the delegated cgroup subtree, or why there is none. */
  private delegation: CgroupDelegation | undefined;
  private nodeIP = "";
  private ready = false;
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly live = new Map<string, Live>();
  private readonly finishing = new Map<string, Promise<void>>();
  private readonly finishedWaiters = new Map<string, Array<() => void>>();
  private readonly eventListeners = new Set<(podUid: string) => void>();
  private readonly noticeListeners = new Set<(n: RuntimeNotice) => void>();
  private readonly noticed = new Set<string>();
  private readonly podLocks = new Map<string, Promise<void>>();
  private poller: NodeJS.Timeout | undefined;
  private hostCaps: readonly string[] = [];
  private initDone: Promise<void> | undefined;
  private closed = false;

  constructor(opts: RuncRuntimeOptions = {}) {
    this.runcPath = opts.runcPath ?? defaultRuncPath() ?? "/usr/sbin/runc";
    this.mode = process.getuid?.() === 0 ? "root" : "rootless";
    this.root = resolve(opts.root ?? (this.mode === "root" ? "/var/lib/k8ts/runc" : defaultRootlessRoot()));
    this.runcRoot = join(this.root, "runc");
    this.kubeletRootDir = resolve(opts.kubeletRootDir ?? "/var/lib/k8ts/kubelet");
    this.masked = [
      ...new Set(
        [...(opts.maskedPaths ?? [join(homedir(), ".k8ts")]), this.kubeletRootDir, this.root].map((p) => resolve(p)),
      ),
    ];
    this.cgroupParent = opts.cgroupParent ?? "k8ts";
    if (
      !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(this.cgroupParent) ||
      this.cgroupParent.split("/").includes("..")
    ) {
      throw new Error(`invalid cgroup parent "${this.cgroupParent}"`);
    }
    this.startTimeoutMs = opts.startTimeoutMs ?? 30_000;
    this.networkOpts = { stateDir: join(this.root, "network"), ...opts.network };
  }

  // ---- lifecycle of the runtime ----

  init(): Promise<void> {
    this.initDone ??= this.doInit();
    return this.initDone;
  }

  private async doInit(): Promise<void> {
    const layout = detectCgroups();
    if (this.mode === "root") {
      if (!layout) throw new Error("the runc runtime needs a mounted cgroup filesystem (/sys/fs/cgroup)");
      this.cgroups = new Cgroups(layout);
    } else {
      this.delegation = layout
        ? detectCgroupDelegation(layout)
        : { ok: false, reason: "no cgroup filesystem is mounted (/sys/fs/cgroup)" };
      if (layout && this.delegation.ok) this.cgroups = new Cgroups(layout);
    }
    this.cgroupVersion = layout?.version ?? 1;
    this.hostCaps = boundingSetOf(readFileSync("/proc/self/status", "utf8"));
    for (const d of [this.root, this.runcRoot, this.sandboxDir(""), this.containersDir()]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    if (this.mode === "rootless") {
      this.checkOwnState();
      this.nodeIP = this.networkOpts.nodeIP ?? detectNodeIP();
      log.info("runc runtime: rootless (no root): pods share the node's network, see the host's root read-only", {
        user: userInfo().username,
        cgroups: this.delegation?.ok ? `delegated subtree ${this.delegation.base}` : "none",
        ...(this.delegation?.ok ? {} : { why: this.delegation?.reason }),
      });
    } else {
      this.network = new PodNetwork(this.networkOpts);
      await this.network.ensureBridge();
      this.nodeIP = this.network.nodeIP;
    }

    for (const s of readRecords<SandboxRecord>(this.sandboxDir(""), "sandbox.json", isSandboxRecord)) {
      if (this.sandboxes.has(s.podUid)) continue;
      if (s.ready && s.netnsPath !== undefined && !existsSync(s.netnsPath)) {
        // the node rebooted (or someone deleted it): the kubelet makes a new sandbox
        s.ready = false;
        this.saveSandbox(s);
      }
      this.sandboxes.set(s.podUid, s);
    }
    const runcStates = await this.runcList();
    for (const rec of readRecords<ContainerRecord>(this.containersDir(), "container.json", isContainerRecord)) {
      if (this.containers.has(rec.id)) continue;
      this.containers.set(rec.id, rec);
      await this.adopt(rec, runcStates.get(rec.id));
    }
    for (const [id, st] of runcStates) {
      if (!this.containers.has(id) && st.status === "running") {
        log.warn("runc runtime: a running container under our runc root has no record; leaving it alone", { id });
      }
    }
    if (this.network) {
      const keep = new Set([...this.sandboxes.values()].filter((s) => s.ready && s.netnsPath).map((s) => s.podUid));
      for (const uid of await this.network.collectGarbage(keep)) {
        log.info("runc runtime: released the network of a sandbox that is gone", { podUid: uid });
      }
    }
    this.ready = true;
    this.poller = setInterval(() => this.pollAdopted(), 250);
    this.poller.unref();
  }

  /** Rootless: the state (and runc's, which decides what runs) must be the user's alone. */
  private checkOwnState(): void {
    const uid = process.getuid?.() ?? -1;
    for (const d of [this.root, this.runcRoot]) {
      const st = statSync(d);
      if (st.uid !== uid) {
        throw new Error(`the runc runtime's state dir ${d} belongs to uid ${st.uid}, not to this user (uid ${uid})`);
      }
      if ((st.mode & 0o022) !== 0) {
        throw new Error(
          `the runc runtime's state dir ${d} is writable by others (mode ${(st.mode & 0o777).toString(8)})`,
        );
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    for (const l of this.live.values()) {
      l.child?.removeAllListeners();
      l.stdinWriter?.destroy();
      if (l.pump) l.pump.detach();
      else l.writer.close();
      if (l.pty) {
        // node-pty's UnixTerminal has destroy() (close the master, then SIGHUP), missing from its types
        const closable = l.pty as IPty & { destroy?: () => void };
        try {
          closable.destroy?.();
        } catch {
          // already gone
        }
      }
    }
    this.live.clear();
    this.eventListeners.clear();
    this.noticeListeners.clear();
  }

  onContainerEvent(listener: (podUid: string) => void): void {
    this.eventListeners.add(listener);
  }

  onNotice(listener: (n: RuntimeNotice) => void): void {
    this.noticeListeners.add(listener);
  }

  private emit(podUid: string): void {
    for (const l of this.eventListeners) {
      try {
        l(podUid);
      } catch (err) {
        log.error("runc runtime: container event listener failed", { error: errMessage(err) });
      }
    }
  }

  private notice(n: RuntimeNotice, onceKey: string): void {
    if (this.noticed.has(onceKey)) return;
    this.noticed.add(onceKey);
    for (const l of this.noticeListeners) {
      try {
        l(n);
      } catch (err) {
        log.error("runc runtime: notice listener failed", { error: errMessage(err) });
      }
    }
  }

  // ---- paths ----

  private sandboxDir(uid: string): string {
    return uid ? join(this.root, "sandboxes", podKey(uid)) : join(this.root, "sandboxes");
  }

  private containersDir(): string {
    return join(this.root, "containers");
  }

  private cdir(id: string): string {
    return join(this.containersDir(), id);
  }

  private podCgroup(uid: string): string {
    const base = this.delegation?.ok ? this.delegation.base : "";
    return `${base}/${this.cgroupParent}/pod${podKey(uid)}`;
  }

  private monitorArgs(id: string): MonitorArgs {
    const d = this.cdir(id);
    return {
      runcPath: this.runcPath,
      runcRoot: this.runcRoot,
      bundle: d,
      id,
      exitFile: join(d, "exit"),
      pidFile: join(d, "init.pid"),
      runcLog: join(d, "runc.log"),
    };
  }

  private saveContainer(rec: ContainerRecord): void {
    if (existsSync(this.cdir(rec.id))) writeJsonAtomic(join(this.cdir(rec.id), "container.json"), rec);
  }

  private saveSandbox(rec: SandboxRecord): void {
    mkdirSync(this.sandboxDir(rec.podUid), { recursive: true, mode: 0o700 });
    writeJsonAtomic(join(this.sandboxDir(rec.podUid), "sandbox.json"), rec);
  }

  /** The pod network (undefined rootless: pods share the node's) and the cgroups (undefined when containers get none). */
  private requireInit(): { network: PodNetwork | undefined; cgroups: Cgroups | undefined } {
    if (!this.ready) throw new RuntimeError("RuntimeNotReady", "the runc runtime is not initialised");
    if (this.closed) throw new RuntimeError("RuntimeNotReady", "the runc runtime is closed");
    return { network: this.network, cgroups: this.cgroups };
  }

  private async runcList(): Promise<Map<string, { status: string; pid: number }>> {
    const out = new Map<string, { status: string; pid: number }>();
    const r = await runTool(this.runcPath, ["--root", this.runcRoot, "list", "--format", "json"]);
    if (r.code !== 0) {
      log.warn("runc runtime: runc list failed", { stderr: r.stderr.trim() });
      return out;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.stdout || "null");
    } catch {
      return out;
    }
    if (Array.isArray(parsed)) {
      for (const e of parsed) {
        if (typeof e === "object" && e !== null) {
          const o = e as Record<string, unknown>;
          if (typeof o["id"] === "string" && typeof o["status"] === "string") {
            out.set(o["id"], { status: o["status"], pid: typeof o["pid"] === "number" ? o["pid"] : 0 });
          }
        }
      }
    }
    return out;
  }

  // ---- sandboxes ----

  /** Runs sandbox operations of one pod one at a time (network setup and teardown must not interleave). */
  private withPodLock<T>(podUid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.podLocks.get(podUid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.podLocks.set(podUid, tail);
    void tail.then(() => {
      if (this.podLocks.get(podUid) === tail) this.podLocks.delete(podUid);
    });
    return next;
  }

  runPodSandbox(cfg: SandboxConfig): Promise<SandboxStatus> {
    return this.withPodLock(cfg.podUid, () => this.doRunPodSandbox(cfg));
  }

  stopPodSandbox(podUid: string): Promise<void> {
    return this.withPodLock(podUid, () => this.doStopPodSandbox(podUid));
  }

  removePodSandbox(podUid: string): Promise<void> {
    return this.withPodLock(podUid, () => this.doRemovePodSandbox(podUid));
  }

  private async doRunPodSandbox(cfg: SandboxConfig): Promise<SandboxStatus> {
    const { network } = this.requireInit();
    if (!cfg.podUid) throw new RuntimeError("CreatePodSandboxError", "pod sandbox needs a pod uid");
    const existing = this.sandboxes.get(cfg.podUid);
    if (existing?.ready) return { podUid: cfg.podUid, ip: existing.ip, ready: true };
    let ip: string;
    let netnsPath: string | undefined;
    if (cfg.hostNetwork) {
      ip = this.nodeIP;
    } else if (!network) {
      ip = this.nodeIP;
      this.notice(
        {
          podUid: cfg.podUid,
          type: "Warning",
          reason: "PodNetworkUnavailable",
          message: `rootless runc (the node agent runs without root) cannot make a pod network: the pod shares the node's network namespace (pod IP = node IP ${ip}); its containers' ports are the node's ports${portClause()}`,
        },
        `${cfg.podUid}/hostnet`,
      );
    } else {
      try {
        const st = await network.setup(cfg.podUid);
        ip = st.ip;
        netnsPath = st.netnsPath;
      } catch (err) {
        throw new RuntimeError("CreatePodSandboxError", errMessage(err));
      }
      if (network.egressWarning) {
        this.notice(
          { podUid: cfg.podUid, type: "Warning", reason: "PodNetworkNoMasquerade", message: network.egressWarning },
          `${cfg.podUid}/masq`,
        );
      }
    }
    const dir = this.sandboxDir(cfg.podUid);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "hostname"), `${cfg.hostname}\n`, { mode: 0o644 });
    const hosts =
      cfg.hostsFile ??
      (cfg.hostNetwork
        ? undefined
        : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${cfg.hostname}\n`);
    if (hosts !== undefined)
      writeFileSync(join(dir, "hosts"), hosts.endsWith("\n") ? hosts : `${hosts}\n`, { mode: 0o644 });
    else rmSync(join(dir, "hosts"), { force: true });
    if (cfg.resolvConf !== undefined) {
      writeFileSync(join(dir, "resolv.conf"), cfg.resolvConf.endsWith("\n") ? cfg.resolvConf : `${cfg.resolvConf}\n`, {
        mode: 0o644,
      });
    } else rmSync(join(dir, "resolv.conf"), { force: true });
    const rec: SandboxRecord = {
      podUid: cfg.podUid,
      config: cfg,
      ip,
      ready: true,
      createdAt: existing?.createdAt ?? Date.now(),
    };
    if (netnsPath !== undefined) rec.netnsPath = netnsPath;
    this.sandboxes.set(cfg.podUid, rec);
    this.saveSandbox(rec);
    return { podUid: cfg.podUid, ip, ready: true };
  }

  private async doStopPodSandbox(podUid: string): Promise<void> {
    const { network } = this.requireInit();
    const running = [...this.containers.values()].filter((c) => c.podUid === podUid && c.state === "running");
    await Promise.all(running.map((c) => this.stopContainer(c.id, 0)));
    const rec = this.sandboxes.get(podUid);
    if (network && !rec?.config.hostNetwork) await network.teardown(podUid);
    if (rec?.ready) {
      rec.ready = false;
      this.saveSandbox(rec);
    }
  }

  private async doRemovePodSandbox(podUid: string): Promise<void> {
    const { cgroups } = this.requireInit();
    await this.doStopPodSandbox(podUid);
    for (const c of [...this.containers.values()]) if (c.podUid === podUid) await this.removeContainer(c.id);
    const errs = cgroups?.remove(this.podCgroup(podUid)) ?? [];
    if (errs.length > 0) log.warn("runc runtime: pod cgroup not fully removed", { podUid, errors: errs });
    rmSync(this.sandboxDir(podUid), { recursive: true, force: true });
    this.sandboxes.delete(podUid);
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    return [...this.sandboxes.values()].map((s) => ({ podUid: s.podUid, ip: s.ip, ready: s.ready }));
  }

  // ---- containers ----

  async createContainer(podUid: string, cfg: ContainerConfig): Promise<string> {
    const { cgroups } = this.requireInit();
    const sb = this.sandboxes.get(podUid);
    if (!sb?.ready)
      throw new RuntimeError("CreateContainerError", `pod sandbox ${podUid} does not exist or is not ready`);
    if (!cfg.name) throw new RuntimeError("CreateContainerError", "container needs a name");
    if (this.mode === "rootless") refuseUnmappedIds(cfg);
    const id = randomBytes(32).toString("hex");
    const dir = this.cdir(id);
    let rootless: RootlessSpec | undefined;
    try {
      const mounts = this.containerMounts(sb, cfg);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await makeFifos(["stdout", "stderr", ...(cfg.stdin && !cfg.tty ? ["stdin"] : [])].map((n) => join(dir, n)));
      if (this.mode === "rootless") {
        const plan = hostRootPlan(readHostRoot());
        prepareHostRoot(join(dir, "rootfs"), plan);
        rootless = {
          hostUid: process.getuid?.() ?? 0,
          hostGid: process.getgid?.() ?? 0,
          cgroups: cgroups !== undefined,
          rootBinds: plan.mounts,
          tmpfs: rootlessTmpfs().filter((p) => p !== "/run"),
        };
        this.ensureMaskTargets();
      } else {
        await mountOverlay({ upper: join(dir, "upper"), work: join(dir, "work"), merged: join(dir, "rootfs") });
      }
      const argv = cfg.argv.length > 0 ? cfg.argv : PLACEHOLDER_ARGV;
      const spec = buildSpec({
        argv,
        env: containerEnv(cfg.env, sb.config.hostname, cfg.tty),
        cwd: cfg.workingDir || "/",
        uid: cfg.runAsUser ?? 0,
        gid: cfg.runAsGroup ?? 0,
        tty: cfg.tty,
        hostname: sb.config.hostname,
        rootfs: join(dir, "rootfs"),
        readonlyRootfs: cfg.readOnlyRootFilesystem ?? false,
        netnsPath: sb.config.hostNetwork ? undefined : sb.netnsPath,
        cgroupsPath: `${this.podCgroup(podUid)}/${id}`,
        cgroupVersion: this.cgroupVersion,
        mounts,
        resources: cfg.resources,
        limitSwap: cgroups?.hasSwapAccounting() ?? false,
        privileged: cfg.privileged ?? false,
        hostCapabilities: this.hostCaps,
        hostDevices: cfg.privileged && !rootless ? hostDevices() : [],
        maskedPaths: this.masked.filter((p) => existsSync(p)),
        maskMounts: this.masked.filter((p) => !existsSync(p)),
        annotations: {
          "io.kubernetes.pod.uid": podUid,
          "io.kubernetes.pod.namespace": sb.config.namespace,
          "io.kubernetes.pod.name": sb.config.name,
          "io.kubernetes.container.name": cfg.name,
          "io.kubernetes.container.attempt": String(cfg.attempt),
          "io.kubernetes.cri.image-name": cfg.image,
        },
        ...(rootless ? { rootless } : {}),
      });
      writeJsonAtomic(join(dir, "config.json"), spec);
    } catch (err) {
      await removeUnmounted(dir).catch(() => {});
      if (err instanceof RuntimeError) throw err;
      throw new RuntimeError("CreateContainerError", errMessage(err));
    }
    const rec: ContainerRecord = {
      id,
      podUid,
      config: cfg,
      state: "created",
      createdAt: Date.now(),
      // no cgroup of its own: rootless without a delegated subtree
      cgroupsPath: rootless && !rootless.cgroups ? "" : `${this.podCgroup(podUid)}/${id}`,
    };
    this.containers.set(id, rec);
    this.saveContainer(rec);
    this.notice(
      {
        podUid,
        container: cfg.name,
        type: "Warning",
        reason: "ImageStoreMissing",
        message: rootless
          ? `no image store yet, and without root no copy-on-write overlay of / can be mounted: container "${cfg.name}" runs on the host's root filesystem, read-only, instead of image "${cfg.image}"; it can write only to ${[...rootless.tmpfs, "/run"].join(", ")} (empty tmpfs, private to the container) and its volumes, writes anywhere else fail with "Read-only file system"`
          : `no image store yet: container "${cfg.name}" runs on a copy-on-write overlay of the host's root filesystem instead of image "${cfg.image}"`,
      },
      `${podUid}/${cfg.name}/image`,
    );
    if (rootless && !rootless.cgroups) {
      const limits = describeLimits(cfg);
      if (limits) {
        this.notice(
          {
            podUid,
            container: cfg.name,
            type: "Warning",
            reason: "ResourceLimitsNotEnforced",
            message: `rootless runc without a cgroup: ${limits} of container "${cfg.name}" ${limits.includes(" and ") ? "are" : "is"} not enforced (no OOM kill at the memory limit, no CPU throttling; ${this.delegation && !this.delegation.ok ? this.delegation.reason : "no cgroup subtree is delegated to the node user"})`,
          },
          `${podUid}/${cfg.name}/limits`,
        );
      }
    }
    if (rootless && cfg.privileged) {
      this.notice(
        {
          podUid,
          container: cfg.name,
          type: "Warning",
          reason: "PrivilegedWithoutRoot",
          message: `rootless runc: privileged container "${cfg.name}" gets every capability only inside its own user namespace (none over the host) and none of the host's devices`,
        },
        `${podUid}/${cfg.name}/privileged`,
      );
    }
    if (cfg.argv.length === 0) {
      this.notice(
        {
          podUid,
          container: cfg.name,
          type: "Warning",
          reason: "ImageCommandUnknown",
          message: `no image store yet: the default command of image "${cfg.image}" is unknown, so container "${cfg.name}" (which sets no command) runs a placeholder that sleeps until it is stopped`,
        },
        `${podUid}/${cfg.name}/command`,
      );
    }
    this.emit(podUid);
    return id;
  }

  /** The container's bind mounts: its volumes, the sandbox's /etc files, the termination message file, masks. */
  private containerMounts(sb: SandboxRecord, cfg: ContainerConfig): Mount[] {
    const out: Mount[] = [];
    for (const m of cfg.mounts) {
      if (!m.hostPath.startsWith("/"))
        throw new RuntimeError("CreateContainerError", `mount source "${m.hostPath}" is not absolute`);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(m.hostPath);
      } catch {
        const what = m.volume ? `volume "${m.volume}"` : `mount at ${m.containerPath}`;
        throw new RuntimeError("CreateContainerError", `${what}: host path "${m.hostPath}" does not exist`);
      }
      out.push({ ...m, file: m.file ?? !st.isDirectory() });
    }
    const sdir = this.sandboxDir(sb.podUid);
    const taken = new Set(cfg.mounts.map((m) => m.containerPath.replace(/\/+$/, "")));
    for (const [file, at] of [
      ["hosts", "/etc/hosts"],
      ["hostname", "/etc/hostname"],
      ["resolv.conf", "/etc/resolv.conf"],
    ] as const) {
      const p = join(sdir, file);
      if (!taken.has(at) && existsSync(p)) out.push({ containerPath: at, hostPath: p, readOnly: false, file: true });
    }
    if (cfg.terminationMessageHostPath && cfg.terminationMessagePath) {
      const hp = cfg.terminationMessageHostPath;
      if (!existsSync(hp)) {
        mkdirSync(join(hp, ".."), { recursive: true });
        writeFileSync(hp, "", { mode: 0o666 });
      }
      if (!lstatSync(hp).isFile())
        throw new RuntimeError("CreateContainerError", `termination message path ${hp} is not a file`);
      out.push({ containerPath: cfg.terminationMessagePath, hostPath: hp, readOnly: false, file: true });
    }
    return out;
  }

  async startContainer(id: string): Promise<void> {
    this.requireInit();
    const rec = this.containers.get(id);
    if (!rec) throw new RuntimeError("RunContainerError", `container ${id} not found`);
    if (rec.state !== "created")
      throw new RuntimeError("RunContainerError", `container ${id} is ${rec.state}, not created`);
    const dir = this.cdir(id);
    const a = this.monitorArgs(id);
    for (const f of [a.exitFile, a.pidFile, a.runcLog]) rmSync(f, { force: true });
    try {
      // (rootless: the root directory holds only mount points that runc binds; nothing to mount here)
      if (this.mode === "root") {
        await mountOverlay({ upper: join(dir, "upper"), work: join(dir, "work"), merged: join(dir, "rootfs") });
      }
    } catch (err) {
      return this.failStart(rec, errMessage(err));
    }
    const cfg = rec.config;
    const writer = new CriLogWriter(cfg.logPath);
    let markMonitorExited: () => void = () => {};
    const monitorExited = new Promise<void>((r) => {
      markMonitorExited = r;
    });
    const live: Live = { writer, stdinUsed: false, monitored: true, monitorExited, markMonitorExited };
    try {
      if (cfg.tty) {
        const pty = await spawnPtyMonitor(a, { cols: 80, rows: 24 });
        live.pty = pty;
        pty.onData((d: unknown) => writer.write("stdout", ptyChunk(d)));
        pty.onExit(() => live.markMonitorExited());
        rec.shim = processIdentity(pty.pid);
      } else {
        this.spawnPipeMonitor(rec, a, live);
      }
    } catch (err) {
      live.pump?.detach();
      if (!live.pump) writer.close();
      return this.failStart(rec, `cannot start the container's monitor: ${errMessage(err)}`);
    }
    this.live.set(id, live);

    const deadline = Date.now() + this.startTimeoutMs;
    let exited = false;
    void monitorExited.then(() => {
      exited = true;
    });
    let pid: number | undefined;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      pid = readPid(a.pidFile);
      if (pid !== undefined || exited) break;
      if (Date.now() > deadline) {
        await runTool(this.runcPath, ["--root", this.runcRoot, "kill", id, "KILL"]);
        break;
      }
      await sleep(wait);
    }
    if (pid === undefined) {
      await Promise.race([monitorExited, sleep(5000)]);
      await Promise.race([live.pump?.done ?? Promise.resolve(), sleep(500)]);
      let why = readText(a.runcLog);
      why = why !== undefined ? lastRuncError(why) : undefined;
      const code = parseExitFile(readText(a.exitFile) ?? "");
      this.releaseLive(id);
      return this.failStart(
        rec,
        why ??
          (exited
            ? `runc exited with status ${code ?? "unknown"} before the container started`
            : "timed out waiting for runc to start the container"),
      );
    }
    rec.init = processIdentity(pid) ?? { pid, startTime: "" };
    rec.state = "running";
    rec.startedAt = Date.now();
    this.saveContainer(rec);
    this.emit(rec.podUid);
    void monitorExited.then(() => this.finish(id));
  }

  private spawnPipeMonitor(rec: ContainerRecord, a: MonitorArgs, live: Live): void {
    const dir = this.cdir(rec.id);
    const fds: number[] = [];
    try {
      const out = openMonitorEnd(join(dir, "stdout"));
      fds.push(out);
      const err = openMonitorEnd(join(dir, "stderr"));
      fds.push(err);
      live.pump = new LogPump(live.writer, { stdout: join(dir, "stdout"), stderr: join(dir, "stderr") });
      let stdin: number | "ignore" = "ignore";
      if (rec.config.stdin) {
        const fifo = join(dir, "stdin");
        if (rec.config.stdinOnce) {
          // the container reads; only this process writes, so closing our end is its EOF
          stdin = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
          fds.push(stdin);
          live.stdinWriter = openWriter(fifo);
          live.stdinWriter.on("error", () => {});
        } else {
          stdin = openMonitorEnd(fifo);
          fds.push(stdin);
        }
      }
      const child = spawnMonitor(a, [stdin, out, err]);
      live.child = child;
      child.on("exit", () => live.markMonitorExited());
      child.on("error", (e) => {
        log.error("runc runtime: monitor failed", { id: rec.id, error: e.message });
        live.markMonitorExited();
      });
      if (child.pid !== undefined) rec.shim = processIdentity(child.pid);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  private failStart(rec: ContainerRecord, message: string): never {
    rec.state = "exited";
    rec.exitCode = 128;
    rec.reason = "StartError";
    rec.message = message;
    rec.finishedAt = Date.now();
    delete rec.shim;
    this.saveContainer(rec);
    this.emit(rec.podUid);
    throw new RuntimeError("RunContainerError", message);
  }

  private releaseLive(id: string): void {
    const l = this.live.get(id);
    if (!l) return;
    this.live.delete(id);
    l.child?.removeAllListeners();
    l.stdinWriter?.destroy();
    if (l.pump) l.pump.detach();
    else l.writer.close();
  }

  /** Records the container's end once: exit status, OOM, remaining output. */
  private finish(id: string): Promise<void> {
    const inflight = this.finishing.get(id);
    if (inflight) return inflight;
    const p = this.doFinish(id).finally(() => {
      this.finishing.delete(id);
      for (const w of this.finishedWaiters.get(id) ?? []) w();
      this.finishedWaiters.delete(id);
    });
    this.finishing.set(id, p);
    return p;
  }

  private async doFinish(id: string): Promise<void> {
    const rec = this.containers.get(id);
    if (rec?.state !== "running" || this.closed) return;
    const a = this.monitorArgs(id);
    const code = parseExitFile(readText(a.exitFile) ?? "");
    let finishedAt = Date.now();
    try {
      finishedAt = Math.min(finishedAt, statSync(a.exitFile).mtimeMs);
    } catch {
      // no exit file: the status is lost
    }
    const l = this.live.get(id);
    if (code === undefined && isAlive(rec.init)) {
      // the monitor died (killed?) but the container runs on: watch its init process instead
      if (l) {
        l.child?.removeAllListeners();
        l.monitored = false;
      }
      delete rec.shim;
      this.saveContainer(rec);
      log.warn("runc runtime: a container's monitor is gone while it runs; its exit status will be unknown", { id });
      return;
    }
    if (l?.pump) await Promise.race([l.pump.done, sleep(2000)]);
    else if (l?.pty) await sleep(50);
    this.releaseLive(id);
    const oom = rec.cgroupsPath ? (this.cgroups?.oomKills(rec.cgroupsPath) ?? 0) : 0;
    const outcome = exitOutcome(code, oom);
    rec.state = "exited";
    rec.exitCode = outcome.exitCode;
    rec.reason = outcome.reason;
    if (outcome.message !== undefined) rec.message = outcome.message;
    rec.finishedAt = Math.round(finishedAt);
    delete rec.shim;
    this.saveContainer(rec);
    this.emit(rec.podUid);
  }

  /** Calls `cb` once the container has ended (at once if it is not running); returns a cancel. */
  private onFinished(id: string, cb: () => void): () => void {
    const rec = this.containers.get(id);
    if (rec?.state !== "running") {
      cb();
      return () => {};
    }
    const list = this.finishedWaiters.get(id) ?? [];
    list.push(cb);
    this.finishedWaiters.set(id, list);
    return () => {
      const l = this.finishedWaiters.get(id);
      if (l)
        this.finishedWaiters.set(
          id,
          l.filter((x) => x !== cb),
        );
    };
  }

  private waitFinished(id: string, ms: number): Promise<boolean> {
    return new Promise((resolveWait) => {
      let cancel: () => void = () => {};
      const timer = setTimeout(() => {
        cancel();
        resolveWait(false);
      }, ms);
      cancel = this.onFinished(id, () => {
        clearTimeout(timer);
        resolveWait(true);
      });
    });
  }

  /** Adopts a container found at init: running ones are watched again, ended ones are recorded. */
  private async adopt(rec: ContainerRecord, runc: { status: string; pid: number } | undefined): Promise<void> {
    if (rec.state !== "running") return;
    const a = this.monitorArgs(rec.id);
    const exitKnown = existsSync(a.exitFile);
    const monitorAlive = isAlive(rec.shim);
    const initAlive = isAlive(rec.init) && runc?.status === "running";
    if (exitKnown || (!monitorAlive && !initAlive)) {
      await this.finish(rec.id);
      return;
    }
    const writer = new CriLogWriter(rec.config.logPath);
    const live: Live = {
      writer,
      stdinUsed: true,
      monitored: false,
      monitorExited: new Promise<void>(() => {}),
      markMonitorExited: () => {},
    };
    if (!rec.config.tty) {
      const dir = this.cdir(rec.id);
      try {
        live.pump = new LogPump(writer, { stdout: join(dir, "stdout"), stderr: join(dir, "stderr") });
      } catch (err) {
        log.warn("runc runtime: cannot reopen an adopted container's output", { id: rec.id, error: errMessage(err) });
      }
      live.stdinUsed = rec.config.stdinOnce;
    }
    this.live.set(rec.id, live);
    if (!monitorAlive) {
      log.warn("runc runtime: adopted a running container whose monitor is gone; its exit status will be unknown", {
        id: rec.id,
      });
    }
  }

  /** Containers this instance did not start: their end shows as the exit file, or both processes gone. */
  private pollAdopted(): void {
    for (const rec of this.containers.values()) {
      if (rec.state !== "running") continue;
      const l = this.live.get(rec.id);
      if (l?.monitored) continue;
      if (this.finishing.has(rec.id)) continue;
      const exitKnown = existsSync(join(this.cdir(rec.id), "exit"));
      if (exitKnown || (!isAlive(rec.shim) && !isAlive(rec.init))) void this.finish(rec.id);
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.requireInit();
    const rec = this.containers.get(id);
    if (!rec) throw new RuntimeError("StopContainerError", `container ${id} not found`);
    if (rec.state !== "running") return;
    if (timeoutSeconds > 0) {
      await this.kill(id, "TERM");
      if (await this.waitFinished(id, timeoutSeconds * 1000)) return;
    }
    await this.kill(id, "KILL");
    if (await this.waitFinished(id, 10_000)) return;
    // runc lost track of it (no monitor, init gone): record the end from what is known
    await this.finish(id);
  }

  private async kill(id: string, signal: "TERM" | "KILL"): Promise<void> {
    const r = await runTool(this.runcPath, ["--root", this.runcRoot, "kill", id, signal]);
    if (r.code !== 0 && !/not running|does not exist|container not found/i.test(r.stderr)) {
      log.warn("runc runtime: runc kill failed", { id, signal, stderr: r.stderr.trim() });
    }
    if (r.code !== 0 && signal === "KILL") {
      const rec = this.containers.get(id);
      if (rec?.init && isAlive(rec.init)) {
        try {
          process.kill(rec.init.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }

  async removeContainer(id: string): Promise<void> {
    const { cgroups } = this.requireInit();
    const rec = this.containers.get(id);
    if (!rec) return;
    if (rec.state === "running") await this.stopContainer(id, 0);
    await this.finishing.get(id);
    const r = await runTool(this.runcPath, ["--root", this.runcRoot, "delete", "--force", id]);
    if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) {
      log.warn("runc runtime: runc delete failed", { id, stderr: r.stderr.trim() });
    }
    this.releaseLive(id);
    const errs = rec.cgroupsPath ? (cgroups?.remove(rec.cgroupsPath) ?? []) : [];
    if (errs.length > 0) log.warn("runc runtime: container cgroup not fully removed", { id, errors: errs });
    try {
      await removeUnmounted(this.cdir(id));
    } catch (err) {
      throw new RuntimeError("RemoveContainerError", errMessage(err));
    }
    this.containers.delete(id);
    this.emit(rec.podUid);
  }

  async listContainers(): Promise<ContainerStatus[]> {
    return [...this.containers.values()].map(toStatus);
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const rec = this.containers.get(id);
    return rec ? toStatus(rec) : undefined;
  }

  // ---- exec, attach, stats ----

  private runningRecord(id: string, what: string): ContainerRecord {
    this.requireInit();
    if (!ID_RE.test(id)) throw new RuntimeError(what, `container ${id} not found`);
    const rec = this.containers.get(id);
    if (!rec) throw new RuntimeError(what, `container ${id} not found`);
    if (rec.state !== "running") throw new RuntimeError(what, `container ${id} is not running`);
    return rec;
  }

  async exec(id: string, argv: string[], streams: ExecStreams): Promise<number> {
    this.runningRecord(id, "ExecError");
    return runcExec({ runcPath: this.runcPath, runcRoot: this.runcRoot, id, dir: this.cdir(id) }, argv, streams);
  }

  async execSync(
    id: string,
    argv: string[],
    timeoutMs: number,
    maxOutput = 64 * 1024,
  ): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    this.runningRecord(id, "ExecError");
    return runcExecSync(
      { runcPath: this.runcPath, runcRoot: this.runcRoot, id, dir: this.cdir(id) },
      argv,
      timeoutMs,
      maxOutput,
    );
  }

  /** localhost of the pod's network namespace; the node's for hostNetwork pods and rootless ones. */
  async portForward(podUid: string, port: number, stream: Duplex): Promise<void> {
    this.requireInit();
    const sb = this.sandboxes.get(podUid);
    if (!sb?.ready) throw new PortForwardError(`pod sandbox ${podUid} is not running`);
    if (sb.config.hostNetwork || !sb.netnsPath) await forwardLocal(port, stream);
    else await forwardInNetns(sb.netnsPath, port, stream);
  }

  async attach(id: string, streams: ExecStreams): Promise<void> {
    const rec = this.runningRecord(id, "AttachError");
    const l = this.live.get(id);
    if (!l) throw new RuntimeError("AttachError", `container ${id} has no output stream`);
    if (rec.config.tty && !l.pty) {
      throw new RuntimeError(
        "AttachError",
        `the console of TTY container ${rec.config.name} was lost when the kubelet restarted; it cannot be attached`,
      );
    }
    const cleanups: Array<() => void> = [];
    const done = new Promise<void>((resolveAttach) => {
      const end = () => resolveAttach();
      cleanups.push(this.onFinished(id, end));
      if (streams.stdout) {
        streams.stdout.once("close", end);
        streams.stdout.once("error", end);
        cleanups.push(() => {
          streams.stdout?.off("close", end);
          streams.stdout?.off("error", end);
        });
      }
    });
    cleanups.push(
      l.writer.subscribe((stream, data) => {
        const out = stream === "stderr" && !rec.config.tty ? (streams.stderr ?? streams.stdout) : streams.stdout;
        if (out && !out.destroyed) out.write(data);
      }),
    );
    const input = rec.config.stdin ? streams.stdin : undefined;
    if (input) {
      if (l.pty) {
        const pty = l.pty;
        const onData = (b: Buffer) => pty.write(b);
        input.on("data", onData);
        cleanups.push(() => input.off("data", onData));
        streams.onResize?.((size) => {
          if (size.width > 0 && size.height > 0 && this.live.get(id)?.pty === pty) {
            try {
              pty.resize(size.width, size.height);
            } catch {
              // gone
            }
          }
        });
      } else if (rec.config.stdinOnce) {
        if (!l.stdinUsed && l.stdinWriter) {
          l.stdinUsed = true;
          const w = l.stdinWriter;
          input.pipe(w);
          cleanups.push(() => input.unpipe(w));
        }
      } else {
        const w = openWriter(join(this.cdir(id), "stdin"));
        w.on("error", () => {});
        input.pipe(w);
        cleanups.push(() => {
          input.unpipe(w);
          w.destroy();
        });
      }
    }
    await done;
    for (const c of cleanups) c();
  }

  async stats(): Promise<ContainerStats[]> {
    const { cgroups } = this.requireInit();
    const out: ContainerStats[] = [];
    const fromProc = new Map<string, number>();
    for (const rec of this.containers.values()) {
      if (rec.state !== "running") continue;
      if (cgroups && rec.cgroupsPath) {
        const u = cgroups.usage(rec.cgroupsPath);
        if (u) out.push({ id: rec.id, ...u, timestamp: Date.now() });
      } else if (rec.init && isAlive(rec.init)) {
        fromProc.set(rec.id, rec.init.pid);
      }
    }
    if (fromProc.size > 0) {
      const now = Date.now();
      for (const [id, u] of procUsage(fromProc, { clockTicks: clockTicks() })) out.push({ id, ...u, timestamp: now });
    }
    return out;
  }

  /** Rootless: our masked paths that do not exist yet are made (empty, private), so their mask has a mount point. */
  private ensureMaskTargets(): void {
    for (const p of this.masked) {
      if (existsSync(p)) continue;
      try {
        mkdirSync(p, { recursive: true, mode: 0o700 });
      } catch (err) {
        // the node user cannot make it: nothing of k8ts can be there
        log.debug("runc runtime: cannot make the mount point of a masked path", { path: p, error: errMessage(err) });
      }
    }
  }
}

/** Rootless: container uid/gid 0 is the only one mapped (to the node user); any other is refused, never faked. */
function refuseUnmappedIds(cfg: ContainerConfig): void {
  for (const [what, v] of [
    ["runAsUser", cfg.runAsUser],
    ["runAsGroup", cfg.runAsGroup],
  ] as const) {
    if (v !== undefined && v !== 0) {
      throw new RuntimeError(
        "CreateContainerError",
        `rootless runc maps only uid/gid 0 (to the node user ${process.getuid?.() ?? "?"}) into containers: ${what} ${v} of container "${cfg.name}" cannot be honoured`,
      );
    }
  }
}

/** "limits.memory 64Mi and limits.cpu 500m", or undefined without limits. */
function describeLimits(cfg: ContainerConfig): string | undefined {
  const parts: string[] = [];
  const r = cfg.resources;
  if (r.memoryLimitBytes > 0) parts.push(`limits.memory ${formatBytes(r.memoryLimitBytes)}`);
  if (r.cpuLimitMilli > 0) parts.push(`limits.cpu ${r.cpuLimitMilli}m`);
  return parts.length > 0 ? parts.join(" and ") : undefined;
}

function formatBytes(n: number): string {
  for (const [suffix, size] of [
    ["Gi", 1024 ** 3],
    ["Mi", 1024 ** 2],
    ["Ki", 1024],
  ] as const) {
    if (n % size === 0) return `${n / size}${suffix}`;
  }
  return String(n);
}

/** The rootless writable tmpfs this host can have: /var/tmp only where the host has that directory. */
function rootlessTmpfs(): string[] {
  return ROOTLESS_TMPFS.filter((p) => {
    if (p !== "/var/tmp") return true;
    try {
      return lstatSync(p).isDirectory();
    } catch {
      return false;
    }
  });
}

/** Which node ports a rootless container cannot bind (below /proc/sys/net/ipv4/ip_unprivileged_port_start). */
function portClause(): string {
  const t = readText("/proc/sys/net/ipv4/ip_unprivileged_port_start")?.trim();
  const start = t && /^\d+$/.test(t) ? Number(t) : 1024;
  return start > 0 ? `, and ports below ${start} cannot be bound` : "";
}

let ticks: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`), once. */
function clockTicks(): number {
  if (ticks === undefined) {
    const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 5000 });
    const t = r.stdout?.trim();
    ticks = t && /^\d+$/.test(t) && Number(t) > 0 ? Number(t) : 100;
  }
  return ticks;
}

function toStatus(rec: ContainerRecord): ContainerStatus {
  const s: ContainerStatus = {
    id: rec.id,
    podUid: rec.podUid,
    name: rec.config.name,
    attempt: rec.config.attempt,
    state: rec.state,
    createdAt: rec.createdAt,
    image: rec.config.image,
  };
  if (rec.startedAt !== undefined) s.startedAt = rec.startedAt;
  if (rec.finishedAt !== undefined) s.finishedAt = rec.finishedAt;
  if (rec.exitCode !== undefined) s.exitCode = rec.exitCode;
  if (rec.reason !== undefined) s.reason = rec.reason;
  if (rec.message !== undefined) s.message = rec.message;
  return s;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function readPid(path: string): number | undefined {
  const t = readText(path)?.trim();
  if (!t || !/^\d+$/.test(t)) return undefined;
  return Number(t);
}

/** The host's device nodes (top level of /dev), for privileged containers. */
function hostDevices(): OciDevice[] {
  const out: OciDevice[] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/dev");
  } catch {
    return out;
  }
  for (const n of names) {
    if (n === "console" || n === "ptmx" || n === "tty") continue;
    const p = `/dev/${n}`;
    try {
      const st = lstatSync(p, { bigint: true });
      const type = st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : undefined;
      if (!type) continue;
      const rdev = st.rdev;
      const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      out.push({ path: p, type, major, minor, fileMode: Number(st.mode & 0o777n), uid: 0, gid: 0 });
    } catch {
      // vanished
    }
  }
  return out;
}
