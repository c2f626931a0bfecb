/**
 * Reviews: objects that are created, answered at once and never stored — `kubectl auth can-i`
 * (SelfSubjectAccessReview), `kubectl auth whoami` (SelfSubjectReview), TokenReview and the rest.
 * Authorization is not enforced yet (RBAC objects are stored for a later issue): every
 * authenticated user may do everything, and the access reviews answer so.
 */
import { isRecord, type KObject } from "../api/types.js";

export interface ReviewUser {
  name: string;
  groups: string[];
}

const NOT_ENFORCED = "k8ts does not enforce authorization yet: every authenticated user is allowed";

/** The answered review (the request object with its status filled in). */
export function answerReview(
  kind: string,
  review: KObject,
  requester: ReviewUser,
  authenticateToken: (token: string) => ReviewUser | undefined,
): KObject {
  const out: KObject = { ...review, metadata: { ...review.metadata, creationTimestamp: undefined } };
  switch (kind) {
    case "SelfSubjectAccessReview":
    case "SubjectAccessReview":
    case "LocalSubjectAccessReview":
      out["status"] = { allowed: true, reason: NOT_ENFORCED };
      break;
    case "SelfSubjectRulesReview":
      out["status"] = {
        resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
        nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
        incomplete: false,
      };
      break;
    case "SelfSubjectReview":
      out["status"] = { userInfo: { username: requester.name, groups: requester.groups } };
      break;
    case "TokenReview": {
      const spec = isRecord(review["spec"]) ? review["spec"] : {};
      const user = typeof spec["token"] === "string" ? authenticateToken(spec["token"]) : undefined;
      out["status"] = user
        ? { authenticated: true, user: { username: user.name, groups: user.groups } }
        : { authenticated: false, error: "invalid bearer token" };
      break;
    }
    default:
      break;
  }
  return out;
}
