/**
 * Helpers shared by the black-box tests: fixture paths, the headers upstream kubectl prints, a
 * semantic "the server kept what I sent" comparison, and raw HTTPS requests with the admin
 * client certificate from the kubeconfig the server wrote.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { isRecord } from "../../src/api/types.js";
import { type KubectlResult, kubectlBinary, startCluster, type TestCluster } from "./harness.js";

/** The repository root (this file compiles to <out>/test/e2e/support.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURES = join(REPO_ROOT, "test", "fixtures");

/** Why a kubectl-driven suite is skipped, or false when kubectl is there. */
export function kubectlSkip(): string | false {
  return kubectlBinary() === undefined ? "kubectl not found (set $KUBECTL or put it on PATH)" : false;
}

/**
 * Header cells kubectl 1.32 prints for each kind against a 1.36 server (server-side Table columns of
 * priority 0, upper-cased by kubectl), from pkg/printers/internalversion/printers.go.
 */
export const HEADERS: Record<string, string[]> = {
  Namespace: ["NAME", "STATUS", "AGE"],
  Pod: ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
  PersistentVolume: [
    "NAME",
    "CAPACITY",
    "ACCESS MODES",
    "RECLAIM POLICY",
    "STATUS",
    "CLAIM",
    "STORAGECLASS",
    "VOLUMEATTRIBUTESCLASS",
    "REASON",
    "AGE",
  ],
  PersistentVolumeClaim: [
    "NAME",
    "STATUS",
    "VOLUME",
    "CAPACITY",
    "ACCESS MODES",
    "STORAGECLASS",
    "VOLUMEATTRIBUTESCLASS",
    "AGE",
  ],
  StorageClass: ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
  DaemonSet: ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
  Deployment: ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
  StatefulSet: ["NAME", "READY", "AGE"],
  ReplicaSet: ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
  Service: ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
  ServiceAccount: ["NAME", "SECRETS", "AGE"],
  Secret: ["NAME", "TYPE", "DATA", "AGE"],
  ConfigMap: ["NAME", "DATA", "AGE"],
  Job: ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
  CronJob: ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"],
  ResourceQuota: ["NAME", "REQUEST", "LIMIT", "AGE"],
  HorizontalPodAutoscaler: ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
};

/** A kubectl result rendered for assertion messages. */
export function show(r: KubectlResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Objects of a `kubectl ... -o json` output: one object, a List, or several objects one after another. */
export function objectsOf(json: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const text of splitJsonStream(json)) {
    const v: unknown = JSON.parse(text);
    if (!isRecord(v)) continue;
    if (v["kind"] === "List" && Array.isArray(v["items"])) out.push(...v["items"].filter(isRecord));
    else out.push(v);
  }
  return out;
}

/** Top-level JSON values written back to back (kubectl prints one per object). */
function splitJsonStream(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) values.push(text.slice(start, i + 1));
    }
  }
  return values;
}

export function parseYaml(text: string): Record<string, unknown> {
  const v: unknown = parse(text);
  if (!isRecord(v)) throw new Error(`not a YAML object:\n${text}`);
  return v;
}

export function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a resource quantity ("200m", "1Gi", 0.2), or undefined. */
export function quantityValue(q: unknown): number | undefined {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return undefined;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q);
  if (!m) return undefined;
  const mult = SUFFIX[m[2] ?? ""];
  return mult === undefined ? undefined : Number(m[1]) * mult;
}

/**
 * Differences where `actual` does not hold what `expected` says: every key of an expected map must be
 * there with a matching value (extra keys are defaults the server adds); lists match item by item.
 * What the wire format legitimately changes is accepted: a `false` the server omits (Go omitempty), and
 * a number written where a quantity string comes back (`cpu: 0.2` → `"200m"`).
 */
export function missingFrom(actual: unknown, expected: unknown, path = ""): string[] {
  if (isRecord(expected)) {
    if (!isRecord(actual)) return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) => {
      if (v === false && actual[k] === undefined) return [];
      return missingFrom(actual[k], v, `${path}.${k}`);
    });
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected a list, got ${JSON.stringify(actual)}`];
    // the ServiceAccount admission plugin adds the kube-api-access volume and its mounts, as upstream's
    const items = actual.filter(
      (item) => !isServiceAccountInjection(item) || expected.some((e) => isServiceAccountInjection(e)),
    );
    if (items.length !== expected.length) return [`${path}: expected ${expected.length} items, got ${items.length}`];
    return expected.flatMap((v, i) => missingFrom(items[i], v, `${path}[${i}]`));
  }
  if (actual === expected) return [];
  if (typeof expected === "number" && typeof actual === "string" && quantityValue(actual) === expected) return [];
  return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

function isServiceAccountInjection(item: unknown): boolean {
  if (!isRecord(item)) return false;
  const name = typeof item["name"] === "string" ? item["name"] : "";
  return name.startsWith("kube-api-access-") || item["mountPath"] === "/var/run/secrets/kubernetes.io/serviceaccount";
}

/** The admin client identity and CA out of a kubeconfig with embedded data. */
export interface AdminCredentials {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

export function adminCredentials(kubeconfigPath: string): AdminCredentials {
  const cfg = parseYaml(readFileSync(kubeconfigPath, "utf8"));
  const cluster = Array.isArray(cfg["clusters"]) ? at(cfg["clusters"][0], "cluster") : undefined;
  const user = Array.isArray(cfg["users"]) ? at(cfg["users"][0], "user") : undefined;
  const b64 = (v: unknown): string => Buffer.from(typeof v === "string" ? v : "", "base64").toString("utf8");
  return {
    server: String(at(cluster, "server") ?? ""),
    ca: b64(at(cluster, "certificate-authority-data")),
    cert: b64(at(user, "client-certificate-data")),
    key: b64(at(user, "client-key-data")),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request over HTTP/1.1 with the admin client certificate. */
export function rawRequest(
  creds: AdminCredentials,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const url = new URL(path, creds.server);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      { method, ca: creds.ca, cert: creds.cert, key: creds.key, headers, timeout: 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** A long-running kubectl (`get -w`) whose output can be awaited line by line. */
export interface StreamingKubectl {
  /** Resolves with everything printed so far once `pattern` matches it; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): void;
}

export function spawnKubectl(cluster: TestCluster, args: string[]): StreamingKubectl {
  const child = spawn(kubectlBinary() ?? "kubectl", args, {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfig, HOME: cluster.dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return {
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          done();
          resolvePromise(out);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`kubectl ${args.join(" ")}: ${pattern} not seen in:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    stop() {
      child.kill("SIGKILL");
    },
  };
}

/** Polls `fn` until it returns something other than undefined (errors count as not yet), or fails naming `what`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** Starts `k8ts <args>` from this checkout as its own process (logs at error level). */
export function k8ts(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [join(REPO_ROOT, "bin", "k8ts.js"), ...args], {
    env: { ...process.env, K8TS_LOG: "error", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs `k8ts <args>` to its end. */
export function runK8ts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = k8ts(args);
    let stdout = "";
    let stderr = "";
    p.stdout?.on("data", (d: Buffer) => {
      stdout += d;
    });
    p.stderr?.on("data", (d: Buffer) => {
      stderr += d;
    });
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A server with an embedded `sim` node (memory store unless said), once the node is Ready. */
export async function simCluster(opts: Parameters<typeof startCluster>[0] = {}): Promise<TestCluster> {
  const c = await startCluster({ store: "memory", agent: "sim", ...opts });
  await until("the node Ready", async () => {
    const r = await c.kubectl(["get", "nodes", "--no-headers"]);
    return /\sReady\s/.test(r.stdout) ? true : undefined;
  });
  return c;
}

/** kubectl that must succeed: resolves with its stdout, fails the test with its stderr otherwise. */
export function kubectlOk(c: () => TestCluster): (...args: string[]) => Promise<string> {
  return async (...args) => {
    const r = await c().kubectl(args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
}
