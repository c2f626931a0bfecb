/**
 * The container runtime interface the kubelet drives (CRI's shape: a pod sandbox holding
 * containers, plus exec, attach, logs and stats). Three implementations: runc (OCI containers),
 * process (host processes) and sim (no processes, KWOK-style). The kubelet never looks behind it.
 *
 * Logs: every container's stdout/stderr go to `ContainerConfig.logPath` in the CRI log format
 * (`<RFC3339Nano time> <stdout|stderr> <F|P> <text>\n`, one line per write fragment, P for a
 * partial line), which the kubelet reads for `kubectl logs`.
 */
import type { Duplex, Readable, Writable } from "node:stream";

export type RuntimeName = "runc" | "process" | "sim";

export interface SandboxConfig {
  podUid: string;
  namespace: string;
  name: string;
  /** Hostname inside the pod (spec.hostname or the pod name). */
  hostname: string;
  /** spec.hostNetwork: share the node's network namespace. */
  hostNetwork: boolean;
  /** <kubelet root>/pods/<uid>: the sandbox may keep its own files under it. */
  podDir: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Lines of the pod's /etc/hosts and /etc/resolv.conf, prepared by the kubelet. */
  hostsFile?: string;
  resolvConf?: string;
}

export interface SandboxStatus {
  podUid: string;
  /** The pod's IP: its own network namespace's, or the node's for host network. */
  ip: string;
  ready: boolean;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
  /** The host path is a file (bind-mount a file rather than a directory). */
  file?: boolean;
  /** The pod volume it comes from (for messages). */
  volume?: string;
}

/** Where the service account token volume is mounted in every container (upstream's path). */
export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface ContainerResources {
  /** requests.cpu in millicores (0 when absent). */
  cpuRequestMilli: number;
  /** limits.cpu in millicores (0 = unlimited). */
  cpuLimitMilli: number;
  /** limits.memory in bytes (0 = unlimited). */
  memoryLimitBytes: number;
}

export interface ContainerConfig {
  /** The container's name in the pod spec. */
  name: string;
  /** Restart count of this container in the pod: 0 for the first run. */
  attempt: number;
  image: string;
  /** argv after the kubelet resolved command/args and $(VAR) references; [] = the image's default. */
  argv: string[];
  workingDir?: string;
  env: Array<{ name: string; value: string }>;
  mounts: Mount[];
  resources: ContainerResources;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  /** Where the runtime writes this attempt's log in CRI format. */
  logPath: string;
  /** securityContext, as far as a runtime enforces it. */
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  /** Host path of the container's termination message file (the kubelet reads it after exit). */
  terminationMessageHostPath?: string;
  /** Container path the termination message file is mounted at (spec.terminationMessagePath). */
  terminationMessagePath?: string;
  labels: Record<string, string>;
  /** The pod's annotations (the sim runtime reads its timing from them). */
  podAnnotations: Record<string, string>;
}

export type ContainerState = "created" | "running" | "exited" | "unknown";

export interface ContainerStatus {
  /** Runtime-specific id, unique on the node (the kubelet shows it as `<runtime>://<id>`). */
  id: string;
  podUid: string;
  /** Pod spec container name. */
  name: string;
  attempt: number;
  state: ContainerState;
  /** Epoch ms. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  /** For exited containers: OOMKilled, Error, Completed, ContainerCannotRun, ... */
  reason?: string;
  message?: string;
  image: string;
}

export interface ExecStreams {
  stdin?: Readable;
  stdout?: Writable;
  /** Absent when tty is set (a TTY merges stderr into stdout). */
  stderr?: Writable;
  tty: boolean;
  /** Terminal size changes (width, height), when tty is set. */
  onResize?: (listener: (size: { width: number; height: number }) => void) => void;
}

export interface ContainerStats {
  id: string;
  /** Total CPU time used, nanoseconds. */
  cpuUsageNanoSeconds: number;
  memoryWorkingSetBytes: number;
  /** Epoch ms of the reading. */
  timestamp: number;
}

/** A failure the kubelet reports as the container's waiting reason (e.g. CreateContainerError). */
export class RuntimeError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = "RuntimeError";
    this.reason = reason;
  }
}

/** Something the runtime wants the pod's events to say (e.g. "no image store: runs on the host's root"). */
export interface RuntimeNotice {
  podUid: string;
  container?: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Sets up what the runtime needs (directories, cgroups, network bridge); adopts what is running. */
  init(): Promise<void>;
  runPodSandbox(cfg: SandboxConfig): Promise<SandboxStatus>;
  /** Stops every container of the pod (SIGKILL) and releases the sandbox's network. */
  stopPodSandbox(podUid: string): Promise<void>;
  removePodSandbox(podUid: string): Promise<void>;
  /** Sandboxes that exist (also those found at start). */
  listPodSandboxes(): Promise<SandboxStatus[]>;

  createContainer(podUid: string, cfg: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), then SIGKILL after `timeoutSeconds`; resolves once exited. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Every container the runtime knows on this node (the kubelet relists this: its PLEG). */
  listContainers(): Promise<ContainerStatus[]>;
  containerStatus(id: string): Promise<ContainerStatus | undefined>;
  /** Called whenever a container changes state, so the kubelet need not wait for its next relist. */
  onContainerEvent(listener: (podUid: string) => void): void;

  /** Runs a command in a running container, streaming; resolves with its exit code. */
  exec(id: string, argv: string[], streams: ExecStreams): Promise<number>;
  /** Runs a command to completion (exec probes, kubectl exec without streams); output capped at `maxOutput` bytes. */
  execSync(
    id: string,
    argv: string[],
    timeoutMs: number,
    maxOutput?: number,
  ): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
  /** Connects to the main process's stdio (stdin only when the container has `stdin: true`). */
  attach(id: string, streams: ExecStreams): Promise<void>;
  /**
   * Pipes `stream` to localhost:`port` in the pod's network namespace until either side ends
   * (kubectl port-forward); rejects with the reason when nothing can be reached there.
   */
  portForward(podUid: string, port: number, stream: Duplex): Promise<void>;
  stats(): Promise<ContainerStats[]>;
  /** Events the runtime wants on pods (the kubelet turns them into Event objects). */
  onNotice(listener: (n: RuntimeNotice) => void): void;
  close(): Promise<void>;
}
