/**
 * kubectl logs / exec / attach / cp end to end: the real kubectl (1.32 over WebSocket, Debian's
 * 1.20 over SPDY) → the API server's proxy → the kubelet API → a runtime double running host
 * processes. Also the API server's own answers (which container, no node, no address, waiting
 * containers) and nodes/proxy.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { spawn as spawnPty } from "node-pty";
import { TestNode } from "../kubelet/server/testnode.js";
import { type Client, clientFor } from "./client.js";
import { type KubectlResult, kubectlBinary, legacyKubectlBinary, startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, show } from "./support.js";

const clients: Array<{ label: string; bin: () => string | undefined; skip: () => string | false }> = [
  { label: "kubectl 1.32 (WebSocket)", bin: () => kubectlBinary(), skip: () => kubectlSkip() },
  {
    label: "kubectl 1.20 (SPDY)",
    bin: () => legacyKubectlBinary(),
    skip: () =>
      legacyKubectlBinary() === undefined
        ? "Debian's kubectl 1.20 is not unpacked at .ci/cache/kubectl-1.20 (set $KUBECTL_LEGACY)"
        : false,
  },
];

/** Runs kubectl under a pseudo-terminal (kubectl allocates a TTY only when its stdin is one). */
function kubectlInPty(bin: string, args: string[], kubeconfig: string, home: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const p = spawnPty(bin, args, {
      cols: 100,
      rows: 30,
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home, TERM: "xterm" } as Record<string, string>,
    });
    let out = "";
    p.onData((d) => {
      out += d;
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
    p.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ code: exitCode, stdout: out, stderr: "" });
    });
  });
}

describe("kubectl logs, exec, attach and cp through the kubelet API", { skip: kubectlSkip() }, () => {
  let cluster: TestCluster;
  let client: Client;
  let node: TestNode;
  let work: string;

  before(async () => {
    cluster = await startCluster({ store: "memory" });
    client = clientFor(cluster.kubeconfig);
    work = mkdtempSync(join(tmpdir(), "k8ts-streams-"));
    node = new TestNode(client, join(work, "node"));
    await node.start(join(cluster.dataDir, "tls"), cluster.server.api);
    await node.createPod("logger", [
      { name: "c", script: "for i in 1 2 3 4 5; do echo line $i; done; echo to-stderr >&2; exec sleep 3600" },
    ]);
    // a container that ran once, exited, and runs again
    await node.createPod("restarter", [{ name: "c", script: "echo first run" }]);
    await node.waitExit("restarter", "c");
    await node.startContainer("restarter", "c", "echo second run; exec sleep 3600");
    await node.reportStatus("restarter", "Running");
    await node.createPod("two", [
      { name: "a", script: "echo from a; exec sleep 3600" },
      { name: "b", script: "echo from b; exec sleep 3600" },
    ]);
    await node.createPod(
      "withinit",
      [
        { name: "a", script: "true" },
        { name: "b", script: "true" },
      ],
      {
        initContainers: [{ name: "init", script: "true" }],
        start: false,
      },
    );
    await node.createPod("pending", [{ name: "c", script: "true" }], { start: false });
    await node.createPod("nohost", [{ name: "c", script: "true" }], { nodeName: null, start: false });
    await node.createPod("ghost", [{ name: "c", script: "true" }], { nodeName: "no-such-node", start: false });
    const bare = await client.call("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "bare" },
    });
    assert.equal(bare.code, 201, bare.body);
    await node.createPod("stray", [{ name: "c", script: "true" }], { nodeName: "bare", start: false });
  });

  after(async () => {
    await node?.stop();
    await cluster?.stop();
    client?.agent.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("the API server names the containers to choose from when a pod has several", async () => {
    const two = await client.call("GET", "/api/v1/namespaces/default/pods/two/log");
    assert.equal(two.code, 400, two.body);
    assert.equal(JSON.parse(two.body).message, "a container name must be specified for pod two, choose one of: [a b]");
    const init = await client.call("GET", "/api/v1/namespaces/default/pods/withinit/exec?command=true&stdout=true");
    assert.equal(init.code, 400, init.body);
    assert.equal(
      JSON.parse(init.body).message,
      "a container name must be specified for pod withinit, choose one of: [init a b]",
    );
    const nope = await client.call("GET", "/api/v1/namespaces/default/pods/two/log?container=nope");
    assert.equal(JSON.parse(nope.body).message, "container nope is not valid for pod two");
  });

  it("exec without an upgrade is refused; logs of a pod without a node are empty", async () => {
    const r = await client.call("POST", "/api/v1/namespaces/default/pods/logger/exec?command=true&stdout=true");
    assert.equal(r.code, 400, r.body);
    assert.equal(JSON.parse(r.body).message, "Upgrade request required");
    const logs = await client.call("GET", "/api/v1/namespaces/default/pods/nohost/log");
    assert.equal(logs.code, 200, logs.body);
    assert.equal(logs.body, "");
  });

  it("pods/log options are validated as upstream", async () => {
    const r = await client.call("GET", "/api/v1/namespaces/default/pods/logger/log?tailLines=-1");
    assert.equal(r.code, 422, r.body);
    assert.equal(
      JSON.parse(r.body).message,
      'PodLogOptions "logger" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0',
    );
    const both = await client.call(
      "GET",
      "/api/v1/namespaces/default/pods/logger/log?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z",
    );
    assert.equal(both.code, 422, both.body);
    const limited = await client.call("GET", "/api/v1/namespaces/default/pods/logger/log?limitBytes=9");
    assert.equal(limited.code, 200, limited.body);
    assert.equal(limited.body, "line 1\nli");
  });

  it("nodes/proxy reaches the kubelet's /pods, /healthz and /stats/summary", async () => {
    const bin = kubectlBinary()!;
    const pods = await cluster.kubectl(["get", "--raw", "/api/v1/nodes/node1/proxy/pods"], { bin });
    assert.equal(pods.code, 0, show(pods));
    const list = JSON.parse(pods.stdout) as { kind: string; items: Array<{ metadata: { name: string } }> };
    assert.equal(list.kind, "PodList");
    assert.ok(list.items.some((p) => p.metadata.name === "logger"));
    const health = await cluster.kubectl(["get", "--raw", "/api/v1/nodes/node1/proxy/healthz"], { bin });
    assert.equal(health.stdout.trim(), "ok", show(health));
    const summary = await cluster.kubectl(["get", "--raw", "/api/v1/nodes/node1/proxy/stats/summary"], { bin });
    assert.equal(summary.code, 0, show(summary));
    const s = JSON.parse(summary.stdout) as {
      node: { nodeName: string; memory: { workingSetBytes: number } };
      pods: Array<{
        podRef: { name: string };
        containers: Array<{ name: string; memory: { workingSetBytes: number } }>;
      }>;
    };
    assert.equal(s.node.nodeName, "node1");
    assert.ok(s.node.memory.workingSetBytes > 0);
    const logger = s.pods.find((p) => p.podRef.name === "logger");
    assert.ok(logger, summary.stdout);
    assert.equal(logger.containers[0]?.name, "c");
    assert.ok((logger.containers[0]?.memory.workingSetBytes ?? 0) > 0);
  });

  /** Sends a raw HTTP/1.1 request (with the admin certificate unless `anonymous`) and reads the answer. */
  async function rawRequest(head: string, anonymous: boolean): Promise<string> {
    const base = new URL(cluster.server.url);
    const sock = tlsConnect({
      host: base.hostname,
      port: Number(base.port),
      ALPNProtocols: ["http/1.1"],
      ca: client.agent.options.ca,
      ...(anonymous ? {} : { cert: client.agent.options.cert, key: client.agent.options.key }),
      servername: "localhost",
    });
    await new Promise<void>((r) => sock.once("secureConnect", () => r()));
    sock.write(head);
    return new Promise((resolve) => {
      let text = "";
      sock.on("data", (d: Buffer) => {
        text += d.toString();
      });
      sock.on("close", () => resolve(text));
      setTimeout(() => sock.destroy(), 5000).unref();
    });
  }

  it("an exec upgrade without credentials is refused with 401 before it reaches a node", async () => {
    const r = await rawRequest(
      "POST /api/v1/namespaces/default/pods/logger/exec?command=true&stdout=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n",
      true,
    );
    assert.match(r, /^HTTP\/1.1 401/);
    assert.equal(JSON.parse(r.slice(r.indexOf("\r\n\r\n") + 4)).reason, "Unauthorized");
  });

  it("an upgrade request for anything else is answered as the plain request", async () => {
    const r = await rawRequest(
      "GET /version HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      false,
    );
    assert.match(r, /^HTTP\/1.1 200/);
    assert.match(r, /"gitVersion"/);
  });

  for (const k of clients) {
    describe(k.label, { skip: k.skip() }, () => {
      const kubectl = (args: string[], opts: { stdin?: string; timeoutMs?: number } = {}) =>
        cluster.kubectl(args, { ...opts, bin: k.bin()! });
      const tag = k.label.includes("1.20") ? "spdy" : "ws";

      it("kubectl logs prints the container's output, stdout and stderr", async () => {
        const r = await kubectl(["logs", "logger"]);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, "line 1\nline 2\nline 3\nline 4\nline 5\nto-stderr\n");
      });

      it("kubectl logs --tail=2 prints the last two lines", async () => {
        const r = await kubectl(["logs", "logger", "--tail=2"]);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, "line 5\nto-stderr\n");
      });

      it("kubectl logs --timestamps prefixes each line with its RFC 3339 time, nine fraction digits", async () => {
        const r = await kubectl(["logs", "logger", "--timestamps", "--tail=3"]);
        assert.equal(r.code, 0, show(r));
        const lines = r.stdout.trimEnd().split("\n");
        assert.equal(lines.length, 3, show(r));
        for (const l of lines) assert.match(l, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z (line \d|to-stderr)$/);
      });

      it("kubectl logs -f follows until the container stops", async () => {
        const pod = `follower-${tag}`;
        await node.createPod(pod, [{ name: "c", script: "echo start; sleep 1; echo middle; sleep 1; echo end" }]);
        const r = await kubectl(["logs", "-f", pod]);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, "start\nmiddle\nend\n");
      });

      it("kubectl logs --previous prints the last run's output", async () => {
        const now = await kubectl(["logs", "restarter"]);
        assert.equal(now.code, 0, show(now));
        assert.equal(now.stdout, "second run\n");
        const prev = await kubectl(["logs", "restarter", "--previous"]);
        assert.equal(prev.code, 0, show(prev));
        assert.equal(prev.stdout, "first run\n");
      });

      it("kubectl logs --previous of a container that never restarted says so", async () => {
        const r = await kubectl(["logs", "logger", "--previous"]);
        assert.equal(r.code, 1, show(r));
        assert.match(
          r.stderr,
          /Error from server \(BadRequest\): previous terminated container "c" in pod "logger" not found/,
        );
      });

      it("kubectl logs -c picks the container; an unknown one is refused", async () => {
        const r = await kubectl(["logs", "two", "-c", "b"]);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, "from b\n");
        const bad = await kubectl(["logs", "two", "-c", "nope"]);
        assert.equal(bad.code, 1, show(bad));
        assert.match(bad.stderr, /container nope is not valid for pod two/);
      });

      it("kubectl logs of a container still being created says it is waiting", async () => {
        const r = await kubectl(["logs", "pending"]);
        assert.equal(r.code, 1, show(r));
        assert.match(
          r.stderr,
          /Error from server \(BadRequest\): container "c" in pod "pending" is waiting to start: ContainerCreating/,
        );
      });

      it("kubectl exec into a pod without a node, on a missing node, or on a node without address fails as upstream", async () => {
        const nohost = await kubectl(["exec", "nohost", "--", "true"]);
        assert.notEqual(nohost.code, 0, show(nohost));
        assert.match(nohost.stderr, /pod nohost does not have a host assigned/);
        const ghost = await kubectl(["exec", "ghost", "--", "true"]);
        assert.notEqual(ghost.code, 0, show(ghost));
        assert.match(ghost.stderr, /nodes "no-such-node" not found/);
        const stray = await kubectl(["exec", "stray", "--", "true"]);
        assert.notEqual(stray.code, 0, show(stray));
        assert.match(stray.stderr, /no preferred addresses found; known addresses: \[\]/);
      });

      it("kubectl exec runs the command and prints its output", async () => {
        const r = await kubectl(["exec", "logger", "--", "echo", "hi"]);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, "hi\n");
      });

      it("kubectl exec -i passes stdin through", async () => {
        const r = await kubectl(["exec", "-i", "logger", "--", "cat"], { stdin: "hello from stdin\nsecond line\n" });
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, "hello from stdin\nsecond line\n");
      });

      it("kubectl exec exits with the command's exit code and says so", async () => {
        const r = await kubectl(["exec", "logger", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
        assert.equal(r.code, 3, show(r));
        assert.equal(r.stdout, "out\n");
        assert.match(r.stderr, /err\n/);
        assert.match(r.stderr, /command terminated with exit code 3/);
      });

      it("kubectl exec -it runs the command on a terminal of the client's size", async () => {
        const r = await kubectlInPty(
          k.bin()!,
          [
            "exec",
            "-it",
            "logger",
            "--",
            "sh",
            "-c",
            'for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(stty size)" = "30 100" ] && break; sleep 0.2; done; tty; stty size',
          ],
          cluster.kubeconfig,
          cluster.dataDir,
        );
        assert.equal(r.code, 0, show(r));
        assert.match(r.stdout, /\/dev\/pts\/\d+\r?\n/);
        assert.match(r.stdout, /30 100/);
      });

      it("kubectl attach -i joins the container's stdin and output until it exits", async () => {
        const pod = `talker-${tag}`;
        await node.createPod(pod, [
          {
            name: "c",
            script: "while read l; do echo got:$l; done; echo bye",
            stdin: true,
            stdinOnce: true,
          },
        ]);
        const r = await kubectl(["attach", "-i", pod], { stdin: "hello\n" });
        assert.equal(r.code, 0, show(r));
        assert.match(r.stdout, /got:hello\n/);
        assert.match(r.stdout, /bye\n/);
      });

      it("kubectl cp copies a file into the container and back out", async () => {
        const dir = join(work, `cp-${tag}`);
        mkdirSync(dir, { recursive: true });
        const local = join(work, `cp-src-${tag}.bin`);
        const data = randomBytes(300 * 1024).toString("base64");
        writeFileSync(local, data);
        const up = await kubectl(["cp", local, `logger:${dir}/in.txt`]);
        assert.equal(up.code, 0, show(up));
        assert.equal(readFileSync(join(dir, "in.txt"), "utf8"), data);
        const back = join(work, `cp-back-${tag}.txt`);
        const down = await kubectl(["cp", `logger:${dir}/in.txt`, back]);
        assert.equal(down.code, 0, show(down));
        assert.equal(readFileSync(back, "utf8"), data);
      });
    });
  }
});
