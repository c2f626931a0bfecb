/**
 * The embedded node agent's worker thread (see ./embedded.ts): connects to the API server over
 * HTTPS with the node's credential, runs the agent, and stops it when asked. It never calls
 * process.exit: the thread ends when its parent terminates it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { HttpsClient } from "../client/https.js";
import { log } from "../util/log.js";
import { type RunningAgent, startAgent } from "./agent.js";
import type { EmbeddedAgentConfig, FromWorker, ToWorker } from "./embedded.js";

const port = parentPort;
if (!port) throw new Error("the node agent worker runs only as a worker thread");
const cfg = workerData as EmbeddedAgentConfig;
const send = (m: FromWorker) => port.postMessage(m);

const client = new HttpsClient({
  server: cfg.server,
  ca: cfg.caCert,
  cert: cfg.clientCert,
  key: cfg.clientKey,
  userAgent: `kubelet/${cfg.nodeName}`,
});
let agent: RunningAgent | undefined;
let stopRequest: ToWorker | undefined;

const stop = async (m: ToWorker) => {
  try {
    await agent?.stop({ killPods: m.killPods });
  } catch (err) {
    log.warn("the node agent did not stop cleanly", { error: String(err) });
  }
  client.close();
  send({ type: "stopped" });
  port.close();
};

port.on("message", (m: ToWorker) => {
  if (m.type !== "stop") return;
  if (agent) void stop(m);
  else stopRequest = m; // asked to stop while starting: stop once started
});

try {
  agent = await startAgent({
    client,
    nodeName: cfg.nodeName,
    nodeIP: cfg.nodeIP,
    serving: cfg.serving,
    caCert: cfg.caCert,
    kubeletPort: cfg.kubeletPort,
    rootDir: cfg.rootDir,
    runtime: cfg.runtime,
    labels: cfg.labels,
    maskedPaths: cfg.maskedPaths,
    nodeUpdateMs: cfg.nodeUpdateMs,
    nfsExports: cfg.nfsExports,
  });
  send({ type: "started", runtimeName: agent.runtimeName });
  if (stopRequest) await stop(stopRequest);
} catch (err) {
  client.close();
  send({ type: "failed", error: err instanceof Error ? err.message : String(err) });
  port.close();
}
