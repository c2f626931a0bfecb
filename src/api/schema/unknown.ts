import { isRecord } from "../types.js";
import type { SchemaNode } from "./model.js";

/**
 * Fields of `obj` that `schema` does not declare, worded as the API server words them for
 * fieldValidation=Strict|Warn: `unknown field "spec.template.spec.containers[0].imagePullPolicyy"`.
 * Objects marked x-kubernetes-preserve-unknown-fields and schemaless values are not inspected.
 */
export function findUnknownFields(obj: unknown, schema: SchemaNode): string[] {
  const out: string[] = [];
  walk(obj, schema, "", out);
  return out;
}

function walk(value: unknown, schema: SchemaNode | undefined, path: string, out: string[]): void {
  if (!schema || value === null || value === undefined) return;
  switch (schema.kind) {
    case "object": {
      if (!isRecord(value)) return;
      const props = schema.properties ?? {};
      for (const [k, v] of Object.entries(value)) {
        const child = props[k];
        const childPath = path === "" ? k : `${path}.${k}`;
        if (child) walk(v, child, childPath, out);
        else if (schema.additionalProperties) walk(v, schema.additionalProperties, childPath, out);
        else if (!schema.preserveUnknownFields) out.push(`unknown field "${childPath}"`);
      }
      return;
    }
    case "map": {
      if (!isRecord(value)) return;
      for (const [k, v] of Object.entries(value))
        walk(v, schema.additionalProperties, path === "" ? k : `${path}.${k}`, out);
      return;
    }
    case "array": {
      if (!Array.isArray(value)) return;
      value.forEach((item, i) => {
        walk(item, schema.items, `${path}[${i}]`, out);
      });
      return;
    }
    default:
      return;
  }
}

/**
 * Keys that appear twice in one JSON object of a raw request body, worded as upstream's strict
 * decoder does: `duplicate field "metadata.name"`. Returns [] for text that is not valid JSON.
 */
export function findDuplicateFields(raw: string): string[] {
  const out: string[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < raw.length && " \t\r\n".includes(raw[i] ?? "")) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < raw.length && raw[i] !== '"') i += raw[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(raw.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = raw[i];
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      ws();
      if (raw[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = str();
        const childPath = path === "" ? key : `${path}.${key}`;
        if (seen.has(key)) out.push(`duplicate field "${childPath}"`);
        seen.add(key);
        ws();
        i++; // ':'
        value(childPath);
        ws();
        if (raw[i] === ",") {
          i++;
          continue;
        }
        i++; // '}'
        return;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (raw[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        if (raw[i] === ",") {
          i++;
          continue;
        }
        i++;
        return;
      }
    }
    if (c === '"') {
      str();
      return;
    }
    while (i < raw.length && !",}] \t\r\n".includes(raw[i] ?? "")) i++;
  };
  try {
    JSON.parse(raw);
    value("");
  } catch {
    return [];
  }
  return out;
}
