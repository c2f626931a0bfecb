/**
 * `k8ts server`: opens the store, makes the PKI and kubeconfig on first start, starts the API
 * server and the built-in controllers, and prints how to point kubectl at it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LOCAL_PATH_PROVISIONER } from "../api/storage.js";
import { defaultAdmissionOptions, firstServiceIP } from "../apiserver/admission.js";
import { ApiServer, type User } from "../apiserver/server.js";
import { LocalClient } from "../controllers/client.js";
import { CrdController } from "../controllers/crd/index.js";
import { CronJobController } from "../controllers/cronjob/index.js";
import { DaemonSetController } from "../controllers/daemonset/index.js";
import { DeploymentController } from "../controllers/deployment/index.js";
import { DisruptionController } from "../controllers/disruption/index.js";
import { EventTTLController } from "../controllers/eventttl/index.js";
import { GarbageCollector } from "../controllers/garbagecollector/index.js";
import { JobController } from "../controllers/job/index.js";
import { LeaderElector } from "../controllers/leaderelection.js";
import { NamespaceController } from "../controllers/namespace/index.js";
import { NodeIpamController } from "../controllers/nodeipam/index.js";
import { NodeLifecycleController } from "../controllers/nodelifecycle/index.js";
import { ReplicaSetController } from "../controllers/replicaset/index.js";
import { ResourceQuotaController } from "../controllers/resourcequota/index.js";
import { RootCACertPublisher } from "../controllers/rootcacert/index.js";
import { ServiceAccountController } from "../controllers/serviceaccount/index.js";
import { StatefulSetController } from "../controllers/statefulset/index.js";
import { TTLAfterFinishedController } from "../controllers/ttlafterfinished/index.js";
import { ExpandController } from "../controllers/volume/expand.js";
import { LocalPathProvisioner } from "../controllers/volume/localpath/index.js";
import { NfsProvisioner } from "../controllers/volume/nfs/index.js";
import { PersistentVolumeController } from "../controllers/volume/persistentvolume/index.js";
import type { NfsExport } from "../controllers/volume/persistentvolume/reclaim.js";
import { PvcProtectionController, PvProtectionController } from "../controllers/volume/protection.js";
import { ProvisionController } from "../controllers/volume/provisioner/index.js";
import type { RuntimeChoice } from "../kubelet/agent.js";
import type { EmbeddedAgent } from "../kubelet/embedded.js";
import { defaultSans, ensurePki, ensureServiceAccountKey, kubeconfig } from "../pki/index.js";
import { openStore } from "../store/index.js";
import type { Store } from "../store/types.js";
import { log } from "../util/log.js";

export interface ServerConfig {
  /** Where the store, certificates and kubeconfig live. */
  dataDir: string;
  /** Listening port (0 = any free port). Default 6443. */
  port: number;
  /** Listening address. Default 127.0.0.1. */
  bind: string;
  /** "sqlite" (default), "etcd" or "memory". */
  storeBackend: "sqlite" | "etcd" | "memory";
  etcdEndpoints: string[];
  /** Recent events kept per resource for resuming watches (default 10000; tests make it small). */
  watchCacheWindow?: number;
  /** Run the built-in scheduler (default true; tests that drive their own Scheduler turn it off). */
  scheduler?: boolean;
  /** Which controllers run, as kube-controller-manager's --controllers (default ["*"]). */
  controllers?: string[];
  /** How long a node may miss heartbeats before it is NotReady (Unknown), ms (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** NFS exports reachable on this machine (mounted, or directories standing in for them): recycling, the NFS provisioner, the embedded node's mounts. */
  nfsExports?: NfsExport[];
  /** Create the default StorageClass `standard` (k8ts.io/local-path) at first start (default true). */
  defaultStorageClass?: boolean;
  /** The embedded node agent: its runtime, or false for none (default: none; `k8ts server` runs one). */
  agent?: { runtime: RuntimeChoice; nodeName?: string; nodeUpdateMs?: number; kubeletPort?: number } | false;
}

export interface RunningServer {
  api: ApiServer;
  store: Store;
  kubeconfigPath: string;
  url: string;
  elector: LeaderElector;
  /** The embedded node, once started (undefined: none, or it could not start: the log says why). */
  agent: Promise<EmbeddedAgent | undefined>;
  /** Stops everything; the embedded node's containers keep running unless `killPods`. */
  stop(opts?: { killPods?: boolean }): Promise<void>;
}

interface Controller {
  start(): void;
  stop(): void;
}

/**
 * kube-controller-manager's --controllers rule: `name` runs it, `-name` does not, `*` runs every
 * controller not named with a minus.
 */
export function controllerEnabled(name: string, list: readonly string[]): boolean {
  if (list.includes(`-${name}`)) return false;
  return list.includes(name) || list.includes("*");
}

/** A controller whose module loads when it first starts (the scheduler: not on the start-up path). */
function lazyController(make: () => Promise<Controller>): Controller {
  let made: Promise<Controller> | undefined;
  let wanted = false;
  return {
    start() {
      wanted = true;
      made ??= make();
      void made.then((c) => {
        if (wanted) c.start();
      });
    },
    stop() {
      wanted = false;
      void made?.then((c) => c.stop());
    },
  };
}

/** Reads `<data-dir>/tokens.csv` (token,user,uid,"group1,group2"), creating it with an admin token. */
function loadTokens(dataDir: string): Map<string, User> {
  const path = join(dataDir, "tokens.csv");
  if (!existsSync(path)) {
    writeFileSync(path, `${randomBytes(24).toString("hex")},admin,admin,"system:masters"\n`, { mode: 0o600 });
  }
  const tokens = new Map<string, User>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^([^,]+),([^,]+),([^,]*)(?:,"?([^"]*)"?)?$/.exec(line.trim());
    if (!m) continue;
    const groups = (m[4] ?? "").split(",").filter((g) => g !== "");
    tokens.set(m[1]!, { name: m[2]!, groups: [...groups, "system:authenticated"] });
  }
  return tokens;
}

export async function startServer(cfg: ServerConfig): Promise<RunningServer> {
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const serviceIP = firstServiceIP(defaultAdmissionOptions.serviceCIDR);
  const pki = await ensurePki(join(cfg.dataDir, "tls"), defaultSans(cfg.bind, serviceIP));
  mkdirSync(join(cfg.dataDir, "db"), { recursive: true, mode: 0o700 });
  const store = await openStore({
    backend: cfg.storeBackend,
    dataDir: join(cfg.dataDir, "db"),
    etcdEndpoints: cfg.etcdEndpoints,
  });
  // the store holds Secrets: only the server's user may read it (its folder is 0700 as well)
  for (const f of ["state.db", "state.db-wal", "state.db-shm"]) {
    const path = join(cfg.dataDir, "db", f);
    if (existsSync(path)) chmodSync(path, 0o600);
  }
  const api = new ApiServer({
    store,
    tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
    tokens: loadTokens(cfg.dataDir),
    serviceAccountKey: ensureServiceAccountKey(join(cfg.dataDir, "tls")),
    kubeletClient: { cert: pki.kubeletClientCert, key: pki.kubeletClientKey },
    bind: cfg.bind,
    port: cfg.port,
    watchCacheWindow: cfg.watchCacheWindow,
  });
  await api.start();
  const host = cfg.bind === "0.0.0.0" || cfg.bind === "::" ? "127.0.0.1" : cfg.bind;
  const url = `https://${host.includes(":") ? `[${host}]` : host}:${api.port}`;
  const client = new LocalClient(api.catalog, api.registry);
  // kube-controller-manager's names, for --controllers
  const localPath = new LocalPathProvisioner(client);
  const nfs = cfg.nfsExports?.[0];
  const named: Array<[string, Controller]> = [
    ["customresourcedefinition", new CrdController(client)],
    ["namespace", new NamespaceController(client)],
    ["serviceaccount", new ServiceAccountController(client)],
    ["root-ca-cert-publisher", new RootCACertPublisher(client, pki.caCert)],
    ["event-ttl", new EventTTLController(client)],
    ["resourcequota", new ResourceQuotaController(client)],
    ["nodeipam", new NodeIpamController(client)],
    ...(cfg.scheduler === false
      ? []
      : [
          [
            "scheduler",
            lazyController(async () => {
              const m = await import("../scheduler/index.js");
              return new m.Scheduler(client, { volumeBinding: m.claimBinding(client) });
            }),
          ] as [string, Controller],
        ]),
    ["nodelifecycle", new NodeLifecycleController(client, { gracePeriodMs: cfg.nodeMonitorGracePeriodMs })],
    ["disruption", new DisruptionController(client)],
    ["replicaset", new ReplicaSetController(client)],
    ["deployment", new DeploymentController(client)],
    ["daemonset", new DaemonSetController(client)],
    ["statefulset", new StatefulSetController(client)],
    ["garbagecollector", new GarbageCollector(client)],
    ["job", new JobController(client)],
    ["ttl-after-finished", new TTLAfterFinishedController(client)],
    ["cronjob", new CronJobController(client)],
    [
      "persistentvolume-binder",
      new PersistentVolumeController(client, {
        nfsExports: cfg.nfsExports,
        protectedPaths: [cfg.dataDir],
      }),
    ],
    ["pvc-protection", new PvcProtectionController(client)],
    ["pv-protection", new PvProtectionController(client)],
    [
      "persistentvolume-expander",
      new ExpandController(client, [
        {
          provisioner: LOCAL_PATH_PROVISIONER,
          expand: async (pv, bytes) => {
            const a = await localPath.canGrow(pv, bytes);
            return a.fits ? undefined : a.message;
          },
        },
      ]),
    ],
    // the built-in provisioners (not kube-controller-manager's; external ones speak the same protocol)
    ["local-path-provisioner", new ProvisionController(client, localPath)],
    ...(nfs
      ? [["nfs-subdir-provisioner", new ProvisionController(client, new NfsProvisioner(nfs))] as [string, Controller]]
      : []),
  ];
  const controllers = named.filter(([n]) => controllerEnabled(n, cfg.controllers ?? ["*"])).map(([, c]) => c);

  await import("./bootstrap.js").then((m) =>
    m.bootstrap(client, {
      serviceIP,
      advertiseIP: host,
      port: api.port,
      caCert: pki.caCert,
      url,
      defaultStorageClass: cfg.defaultStorageClass !== false,
    }),
  );
  // Several servers may share an etcd store: the one holding the lease runs the controllers.
  let running = false;
  const elector = new LeaderElector(client, {
    identity: `${hostname()}_${randomUUID()}`,
    onStartedLeading: () => {
      if (running) return;
      running = true;
      for (const c of controllers) c.start();
    },
    onStoppedLeading: () => {
      if (!running) return;
      running = false;
      for (const c of controllers) c.stop();
    },
  });
  elector.start();
  const kubeconfigPath = join(cfg.dataDir, "kubeconfig.yaml");
  writeFileSync(kubeconfigPath, kubeconfig(url, pki, { cert: pki.adminCert, key: pki.adminKey }), { mode: 0o600 });
  api.markReady();
  // the embedded node starts once the API answers (kubectl works meanwhile; the node shows up a moment later)
  const agent: Promise<EmbeddedAgent | undefined> = cfg.agent
    ? (async (a) => {
        const nodeName = a.nodeName ?? hostname().toLowerCase();
        const { startEmbeddedAgent } = await import("../kubelet/embedded.js");
        const { defaultNodeIP } = await import("../kubelet/node.js");
        const nodeIP = defaultNodeIP();
        // a kubelet talking to this server over HTTPS as system:node:<name>, its API served with a CA-signed certificate
        const cred = await pki.issueOnce(`node-${nodeName}-client`, `system:node:${nodeName}`, ["system:nodes"]);
        const serving = await pki.issueOnce(
          `node-${nodeName}-serving`,
          nodeName,
          [],
          [nodeIP, nodeName, "127.0.0.1", "localhost"],
        );
        return startEmbeddedAgent({
          server: url,
          clientCert: cred.cert,
          clientKey: cred.key,
          nodeName,
          nodeIP,
          serving,
          caCert: pki.caCert,
          kubeletPort: a.kubeletPort,
          rootDir: cfg.dataDir,
          runtime: a.runtime,
          labels: {
            "node-role.kubernetes.io/control-plane": "",
            "node.kubernetes.io/exclude-from-external-load-balancers": "",
          },
          maskedPaths: [
            join(cfg.dataDir, "db"),
            join(cfg.dataDir, "tls"),
            join(cfg.dataDir, "tokens.csv"),
            join(cfg.dataDir, "kubeconfig.yaml"),
          ],
          nodeUpdateMs: a.nodeUpdateMs,
          nfsExports: cfg.nfsExports,
        });
      })(cfg.agent).catch((err: unknown) => {
        log.error("the embedded node could not start: this server runs a control plane only", { error: String(err) });
        return undefined;
      })
    : Promise.resolve(undefined);
  log.info("k8ts server ready", { url, store: store.backend, dataDir: cfg.dataDir });
  return {
    api,
    store,
    kubeconfigPath,
    url,
    elector,
    agent,
    stop: async (o = {}) => {
      await (await agent)?.stop(o);
      await elector.stop();
      await api.stop();
      await store.close();
    },
  };
}
