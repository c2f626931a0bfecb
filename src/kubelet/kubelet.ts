/**
 * The kubelet: runs the pods bound to its node (upstream pkg/kubelet). Level-triggered: every pod
 * has a worker whose `sync` reads the pod, the runtime's containers and the probe results, takes
 * the next steps (sandbox, volumes, init containers in order, containers per restart policy and
 * back-off, liveness kills, graceful termination) and writes the status when it changed. Workers
 * are woken by pod changes, runtime events, a 1 s relist of the runtime (the PLEG), probe results
 * and their own timers.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Quantity } from "../api/quantity.js";
import { isRecord, type KObject } from "../api/types.js";
import { ApiError } from "../apiserver/errors.js";
import { Informer, type InformerHandlers } from "../client/informer.js";
import { type ApiClient, type ResourceId, resources } from "../client/types.js";
import { log } from "../util/log.js";
import { Backoff, goDuration } from "./backoff.js";
import { ContainerConfigError, containerArgv, containerEnv, type EnvSources } from "./env.js";
import { EventRecorder } from "./events.js";
import { type NodeConfig, NodeManager, type NodeManagerOptions } from "./node.js";
import { type ProbeKind, ProbeManager } from "./probes.js";
import type { ContainerConfig, ContainerStatus, Mount, Runtime, SandboxStatus } from "./runtime/types.js";
import { RuntimeError } from "./runtime/types.js";
import type { ContainerLocation, PodLocator } from "./server/index.js";
import { type ContainerKnowledge, computePodStatus, isRestartableInit, sameStatus } from "./status.js";
import { emptyDirsOverLimit } from "./volumes/index.js";

type Rec = Record<string, unknown>;

/** What the kubelet needs of the volume manager (src/kubelet/volumes). */
export interface PodVolumeManager {
  setUp(pod: KObject): Promise<unknown>;
  refresh(pod: KObject): Promise<void>;
  containerMounts(pod: KObject, container: Rec, vols: unknown, env: Record<string, string>): Promise<Mount[]>;
  usage(podUid: string): Promise<Map<string, number>>;
  tearDown(podUid: string): Promise<void>;
}

/** A stream of the pods bound to this node (the kubelet's own informer, or a simulated fleet's share). */
export interface PodFeed {
  addHandlers(h: InformerHandlers): void;
  list(): KObject[];
}

/** Makes the runtime once the Node is registered (runc's pod network needs the node's pod CIDR). */
export interface RuntimeFactory {
  needsPodCIDR: boolean;
  /**
   * `podCIDR`: the Node's spec.podCIDR when the runtime is made (waited for if `needsPodCIDR`);
   * `livePodCIDR` reads it later, for runtimes made before the node IPAM controller assigned one.
   */
  make(podCIDR: string | undefined, livePodCIDR: () => string | undefined): Promise<Runtime>;
}

export interface KubeletOptions {
  client: ApiClient;
  node: NodeConfig;
  runtime: Runtime | RuntimeFactory;
  /** Pod directories: <rootDir>/pods/<uid>/... */
  rootDir: string;
  /** Container logs: <logDir>/<ns>_<pod>_<uid>/<container>/<attempt>.log (default <rootDir>/logs). */
  logDir?: string;
  volumes?: PodVolumeManager;
  /** Default: an informer on pods with spec.nodeName=<node>. */
  pods?: PodFeed;
  /** Services for service-link variables (default: the kubelet's own informer). */
  services?: () => KObject[];
  /** Run probes (default true; simulated nodes consider their containers healthy). */
  probes?: boolean;
  nodeManager?: NodeManagerOptions;
  /** Restart back-off: initial and maximum, ms (defaults 10 s and 5 min). */
  backoffMs?: { initial: number; max: number };
  /** How often the runtime is relisted, ms (default 1000). */
  relistMs?: number;
  now?: () => number;
}

interface PodWork {
  uid: string;
  pod: KObject;
  running: boolean;
  again: boolean;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
  knowledge: Map<string, ContainerKnowledge>;
  /** Container ids whose liveness or startup probe failed: kill and restart. */
  unhealthy: Set<string>;
  lastStatus: Rec | undefined;
  sandbox: SandboxStatus | undefined;
  volumes: unknown;
  terminal: { phase: "Failed" | "Succeeded"; reason?: string; message?: string; graceSeconds?: number } | undefined;
  /** The pod is gone from the API (or force deleted): clean up, then forget it. */
  removed: boolean;
  finished: boolean;
  volumesRefreshedAt: number;
}

function specOf(pod: KObject): Rec {
  return isRecord(pod["spec"]) ? pod["spec"] : {};
}

function containers(pod: KObject, key: "containers" | "initContainers"): Rec[] {
  const s = specOf(pod)[key];
  return Array.isArray(s) ? s.filter(isRecord) : [];
}

function podCIDROf(node: KObject): string | undefined {
  const spec = specOf(node);
  return typeof spec["podCIDR"] === "string" && spec["podCIDR"] !== "" ? spec["podCIDR"] : undefined;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** upstream format.Pod: name_namespace(uid). */
export function podRef(pod: KObject): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}

/** Whether an exited container is started again under the pod's restart policy. */
export function shouldRestart(policy: string, exitCode: number): boolean {
  if (policy === "Never") return false;
  if (policy === "OnFailure") return exitCode !== 0;
  return true;
}

function quantityMilli(v: unknown): number {
  const q = typeof v === "string" || typeof v === "number" ? Quantity.tryParse(String(v)) : undefined;
  return q ? Number(q.milliValue()) : 0;
}

/** A pod's cpu (milli) and memory (bytes) requests as the scheduler counts them. */
export function podRequests(pod: KObject): { cpuMilli: number; memoryBytes: number } {
  const sum = (list: Rec[]) => {
    const acc = { cpuMilli: 0, memoryBytes: 0 };
    for (const c of list) {
      const req = isRecord(c["resources"]) && isRecord(c["resources"]["requests"]) ? c["resources"]["requests"] : {};
      acc.cpuMilli += quantityMilli(req["cpu"]);
      acc.memoryBytes += quantityMilli(req["memory"]) / 1000;
    }
    return acc;
  };
  const main = sum(containers(pod, "containers"));
  for (const init of containers(pod, "initContainers")) {
    const one = sum([init]);
    main.cpuMilli = Math.max(main.cpuMilli, one.cpuMilli);
    main.memoryBytes = Math.max(main.memoryBytes, one.memoryBytes);
  }
  return main;
}

const MIN_GRACE_SECONDS = 2;

export class Kubelet implements PodLocator {
  private readonly opts: KubeletOptions;
  readonly client: ApiClient;
  private runtimeOrNull: Runtime | undefined;
  readonly nodeManager: NodeManager;
  readonly events: EventRecorder;
  private readonly probes: ProbeManager;
  private readonly backoff: Backoff;
  private readonly work = new Map<string, PodWork>();
  private podInformer: Informer | undefined;
  private serviceInformer: Informer | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private lastSeen = new Map<string, string>();
  /** The runtime's containers as of the last relist (the streaming server reads it synchronously). */
  private known: ContainerStatus[] = [];
  private stopped = false;
  private readonly now: () => number;
  readonly logDir: string;

  constructor(opts: KubeletOptions) {
    this.opts = opts;
    this.client = opts.client;
    if (!("make" in opts.runtime)) this.runtimeOrNull = opts.runtime;
    this.now = opts.now ?? Date.now;
    this.logDir = opts.logDir ?? join(opts.rootDir, "logs");
    this.nodeManager = new NodeManager(opts.client, opts.node, opts.nodeManager);
    this.events = new EventRecorder(opts.client, { component: "kubelet", host: opts.node.name });
    this.backoff = new Backoff({ initialMs: opts.backoffMs?.initial, maxMs: opts.backoffMs?.max, now: this.now });
    this.probes = new ProbeManager({
      onResult: (uid, container, kind, ok) => this.onProbeResult(uid, container, kind, ok),
      onFailure: (uid, container, kind, output) => this.onProbeFailure(uid, container, kind, output),
      onError: (uid, container, kind, message) =>
        this.onProbeEvent(
          uid,
          container,
          "Unhealthy",
          `${capital(kind)} probe errored and resulted in unknown state: ${message}`,
        ),
      onWarning: (uid, container, kind, output) =>
        this.onProbeEvent(uid, container, "ProbeWarning", `${capital(kind)} probe warning: ${output}`),
    });
  }

  get runtime(): Runtime {
    if (!this.runtimeOrNull) throw new Error("the kubelet's runtime is made when it starts");
    return this.runtimeOrNull;
  }

  get runtimeIfStarted(): Runtime | undefined {
    return this.runtimeOrNull;
  }

  get nodeName(): string {
    return this.opts.node.name;
  }

  /** Registers the node, adopts what the runtime runs, and starts the pod workers. */
  async start(): Promise<void> {
    this.stopped = false;
    mkdirSync(join(this.opts.rootDir, "pods"), { recursive: true, mode: 0o750 });
    // registration is retried until it works, as the kubelet's registerWithAPIServer (100 ms doubling to 7 s)
    let node: KObject | undefined;
    for (let delay = 100; node === undefined; delay = Math.min(delay * 2, 7000)) {
      try {
        node = await this.nodeManager.register();
      } catch (err) {
        if (this.stopped) throw err;
        log.warn("unable to register the node with the API server, retrying", {
          node: this.nodeName,
          error: String(err),
        });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.nodeManager.start();
    // what a kubelet says about its node when it starts (kubectl describe node shows these)
    // (simulated fleets skip them: thousands of nodes would flood the event store)
    const ref: KObject = { apiVersion: "v1", kind: "Node", metadata: { name: this.nodeName, uid: this.nodeName } };
    const nodeEvent = (reason: string, message = `Node ${this.nodeName} status is now: ${reason}`) => {
      if (!this.opts.node.simulated) this.events.event(ref, "Normal", reason, message);
    };
    nodeEvent("Starting", "Starting kubelet.");
    for (const reason of ["NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"])
      nodeEvent(reason);
    nodeEvent("NodeAllocatableEnforced", "Updated Node Allocatable limit across pods");
    if (!this.runtimeOrNull) {
      const factory = this.opts.runtime as RuntimeFactory;
      let cidr = podCIDROf(node);
      // the node IPAM controller assigns the pod CIDR right after registration
      for (let i = 0; factory.needsPodCIDR && !cidr && i < 300 && !this.stopped; i++) {
        await new Promise((r) => setTimeout(r, 100));
        node = await this.client.get(resources.nodes, undefined, this.nodeName).catch(() => node);
        cidr = podCIDROf(node ?? { metadata: {} });
      }
      if (factory.needsPodCIDR && !cidr) throw new Error(`node ${this.nodeName} got no spec.podCIDR within 30 s`);
      this.runtimeOrNull = await factory.make(cidr, () => {
        const n = this.nodeManager.currentNode();
        return n ? podCIDROf(n) : undefined;
      });
    }
    await this.runtime.init();
    nodeEvent("NodeReady");
    this.runtime.onContainerEvent((uid) => this.schedule(uid));
    this.runtime.onNotice((n) => {
      const w = this.work.get(n.podUid);
      if (!w) return;
      const field = n.container ? this.fieldPath(w.pod, n.container) : undefined;
      this.events.event(w.pod, n.type, n.reason, n.message, field);
    });
    if (!this.opts.services) {
      this.serviceInformer = new Informer(this.client, resources.services);
      this.serviceInformer.start();
    }
    let feed = this.opts.pods;
    if (!feed) {
      const inf = new Informer(this.client, resources.pods, { fieldSelector: `spec.nodeName=${this.nodeName}` });
      this.podInformer = inf;
      feed = inf;
    }
    feed.addHandlers({
      onAdd: (p) => this.onPod(p),
      onUpdate: (p) => this.onPod(p),
      onDelete: (p) => this.onPodDeleted(p),
    });
    if (this.podInformer) {
      this.podInformer.start();
      await this.podInformer.waitForSync();
    } else {
      for (const p of feed.list()) this.onPod(p);
    }
    // sandboxes and pod directories of pods no longer bound here (deleted while the kubelet was down;
    // a runtime that keeps nothing across restarts, like sim, leaves only the directories and their
    // volume mounts): torn down before anything else runs (upstream cleanupOrphanedPodDirs)
    const orphans = new Set<string>();
    for (const s of await this.runtime.listPodSandboxes()) if (!this.work.has(s.podUid)) orphans.add(s.podUid);
    const podsDir = join(this.opts.rootDir, "pods");
    for (const uid of existsSync(podsDir) ? readdirSync(podsDir) : []) if (!this.work.has(uid)) orphans.add(uid);
    await Promise.all([...orphans].map((uid) => this.cleanupOrphan(uid)));
    const relist = () => {
      if (this.stopped) return;
      void this.relist().finally(() => {
        if (this.stopped) return;
        this.relistTimer = setTimeout(relist, this.opts.relistMs ?? 1000);
        this.relistTimer.unref();
      });
    };
    relist();
    this.housekeepingTimer = setInterval(() => void this.housekeeping(), 10_000);
    this.housekeepingTimer.unref();
  }

  /**
   * Stops the kubelet. Containers keep running (the next kubelet adopts them) unless `killPods`:
   * then every sandbox is stopped and removed too (tests, `--cleanup`).
   */
  async stop(opts: { killPods?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.nodeManager.stop();
    this.podInformer?.stop();
    this.serviceInformer?.stop();
    this.probes.stop();
    if (this.relistTimer) clearTimeout(this.relistTimer);
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    for (const w of this.work.values()) if (w.timer) clearTimeout(w.timer);
    // let running syncs finish so nothing is half done
    for (let i = 0; i < 100 && [...this.work.values()].some((w) => w.running); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.events.flush();
    if (opts.killPods && this.runtimeOrNull) {
      const uids = new Set(this.work.keys());
      for (const sb of await this.runtimeOrNull.listPodSandboxes()) {
        uids.add(sb.podUid);
        await this.runtimeOrNull.removePodSandbox(sb.podUid).catch(() => undefined);
      }
      // and their volumes, so nothing stays mounted under the root dir
      for (const uid of uids) {
        await this.opts.volumes
          ?.tearDown(uid)
          .catch((err: unknown) => log.warn("volume teardown at stop failed", { pod: uid, error: String(err) }));
      }
    }
    await this.runtimeOrNull?.close();
  }

  /** The pods this kubelet runs now (for the kubelet API's /pods and the streaming server). */
  pods(): KObject[] {
    return [...this.work.values()].filter((w) => !w.removed).map((w) => w.pod);
  }

  podByName(namespace: string, name: string): KObject | undefined {
    for (const w of this.work.values()) {
      if (!w.removed && w.pod.metadata.namespace === namespace && w.pod.metadata.name === name) return w.pod;
    }
    return undefined;
  }

  /** PodLocator: the container's latest attempt (and the one before, for --previous). */
  container(namespace: string, name: string, container: string): ContainerLocation | undefined {
    const pod = this.podByName(namespace, name);
    if (!pod) return undefined;
    const spec = [...containers(pod, "containers"), ...containers(pod, "initContainers")].find(
      (c) => c["name"] === container,
    );
    if (!spec) return undefined;
    const uid = pod.metadata.uid ?? "";
    const attempts = this.known
      .filter((c) => c.podUid === uid && c.name === container)
      .sort((a, b) => a.attempt - b.attempt);
    const latest = attempts[attempts.length - 1];
    const previous = attempts.length > 1 ? attempts[attempts.length - 2] : undefined;
    const loc: ContainerLocation = {
      podUid: uid,
      running: latest?.state === "running",
      stdin: spec["stdin"] === true,
      tty: spec["tty"] === true,
    };
    if (latest) {
      loc.containerId = latest.id;
      loc.logPath = this.logPath(pod, container, latest.attempt);
    }
    if (previous) loc.previousLogPath = this.logPath(pod, container, previous.attempt);
    return loc;
  }

  /** Log file of one attempt of a container. */
  logPath(pod: KObject, container: string, attempt: number): string {
    return join(
      this.logDir,
      `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`,
      container,
      `${attempt}.log`,
    );
  }

  /** The runtime's attempts of one container of a pod, oldest first. */
  async attempts(podUid: string, container: string): Promise<ContainerStatus[]> {
    this.known = await this.runtime.listContainers();
    return this.known.filter((c) => c.podUid === podUid && c.name === container).sort((a, b) => a.attempt - b.attempt);
  }

  private onPod(pod: KObject): void {
    const uid = pod.metadata.uid ?? "";
    if (uid === "") return;
    const spec = specOf(pod);
    if (spec["nodeName"] !== this.nodeName) return;
    let w = this.work.get(uid);
    if (!w) {
      w = {
        uid,
        pod,
        running: false,
        again: false,
        timer: undefined,
        timerAt: 0,
        knowledge: new Map(),
        unhealthy: new Set(),
        lastStatus: undefined,
        sandbox: undefined,
        volumes: undefined,
        terminal: undefined,
        removed: false,
        finished: false,
        volumesRefreshedAt: 0,
      };
      this.work.set(uid, w);
    } else {
      w.pod = pod;
    }
    this.schedule(uid);
  }

  private onPodDeleted(pod: KObject): void {
    const w = this.work.get(pod.metadata.uid ?? "");
    if (!w) return;
    w.removed = true;
    this.schedule(w.uid);
  }

  /** Wakes a pod's worker now, or after `delayMs` (an earlier wake-up wins). */
  schedule(uid: string, delayMs = 0): void {
    const w = this.work.get(uid);
    if (!w || this.stopped) return;
    if (delayMs > 0) {
      const at = this.now() + delayMs;
      if (w.timer && w.timerAt <= at) return;
      if (w.timer) clearTimeout(w.timer);
      w.timerAt = at;
      w.timer = setTimeout(() => {
        w.timer = undefined;
        this.schedule(uid);
      }, delayMs);
      w.timer.unref();
      return;
    }
    if (w.running) {
      w.again = true;
      return;
    }
    w.running = true;
    void (async () => {
      try {
        do {
          w.again = false;
          try {
            await this.sync(w);
          } catch (err) {
            log.warn("pod sync failed", { pod: podRef(w.pod), error: String((err as Error)?.stack ?? err) });
            this.schedule(uid, 2000);
          }
        } while (w.again && !this.stopped);
      } finally {
        w.running = false;
        if (w.finished) this.work.delete(uid);
      }
    })();
  }

  private async relist(): Promise<void> {
    let list: ContainerStatus[];
    try {
      list = await this.runtime.listContainers();
    } catch (err) {
      log.warn("runtime relist failed", { error: String(err) });
      return;
    }
    this.known = list;
    const seen = new Map<string, string>();
    for (const c of list) {
      const sig = `${c.state}`;
      seen.set(c.id, sig);
      if (this.lastSeen.get(c.id) !== sig) this.schedule(c.podUid);
    }
    this.lastSeen = seen;
  }

  private async housekeeping(): Promise<void> {
    const now = this.now();
    for (const w of this.work.values()) {
      if (w.removed || w.terminal || !w.volumes || !this.opts.volumes) continue;
      // configMap/secret/projected contents follow their sources about once a minute
      if (now - w.volumesRefreshedAt >= 60_000) {
        w.volumesRefreshedAt = now;
        await this.opts.volumes
          .refresh(w.pod)
          .catch((err: unknown) => log.debug("volume refresh", { error: String(err) }));
      }
      await this.checkEmptyDirLimits(w).catch((err: unknown) =>
        log.warn("emptyDir usage check failed", { pod: podRef(w.pod), error: String(err) }),
      );
    }
  }

  /** An emptyDir over its sizeLimit evicts the pod, as the kubelet's eviction manager does. */
  private async checkEmptyDirLimits(w: PodWork): Promise<void> {
    if (!this.opts.volumes) return;
    const vols = Array.isArray(specOf(w.pod)["volumes"])
      ? (specOf(w.pod)["volumes"] as unknown[]).filter(isRecord)
      : [];
    if (!vols.some((v) => isRecord(v["emptyDir"]) && v["emptyDir"]["sizeLimit"] !== undefined)) return;
    const over = emptyDirsOverLimit(w.pod, await this.opts.volumes.usage(w.uid));
    if (over.length === 0) return;
    const message = over[0]!.message;
    // local storage eviction kills at once, as upstream's eviction manager (grace period 0)
    w.terminal = { phase: "Failed", reason: "Evicted", message, graceSeconds: 0 };
    this.events.event(w.pod, "Warning", "Evicted", message);
    this.schedule(w.uid);
  }

  private fieldPath(pod: KObject, container: string): string {
    const isInit = containers(pod, "initContainers").some((c) => c["name"] === container);
    return `spec.${isInit ? "initContainers" : "containers"}{${container}}`;
  }

  private containerEvent(
    w: PodWork,
    container: string,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): void {
    this.events.event(w.pod, type, reason, message, this.fieldPath(w.pod, container));
  }

  private onProbeResult(uid: string, container: string, kind: ProbeKind, ok: boolean): void {
    const w = this.work.get(uid);
    if (!w) return;
    if (!ok && (kind === "liveness" || kind === "startup")) {
      void this.attempts(uid, container).then((a) => {
        const latest = a[a.length - 1];
        if (latest?.state === "running") {
          w.unhealthy.add(latest.id);
          this.schedule(uid);
        }
      });
      return;
    }
    this.schedule(uid);
  }

  private onProbeEvent(uid: string, container: string, reason: string, message: string): void {
    const w = this.work.get(uid);
    if (w) this.containerEvent(w, container, "Warning", reason, message);
  }

  private onProbeFailure(uid: string, container: string, kind: ProbeKind, output: string): void {
    const w = this.work.get(uid);
    if (!w) return;
    this.containerEvent(w, container, "Warning", "Unhealthy", `${capital(kind)} probe failed: ${output}`);
  }

  private envSources(w: PodWork): EnvSources {
    const alloc = isRecord(this.nodeManager.node?.["status"])
      ? ((this.nodeManager.node["status"] as Rec)["allocatable"] as Rec | undefined)
      : undefined;
    const getOpt = async (r: ResourceId, ns: string, name: string) => {
      try {
        return await this.client.get(r, ns, name);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return undefined;
        throw err;
      }
    };
    return {
      configMap: (ns, name) => getOpt(resources.configmaps, ns, name),
      secret: (ns, name) => getOpt(resources.secrets, ns, name),
      services: (ns) =>
        (this.opts.services?.() ?? this.serviceInformer?.list() ?? []).filter(
          (s) =>
            s.metadata.namespace === ns || (s.metadata.namespace === "default" && s.metadata.name === "kubernetes"),
        ),
      nodeAllocatable: {
        cpuMilli: quantityMilli(alloc?.["cpu"]),
        memoryBytes: quantityMilli(alloc?.["memory"]) / 1000,
        ephemeralBytes: quantityMilli(alloc?.["ephemeral-storage"]) / 1000,
      },
      hostIP: this.opts.node.ip,
      podIP: w.sandbox?.ip ?? "",
    };
  }

  // --- the pod worker ---

  private async sync(w: PodWork): Promise<void> {
    const pod = w.pod;
    if (w.removed) {
      await this.terminate(w, MIN_GRACE_SECONDS);
      await this.cleanup(w);
      w.finished = true;
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      const grace = Math.max(
        0,
        pod.metadata.deletionGracePeriodSeconds ?? Number(specOf(pod)["terminationGracePeriodSeconds"] ?? 30),
      );
      await this.terminate(w, grace);
      await this.writeStatus(w, true);
      await this.cleanup(w);
      try {
        await this.client.delete(resources.pods, pod.metadata.namespace, pod.metadata.name ?? "", {
          gracePeriodSeconds: 0,
          preconditions: { uid: w.uid },
        });
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 404 && err.code !== 409)) throw err;
      }
      return;
    }
    const status = isRecord(pod["status"]) ? pod["status"] : {};
    if (status["phase"] === "Succeeded" || status["phase"] === "Failed" || w.terminal) {
      await this.terminate(w, w.terminal?.graceSeconds ?? Number(specOf(pod)["terminationGracePeriodSeconds"] ?? 30));
      await this.writeStatus(w);
      await this.runtime.stopPodSandbox(w.uid).catch(() => undefined);
      if (this.opts.volumes && w.volumes !== undefined) {
        await this.opts.volumes.tearDown(w.uid).catch(() => undefined);
        w.volumes = undefined;
      }
      return;
    }
    if (!(await this.admit(w))) return;
    if (this.deadlineExceeded(w)) {
      this.schedule(w.uid);
      return;
    }
    if (!(await this.ensureSandbox(w))) return;
    if (!(await this.ensureVolumes(w))) return;

    const initDone = await this.syncInitContainers(w);
    if (initDone) await this.syncContainers(w);
    await this.writeStatus(w);
    // activeDeadlineSeconds wakes the worker when the deadline comes
    const ads = specOf(pod)["activeDeadlineSeconds"];
    const start = Date.parse(String((w.lastStatus ?? status)["startTime"] ?? ""));
    if (typeof ads === "number" && Number.isFinite(start)) {
      this.schedule(w.uid, Math.max(1000, start + ads * 1000 - this.now()));
    }
  }

  /** Node-level admission: resources the pod asks for must be left on the node. */
  private async admit(w: PodWork): Promise<boolean> {
    const status = isRecord(w.pod["status"]) ? w.pod["status"] : {};
    if (status["startTime"] !== undefined || w.lastStatus !== undefined) return true;
    const alloc = isRecord(this.nodeManager.node?.["status"])
      ? ((this.nodeManager.node["status"] as Rec)["allocatable"] as Rec | undefined)
      : undefined;
    if (!alloc) return true;
    const want = podRequests(w.pod);
    const used = { cpuMilli: 0, memoryBytes: 0, pods: 0 };
    for (const o of this.work.values()) {
      if (o === w || o.removed || o.terminal || o.lastStatus === undefined) continue;
      // pods that have finished hold nothing (upstream's admission counts active pods only)
      const phase = o.lastStatus["phase"];
      if (phase === "Succeeded" || phase === "Failed") continue;
      const r = podRequests(o.pod);
      used.cpuMilli += r.cpuMilli;
      used.memoryBytes += r.memoryBytes;
      used.pods++;
    }
    const capCpu = quantityMilli(alloc["cpu"]);
    const capMem = quantityMilli(alloc["memory"]) / 1000;
    const capPods = quantityMilli(alloc["pods"]) / 1000;
    let reason: string | undefined;
    let message = "";
    if (capPods > 0 && used.pods + 1 > capPods) {
      reason = "OutOfpods";
      message = `Node didn't have enough resource: pods, requested: 1, used: ${used.pods}, capacity: ${capPods}`;
    } else if (want.cpuMilli > 0 && used.cpuMilli + want.cpuMilli > capCpu) {
      reason = "OutOfcpu";
      message = `Node didn't have enough resource: cpu, requested: ${want.cpuMilli}, used: ${used.cpuMilli}, capacity: ${capCpu}`;
    } else if (want.memoryBytes > 0 && used.memoryBytes + want.memoryBytes > capMem) {
      reason = "OutOfmemory";
      message = `Node didn't have enough resource: memory, requested: ${want.memoryBytes}, used: ${used.memoryBytes}, capacity: ${capMem}`;
    }
    if (!reason) return true;
    w.terminal = { phase: "Failed", reason, message: `Pod was rejected: ${message}` };
    this.events.event(w.pod, "Warning", reason, message);
    await this.writeStatus(w);
    return false;
  }

  private deadlineExceeded(w: PodWork): boolean {
    const ads = specOf(w.pod)["activeDeadlineSeconds"];
    const status = w.lastStatus ?? (isRecord(w.pod["status"]) ? w.pod["status"] : {});
    const start = Date.parse(String(status["startTime"] ?? ""));
    if (typeof ads !== "number" || !Number.isFinite(start)) return false;
    if (this.now() < start + ads * 1000) return false;
    const message = "Pod was active on the node longer than the specified deadline";
    w.terminal = { phase: "Failed", reason: "DeadlineExceeded", message };
    this.events.event(w.pod, "Normal", "DeadlineExceeded", message);
    return true;
  }

  private async ensureSandbox(w: PodWork): Promise<boolean> {
    if (w.sandbox?.ready) return true;
    const pod = w.pod;
    const spec = specOf(pod);
    const podDir = join(this.opts.rootDir, "pods", w.uid);
    mkdirSync(podDir, { recursive: true, mode: 0o750 });
    try {
      w.sandbox = await this.runtime.runPodSandbox({
        podUid: w.uid,
        namespace: pod.metadata.namespace ?? "default",
        name: pod.metadata.name ?? "",
        hostname:
          typeof spec["hostname"] === "string" && spec["hostname"] !== ""
            ? spec["hostname"]
            : (pod.metadata.name ?? ""),
        hostNetwork: spec["hostNetwork"] === true,
        podDir,
        labels: pod.metadata.labels ?? {},
        annotations: pod.metadata.annotations ?? {},
      });
      return true;
    } catch (err) {
      const message = `Failed to create pod sandbox: ${(err as Error).message}`;
      this.events.event(pod, "Warning", "FailedCreatePodSandBox", message);
      await this.writeStatus(w);
      this.schedule(w.uid, 5000);
      return false;
    }
  }

  private async ensureVolumes(w: PodWork): Promise<boolean> {
    if (!this.opts.volumes) return true;
    try {
      w.volumes = await this.opts.volumes.setUp(w.pod);
      return true;
    } catch (err) {
      const reason = (err as { reason?: unknown }).reason;
      this.events.event(w.pod, "Warning", typeof reason === "string" ? reason : "FailedMount", (err as Error).message);
      await this.writeStatus(w);
      this.schedule(w.uid, 5000);
      return false;
    }
  }

  /** Init containers one after another; true once all are done (sidecars: started). */
  private async syncInitContainers(w: PodWork): Promise<boolean> {
    const policy = String(specOf(w.pod)["restartPolicy"] ?? "Always");
    for (const c of containers(w.pod, "initContainers")) {
      const name = String(c["name"]);
      const attempts = await this.attempts(w.uid, name);
      const latest = attempts[attempts.length - 1];
      const sidecar = isRestartableInit(c);
      if (!latest) {
        await this.startContainer(w, c, 0);
        return false;
      }
      if (latest.state === "running" || latest.state === "created") {
        if (sidecar) {
          if (await this.killIfUnhealthy(w, c, latest)) return false;
          this.ensureProbes(w, c, latest);
          if (w.knowledge.get(name)?.started !== false) continue;
        }
        return false;
      }
      // exited
      if (!sidecar && latest.exitCode === 0) continue;
      if (!sidecar && policy === "Never") return false;
      if (!(await this.restartWithBackoff(w, c, latest))) return false;
      if (!sidecar) return false;
    }
    return true;
  }

  private async syncContainers(w: PodWork): Promise<void> {
    const policy = String(specOf(w.pod)["restartPolicy"] ?? "Always");
    for (const c of containers(w.pod, "containers")) {
      const name = String(c["name"]);
      const attempts = await this.attempts(w.uid, name);
      const latest = attempts[attempts.length - 1];
      if (!latest) {
        await this.startContainer(w, c, 0);
        continue;
      }
      if (latest.state === "running") {
        if (await this.killIfUnhealthy(w, c, latest)) {
          if (shouldRestart(policy, 137))
            await this.restartWithBackoff(w, c, { ...latest, state: "exited", exitCode: 137 });
          continue;
        }
        this.ensureProbes(w, c, latest);
        continue;
      }
      if (latest.state === "exited" && shouldRestart(policy, latest.exitCode ?? 0)) {
        await this.restartWithBackoff(w, c, latest);
      } else if (latest.state === "exited") {
        w.knowledge.delete(name);
      }
    }
    // keep the latest and the previous attempt of every container (kubectl logs --previous)
    await this.gcContainers(w);
  }

  private async gcContainers(w: PodWork): Promise<void> {
    const all = (await this.runtime.listContainers()).filter((c) => c.podUid === w.uid);
    const byName = new Map<string, ContainerStatus[]>();
    for (const c of all) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
    for (const list of byName.values()) {
      list.sort((a, b) => a.attempt - b.attempt);
      for (const old of list.slice(0, -2)) {
        if (old.state === "exited") await this.runtime.removeContainer(old.id).catch(() => undefined);
      }
    }
  }

  /** Restarts an exited container unless it is in back-off (then CrashLoopBackOff until it is due). */
  private async restartWithBackoff(w: PodWork, c: Rec, latest: ContainerStatus): Promise<boolean> {
    const name = String(c["name"]);
    const key = `${w.uid}/${name}`;
    const wait = this.backoff.remaining(key, latest.finishedAt ?? this.now());
    if (wait > 0) {
      const k = w.knowledge.get(name) ?? { ready: false, started: false };
      k.waitingReason = "CrashLoopBackOff";
      k.waitingMessage = `back-off ${goDuration(this.backoff.get(key))} restarting failed container=${name} pod=${podRef(w.pod)}`;
      w.knowledge.set(name, k);
      this.containerEvent(
        w,
        name,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${name} in pod ${podRef(w.pod)}`,
      );
      this.schedule(w.uid, wait);
      return false;
    }
    this.backoff.next(key, latest.finishedAt ?? this.now());
    await this.startContainer(w, c, latest.attempt + 1);
    return true;
  }

  private async killIfUnhealthy(w: PodWork, c: Rec, latest: ContainerStatus): Promise<boolean> {
    if (!w.unhealthy.has(latest.id)) return false;
    w.unhealthy.delete(latest.id);
    const name = String(c["name"]);
    const startupFailed = this.probes.result(w.uid, name, "startup", latest.id) === false;
    this.containerEvent(
      w,
      name,
      "Normal",
      "Killing",
      `Container ${name} failed ${startupFailed ? "startup" : "liveness"} probe, will be restarted`,
    );
    const probe = (startupFailed ? c["startupProbe"] : c["livenessProbe"]) as Rec | undefined;
    const grace =
      typeof probe?.["terminationGracePeriodSeconds"] === "number"
        ? probe["terminationGracePeriodSeconds"]
        : Number(specOf(w.pod)["terminationGracePeriodSeconds"] ?? 30);
    await this.runtime.stopContainer(latest.id, grace);
    this.probes.stopContainer(w.uid, latest.id);
    return true;
  }

  private ensureProbes(w: PodWork, c: Rec, latest: ContainerStatus): void {
    const name = String(c["name"]);
    const k = w.knowledge.get(name) ?? { ready: true, started: true };
    k.waitingReason = undefined;
    k.waitingMessage = undefined;
    const useProbes = this.opts.probes !== false;
    const target = {
      runtime: this.runtime,
      containerId: latest.id,
      podIP: w.sandbox?.ip ?? this.opts.node.ip,
      container: c,
    };
    const has = (p: unknown): p is Rec => useProbes && isRecord(p);
    const startup = has(c["startupProbe"]) ? c["startupProbe"] : undefined;
    const started = () => !startup || this.probes.result(w.uid, name, "startup", latest.id) === true;
    if (startup) this.probes.ensure(w.uid, name, "startup", startup, target);
    if (has(c["livenessProbe"])) this.probes.ensure(w.uid, name, "liveness", c["livenessProbe"], target, started);
    if (has(c["readinessProbe"])) this.probes.ensure(w.uid, name, "readiness", c["readinessProbe"], target, started);
    k.started = started();
    k.ready =
      k.started && (!has(c["readinessProbe"]) || this.probes.result(w.uid, name, "readiness", latest.id) === true);
    w.knowledge.set(name, k);
  }

  private async startContainer(w: PodWork, c: Rec, attempt: number): Promise<void> {
    const pod = w.pod;
    const name = String(c["name"]);
    const setWaiting = (reason: string, message: string) => {
      w.knowledge.set(name, { ready: false, started: false, waitingReason: reason, waitingMessage: message });
    };
    let env: Array<{ name: string; value: string }>;
    try {
      env = await containerEnv(pod, c, this.envSources(w));
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      setWaiting("CreateContainerConfigError", err.message);
      this.containerEvent(w, name, "Warning", "Failed", `Error: ${err.message}`);
      this.schedule(w.uid, 5000);
      return;
    }
    let mounts: Mount[] = [];
    if (this.opts.volumes) {
      try {
        mounts = await this.opts.volumes.containerMounts(
          pod,
          c,
          w.volumes,
          Object.fromEntries(env.map((e) => [e.name, e.value])),
        );
      } catch (err) {
        setWaiting("CreateContainerConfigError", (err as Error).message);
        this.containerEvent(w, name, "Warning", "Failed", `Error: ${(err as Error).message}`);
        this.schedule(w.uid, 5000);
        return;
      }
    }
    const argv = containerArgv(c, env);
    if (!Array.isArray(c["command"]) && Array.isArray(c["args"]) && argv.length > 0 && attempt === 0) {
      this.containerEvent(
        w,
        name,
        "Warning",
        "NoImageEntrypoint",
        `no image store: the entrypoint of image "${String(c["image"] ?? "")}" is unknown, so the container's args run as its command`,
      );
    }
    const res = isRecord(c["resources"]) ? c["resources"] : {};
    const limits = isRecord(res["limits"]) ? res["limits"] : {};
    const requests = isRecord(res["requests"]) ? res["requests"] : {};
    const sc = isRecord(c["securityContext"]) ? c["securityContext"] : {};
    const podSc = isRecord(specOf(pod)["securityContext"]) ? (specOf(pod)["securityContext"] as Rec) : {};
    const termDir = join(this.opts.rootDir, "pods", w.uid, "containers", name);
    mkdirSync(termDir, { recursive: true });
    const cfg: ContainerConfig = {
      name,
      attempt,
      image: String(c["image"] ?? ""),
      argv,
      env,
      mounts,
      resources: {
        cpuRequestMilli: quantityMilli(requests["cpu"] ?? limits["cpu"]),
        cpuLimitMilli: quantityMilli(limits["cpu"]),
        memoryLimitBytes: quantityMilli(limits["memory"]) / 1000,
      },
      stdin: c["stdin"] === true,
      stdinOnce: c["stdinOnce"] === true,
      tty: c["tty"] === true,
      logPath: this.logPath(pod, name, attempt),
      labels: {
        "io.kubernetes.pod.name": pod.metadata.name ?? "",
        "io.kubernetes.pod.namespace": pod.metadata.namespace ?? "",
        "io.kubernetes.pod.uid": w.uid,
        "io.kubernetes.container.name": name,
      },
      podAnnotations: pod.metadata.annotations ?? {},
      terminationMessagePath:
        typeof c["terminationMessagePath"] === "string" ? c["terminationMessagePath"] : "/dev/termination-log",
      terminationMessageHostPath: join(termDir, `termination-${attempt}`),
    };
    if (typeof c["workingDir"] === "string" && c["workingDir"] !== "") cfg.workingDir = c["workingDir"];
    const runAsUser = sc["runAsUser"] ?? podSc["runAsUser"];
    const runAsGroup = sc["runAsGroup"] ?? podSc["runAsGroup"];
    if (typeof runAsUser === "number") cfg.runAsUser = runAsUser;
    if (typeof runAsGroup === "number") cfg.runAsGroup = runAsGroup;
    if (sc["privileged"] === true) cfg.privileged = true;
    if (sc["readOnlyRootFilesystem"] === true) cfg.readOnlyRootFilesystem = true;
    let id: string;
    try {
      id = await this.runtime.createContainer(w.uid, cfg);
    } catch (err) {
      const reason = err instanceof RuntimeError ? err.reason : "CreateContainerError";
      setWaiting(reason === "CreateContainerError" ? reason : "CreateContainerError", (err as Error).message);
      this.containerEvent(w, name, "Warning", "Failed", `Error: ${(err as Error).message}`);
      this.schedule(w.uid, 5000);
      return;
    }
    this.containerEvent(w, name, "Normal", "Created", `Created container: ${name}`);
    try {
      await this.runtime.startContainer(id);
    } catch (err) {
      setWaiting("RunContainerError", (err as Error).message);
      this.containerEvent(w, name, "Warning", "Failed", `Error: ${(err as Error).message}`);
      // the exited attempt is what the next sync restarts (with back-off)
      this.schedule(w.uid, 1000);
      return;
    }
    w.knowledge.set(name, { ready: !isRecord(c["readinessProbe"]) || this.opts.probes === false, started: true });
    // the streaming server finds the new container at once (attach right after start)
    this.known = await this.runtime.listContainers();
    this.containerEvent(w, name, "Normal", "Started", `Started container ${name}`);
  }

  /** Stops every container of the pod within `graceSeconds` (preStop hooks first), sidecars last. */
  private async terminate(w: PodWork, graceSeconds: number): Promise<void> {
    const all = (await this.runtime.listContainers()).filter((c) => c.podUid === w.uid && c.state === "running");
    if (all.length === 0) return;
    const deadline = this.now() + graceSeconds * 1000;
    const spec = (name: string) =>
      [...containers(w.pod, "containers"), ...containers(w.pod, "initContainers")].find((c) => c["name"] === name);
    const sidecarNames = new Set(
      containers(w.pod, "initContainers")
        .filter(isRestartableInit)
        .map((c) => String(c["name"])),
    );
    const stop = async (c: ContainerStatus) => {
      if (!w.removed) this.containerEvent(w, c.name, "Normal", "Killing", `Stopping container ${c.name}`);
      const s = spec(c.name);
      const preStop =
        isRecord(s?.["lifecycle"]) && isRecord(s["lifecycle"]["preStop"]) ? s["lifecycle"]["preStop"] : undefined;
      if (preStop && isRecord(preStop["exec"]) && Array.isArray(preStop["exec"]["command"])) {
        const budget = Math.max(0, deadline - this.now());
        await this.runtime
          .execSync(c.id, preStop["exec"]["command"].map(String), budget)
          .catch((err: unknown) => log.debug("preStop failed", { error: String(err) }));
      } else if (preStop && isRecord(preStop["sleep"]) && typeof preStop["sleep"]["seconds"] === "number") {
        const ms = Math.min(preStop["sleep"]["seconds"] * 1000, Math.max(0, deadline - this.now()));
        await new Promise((r) => setTimeout(r, ms));
      }
      const left = Math.max(0, Math.ceil((deadline - this.now()) / 1000));
      await this.runtime.stopContainer(c.id, Math.max(left, graceSeconds === 0 ? 0 : 1));
    };
    await Promise.all(all.filter((c) => !sidecarNames.has(c.name)).map(stop));
    for (const c of all.filter((x) => sidecarNames.has(x.name)).reverse()) await stop(c);
    this.probes.stopPod(w.uid);
  }

  private async cleanup(w: PodWork): Promise<void> {
    this.probes.stopPod(w.uid);
    if (this.opts.volumes)
      await this.opts.volumes
        .tearDown(w.uid)
        .catch((err: unknown) => log.warn("volume teardown", { error: String(err) }));
    await this.runtime
      .removePodSandbox(w.uid)
      .catch((err: unknown) => log.warn("sandbox removal", { error: String(err) }));
    this.backoff.forgetPrefix(`${w.uid}/`);
    rmSync(join(this.opts.rootDir, "pods", w.uid), { recursive: true, force: true });
    rmSync(join(this.logDir, `${w.pod.metadata.namespace}_${w.pod.metadata.name}_${w.uid}`), {
      recursive: true,
      force: true,
    });
  }

  private async cleanupOrphan(podUid: string): Promise<void> {
    await this.runtime.removePodSandbox(podUid).catch(() => undefined);
    if (this.opts.volumes) await this.opts.volumes.tearDown(podUid).catch(() => undefined);
    try {
      rmSync(join(this.opts.rootDir, "pods", podUid), { recursive: true, force: true });
    } catch (err) {
      log.warn("orphaned pod directory not removed", { pod: podUid, error: String(err) });
    }
  }

  /** The termination message of an exited attempt: its file, or the log's tail when asked to fall back. */
  private terminationMessage(w: PodWork, s: ContainerStatus): string | undefined {
    const c = [...containers(w.pod, "containers"), ...containers(w.pod, "initContainers")].find(
      (x) => x["name"] === s.name,
    );
    try {
      const text = readFileSync(
        join(this.opts.rootDir, "pods", w.uid, "containers", s.name, `termination-${s.attempt}`),
        "utf8",
      );
      if (text !== "") return text.slice(0, 4096);
    } catch {
      // no file: the container wrote none
    }
    if (c?.["terminationMessagePolicy"] === "FallbackToLogsOnError" && (s.exitCode ?? 0) !== 0) {
      try {
        const lines = readFileSync(this.logPath(w.pod, s.name, s.attempt), "utf8")
          .split("\n")
          .filter((l) => l !== "");
        return lines
          .slice(-80)
          .map((l) => l.split(" ").slice(3).join(" "))
          .join("\n")
          .slice(-2048);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Computes the pod's status and writes it when it changed. */
  private async writeStatus(w: PodWork, terminating = false): Promise<void> {
    const all = (await this.runtime.listContainers()).filter((c) => c.podUid === w.uid);
    const attempts = new Map<string, ContainerStatus[]>();
    for (const c of all) {
      if (c.state === "exited" && !c.message) {
        const m = this.terminationMessage(w, c);
        if (m) c.message = c.reason === "OOMKilled" || !c.message ? m : `${c.message}: ${m}`;
      }
      attempts.set(c.name, [...(attempts.get(c.name) ?? []), c]);
    }
    let terminal = w.terminal;
    if (terminating && !terminal) {
      // a pod the kubelet has killed for deletion ends in a terminal phase
      const mains = containers(w.pod, "containers").map((c) => {
        const a = (attempts.get(String(c["name"])) ?? []).sort((x, y) => x.attempt - y.attempt);
        return a[a.length - 1];
      });
      const succeeded = mains.every((m) => m?.state === "exited" && m.exitCode === 0);
      terminal = { phase: succeeded ? "Succeeded" : "Failed" };
    }
    const status = computePodStatus({
      pod: w.pod,
      now: this.now(),
      runtimeName: this.runtime.name,
      hostIP: this.opts.node.ip,
      podIP: w.sandbox?.ip,
      sandboxReady: w.sandbox?.ready === true && !terminal,
      attempts,
      knowledge: w.knowledge,
      terminal,
      ...(w.lastStatus ? { previous: w.lastStatus } : {}),
    });
    const current = isRecord(w.pod["status"]) ? w.pod["status"] : {};
    if (sameStatus(status, w.lastStatus) || sameStatus(status, current)) {
      w.lastStatus = status;
      return;
    }
    try {
      const updated = await this.client.patch(
        resources.pods,
        w.pod.metadata.namespace,
        w.pod.metadata.name ?? "",
        // conditions merge by type: one another component wrote meanwhile (DisruptionTarget) stays
        "strategic",
        { status },
        { subresource: "status" },
      );
      w.lastStatus = status;
      if (updated.metadata.uid === w.uid) w.pod = updated;
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
