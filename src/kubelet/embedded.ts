/**
 * The node agent embedded in `k8ts server`, in a worker thread of the same process: it talks to
 * the API server over HTTPS as any node does, and its work (spawning runc, ip and mount, reading
 * mount tables, probes) runs on its own event loop, so the API server answers while pods start.
 *
 * The worker (./worker.ts) is restarted with back-off (1 s doubling to 30 s, back to 1 s after
 * 10 minutes of running) if it dies; a new
 * agent adopts the containers the last one left running. `stop()` asks it to stop (containers
 * keep running unless `killPods`) and waits for it.
 */
import { Worker } from "node:worker_threads";
import type { NfsExport } from "../api/storage.js";
import { log } from "../util/log.js";
import type { RuntimeChoice } from "./agent.js";

/** Everything the worker needs, all of it plain data (it crosses a thread boundary). */
export interface EmbeddedAgentConfig {
  /** The API server's URL, CA, and the node's client credential (system:node:<name>). */
  server: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  nodeName: string;
  nodeIP: string;
  serving: { cert: string; key: string };
  kubeletPort?: number;
  rootDir: string;
  runtime: RuntimeChoice;
  labels: Record<string, string>;
  maskedPaths: string[];
  nodeUpdateMs?: number;
  /** NFS exports available on this machine (bind-mounted instead of mounting NFS). */
  nfsExports?: NfsExport[];
}

export interface EmbeddedAgent {
  /** The runtime the agent chose (runc, process or sim). */
  runtimeName: string;
  /** Stops the agent; containers keep running for the next agent unless `killPods`. */
  stop(opts?: { killPods?: boolean }): Promise<void>;
}

/** Messages from the worker. */
export type FromWorker =
  | { type: "started"; runtimeName: string }
  | { type: "failed"; error: string }
  | { type: "stopped" };

/** Messages to the worker. */
export type ToWorker = { type: "stop"; killPods: boolean };

const WORKER_URL = new URL("./worker.js", import.meta.url);
const STOP_TIMEOUT_MS = 60_000;
/** An agent that ran this long before it died is restarted after 1 s again. */
const STABLE_MS = 10 * 60_000;

/** Starts the agent's worker; resolves once the agent runs (rejects with its error if it cannot start). */
export async function startEmbeddedAgent(cfg: EmbeddedAgentConfig): Promise<EmbeddedAgent> {
  let worker: Worker;
  let stopping = false;
  let restartDelay = 1000;
  let restartTimer: NodeJS.Timeout | undefined;
  let startedAt = 0;

  const launch = (): Promise<string> =>
    new Promise((resolve, reject) => {
      let started = false;
      // fds the runtimes open are handed to sockets and child processes, which close them: Node's
      // tracking of fs.open'ed fds in workers would see the numbers come back and warn
      worker = new Worker(WORKER_URL, { workerData: cfg, trackUnmanagedFds: false });
      const w = worker;
      w.on("message", (m: FromWorker) => {
        if (m.type === "started") {
          started = true;
          startedAt = Date.now();
          resolve(m.runtimeName);
        } else if (m.type === "failed" && !started) {
          stopping = true; // not restarted: the caller hears why it could not start
          void w.terminate();
          reject(new Error(m.error));
        }
      });
      w.on("error", (err) => {
        log.error("the embedded node agent failed", { error: String(err.stack ?? err) });
        if (!started) reject(err);
      });
      w.on("exit", (code) => {
        if (stopping || w !== worker) return;
        if (!started) {
          reject(new Error(`the embedded node agent's thread exited (code ${code}) before the node started`));
          return;
        }
        // a dead agent is started again; the new one adopts the running containers. The back-off
        // starts over only after an agent that ran for a while (as CrashLoopBackOff's 10 minutes).
        if (Date.now() - startedAt > STABLE_MS) restartDelay = 1000;
        log.warn("the embedded node agent stopped unexpectedly; starting it again", {
          code,
          inMs: restartDelay,
        });
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          launch().catch((e: unknown) =>
            log.error("the embedded node agent did not start again", { error: String(e) }),
          );
        }, restartDelay);
        restartDelay = Math.min(restartDelay * 2, 30_000);
      });
    });

  const runtimeName = await launch();
  return {
    runtimeName,
    stop: async (opts = {}) => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const w = worker;
      const exited = new Promise<void>((r) => {
        if (w.threadId === -1) r();
        else w.once("exit", () => r());
      });
      const stopped = new Promise<void>((r) => {
        w.on("message", (m: FromWorker) => {
          if (m.type === "stopped") r();
        });
      });
      w.postMessage({ type: "stop", killPods: opts.killPods ?? false } satisfies ToWorker);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => {
        timer = setTimeout(() => {
          log.warn("the embedded node agent did not stop in time; ending its thread");
          r();
        }, STOP_TIMEOUT_MS);
      });
      await Promise.race([stopped, exited, late]);
      if (timer) clearTimeout(timer);
      await w.terminate();
      await exited;
    },
  };
}
