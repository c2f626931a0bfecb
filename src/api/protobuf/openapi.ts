/**
 * /openapi/v2 as protobuf: the gnostic `openapi.v2.Document` (data/proto/gnostic/openapiv2/OpenAPIv2.proto),
 * built from the swagger JSON the way gnostic's compiler (used by kube-openapi's ToProtoBinary) builds it:
 * field names are the snake_case of the JSON keys (`$ref` → `_ref`), maps become repeated Named* pairs in
 * document order, `x-` keys become `vendor_extension` NamedAny entries, and free-form values (vendor
 * extensions, default, example, enum) become `Any{yaml}` holding the value as YAML text.
 */
import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import { isRecord } from "../types.js";
import { lookupMessage, type Protobuf, protobufjs } from "./schema.js";

const FILE = "gnostic/openapiv2/OpenAPIv2.proto";
const PKG = "openapi.v2";

type Json = Record<string, unknown>;

const typeCache = new Map<string, Protobuf.Type>();

function gnosticType(name: string): Protobuf.Type {
  let t = typeCache.get(name);
  if (t === undefined) {
    t = lookupMessage(FILE, `${PKG}.${name}`);
    if (t === undefined) throw new Error(`gnostic message ${PKG}.${name} not found in data/proto/${FILE}`);
    typeCache.set(name, t);
  }
  return t;
}

/** JSON key of a gnostic field: base_path → basePath, _ref → $ref. */
function jsonKey(field: string): string {
  if (field === "_ref") return "$ref";
  return field.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

interface FieldInfo {
  name: string;
  key: string;
  type: string;
  repeated: boolean;
  isMessage: boolean;
}

const fieldCache = new Map<Protobuf.Type, FieldInfo[]>();

function fieldsOf(type: Protobuf.Type): FieldInfo[] {
  let out = fieldCache.get(type);
  if (out === undefined) {
    const lib = protobufjs();
    out = type.fieldsArray.map((f) => {
      f.resolve();
      return {
        name: f.name,
        key: jsonKey(f.name),
        type: f.type,
        repeated: f.repeated,
        isMessage: f.resolvedType instanceof lib.Type,
      };
    });
    fieldCache.set(type, out);
  }
  return out;
}

let yamlLib: typeof Yaml | undefined;

/** Any{yaml}: the value as YAML text, like gnostic's compiler.Marshal (the yaml package is required on first use). */
function yamlAny(v: unknown): Json {
  if (yamlLib === undefined) yamlLib = createRequire(import.meta.url)("yaml") as typeof Yaml;
  return { yaml: yamlLib.stringify(v, { lineWidth: 0 }) };
}

function vendorExtensions(json: Json): Json[] {
  const out: Json[] = [];
  for (const [k, v] of Object.entries(json)) if (k.startsWith("x-")) out.push({ name: k, value: yamlAny(v) });
  return out;
}

/** Message types that stand for a JSON object used as a map: one `repeated Named* additional_properties`. */
function isMapWrapper(t: Protobuf.Type): boolean {
  const fields = t.fieldsArray;
  return fields.length === 1 && fields[0]?.name === "additional_properties" && fields[0].repeated;
}

function oneof(typeName: string, json: unknown): Json | undefined {
  const obj = isRecord(json) ? json : undefined;
  switch (typeName) {
    case "AdditionalPropertiesItem":
      if (typeof json === "boolean") return { boolean: json };
      return obj && { schema: convert("Schema", obj) };
    case "Parameter":
      if (!obj) return undefined;
      return obj["in"] === "body"
        ? { body_parameter: convert("BodyParameter", obj) }
        : { non_body_parameter: convert("NonBodyParameter", obj) };
    case "NonBodyParameter": {
      if (!obj) return undefined;
      const sub: Record<string, string> = {
        header: "HeaderParameterSubSchema",
        formData: "FormDataParameterSubSchema",
        query: "QueryParameterSubSchema",
        path: "PathParameterSubSchema",
      };
      const where = typeof obj["in"] === "string" ? obj["in"] : "query";
      const typeFor = sub[where] ?? "QueryParameterSubSchema";
      const field = typeFor.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
      return { [field]: convert(typeFor, obj) };
    }
    case "ParametersItem":
      if (!obj) return undefined;
      return "$ref" in obj
        ? { json_reference: convert("JsonReference", obj) }
        : { parameter: convert("Parameter", obj) };
    case "ResponseValue":
      if (!obj) return undefined;
      return "$ref" in obj ? { json_reference: convert("JsonReference", obj) } : { response: convert("Response", obj) };
    case "SchemaItem":
      if (!obj) return undefined;
      return obj["type"] === "file" ? { file_schema: convert("FileSchema", obj) } : { schema: convert("Schema", obj) };
    case "SecurityDefinitionsItem": {
      if (!obj) return undefined;
      if (obj["type"] === "basic")
        return { basic_authentication_security: convert("BasicAuthenticationSecurity", obj) };
      if (obj["type"] === "apiKey") return { api_key_security: convert("ApiKeySecurity", obj) };
      const flows: Record<string, string> = {
        implicit: "Oauth2ImplicitSecurity",
        password: "Oauth2PasswordSecurity",
        application: "Oauth2ApplicationSecurity",
        accessCode: "Oauth2AccessCodeSecurity",
      };
      const t = flows[String(obj["flow"])];
      if (t === undefined) return undefined;
      return { [t.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()]: convert(t, obj) };
    }
    case "TypeItem":
      return { value: Array.isArray(json) ? json.map(String) : [String(json)] };
    case "ItemsItem":
      if (Array.isArray(json)) return { schema: json.map((s) => convert("Schema", s)) };
      return obj && { schema: [convert("Schema", obj)] };
    case "StringArray":
      return Array.isArray(json) ? { value: json.map(String) } : undefined;
    case "Any":
      return yamlAny(json);
    default:
      return undefined;
  }
}

const SPECIAL = new Set([
  "AdditionalPropertiesItem",
  "Parameter",
  "NonBodyParameter",
  "ParametersItem",
  "ResponseValue",
  "SchemaItem",
  "SecurityDefinitionsItem",
  "TypeItem",
  "ItemsItem",
  "StringArray",
  "Any",
]);

function scalar(type: string, v: unknown): unknown {
  switch (type) {
    case "string":
      return typeof v === "string" && v !== "" ? v : undefined;
    case "bool":
      return v === true ? true : undefined;
    case "double":
    case "float":
    case "int64":
    case "int32":
      return typeof v === "number" && v !== 0 ? v : undefined;
    default:
      return undefined;
  }
}

/** Converts one swagger JSON value into the plain object form of gnostic message `typeName`. */
function convert(typeName: string, json: unknown): Json | undefined {
  if (SPECIAL.has(typeName)) return oneof(typeName, json);
  if (!isRecord(json)) return undefined;
  const type = gnosticType(typeName);
  if (isMapWrapper(type)) {
    const entryField = type.fieldsArray[0]!.resolve();
    const entryType = entryField.resolvedType;
    if (!(entryType instanceof protobufjs().Type)) return undefined;
    const valueType = entryType.fields["value"];
    const entries: Json[] = [];
    for (const [name, v] of Object.entries(json)) {
      if (valueType === undefined) continue;
      const value = valueType.type === "string" ? scalar("string", v) : convert(valueType.type, v);
      entries.push(value === undefined ? { name } : { name, value });
    }
    return { additional_properties: entries };
  }
  const out: Json = {};
  for (const f of fieldsOf(type)) {
    if (f.name === "vendor_extension") {
      const ext = vendorExtensions(json);
      if (ext.length > 0) out[f.name] = ext;
      continue;
    }
    if (typeName === "Paths" && f.name === "path") {
      out[f.name] = Object.entries(json)
        .filter(([k]) => k.startsWith("/"))
        .map(([name, v]) => ({ name, value: convert("PathItem", v) }));
      continue;
    }
    if (typeName === "Responses" && f.name === "response_code") {
      out[f.name] = Object.entries(json)
        .filter(([k]) => /^([0-9]{3})$|^(default)$/.test(k))
        .map(([name, v]) => ({ name, value: convert("ResponseValue", v) }));
      continue;
    }
    const v = json[f.key];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      if (!Array.isArray(v)) continue;
      const items = v.map((item) => (f.isMessage ? convert(f.type, item) : item)).filter((x) => x !== undefined);
      if (items.length > 0) out[f.name] = items;
    } else if (f.isMessage) {
      const c = convert(f.type, v);
      if (c !== undefined) out[f.name] = c;
    } else {
      const s = scalar(f.type, v);
      if (s !== undefined) out[f.name] = s;
    }
  }
  return out;
}

/** gnostic openapi v2 Document encoding of a swagger JSON document. */
export function encodeOpenAPIv2(swagger: Record<string, unknown>): Uint8Array {
  const doc = convert("Document", swagger) ?? {};
  return gnosticType("Document").encode(doc).finish();
}
