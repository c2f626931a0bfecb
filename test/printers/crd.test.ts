import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildTable, crdPrinter, printerFor } from "../../src/api/printers/index.js";
import { ago, headers, NOW, obj, row } from "./helpers.js";

const crontab = obj("my-new-cron-object", ago("7d"), {
  spec: { cronSpec: "* * * * */5", image: "my-awesome-cron-image", replicas: 3, ratio: 0.25, tiny: 0.00001 },
  status: {
    conditions: [
      { type: "Synced", status: "True", lastTransitionTime: ago("2h") },
      { type: "Ready", status: "False", lastTransitionTime: ago("5m") },
    ],
    tags: ["a", "b"],
    labels: { z: "1", a: "<b>" },
  },
});

describe("custom resource tables", () => {
  it("without columns: NAME and a date-typed Age", () => {
    const p = crdPrinter([]);
    assert.deepEqual(headers(p), ["NAME", "AGE"]);
    assert.equal(p.columns[1]?.type, "date");
    assert.deepEqual(p.cells(crontab, NOW), ["my-new-cron-object", "7d"]);
  });

  it("with columns: NAME then exactly the declared columns, nothing appended", () => {
    const p = crdPrinter([
      { name: "Spec", type: "string", jsonPath: ".spec.cronSpec", description: "The cron spec" },
      { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
      { name: "Image", type: "string", jsonPath: ".spec.image", priority: 1 },
    ]);
    assert.deepEqual(headers(p), ["NAME", "SPEC", "REPLICAS"]);
    assert.deepEqual(headers(p, true), ["NAME", "SPEC", "REPLICAS", "IMAGE"]);
    assert.equal(p.columns[1]?.description, "The cron spec");
    assert.equal(p.columns[2]?.description, "Custom resource definition column (in JSONPath format): .spec.replicas");
    assert.deepEqual(p.cells(crontab, NOW), ["my-new-cron-object", "* * * * */5", 3, "my-awesome-cron-image"]);
  });

  const cases: Array<{ name: string; type: string; jsonPath: string; want: unknown }> = [
    { name: "a date column renders as an age", type: "date", jsonPath: ".metadata.creationTimestamp", want: "7d" },
    { name: "a missing field is null", type: "string", jsonPath: ".spec.nothing", want: null },
    { name: "an index into a list", type: "string", jsonPath: ".status.conditions[1].type", want: "Ready" },
    {
      name: "a negative index counts from the end",
      type: "string",
      jsonPath: ".status.conditions[-1].type",
      want: "Ready",
    },
    { name: "an index past the end is null", type: "string", jsonPath: ".status.conditions[5].type", want: null },
    {
      name: "a wildcard takes the first match",
      type: "string",
      jsonPath: ".status.conditions[*].type",
      want: "Synced",
    },
    {
      name: "a filter picks the matching element",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      want: "False",
    },
    {
      name: "a filter with single quotes and a date",
      type: "date",
      jsonPath: ".status.conditions[?(@.type=='Ready')].lastTransitionTime",
      want: "5m",
    },
    { name: "an integer column truncates a number", type: "integer", jsonPath: ".spec.ratio", want: 0 },
    { name: "a number column keeps the fraction", type: "number", jsonPath: ".spec.ratio", want: 0.25 },
    { name: "a string column prints a number as Go does", type: "string", jsonPath: ".spec.tiny", want: "1e-05" },
    { name: "a string column prints a list as JSON", type: "string", jsonPath: ".status.tags", want: '["a","b"]' },
    {
      name: "a string column prints a map as Go's JSON (sorted, HTML-escaped)",
      type: "string",
      jsonPath: ".status.labels",
      want: '{"a":"\\u003cb\\u003e","z":"1"}',
    },
    { name: "a boolean column with a string value is null", type: "boolean", jsonPath: ".spec.image", want: null },
    {
      name: "a date column with a non-date string is <invalid>",
      type: "date",
      jsonPath: ".spec.image",
      want: "<invalid>",
    },
    { name: "braces around the path are accepted", type: "integer", jsonPath: "{.spec.replicas}", want: 3 },
    { name: "a bracketed key", type: "string", jsonPath: ".spec['image']", want: "my-awesome-cron-image" },
    { name: "an unparsable path yields null", type: "string", jsonPath: ".spec[", want: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = crdPrinter([{ name: "X", type: c.type, jsonPath: c.jsonPath }]);
      assert.deepEqual(row(p, crontab)["X"], c.want);
    });
  }
});

describe("buildTable", () => {
  const pods = printerFor("", "pods");
  const pod = obj(
    "a",
    ago("1m"),
    { spec: { containers: [{ name: "c" }] }, status: { phase: "Succeeded" } },
    { namespace: "default" },
  );

  it("rows carry PartialObjectMetadata by default, and row conditions", () => {
    const t = buildTable(pods, [pod], NOW, { listMeta: { resourceVersion: "42" } });
    assert.equal(t.kind, "Table");
    assert.equal(t.apiVersion, "meta.k8s.io/v1");
    assert.deepEqual(t.metadata, { resourceVersion: "42" });
    assert.equal(t.columnDefinitions.length, 9);
    assert.equal(t.rows[0]?.cells.length, 9);
    assert.deepEqual(t.rows[0]?.object, {
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: pod.metadata,
    });
    assert.equal(t.rows[0]?.conditions?.[0]?.type, "Completed");
  });

  it("includeObject=Object embeds the object, None leaves it out, noHeaders drops the columns", () => {
    assert.equal(buildTable(pods, [pod], NOW, { includeObject: "Object" }).rows[0]?.object, pod);
    assert.equal("object" in (buildTable(pods, [pod], NOW, { includeObject: "None" }).rows[0] ?? {}), false);
    assert.deepEqual(buildTable(pods, [pod], NOW, { noHeaders: true }).columnDefinitions, []);
  });
});
