import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { RemoteCommandSession } from "../../src/streams/session.js";
import { acceptWebSocket, chooseWebSocketProtocol } from "../../src/streams/websocket.js";

interface Received {
  ws: WebSocket;
  protocol: string;
  messages: Buffer[];
  texts: string[];
  closed: Promise<number>;
}

describe("WebSocket remote command sessions", () => {
  let server: Server;
  let port = 0;
  const sessions: RemoteCommandSession[] = [];

  before(async () => {
    server = createServer();
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? "/", "http://x");
      const tty = url.searchParams.get("tty") === "1";
      void acceptWebSocket(req, socket, head, { stdin: true, stdout: true, stderr: !tty, tty }).then(
        (s) => s && sessions.push(s),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  async function open(protocols: string[], query = ""): Promise<Received> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/exec${query}`, protocols);
    const messages: Buffer[] = [];
    const texts: string[] = [];
    ws.on("message", (d: Buffer, isBinary: boolean) => {
      if (isBinary) messages.push(d);
      else texts.push(d.toString());
    });
    const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return { ws, protocol: ws.protocol, messages, texts, closed };
  }

  async function session(): Promise<RemoteCommandSession> {
    for (let i = 0; i < 100 && sessions.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const s = sessions.shift();
    assert.ok(s);
    return s;
  }

  const text = (s: RemoteCommandSession) =>
    new Promise<string>((resolve) => {
      let t = "";
      s.stdin!.on("data", (d: Buffer) => {
        t += d.toString();
      });
      s.stdin!.on("end", () => resolve(t));
    });

  it("v5: an empty stdout frame first, stdin on channel 0, the close signal ends stdin, the Status on channel 3", async () => {
    const c = await open(["v5.channel.k8s.io", "v4.channel.k8s.io"]);
    assert.equal(c.protocol, "v5.channel.k8s.io");
    const s = await session();
    const typed = text(s);
    c.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("abc")]));
    c.ws.send(Buffer.from([255, 0]));
    assert.equal(await typed, "abc");
    s.stdout!.write(Buffer.from("out"));
    s.stderr!.write(Buffer.from("err"));
    await s.finish({ exitCode: 3, argv: ["sh", "-c", "exit 3"] });
    assert.equal(await c.closed, 1000);
    assert.deepEqual(c.messages[0], Buffer.from([1]));
    assert.deepEqual(c.messages[1], Buffer.from([1, ...Buffer.from("out")]));
    assert.deepEqual(c.messages[2], Buffer.from([2, ...Buffer.from("err")]));
    const status = JSON.parse(c.messages[3]!.subarray(1).toString());
    assert.equal(c.messages[3]![0], 3);
    assert.deepEqual(status, {
      metadata: {},
      status: "Failure",
      message: "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
  });

  it("v4: the close signal means nothing (stdin ends with the connection); success is a Success Status", async () => {
    const c = await open(["v4.channel.k8s.io"]);
    const s = await session();
    let ended = false;
    s.stdin!.on("end", () => {
      ended = true;
    });
    s.stdin!.resume();
    c.ws.send(Buffer.from([255, 0]));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(ended, false);
    await s.finish({ exitCode: 0 });
    await c.closed;
    assert.deepEqual(JSON.parse(c.messages.at(-1)!.subarray(1).toString()), { metadata: {}, status: "Success" });
  });

  it("v4.base64: text frames, the channel as a digit and the data in base64, both ways", async () => {
    const c = await open(["v4.base64.channel.k8s.io"]);
    assert.equal(c.protocol, "v4.base64.channel.k8s.io");
    const s = await session();
    const got = new Promise<string>((r) => s.stdin!.once("data", (d: Buffer) => r(d.toString())));
    c.ws.send(`0${Buffer.from("hi there").toString("base64")}`);
    assert.equal(await got, "hi there");
    s.stdout!.write(Buffer.from("yes"));
    await s.finish({ exitCode: 0 });
    await c.closed;
    assert.equal(c.texts[0], "1");
    assert.equal(c.texts[1], `1${Buffer.from("yes").toString("base64")}`);
  });

  it("channel.k8s.io (v1): a failure's message as text, nothing on success", async () => {
    const c = await open(["channel.k8s.io"]);
    const s = await session();
    await s.finish({ exitCode: 2, argv: ["false"] });
    await c.closed;
    assert.equal(
      c.messages.at(-1)!.subarray(1).toString(),
      "command terminated with non-zero exit code: error executing command [false], exit code 2",
    );
    const ok = await open(["channel.k8s.io"]);
    const s2 = await session();
    await s2.finish({ exitCode: 0 });
    await ok.closed;
    assert.ok(ok.messages.every((m) => m[0] !== 3));
  });

  it("terminal sizes on channel 4 reach listeners, also one registered late", async () => {
    const c = await open(["v5.channel.k8s.io"], "?tty=1");
    const s = await session();
    const sizes: Array<{ width: number; height: number }> = [];
    const first = new Promise<void>((r) =>
      s.onResize((z) => {
        sizes.push(z);
        r();
      }),
    );
    c.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":120,')]));
    c.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('"Height":40}')]));
    await first;
    const late: Array<{ width: number; height: number }> = [];
    s.onResize((z) => late.push(z));
    assert.deepEqual(sizes, [{ width: 120, height: 40 }]);
    assert.deepEqual(late, [{ width: 120, height: 40 }]);
    await s.finish({ exitCode: 0 });
    await c.closed;
  });

  it("a client offering only unknown subprotocols is refused with 403", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/exec`, ["v9.channel.k8s.io"]);
    const code = await new Promise<number>((resolve) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => undefined);
    });
    assert.equal(code, 403);
  });

  it("the client's order of preference decides", () => {
    assert.equal(chooseWebSocketProtocol(["v4.channel.k8s.io", "v5.channel.k8s.io"])?.name, "v4.channel.k8s.io");
    assert.equal(chooseWebSocketProtocol(["x", "v5.channel.k8s.io"])?.name, "v5.channel.k8s.io");
    assert.equal(chooseWebSocketProtocol([])?.name, "");
    assert.equal(chooseWebSocketProtocol(["x"]), undefined);
  });
});
