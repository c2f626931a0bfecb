/**
 * The one error type that reaches clients: it carries a metav1.Status and renders itself.
 * Messages are worded as upstream's (k8s.io/apimachinery/pkg/api/errors).
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** A copy with one more cause in its details (e.g. NamespaceTerminating). */
  withCause(reason: string, message: string, field?: string): ApiError {
    const causes = [...(this.details?.causes ?? []), { reason, message, field }];
    return new ApiError(this.code, this.reason, this.message, { ...this.details, causes });
  }

  toStatus(): Status {
    const s: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details !== undefined) s.details = this.details;
    if (this.reason === "") delete s.reason;
    return s;
  }
}

/** "deployments.apps" or "pods" — how upstream names a resource in messages. */
export function qualifiedResource(group: string, plural: string): string {
  return group === "" ? plural : `${plural}.${group}`;
}

export function notFound(group: string, plural: string, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(group, plural)} "${name}" not found`, {
    name,
    group: group === "" ? undefined : group,
    kind: plural,
  });
}

export function alreadyExists(group: string, plural: string, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualifiedResource(group, plural)} "${name}" already exists`, {
    name,
    group: group === "" ? undefined : group,
    kind: plural,
  });
}

export function conflict(group: string, plural: string, name: string, why: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(group, plural)} "${name}": ${why}`,
    {
      name,
      group: group === "" ? undefined : group,
      kind: plural,
    },
  );
}

export const OPTIMISTIC_LOCK_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: Array<{ type: string; field: string; message: string }>,
  message: string,
): ApiError {
  return new ApiError(422, "Invalid", message, {
    name,
    group: group === "" ? undefined : group,
    kind,
    causes: causes.map((c) => ({ reason: c.type, message: c.message, field: c.field })),
  });
}

export function methodNotAllowed(verb: string, what: string): ApiError {
  return new ApiError(405, "MethodNotAllowed", `${verb} is not supported on resources of kind "${what}"`);
}

export function forbidden(group: string, plural: string, name: string, why: string): ApiError {
  const subject = name === "" ? qualifiedResource(group, plural) : `${qualifiedResource(group, plural)} "${name}"`;
  return new ApiError(403, "Forbidden", `${subject} is forbidden: ${why}`, {
    name: name === "" ? undefined : name,
    group: group === "" ? undefined : group,
    kind: plural,
  });
}

export function gone(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

/** 415 listing the media types the endpoint takes (upstream's wording). */
export function unsupportedMediaType(accepted: readonly string[]): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}

export function notAcceptable(): ApiError {
  return new ApiError(
    406,
    "NotAcceptable",
    "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
  );
}

export function tooLarge(): ApiError {
  return new ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
}

export function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

export function internal(message: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`);
}

export function pageNotFound(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource");
}
