/**
 * Nodes joining with `k8ts token create` + `k8ts agent` as their own processes, the way a user
 * runs them: a second node with the process runtime, a fleet of simulated nodes, and the refusals
 * (wrong CA hash, unknown token). Bootstrap token authentication rules on table-driven cases.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { authenticateBootstrapToken } from "../../src/apiserver/bootstraptokens.js";
import { startCluster, type TestCluster } from "./harness.js";
import { k8ts, kubectlSkip, runK8ts as run, until } from "./support.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = (data: Record<string, string>, extra: Partial<KObject> = {}): KObject => ({
  metadata: { name: "bootstrap-token-abcdef" },
  type: "bootstrap.kubernetes.io/token",
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  ...extra,
});
const good = { "token-id": "abcdef", "token-secret": "0123456789abcdef", "usage-bootstrap-authentication": "true" };

describe("bootstrap token authentication", () => {
  const cases: Array<[string, string, KObject | undefined, string | undefined]> = [
    ["a valid token is system:bootstrap:<id>", "abcdef.0123456789abcdef", secret(good), "system:bootstrap:abcdef"],
    ["a wrong secret is refused", "abcdef.0123456789abcdee", secret(good), undefined],
    ["a malformed token is refused", "abcdef0123456789abcdef", secret(good), undefined],
    ["no Secret, no user", "abcdef.0123456789abcdef", undefined, undefined],
    [
      "authentication usage must be allowed",
      "abcdef.0123456789abcdef",
      secret({ ...good, "usage-bootstrap-authentication": "false" }),
      undefined,
    ],
    [
      "an expired token is refused",
      "abcdef.0123456789abcdef",
      secret({ ...good, expiration: "2000-01-01T00:00:00Z" }),
      undefined,
    ],
    ["a Secret of another type is refused", "abcdef.0123456789abcdef", secret(good, { type: "Opaque" }), undefined],
  ];
  for (const [name, token, s, want] of cases) {
    it(name, () => assert.equal(authenticateBootstrapToken(token, () => s)?.name, want));
  }
  it("carries system:bootstrappers and valid extra groups", () => {
    const u = authenticateBootstrapToken("abcdef.0123456789abcdef", () =>
      secret({ ...good, "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token,evil" }),
    );
    assert.deepEqual(u?.groups, [
      "system:bootstrappers",
      "system:bootstrappers:kubeadm:default-node-token",
      "system:authenticated",
    ]);
  });
});

describe("k8ts agent joins a cluster", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  let join_: string[] = [];

  before(async () => {
    c = await startCluster({ agent: "process" });
    const t = await run(["token", "create", "--data-dir", c.dataDir]);
    assert.equal(t.code, 0, t.stderr);
    const line = t.stdout.trim();
    assert.match(
      line,
      /^k8ts agent --server https:\/\/127\.0\.0\.1:\d+ --token [a-z0-9]{6}\.[a-z0-9]{16} --ca-cert-hash sha256:[0-9a-f]{64}$/,
    );
    join_ = line.split(" ").slice(2);
  });
  after(async () => {
    for (const ch of children) {
      ch.kill("SIGTERM");
      await new Promise((r) => (ch.exitCode === null ? ch.once("exit", r) : r(undefined)));
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await c?.stop();
  });

  it("a second node with the process runtime registers Ready and runs a pod", async () => {
    const root = mkdtempSync(join(tmpdir(), "k8ts-agent-"));
    dirs.push(root);
    const agent = k8ts([
      "agent",
      ...join_,
      "--name",
      "node-2",
      "--root-dir",
      root,
      "--runtime",
      "process",
      "--kubelet-port",
      "0",
    ]);
    children.push(agent);
    await until("node-2 Ready", async () => {
      const r = await c.kubectl(["get", "node", "node-2", "--no-headers"]);
      return /^node-2\s+Ready\s+<none>/.test(r.stdout) ? true : undefined;
    });
    const nodes = await c.kubectl(["get", "nodes", "-o", "name"]);
    assert.deepEqual(nodes.stdout.trim().split("\n").sort(), ["node/k8ts-node", "node/node-2"]);
    const pod = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "on-node-2" },
      spec: {
        nodeName: "node-2",
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        containers: [
          {
            name: "c",
            image: "busybox",
            command: ["sh", "-c", "echo ran on $(NODE)"],
            env: [{ name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
          },
        ],
      },
    });
    assert.equal((await c.kubectl(["create", "-f", "-"], { stdin: pod })).code, 0);
    await until("Completed", async () => {
      const r = await c.kubectl(["get", "pod", "on-node-2", "--no-headers"]);
      return /Completed/.test(r.stdout) ? true : undefined;
    });
  });

  it("simulated nodes join by the dozen and run pods without processes", async () => {
    const root = mkdtempSync(join(tmpdir(), "k8ts-sim-"));
    dirs.push(root);
    const fleet = k8ts(["agent", ...join_, "--name", "sim", "--root-dir", root, "--sim-nodes", "12"]);
    children.push(fleet);
    await until("12 simulated nodes", async () => {
      const r = await c.kubectl(["get", "nodes", "-l", "type=kwok", "--no-headers"]);
      const ready = r.stdout.split("\n").filter((l) => /\sReady\s/.test(l));
      return ready.length === 12 ? true : undefined;
    });
    const pod = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "sim-job", annotations: { "k8ts.io/sim-duration": "1s" } },
      spec: { nodeName: "sim-3", restartPolicy: "Never", containers: [{ name: "c", image: "perl" }] },
    });
    assert.equal((await c.kubectl(["create", "-f", "-"], { stdin: pod })).code, 0);
    await until("Running", async () => {
      const r = await c.kubectl(["get", "pod", "sim-job", "-o", "jsonpath={.status.phase}"]);
      return r.stdout === "Running" || r.stdout === "Succeeded" ? true : undefined;
    });
    await until("Completed after its simulated second", async () => {
      const r = await c.kubectl(["get", "pod", "sim-job", "--no-headers"]);
      return /Completed/.test(r.stdout) ? true : undefined;
    });
    const ip = await c.kubectl(["get", "pod", "sim-job", "-o", "jsonpath={.status.podIP}"]);
    assert.match(ip.stdout, /^10\.244\.\d+\.\d+$/);
  });

  it("refuses a CA hash that does not match, and an unknown token", async () => {
    const args = [...join_];
    const h = args.indexOf("--ca-cert-hash");
    args[h + 1] = `sha256:${"0".repeat(64)}`;
    const wrongHash = await run(["agent", ...args, "--root-dir", "/nonexistent"]);
    assert.equal(wrongHash.code, 1);
    assert.match(
      wrongHash.stderr,
      /cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/,
    );
    const args2 = [...join_];
    const t = args2.indexOf("--token");
    args2[t + 1] = "zzzzzz.0000000000000000";
    const badToken = await run(["agent", ...args2, "--root-dir", "/nonexistent"]);
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /refused the bootstrap token/);
  });
});
