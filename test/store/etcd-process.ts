import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's etcd-server puts the binary; override with K8TS_ETCD_BIN. */
export const ETCD_BIN = process.env["K8TS_ETCD_BIN"] ?? "/usr/bin/etcd";

/** Why etcd tests cannot run here, or undefined when they can. Use as a test's `skip` reason. */
export function etcdSkipReason(bin = ETCD_BIN): string | undefined {
  return existsSync(bin) ? undefined : "etcd not installed: apt-get install etcd-server";
}

export interface EtcdProcess {
  /** The client URL, e.g. http://127.0.0.1:41234. */
  endpoint: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  pid: number | undefined;
  /** Kills etcd (SIGKILL with `{ kill: true }`, else SIGTERM), waits for it to exit, removes its data dir. */
  stop(opts?: { kill?: boolean; keepData?: boolean }): Promise<void>;
}

export interface StartEtcdOptions {
  bin?: string;
  /** Member name. Default "k8ts-test". */
  name?: string;
  /** Reuse a data dir (e.g. to restart a member); default a fresh temporary one. */
  dataDir?: string;
  /** Fixed ports (e.g. to restart a member where clients expect it); default random free ones. */
  clientPort?: number;
  peerPort?: number;
  /** How long to wait for /health. Default 20 s. */
  readyTimeoutMs?: number;
}

/** A free loopback TCP port (bind to 0, read it back, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a single-member etcd on random loopback ports and waits until it reports healthy. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const bin = opts.bin ?? ETCD_BIN;
  const name = opts.name ?? "k8ts-test";
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "k8ts-etcd-"));
  const clientPort = opts.clientPort ?? (await freePort());
  const peerPort = opts.peerPort ?? (await freePort());
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let log = "";
  const child: ChildProcess = spawn(
    bin,
    [
      "--name",
      name,
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      endpoint,
      "--advertise-client-urls",
      endpoint,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      `${name}=${peer}`,
      "--log-level",
      "error",
      "--logger",
      "zap",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (s: { kill?: boolean; keepData?: boolean } = {}): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(s.kill ? "SIGKILL" : "SIGTERM");
      await exited;
    }
    if (!s.keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`etcd exited before it was ready:\n${log}`);
    }
    try {
      const res = await fetch(`${endpoint}/health`);
      const body = (await res.json()) as { health?: string };
      if (body.health === "true") break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, clientPort, peerPort, dataDir, pid: child.pid, stop };
}
