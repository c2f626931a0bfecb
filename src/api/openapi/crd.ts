/** Definitions for custom resources, from their CRD's openAPIV3Schema. */
import { isRecord } from "../types.js";
import { GVK_EXTENSION } from "./clone.js";
import type { JsonObject } from "./json.js";
import { cloneJson, DEFINITIONS_PREFIX } from "./json.js";
import type { GroupVersion } from "./names.js";

export interface CustomResourceInput {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** The version's openAPIV3Schema (structural); anything else gives a schema that accepts any object. */
  schema: unknown;
  /** Subresources the CRD enables ("status", "scale"). When omitted, taken from a served resource of the same name. */
  subresources?: string[];
}

/** Property schemas every object carries (apiVersion, kind, metadata), copied from a built-in kind. */
export interface StandardProperties {
  apiVersion: unknown;
  kind: unknown;
  metadata: unknown;
  listMetadata: unknown;
}

/** Upstream names CRD definitions after the reversed group: stable.example.com/v1 CronTab → com.example.stable.v1.CronTab. */
export function customResourceDefinitionName(gv: GroupVersion, kind: string): string {
  return `${gv.group.split(".").reverse().join(".")}.${gv.version}.${kind}`;
}

const OBJECT_META = `${DEFINITIONS_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;
const LIST_META = `${DEFINITIONS_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta`;

/** The kind's definition and its List's, both still in OpenAPI v3 form (refs in v2 "#/definitions/" style). */
export function customResourceDefinitions(
  crd: CustomResourceInput,
  standard: StandardProperties,
): { kind: [string, JsonObject]; list: [string, JsonObject] } {
  const gv = { group: crd.group, version: crd.version };
  const name = customResourceDefinitionName(gv, crd.kind);
  const schema: JsonObject = isRecord(crd.schema)
    ? cloneJson(crd.schema)
    : { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  const properties: JsonObject = isRecord(schema["properties"]) ? schema["properties"] : {};
  properties["apiVersion"] = cloneJson(standard.apiVersion);
  properties["kind"] = cloneJson(standard.kind);
  properties["metadata"] = { ...(isRecord(standard.metadata) ? standard.metadata : {}), $ref: OBJECT_META };
  delete (properties["metadata"] as JsonObject)["allOf"];
  schema["properties"] = properties;
  schema["type"] = "object";
  schema[GVK_EXTENSION] = [{ group: crd.group, kind: crd.kind, version: crd.version }];

  const list: JsonObject = {
    description: `${crd.kind}List is a list of ${crd.kind}`,
    properties: {
      apiVersion: cloneJson(standard.apiVersion),
      items: {
        description: `List of ${crd.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: { $ref: DEFINITIONS_PREFIX + name },
        type: "array",
      },
      kind: cloneJson(standard.kind),
      metadata: { ...(isRecord(standard.listMetadata) ? standard.listMetadata : {}), $ref: LIST_META },
    },
    required: ["items"],
    type: "object",
    [GVK_EXTENSION]: [{ group: crd.group, kind: `${crd.kind}List`, version: crd.version }],
  };
  return { kind: [name, schema], list: [`${name}List`, list] };
}

/**
 * Reduces a structural v3 schema to what swagger 2.0 (and kubectl's client-side validation) understands:
 * no nullable/oneOf/anyOf/allOf/not, int-or-string without a type, and no properties under
 * x-kubernetes-preserve-unknown-fields (so unknown fields there are not rejected).
 */
export function toSwagger2Schema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toSwagger2Schema);
  if (!isRecord(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    switch (key) {
      case "nullable":
      case "oneOf":
      case "anyOf":
      case "allOf":
      case "not":
        break;
      case "properties":
      case "patternProperties":
        if (isRecord(value)) {
          const props: JsonObject = {};
          for (const [p, s] of Object.entries(value)) props[p] = toSwagger2Schema(s);
          out[key] = props;
        }
        break;
      case "items":
      case "additionalProperties":
        out[key] = typeof value === "object" && value !== null ? toSwagger2Schema(value) : value;
        break;
      default:
        out[key] = value;
    }
  }
  if (out["x-kubernetes-int-or-string"] === true) delete out["type"];
  if (out["x-kubernetes-preserve-unknown-fields"] === true) {
    delete out["properties"];
    delete out["required"];
  }
  return out;
}
