import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { constants, inflateSync } from "node:zlib";
import type { StreamOptions } from "../../src/streams/protocols.js";
import type { RemoteCommandSession } from "../../src/streams/session.js";
import { HeaderCompressor, HeaderDecompressor } from "../../src/streams/spdy/compression.js";
import { SpdyConnection, type SpdyStream } from "../../src/streams/spdy/connection.js";
import { SPDY3_DICTIONARY } from "../../src/streams/spdy/dictionary.js";
import {
  decodeHeaderBlock,
  encodeControlFrame,
  encodeDataFrame,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  FrameType,
  goAwayPayload,
  parseGoAway,
  parsePing,
  parseRstStream,
  parseSettings,
  parseStreamHeaders,
  parseSynStream,
  parseWindowUpdate,
  pingPayload,
  rstStreamPayload,
  SpdyProtocolError,
  settingsPayload,
  streamHeadersPayload,
  synStreamPayload,
  windowUpdatePayload,
} from "../../src/streams/spdy/frames.js";
import { acceptSpdy } from "../../src/streams/spdy/session.js";

describe("SPDY/3 header dictionary", () => {
  it("is the draft's 1423 bytes: length-prefixed names first, the common strings last", () => {
    assert.equal(SPDY3_DICTIONARY.length, 1423);
    assert.deepEqual([...SPDY3_DICTIONARY.subarray(0, 11)], [0, 0, 0, 7, ...Buffer.from("options")]);
    assert.equal(SPDY3_DICTIONARY.subarray(-6).toString(), "enq=0.");
  });
});

describe("SPDY framing", () => {
  const cases: Array<{ name: string; frame: Buffer; check: (f: ReturnType<FrameReader["push"]>[number]) => void }> = [
    {
      name: "a data frame keeps its stream id, FIN flag and bytes",
      frame: encodeDataFrame(7, FLAG_FIN, Buffer.from("hello")),
      check: (f) => assert.deepEqual(f, { kind: "data", streamId: 7, flags: FLAG_FIN, data: Buffer.from("hello") }),
    },
    {
      name: "SYN_STREAM carries ids, priority, slot and the header block",
      frame: encodeControlFrame(
        FrameType.SYN_STREAM,
        0,
        synStreamPayload({ streamId: 3, associatedTo: 1, priority: 5, slot: 2 }, Buffer.from("hb")),
      ),
      check: (f) => {
        assert.equal(f.kind, "control");
        if (f.kind !== "control") return;
        assert.equal(f.version, 3);
        assert.equal(f.type, FrameType.SYN_STREAM);
        assert.deepEqual(parseSynStream(f.data), {
          streamId: 3,
          associatedTo: 1,
          priority: 5,
          slot: 2,
          headerBlock: Buffer.from("hb"),
        });
      },
    },
    {
      name: "SYN_REPLY and HEADERS carry the stream id and the block",
      frame: encodeControlFrame(FrameType.SYN_REPLY, FLAG_FIN, streamHeadersPayload(9, Buffer.from("x"))),
      check: (f) => {
        assert.ok(f.kind === "control" && f.flags === FLAG_FIN);
        assert.deepEqual(parseStreamHeaders(f.data, "SYN_REPLY"), { streamId: 9, headerBlock: Buffer.from("x") });
      },
    },
    {
      name: "RST_STREAM carries the stream and status",
      frame: encodeControlFrame(FrameType.RST_STREAM, 0, rstStreamPayload(5, 5)),
      check: (f) => assert.deepEqual(parseRstStream(f.data), { streamId: 5, status: 5 }),
    },
    {
      name: "SETTINGS entries keep flags, 24-bit ids and values",
      frame: encodeControlFrame(
        FrameType.SETTINGS,
        0,
        settingsPayload([
          { flags: 1, id: 7, value: 65536 },
          { flags: 0, id: 4, value: 100 },
        ]),
      ),
      check: (f) =>
        assert.deepEqual(parseSettings(f.data), [
          { flags: 1, id: 7, value: 65536 },
          { flags: 0, id: 4, value: 100 },
        ]),
    },
    {
      name: "PING carries its id",
      frame: encodeControlFrame(FrameType.PING, 0, pingPayload(0xfffffffe)),
      check: (f) => assert.equal(parsePing(f.data), 0xfffffffe),
    },
    {
      name: "GOAWAY carries the last good stream and status",
      frame: encodeControlFrame(FrameType.GOAWAY, 0, goAwayPayload(11, 2)),
      check: (f) => assert.deepEqual(parseGoAway(f.data), { lastGoodStreamId: 11, status: 2 }),
    },
    {
      name: "WINDOW_UPDATE carries the stream and delta",
      frame: encodeControlFrame(FrameType.WINDOW_UPDATE, 0, windowUpdatePayload(3, 4096)),
      check: (f) => assert.deepEqual(parseWindowUpdate(f.data), { streamId: 3, delta: 4096 }),
    },
  ];
  for (const c of cases) {
    it(`${c.name}, also when the bytes come one at a time`, () => {
      const whole = new FrameReader().push(c.frame);
      assert.equal(whole.length, 1);
      c.check(whole[0]!);
      const r = new FrameReader();
      const got = [];
      for (const b of c.frame) got.push(...r.push(Buffer.from([b])));
      assert.equal(got.length, 1);
      c.check(got[0]!);
    });
  }

  it("a frame larger than allowed is a protocol error", () => {
    const r = new FrameReader(16);
    assert.throws(() => r.push(encodeDataFrame(1, 0, Buffer.alloc(17))), SpdyProtocolError);
  });

  it("a header block round-trips, multiple values joined with NUL", () => {
    const h = new Map([
      ["streamtype", ["stdout"]],
      ["x-multi", ["a", "b"]],
    ]);
    const block = encodeHeaderBlock(h);
    assert.equal(block.readUInt32BE(0), 2);
    assert.deepEqual(decodeHeaderBlock(block), h);
  });

  it("malformed header blocks are refused", () => {
    const upper = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), Buffer.from("A"), Buffer.from([0, 0, 0, 0])]);
    assert.throws(() => decodeHeaderBlock(upper), /lowercased/);
    assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 97])), /truncated/);
    const dup = encodeHeaderBlock(new Map([["a", ["1"]]]));
    const twice = Buffer.concat([Buffer.from([0, 0, 0, 2]), dup.subarray(4), dup.subarray(4)]);
    assert.throws(() => decodeHeaderBlock(twice), /same name/);
  });
});

describe("SPDY header compression", () => {
  it("blocks compressed on one stream inflate in order, and as one zlib stream with the dictionary", async () => {
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    const blocks = [
      encodeHeaderBlock(new Map([["streamtype", ["error"]]])),
      encodeHeaderBlock(new Map([["streamtype", ["stdout"]]])),
      encodeHeaderBlock(new Map()),
    ];
    const compressed = await Promise.all(blocks.map((b) => c.compress(b)));
    // the second block reuses the first's history: shorter than the first
    assert.ok(compressed[1]!.length < compressed[0]!.length);
    for (let i = 0; i < blocks.length; i++) assert.deepEqual(await d.decompress(compressed[i]!), blocks[i]);
    const all = inflateSync(Buffer.concat(compressed), {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    assert.deepEqual(all, Buffer.concat(blocks));
    c.close();
    d.close();
  });

  it("garbage fails decompression instead of hanging", async () => {
    const d = new HeaderDecompressor();
    await assert.rejects(d.decompress(Buffer.from("definitely not zlib")), SpdyProtocolError);
    d.close();
  });
});

/** A connected pair of sockets on loopback. */
async function socketPair(): Promise<{ a: Socket; b: Socket; close: () => void }> {
  const server = (await import("node:net")).createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once("connection", r));
  const a = connect(port, "127.0.0.1");
  const b = await accepted;
  return {
    a,
    b,
    close: () => {
      a.destroy();
      b.destroy();
      server.close();
    },
  };
}

function readAll(s: SpdyStream): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    s.readable.on("data", (d: Buffer) => {
      text += d.toString();
    });
    s.readable.on("end", () => resolve(text));
  });
}

describe("SPDY connection", () => {
  it("a client opens streams, the server replies, data flows both ways and FIN ends each side", async () => {
    const { a, b, close } = await socketPair();
    const client = new SpdyConnection(a, { role: "client" });
    const server = new SpdyConnection(b, { role: "server" });
    const got = new Promise<SpdyStream>((r) => server.once("stream", r));
    const s = await client.openStream(new Map([["streamtype", ["stdin"]]]));
    assert.equal(s.id, 1);
    const peer = await got;
    assert.equal(peer.header("streamType"), "stdin");
    await peer.reply();
    await s.waitReply();
    const serverRead = readAll(peer);
    const big = Buffer.alloc(200 * 1024, 120);
    await s.write(big);
    await s.end();
    assert.equal((await serverRead).length, big.length);
    const clientRead = readAll(s);
    await peer.write(Buffer.from("back"));
    await peer.end();
    assert.equal(await clientRead, "back");
    await client.ping();
    const goaway = new Promise<void>((r) => client.once("goaway", () => r()));
    await server.close(100);
    await goaway;
    close();
  });

  it("a stream id going backwards is reset with PROTOCOL_ERROR", async () => {
    const { a, b, close } = await socketPair();
    const server = new SpdyConnection(b, { role: "server" });
    const frames: Array<ReturnType<FrameReader["push"]>[number]> = [];
    const reader = new FrameReader();
    a.on("data", (d: Buffer) => frames.push(...reader.push(d)));
    const c = new HeaderCompressor();
    const syn = async (id: number) =>
      encodeControlFrame(
        FrameType.SYN_STREAM,
        0,
        synStreamPayload(
          { streamId: id, associatedTo: 0, priority: 0, slot: 0 },
          await c.compress(encodeHeaderBlock(new Map())),
        ),
      );
    const streams: number[] = [];
    server.on("stream", (s: SpdyStream) => streams.push(s.id));
    a.write(await syn(5));
    a.write(await syn(3));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(streams, [5]);
    const rst = frames.find((f) => f.kind === "control" && f.type === FrameType.RST_STREAM);
    assert.ok(rst);
    assert.deepEqual(parseRstStream(rst.data), { streamId: 3, status: 1 });
    c.close();
    close();
  });
});

/** An HTTP server whose upgrades become SPDY remote command sessions. */
function sessionServer(
  onSession: (s: RemoteCommandSession) => void,
  options: StreamOptions,
): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void acceptSpdy(req, socket, head, options, 2000).then((s) => s && onSession(s));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port })),
  );
}

/** A small SPDY remote command client: upgrade, then open the streams client-go opens. */
async function spdyClient(port: number, protocols: string[], types: string[]) {
  const sock = connect(port, "127.0.0.1");
  await new Promise<void>((r) => sock.once("connect", () => r()));
  sock.write(
    `POST /exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${protocols.map((p) => `X-Stream-Protocol-Version: ${p}\r\n`).join("")}\r\n`,
  );
  const { head, rest } = await new Promise<{ head: string; rest: Buffer }>((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        sock.off("data", onData);
        resolve({ head: buf.subarray(0, end).toString(), rest: buf.subarray(end + 4) });
      }
    };
    sock.on("data", onData);
  });
  if (!head.startsWith("HTTP/1.1 101")) {
    const body = await new Promise<string>((r) => {
      let t = rest.toString();
      sock.on("data", (d: Buffer) => {
        t += d.toString();
      });
      sock.on("close", () => r(t));
    });
    return { head, body, streams: new Map<string, SpdyStream>(), conn: undefined };
  }
  const conn = new SpdyConnection(sock, { role: "client", head: rest });
  const streams = new Map<string, SpdyStream>();
  for (const t of types) {
    const s = await conn.openStream(new Map([["streamtype", [t]]]));
    await s.waitReply();
    streams.set(t, s);
  }
  return { head, body: "", streams, conn };
}

describe("SPDY remote command sessions", () => {
  let sessions: RemoteCommandSession[] = [];
  let srv: { server: Server; port: number };
  before(async () => {
    srv = await sessionServer((s) => sessions.push(s), { stdin: true, stdout: true, stderr: true, tty: false });
  });
  after(() => srv.server.close());

  const waitSession = async () => {
    for (let i = 0; i < 100 && sessions.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const s = sessions.shift();
    assert.ok(s, "no session");
    return s;
  };

  const table = [
    {
      protocol: "v4.channel.k8s.io",
      error: JSON.stringify({
        metadata: {},
        status: "Failure",
        message: "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
        reason: "NonZeroExitCode",
        details: { causes: [{ reason: "ExitCode", message: "3" }] },
      }),
    },
    {
      protocol: "v3.channel.k8s.io",
      error: "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
    },
    {
      protocol: "v2.channel.k8s.io",
      error: "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
    },
    {
      // v1 resets the error stream after the message (the 1.0 kubelet's behaviour)
      protocol: "channel.k8s.io",
      error: "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
    },
  ];
  for (const c of table) {
    it(`${c.protocol}: stdin reaches the session, stdout comes back, the error stream carries the exit`, async () => {
      sessions = [];
      const cl = await spdyClient(srv.port, [c.protocol], ["error", "stdin", "stdout", "stderr"]);
      assert.match(cl.head, new RegExp(`X-Stream-Protocol-Version: ${c.protocol.replace(/\./g, "\\.")}`));
      const s = await waitSession();
      assert.equal(s.protocol, c.protocol);
      const stdinText = new Promise<string>((r) => {
        let t = "";
        s.stdin!.on("data", (d: Buffer) => {
          t += d.toString();
        });
        s.stdin!.on("end", () => r(t));
      });
      await cl.streams.get("stdin")!.write(Buffer.from("typed"));
      await cl.streams.get("stdin")!.end();
      assert.equal(await stdinText, "typed");
      const out = readAll(cl.streams.get("stdout")!);
      const err = readAll(cl.streams.get("error")!);
      s.stdout!.write("printed");
      await s.finish({ exitCode: 3, argv: ["sh", "-c", "exit 3"] });
      assert.equal(await out, "printed");
      assert.equal(await err, c.error);
    });
  }

  it("success writes an empty error stream before v4, and a Success Status with v4", async () => {
    for (const [protocol, expected] of [
      ["v3.channel.k8s.io", ""],
      ["v4.channel.k8s.io", '{"metadata":{},"status":"Success"}'],
    ] as const) {
      sessions = [];
      const cl = await spdyClient(srv.port, [protocol], ["error", "stdin", "stdout", "stderr"]);
      const s = await waitSession();
      const err = readAll(cl.streams.get("error")!);
      await s.finish({ exitCode: 0 });
      assert.equal(await err, expected);
    }
  });

  it("a client without X-Stream-Protocol-Version gets 400; one without a common version 403 with the accepted ones", async () => {
    const none = await spdyClient(srv.port, [], []);
    assert.match(none.head, /^HTTP\/1.1 400/);
    assert.match(none.body, /unable to upgrade: X-Stream-Protocol-Version is required/);
    const bad = await spdyClient(srv.port, ["v9.channel.k8s.io"], []);
    assert.match(bad.head, /^HTTP\/1.1 403/);
    assert.match(bad.head, /X-Accepted-Stream-Protocol-Versions: v4.channel.k8s.io, v3.channel.k8s.io/);
    assert.match(bad.body, /unable to negotiate protocol: client supports \[v9.channel.k8s.io\]/);
  });

  it("a client that does not open all its streams in time gets the connection closed", async () => {
    sessions = [];
    const cl = await spdyClient(srv.port, ["v4.channel.k8s.io"], ["error"]);
    const closed = new Promise<void>((r) => cl.conn!.once("close", () => r()));
    await closed;
    assert.equal(sessions.length, 0);
  });
});
