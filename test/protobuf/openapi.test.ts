import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { encodeOpenAPIv2 } from "../../src/api/protobuf/index.js";
import { lookupMessage } from "../../src/api/protobuf/schema.js";
import { dataPath } from "../../src/util/paths.js";

type Msg = Record<string, unknown>;

function decodeDocument(bytes: Uint8Array): Msg {
  const doc = lookupMessage("gnostic/openapiv2/OpenAPIv2.proto", "openapi.v2.Document");
  assert.ok(doc);
  return doc.toObject(doc.decode(bytes), { longs: Number, oneofs: false }) as Msg;
}

function named(list: unknown, name: string): Msg | undefined {
  if (!Array.isArray(list)) return undefined;
  const hit = (list as { name: string; value?: Msg }[]).find((e) => e.name === name);
  return hit?.value;
}

function ext(holder: Msg | undefined, name: string): unknown {
  const any = named(holder?.["vendor_extension"], name);
  return typeof any?.["yaml"] === "string" ? parseYaml(any["yaml"]) : undefined;
}

const small = {
  swagger: "2.0",
  info: { title: "Kubernetes", version: "v1.32.0" },
  paths: {
    "/api/v1/namespaces/{namespace}/pods/{name}": {
      get: {
        operationId: "readCoreV1NamespacedPod",
        consumes: ["*/*"],
        produces: ["application/json", "application/vnd.kubernetes.protobuf"],
        schemes: ["https"],
        tags: ["core_v1"],
        responses: {
          "200": { description: "OK", schema: { $ref: "#/definitions/io.k8s.api.core.v1.Pod" } },
          "401": { description: "Unauthorized" },
        },
        "x-kubernetes-action": "get",
        "x-kubernetes-group-version-kind": { group: "", kind: "Pod", version: "v1" },
      },
      parameters: [
        { $ref: "#/parameters/pretty-tJGM1-ng" },
        { name: "name", in: "path", required: true, type: "string", uniqueItems: true, description: "name of the Pod" },
      ],
      patch: {
        operationId: "patchCoreV1NamespacedPod",
        parameters: [{ name: "body", in: "body", required: true, schema: { type: "object" } }],
        responses: { "200": { description: "OK", schema: { $ref: "#/definitions/io.k8s.api.core.v1.Pod" } } },
      },
    },
  },
  definitions: {
    "io.k8s.api.core.v1.Pod": {
      description: "Pod is a collection of containers",
      type: "object",
      properties: {
        apiVersion: { type: "string" },
        metadata: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", default: {} },
        spec: { $ref: "#/definitions/io.k8s.api.core.v1.PodSpec" },
      },
      "x-kubernetes-group-version-kind": [{ group: "", kind: "Pod", version: "v1" }],
    },
    "io.k8s.api.core.v1.PodSpec": {
      type: "object",
      required: ["containers"],
      properties: {
        containers: {
          type: "array",
          items: { $ref: "#/definitions/io.k8s.api.core.v1.Container" },
          "x-kubernetes-patch-merge-key": "name",
          "x-kubernetes-patch-strategy": "merge",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
        },
        nodeSelector: { type: "object", additionalProperties: { type: "string", default: "" } },
        priority: { type: "integer", format: "int32" },
      },
    },
  },
  parameters: {
    "pretty-tJGM1-ng": { name: "pretty", in: "query", type: "string", uniqueItems: true },
  },
  securityDefinitions: { BearerToken: { type: "apiKey", name: "authorization", in: "header" } },
  security: [{ BearerToken: [] }],
};

describe("encodeOpenAPIv2 (gnostic openapi.v2.Document)", () => {
  const doc = decodeDocument(encodeOpenAPIv2(small));

  it("carries swagger version and info", () => {
    assert.equal(doc["swagger"], "2.0");
    assert.deepEqual(doc["info"], { title: "Kubernetes", version: "v1.32.0" });
  });

  it("definitions are NamedSchema pairs with $ref as _ref, type as TypeItem, properties as NamedSchema", () => {
    const defs = (doc["definitions"] as Msg)["additional_properties"];
    const pod = named(defs, "io.k8s.api.core.v1.Pod");
    assert.ok(pod);
    assert.deepEqual(pod["type"], { value: ["object"] });
    const props = (pod["properties"] as Msg)["additional_properties"];
    assert.equal(named(props, "metadata")?.["_ref"], "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert.deepEqual(named(props, "metadata")?.["default"], { yaml: "{}\n" });
    assert.deepEqual(
      (props as { name: string }[]).map((p) => p.name),
      ["apiVersion", "metadata", "spec"],
    );
  });

  it("x-kubernetes-group-version-kind is a NamedAny whose yaml parses to the GVK list", () => {
    const pod = named((doc["definitions"] as Msg)["additional_properties"], "io.k8s.api.core.v1.Pod");
    assert.deepEqual(ext(pod, "x-kubernetes-group-version-kind"), [{ group: "", kind: "Pod", version: "v1" }]);
  });

  it("patch strategy, merge key and list-type extensions survive on properties", () => {
    const spec = named((doc["definitions"] as Msg)["additional_properties"], "io.k8s.api.core.v1.PodSpec");
    const containers = named((spec?.["properties"] as Msg | undefined)?.["additional_properties"], "containers");
    assert.equal(ext(containers, "x-kubernetes-patch-merge-key"), "name");
    assert.equal(ext(containers, "x-kubernetes-patch-strategy"), "merge");
    assert.deepEqual(ext(containers, "x-kubernetes-list-map-keys"), ["name"]);
    assert.deepEqual(containers?.["items"], { schema: [{ _ref: "#/definitions/io.k8s.api.core.v1.Container" }] });
    assert.deepEqual(spec?.["required"], ["containers"]);
  });

  it("additionalProperties is an AdditionalPropertiesItem holding a schema", () => {
    const spec = named((doc["definitions"] as Msg)["additional_properties"], "io.k8s.api.core.v1.PodSpec");
    const nodeSelector = named((spec?.["properties"] as Msg | undefined)?.["additional_properties"], "nodeSelector");
    assert.deepEqual(nodeSelector?.["additional_properties"], {
      schema: { type: { value: ["string"] }, default: { yaml: '""\n' } },
    });
  });

  it("paths hold operations with responses, parameters (ref, path, body) and vendor extensions", () => {
    const item = named((doc["paths"] as Msg)["path"], "/api/v1/namespaces/{namespace}/pods/{name}");
    assert.ok(item);
    const get = item["get"] as Msg;
    assert.equal(get["operation_id"], "readCoreV1NamespacedPod");
    assert.equal(ext(get, "x-kubernetes-action"), "get");
    assert.deepEqual(ext(get, "x-kubernetes-group-version-kind"), { group: "", kind: "Pod", version: "v1" });
    const ok = named((get["responses"] as Msg)["response_code"], "200");
    assert.deepEqual(ok, {
      response: { description: "OK", schema: { schema: { _ref: "#/definitions/io.k8s.api.core.v1.Pod" } } },
    });
    const params = item["parameters"] as Msg[];
    assert.deepEqual(params[0], { json_reference: { _ref: "#/parameters/pretty-tJGM1-ng" } });
    assert.deepEqual(params[1], {
      parameter: {
        non_body_parameter: {
          path_parameter_sub_schema: {
            required: true,
            in: "path",
            name: "name",
            type: "string",
            unique_items: true,
            description: "name of the Pod",
          },
        },
      },
    });
    const body = ((item["patch"] as Msg)["parameters"] as Msg[])[0];
    assert.deepEqual(body, {
      parameter: {
        body_parameter: { name: "body", in: "body", required: true, schema: { type: { value: ["object"] } } },
      },
    });
  });

  it("top-level parameters, security definitions and security requirements", () => {
    const pretty = named((doc["parameters"] as Msg)["additional_properties"], "pretty-tJGM1-ng");
    assert.deepEqual(pretty, {
      non_body_parameter: {
        query_parameter_sub_schema: { name: "pretty", in: "query", type: "string", unique_items: true },
      },
    });
    const bearer = named((doc["security_definitions"] as Msg)["additional_properties"], "BearerToken");
    assert.deepEqual(bearer, { api_key_security: { type: "apiKey", name: "authorization", in: "header" } });
    assert.deepEqual(doc["security"], [{ additional_properties: [{ name: "BearerToken", value: {} }] }]);
  });

  it("encodes the whole Kubernetes spec in data/openapi/swagger.json", () => {
    const swagger = JSON.parse(readFileSync(dataPath("openapi", "swagger.json"), "utf8")) as Record<string, unknown>;
    const full = decodeDocument(encodeOpenAPIv2(swagger));
    const defs = (full["definitions"] as Msg)["additional_properties"] as unknown[];
    assert.equal(defs.length, Object.keys(swagger["definitions"] as Msg).length);
    const deployment = named(defs, "io.k8s.api.apps.v1.Deployment");
    assert.deepEqual(ext(deployment, "x-kubernetes-group-version-kind"), [
      { group: "apps", kind: "Deployment", version: "v1" },
    ]);
    const paths = (full["paths"] as Msg)["path"] as unknown[];
    assert.equal(paths.length, Object.keys(swagger["paths"] as Msg).length);
  });
});
