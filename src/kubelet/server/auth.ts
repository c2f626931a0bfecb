/**
 * Who may use the kubelet's API (upstream kubelet auth filter + authorizer): a client certificate
 * signed by the cluster CA names the user (CN) and groups (O); the API server's kubelet client and
 * members of system:masters may do anything, others get 403 worded as upstream's node authorizer
 * attributes (resource nodes, subresource by path), and a request without a certificate 401.
 */
import type { TLSSocket } from "node:tls";

export interface Identity {
  user: string;
  groups: string[];
}

/** The CN the API server's kubelet client certificate carries. */
export const APISERVER_KUBELET_CLIENT = "kube-apiserver-kubelet-client";

export function identityOf(socket: TLSSocket): Identity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const cn = cert.subject?.CN;
  if (typeof cn !== "string" || cn === "") return undefined;
  const o = cert.subject?.O;
  const groups = Array.isArray(o) ? o.map(String) : typeof o === "string" ? [o] : [];
  return { user: cn, groups };
}

/** The verb and subresource upstream's kubelet authorizer checks for a request. */
export function requestAttributes(method: string, path: string): { verb: string; subresource: string } {
  const verb =
    { POST: "create", GET: "get", HEAD: "get", PUT: "update", PATCH: "patch", DELETE: "delete" }[method] ?? "";
  const under = (p: string) => path === p || path.startsWith(`${p}/`);
  let subresource = "proxy";
  if (under("/stats")) subresource = "stats";
  else if (under("/metrics")) subresource = "metrics";
  else if (under("/logs")) subresource = "log";
  else if (under("/spec")) subresource = "spec";
  else if (under("/checkpoint")) subresource = "checkpoint";
  return { verb, subresource };
}

export type Decision = { allowed: true; identity: Identity } | { allowed: false; code: 401 | 403; message: string };

export function authorize(identity: Identity | undefined, method: string, path: string): Decision {
  if (!identity) return { allowed: false, code: 401, message: "Unauthorized" };
  if (identity.user === APISERVER_KUBELET_CLIENT || identity.groups.includes("system:masters")) {
    return { allowed: true, identity };
  }
  const { verb, subresource } = requestAttributes(method, path);
  return {
    allowed: false,
    code: 403,
    message: `Forbidden (user=${identity.user}, verb=${verb}, resource=nodes, subresource=${subresource})`,
  };
}
