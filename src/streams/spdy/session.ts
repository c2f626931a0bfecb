/**
 * The SPDY side of exec/attach (kubectl <= 1.29, and newer kubectl's fallback): the upgrade
 * handshake with X-Stream-Protocol-Version negotiation, then the streams the client opens, one per
 * `streamType` header (error, stdin, stdout, stderr, resize), as the kubelet's
 * createHTTPStreamStreams waits for them. v4 writes the Status JSON on the error stream, v1-v3 the
 * failure's text; v1 half-closes stdin on its side at once and resets the error stream at the end.
 */
import type { IncomingMessage } from "node:http";
import { type Duplex, type Readable, Writable } from "node:stream";
import {
  headerValues,
  negotiate,
  ResizeDecoder,
  SPDY_PROTOCOLS,
  STREAM_PROTOCOL_V1,
  STREAM_PROTOCOL_V4,
  type StreamOptions,
} from "../protocols.js";
import { CLOSE_GRACE_MS, type RemoteCommandSession, ResizeEvents } from "../session.js";
import { type CommandResult, encodeStatus, statusFor } from "../status.js";
import { SpdyConnection, type SpdyStream } from "./connection.js";
import { RstStatus } from "./frames.js";

/** How long the client has to open its streams (upstream's DefaultStreamCreationTimeout). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (
    String(req.headers.upgrade ?? "").toLowerCase() === "spdy/3.1" &&
    /(^|,)\s*upgrade\s*($|,)/i.test(String(req.headers.connection ?? ""))
  );
}

/** A plain HTTP/1.1 error on a socket that was not upgraded. */
export function writeHttpError(
  socket: Duplex,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const reason =
    { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error" }[
      code
    ] ?? "Error";
  const body = `${message}\n`;
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Answers the upgrade and waits for the client's streams. Resolves undefined when the handshake
 * fails (the client got an HTTP error) or the streams do not all come in time.
 */
export async function acceptSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: StreamOptions,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<RemoteCommandSession | undefined> {
  const clientProtocols = headerValues(req.headers["x-stream-protocol-version"]);
  if (clientProtocols.length === 0) {
    writeHttpError(socket, 400, "unable to upgrade: X-Stream-Protocol-Version is required");
    return undefined;
  }
  const protocol = negotiate(clientProtocols, SPDY_PROTOCOLS);
  if (protocol === undefined) {
    writeHttpError(
      socket,
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${clientProtocols.join(" ")}], server accepts [${SPDY_PROTOCOLS.join(" ")}]`,
      { "X-Accepted-Stream-Protocol-Versions": SPDY_PROTOCOLS.join(", ") },
    );
    return undefined;
  }
  if (!isSpdyUpgrade(req)) {
    writeHttpError(socket, 400, "unable to upgrade: missing upgrade headers in request");
    return undefined;
  }
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  const conn = new SpdyConnection(socket, { role: "server", head });
  const resizing = options.tty && protocol !== STREAM_PROTOCOL_V1 && protocol !== "v2.channel.k8s.io";
  const expected = 1 + Number(options.stdin) + Number(options.stdout) + Number(options.stderr) + Number(resizing);
  const byType = new Map<string, SpdyStream>();
  let received = 0;
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    const onStream = (s: SpdyStream) => {
      const type = s.header("streamtype") ?? "";
      s.reply().then(
        () => {
          if (["error", "stdin", "stdout", "stderr", "resize"].includes(type) && !byType.has(type)) {
            byType.set(type, s);
            received++;
            if (received === expected) done(true);
          }
        },
        () => done(false),
      );
    };
    const onClose = () => done(false);
    const done = (v: boolean) => {
      clearTimeout(timer);
      conn.off("stream", onStream);
      conn.off("close", onClose);
      resolve(v);
    };
    conn.on("stream", onStream);
    conn.on("close", onClose);
  });
  if (!ok) {
    conn.destroy();
    return undefined;
  }
  return new SpdySession(conn, protocol, options, byType, resizing);
}

/** A Writable onto a stream this side writes (stdout, stderr); end() half-closes it. */
export function writableOf(s: SpdyStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!s.writable) {
        cb();
        return;
      }
      s.write(chunk).then(() => cb(), cb);
    },
    final(cb) {
      s.end().then(() => cb(), cb);
    },
  });
}

class SpdySession implements RemoteCommandSession {
  readonly transport = "spdy" as const;
  readonly protocol: string;
  readonly options: StreamOptions;
  readonly stdin: Readable | undefined;
  readonly stdout: Writable | undefined;
  readonly stderr: Writable | undefined;
  private readonly resize = new ResizeEvents();
  private readonly aborter = new AbortController();
  private readonly conn: SpdyConnection;
  private readonly streams: Map<string, SpdyStream>;
  private finished = false;

  constructor(
    conn: SpdyConnection,
    protocol: string,
    options: StreamOptions,
    streams: Map<string, SpdyStream>,
    resizing: boolean,
  ) {
    this.conn = conn;
    this.protocol = protocol;
    this.options = options;
    this.streams = streams;
    const stdin = streams.get("stdin");
    this.stdin = options.stdin && stdin ? stdin.readable : undefined;
    const stdout = streams.get("stdout");
    this.stdout = options.stdout && stdout ? writableOf(stdout) : undefined;
    const stderr = streams.get("stderr");
    this.stderr = options.stderr && stderr ? writableOf(stderr) : undefined;
    // a stream the client opened but the session has no use for is drained so it cannot stall the socket
    for (const [type, s] of streams) {
      if (type !== "stdin" && type !== "resize") s.readable.resume();
    }
    if (protocol === STREAM_PROTOCOL_V1 && stdin) void stdin.end();
    const resize = streams.get("resize");
    if (resize && resizing) {
      const decoder = new ResizeDecoder();
      resize.readable.on("data", (chunk: Buffer) => {
        for (const size of decoder.push(chunk)) this.resize.emit(size);
      });
    } else resize?.readable.resume();
    conn.on("close", () => {
      if (!this.finished) this.aborter.abort(new Error("the client closed the connection"));
      this.stdout?.destroy();
      this.stderr?.destroy();
    });
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  onResize(listener: (size: { width: number; height: number }) => void): void {
    this.resize.on(listener);
  }

  async finish(result: CommandResult): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const errorStream = this.streams.get("error");
    // what the command wrote must go out before the streams end
    await Promise.all([settle(this.stdout), settle(this.stderr)]);
    if (errorStream?.writable) {
      const bytes = encodeStatus(statusFor(result), this.protocol === STREAM_PROTOCOL_V4);
      try {
        if (bytes.length > 0) await errorStream.write(bytes);
        if (this.protocol === STREAM_PROTOCOL_V1) await errorStream.resetStream(RstStatus.CANCEL);
        else await errorStream.end();
      } catch {
        // the client is gone
      }
    }
    for (const s of this.streams.values()) {
      if (s.writable) await s.end().catch(() => undefined);
    }
    await this.conn.close(CLOSE_GRACE_MS);
  }
}

/** Waits until a Writable has flushed what it was given (ending it, which half-closes its stream). */
function settle(w: Writable | undefined): Promise<void> {
  if (!w || w.destroyed) return Promise.resolve();
  if (w.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    w.once("finish", () => resolve());
    w.once("close", () => resolve());
    w.once("error", () => resolve());
    if (!w.writableEnded) w.end();
  });
}
