/** The `k8ts` command line. */
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startServer } from "./server.js";
import { version } from "./version.js";

const USAGE = `k8ts ${version} — Kubernetes in TypeScript

Usage:
  k8ts server [--data-dir DIR] [--port PORT] [--bind ADDR] [--store sqlite|etcd|memory] [--etcd-endpoints URLS]
  k8ts version

server options:
  --data-dir DIR         store, certificates and kubeconfig (default ~/.k8ts)
  --port PORT            HTTPS port (default 6443; 0 picks a free port)
  --bind ADDR            listening address (default 127.0.0.1)
  --store BACKEND        sqlite (default), etcd, or memory (nothing kept)
  --etcd-endpoints URLS  comma-separated etcd client URLs (with --store etcd)
`;

async function server(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      bind: { type: "string" },
      store: { type: "string" },
      "etcd-endpoints": { type: "string" },
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
  const running = await startServer({
    dataDir: values["data-dir"] ?? join(homedir(), ".k8ts"),
    port,
    bind: values.bind ?? "127.0.0.1",
    storeBackend: backend,
    etcdEndpoints: (values["etcd-endpoints"] ?? "http://127.0.0.1:2379").split(",").filter((s) => s !== ""),
  });
  process.stdout.write(`k8ts is serving at ${running.url}\nexport KUBECONFIG=${running.kubeconfigPath}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void running.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "server":
      await server(rest);
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
