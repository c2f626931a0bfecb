import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { KObject } from "../../../src/api/types.js";
import { authorize, requestAttributes } from "../../../src/kubelet/server/auth.js";
import { KubeletServer, routeOf } from "../../../src/kubelet/server/index.js";
import { parseMeminfo, parseProcStat, parseVmstat, rate } from "../../../src/kubelet/server/stats.js";
import { ensurePki, type Pki } from "../../../src/pki/index.js";
import { HostRuntime } from "./hostruntime.js";

describe("kubelet API authorization", () => {
  it("the API server's kubelet client and system:masters may do anything", () => {
    assert.equal(authorize({ user: "kube-apiserver-kubelet-client", groups: [] }, "POST", "/exec/a/b/c").allowed, true);
    assert.equal(authorize({ user: "alice", groups: ["system:masters"] }, "GET", "/pods").allowed, true);
  });
  it("nobody without a certificate: 401", () =>
    assert.deepEqual(authorize(undefined, "GET", "/pods"), { allowed: false, code: 401, message: "Unauthorized" }));
  const forbidden: Array<[string, string, string]> = [
    ["GET", "/pods", "Forbidden (user=bob, verb=get, resource=nodes, subresource=proxy)"],
    ["POST", "/exec/default/p/c", "Forbidden (user=bob, verb=create, resource=nodes, subresource=proxy)"],
    ["GET", "/stats/summary", "Forbidden (user=bob, verb=get, resource=nodes, subresource=stats)"],
    ["GET", "/metrics/cadvisor", "Forbidden (user=bob, verb=get, resource=nodes, subresource=metrics)"],
    ["GET", "/logs/syslog", "Forbidden (user=bob, verb=get, resource=nodes, subresource=log)"],
  ];
  for (const [method, path, msg] of forbidden) {
    it(`anyone else: ${method} ${path} → 403 "${msg}"`, () =>
      assert.deepEqual(authorize({ user: "bob", groups: ["dev"] }, method, path), {
        allowed: false,
        code: 403,
        message: msg,
      }));
  }
  it("HEAD is a get, an unknown method no verb", () => {
    assert.equal(requestAttributes("HEAD", "/").verb, "get");
    assert.equal(requestAttributes("OPTIONS", "/").verb, "");
  });
});

describe("kubelet API routes", () => {
  const cases: Array<[string, ReturnType<typeof routeOf>]> = [
    ["/healthz", { kind: "healthz" }],
    ["/pods", { kind: "pods" }],
    ["/stats/summary", { kind: "summary" }],
    ["/containerLogs/ns/p/c", { kind: "containerLogs", namespace: "ns", pod: "p", container: "c" }],
    ["/exec/ns/p/c", { kind: "exec", namespace: "ns", pod: "p", container: "c" }],
    ["/attach/ns/p/uid-1/c", { kind: "attach", namespace: "ns", pod: "p", uid: "uid-1", container: "c" }],
    ["/portForward/ns/p", { kind: "portForward", namespace: "ns", pod: "p" }],
    ["/containerLogs/ns/p", { kind: "notFound" }],
    ["/exec/ns//c", { kind: "notFound" }],
    ["/containerLogs/ns/p/%E0%A4%A", { kind: "notFound" }],
    ["/nope", { kind: "notFound" }],
  ];
  for (const [path, want] of cases) it(`${path} → ${want.kind}`, () => assert.deepEqual(routeOf(path), want));
});

describe("host readings for /stats/summary", () => {
  it("/proc/stat: busy time in nanoseconds and the boot time", () => {
    const r = parseProcStat("cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 1 1 1\nbtime 1700000000\n");
    assert.deepEqual(r, { usageNs: 160 * 1e7, bootMs: 1700000000000 });
  });
  it("/proc/meminfo: available, usage and working set (usage less inactive file pages)", () => {
    const m = parseMeminfo(
      "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\nInactive(file):  300 kB\nAnonPages:       100 kB\n",
    );
    assert.deepEqual(m, {
      totalBytes: 1024000,
      availableBytes: 614400,
      usageBytes: 819200,
      workingSetBytes: 512000,
      rssBytes: 102400,
    });
    assert.equal(parseMeminfo("nothing"), undefined);
  });
  it("/proc/vmstat page faults", () =>
    assert.deepEqual(parseVmstat("pgfault 10\npgmajfault 2\n"), { pageFaults: 10, majorPageFaults: 2 }));
  it("CPU rate from two readings, none from one or a counter that went back", () => {
    assert.equal(rate({ usageNs: 0, atMs: 0 }, { usageNs: 5e8, atMs: 1000 }), 5e8);
    assert.equal(rate(undefined, { usageNs: 5, atMs: 1 }), undefined);
    assert.equal(rate({ usageNs: 10, atMs: 0 }, { usageNs: 5, atMs: 1000 }), undefined);
  });
});

describe("the kubelet API over HTTPS", () => {
  let dir: string;
  let pki: Pki;
  let server: KubeletServer;
  let port = 0;
  const runtime = new HostRuntime();
  let admin: { cert: string; key: string };
  let stranger: { cert: string; key: string };
  let containerId = "";
  const pod: KObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "uid-p" },
    spec: { containers: [{ name: "c" }] },
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-kubelet-api-"));
    pki = await ensurePki(join(dir, "tls"), ["127.0.0.1"]);
    admin = { cert: pki.adminCert, key: pki.adminKey };
    stranger = await pki.issue("bob", ["dev"]);
    const serving = await pki.issue("node1", [], ["127.0.0.1"]);
    containerId = await runtime.createContainer("uid-p", {
      name: "c",
      attempt: 0,
      image: "x",
      argv: ["sh", "-c", "echo hello; exec sleep 3600"],
      env: [],
      mounts: [],
      resources: { cpuRequestMilli: 0, cpuLimitMilli: 0, memoryLimitBytes: 0 },
      stdin: false,
      stdinOnce: false,
      tty: false,
      logPath: join(dir, "c.log"),
      labels: {},
      podAnnotations: {},
    });
    await runtime.startContainer(containerId);
    server = new KubeletServer({
      runtime,
      tls: { key: serving.key, cert: serving.cert, ca: pki.caCert },
      bind: "127.0.0.1",
      port: 0,
      nodeName: "node1",
      rootDir: dir,
      pods: {
        pods: () => [pod],
        container: (ns, name, c) =>
          ns === "default" && name === "p" && c === "c"
            ? {
                podUid: "uid-p",
                containerId,
                running: runtime.isRunning(containerId),
                logPath: join(dir, "c.log"),
                stdin: false,
                tty: false,
              }
            : undefined,
      },
    });
    port = await server.start();
    // the first line reaches the log
    for (let i = 0; i < 100 && !(await get("/containerLogs/default/p/c", admin)).body.includes("hello"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  after(async () => {
    await server.stop();
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function get(path: string, cred?: { cert: string; key: string }): Promise<{ code: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path,
          ca: pki.caCert,
          ...(cred ?? {}),
          rejectUnauthorized: true,
          servername: "127.0.0.1",
        },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => {
            body += d.toString();
          });
          res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  it("serves a certificate of the cluster CA; without a client certificate: 401 Unauthorized", async () => {
    const r = await get("/pods");
    assert.equal(r.code, 401);
    assert.equal(r.body, "Unauthorized\n");
  });

  it("a certificate the rules do not allow: 403 worded as upstream", async () => {
    const r = await get("/stats/summary", stranger);
    assert.equal(r.code, 403);
    assert.equal(r.body, "Forbidden (user=bob, verb=get, resource=nodes, subresource=stats)\n");
  });

  it("/healthz, /pods (a PodList) and /stats/summary for system:masters", async () => {
    assert.equal((await get("/healthz", admin)).body, "ok\n");
    const pods = JSON.parse((await get("/pods", admin)).body);
    assert.equal(pods.kind, "PodList");
    assert.equal(pods.items[0].metadata.name, "p");
    const summary = JSON.parse((await get("/stats/summary", admin)).body);
    assert.equal(summary.node.nodeName, "node1");
    assert.ok(summary.node.fs.capacityBytes > 0);
    assert.equal(summary.pods[0].podRef.uid, "uid-p");
    assert.equal(summary.pods[0].containers[0].name, "c");
  });

  it("/containerLogs streams the log; unknown pods and containers are 404 as upstream words them", async () => {
    assert.equal((await get("/containerLogs/default/p/c", admin)).body, "hello\n");
    const nopod = await get("/containerLogs/default/q/c", admin);
    assert.deepEqual([nopod.code, nopod.body], [404, 'pod "q" does not exist\n']);
    const noc = await get("/containerLogs/default/p/x", admin);
    assert.deepEqual([noc.code, noc.body], [404, 'container "x" not found in pod "p"\n']);
    const prev = await get("/containerLogs/default/p/c?previous=true", admin);
    assert.deepEqual([prev.code, prev.body], [400, 'previous terminated container "c" in pod "p" not found\n']);
    const bad = await get("/containerLogs/default/p/c?tailLines=-3", admin);
    assert.deepEqual([bad.code, bad.body], [422, '{"message": "Invalid request."}\n']);
  });

  it("exec without an upgrade: 400 Upgrade request required; unknown paths 404", async () => {
    const r = await get("/exec/default/p/c?command=true&stdout=1", admin);
    assert.deepEqual([r.code, r.body], [400, "Upgrade request required\n"]);
    assert.equal((await get("/nope", admin)).code, 404);
  });

  function wsExec(query: string, cred: { cert: string; key: string }) {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/exec/default/p/c?${query}`, ["v5.channel.k8s.io"], {
      ca: pki.caCert,
      cert: cred.cert,
      key: cred.key,
    });
    const frames: Buffer[] = [];
    ws.on("message", (d: Buffer) => frames.push(d));
    const done = new Promise<{ code?: number; status?: number }>((resolve) => {
      ws.on("close", (code) => resolve({ code }));
      ws.on("unexpected-response", (_req, res) => resolve({ status: res.statusCode }));
      ws.on("error", () => undefined);
    });
    return { ws, frames, done };
  }

  it("exec over WebSocket v5 runs the command through the runtime and reports its exit", async () => {
    const e = wsExec(
      "command=sh&command=-c&command=read%20x%3B%20echo%20got%20%24x%3B%20exit%205&stdin=1&stdout=1&stderr=1",
      admin,
    );
    await new Promise<void>((r) => e.ws.once("open", () => r()));
    e.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("word\n")]));
    e.ws.send(Buffer.from([255, 0]));
    assert.equal((await e.done).code, 1000);
    const stdout = Buffer.concat(e.frames.filter((f) => f[0] === 1).map((f) => f.subarray(1))).toString();
    assert.equal(stdout, "got word\n");
    const status = JSON.parse(
      e.frames
        .find((f) => f[0] === 3)!
        .subarray(1)
        .toString(),
    );
    assert.equal(status.reason, "NonZeroExitCode");
    assert.deepEqual(status.details.causes, [{ reason: "ExitCode", message: "5" }]);
  });

  it("exec into an unknown container, or without any stream, is refused before the upgrade", async () => {
    const missing = new WebSocket(
      `wss://127.0.0.1:${port}/exec/default/p/x?command=true&stdout=1`,
      ["v5.channel.k8s.io"],
      {
        ca: pki.caCert,
        ...admin,
      },
    );
    const body = await new Promise<string>((resolve) => {
      missing.on("unexpected-response", (_req, res) => {
        let t = "";
        res.on("data", (d: Buffer) => {
          t += d.toString();
        });
        res.on("end", () => resolve(`${res.statusCode} ${t}`));
      });
      missing.on("error", () => undefined);
    });
    assert.equal(body, '404 container not found ("x")\n');
    const none = wsExec("command=true", admin);
    assert.equal((await none.done).status, 400);
    const forbidden = wsExec("command=true&stdout=1", stranger);
    assert.equal((await forbidden.done).status, 403);
  });
});
