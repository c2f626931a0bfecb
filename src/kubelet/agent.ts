/**
 * The node agent: a kubelet for one node (or a fleet of simulated nodes sharing one connection
 * and one pod watch), with its runtime chosen as the machine allows. Used by `k8ts server` (the
 * embedded node) and `k8ts agent` (a node joining over HTTPS).
 */
import { join } from "node:path";
import { ANN_LOCAL_PATH_ROOT } from "../api/storage.js";
import type { KObject } from "../api/types.js";
import { Informer, type InformerHandlers } from "../client/informer.js";
import { type ApiClient, resources } from "../client/types.js";
import { log } from "../util/log.js";
import { Kubelet, type PodFeed, type RuntimeFactory } from "./kubelet.js";
import { allocatableOf, defaultNodeIP, hostCapacity } from "./node.js";
import { ProcessRuntime } from "./runtime/process/index.js";
import { SimRuntime } from "./runtime/sim/index.js";
import type { Runtime } from "./runtime/types.js";
import { KubeletServer } from "./server/index.js";
import { ClaimVolumes, LocalPathNode, type NfsExport, prepareLocalPathRoot, VolumeManager } from "./volumes/index.js";

export type RuntimeChoice = "auto" | "runc" | "process" | "sim";

export interface AgentConfig {
  client: ApiClient;
  nodeName: string;
  /** Default: the host's first non-internal IPv4 address. */
  nodeIP?: string;
  /** Pods, volumes and runtime state live here; container logs in <rootDir>/logs. */
  rootDir: string;
  runtime: RuntimeChoice;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  /** Host paths containers must never see (runc): the data dir with its keys and store. */
  maskedPaths?: string[];
  /** The kubelet API (logs, exec, attach): its port (default 10250; 0 = any) and address (default 0.0.0.0). */
  kubeletPort?: number;
  kubeletBind?: string;
  /** The kubelet API's serving certificate, and the cluster CA whose client certificates it accepts. */
  serving: { cert: string; key: string };
  caCert: string;
  /** Lease and status timing (tests make it short). */
  nodeUpdateMs?: number;
  /**
   * Where k8ts.io/local-path volumes of this node live, a directory per volume (default
   * <rootDir>/storage); published on the Node as k8ts.io/local-path-root.
   */
  localPathRoot?: string;
  /**
   * NFS exports available on this machine (mounted outside k8ts, or stand-ins): an nfs volume
   * inside one is its directory below `root` instead of a `mount -t nfs` (default none).
   */
  nfsExports?: NfsExport[];
}

export interface RunningAgent {
  kubelets: Kubelet[];
  runtimeName: string;
  /** Stops the agent; containers keep running for the next agent unless `killPods`. */
  stop(opts?: { killPods?: boolean }): Promise<void>;
}

/** Why runc cannot be used here, or undefined when it can (as root, or rootless saying what that lacks). */
export async function runcUnavailable(): Promise<string | undefined> {
  try {
    const m = await import("./runtime/runc/availability.js");
    const a = m.runcAvailability();
    if (!a.ok) return a.reason;
    for (const d of a.degraded) log.warn(`runc runs rootless (the node agent has no root): ${d}`);
    return undefined;
  } catch (err) {
    return `the runc runtime could not be loaded: ${String((err as Error).message)}`;
  }
}

/** The runtime for one node per the choice (auto: runc when usable, else host processes, saying why). */
export async function runtimeFactory(
  choice: RuntimeChoice,
  opts: { rootDir: string; nodeIP: string; maskedPaths: string[] },
): Promise<RuntimeFactory & { name: string }> {
  if (choice === "sim") {
    return { name: "sim", needsPodCIDR: false, make: async (cidr, live) => new SimRuntime({ podCIDR: cidr ?? live }) };
  }
  if (choice === "auto" || choice === "runc") {
    const why = await runcUnavailable();
    if (why === undefined) {
      const m = await import("./runtime/runc/index.js");
      return {
        name: "runc",
        needsPodCIDR: true,
        make: async (cidr) =>
          m.createRuncRuntime({
            rootDir: opts.rootDir,
            stateDir: join(opts.rootDir, "runc"),
            maskedPaths: opts.maskedPaths,
            podCIDR: cidr ?? "10.244.0.0/24",
            nodeIP: opts.nodeIP,
          }) as Runtime,
      };
    }
    if (choice === "runc") throw new Error(`--runtime runc: ${why}`);
    log.warn(`runc cannot run containers here (${why}): pods run as host processes (the process runtime)`);
  }
  return {
    name: "process",
    needsPodCIDR: false,
    make: async () => new ProcessRuntime({ stateDir: join(opts.rootDir, "process"), nodeIP: opts.nodeIP }),
  };
}

export async function startAgent(cfg: AgentConfig): Promise<RunningAgent> {
  const nodeIP = cfg.nodeIP ?? defaultNodeIP();
  const factory = await runtimeFactory(cfg.runtime, {
    rootDir: cfg.rootDir,
    nodeIP,
    maskedPaths: cfg.maskedPaths ?? [],
  });
  const cap = hostCapacity(cfg.rootDir);
  const alloc = allocatableOf(cap);
  const localPathRoot = prepareLocalPathRoot(cfg.localPathRoot ?? join(cfg.rootDir, "storage"));
  let kubelet: Kubelet | undefined;
  const claims = new ClaimVolumes({
    client: cfg.client,
    nodeName: cfg.nodeName,
    localPathRoot,
    nfsExports: cfg.nfsExports,
    node: () => kubelet?.nodeManager.currentNode(),
  });
  const localPath = new LocalPathNode({
    client: cfg.client,
    nodeName: cfg.nodeName,
    root: localPathRoot,
    nodeLabels: () => kubelet?.nodeManager.currentNode()?.metadata.labels,
  });
  const volumes = new VolumeManager({
    client: cfg.client,
    rootDir: cfg.rootDir,
    nodeName: cfg.nodeName,
    nodeAllocatable: {
      cpuMilli: Number(alloc["cpu"]) * 1000,
      memoryBytes: Number(String(alloc["memory"]).replace(/Ki$/, "")) * 1024,
      ephemeralBytes: Number(alloc["ephemeral-storage"]),
    },
    pvc: claims.resolve,
    nfs: claims.resolveNfs,
  });
  const server = new KubeletServer({
    // the runtime exists once the kubelet started
    runtime: () => kubelet?.runtimeIfStarted,
    pods: {
      container: (ns, pod, c) => kubelet?.container(ns, pod, c),
      pods: () => kubelet?.pods() ?? [],
    },
    tls: { key: cfg.serving.key, cert: cfg.serving.cert, ca: cfg.caCert },
    bind: cfg.kubeletBind ?? "0.0.0.0",
    port: cfg.kubeletPort ?? 10250,
    nodeName: cfg.nodeName,
    rootDir: cfg.rootDir,
    volumeStats: (pods) => claims.volumeStats(pods),
  });
  const kubeletPort = await server.start();
  kubelet = new Kubelet({
    client: cfg.client,
    runtime: factory,
    rootDir: cfg.rootDir,
    volumes,
    node: {
      name: cfg.nodeName,
      ip: nodeIP,
      kubeletPort,
      labels: cfg.labels ?? {},
      annotations: { [ANN_LOCAL_PATH_ROOT]: localPathRoot },
      taints: cfg.taints ?? [],
      rootDir: cfg.rootDir,
      containerRuntimeVersion: `${factory.name}://${factory.name === "runc" ? "1.1" : "0.1.0"}`,
    },
    nodeManager: cfg.nodeUpdateMs ? { updateMs: cfg.nodeUpdateMs } : undefined,
    probes: factory.name !== "sim",
  });
  const k = kubelet;
  try {
    await k.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  localPath.start();
  log.info("node agent running", { node: cfg.nodeName, runtime: factory.name, kubeletPort });
  return {
    kubelets: [k],
    runtimeName: factory.name,
    stop: async (o) => {
      await localPath.stop();
      await server.stop();
      await k.stop(o);
    },
  };
}

/** One pod watch for a whole fleet, dispatched to each node's kubelet by spec.nodeName. */
class FleetPods {
  private readonly informer: Informer;
  private readonly byNode = new Map<string, InformerHandlers[]>();

  constructor(client: ApiClient) {
    this.informer = new Informer(client, resources.pods, { fieldSelector: "spec.nodeName!=" });
    const route = (pod: KObject) => {
      const spec = pod["spec"] as { nodeName?: string } | undefined;
      return this.byNode.get(spec?.nodeName ?? "") ?? [];
    };
    this.informer.addHandlers({
      onAdd: (p) => {
        for (const h of route(p)) h.onAdd?.(p);
      },
      onUpdate: (p, o) => {
        for (const h of route(p)) h.onUpdate?.(p, o);
      },
      onDelete: (p) => {
        for (const h of route(p)) h.onDelete?.(p);
      },
    });
  }

  feed(node: string): PodFeed {
    return {
      addHandlers: (h) => this.byNode.set(node, [...(this.byNode.get(node) ?? []), h]),
      list: () =>
        this.informer.list().filter((p) => (p["spec"] as { nodeName?: string } | undefined)?.nodeName === node),
    };
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): void {
    this.informer.stop();
  }
}

export interface SimFleetConfig {
  client: ApiClient;
  /** Nodes are named <prefix><i>, i from 0. */
  prefix: string;
  count: number;
  rootDir: string;
  /** Capacity of each node (KWOK's defaults: 32 CPUs, 256Gi, 110 pods). */
  capacity?: { cpu: string; memory: string; ephemeralStorage: string; pods: string };
  labels?: Record<string, string>;
  /** Nodes registered at once (default 50). */
  concurrency?: number;
}

/** `k8ts agent --sim-nodes N`: N simulated nodes in this process. */
export async function startSimFleet(cfg: SimFleetConfig): Promise<RunningAgent> {
  const pods = new FleetPods(cfg.client);
  const services = new Informer(cfg.client, resources.services);
  services.start();
  // one watch on the fleet's Nodes instead of a GET per node every 10 s
  const nodes = new Informer(cfg.client, resources.nodes, { labelSelector: "type=kwok" });
  nodes.start();
  const kubelets: Kubelet[] = [];
  // each simulated node offers k8ts.io/local-path volumes (directories are made only by real mounts)
  const localPaths: LocalPathNode[] = [];
  for (let i = 0; i < cfg.count; i++) {
    const name = `${cfg.prefix}${i}`;
    const localPathRoot = prepareLocalPathRoot(join(cfg.rootDir, name, "storage"));
    localPaths.push(new LocalPathNode({ client: cfg.client, nodeName: name, root: localPathRoot }));
    kubelets.push(
      new Kubelet({
        client: cfg.client,
        runtime: {
          needsPodCIDR: false,
          make: async (cidr, live) => new SimRuntime({ podCIDR: cidr ?? live, writeLogs: false }),
        },
        rootDir: join(cfg.rootDir, name),
        node: {
          name,
          ip: `10.${200 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
          kubeletPort: 10250,
          labels: { type: "kwok", "node.kubernetes.io/instance-type": "k8ts-sim", ...cfg.labels },
          annotations: { [ANN_LOCAL_PATH_ROOT]: localPathRoot },
          taints: [],
          rootDir: cfg.rootDir,
          containerRuntimeVersion: "sim://0.1.0",
          capacity: cfg.capacity ?? {
            cpu: "32",
            memory: `${256 * 1024 * 1024}Ki`,
            ephemeralStorage: `${1024 * 1024 * 1024}Ki`,
            pods: "110",
          },
          simulated: true,
        },
        pods: pods.feed(name),
        services: () => services.list(),
        nodeManager: { current: (n) => nodes.get(undefined, n) },
        probes: false,
        relistMs: 2000,
      }),
    );
  }
  await pods.start();
  const width = cfg.concurrency ?? 50;
  for (let i = 0; i < kubelets.length; i += width) {
    await Promise.all(kubelets.slice(i, i + width).map((k) => k.start()));
  }
  for (const l of localPaths) l.start();
  log.info("simulated nodes running", { count: cfg.count, prefix: cfg.prefix });
  return {
    kubelets,
    runtimeName: "sim",
    stop: async (o) => {
      pods.stop();
      services.stop();
      nodes.stop();
      await Promise.all(localPaths.map((l) => l.stop()));
      await Promise.all(kubelets.map((k) => k.stop(o)));
    },
  };
}
