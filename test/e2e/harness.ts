/**
 * Black-box test harness: a k8ts server on a random port with a temporary data dir, and the real
 * kubectl pointed at it through the kubeconfig the server wrote.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, startServer } from "../../src/cli/server.js";

export interface TestCluster {
  server: RunningServer;
  dataDir: string;
  kubeconfig: string;
  /** Runs kubectl; resolves with its exit code and output (never rejects on a non-zero exit). */
  /** `bin` runs another kubectl binary (e.g. the legacy 1.20 one). */
  kubectl(args: string[], opts?: { stdin?: string; timeoutMs?: number; bin?: string }): Promise<KubectlResult>;
  /** Stops the server; the data dir is removed unless `keepData` (for a restart on it). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The kubectl binary to use: $KUBECTL, or the one on PATH. */
export function kubectlBinary(): string | undefined {
  const fromEnv = process.env["KUBECTL"];
  if (fromEnv) return fromEnv;
  const r = spawnSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export async function startCluster(
  opts: {
    store?: "sqlite" | "memory" | "etcd";
    etcdEndpoints?: string[];
    watchCacheWindow?: number;
    /** Run the embedded node agent with this runtime (default: no node). */
    agent?: "process" | "sim" | "runc";
    /** Reuse a data dir (a restart); default a new temporary one. */
    dataDir?: string;
    /** Node monitor grace period, ms (default 40 s). */
    nodeMonitorGracePeriodMs?: number;
    /** The built-in scheduler (default on). */
    scheduler?: boolean;
    /** Which controllers run (kube-controller-manager's --controllers; default all). */
    controllers?: string[];
    /** The default StorageClass `standard` at first start (default true, as `k8ts server`). */
    defaultStorageClass?: boolean;
    /** NFS exports available on this machine (--nfs-export). */
    nfsExports?: Array<{ server: string; path: string; root: string }>;
  } = {},
): Promise<TestCluster> {
  process.env["K8TS_LOG"] ??= "error";
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "k8ts-e2e-"));
  const server = await startServer({
    dataDir,
    port: 0,
    bind: "127.0.0.1",
    storeBackend: opts.store ?? "sqlite",
    etcdEndpoints: opts.etcdEndpoints ?? [],
    watchCacheWindow: opts.watchCacheWindow,
    nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs,
    scheduler: opts.scheduler,
    controllers: opts.controllers,
    defaultStorageClass: opts.defaultStorageClass,
    nfsExports: opts.nfsExports,
    agent: opts.agent ? { runtime: opts.agent, nodeName: "k8ts-node", nodeUpdateMs: 2000, kubeletPort: 0 } : false,
  });
  const bin = kubectlBinary() ?? "kubectl";
  const kubeconfig = server.kubeconfigPath;
  return {
    server,
    dataDir,
    kubeconfig,
    kubectl(args, o = {}) {
      return new Promise((resolve) => {
        const child = spawn(o.bin ?? bin, args, {
          env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dataDir },
          stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
        });
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 30_000);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
        child.stdin.end(o.stdin ?? "");
      });
    },
    async stop(o = {}) {
      await server.stop({ killPods: !o.keepData });
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's kubectl 1.20 (client-go 1.20: protobuf /openapi/v2, no aggregated discovery), if .ci/run unpacked it. */
export function legacyKubectlBinary(): string | undefined {
  const candidates = [
    process.env["KUBECTL_LEGACY"],
    new URL("../../../.ci/cache/kubectl-1.20/usr/bin/kubectl", import.meta.url).pathname,
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return undefined;
}

/** Splits `kubectl get` output into header cells (columns separated by 2+ spaces, as kubectl aligns them). */
export function headerOf(output: string): string[] {
  const first = output.split("\n")[0] ?? "";
  return first.trim().split(/\s{2,}/);
}
