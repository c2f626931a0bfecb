/**
 * Service account tokens for projected volumes (upstream pkg/kubelet/token): one TokenRequest
 * per (service account, audience, lifetime, pod), cached and renewed once 80% of its lifetime
 * has passed or it is older than 24 hours, each with a jitter of up to 10 s. A failed renewal
 * keeps serving the cached token until it expires.
 */
import { isRecord, type KObject } from "../../api/types.js";
import { type ApiClient, resources } from "../../client/types.js";
import { errorText } from "./errors.js";

const MAX_TTL_MS = 24 * 60 * 60 * 1000;
export const MAX_JITTER_SECONDS = 10;

export interface CachedToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
  /** The lifetime the server granted (the TokenRequest's spec.expirationSeconds). */
  expirationSeconds: number;
}

/** Upstream requiresRefresh: past 24 h since issue, or within 20% of the lifetime of expiry (minus jitter). */
export function tokenRequiresRefresh(t: CachedToken, nowMs: number, jitterSeconds: number): boolean {
  const jitterMs = Math.floor(jitterSeconds) * 1000;
  const issuedAt = t.expiresAt - t.expirationSeconds * 1000;
  if (nowMs > issuedAt + MAX_TTL_MS - jitterMs) return true;
  const margin = Math.floor((t.expirationSeconds * 20) / 100) * 1000;
  return nowMs > t.expiresAt - margin - jitterMs;
}

export interface TokenSpec {
  namespace: string;
  serviceAccount: string;
  /** "" for the API server's default audiences. */
  audience: string;
  expirationSeconds: number;
  pod: { name: string; uid: string };
}

export interface TokenManagerOptions {
  client: ApiClient;
  now: () => number;
  /** Seconds of jitter in [0, 10) (default random). */
  jitter: () => number;
}

export class ServiceAccountTokenManager {
  private readonly opts: TokenManagerOptions;
  private readonly cache = new Map<string, CachedToken & { podUid: string }>();

  constructor(opts: TokenManagerOptions) {
    this.opts = opts;
  }

  private static key(s: TokenSpec): string {
    return JSON.stringify([s.namespace, s.serviceAccount, s.audience, s.expirationSeconds, s.pod.uid]);
  }

  /** A valid token for the projection: the cached one unless it needs renewing. */
  async get(spec: TokenSpec): Promise<string> {
    const key = ServiceAccountTokenManager.key(spec);
    const cached = this.cache.get(key);
    const now = this.opts.now();
    if (cached && !tokenRequiresRefresh(cached, now, this.opts.jitter())) return cached.token;
    let fresh: CachedToken;
    try {
      fresh = await this.request(spec);
    } catch (err) {
      if (!cached) throw new Error(`failed to fetch token: ${errorText(err)}`);
      if (now >= cached.expiresAt) throw new Error(`token ${key} expired and refresh failed: ${errorText(err)}`);
      return cached.token;
    }
    this.cache.set(key, { ...fresh, podUid: spec.pod.uid });
    return fresh.token;
  }

  /** Forgets the tokens bound to a pod (it is gone from the node). */
  deletePod(podUid: string): void {
    for (const [k, v] of this.cache) if (v.podUid === podUid) this.cache.delete(k);
  }

  /** Cached tokens, for tests and diagnostics. */
  size(): number {
    return this.cache.size;
  }

  private async request(spec: TokenSpec): Promise<CachedToken> {
    const body: KObject = {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: {},
      spec: {
        audiences: spec.audience === "" ? [] : [spec.audience],
        expirationSeconds: spec.expirationSeconds,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: spec.pod.name, uid: spec.pod.uid },
      },
    };
    const tr = await this.opts.client.create(resources.serviceaccounts, spec.namespace, body, {
      subresource: "token",
      name: spec.serviceAccount,
    });
    const status = isRecord(tr["status"]) ? tr["status"] : {};
    const trSpec = isRecord(tr["spec"]) ? tr["spec"] : {};
    const token = typeof status["token"] === "string" ? status["token"] : "";
    const expiresAt = Date.parse(String(status["expirationTimestamp"] ?? ""));
    if (token === "" || Number.isNaN(expiresAt)) {
      throw new Error("the TokenRequest response has no token or expirationTimestamp");
    }
    const granted = trSpec["expirationSeconds"];
    return {
      token,
      expiresAt,
      expirationSeconds: typeof granted === "number" && granted > 0 ? granted : spec.expirationSeconds,
    };
  }
}
