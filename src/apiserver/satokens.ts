/**
 * Service account tokens: JWTs (ES256) the API server signs for the TokenRequest API
 * (`kubectl create token`, projected volumes) and accepts as bearer tokens, with upstream's
 * claims (iss, sub system:serviceaccount:<ns>:<name>, aud, exp, kubernetes.io).
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomUUID, sign, verify } from "node:crypto";

export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const DEFAULT_AUDIENCES = ["https://kubernetes.default.svc.cluster.local", "k8ts"];

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface BoundObject {
  kind: "Pod" | "Secret" | "Node";
  name: string;
  uid: string;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

const b64url = (buf: Buffer | string): string => Buffer.from(buf).toString("base64url");

export class ServiceAccountTokens {
  private readonly key: KeyObject;
  private readonly pub: KeyObject;
  readonly issuer: string;
  readonly audiences: string[];

  /** `privateKeyPem`: the signing key (PKCS#8, EC P-256), kept in <data-dir>/tls/sa.key. */
  constructor(privateKeyPem: string, opts: { issuer?: string; audiences?: string[] } = {}) {
    this.key = createPrivateKey(privateKeyPem);
    this.pub = createPublicKey(this.key);
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.audiences = opts.audiences ?? DEFAULT_AUDIENCES;
  }

  issue(
    sa: ServiceAccountRef,
    opts: { audiences?: string[]; expirationSeconds: number; bound?: BoundObject; now?: number },
  ): { token: string; claims: TokenClaims } {
    const now = Math.floor((opts.now ?? Date.now()) / 1000);
    const k8s: TokenClaims["kubernetes.io"] = {
      namespace: sa.namespace,
      serviceaccount: { name: sa.name, uid: sa.uid },
    };
    if (opts.bound)
      k8s[opts.bound.kind.toLowerCase() as "pod" | "secret" | "node"] = { name: opts.bound.name, uid: opts.bound.uid };
    const claims: TokenClaims = {
      iss: this.issuer,
      sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
      aud: opts.audiences && opts.audiences.length > 0 ? opts.audiences : this.audiences,
      exp: now + opts.expirationSeconds,
      iat: now,
      nbf: now,
      jti: randomUUID(),
      "kubernetes.io": k8s,
    };
    const head = b64url(JSON.stringify({ alg: "ES256", typ: "JWT" }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign("sha256", Buffer.from(`${head}.${body}`), { key: this.key, dsaEncoding: "ieee-p1363" });
    return { token: `${head}.${body}.${b64url(sig)}`, claims };
  }

  /**
   * The claims of a token this server signed that is still valid for one of our audiences, or
   * undefined (forged, expired, another issuer or audience, not a JWT).
   */
  verify(token: string, now = Date.now()): TokenClaims | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [head, body, sig] = parts as [string, string, string];
    try {
      const header = JSON.parse(Buffer.from(head, "base64url").toString("utf8")) as { alg?: string };
      if (header.alg !== "ES256") return undefined;
      const ok = verify(
        "sha256",
        Buffer.from(`${head}.${body}`),
        { key: this.pub, dsaEncoding: "ieee-p1363" },
        Buffer.from(sig, "base64url"),
      );
      if (!ok) return undefined;
      const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
      const t = Math.floor(now / 1000);
      if (
        claims.iss !== this.issuer ||
        typeof claims.exp !== "number" ||
        claims.exp < t ||
        (claims.nbf ?? 0) > t + 60
      ) {
        return undefined;
      }
      if (!Array.isArray(claims.aud) || !claims.aud.some((a) => this.audiences.includes(a))) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
