/** Label and label-selector rendering as k8s.io/apimachinery's labels package prints them. */

import { isRecord } from "../types.js";
import { arr, str, strMap } from "./json.js";

/** labels.Set.String(): "k=v" sorted by key and joined with ",". */
export function labelsString(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k] ?? ""}`)
    .join(",");
}

/** labels.FormatLabels: like labelsString but "<none>" when empty. */
export function formatLabels(v: unknown): string {
  const s = labelsString(strMap(v));
  return s === "" ? "<none>" : s;
}

/**
 * LabelSelectorAsSelector(...).String(). Nil and empty selectors give "". Returns undefined
 * when the selector is invalid (bad operator, or values that do not fit the operator).
 */
export function labelSelectorString(v: unknown): string | undefined {
  if (!isRecord(v)) return "";
  const reqs: Array<{ key: string; text: string }> = [];
  for (const [k, val] of Object.entries(strMap(v["matchLabels"]))) reqs.push({ key: k, text: `${k}=${val}` });
  for (const e of arr(v["matchExpressions"])) {
    const key = str(isRecord(e) ? e["key"] : undefined);
    const op = str(isRecord(e) ? e["operator"] : undefined);
    const values = arr(isRecord(e) ? e["values"] : undefined).map(str);
    const sorted = values.length > 1 ? [...values].sort() : values;
    switch (op) {
      case "In":
      case "NotIn":
        if (values.length === 0) return undefined;
        reqs.push({ key, text: `${key} ${op === "In" ? "in" : "notin"} (${sorted.join(",")})` });
        break;
      case "Exists":
        if (values.length > 0) return undefined;
        reqs.push({ key, text: key });
        break;
      case "DoesNotExist":
        if (values.length > 0) return undefined;
        reqs.push({ key, text: `!${key}` });
        break;
      default:
        return undefined;
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(",");
}

/** metav1.FormatLabelSelector: "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(v: unknown): string {
  const s = labelSelectorString(v);
  if (s === undefined) return "<error>";
  return s === "" ? "<none>" : s;
}
