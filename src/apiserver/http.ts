/**
 * HTTP plumbing shared by the handlers: request parsing (path → request info), body reading with
 * the size limit, media-type negotiation and response writing.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { ApiError, tooLarge } from "./errors.js";

export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;

/** Upstream's request body limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface RequestInfo {
  verb: "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string | undefined;
  name: string;
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

/** Parses /api/v1/... and /apis/<g>/<v>/... resource paths (upstream RequestInfoFactory rules). */
export function parseResourcePath(method: string, path: string, query: URLSearchParams): RequestInfo | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  let group = "";
  let version: string;
  let rest: string[];
  if (parts[0] === "api") {
    version = parts[1] ?? "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis") {
    group = parts[1] ?? "";
    version = parts[2] ?? "";
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  if (version === "" || rest.length === 0) return undefined;
  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? "")) rest = rest.slice(2);
    else namespace = undefined;
  }
  const resource = decodeURIComponent(rest[0] ?? "");
  const name = rest[1] !== undefined ? decodeURIComponent(rest[1]) : "";
  const subresource = rest[2] ?? "";
  if (rest.length > 3 && subresource !== "proxy") return undefined;
  let verb: RequestInfo["verb"];
  switch (method) {
    case "GET":
    case "HEAD": {
      const w = query.get("watch");
      const watching = watchPath || w === "true" || w === "1";
      verb = name === "" ? (watching ? "watch" : "list") : watching ? "watch" : "get";
      break;
    }
    case "POST":
      verb = "create";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = name === "" ? "deletecollection" : "delete";
      break;
    default:
      throw new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
  }
  return { verb, group, version, resource, subresource, namespace, name };
}

export async function readBody(req: Req): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** Parses an Accept header into media types in order (q-values are ignored, as the apiserver mostly does). */
export function parseAccept(header: string | undefined): MediaType[] {
  if (!header) return [{ type: "*/*", params: {} }];
  return header.split(",").map((part) => {
    const [type, ...rest] = part.trim().split(";");
    const params: Record<string, string> = {};
    for (const p of rest) {
      const i = p.indexOf("=");
      if (i > 0) params[p.slice(0, i).trim()] = p.slice(i + 1).trim();
    }
    return { type: (type ?? "").trim().toLowerCase(), params };
  });
}

export function contentTypeOf(req: Req): string {
  return String(req.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
}

export function sendJSON(res: Res, code: number, body: unknown, contentType = "application/json"): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(code, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: Res, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJSON(res, err.code, err.toStatus());
}
