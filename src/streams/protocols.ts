/**
 * The remote command protocol versions (k8s.io/apimachinery/pkg/util/remotecommand) and the stream
 * options of an exec or attach request, read from its query as the kubelet reads them.
 */

export const STREAM_PROTOCOL_V1 = "channel.k8s.io";
export const STREAM_PROTOCOL_V2 = "v2.channel.k8s.io";
export const STREAM_PROTOCOL_V3 = "v3.channel.k8s.io";
export const STREAM_PROTOCOL_V4 = "v4.channel.k8s.io";
export const STREAM_PROTOCOL_V5 = "v5.channel.k8s.io";

/** What the kubelet offers over SPDY, in its order of preference (X-Accepted-Stream-Protocol-Versions). */
export const SPDY_PROTOCOLS = [STREAM_PROTOCOL_V4, STREAM_PROTOCOL_V3, STREAM_PROTOCOL_V2, STREAM_PROTOCOL_V1];

/** Channel numbers of the WebSocket protocols (and stream types of SPDY). */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;
/** v5's control channel: a message [255, n] closes channel n (the client's half-close of stdin). */
export const CLOSE_CHANNEL = 255;

export interface WebSocketProtocol {
  name: string;
  /** Text frames with base64 payloads (the browser-friendly variants). */
  base64: boolean;
  /** The error channel carries a metav1.Status as JSON (v4, v5) rather than a plain message. */
  jsonStatus: boolean;
  /** The client may half-close a channel with the close signal (v5). */
  streamClose: boolean;
  /** Terminal size messages on channel 4 are read. */
  resize: boolean;
}

/** The WebSocket subprotocols served, in the server's order (the client's order decides). */
export const WEBSOCKET_PROTOCOLS: WebSocketProtocol[] = [
  { name: STREAM_PROTOCOL_V5, base64: false, jsonStatus: true, streamClose: true, resize: true },
  { name: STREAM_PROTOCOL_V4, base64: false, jsonStatus: true, streamClose: false, resize: true },
  { name: "v4.base64.channel.k8s.io", base64: true, jsonStatus: true, streamClose: false, resize: true },
  { name: STREAM_PROTOCOL_V3, base64: false, jsonStatus: false, streamClose: false, resize: true },
  { name: STREAM_PROTOCOL_V2, base64: false, jsonStatus: false, streamClose: false, resize: true },
  { name: STREAM_PROTOCOL_V1, base64: false, jsonStatus: false, streamClose: false, resize: true },
  { name: "base64.channel.k8s.io", base64: true, jsonStatus: false, streamClose: false, resize: true },
];

/** A client that names no subprotocol gets the binary channel protocol (upstream's "" entry). */
export const DEFAULT_WEBSOCKET_PROTOCOL: WebSocketProtocol = { ...WEBSOCKET_PROTOCOLS[5]!, name: "" };

/** The first of the client's protocols the server speaks (the client lists them by preference). */
export function negotiate<T extends string>(clientProtocols: readonly string[], server: readonly T[]): T | undefined {
  for (const p of clientProtocols) {
    const hit = server.find((s) => s === p);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Splits repeated or comma-joined header values (Node joins repeated headers with ", "). */
export function headerValues(value: string | string[] | undefined): string[] {
  const all = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return all
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * The streams an exec/attach request asks for (`stdin=1&stdout=1&stderr=1&tty=1`, as the API server
 * forwards them). A TTY merges stderr into stdout, so stderr is dropped with tty.
 */
export function parseStreamOptions(query: URLSearchParams): StreamOptions | { error: string } {
  const on = (k: string) => query.get(k) === "1";
  const tty = on("tty");
  const opts = { stdin: on("stdin"), stdout: on("stdout"), stderr: on("stderr") && !tty, tty };
  if (!opts.stdin && !opts.stdout && !opts.stderr) {
    return { error: "you must specify at least 1 of stdin, stdout, stderr" };
  }
  return opts;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * Terminal sizes from a resize stream: a sequence of JSON objects `{"Width":80,"Height":24}` (Go's
 * json.Decoder on the stream), which may arrive split or joined across frames.
 */
export class ResizeDecoder {
  private text = "";

  push(chunk: Buffer | string): TerminalSize[] {
    this.text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    const out: TerminalSize[] = [];
    for (;;) {
      const end = objectEnd(this.text);
      if (end < 0) break;
      const piece = this.text.slice(0, end);
      this.text = this.text.slice(end);
      try {
        const v: unknown = JSON.parse(piece);
        if (typeof v === "object" && v !== null) {
          const r = v as Record<string, unknown>;
          const width = Number(r["Width"] ?? r["width"]);
          const height = Number(r["Height"] ?? r["height"]);
          if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0) {
            out.push({ width, height });
          }
        }
      } catch {
        // a malformed size is ignored, as a broken decoder would end the resize loop upstream
      }
    }
    // bound what a client that never closes an object can make us hold
    if (this.text.length > 4096) this.text = "";
    return out;
  }
}

/** The index just past the first complete top-level JSON object in text, or -1. */
function objectEnd(text: string): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!started) {
      if (c === "{") {
        started = true;
        depth = 1;
      }
      continue;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
