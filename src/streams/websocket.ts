/**
 * The WebSocket side of exec/attach (kubectl >= 1.30 speaks v5.channel.k8s.io): every message
 * starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); the base64 variants
 * send text frames with the channel as an ASCII digit and a base64 payload. v5 adds the close
 * signal [255, channel] with which the client half-closes stdin. As the kubelet does, an empty
 * message on the lowest writable channel tells the client the streams are ready.
 */
import type { IncomingMessage } from "node:http";
import { type Duplex, Readable, Writable } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import {
  CHANNEL,
  CLOSE_CHANNEL,
  DEFAULT_WEBSOCKET_PROTOCOL,
  headerValues,
  ResizeDecoder,
  type StreamOptions,
  WEBSOCKET_PROTOCOLS,
  type WebSocketProtocol,
} from "./protocols.js";
import { CLOSE_GRACE_MS, type RemoteCommandSession, ResizeEvents } from "./session.js";
import { writeHttpError } from "./spdy/session.js";
import { type CommandResult, encodeStatus, statusFor } from "./status.js";

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (
    String(req.headers.upgrade ?? "").toLowerCase() === "websocket" &&
    /(^|,)\s*upgrade\s*($|,)/i.test(String(req.headers.connection ?? ""))
  );
}

/** The subprotocol to answer with: the client's first that is served; "" when it named none. */
export function chooseWebSocketProtocol(offered: readonly string[]): WebSocketProtocol | undefined {
  if (offered.length === 0) return DEFAULT_WEBSOCKET_PROTOCOL;
  for (const name of offered) {
    const p = WEBSOCKET_PROTOCOLS.find((w) => w.name === name);
    if (p) return p;
  }
  return undefined;
}

/** Most bytes one message may carry (a hostile client cannot make the server buffer more). */
const MAX_MESSAGE = 16 * 1024 * 1024;

let server: WebSocketServer | undefined;
function wsServer(): WebSocketServer {
  server ??= new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: MAX_MESSAGE,
    handleProtocols: (protocols) => chooseWebSocketProtocol([...protocols])?.name || false,
  });
  return server;
}

/** Completes the WebSocket handshake; undefined when the client asked only for protocols not served. */
export async function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: StreamOptions,
): Promise<RemoteCommandSession | undefined> {
  const offered = headerValues(req.headers["sec-websocket-protocol"]);
  const protocol = chooseWebSocketProtocol(offered);
  if (!protocol) {
    writeHttpError(
      socket,
      403,
      `requested protocol(s) are not supported: [${offered.join(" ")}]; supports [${WEBSOCKET_PROTOCOLS.map((p) => p.name).join(" ")}]`,
    );
    return undefined;
  }
  const ws = await new Promise<WebSocket | undefined>((resolve) => {
    const onClose = () => resolve(undefined);
    socket.once("close", onClose);
    wsServer().handleUpgrade(req, socket, head, (w) => {
      socket.off("close", onClose);
      resolve(w);
    });
  });
  if (!ws) return undefined;
  return new WebSocketSession(ws, protocol, options);
}

class WebSocketSession implements RemoteCommandSession {
  readonly transport = "websocket" as const;
  readonly protocol: string;
  readonly options: StreamOptions;
  readonly stdin: Readable | undefined;
  readonly stdout: Writable | undefined;
  readonly stderr: Writable | undefined;
  private readonly ws: WebSocket;
  private readonly proto: WebSocketProtocol;
  private readonly resize = new ResizeEvents();
  private readonly resizeDecoder = new ResizeDecoder();
  private readonly aborter = new AbortController();
  private finished = false;
  private paused = false;

  constructor(ws: WebSocket, proto: WebSocketProtocol, options: StreamOptions) {
    this.ws = ws;
    this.proto = proto;
    this.protocol = proto.name;
    this.options = options;
    this.stdin = options.stdin
      ? new Readable({
          read: () => {
            if (this.paused) {
              this.paused = false;
              ws.resume();
            }
          },
        })
      : undefined;
    this.stdout = options.stdout ? this.channelWriter(CHANNEL.stdout) : undefined;
    this.stderr = options.stderr ? this.channelWriter(CHANNEL.stderr) : undefined;
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on("close", () => {
      this.stdin?.push(null);
      if (!this.finished) this.aborter.abort(new Error("the client closed the connection"));
      this.stdout?.destroy();
      this.stderr?.destroy();
    });
    ws.on("error", () => ws.terminate());
    const first = options.stdout ? CHANNEL.stdout : options.stderr ? CHANNEL.stderr : CHANNEL.error;
    this.send(first, Buffer.alloc(0)).catch(() => undefined);
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  onResize(listener: (size: { width: number; height: number }) => void): void {
    this.resize.on(listener);
  }

  private onMessage(raw: Buffer, _isBinary: boolean): void {
    if (raw.length === 0) return;
    let channel = raw[0]!;
    let data: Buffer = raw.subarray(1);
    if (this.proto.base64) {
      channel -= 48; // '0'
      const text = data.toString("latin1");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return; // upstream drops a frame it cannot decode
      data = Buffer.from(text, "base64");
    }
    if (this.proto.streamClose && raw[0] === CLOSE_CHANNEL) {
      if (raw.length !== 2) return;
      if (raw[1] === CHANNEL.stdin) this.stdin?.push(null);
      return;
    }
    switch (channel) {
      case CHANNEL.stdin:
        if (this.stdin && !this.stdin.readableEnded && data.length > 0 && !this.stdin.push(data)) {
          this.paused = true;
          this.ws.pause();
        }
        return;
      case CHANNEL.resize:
        for (const size of this.resizeDecoder.push(data)) this.resize.emit(size);
        return;
      default:
        // frames for channels the server only writes are ignored
        return;
    }
  }

  private send(channel: number, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== this.ws.OPEN) {
        reject(new Error("the WebSocket is closed"));
        return;
      }
      const frame = this.proto.base64
        ? String.fromCharCode(48 + channel) + data.toString("base64")
        : Buffer.concat([Buffer.from([channel]), data]);
      this.ws.send(frame, { binary: !this.proto.base64 }, (err) => (err ? reject(err) : resolve()));
    });
  }

  private channelWriter(channel: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (this.ws.readyState !== this.ws.OPEN) {
          cb();
          return;
        }
        this.send(channel, chunk).then(() => cb(), cb);
      },
    });
  }

  async finish(result: CommandResult): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await Promise.all([flushed(this.stdout), flushed(this.stderr)]);
    const bytes = encodeStatus(statusFor(result), this.proto.jsonStatus);
    if (bytes.length > 0) await this.send(CHANNEL.error, bytes).catch(() => undefined);
    if (this.ws.readyState === this.ws.OPEN) {
      this.ws.close(1000);
      const t = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
      t.unref();
      this.ws.once("close", () => clearTimeout(t));
    }
  }
}

function flushed(w: Writable | undefined): Promise<void> {
  if (!w || w.destroyed || w.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    w.once("finish", () => resolve());
    w.once("close", () => resolve());
    w.once("error", () => resolve());
    if (!w.writableEnded) w.end();
  });
}
