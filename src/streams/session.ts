/**
 * One exec/attach session as the kubelet sees it, whichever protocol carried it (WebSocket or
 * SPDY): the client's stdin, the stdout/stderr it reads, terminal resizes, and finish() with the
 * command's result, which writes the error channel and closes the connection.
 */
import type { Readable, Writable } from "node:stream";
import type { StreamOptions, TerminalSize } from "./protocols.js";
import type { CommandResult } from "./status.js";

export interface RemoteCommandSession {
  readonly transport: "websocket" | "spdy";
  /** The negotiated protocol version ("v4.channel.k8s.io", ...; "" when the client named none). */
  readonly protocol: string;
  readonly options: StreamOptions;
  /** What the client types; ends when the client half-closes stdin or goes away. */
  readonly stdin: Readable | undefined;
  readonly stdout: Writable | undefined;
  /** Absent with a TTY. */
  readonly stderr: Writable | undefined;
  /** Terminal sizes the client sends (a size sent before a listener exists is delivered to it). */
  onResize(listener: (size: TerminalSize) => void): void;
  /** Aborted when the client goes away before finish(). */
  readonly signal: AbortSignal;
  /** Writes the result on the error channel, ends the streams and closes the connection. */
  finish(result: CommandResult): Promise<void>;
}

/** Resize fan-out that remembers the last size for listeners that come late. */
export class ResizeEvents {
  private readonly listeners: Array<(size: TerminalSize) => void> = [];
  private last: TerminalSize | undefined;

  emit(size: TerminalSize): void {
    this.last = size;
    for (const l of this.listeners) l(size);
  }

  on(listener: (size: TerminalSize) => void): void {
    this.listeners.push(listener);
    if (this.last) listener(this.last);
  }
}

/** Grace for a client to close its side after the server finished, before the socket is destroyed. */
export const CLOSE_GRACE_MS = 5000;
