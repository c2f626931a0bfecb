/**
 * Server side of the remote command protocols client-go speaks for exec and attach: WebSocket
 * (channel.k8s.io v1-v5, base64 variants) and SPDY/3.1 (channel.k8s.io v1-v4). Both hand the
 * caller one RemoteCommandSession.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { StreamOptions } from "./protocols.js";
import type { RemoteCommandSession } from "./session.js";
import { acceptSpdy, isSpdyUpgrade, writeHttpError } from "./spdy/session.js";
import { acceptWebSocket, isWebSocketUpgrade } from "./websocket.js";

export { parseStreamOptions, type StreamOptions, type TerminalSize } from "./protocols.js";
export type { RemoteCommandSession } from "./session.js";
export { writeHttpError } from "./spdy/session.js";
export type { CommandResult } from "./status.js";

/** Whether an upgrade request asks for a protocol served here. */
export function isRemoteCommandUpgrade(req: IncomingMessage): boolean {
  return isWebSocketUpgrade(req) || isSpdyUpgrade(req);
}

/**
 * Upgrades the connection with the protocol the client asked for; undefined when that failed (the
 * client has been answered with an HTTP error).
 */
export async function acceptRemoteCommand(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: StreamOptions,
): Promise<RemoteCommandSession | undefined> {
  if (isWebSocketUpgrade(req)) return acceptWebSocket(req, socket, head, options);
  if (isSpdyUpgrade(req)) return acceptSpdy(req, socket, head, options);
  writeHttpError(socket, 400, "Upgrade request required");
  return undefined;
}
