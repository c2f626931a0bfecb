/**
 * The SPDY side of `kubectl port-forward` (protocol portforward.k8s.io, which kubectl also falls
 * back to when a WebSocket tunnel is refused), as the kubelet's httpstream port-forward handler:
 * the client opens a pair of streams per connection it forwards, an `error` and a `data` stream
 * with the same `requestID` (older clients send none: the data stream's id is the error stream's
 * plus 2) and a `port` header. Each complete pair is handed to `forward`; what it fails with is
 * written on the error stream ("error forwarding port ..."), then both streams close. A pair still
 * incomplete after 30 s is dropped with "timed out waiting for streams".
 */
import type { IncomingMessage } from "node:http";
import { Duplex } from "node:stream";
import { headerValues, negotiate } from "../protocols.js";
import type { SpdyStream } from "./connection.js";
import { SpdyConnection } from "./connection.js";
import { RstStatus } from "./frames.js";
import { isSpdyUpgrade, STREAM_CREATION_TIMEOUT_MS, writableOf, writeHttpError } from "./session.js";

export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";

/** The streams' headers checked as upstream's httpStreamReceived does; the error says what is wrong. */
export function checkPortForwardHeaders(port: string | undefined, streamType: string | undefined): string | undefined {
  if (!port) return '"port" header is required';
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  if (!streamType) return '"streamType" header is required';
  if (streamType !== "error" && streamType !== "data") return `invalid stream type "${streamType}"`;
  return undefined;
}

/** The pair a stream belongs to (upstream's requestID, derived from the stream id for old clients). */
export function requestIdOf(s: { id: number; header(name: string): string | undefined }): string {
  const id = s.header("requestid");
  if (id) return id;
  return String(s.header("streamtype") === "data" ? s.id - 2 : s.id);
}

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/**
 * Upgrades `socket` to SPDY for port forwarding and serves it until the client closes it.
 * `forward` pipes one connection to the pod's port; `describe` names the pod in error messages.
 */
export function servePortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  forward: (port: number, stream: Duplex) => Promise<void>,
  describe: string,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): void {
  const clientProtocols = headerValues(req.headers["x-stream-protocol-version"]);
  if (clientProtocols.length === 0) {
    writeHttpError(socket, 400, "unable to upgrade: X-Stream-Protocol-Version is required");
    return;
  }
  if (negotiate(clientProtocols, [PORT_FORWARD_PROTOCOL]) === undefined) {
    writeHttpError(
      socket,
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${clientProtocols.join(" ")}], server accepts [${PORT_FORWARD_PROTOCOL}]`,
      { "X-Accepted-Stream-Protocol-Versions": PORT_FORWARD_PROTOCOL },
    );
    return;
  }
  if (!isSpdyUpgrade(req)) {
    writeHttpError(socket, 400, "unable to upgrade: missing upgrade headers in request");
    return;
  }
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
  );
  const conn = new SpdyConnection(socket, { role: "server", head });
  const pairs = new Map<string, Pair>();
  const live = new Set<Duplex>();

  const run = async (p: Pair) => {
    const error = p.error!;
    const data = p.data!;
    const port = Number(data.header("port"));
    // the client never writes on the error stream: drain it so it cannot stall the connection
    error.readable.resume();
    const stream = Duplex.from({ readable: data.readable, writable: writableOf(data) });
    // destroying it early (the forward failed, the client went) aborts it: not an error of the kubelet's
    stream.on("error", () => undefined);
    live.add(stream);
    try {
      await forward(port, stream);
    } catch (err) {
      const msg = `error forwarding port ${port} to pod ${describe}: ${err instanceof Error ? err.message : String(err)}`;
      if (error.writable) await error.write(Buffer.from(msg)).catch(() => undefined);
    } finally {
      live.delete(stream);
      stream.destroy();
      await data.end().catch(() => undefined);
      await error.end().catch(() => undefined);
    }
  };

  conn.on("stream", (s: SpdyStream) => {
    const problem = checkPortForwardHeaders(s.header("port"), s.header("streamtype"));
    if (problem) {
      void s.resetStream(RstStatus.PROTOCOL_ERROR);
      return;
    }
    const id = requestIdOf(s);
    let p = pairs.get(id);
    if (!p) {
      const timer = setTimeout(() => {
        const left = pairs.get(id);
        if (!left) return;
        pairs.delete(id);
        const e = left.error;
        if (e?.writable) {
          void e
            .write(Buffer.from(`(request=${id}) timed out waiting for streams`))
            .then(() => e.end())
            .catch(() => undefined);
        }
        void left.data?.resetStream().catch(() => undefined);
      }, timeoutMs);
      timer.unref();
      p = { timer };
      pairs.set(id, p);
    }
    const type = s.header("streamtype") === "error" ? "error" : "data";
    if (p[type]) {
      void s.resetStream(RstStatus.PROTOCOL_ERROR);
      return;
    }
    p[type] = s;
    const pair = p;
    void s.reply().then(
      () => {
        if (pair.error && pair.data && pairs.get(id) === pair) {
          clearTimeout(pair.timer);
          pairs.delete(id);
          void run(pair);
        }
      },
      () => undefined,
    );
  });
  conn.on("close", () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
    for (const d of live) d.destroy();
  });
}
