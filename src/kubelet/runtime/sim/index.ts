/**
 * The `sim` runtime: no processes at all, KWOK-style. Containers move through the stages of
 * `stages.ts` (run at once; exit after the pod's `k8ts.io/sim-duration`, if any); logs are empty
 * files; exec and attach answer that nothing runs. Pod IPs come from the node's pod CIDR. Used
 * for scale work: thousands of nodes in one `k8ts agent --sim-nodes N` process.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { PortForwardError } from "../../portforward/dial.js";
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
} from "../types.js";
import { defaultStages, nextStage, type Stage } from "./stages.js";

export interface SimRuntimeOptions {
  /**
   * e.g. 10.244.3.0/24: pod IPs are handed out from it; a function is read at each new sandbox (the
   * node's spec.podCIDR once assigned). Without one, 10.250.0.0/16.
   */
  podCIDR?: string | (() => string | undefined);
  stages?: Stage[];
  /** Write empty log files (default true; off for benchmarks that need no logs). */
  writeLogs?: boolean;
}

interface SimContainer {
  status: ContainerStatus;
  annotations: Record<string, string>;
  timer?: NodeJS.Timeout;
}

/** Address number `n` (1-based host part) in a CIDR. */
export function addressIn(cidr: string, n: number): string {
  const [base, bits] = cidr.split("/") as [string, string | undefined];
  const parts = base.split(".").map(Number);
  const ip = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const size = 2 ** (32 - Number(bits ?? "24"));
  const host = (ip & ~(size - 1)) + (n % (size - 2)) + 1;
  return [host >>> 24, (host >>> 16) & 255, (host >>> 8) & 255, host & 255].join(".");
}

const SIM_DEFAULT_CIDR = "10.250.0.0/16";

export class SimRuntime implements Runtime {
  readonly name = "sim" as const;
  private readonly stages: Stage[];
  private readonly cidr: () => string;
  private readonly writeLogs: boolean;
  private readonly containers = new Map<string, SimContainer>();
  private readonly sandboxes = new Map<string, SandboxStatus>();
  private readonly listeners: Array<(podUid: string) => void> = [];
  private nextIP = 1;

  constructor(opts: SimRuntimeOptions = {}) {
    this.stages = opts.stages ?? defaultStages;
    const cidr = opts.podCIDR;
    this.cidr = typeof cidr === "function" ? () => cidr() ?? SIM_DEFAULT_CIDR : () => cidr ?? SIM_DEFAULT_CIDR;
    this.writeLogs = opts.writeLogs ?? true;
  }

  async init(): Promise<void> {}

  private emit(podUid: string): void {
    for (const l of this.listeners) l(podUid);
  }

  onContainerEvent(listener: (podUid: string) => void): void {
    this.listeners.push(listener);
  }

  onNotice(_listener: (n: RuntimeNotice) => void): void {}

  async runPodSandbox(cfg: SandboxConfig): Promise<SandboxStatus> {
    const existing = this.sandboxes.get(cfg.podUid);
    if (existing) return existing;
    const s: SandboxStatus = { podUid: cfg.podUid, ip: addressIn(this.cidr(), this.nextIP++), ready: true };
    this.sandboxes.set(cfg.podUid, s);
    return s;
  }

  async stopPodSandbox(podUid: string): Promise<void> {
    for (const c of this.containers.values()) {
      if (c.status.podUid === podUid && c.status.state !== "exited") this.exit(c, 137, "Error");
    }
    const s = this.sandboxes.get(podUid);
    if (s) s.ready = false;
  }

  async removePodSandbox(podUid: string): Promise<void> {
    await this.stopPodSandbox(podUid);
    for (const [id, c] of this.containers) if (c.status.podUid === podUid) await this.removeContainer(id);
    this.sandboxes.delete(podUid);
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    return [...this.sandboxes.values()];
  }

  async createContainer(podUid: string, cfg: ContainerConfig): Promise<string> {
    if (!this.sandboxes.has(podUid)) throw new RuntimeError("CreateContainerError", `pod sandbox ${podUid} not found`);
    const id = randomBytes(16).toString("hex");
    if (this.writeLogs) {
      mkdirSync(dirname(cfg.logPath), { recursive: true });
      writeFileSync(cfg.logPath, "");
    }
    this.containers.set(id, {
      status: {
        id,
        podUid,
        name: cfg.name,
        attempt: cfg.attempt,
        state: "created",
        createdAt: Date.now(),
        image: cfg.image,
      },
      annotations: cfg.podAnnotations,
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeError("RunContainerError", `container ${id} not found`);
    this.advance(c);
  }

  /** Applies the next stage of a container, after its delay. */
  private advance(c: SimContainer): void {
    const next = nextStage(this.stages, c.status.state, c.annotations, c.status.name);
    if (!next) return;
    const apply = () => {
      c.timer = undefined;
      if (next.stage.next.state === "running") {
        c.status.state = "running";
        c.status.startedAt = Date.now();
        this.emit(c.status.podUid);
        this.advance(c);
      } else if (next.stage.next.state === "exited") {
        this.exit(c, next.exitCode, next.exitCode === 0 ? "Completed" : "Error");
      }
    };
    if (next.delayMs <= 0) apply();
    else {
      c.timer = setTimeout(apply, next.delayMs);
      c.timer.unref();
    }
  }

  private exit(c: SimContainer, exitCode: number, reason: string): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    c.status.state = "exited";
    c.status.exitCode = exitCode;
    c.status.reason = reason;
    c.status.finishedAt = Date.now();
    c.status.startedAt ??= c.status.finishedAt;
    this.emit(c.status.podUid);
  }

  async stopContainer(id: string, _timeoutSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    // a simulated process honours SIGTERM at once: 128 + 15
    if (c && c.status.state !== "exited") this.exit(c, 143, "Error");
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    if (c.timer) clearTimeout(c.timer);
    this.containers.delete(id);
  }

  async listContainers(): Promise<ContainerStatus[]> {
    return [...this.containers.values()].map((c) => ({ ...c.status }));
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const c = this.containers.get(id);
    return c ? { ...c.status } : undefined;
  }

  exec(_id: string, _argv: string[], _streams: ExecStreams): Promise<number> {
    return Promise.reject(new RuntimeError("ExecError", "the sim runtime runs no processes: nothing to exec into"));
  }

  async portForward(podUid: string, port: number): Promise<void> {
    if (!this.sandboxes.has(podUid)) throw new PortForwardError(`pod sandbox ${podUid} not found`);
    throw new PortForwardError(`the sim runtime runs no processes: nothing listens on port ${port} of a simulated pod`);
  }

  async execSync(): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    // exec probes of simulated containers pass: a simulated container is healthy by definition
    return { exitCode: 0, output: "", timedOut: false };
  }

  attach(): Promise<void> {
    return Promise.reject(new RuntimeError("AttachError", "the sim runtime runs no processes: nothing to attach to"));
  }

  async stats(): Promise<ContainerStats[]> {
    const now = Date.now();
    return [...this.containers.values()]
      .filter((c) => c.status.state === "running")
      .map((c) => ({ id: c.status.id, cpuUsageNanoSeconds: 0, memoryWorkingSetBytes: 0, timestamp: now }));
  }

  async close(): Promise<void> {
    for (const c of this.containers.values()) if (c.timer) clearTimeout(c.timer);
  }
}
