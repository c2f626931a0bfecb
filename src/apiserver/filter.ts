/**
 * Label and field selectors from query parameters, compiled into object filters; parse errors
 * become 400 Status errors worded as upstream.
 */
import {
  FieldSelectorError,
  fieldSelectorMatcher,
  LabelSelectorError,
  labelSelectorFromObject,
  parseLabelSelector,
} from "../api/selectors/index.js";
import type { KObject } from "../api/types.js";
import { badRequest } from "./errors.js";
import type { ObjectFilter } from "./rest.js";

export function compileLabelSelector(text: string): ObjectFilter | undefined {
  try {
    const sel = parseLabelSelector(text);
    if (sel.empty()) return undefined;
    return (o: KObject) => sel.matches(o.metadata.labels);
  } catch (err) {
    if (err instanceof LabelSelectorError) throw badRequest(err.message);
    throw err;
  }
}

export function compileFieldSelector(group: string, plural: string, text: string): ObjectFilter | undefined {
  if (text.trim() === "") return undefined;
  try {
    return fieldSelectorMatcher(group, plural, text);
  } catch (err) {
    if (err instanceof FieldSelectorError) throw badRequest(err.message);
    throw err;
  }
}

/** metav1.LabelSelector → its string form (for Scale status.selector). */
export function labelSelectorToString(selector: unknown): string {
  try {
    return labelSelectorFromObject(selector).toString();
  } catch {
    return "";
  }
}
