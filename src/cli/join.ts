/**
 * Joining a cluster the way kubeadm does: read kube-public/cluster-info without trusting the
 * server yet, check that the CA it names hashes to the --ca-cert-hash the operator was given,
 * then talk to the server only over TLS verified against that CA. `k8ts token create` makes the
 * bootstrap token and prints the join command.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:https";
import { parse } from "yaml";
import { isRecord } from "../api/types.js";
import type { HttpsClient } from "../client/https.js";
import { caCertHash } from "../pki/index.js";

/** The cluster CA (PEM) from cluster-info, verified against `hash` ("sha256:<hex>"). */
export async function discoverCA(
  server: string,
  hash: string | undefined,
  unsafeSkipVerification = false,
): Promise<string> {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      new URL("/api/v1/namespaces/kube-public/configmaps/cluster-info", server),
      // the CA is not known yet: the pin below is what makes this safe
      { rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () =>
          res.statusCode === 200
            ? resolve(text)
            : reject(new Error(`cluster-info: HTTP ${res.statusCode}: ${text.trim()}`)),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${server} within 10 s`)));
    req.on("error", reject);
    req.end();
  });
  const cm = JSON.parse(body) as { data?: { kubeconfig?: string } };
  const kc = parse(cm.data?.kubeconfig ?? "") as unknown;
  const clusters = isRecord(kc) && Array.isArray(kc["clusters"]) ? kc["clusters"] : [];
  const first = clusters.find(isRecord);
  const cluster = first && isRecord(first["cluster"]) ? first["cluster"] : {};
  const data = typeof cluster["certificate-authority-data"] === "string" ? cluster["certificate-authority-data"] : "";
  if (data === "") throw new Error("the cluster-info ConfigMap does not hold a CA certificate");
  const ca = Buffer.from(data, "base64").toString("utf8");
  const actual = caCertHash(ca);
  if (hash === undefined) {
    if (unsafeSkipVerification) return ca;
    throw new Error(
      `refusing to trust the server's CA without --ca-cert-hash (its hash is ${actual}; pass --discovery-token-unsafe-skip-ca-verification to accept it unchecked)`,
    );
  }
  if (actual !== hash.toLowerCase()) {
    throw new Error(
      `cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${actual}" are pinned`,
    );
  }
  return ca;
}

/** A new bootstrap token Secret (kube-system/bootstrap-token-<id>); resolves with the token. */
export async function createBootstrapToken(
  client: HttpsClient,
  ttlSeconds: number,
  description: string,
): Promise<string> {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const pick = (n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
  const id = pick(6);
  const secret = pick(16);
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const data: Record<string, string> = {
    "token-id": b64(id),
    "token-secret": b64(secret),
    "usage-bootstrap-authentication": b64("true"),
    "usage-bootstrap-signing": b64("true"),
    "auth-extra-groups": b64("system:bootstrappers:kubeadm:default-node-token"),
    description: b64(description),
  };
  if (ttlSeconds > 0)
    data["expiration"] = b64(new Date(Date.now() + ttlSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"));
  await client.create({ group: "", version: "v1", plural: "secrets", namespaced: true }, "kube-system", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `bootstrap-token-${id}`, namespace: "kube-system" },
    type: "bootstrap.kubernetes.io/token",
    data,
  });
  return `${id}.${secret}`;
}

/** "24h", "30m", "0" (never expires) → seconds. */
export function parseTTL(s: string): number {
  const m = /^(\d+)(h|m|s)?$/.exec(s.trim());
  if (!m) throw new Error(`--ttl must be a duration such as 24h, 30m or 0, not "${s}"`);
  const n = Number(m[1]);
  return m[2] === "h" ? n * 3600 : m[2] === "m" ? n * 60 : n;
}
