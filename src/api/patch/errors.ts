/** A metav1.Status as JSON, as these errors render themselves for the wire. */
export interface StatusJSON {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  code: number;
  details?: { causes: { type?: string; message?: string; field?: string }[] };
}

/** A patch that cannot be applied. `code` is the HTTP status upstream answers with. */
export class PatchError extends Error {
  override readonly name: string = "PatchError";
  constructor(
    message: string,
    /** 400 BadRequest (malformed patch), 422 Invalid (JSON patch that does not apply), 415, 409... */
    readonly code: number = 400,
    readonly reason: string = reasonFor(code),
  ) {
    super(message);
  }

  status(): StatusJSON {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
  }
}

function reasonFor(code: number): string {
  switch (code) {
    case 400:
      return "BadRequest";
    case 409:
      return "Conflict";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    default:
      return "InternalError";
  }
}

/** The media types a custom resource (no strategic-merge metadata) accepts for PATCH. */
export const customResourcePatchTypes = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/apply-patch+yaml",
] as const;

/**
 * Strategic merge patch needs the Go struct tags built-in types have; upstream answers 415 for
 * custom resources (and for any unknown patch content type).
 */
export class UnsupportedPatchTypeError extends PatchError {
  override readonly name: string = "UnsupportedPatchTypeError";
  constructor(readonly contentType: string) {
    super(
      `the body of the request was in an unknown format - accepted media types include: ${customResourcePatchTypes.join(", ")}`,
      415,
      "UnsupportedMediaType",
    );
  }
}

/** One field another manager owns, which an apply would change. */
export interface ApplyConflict {
  /** The manager as upstream prints it: `"kubectl-client-side-apply" using apps/v1` or `"kubectl"`. */
  manager: string;
  /** The field path as structured-merge-diff prints it: `.spec.replicas`, `.spec.containers[name="nginx"].image`. */
  field: string;
}

/** 409: an apply would change fields other managers own (retry with force=true to take them). */
export class ApplyConflictError extends PatchError {
  override readonly name: string = "ApplyConflictError";
  constructor(readonly conflicts: ApplyConflict[]) {
    super(conflictMessage(conflicts), 409, "Conflict");
  }

  override status(): StatusJSON {
    return {
      ...super.status(),
      details: {
        causes: this.conflicts.map((c) => ({
          type: "FieldManagerConflict",
          message: `conflict with ${c.manager}`,
          field: c.field,
        })),
      },
    };
  }
}

function conflictMessage(conflicts: ApplyConflict[]): string {
  const first = conflicts[0];
  if (conflicts.length === 1 && first)
    return `Apply failed with 1 conflict: conflict with ${first.manager}: ${first.field}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const list = byManager.get(c.manager) ?? [];
    list.push(c.field);
    byManager.set(c.manager, list);
  }
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${manager}:`);
    for (const f of byManager.get(manager) ?? []) lines.push(`- ${f}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
}
