/**
 * Image reference parsing as far as pull-policy defaulting needs it: upstream's
 * `parsers.ParseImageName` (docker reference `ParseNormalizedNamed`) returns the tag, the digest,
 * or an error; no tag and no digest means "latest".
 */

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[0-9a-fA-F:.%]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;
const NAME_TOTAL_MAX = 255;

export interface ImageRef {
  /** "" when the reference has no tag. */
  tag: string;
  /** "" when the reference has no digest. */
  digest: string;
}

/** Tag and digest of an image reference, or undefined when the reference does not parse. */
export function parseImageRef(image: string): ImageRef | undefined {
  if (image === "" || HEX64.test(image)) return undefined;
  let rest = image;
  let digest = "";
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag = "";
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  if (rest === "" || rest.length > NAME_TOTAL_MAX) return undefined;
  // The first component is a registry host when it looks like one (docker's splitDockerDomain).
  const parts = rest.split("/");
  const first = parts[0] ?? "";
  const hasDomain =
    parts.length > 1 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  if (hasDomain) {
    if (!DOMAIN.test(first)) return undefined;
    parts.shift();
  }
  if (!parts.every((p) => PATH_COMPONENT.test(p))) return undefined;
  return { tag, digest };
}

/** Upstream's default imagePullPolicy: Always for ":latest" (or no tag and no digest), else IfNotPresent. */
export function defaultPullPolicy(image: unknown): "Always" | "IfNotPresent" {
  const ref = typeof image === "string" ? parseImageRef(image) : undefined;
  if (!ref) return "IfNotPresent";
  const tag = ref.tag === "" && ref.digest === "" ? "latest" : ref.tag;
  return tag === "latest" ? "Always" : "IfNotPresent";
}
