/**
 * Field errors shaped like k8s.io/apimachinery/pkg/util/validation/field: a cause type, the field path and the
 * rendered detail (`ErrorBody()`), plus the aggregate and Status messages the API server builds from them.
 */

export type FieldErrorType =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueDuplicate"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "FieldValueTypeInvalid"
  | "FieldValueNotFound"
  | "InternalError";

export interface FieldError {
  /** The metav1.StatusCause type. */
  type: FieldErrorType;
  /** The field path, e.g. `spec.template.spec.containers[0].image`. */
  field: string;
  /** The full detail as upstream's `ErrorBody()`, e.g. `Invalid value: "Foo": a lowercase RFC 1123 ...`. */
  message: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: "Required value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  FieldValueTypeInvalid: "Invalid value",
  FieldValueNotFound: "Not found",
  InternalError: "Internal error",
};

/** Go's strconv.Quote (what `%q` prints) for a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Go's encoding/json rendering of a JSON-like value: HTML characters escaped as Go does. Object keys keep their order
 * (Go structs print in field order) unless `sortKeys` is set (Go maps print sorted).
 */
export function goJSON(v: unknown, sortKeys = false): string {
  const json = JSON.stringify(v, (_k, val: unknown) => {
    if (sortKeys && typeof val === "object" && val !== null && !Array.isArray(val)) {
      const rec = val as Record<string, unknown>;
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(rec).sort()) sorted[k] = rec[k];
      return sorted;
    }
    return val;
  });
  if (json === undefined) return "null";
  return json
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Marker for a value rendered as-is (already formatted), e.g. a Go map rendered with sorted keys. */
export class RawValue {
  constructor(readonly text: string) {}
}

/** A Go map value: rendered as JSON with sorted keys. */
export function mapValue(m: unknown): RawValue {
  return new RawValue(goJSON(m ?? null, true));
}

function renderValue(v: unknown): string {
  if (v instanceof RawValue) return v.text;
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v === undefined) return "null";
  return goJSON(v);
}

function body(type: FieldErrorType, value: unknown, detail: string, withValue: boolean): string {
  let s = TYPE_TEXT[type];
  if (withValue) s += `: ${renderValue(value)}`;
  if (detail.length > 0) s += `: ${detail}`;
  return s;
}

function make(type: FieldErrorType, field: string, message: string): FieldError {
  return { type, field, message };
}

/** Constructors mirroring field.Required, field.Invalid, ... */
export const fe = {
  required(field: string, detail = ""): FieldError {
    return make("FieldValueRequired", field, body("FieldValueRequired", "", detail, false));
  },
  invalid(field: string, value: unknown, detail: string): FieldError {
    return make("FieldValueInvalid", field, body("FieldValueInvalid", value, detail, true));
  },
  typeInvalid(field: string, value: unknown, detail: string): FieldError {
    return make("FieldValueTypeInvalid", field, body("FieldValueTypeInvalid", value, detail, true));
  },
  notSupported(field: string, value: unknown, valid: readonly string[]): FieldError {
    const detail = valid.length > 0 ? `supported values: ${valid.map(goQuote).join(", ")}` : "";
    return make("FieldValueNotSupported", field, body("FieldValueNotSupported", value, detail, true));
  },
  duplicate(field: string, value: unknown): FieldError {
    return make("FieldValueDuplicate", field, body("FieldValueDuplicate", value, "", true));
  },
  notFound(field: string, value: unknown): FieldError {
    return make("FieldValueNotFound", field, body("FieldValueNotFound", value, "", true));
  },
  forbidden(field: string, detail: string): FieldError {
    return make("FieldValueForbidden", field, body("FieldValueForbidden", "", detail, false));
  },
  tooLong(field: string, maxLength: number): FieldError {
    const detail =
      maxLength >= 0 ? `may not be more than ${maxLength} ${maxLength === 1 ? "byte" : "bytes"}` : "value is too long";
    return make("FieldValueTooLong", field, body("FieldValueTooLong", "", detail, false));
  },
  tooMany(field: string, actual: number, max: number): FieldError {
    const detail = max >= 0 ? `must have at most ${max} ${max === 1 ? "item" : "items"}` : "has too many items";
    if (actual < 0) return make("FieldValueTooMany", field, `Too many: ${detail}`);
    return make("FieldValueTooMany", field, body("FieldValueTooMany", actual, detail, true));
  },
  internal(field: string, detail: string): FieldError {
    return make("InternalError", field, body("InternalError", "", detail, false));
  },
};

/** Field path helpers: `child("spec", "replicas")` → "spec.replicas", `index("x", 0)` → "x[0]". */
export function child(path: string, ...names: string[]): string {
  let p = path;
  for (const n of names) p = p === "" ? n : `${p}.${n}`;
  return p;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** `field: body`, as upstream's `(*field.Error).Error()`. */
export function errorString(e: FieldError): string {
  return `${e.field}: ${e.message}`;
}

/** The aggregate text of an error list (duplicates dropped; one error bare, several in brackets). */
export function aggregateMessage(errs: readonly FieldError[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const e of errs) {
    const s = errorString(e);
    if (seen.has(s)) continue;
    seen.add(s);
    parts.push(s);
  }
  if (parts.length === 1) return parts[0] as string;
  return `[${parts.join(", ")}]`;
}

/** `Kind.group` as schema.GroupKind.String() prints it ("Pod", "Deployment.apps"). */
export function qualifiedKind(kind: string, group: string): string {
  return group === "" ? kind : `${kind}.${group}`;
}

/**
 * The Status message upstream's errors.NewInvalid builds:
 * `Deployment.apps "x" is invalid: [spec.template.spec.containers[0].image: Required value, ...]`.
 */
export function invalidMessage(kind: string, group: string, name: string, errs: readonly FieldError[]): string {
  const head = `${qualifiedKind(kind, group)} ${goQuote(name)} is invalid`;
  return errs.length === 0 ? head : `${head}: ${aggregateMessage(errs)}`;
}

/** The metav1.StatusCause list for a Status built from these errors. */
export function statusCauses(errs: readonly FieldError[]): Array<{ reason: string; message: string; field: string }> {
  return errs.map((e) => ({ reason: e.type, message: e.message, field: e.field }));
}
