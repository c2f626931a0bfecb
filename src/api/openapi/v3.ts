/** OpenAPI v3 documents per group/version, derived from the trimmed swagger 2.0 model as upstream publishes them. */
import { isRecord } from "../types.js";
import type { SpecModel } from "./build.js";
import type { JsonObject } from "./json.js";
import {
  asObject,
  asString,
  DEFINITIONS_PREFIX,
  definitionClosure,
  definitionRefs,
  PARAMETERS_PREFIX,
} from "./json.js";
import { OPERATION_METHODS } from "./paths.js";

const SCHEMAS_PREFIX = "#/components/schemas/";

/** Types whose v3 schema is a oneOf of primitives (kube-openapi's OpenAPIV3OneOfTypes). */
const ONE_OF_TYPES: Record<string, string[]> = {
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": ["integer", "string"],
  "io.k8s.apimachinery.pkg.api.resource.Quantity": ["string", "number"],
};

/** A v2 schema in v3 form: refs under #/components/schemas, and a $ref with siblings wrapped in allOf. */
export function schemaToV3(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(schemaToV3);
  if (!isRecord(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "$ref":
        out[key] =
          typeof value === "string" && value.startsWith(DEFINITIONS_PREFIX)
            ? SCHEMAS_PREFIX + value.slice(DEFINITIONS_PREFIX.length)
            : value;
        break;
      case "properties":
      case "patternProperties":
      case "definitions":
        if (isRecord(value)) {
          const props: JsonObject = {};
          for (const [p, s] of Object.entries(value)) props[p] = schemaToV3(s);
          out[key] = props;
        } else {
          out[key] = value;
        }
        break;
      case "items":
      case "additionalProperties":
      case "not":
      case "allOf":
      case "anyOf":
      case "oneOf":
        out[key] = typeof value === "object" && value !== null ? schemaToV3(value) : value;
        break;
      default:
        out[key] = value;
    }
  }
  const ref = out["$ref"];
  if (ref !== undefined && Object.keys(out).length > 1) {
    delete out["$ref"];
    out["allOf"] = [{ $ref: ref }];
  }
  return out;
}

function definitionToV3(name: string, def: unknown, model: SpecModel): unknown {
  const override = model.v3Definitions.get(name);
  if (override !== undefined) return schemaToV3(override);
  const oneOf = ONE_OF_TYPES[name];
  if (oneOf !== undefined && isRecord(def)) {
    const { type: _type, ...rest } = def;
    return { ...rest, oneOf: oneOf.map((type) => ({ type })) };
  }
  return schemaToV3(def);
}

const PARAMETER_SCHEMA_KEYS = [
  "type",
  "format",
  "items",
  "collectionFormat",
  "default",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "enum",
  "multipleOf",
];

function resolveParameter(p: unknown, parameters: JsonObject): JsonObject | undefined {
  const o = asObject(p);
  const ref = asString(o?.["$ref"]);
  if (ref?.startsWith(PARAMETERS_PREFIX)) {
    return asObject(parameters[ref.slice(PARAMETERS_PREFIX.length)]);
  }
  return o;
}

/** A non-body v2 parameter in v3 form: the type moves under "schema". */
function parameterToV3(p: JsonObject): JsonObject {
  const out: JsonObject = {};
  const schema: JsonObject = {};
  for (const [key, value] of Object.entries(p)) {
    if (key === "collectionFormat") continue;
    if (PARAMETER_SCHEMA_KEYS.includes(key)) schema[key] = value;
    else out[key] = value;
  }
  out["schema"] = schema;
  return out;
}

function contentFor(mediaTypes: unknown, schema: unknown): JsonObject {
  const types = Array.isArray(mediaTypes) && mediaTypes.length > 0 ? mediaTypes : ["application/json"];
  const content: JsonObject = {};
  for (const t of types) if (typeof t === "string") content[t] = { schema: schemaToV3(schema) };
  return content;
}

function operationToV3(op: JsonObject, parameters: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(op)) {
    switch (key) {
      case "consumes":
      case "produces":
      case "schemes":
      case "parameters":
      case "responses":
        break;
      default:
        out[key] = value;
    }
  }
  const params: JsonObject[] = [];
  for (const raw of Array.isArray(op["parameters"]) ? op["parameters"] : []) {
    const p = resolveParameter(raw, parameters);
    if (p === undefined) continue;
    if (p["in"] === "body") {
      const body: JsonObject = { content: contentFor(op["consumes"], p["schema"]) };
      if (p["required"] === true) body["required"] = true;
      out["requestBody"] = body;
    } else {
      params.push(parameterToV3(p));
    }
  }
  if (params.length > 0) out["parameters"] = params;
  const responses: JsonObject = {};
  for (const [code, raw] of Object.entries(asObject(op["responses"]) ?? {})) {
    const r = asObject(raw);
    if (r === undefined) continue;
    const resp: JsonObject = {};
    for (const [key, value] of Object.entries(r)) if (key !== "schema") resp[key] = value;
    if (r["schema"] !== undefined) resp["content"] = contentFor(op["produces"], r["schema"]);
    responses[code] = resp;
  }
  out["responses"] = responses;
  return out;
}

function pathItemToV3(item: JsonObject, parameters: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(item)) {
    if ((OPERATION_METHODS as readonly string[]).includes(key)) {
      const op = asObject(value);
      if (op !== undefined) out[key] = operationToV3(op, parameters);
    } else if (key === "parameters" && Array.isArray(value)) {
      out[key] = value
        .map((p) => resolveParameter(p, parameters))
        .filter((p): p is JsonObject => p !== undefined && p["in"] !== "body")
        .map(parameterToV3);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The OpenAPI 3.0 document for the given swagger paths (one group/version's), with the schemas they reach. */
export function buildV3Document(model: SpecModel, pathKeys: readonly string[]): JsonObject {
  const swagger = model.swagger;
  const allPaths = asObject(swagger["paths"]) ?? {};
  const parameters = asObject(swagger["parameters"]) ?? {};
  const definitions = asObject(swagger["definitions"]) ?? {};
  const paths: JsonObject = {};
  const roots = new Set<string>();
  for (const key of pathKeys) {
    const item = asObject(allPaths[key]);
    if (item === undefined) continue;
    paths[key] = pathItemToV3(item, parameters);
    for (const name of definitionRefs(item)) roots.add(name);
    for (const raw of Array.isArray(item["parameters"]) ? item["parameters"] : []) {
      for (const name of definitionRefs(resolveParameter(raw, parameters))) roots.add(name);
    }
    for (const method of OPERATION_METHODS) {
      const op = asObject(item[method]);
      for (const raw of Array.isArray(op?.["parameters"]) ? op["parameters"] : []) {
        for (const name of definitionRefs(resolveParameter(raw, parameters))) roots.add(name);
      }
    }
  }
  const schemas: JsonObject = {};
  for (const name of [...definitionClosure(definitions, roots)].sort()) {
    schemas[name] = definitionToV3(name, definitions[name], model);
  }
  const securityDefinitions = asObject(swagger["securityDefinitions"]);
  const components: JsonObject = { schemas };
  if (securityDefinitions !== undefined && Object.keys(securityDefinitions).length > 0) {
    components["securitySchemes"] = securityDefinitions;
  }
  return {
    components,
    info: swagger["info"],
    openapi: "3.0.0",
    paths,
    security: swagger["security"],
  };
}

/**
 * Groups the model's paths by the /openapi/v3 document they belong to: "api/v1", "apis/apps/v1", and the
 * non-group documents "api", "apis", "version".
 */
export function v3DocumentPaths(model: SpecModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (doc: string, path: string): void => {
    const list = out.get(doc) ?? [];
    out.set(doc, list);
    list.push(path);
  };
  for (const path of Object.keys(asObject(model.swagger["paths"]) ?? {})) {
    const segs = path.split("/");
    if (segs[1] === "api" && segs[2] !== undefined && segs[2] !== "") add(`api/${segs[2]}`, path);
    else if (segs[1] === "apis" && segs[3] !== undefined && segs[3] !== "") add(`apis/${segs[2]}/${segs[3]}`, path);
    else if (path === "/api/") add("api", path);
    else if (path === "/apis/") add("apis", path);
    else if (path === "/version/") add("version", path);
    // "/apis/<group>/" has no document of its own here.
  }
  return out;
}
