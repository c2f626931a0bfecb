/**
 * SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 and the 3.1 changes): an 8-byte header, then
 * the payload. Control frames: bit 0 set, 15-bit version (3), 16-bit type, 8-bit flags, 24-bit
 * length. Data frames: bit 0 clear, 31-bit stream id, flags, length. Header blocks are
 * (uncompressed) a 32-bit count of name/value pairs, each a 32-bit length and bytes; multiple values
 * of one name are joined with NUL. Pure encoding and decoding; compression lives in compression.ts.
 */

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

/** Largest payload a frame may carry (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { kind: "data"; streamId: number; flags: number; data: Buffer }
  | { kind: "control"; version: number; type: number; flags: number; data: Buffer };

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpdyProtocolError";
  }
}

/** Cuts a byte stream into frames; bytes of an incomplete frame wait for the next push. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the frame at the head needs (0 until its header is complete). */
  private needed = 0;
  private readonly maxPayload: number;

  constructor(maxPayload = MAX_FRAME_PAYLOAD) {
    this.maxPayload = maxPayload;
  }

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // a large frame arriving in many pieces is joined once, when complete
    if (this.needed > 0 && this.buffered < this.needed) return [];
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const frames: Frame[] = [];
    this.needed = 0;
    while (buf.length >= 8) {
      const length = buf.readUIntBE(5, 3);
      if (length > this.maxPayload) throw new SpdyProtocolError(`frame of ${length} bytes is larger than allowed`);
      if (buf.length < 8 + length) {
        this.needed = 8 + length;
        break;
      }
      const flags = buf[4]!;
      const data = buf.subarray(8, 8 + length);
      const first = buf.readUInt32BE(0);
      if ((first & 0x80000000) !== 0) {
        frames.push({ kind: "control", version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, data });
      } else {
        frames.push({ kind: "data", streamId: first & 0x7fffffff, flags, data });
      }
      buf = buf.subarray(8 + length);
    }
    this.chunks = buf.length > 0 ? [buf] : [];
    this.buffered = buf.length;
    return frames;
  }
}

function header(first: number, flags: number, length: number): Buffer {
  if (length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`frame payload of ${length} bytes is too large`);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(first >>> 0, 0);
  h[4] = flags;
  h.writeUIntBE(length, 5, 3);
  return h;
}

export function encodeDataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  return Buffer.concat([header(streamId & 0x7fffffff, flags, data.length), data]);
}

export function encodeControlFrame(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([header((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, flags, payload.length), payload]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => {
    b.writeUInt32BE(v >>> 0, i * 4);
  });
  return b;
}

function need(data: Buffer, n: number, what: string): void {
  if (data.length < n) throw new SpdyProtocolError(`${what} frame too short (${data.length} bytes)`);
}

export interface SynStream {
  streamId: number;
  associatedTo: number;
  priority: number;
  slot: number;
  headerBlock: Buffer;
}

export function parseSynStream(data: Buffer): SynStream {
  need(data, 10, "SYN_STREAM");
  return {
    streamId: data.readUInt32BE(0) & 0x7fffffff,
    associatedTo: data.readUInt32BE(4) & 0x7fffffff,
    priority: data[8]! >> 5,
    slot: data[9]!,
    headerBlock: data.subarray(10),
  };
}

export function synStreamPayload(s: Omit<SynStream, "headerBlock">, compressedHeaders: Buffer): Buffer {
  return Buffer.concat([
    u32(s.streamId, s.associatedTo),
    Buffer.from([(s.priority & 7) << 5, s.slot]),
    compressedHeaders,
  ]);
}

/** SYN_REPLY and HEADERS share their layout in SPDY/3: stream id, then the header block. */
export function parseStreamHeaders(data: Buffer, what: string): { streamId: number; headerBlock: Buffer } {
  need(data, 4, what);
  return { streamId: data.readUInt32BE(0) & 0x7fffffff, headerBlock: data.subarray(4) };
}

export function streamHeadersPayload(streamId: number, compressedHeaders: Buffer): Buffer {
  return Buffer.concat([u32(streamId), compressedHeaders]);
}

export function parseRstStream(data: Buffer): { streamId: number; status: number } {
  need(data, 8, "RST_STREAM");
  return { streamId: data.readUInt32BE(0) & 0x7fffffff, status: data.readUInt32BE(4) };
}

export function rstStreamPayload(streamId: number, status: number): Buffer {
  return u32(streamId, status);
}

export interface Setting {
  flags: number;
  id: number;
  value: number;
}

export function parseSettings(data: Buffer): Setting[] {
  need(data, 4, "SETTINGS");
  const n = data.readUInt32BE(0);
  if (data.length < 4 + n * 8) throw new SpdyProtocolError(`SETTINGS frame announces ${n} entries but is too short`);
  const out: Setting[] = [];
  for (let i = 0; i < n; i++) {
    const at = 4 + i * 8;
    out.push({ flags: data[at]!, id: data.readUIntBE(at + 1, 3), value: data.readUInt32BE(at + 4) });
  }
  return out;
}

export function settingsPayload(settings: Setting[]): Buffer {
  const b = Buffer.alloc(4 + settings.length * 8);
  b.writeUInt32BE(settings.length, 0);
  settings.forEach((s, i) => {
    const at = 4 + i * 8;
    b[at] = s.flags;
    b.writeUIntBE(s.id, at + 1, 3);
    b.writeUInt32BE(s.value >>> 0, at + 4);
  });
  return b;
}

export function parsePing(data: Buffer): number {
  need(data, 4, "PING");
  return data.readUInt32BE(0);
}

export function pingPayload(id: number): Buffer {
  return u32(id);
}

export function parseGoAway(data: Buffer): { lastGoodStreamId: number; status: number } {
  need(data, 4, "GOAWAY");
  return {
    lastGoodStreamId: data.readUInt32BE(0) & 0x7fffffff,
    status: data.length >= 8 ? data.readUInt32BE(4) : GoAwayStatus.OK,
  };
}

export function goAwayPayload(lastGoodStreamId: number, status: number): Buffer {
  return u32(lastGoodStreamId, status);
}

export function parseWindowUpdate(data: Buffer): { streamId: number; delta: number } {
  need(data, 8, "WINDOW_UPDATE");
  return { streamId: data.readUInt32BE(0) & 0x7fffffff, delta: data.readUInt32BE(4) & 0x7fffffff };
}

export function windowUpdatePayload(streamId: number, delta: number): Buffer {
  return u32(streamId, delta);
}

/** Header names as SPDY carries them: lower case; values in order. */
export type HeaderBlock = Map<string, string[]>;

/** Most bytes a decompressed header block may have (a hostile peer could inflate a bomb otherwise). */
export const MAX_HEADER_BLOCK = 256 * 1024;

export function encodeHeaderBlock(headers: HeaderBlock): Buffer {
  const parts: Buffer[] = [u32(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(values.join("\0"), "utf8");
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): HeaderBlock {
  const out: HeaderBlock = new Map();
  if (block.length === 0) return out;
  need(block, 4, "header block");
  const count = block.readUInt32BE(0);
  let at = 4;
  const take = (): Buffer => {
    if (block.length < at + 4) throw new SpdyProtocolError("truncated header block");
    const len = block.readUInt32BE(at);
    at += 4;
    if (block.length < at + len) throw new SpdyProtocolError("truncated header block");
    const v = block.subarray(at, at + len);
    at += len;
    return v;
  };
  for (let i = 0; i < count; i++) {
    const name = take().toString("utf8");
    const value = take().toString("utf8");
    if (name === "") throw new SpdyProtocolError("empty header name");
    if (name !== name.toLowerCase()) throw new SpdyProtocolError("header was not lowercased");
    if (out.has(name)) throw new SpdyProtocolError("multiple headers with same name");
    out.set(name, value.split("\0"));
  }
  return out;
}
