/**
 * JSON type checks against the schema: what upstream's decoder rejects when a value cannot be
 * unmarshalled into the Go type (a number where a string belongs, an array for a struct...).
 */
import { isRecord } from "../types.js";
import type { SchemaNode } from "./model.js";

const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v === "boolean" ? "bool" : typeof v;
}

function goType(node: SchemaNode): string {
  switch (node.kind) {
    case "object":
      return node.definition ? node.definition.slice(node.definition.lastIndexOf(".") + 1) : "struct";
    case "map":
      return "map[string]";
    case "array":
      return "[]";
    default:
      return node.scalarType === "integer"
        ? "int"
        : node.scalarType === "number"
          ? "float64"
          : (node.scalarType ?? "string");
  }
}

/**
 * The first value whose JSON type does not fit the schema, worded as Go's encoding/json does
 * (`json: cannot unmarshal number into Go struct field Pod.metadata.name of type string`), or
 * undefined. null is accepted anywhere (it leaves the Go zero value).
 */
export function findTypeError(value: unknown, node: SchemaNode | undefined, root: string): string | undefined {
  const walk = (v: unknown, n: SchemaNode | undefined, path: string): string | undefined => {
    if (!n || v === null || v === undefined || n.kind === "unknown") return undefined;
    const bad = (): string => `json: cannot unmarshal ${jsonType(v)} into Go struct field ${path} of type ${goType(n)}`;
    switch (n.kind) {
      case "object":
        if (!isRecord(v)) return bad();
        for (const [k, child] of Object.entries(v)) {
          const sub = n.properties?.[k] ?? n.additionalProperties;
          const err = walk(child, sub, `${path}.${k}`);
          if (err) return err;
        }
        return undefined;
      case "map":
        if (!isRecord(v)) return bad();
        for (const [k, child] of Object.entries(v)) {
          const err = walk(child, n.additionalProperties, `${path}.${k}`);
          if (err) return err;
        }
        return undefined;
      case "array":
        if (!Array.isArray(v)) return bad();
        for (const item of v) {
          const err = walk(item, n.items, path);
          if (err) return err;
        }
        return undefined;
      case "scalar": {
        const t = n.scalarType;
        if (n.definition === QUANTITY) return typeof v === "string" || typeof v === "number" ? undefined : bad();
        if (t === "string") return typeof v === "string" ? undefined : bad();
        if (t === "boolean") return typeof v === "boolean" ? undefined : bad();
        if (t === "integer") {
          if (typeof v !== "number") return bad();
          return Number.isInteger(v)
            ? undefined
            : `json: cannot unmarshal number ${v} into Go struct field ${path} of type int`;
        }
        if (t === "number") return typeof v === "number" ? undefined : bad();
        if (t === "int-or-string") return typeof v === "string" || typeof v === "number" ? undefined : bad();
        return undefined;
      }
      default:
        return undefined;
    }
  };
  return walk(value, node, root);
}
