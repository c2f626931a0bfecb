/**
 * The `k8ts` command line. Each command loads what it needs when it runs (start-up time: the
 * server must not wait for the node agent's or the YAML codec's modules).
 */
import { readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isRecord } from "../api/types.js";
import type { HttpsClient } from "../client/https.js";
import type { RuntimeChoice } from "../kubelet/agent.js";
import { version } from "./version.js";

const USAGE = `k8ts ${version} — Kubernetes in TypeScript

Usage:
  k8ts server [--data-dir DIR] [--port PORT] [--bind ADDR] [--store sqlite|etcd|memory] [--etcd-endpoints URLS]
              [--runtime auto|runc|process|sim] [--disable-agent] [--node-name NAME] [--controllers LIST]
              [--nfs-export SERVER:PATH=DIR ...] [--no-default-storage-class]
  k8ts agent --server URL --token TOKEN --ca-cert-hash sha256:HASH [--name NAME] [--root-dir DIR]
             [--runtime auto|runc|process|sim] [--node-ip IP] [--kubelet-port PORT] [--sim-nodes N]
             [--nfs-export SERVER:PATH=DIR ...]
  k8ts token create [--data-dir DIR] [--ttl 24h] [--server URL]
  k8ts version

server options:
  --data-dir DIR         store, certificates, kubeconfig and the embedded node's pods (default ~/.k8ts)
  --port PORT            HTTPS port (default 6443; 0 picks a free port)
  --bind ADDR            listening address (default 127.0.0.1; 0.0.0.0 lets other nodes join)
  --store BACKEND        sqlite (default), etcd, or memory (nothing kept)
  --etcd-endpoints URLS  comma-separated etcd client URLs (with --store etcd)
  --runtime RUNTIME      the embedded node's container runtime (default auto: runc when it can run
                         here, else host processes)
  --disable-agent        no embedded node (a control plane only)
  --node-name NAME       the embedded node's name (default the host name)
  --controllers LIST     controllers to run, as kube-controller-manager's flag: '*' all (default),
                         'name' one, '-name' all but it (e.g. '*,-deployment')
  --nfs-export SERVER:PATH=DIR
                         the NFS export SERVER:PATH is mounted (or stands) at DIR on this machine:
                         the built-in k8s-sigs.io/nfs-subdir-external-provisioner makes its volumes
                         there (the first export given), recycling scrubs through it, and the
                         embedded node bind-mounts from it instead of mounting NFS (repeatable)
  --no-default-storage-class
                         do not create the default StorageClass 'standard' (k8ts.io/local-path)
                         at the first start

agent options:
  --server URL           the API server (https://host:port)
  --token TOKEN          a bootstrap token from 'k8ts token create'
  --ca-cert-hash HASH    the cluster CA's public key hash printed by 'k8ts token create'
  --name NAME            node name (default the host name)
  --root-dir DIR         pods, volumes, logs and runtime state (default ~/.k8ts-agent)
  --sim-nodes N          run N simulated nodes (no processes) named <name>-<i>
  --nfs-export SERVER:PATH=DIR
                         nfs volumes of that export are bind-mounted from DIR (where it is mounted
                         on this machine) instead of mounting NFS (repeatable)
`;

function runtimeOf(v: string | undefined): RuntimeChoice {
  const r = v ?? "auto";
  if (r !== "auto" && r !== "runc" && r !== "process" && r !== "sim") {
    throw new Error(`--runtime must be auto, runc, process or sim, not "${r}"`);
  }
  return r;
}

/** `SERVER:PATH=DIR` of --nfs-export. */
export function parseNfsExport(v: string): { server: string; path: string; root: string } {
  const m = /^([^:=]+):(\/[^=]*)=(\/.*)$/.exec(v);
  if (!m) throw new Error(`--nfs-export must be SERVER:/EXPORT/PATH=/LOCAL/DIR, not "${v}"`);
  return { server: m[1]!, path: m[2]!, root: m[3]! };
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().then(() => process.exit(0));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

async function server(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      bind: { type: "string" },
      store: { type: "string" },
      "etcd-endpoints": { type: "string" },
      runtime: { type: "string" },
      "disable-agent": { type: "boolean" },
      "node-name": { type: "string" },
      controllers: { type: "string" },
      "nfs-export": { type: "string", multiple: true },
      "no-default-storage-class": { type: "boolean" },
    },
    strict: true,
  });
  const backend = values.store ?? "sqlite";
  if (backend !== "sqlite" && backend !== "etcd" && backend !== "memory") {
    throw new Error(`--store must be sqlite, etcd or memory, not "${backend}"`);
  }
  const port = Number(values.port ?? "6443");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number, not "${values.port}"`);
  const { startServer } = await import("./server.js");
  const running = await startServer({
    dataDir: values["data-dir"] ?? join(homedir(), ".k8ts"),
    port,
    bind: values.bind ?? "127.0.0.1",
    storeBackend: backend,
    etcdEndpoints: (values["etcd-endpoints"] ?? "http://127.0.0.1:2379").split(",").filter((s) => s !== ""),
    agent: values["disable-agent"] ? false : { runtime: runtimeOf(values.runtime), nodeName: values["node-name"] },
    controllers: (values.controllers ?? "*").split(",").filter((s) => s !== ""),
    nfsExports: (values["nfs-export"] ?? []).map(parseNfsExport),
    defaultStorageClass: values["no-default-storage-class"] !== true,
  });
  process.stdout.write(`k8ts is serving at ${running.url}\nexport KUBECONFIG=${running.kubeconfigPath}\n`);
  onSignals(running.stop);
}

async function agent(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      "ca-cert-hash": { type: "string" },
      "discovery-token-unsafe-skip-ca-verification": { type: "boolean" },
      name: { type: "string" },
      "root-dir": { type: "string" },
      runtime: { type: "string" },
      "node-ip": { type: "string" },
      "sim-nodes": { type: "string" },
      "kubelet-port": { type: "string" },
      "nfs-export": { type: "string", multiple: true },
    },
    strict: true,
  });
  if (!values.server) throw new Error("--server is required (https://host:port of the API server)");
  if (!values.token) throw new Error("--token is required (make one with 'k8ts token create' on the server)");
  const { discoverCA } = await import("./join.js");
  const { HttpsClient } = await import("../client/https.js");
  const { startAgent, startSimFleet } = await import("../kubelet/agent.js");
  const { defaultNodeIP } = await import("../kubelet/node.js");
  const { selfSignedServingCert } = await import("../pki/index.js");
  const ca = await discoverCA(
    values.server,
    values["ca-cert-hash"],
    values["discovery-token-unsafe-skip-ca-verification"] === true,
  );
  const name = (values.name ?? hostname()).toLowerCase();
  const client = new HttpsClient({ server: values.server, ca, token: values.token, userAgent: `kubelet/${name}` });
  // the credentials work: fail now with the server's words rather than inside the kubelet
  const probe = await client.raw("GET", "/api/v1/namespaces/default");
  if (probe.code === 401)
    throw new Error("the server refused the bootstrap token (401 Unauthorized): expired or unknown?");
  const rootDir = values["root-dir"] ?? join(homedir(), ".k8ts-agent");
  const sims = values["sim-nodes"] === undefined ? 0 : Number(values["sim-nodes"]);
  if (!Number.isInteger(sims) || sims < 0) throw new Error(`--sim-nodes must be a count, not "${values["sim-nodes"]}"`);
  const running =
    sims > 0
      ? await startSimFleet({ client, prefix: `${values.name ?? "sim-node"}-`, count: sims, rootDir })
      : await startAgent({
          client,
          nodeName: name,
          nodeIP: values["node-ip"] ?? defaultNodeIP(),
          // the API server does not verify kubelet serving certificates by default (as upstream)
          serving: await selfSignedServingCert(name, [values["node-ip"] ?? defaultNodeIP(), name]),
          caCert: ca,
          kubeletPort: values["kubelet-port"] === undefined ? 10250 : Number(values["kubelet-port"]),
          rootDir,
          runtime: runtimeOf(values.runtime),
          maskedPaths: [rootDir],
          nfsExports: (values["nfs-export"] ?? []).map(parseNfsExport),
        });
  process.stdout.write(
    sims > 0
      ? `k8ts agent: ${sims} simulated nodes joined ${values.server}\n`
      : `k8ts agent: node ${name} joined ${values.server} (runtime ${running.runtimeName})\n`,
  );
  onSignals(async () => {
    await running.stop();
    client.close();
  });
}

/** The admin credentials `k8ts server` wrote into <data-dir>/kubeconfig.yaml. */
async function adminClient(dataDir: string): Promise<{ client: HttpsClient; server: string; ca: string }> {
  const { parse } = await import("yaml");
  const { HttpsClient } = await import("../client/https.js");
  const kc = parse(readFileSync(join(dataDir, "kubeconfig.yaml"), "utf8")) as unknown;
  const first = (key: string, inner: string): Record<string, unknown> => {
    const list = isRecord(kc) && Array.isArray(kc[key]) ? kc[key] : [];
    const item = list.find(isRecord);
    return item && isRecord(item[inner]) ? item[inner] : {};
  };
  const cluster = first("clusters", "cluster");
  const user = first("users", "user");
  const b64 = (v: unknown) => Buffer.from(String(v ?? ""), "base64").toString("utf8");
  const server = String(cluster["server"] ?? "");
  const ca = b64(cluster["certificate-authority-data"]);
  return {
    client: new HttpsClient({
      server,
      ca,
      cert: b64(user["client-certificate-data"]),
      key: b64(user["client-key-data"]),
    }),
    server,
    ca,
  };
}

async function token(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== "create") throw new Error(`usage: k8ts token create [--data-dir DIR] [--ttl 24h]`);
  const { values } = parseArgs({
    args: rest,
    options: {
      "data-dir": { type: "string" },
      ttl: { type: "string" },
      description: { type: "string" },
      server: { type: "string" },
    },
    strict: true,
  });
  const dataDir = values["data-dir"] ?? join(homedir(), ".k8ts");
  const { client, server, ca } = await adminClient(dataDir);
  const { createBootstrapToken, parseTTL } = await import("./join.js");
  const { caCertHash } = await import("../pki/index.js");
  const { defaultNodeIP } = await import("../kubelet/node.js");
  try {
    const t = await createBootstrapToken(
      client,
      parseTTL(values.ttl ?? "24h"),
      values.description ?? "k8ts agent join",
    );
    const url = new URL(values.server ?? server);
    process.stdout.write(`k8ts agent --server ${url.origin} --token ${t} --ca-cert-hash ${caCertHash(ca)}\n`);
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") {
      process.stderr.write(
        `note: ${url.hostname} is only reachable from this machine; for other machines start the server with --bind 0.0.0.0 and use --server https://${defaultNodeIP()}:${url.port}\n`,
      );
    }
  } finally {
    client.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "server":
      await server(rest);
      return;
    case "agent":
      await agent(rest);
      return;
    case "token":
      await token(rest);
      return;
    case "version":
    case "--version":
      process.stdout.write(`k8ts ${version}\n`);
      return;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`unknown command "${cmd}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}
