/**
 * A raw HTTPS client for tests and benchmarks, authenticated with the admin client certificate
 * of a kubeconfig (keep-alive agent; JSON bodies).
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import YAML from "yaml";

export interface Client {
  /** Sends `body` as JSON (objects) or as is (strings/Buffers, with the given content type). */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ code: number; body: string; headers: Record<string, string | string[] | undefined> }>;
  agent: Agent;
  base: URL;
}

export function clientFor(kubeconfigPath: string): Client {
  const kc = YAML.parse(readFileSync(kubeconfigPath, "utf8")) as {
    clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
    users: Array<{ user: { "client-certificate-data": string; "client-key-data": string } }>;
  };
  const cluster = kc.clusters[0]!.cluster;
  const user = kc.users[0]!.user;
  const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 64,
    ca: b64(cluster["certificate-authority-data"]),
    cert: b64(user["client-certificate-data"]),
    key: b64(user["client-key-data"]),
  });
  const base = new URL(cluster.server);
  return {
    agent,
    base,
    call(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const data =
          body === undefined
            ? undefined
            : typeof body === "string" || Buffer.isBuffer(body)
              ? body
              : JSON.stringify(body);
        const req = request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method,
            path,
            headers: data
              ? { "content-type": "application/json", "content-length": Buffer.byteLength(data), ...headers }
              : headers,
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => {
              text += d;
            });
            res.on("end", () => resolve({ code: res.statusCode ?? 0, body: text, headers: res.headers }));
          },
        );
        req.on("error", reject);
        req.end(data);
      });
    },
  };
}
