import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createH2Server, type Http2Server } from "node:http2";
import { type AddressInfo, createServer as createTcpServer, type Server as NetServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { KUBERNETES_VERSION } from "../../src/apiserver/server.js";
import {
  type ProbeKind,
  type ProbeListener,
  ProbeManager,
  type ProbeOutcome,
  ProbeState,
  type ProbeTarget,
  probeTiming,
  resolvePort,
  runProbe,
} from "../../src/kubelet/probes.js";
import { SimRuntime } from "../../src/kubelet/runtime/sim/index.js";

type Rec = Record<string, unknown>;

const UA = `kube-probe/${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}`;

/** A runtime whose exec answers from a script (the rest is the sim runtime's). */
class ExecRuntime extends SimRuntime {
  calls: Array<{ argv: string[]; at: number }> = [];
  answer: (argv: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string; timedOut: boolean }>;
  constructor(answer: ExecRuntime["answer"]) {
    super({ writeLogs: false });
    this.answer = answer;
  }
  // the sim runtime declares execSync without parameters; the Runtime interface passes these
  override execSync(
    _id = "",
    argv: string[] = [],
    timeoutMs = 0,
  ): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    this.calls.push({ argv, at: Date.now() });
    return this.answer(argv, timeoutMs);
  }
}

const quiet = new ExecRuntime(async () => ({ exitCode: 0, output: "", timedOut: false }));

function target(container: Rec = {}, runtime: ExecRuntime = quiet): ProbeTarget {
  return { runtime, containerId: "c1", podIP: "127.0.0.1", container };
}

async function listen(server: Server | NetServer | Http2Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  s.close();
  await once(s, "close");
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("exec probe", () => {
  const exec = (answer: ExecRuntime["answer"]) => {
    const rt = new ExecRuntime(answer);
    return (command: string[], timeoutSeconds?: number) =>
      runProbe({ exec: { command }, ...(timeoutSeconds ? { timeoutSeconds } : {}) }, target({}, rt), "liveness");
  };

  it("exit 0 passes with the output", async () => {
    const run = exec(async () => ({ exitCode: 0, output: "ok\n", timedOut: false }));
    assert.deepEqual(await run(["cat", "/tmp/healthy"]), { ok: true, output: "ok" });
  });

  it("a non-zero exit fails with the command's output", async () => {
    const run = exec(async () => ({
      exitCode: 1,
      output: "cat: can't open '/tmp/healthy': No such file or directory\n",
      timedOut: false,
    }));
    assert.deepEqual(await run(["cat", "/tmp/healthy"]), {
      ok: false,
      output: "cat: can't open '/tmp/healthy': No such file or directory",
    });
  });

  it('a timeout fails as upstream: command "..." timed out', async () => {
    let seen = 0;
    const run = exec(async (_argv, timeoutMs) => {
      seen = timeoutMs;
      return { exitCode: -1, output: "", timedOut: true };
    });
    assert.deepEqual(await run(["sh", "-c", "sleep 10"], 2), {
      ok: false,
      output: 'command "sh -c sleep 10" timed out',
    });
    assert.equal(seen, 2000, "the runtime is given timeoutSeconds");
  });

  it("a runtime that cannot exec is a probe error (retried, then not counted)", async () => {
    const rt = new ExecRuntime(async () => {
      throw new Error("container not running");
    });
    const out = await runProbe({ exec: { command: ["true"] } }, target({}, rt), "readiness");
    assert.deepEqual(out, { ok: false, error: true, output: "container not running" });
    assert.equal(rt.calls.length, 3, "upstream tries an erroring probe 3 times");
  });
});

describe("httpGet probe", () => {
  let server: Server;
  let port = 0;
  let lastHeaders: IncomingHttpHeaders = {};
  let lastPath = "";
  let hits = 0;
  before(async () => {
    server = createHttpServer((req, res) => {
      hits++;
      lastHeaders = req.headers;
      lastPath = req.url ?? "";
      const url = new URL(req.url ?? "/", "http://x");
      switch (url.pathname) {
        case "/healthz":
          res.end("all good");
          return;
        case "/fail":
          res.statusCode = 500;
          res.end("boom: secret detail");
          return;
        case "/created":
          res.statusCode = 201;
          res.end();
          return;
        case "/notmodified":
          res.statusCode = 304;
          res.end();
          return;
        case "/to-fail":
          res.writeHead(302, { location: "/fail" });
          res.end();
          return;
        case "/to-ok":
          res.writeHead(301, { location: `http://127.0.0.1:${port}/healthz` });
          res.end();
          return;
        case "/away":
          // another host name: not followed, a success with a warning
          res.writeHead(302, { location: `http://localhost:${port}/healthz` });
          res.end("moved away");
          return;
        case "/loop":
          res.writeHead(302, { location: "/loop" });
          res.end();
          return;
        case "/slow":
          // headers never come
          return;
        case "/slow-body":
          res.writeHead(200);
          res.write("partial");
          return;
        case "/gzip":
          res.writeHead(200, { "content-encoding": "gzip" });
          res.end(gzipSync("compressed body"));
          return;
        case "/big":
          res.end("x".repeat(64 * 1024));
          return;
        case "/hangup":
          req.socket.destroy();
          return;
        default:
          res.statusCode = 404;
          res.end();
      }
    });
    port = await listen(server);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const get = (httpGet: Rec, container: Rec = {}, timeoutSeconds = 1): Promise<ProbeOutcome> =>
    runProbe({ httpGet: { port, ...httpGet }, timeoutSeconds }, target(container), "readiness");

  it("200 passes with the body as output", async () => {
    assert.deepEqual(await get({ path: "/healthz" }), { ok: true, output: "all good" });
  });

  it("201 passes", async () => assert.equal((await get({ path: "/created" })).ok, true));
  it("304 (a 3xx without redirect) passes", async () => assert.equal((await get({ path: "/notmodified" })).ok, true));

  it("500 fails with upstream's message, without the body", async () => {
    assert.deepEqual(await get({ path: "/fail" }), { ok: false, output: "HTTP probe failed with statuscode: 500" });
  });

  it("404 fails", async () => {
    assert.deepEqual(await get({ path: "/nope" }), { ok: false, output: "HTTP probe failed with statuscode: 404" });
  });

  it("a redirect to the same host is followed: to a failing page fails", async () => {
    assert.deepEqual(await get({ path: "/to-fail" }), { ok: false, output: "HTTP probe failed with statuscode: 500" });
  });

  it("an absolute redirect to the same host is followed", async () => {
    assert.deepEqual(await get({ path: "/to-ok" }), { ok: true, output: "all good" });
  });

  it("a redirect to another host is not followed: a 3xx success with upstream's warning", async () => {
    assert.deepEqual(await get({ path: "/away" }), {
      ok: true,
      warning: true,
      output: "Probe terminated redirects, Response body: moved away",
    });
  });

  it("a redirect loop stops after 10 redirects", async () => {
    const before = hits;
    assert.deepEqual(await get({ path: "/loop" }), {
      ok: false,
      output: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects`,
    });
    assert.equal(hits - before, 10);
  });

  it("sends kube-probe's User-Agent, Accept */*, the spec's headers, and the path with its query", async () => {
    await get({
      path: "/healthz?verbose=1",
      httpHeaders: [
        { name: "X-Custom", value: "a" },
        { name: "Authorization", value: "Bearer t" },
      ],
    });
    assert.equal(lastPath, "/healthz?verbose=1");
    assert.equal(lastHeaders["user-agent"], UA);
    assert.equal(lastHeaders["accept"], "*/*");
    assert.equal(lastHeaders["x-custom"], "a");
    assert.equal(lastHeaders["authorization"], "Bearer t");
    assert.equal(lastHeaders["host"], `127.0.0.1:${port}`);
    assert.equal(lastHeaders["connection"], "close", "no keep-alive");
  });

  it("the spec's Host and User-Agent headers replace the defaults; an empty Accept is dropped", async () => {
    await get({
      path: "/healthz",
      httpHeaders: [
        { name: "Host", value: "app.example.com" },
        { name: "User-Agent", value: "mine" },
        { name: "Accept", value: "" },
      ],
    });
    assert.equal(lastHeaders["host"], "app.example.com");
    assert.equal(lastHeaders["user-agent"], "mine");
    assert.equal(lastHeaders["accept"], undefined);
  });

  it("a header listed twice is sent with both values", async () => {
    await get({
      path: "/healthz",
      httpHeaders: [
        { name: "X-Twice", value: "1" },
        { name: "X-Twice", value: "2" },
      ],
    });
    assert.equal(lastHeaders["x-twice"], "1, 2");
  });

  it("a path without a leading slash gets one", async () => {
    await get({ path: "healthz" });
    assert.equal(lastPath, "/healthz");
  });

  it("a named port is the container's port of that name", async () => {
    const out = await runProbe(
      { httpGet: { port: "http", path: "/healthz" } },
      target({ ports: [{ name: "http", containerPort: port }] }),
      "liveness",
    );
    assert.equal(out.ok, true);
  });

  it("an unknown port name is a probe error worded as upstream", async () => {
    assert.deepEqual(await get({ port: "metrics", path: "/" }), {
      ok: false,
      error: true,
      output: 'port "metrics" not found',
    });
  });

  it("a gzip body is decoded", async () => {
    assert.deepEqual(await get({ path: "/gzip" }), { ok: true, output: "compressed body" });
  });

  it("a body is cut at 10 KiB", async () => {
    const out = await get({ path: "/big" });
    assert.equal(out.ok, true);
    assert.equal(out.output.length, 10 * 1024);
  });

  it("connection refused is worded as Go's client says it", async () => {
    const p = await closedPort();
    assert.deepEqual(await get({ port: p, path: "/healthz" }), {
      ok: false,
      output: `Get "http://127.0.0.1:${p}/healthz": dial tcp 127.0.0.1:${p}: connect: connection refused`,
    });
  });

  it("no answer within timeoutSeconds fails with Client.Timeout awaiting headers", async () => {
    assert.deepEqual(await get({ path: "/slow" }), {
      ok: false,
      output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
  });

  it("a body that stops coming is a probe error while reading the body", async () => {
    assert.deepEqual(await get({ path: "/slow-body" }), {
      ok: false,
      error: true,
      output: `Get "http://127.0.0.1:${port}/slow-body": context deadline exceeded (Client.Timeout or context cancellation while reading body)`,
    });
  });

  it("a server that hangs up before answering: EOF", async () => {
    assert.deepEqual(await get({ path: "/hangup" }), {
      ok: false,
      output: `Get "http://127.0.0.1:${port}/hangup": EOF`,
    });
  });
});

describe("tcpSocket probe", () => {
  let server: NetServer;
  let port = 0;
  const sockets = new Set<Socket>();
  before(async () => {
    server = createTcpServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    port = await listen(server);
  });
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it("an open port passes", async () => {
    assert.deepEqual(await runProbe({ tcpSocket: { port } }, target(), "liveness"), { ok: true, output: "" });
  });

  it("a named port is resolved from the container", async () => {
    const out = await runProbe(
      { tcpSocket: { port: "redis" } },
      target({ ports: [{ name: "redis", containerPort: port }] }),
      "liveness",
    );
    assert.equal(out.ok, true);
  });

  it("an explicit host is dialed instead of the pod IP", async () => {
    const t = { ...target(), podIP: "192.0.2.1" };
    assert.equal((await runProbe({ tcpSocket: { host: "127.0.0.1", port } }, t, "liveness")).ok, true);
  });

  it("a closed port fails: dial tcp ...: connect: connection refused", async () => {
    const p = await closedPort();
    assert.deepEqual(await runProbe({ tcpSocket: { port: p } }, target(), "liveness"), {
      ok: false,
      output: `dial tcp 127.0.0.1:${p}: connect: connection refused`,
    });
  });

  it("an invalid port number is a probe error", async () => {
    assert.deepEqual(await runProbe({ tcpSocket: { port: 70000 } }, target(), "liveness"), {
      ok: false,
      error: true,
      output: "invalid port number: 70000",
    });
  });
});

/** The service name in a HealthCheckRequest frame, decoded by hand (field 1, length-delimited). */
function requestedService(frame: Buffer): string {
  const len = frame.readUInt32BE(1);
  const msg = frame.subarray(5, 5 + len);
  if (msg.length === 0) return "";
  assert.equal(msg[0], 0x0a, "field 1, wire type 2");
  let size = 0;
  let shift = 0;
  let i = 1;
  for (; ; i++) {
    size |= (msg[i]! & 0x7f) << shift;
    shift += 7;
    if ((msg[i]! & 0x80) === 0) break;
  }
  return msg.subarray(i + 1, i + 1 + size).toString("utf8");
}

/** HealthCheckResponse{status} in a gRPC frame, encoded by hand (field 1, varint; 0 is omitted). */
function responseFrame(status: number): Buffer {
  const msg = status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

describe("grpc probe (grpc.health.v1 over h2c)", () => {
  let server: Http2Server;
  let port = 0;
  let lastUA = "";
  const longName = "s".repeat(200);
  before(async () => {
    server = createH2Server();
    server.on("stream", (stream, headers) => {
      lastUA = String(headers["user-agent"] ?? "");
      const chunks: Buffer[] = [];
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", () => {
        if (headers[":path"] !== "/grpc.health.v1.Health/Check") {
          stream.respond(
            { ":status": 200, "content-type": "application/grpc", "grpc-status": "12" },
            { endStream: true },
          );
          return;
        }
        const service = requestedService(Buffer.concat(chunks));
        if (service === "slow") return; // never answers
        const answer = (status: number) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.end(responseFrame(status));
        };
        if (service === "" || service === longName) answer(1);
        else if (service === "db") answer(2);
        else if (service === "blank") answer(0);
        else if (service === "no-health") {
          stream.respond(
            {
              ":status": 200,
              "content-type": "application/grpc",
              "grpc-status": "12",
              "grpc-message": "unknown service grpc.health.v1.Health",
            },
            { endStream: true },
          );
        } else {
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () =>
            stream.sendTrailers({ "grpc-status": "5", "grpc-message": "unknown%20service" }),
          );
          stream.end();
        }
      });
    });
    port = await listen(server);
  });
  after(() => server.close());

  const grpc = (service?: string, p = port) =>
    runProbe(
      { grpc: { port: p, ...(service === undefined ? {} : { service }) }, timeoutSeconds: 1 },
      target(),
      "readiness",
    );

  it("SERVING passes: service healthy", async () => {
    assert.deepEqual(await grpc(), { ok: true, output: "service healthy" });
    assert.equal(lastUA, UA);
  });

  it("a service name of 200 bytes is encoded with a multi-byte length", async () => {
    assert.deepEqual(await grpc(longName), { ok: true, output: "service healthy" });
  });

  it("NOT_SERVING fails as upstream", async () => {
    assert.deepEqual(await grpc("db"), { ok: false, output: 'service unhealthy (responded with "NOT_SERVING")' });
  });

  it("an empty response (UNKNOWN) fails", async () => {
    assert.deepEqual(await grpc("blank"), { ok: false, output: 'service unhealthy (responded with "UNKNOWN")' });
  });

  it("an error status is named as grpc-go names it", async () => {
    assert.deepEqual(await grpc("other"), {
      ok: false,
      output: "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service",
    });
  });

  it("a server without the health service: Unimplemented, worded as upstream", async () => {
    assert.deepEqual(await grpc("no-health"), {
      ok: false,
      output:
        "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health",
    });
  });

  it("no answer within the timeout: the health rpc did not complete", async () => {
    assert.deepEqual(await grpc("slow"), { ok: false, output: "timeout: health rpc did not complete within 1s" });
  });

  it("a closed port keeps dialing until the timeout, as grpc-go's blocking dial", async () => {
    const p = await closedPort();
    assert.deepEqual(await grpc(undefined, p), {
      ok: false,
      output: `timeout: failed to connect service "127.0.0.1:${p}" within 1s: context deadline exceeded`,
    });
  });
});

describe("probe bookkeeping", () => {
  it("upstream's defaults: period 10s, timeout 1s, success 1, failure 3, no delay", () => {
    assert.deepEqual(probeTiming({}), {
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1000,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it("resolvePort: numbers, names, numeric strings", () => {
    const c = { ports: [{ name: "http", containerPort: 8080 }] };
    assert.equal(resolvePort(80, c), 80);
    assert.equal(resolvePort("http", c), 8080);
    assert.equal(resolvePort("9090", c), 9090);
    assert.equal(resolvePort("grpc", c), undefined);
    assert.equal(resolvePort(0, c), undefined);
  });

  const initial: Array<[ProbeKind, boolean | undefined]> = [
    ["readiness", false],
    ["liveness", true],
    ["startup", undefined],
  ];
  for (const [kind, want] of initial) {
    it(`${kind} starts ${String(want)}`, () =>
      assert.equal(new ProbeState(kind, { successThreshold: 1, failureThreshold: 3 }).result, want));
  }

  /** Feeds runs and returns the result after each. */
  const feed = (kind: ProbeKind, s: number, f: number, runs: boolean[]) => {
    const st = new ProbeState(kind, { successThreshold: s, failureThreshold: f });
    return runs.map((ok) => {
      st.observe(ok);
      return st.result;
    });
  };
  const T = true;
  const F = false;
  const thresholds: Array<[string, ProbeKind, number, number, boolean[], Array<boolean | undefined>]> = [
    ["readiness passes after successThreshold successes in a row", "readiness", 2, 3, [T, F, T, T], [F, F, F, T]],
    ["readiness fails after failureThreshold failures in a row", "readiness", 1, 2, [T, F, T, F, F], [T, T, T, T, F]],
    [
      "liveness fails after failureThreshold failures in a row",
      "liveness",
      1,
      3,
      [F, F, T, F, F, F],
      [T, T, T, T, T, F],
    ],
    ["liveness's successThreshold is always 1", "liveness", 5, 1, [F, T], [F, T]],
    ["startup passes on its first success", "startup", 3, 3, [F, T], [undefined, T]],
    ["startup fails after failureThreshold failures", "startup", 1, 2, [F, F], [undefined, F]],
  ];
  for (const [name, kind, s, f, runs, want] of thresholds)
    it(name, () => assert.deepEqual(feed(kind, s, f, runs), want));

  it("observe reports only changes", () => {
    const st = new ProbeState("readiness", { successThreshold: 1, failureThreshold: 1 });
    assert.deepEqual(
      [st.observe(true), st.observe(true), st.observe(false), st.observe(false)],
      [true, undefined, false, undefined],
    );
  });
});

interface Seen {
  results: Array<{ kind: ProbeKind; ok: boolean }>;
  failures: string[];
  errors: string[];
}

function listener(): ProbeListener & Seen {
  const seen: Seen = { results: [], failures: [], errors: [] };
  return {
    ...seen,
    onResult: (_u, _c, kind, ok) => seen.results.push({ kind, ok }),
    onFailure: (_u, _c, _k, output) => seen.failures.push(output),
    onError: (_u, _c, _k, message) => seen.errors.push(message),
  };
}

describe("ProbeManager workers", () => {
  it("probes at once without initialDelaySeconds, then every periodSeconds", async () => {
    const rt = new ExecRuntime(async () => ({ exitCode: 0, output: "", timedOut: false }));
    const m = new ProbeManager(listener());
    const start = Date.now();
    m.ensure("u", "main", "readiness", { exec: { command: ["true"] }, periodSeconds: 1 }, target({}, rt));
    try {
      await until("two runs", () => rt.calls.length >= 2);
      assert.ok(rt.calls[0]!.at - start < 1000, "the first run does not wait a period");
      assert.ok(rt.calls[1]!.at - rt.calls[0]!.at >= 950, "the next run waits a period");
      assert.equal(m.result("u", "main", "readiness", "c1"), true);
    } finally {
      m.stop();
    }
  });

  it("does not probe before initialDelaySeconds", async () => {
    const rt = new ExecRuntime(async () => ({ exitCode: 0, output: "", timedOut: false }));
    const m = new ProbeManager(listener());
    const start = Date.now();
    m.ensure(
      "u",
      "main",
      "readiness",
      { exec: { command: ["true"] }, initialDelaySeconds: 2, periodSeconds: 1 },
      target({}, rt),
    );
    try {
      await until("a run", () => rt.calls.length >= 1);
      assert.ok(rt.calls[0]!.at - start >= 1950, `first run after the delay (${rt.calls[0]!.at - start} ms)`);
      assert.equal(m.result("u", "main", "readiness", "c1"), true);
    } finally {
      m.stop();
    }
  });

  it("readiness starts failed and turns ready after successThreshold runs", async () => {
    const rt = new ExecRuntime(async () => ({ exitCode: 0, output: "", timedOut: false }));
    const l = listener();
    const m = new ProbeManager(l);
    m.ensure(
      "u",
      "main",
      "readiness",
      { exec: { command: ["true"] }, periodSeconds: 1, successThreshold: 2 },
      target({}, rt),
    );
    try {
      assert.equal(m.result("u", "main", "readiness", "c1"), false);
      await until("ready", () => m.result("u", "main", "readiness", "c1") === true);
      assert.equal(rt.calls.length, 2);
      assert.deepEqual(l.results, [{ kind: "readiness", ok: true }]);
    } finally {
      m.stop();
    }
  });

  it("a failed liveness probe reports once and stops probing that container", async () => {
    const rt = new ExecRuntime(async () => ({ exitCode: 1, output: "unhealthy", timedOut: false }));
    const l = listener();
    const m = new ProbeManager(l);
    m.ensure(
      "u",
      "main",
      "liveness",
      { exec: { command: ["false"] }, periodSeconds: 1, failureThreshold: 2 },
      target({}, rt),
    );
    try {
      await until("the liveness verdict", () => l.results.length > 0);
      assert.deepEqual(l.results, [{ kind: "liveness", ok: false }]);
      assert.deepEqual(l.failures, ["unhealthy", "unhealthy"]);
      const runs = rt.calls.length;
      await sleep(1500);
      assert.equal(rt.calls.length, runs, "on hold until a new container");
      assert.equal(m.result("u", "main", "liveness", "c1"), false);
    } finally {
      m.stop();
    }
  });

  it("a gated probe (liveness behind startup) does not run until the gate opens", async () => {
    const rt = new ExecRuntime(async () => ({ exitCode: 0, output: "", timedOut: false }));
    const m = new ProbeManager(listener());
    let open = false;
    m.ensure("u", "main", "liveness", { exec: { command: ["true"] }, periodSeconds: 1 }, target({}, rt), () => open);
    try {
      await sleep(1200);
      assert.equal(rt.calls.length, 0);
      open = true;
      await until("a run once open", () => rt.calls.length >= 1);
    } finally {
      m.stop();
    }
  });

  it("a probe that cannot run is reported as an error and does not count", async () => {
    const l = listener();
    const m = new ProbeManager(l);
    m.ensure("u", "main", "readiness", { tcpSocket: { port: "missing" }, periodSeconds: 1 }, target());
    try {
      await until("an error", () => l.errors.length >= 1);
      assert.deepEqual(l.errors[0], 'port "missing" not found');
      assert.deepEqual(l.failures, []);
      assert.deepEqual(l.results, []);
      assert.equal(m.result("u", "main", "readiness", "c1"), false);
    } finally {
      m.stop();
    }
  });

  it("a stopped worker never fires again, and ensure is idempotent", async () => {
    const rt = new ExecRuntime(async () => ({ exitCode: 0, output: "", timedOut: false }));
    const m = new ProbeManager(listener());
    const probe = { exec: { command: ["true"] }, periodSeconds: 1 };
    m.ensure("u", "main", "readiness", probe, target({}, rt));
    m.ensure("u", "main", "readiness", probe, target({}, rt));
    await until("a run", () => rt.calls.length >= 1);
    assert.equal(rt.calls.length, 1, "one worker");
    m.stopContainer("u", "c1");
    assert.equal(m.has("u", "main", "readiness", "c1"), false);
    await sleep(1500);
    assert.equal(rt.calls.length, 1);
  });

  it("stopPod keeps the workers of the live container ids it is given", async () => {
    const rt = new ExecRuntime(async () => ({ exitCode: 0, output: "", timedOut: false }));
    const m = new ProbeManager(listener());
    const probe = { exec: { command: ["true"] }, periodSeconds: 1 };
    m.ensure("u", "a", "readiness", probe, { ...target({}, rt), containerId: "old" });
    m.ensure("u", "a", "readiness", probe, { ...target({}, rt), containerId: "new" });
    m.stopPod("u", new Set(["new"]));
    assert.equal(m.has("u", "a", "readiness", "old"), false);
    assert.equal(m.has("u", "a", "readiness", "new"), true);
    m.stop();
    assert.equal(m.has("u", "a", "readiness", "new"), false);
  });
});
