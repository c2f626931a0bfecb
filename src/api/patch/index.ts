import type { SchemaNode } from "../schema/model.js";
import { isRecord, type KObject } from "../types.js";
import { PatchError, UnsupportedPatchTypeError } from "./errors.js";
import { applyJsonPatch, applyMergePatch } from "./json.js";
import { applyStrategicMergePatch } from "./strategic.js";

export type { ApplyOptions, ApplyResult } from "./apply.js";
export { lastAppliedAnnotation, serverSideApply } from "./apply.js";
export type { ApplyConflict, StatusJSON } from "./errors.js";
export { ApplyConflictError, customResourcePatchTypes, PatchError, UnsupportedPatchTypeError } from "./errors.js";
export { FieldSet, pathString } from "./fieldset.js";
export { applyJsonPatch, applyMergePatch } from "./json.js";
export type { ManagedFieldsOptions } from "./managed.js";
export { decodeManagedFields, encodeManagedFields, updateManagedFields } from "./managed.js";
export { applyStrategicMergePatch } from "./strategic.js";

export const jsonPatchType = "application/json-patch+json";
export const mergePatchType = "application/merge-patch+json";
export const strategicMergePatchType = "application/strategic-merge-patch+json";
export const applyPatchType = "application/apply-patch+yaml";

/** The media type without parameters (`; charset=utf-8`), lower-cased. */
export function patchMediaType(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

function decodeJSON(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new PatchError(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`, 400);
  }
}

/**
 * Applies a JSON patch, JSON merge patch or strategic merge patch to a copy of `original`.
 * `schema` undefined means a custom resource: strategic merge patch is refused with 415.
 * Apply patches (application/apply-patch+yaml) need field-manager state: use serverSideApply
 * (decodeApplyPatch parses the body).
 */
export function applyPatch(
  original: KObject,
  patchBody: Buffer | string,
  contentType: string,
  schema: SchemaNode | undefined,
): KObject {
  const body = typeof patchBody === "string" ? patchBody : patchBody.toString("utf8");
  const type = patchMediaType(contentType);
  let result: unknown;
  switch (type) {
    case jsonPatchType:
      result = applyJsonPatch(original, decodeJSON(body));
      break;
    case mergePatchType: {
      const patch = decodeJSON(body);
      if (!isRecord(patch))
        throw new PatchError("json: cannot unmarshal into Go value of type map[string]interface {}", 400);
      result = applyMergePatch(original, patch);
      break;
    }
    case strategicMergePatchType:
      if (!schema) throw new UnsupportedPatchTypeError(type);
      result = applyStrategicMergePatch(original, decodeJSON(body), schema);
      break;
    case applyPatchType:
      throw new PatchError("apply patches are applied with serverSideApply", 500);
    default:
      throw new UnsupportedPatchTypeError(type);
  }
  if (!isRecord(result)) throw new PatchError("patched object is not a JSON object", 422, "Invalid");
  const obj = result as KObject;
  if (!isRecord(obj.metadata)) obj.metadata = {};
  return obj;
}
