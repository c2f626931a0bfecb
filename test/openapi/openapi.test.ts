import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import type { CustomResourceInput, OpenAPIDocs, ServedResource } from "../../src/api/openapi/index.js";
import { buildOpenAPI } from "../../src/api/openapi/index.js";
import { isRecord } from "../../src/api/types.js";

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function served(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  subresources: string[] = [],
  extra: Partial<ServedResource> = {},
): ServedResource {
  return { group, version, kind, plural, namespaced, verbs: ALL_VERBS, subresources, ...extra };
}

const RESOURCES: ServedResource[] = [
  served("", "v1", "Pod", "pods", true, ["status", "log", "binding", "eviction"]),
  served("", "v1", "Namespace", "namespaces", false, ["status", "finalize"]),
  served("", "v1", "ConfigMap", "configmaps", true),
  served("", "v1", "Node", "nodes", false, ["status"], { verbs: ["get", "list", "watch"] }),
  served("apps", "v1", "Deployment", "deployments", true, ["status", "scale"]),
  served("apps", "v1", "DaemonSet", "daemonsets", true, ["status"]),
  served("apps", "v1", "StatefulSet", "statefulsets", true, ["status", "scale"]),
  served("batch", "v1", "Job", "jobs", true, ["status"]),
  served("batch", "v1", "CronJob", "cronjobs", true, ["status"]),
  served("extensions", "v1beta1", "DaemonSet", "daemonsets", true, ["daemonsets/status"], {
    definitionGVK: { group: "apps", version: "v1", kind: "DaemonSet" },
    deprecated: true,
  }),
  served("batch", "v1beta1", "CronJob", "cronjobs", true, ["status"], {
    definitionGVK: { group: "batch", version: "v1", kind: "CronJob" },
  }),
  served("apps", "v1beta2", "StatefulSet", "statefulsets", true, ["status", "scale"]),
  served("k8ts.dev", "v1alpha1", "Widget", "widgets", true),
];

const CRDS: CustomResourceInput[] = [
  {
    group: "stable.example.com",
    version: "v1",
    kind: "CronTab",
    plural: "crontabs",
    namespaced: true,
    subresources: ["status"],
    schema: {
      type: "object",
      properties: {
        spec: {
          type: "object",
          properties: {
            cronSpec: { type: "string", description: "the schedule" },
            replicas: { type: "integer", nullable: true },
            port: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] },
            extra: {
              type: "object",
              "x-kubernetes-preserve-unknown-fields": true,
              properties: { a: { type: "string" } },
            },
          },
        },
      },
    },
  },
  { group: "stable.example.com", version: "v1", kind: "Cluster", plural: "clusters", namespaced: false, schema: 7 },
];

let cached: OpenAPIDocs | undefined;
function docs(): OpenAPIDocs {
  cached ??= buildOpenAPI(RESOURCES, CRDS);
  return cached;
}

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  assert.ok(isRecord(v), `${what} is an object`);
  return v;
}

function v2(): Json {
  return obj(JSON.parse(docs().v2Json().toString("utf8")), "v2 document");
}

function v3(path: string): Json {
  const bytes = docs().v3GroupVersion(path);
  assert.ok(bytes !== undefined, `v3 document ${path} exists`);
  return obj(JSON.parse(bytes.toString("utf8")), `v3 ${path}`);
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (isRecord(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function gvkList(def: unknown): unknown {
  return obj(def, "definition")["x-kubernetes-group-version-kind"];
}

describe("/openapi/v2", () => {
  const wanted = [
    "/api/v1/namespaces/{namespace}/pods",
    "/api/v1/namespaces/{namespace}/pods/{name}",
    "/api/v1/namespaces/{namespace}/pods/{name}/status",
    "/api/v1/namespaces/{namespace}/pods/{name}/log",
    "/api/v1/pods",
    "/api/v1/watch/namespaces/{namespace}/pods/{name}",
    "/api/v1/namespaces",
    "/api/v1/namespaces/{name}",
    "/api/v1/namespaces/{name}/finalize",
    "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
    "/apis/batch/v1/namespaces/{namespace}/jobs/{name}",
    "/apis/extensions/v1beta1/namespaces/{namespace}/daemonsets",
    "/apis/extensions/v1beta1/namespaces/{namespace}/daemonsets/{name}/status",
    "/apis/batch/v1beta1/namespaces/{namespace}/cronjobs/{name}",
    "/apis/apps/v1beta2/namespaces/{namespace}/statefulsets/{name}/scale",
    "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status",
    "/apis/stable.example.com/v1/clusters/{name}",
    "/api/",
    "/apis/",
    "/version/",
    "/api/v1/",
    "/apis/extensions/",
    "/apis/extensions/v1beta1/",
  ];
  for (const path of wanted) {
    it(`serves the path ${path}`, () => {
      assert.ok(obj(v2()["paths"], "paths")[path] !== undefined);
    });
  }

  const unwanted = [
    ["an unserved core resource", "/api/v1/namespaces/{namespace}/secrets"],
    ["an unserved subresource", "/api/v1/namespaces/{namespace}/pods/{name}/exec"],
    ["an unserved group", "/apis/networking.k8s.io/v1/ingresses"],
    ["an unserved group's discovery", "/apis/rbac.authorization.k8s.io/"],
    ["a custom resource's deprecated watch path", "/apis/stable.example.com/v1/watch/namespaces/{namespace}/crontabs"],
    [
      "a namespace path for a cluster-scoped custom resource",
      "/apis/stable.example.com/v1/namespaces/{namespace}/clusters",
    ],
  ];
  for (const [why, path] of unwanted) {
    it(`leaves out ${why} (${path})`, () => {
      assert.equal(obj(v2()["paths"], "paths")[path as string], undefined);
    });
  }

  it("keeps only the operations of the served verbs", () => {
    const nodes = obj(obj(v2()["paths"], "paths")["/api/v1/nodes/{name}"], "nodes item");
    assert.ok(nodes["get"] !== undefined);
    assert.equal(nodes["put"], undefined);
    assert.equal(nodes["patch"], undefined);
    assert.equal(nodes["delete"], undefined);
  });

  it("has a definition carrying its x-kubernetes-group-version-kind for every served kind and its List", () => {
    const defs = obj(v2()["definitions"], "definitions");
    const byGVK = new Map<string, string>();
    for (const [name, def] of Object.entries(defs)) {
      const list = gvkList(def);
      if (!Array.isArray(list)) continue;
      for (const g of list) {
        const o = obj(g, "gvk");
        byGVK.set(`${o["group"]}/${o["version"]}/${o["kind"]}`, name);
      }
    }
    const all = [...RESOURCES, ...CRDS];
    for (const r of all) {
      assert.ok(byGVK.has(`${r.group}/${r.version}/${r.kind}`), `${r.group}/${r.version} ${r.kind}`);
    }
    for (const r of all.filter((x) => x.kind !== "Widget")) {
      assert.ok(byGVK.has(`${r.group}/${r.version}/${r.kind}List`), `${r.group}/${r.version} ${r.kind}List`);
    }
  });

  const legacy: Array<[string, string, object]> = [
    [
      "io.k8s.api.extensions.v1beta1.DaemonSet",
      "io.k8s.api.extensions.v1beta1.DaemonSetSpec",
      { group: "extensions", version: "v1beta1", kind: "DaemonSet" },
    ],
    [
      "io.k8s.api.batch.v1beta1.CronJob",
      "io.k8s.api.batch.v1beta1.CronJobSpec",
      { group: "batch", version: "v1beta1", kind: "CronJob" },
    ],
    [
      "io.k8s.api.apps.v1beta2.StatefulSet",
      "io.k8s.api.apps.v1beta2.StatefulSetSpec",
      { group: "apps", version: "v1beta2", kind: "StatefulSet" },
    ],
  ];
  for (const [name, specRef, gvk] of legacy) {
    it(`synthesizes ${name} with the legacy GVK and refs to its own cloned types`, () => {
      const defs = obj(v2()["definitions"], "definitions");
      const def = obj(defs[name], name);
      assert.deepEqual(def["x-kubernetes-group-version-kind"], [gvk]);
      const spec = obj(obj(def["properties"], "properties")["spec"], "spec");
      assert.equal(spec["$ref"], `#/definitions/${specRef}`);
      assert.ok(defs[specRef] !== undefined);
      const list = obj(defs[`${name}List`], `${name}List`);
      const items = obj(obj(obj(list["properties"], "list properties")["items"], "items")["items"], "items.items");
      assert.equal(items["$ref"], `#/definitions/${name}`);
    });
  }

  it("gives legacy paths operations named, tagged and typed for the legacy group/version", () => {
    const item = obj(
      obj(v2()["paths"], "paths")["/apis/extensions/v1beta1/namespaces/{namespace}/daemonsets/{name}"],
      "legacy item",
    );
    const get = obj(item["get"], "get");
    assert.equal(get["operationId"], "readExtensionsV1beta1NamespacedDaemonSet");
    assert.deepEqual(get["tags"], ["extensions_v1beta1"]);
    assert.deepEqual(get["x-kubernetes-group-version-kind"], {
      group: "extensions",
      kind: "DaemonSet",
      version: "v1beta1",
    });
    assert.deepEqual(refs(get["responses"]), ["#/definitions/io.k8s.api.extensions.v1beta1.DaemonSet"]);
  });

  it("publishes no definitions of unserved groups or versions", () => {
    const names = Object.keys(obj(v2()["definitions"], "definitions"));
    for (const prefix of [
      "io.k8s.api.networking.",
      "io.k8s.api.rbac.",
      "io.k8s.api.storage.",
      "io.k8s.api.apps.v1beta1.",
      "io.k8s.api.resource.",
      "io.k8s.kube-aggregator.",
    ]) {
      assert.deepEqual(
        names.filter((n) => n.startsWith(prefix)),
        [],
        prefix,
      );
    }
  });

  it("resolves every $ref to a published definition or parameter", () => {
    const doc = v2();
    const defs = obj(doc["definitions"], "definitions");
    const params = obj(doc["parameters"], "parameters");
    for (const ref of refs(doc)) {
      if (ref.startsWith("#/definitions/")) assert.ok(defs[ref.slice(14)] !== undefined, ref);
      else if (ref.startsWith("#/parameters/")) assert.ok(params[ref.slice(13)] !== undefined, ref);
      else assert.fail(`unexpected ref ${ref}`);
    }
  });

  it("keeps the meta definitions clients decode, with DeleteOptions listed for legacy group/versions", () => {
    const defs = obj(v2()["definitions"], "definitions");
    for (const n of ["Status", "DeleteOptions", "WatchEvent", "APIResourceList", "APIGroupList", "Patch"]) {
      assert.ok(defs[`io.k8s.apimachinery.pkg.apis.meta.v1.${n}`] !== undefined, n);
    }
    const list = gvkList(defs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]);
    assert.ok(Array.isArray(list));
    assert.ok(list.some((g) => isRecord(g) && g["group"] === "extensions" && g["version"] === "v1beta1"));
  });

  it("gives a served kind nothing describes a definition that accepts any object", () => {
    const def = obj(obj(v2()["definitions"], "definitions")["dev.k8ts.v1alpha1.Widget"], "Widget");
    assert.equal(def["x-kubernetes-preserve-unknown-fields"], true);
    assert.equal(def["properties"], undefined);
  });

  it("publishes custom resource schemas in swagger 2.0 form", () => {
    const def = obj(obj(v2()["definitions"], "definitions")["com.example.stable.v1.CronTab"], "CronTab");
    assert.deepEqual(def["x-kubernetes-group-version-kind"], [
      { group: "stable.example.com", kind: "CronTab", version: "v1" },
    ]);
    const props = obj(def["properties"], "properties");
    assert.equal(
      obj(props["metadata"], "metadata")["$ref"],
      "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    );
    const spec = obj(obj(props["spec"], "spec")["properties"], "spec properties");
    assert.equal(obj(spec["replicas"], "replicas")["nullable"], undefined);
    assert.deepEqual(obj(spec["port"], "port"), { "x-kubernetes-int-or-string": true });
    assert.equal(obj(spec["extra"], "extra")["properties"], undefined);
  });

  it("does not advertise protobuf for custom resources", () => {
    const get = obj(
      obj(obj(v2()["paths"], "paths")["/apis/stable.example.com/v1/clusters/{name}"], "cluster item")["get"],
      "get",
    );
    assert.equal(get["operationId"], "readStableExampleComV1Cluster");
    assert.ok(Array.isArray(get["produces"]));
    assert.ok(!get["produces"].includes("application/vnd.kubernetes.protobuf"));
  });

  it("hashes the bytes with sha512, uppercase hex", () => {
    const expected = createHash("sha512").update(docs().v2Json()).digest("hex").toUpperCase();
    assert.equal(docs().v2Hash(), expected);
  });

  it("gives the same bytes whatever the order of the served list", () => {
    const other = buildOpenAPI([...RESOURCES].reverse(), [...CRDS].reverse());
    assert.equal(other.v2Hash(), docs().v2Hash());
  });

  it("reads nothing until a document is asked for", () => {
    const lazy = buildOpenAPI(RESOURCES, [], { swaggerPath: "/nonexistent/swagger.json" });
    assert.throws(() => lazy.v2Json(), /ENOENT/);
  });
});

describe("/openapi/v3", () => {
  it("lists a document per served group/version, by server-relative URL with the document's hash", () => {
    const index = obj(docs().v3Index()["paths"], "index paths");
    for (const key of [
      "api/v1",
      "apis/apps/v1",
      "apis/apps/v1beta2",
      "apis/batch/v1",
      "apis/batch/v1beta1",
      "apis/extensions/v1beta1",
      "apis/stable.example.com/v1",
      "apis/k8ts.dev/v1alpha1",
    ]) {
      const entry = obj(index[key], key);
      const bytes = docs().v3GroupVersion(key);
      assert.ok(bytes !== undefined, key);
      const hash = createHash("sha512").update(bytes).digest("hex").toUpperCase();
      assert.equal(docs().v3Hash(key), hash);
      assert.equal(entry["serverRelativeURL"], `/openapi/v3/${key}?hash=${hash}`);
    }
    assert.equal(index["apis/networking.k8s.io/v1"], undefined);
  });

  const lookups: Array<[string, boolean]> = [
    ["apis/batch/v1", true],
    ["/openapi/v3/apis/batch/v1?hash=ABC", true],
    ["/apis/batch/v1/", true],
    ["apis/networking.k8s.io/v1", false],
    ["apis/batch", false],
  ];
  for (const [path, found] of lookups) {
    it(`${found ? "finds" : "has no"} document for ${path}`, () => {
      assert.equal(docs().v3GroupVersion(path) !== undefined, found);
    });
  }

  it("apis/batch/v1 has the Job schema and a PATCH operation listing fieldValidation", () => {
    const doc = v3("apis/batch/v1");
    assert.equal(doc["openapi"], "3.0.0");
    const schemas = obj(obj(doc["components"], "components")["schemas"], "schemas");
    const job = obj(schemas["io.k8s.api.batch.v1.Job"], "Job");
    assert.deepEqual(job["x-kubernetes-group-version-kind"], [{ group: "batch", kind: "Job", version: "v1" }]);
    const patch = obj(
      obj(obj(doc["paths"], "paths")["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"], "jobs item")["patch"],
      "patch",
    );
    assert.deepEqual(patch["x-kubernetes-group-version-kind"], { group: "batch", kind: "Job", version: "v1" });
    const params = patch["parameters"];
    assert.ok(Array.isArray(params));
    const query = params.filter(isRecord).filter((p) => p["in"] === "query");
    assert.deepEqual(query.map((p) => p["name"]).sort(), ["dryRun", "fieldManager", "fieldValidation", "force"]);
    for (const p of query) assert.ok(isRecord(p["schema"]), `${p["name"]} has a schema`);
    const body = obj(obj(patch["requestBody"], "requestBody")["content"], "content");
    assert.ok(body["application/apply-patch+yaml"] !== undefined);
    assert.ok(body["application/strategic-merge-patch+json"] !== undefined);
  });

  it("uses only component refs, and every one resolves", () => {
    for (const key of Object.keys(obj(docs().v3Index()["paths"], "index"))) {
      const doc = v3(key);
      const schemas = obj(obj(doc["components"], "components")["schemas"], "schemas");
      for (const ref of refs(doc)) {
        assert.ok(ref.startsWith("#/components/schemas/"), `${key}: ${ref}`);
        assert.ok(schemas[ref.slice(21)] !== undefined, `${key}: ${ref}`);
      }
    }
  });

  it("wraps a $ref that has a description in allOf, as upstream v3 does", () => {
    const job = obj(obj(obj(v3("apis/batch/v1")["components"], "c")["schemas"], "s")["io.k8s.api.batch.v1.Job"], "Job");
    const spec = obj(obj(job["properties"], "properties")["spec"], "spec");
    assert.deepEqual(spec["allOf"], [{ $ref: "#/components/schemas/io.k8s.api.batch.v1.JobSpec" }]);
    assert.equal(typeof spec["description"], "string");
  });

  it("describes IntOrString as integer or string", () => {
    const schemas = obj(obj(v3("api/v1")["components"], "c")["schemas"], "s");
    const ios = obj(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"], "IntOrString");
    assert.deepEqual(ios["oneOf"], [{ type: "integer" }, { type: "string" }]);
    assert.equal(ios["type"], undefined);
  });

  it("apis/batch/v1beta1 has the legacy CronJob schema under its legacy GVK", () => {
    const schemas = obj(obj(v3("apis/batch/v1beta1")["components"], "c")["schemas"], "s");
    const cj = obj(schemas["io.k8s.api.batch.v1beta1.CronJob"], "CronJob");
    assert.deepEqual(cj["x-kubernetes-group-version-kind"], [{ group: "batch", kind: "CronJob", version: "v1beta1" }]);
    assert.equal(schemas["io.k8s.api.batch.v1.Job"], undefined);
  });

  it("keeps a custom resource's v3-only schema features", () => {
    const schemas = obj(obj(v3("apis/stable.example.com/v1")["components"], "c")["schemas"], "s");
    const ct = obj(schemas["com.example.stable.v1.CronTab"], "CronTab");
    const props = obj(ct["properties"], "properties");
    const spec = obj(obj(props["spec"], "spec")["properties"], "spec properties");
    assert.equal(obj(spec["replicas"], "replicas")["nullable"], true);
    assert.deepEqual(obj(props["metadata"], "metadata")["allOf"], [
      { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
    ]);
  });
});
