/**
 * A SPDY/3.1 connection over an upgraded socket, as moby/spdystream (client-go's SPDY) speaks it:
 * streams opened by SYN_STREAM and answered by SYN_REPLY, data frames with FIN for half-close,
 * RST_STREAM, PING echo, GOAWAY on close. Frames are handled one at a time in arrival order, and
 * everything written goes out in the order it was asked for (header compression is asynchronous).
 *
 * Flow control: spdystream neither sends WINDOW_UPDATE nor honours it, so this side does not hold
 * data back for a window (a 64 KiB window would stall `kubectl cp` of a larger file). Backpressure
 * comes from TCP instead: when a stream's reader falls behind, the socket stops being read.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { HeaderCompressor, HeaderDecompressor } from "./compression.js";
import {
  decodeHeaderBlock,
  encodeControlFrame,
  encodeDataFrame,
  encodeHeaderBlock,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  type Frame,
  FrameReader,
  FrameType,
  GoAwayStatus,
  goAwayPayload,
  type HeaderBlock,
  parseGoAway,
  parsePing,
  parseRstStream,
  parseSettings,
  parseStreamHeaders,
  parseSynStream,
  parseWindowUpdate,
  pingPayload,
  RstStatus,
  rstStreamPayload,
  SPDY_VERSION,
  SpdyProtocolError,
  streamHeadersPayload,
  synStreamPayload,
} from "./frames.js";

/** Largest data frame this side writes. */
const WRITE_CHUNK = 32 * 1024;

export class SpdyStream {
  readonly id: number;
  readonly headers: HeaderBlock;
  /** Data from the peer; ends when the peer half-closes (FIN) or resets the stream. */
  readonly readable: Readable;
  private readonly conn: SpdyConnection;
  private localClosed = false;
  private remoteClosed = false;
  private replyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  /** For streams this side opened: whether the peer answered with SYN_REPLY. */
  replied = false;
  reset = false;

  constructor(conn: SpdyConnection, id: number, headers: HeaderBlock) {
    this.conn = conn;
    this.id = id;
    this.headers = headers;
    this.readable = new Readable({
      read: () => conn.resumeReading(),
    });
  }

  /** The first value of a header (names are lower case). */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  get writable(): boolean {
    return !this.localClosed && !this.reset && !this.conn.closed;
  }

  /** Sends data (in frames of at most 32 KiB); resolves once handed to the socket. */
  async write(data: Buffer): Promise<void> {
    if (!this.writable) throw new Error(`write on closed stream ${this.id}`);
    for (let at = 0; at < data.length; at += WRITE_CHUNK) {
      const piece = data.subarray(at, at + WRITE_CHUNK);
      await this.conn.send(() => encodeDataFrame(this.id, 0, piece));
    }
  }

  /** Half-closes this side (an empty data frame with FIN). */
  async end(): Promise<void> {
    if (!this.writable) return;
    this.localClosed = true;
    await this.conn.send(() => encodeDataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
    this.conn.maybeForget(this);
  }

  /** Tears the stream down both ways (RST_STREAM). */
  async resetStream(status: number = RstStatus.CANCEL): Promise<void> {
    if (this.reset || this.conn.closed) return;
    this.reset = true;
    this.localClosed = true;
    this.remoteFinished();
    await this.conn.send(() => encodeControlFrame(FrameType.RST_STREAM, 0, rstStreamPayload(this.id, status)));
    this.conn.forget(this);
  }

  /** Answers a stream the peer opened. */
  async reply(headers: HeaderBlock = new Map(), fin = false): Promise<void> {
    const block = encodeHeaderBlock(headers);
    if (fin) this.localClosed = true;
    await this.conn.sendWithHeaders(block, (compressed) =>
      encodeControlFrame(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, streamHeadersPayload(this.id, compressed)),
    );
  }

  /** For streams this side opened: resolves when the peer replies, rejects on reset. */
  waitReply(): Promise<void> {
    if (this.replied) return Promise.resolve();
    if (this.reset) return Promise.reject(new Error(`stream ${this.id} was reset`));
    return new Promise((resolve, reject) => this.replyWaiters.push({ resolve, reject }));
  }

  /** @internal */
  markReplied(): void {
    this.replied = true;
    for (const w of this.replyWaiters.splice(0)) w.resolve();
  }

  /** @internal data from the peer; false when the reader is behind. */
  deliver(data: Buffer): boolean {
    if (this.remoteClosed || data.length === 0) return true;
    return this.readable.push(data);
  }

  /** @internal the peer will send nothing more. */
  remoteFinished(): void {
    if (this.remoteClosed) return;
    this.remoteClosed = true;
    this.readable.push(null);
    for (const w of this.replyWaiters.splice(0)) w.reject(new Error(`stream ${this.id} was reset`));
  }

  /** @internal */
  markLocalClosed(): void {
    this.localClosed = true;
  }

  get fullyClosed(): boolean {
    return this.localClosed && this.remoteClosed;
  }
}

export interface SpdyConnectionOptions {
  /** The server answers streams with odd ids and opens even ones; the client the other way. */
  role: "server" | "client";
  /** Bytes already read past the upgrade response/request. */
  head?: Buffer;
}

/**
 * Events: "stream" (SpdyStream the peer opened, to be answered with reply()), "goaway",
 * "close" (the socket is gone), "error" is never emitted: protocol errors end the connection.
 */
export class SpdyConnection extends EventEmitter {
  private readonly socket: Duplex;
  private readonly role: "server" | "client";
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private frames: Frame[] = [];
  private processing = false;
  private writeChain: Promise<void> = Promise.resolve();
  private lastPeerStreamId = 0;
  private nextStreamId: number;
  private nextPingId: number;
  private readonly pings = new Map<number, () => void>();
  private paused = false;
  goneAway = false;
  closed = false;

  constructor(socket: Duplex, opts: SpdyConnectionOptions) {
    super();
    this.socket = socket;
    this.role = opts.role;
    this.nextStreamId = opts.role === "server" ? 2 : 1;
    this.nextPingId = opts.role === "server" ? 2 : 1;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.onClose());
    socket.on("error", () => this.onClose());
    socket.on("end", () => {
      // the peer will send nothing more: every stream's remote side is done
      for (const s of this.streams.values()) s.remoteFinished();
    });
    if (opts.head && opts.head.length > 0) this.onData(opts.head);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.frames.push(...this.reader.push(chunk));
    } catch (e) {
      this.fail(e);
      return;
    }
    void this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.frames.length > 0 && !this.closed) {
        const f = this.frames.shift()!;
        await this.handle(f);
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.processing = false;
    }
  }

  private async handle(f: Frame): Promise<void> {
    if (f.kind === "data") {
      const s = this.streams.get(f.streamId);
      if (!s) return; // data for a stream that is gone is dropped, as spdystream does
      if (!s.deliver(f.data)) this.pauseReading();
      if ((f.flags & FLAG_FIN) !== 0) {
        s.remoteFinished();
        this.maybeForget(s);
      }
      return;
    }
    if (f.version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${f.version}`);
    switch (f.type) {
      case FrameType.SYN_STREAM: {
        const syn = parseSynStream(f.data);
        const headers = decodeHeaderBlock(await this.decompressor.decompress(syn.headerBlock));
        const peerParity = this.role === "server" ? 1 : 0;
        if (syn.streamId === 0 || syn.streamId % 2 !== peerParity || syn.streamId <= this.lastPeerStreamId) {
          await this.send(() =>
            encodeControlFrame(FrameType.RST_STREAM, 0, rstStreamPayload(syn.streamId, RstStatus.PROTOCOL_ERROR)),
          );
          return;
        }
        if (this.goneAway) {
          await this.send(() =>
            encodeControlFrame(FrameType.RST_STREAM, 0, rstStreamPayload(syn.streamId, RstStatus.REFUSED_STREAM)),
          );
          return;
        }
        this.lastPeerStreamId = syn.streamId;
        const s = new SpdyStream(this, syn.streamId, headers);
        this.streams.set(s.id, s);
        if ((f.flags & FLAG_FIN) !== 0) s.remoteFinished();
        if ((f.flags & FLAG_UNIDIRECTIONAL) !== 0) s.markLocalClosed();
        this.emit("stream", s);
        return;
      }
      case FrameType.SYN_REPLY: {
        const r = parseStreamHeaders(f.data, "SYN_REPLY");
        decodeHeaderBlock(await this.decompressor.decompress(r.headerBlock));
        const s = this.streams.get(r.streamId);
        if (!s || s.replied) return;
        s.markReplied();
        if ((f.flags & FLAG_FIN) !== 0) {
          s.remoteFinished();
          this.maybeForget(s);
        }
        return;
      }
      case FrameType.HEADERS: {
        // the block must be inflated to keep the shared zlib stream in step; the values are unused
        const h = parseStreamHeaders(f.data, "HEADERS");
        decodeHeaderBlock(await this.decompressor.decompress(h.headerBlock));
        const s = this.streams.get(h.streamId);
        if (s && (f.flags & FLAG_FIN) !== 0) {
          s.remoteFinished();
          this.maybeForget(s);
        }
        return;
      }
      case FrameType.RST_STREAM: {
        const r = parseRstStream(f.data);
        const s = this.streams.get(r.streamId);
        if (!s) return;
        s.reset = true;
        s.markLocalClosed();
        s.remoteFinished();
        this.streams.delete(s.id);
        return;
      }
      case FrameType.SETTINGS:
        // INITIAL_WINDOW_SIZE and the rest: see the flow control note at the top
        parseSettings(f.data);
        return;
      case FrameType.PING: {
        const id = parsePing(f.data);
        if (id % 2 !== this.nextPingId % 2) {
          await this.send(() => encodeControlFrame(FrameType.PING, 0, pingPayload(id)));
        } else {
          this.pings.get(id)?.();
          this.pings.delete(id);
        }
        return;
      }
      case FrameType.GOAWAY:
        parseGoAway(f.data);
        this.goneAway = true;
        this.emit("goaway");
        return;
      case FrameType.WINDOW_UPDATE:
        parseWindowUpdate(f.data);
        return;
      default:
        // SPDY says unknown control frames are ignored
        return;
    }
  }

  /** @internal a stream's reader wants more. */
  resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  private pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  /** @internal queues bytes for the socket in order; resolves once written (or the socket is gone). */
  send(make: () => Buffer): Promise<void> {
    const job = this.writeChain.then(() => this.write(make()));
    this.writeChain = job.catch(() => undefined);
    return job;
  }

  /** @internal queues a frame carrying a header block (compressed in order with the rest). */
  sendWithHeaders(block: Buffer, make: (compressed: Buffer) => Buffer): Promise<void> {
    const job = this.writeChain.then(async () => {
      const compressed = await this.compressor.compress(block);
      await this.write(make(compressed));
    });
    this.writeChain = job.catch(() => undefined);
    return job;
  }

  private write(buf: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.socket.write(buf)) {
        resolve();
        return;
      }
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  /** Opens a stream (client side of exec, or a server push). Resolves once SYN_STREAM is written. */
  async openStream(headers: HeaderBlock, fin = false): Promise<SpdyStream> {
    if (this.closed || this.goneAway) throw new Error("connection is closed");
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const s = new SpdyStream(this, id, headers);
    this.streams.set(id, s);
    if (fin) s.markLocalClosed();
    await this.sendWithHeaders(encodeHeaderBlock(headers), (compressed) =>
      encodeControlFrame(
        FrameType.SYN_STREAM,
        fin ? FLAG_FIN : 0,
        synStreamPayload({ streamId: id, associatedTo: 0, priority: 0, slot: 0 }, compressed),
      ),
    );
    return s;
  }

  /** Sends a PING; resolves when the peer echoes it. */
  ping(): Promise<void> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error("connection is closed"));
        return;
      }
      this.pings.set(id, resolve);
      this.send(() => encodeControlFrame(FrameType.PING, 0, pingPayload(id))).catch(reject);
    });
  }

  /** @internal */
  maybeForget(s: SpdyStream): void {
    if (s.fullyClosed) this.streams.delete(s.id);
  }

  /** @internal */
  forget(s: SpdyStream): void {
    this.streams.delete(s.id);
  }

  /**
   * Sends GOAWAY after everything queued, then ends the socket; destroys it if the peer has not
   * closed within graceMs.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    if (!this.goneAway) {
      this.goneAway = true;
      await this.send(() =>
        encodeControlFrame(FrameType.GOAWAY, 0, goAwayPayload(this.lastPeerStreamId, GoAwayStatus.OK)),
      );
    }
    await this.writeChain;
    if (!this.socket.destroyed) {
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), graceMs);
      t.unref();
      this.socket.once("close", () => clearTimeout(t));
    }
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.onClose();
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    const status = e instanceof SpdyProtocolError ? GoAwayStatus.PROTOCOL_ERROR : GoAwayStatus.INTERNAL_ERROR;
    if (!this.socket.destroyed && !this.goneAway) {
      this.goneAway = true;
      this.socket.write(encodeControlFrame(FrameType.GOAWAY, 0, goAwayPayload(this.lastPeerStreamId, status)));
    }
    this.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) {
      s.markLocalClosed();
      s.remoteFinished();
    }
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit("close");
  }
}
