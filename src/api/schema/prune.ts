/**
 * Drops the fields a schema does not declare, as upstream's decoding into typed objects does for
 * built-in kinds and structural-schema pruning does for custom resources.
 */
import { isRecord } from "../types.js";
import type { SchemaNode } from "./model.js";

export function pruneUnknownFields(value: unknown, node: SchemaNode | undefined): void {
  if (!node || node.kind === "unknown" || node.kind === "scalar") return;
  if (Array.isArray(value)) {
    if (node.kind === "array") for (const item of value) pruneUnknownFields(item, node.items);
    return;
  }
  if (!isRecord(value)) return;
  if (node.kind === "map") {
    for (const v of Object.values(value)) pruneUnknownFields(v, node.additionalProperties);
    return;
  }
  if (node.kind !== "object") return;
  const props = node.properties ?? {};
  for (const key of Object.keys(value)) {
    const child = props[key];
    if (child) pruneUnknownFields(value[key], child);
    else if (node.additionalProperties) pruneUnknownFields(value[key], node.additionalProperties);
    else if (node.embeddedResource && (key === "apiVersion" || key === "kind" || key === "metadata")) continue;
    else if (!node.preserveUnknownFields) delete value[key];
  }
}
