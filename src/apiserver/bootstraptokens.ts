/**
 * Bootstrap tokens (upstream plugin/pkg/auth/authenticator/token/bootstrap): `<id>.<secret>`
 * with id [a-z0-9]{6} and secret [a-z0-9]{16}, backed by the Secret
 * kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token. A token authenticates
 * as `system:bootstrap:<id>` in `system:bootstrappers` (plus its auth-extra-groups) while the
 * Secret allows authentication, is not expired and is not being deleted. `k8ts agent` joins with one.
 */
import { timingSafeEqual } from "node:crypto";
import { isRecord, type KObject } from "../api/types.js";

export const BOOTSTRAP_TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_SECRET_TYPE = "bootstrap.kubernetes.io/token";

function field(secret: KObject, key: string): string | undefined {
  const data = isRecord(secret["data"]) ? secret["data"] : {};
  const v = data[key];
  return typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : undefined;
}

/** The user a bootstrap token stands for, or undefined. */
export function authenticateBootstrapToken(
  token: string,
  lookup: (name: string) => KObject | undefined,
  now: number = Date.now(),
): { name: string; groups: string[] } | undefined {
  const m = BOOTSTRAP_TOKEN_RE.exec(token);
  if (!m) return undefined;
  const [, id, secretPart] = m as unknown as [string, string, string];
  const secret = lookup(`bootstrap-token-${id}`);
  if (!secret || secret["type"] !== BOOTSTRAP_SECRET_TYPE || secret.metadata.deletionTimestamp) return undefined;
  if (field(secret, "token-id") !== id) return undefined;
  const stored = Buffer.from(field(secret, "token-secret") ?? "");
  const given = Buffer.from(secretPart);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
  if (field(secret, "usage-bootstrap-authentication") !== "true") return undefined;
  const expiration = field(secret, "expiration");
  if (expiration !== undefined && !(Date.parse(expiration) > now)) return undefined;
  const extra = (field(secret, "auth-extra-groups") ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter((g) => /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g));
  return { name: `system:bootstrap:${id}`, groups: ["system:bootstrappers", ...extra, "system:authenticated"] };
}
