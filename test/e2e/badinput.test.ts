/**
 * Bad requests sent raw over HTTPS with the admin client certificate (the corpus lives in
 * test/fixtures/badinput). Every answer must be a 4xx metav1.Status whose code is the HTTP code,
 * with upstream's code, reason and wording; and the server must stay ready afterwards.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCluster, type TestCluster } from "./harness.js";
import { type AdminCredentials, adminCredentials, FIXTURES, type RawResponse, rawRequest } from "./support.js";

interface BadInput {
  name: string;
  method: "GET" | "POST";
  path: string;
  /** A file of test/fixtures/badinput, or a body built here. */
  body?: string | (() => Buffer);
  contentType?: string;
  /** What upstream answers. */
  code: number;
  reason?: string;
  message?: RegExp;
  /** Where the server differs from upstream today. */
  todo?: string;
}

const CM = "/api/v1/namespaces/default/configmaps";
const PODS = "/api/v1/namespaces/default/pods";
const corpus = (file: string) => readFileSync(join(FIXTURES, "badinput", file), "utf8");

/** A ConfigMap body just over the 3 MiB limit on request bodies. */
function oversized(): Buffer {
  const head = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"';
  const tail = '"}}';
  const size = 3 * 1024 * 1024 + 1;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(size - head.length - tail.length, "a"), Buffer.from(tail)]);
}

const CASES: BadInput[] = [
  {
    name: "malformed JSON",
    method: "POST",
    path: CM,
    body: "malformed.json",
    code: 400,
    reason: "BadRequest",
    message:
      /^the object provided is unrecognized \(must be of type ConfigMap\): couldn't get version\/kind; json parse error: /,
  },
  {
    name: "malformed YAML",
    method: "POST",
    path: CM,
    body: "malformed.yaml",
    contentType: "application/yaml",
    code: 400,
    reason: "BadRequest",
    message:
      /^the object provided is unrecognized \(must be of type ConfigMap\): error converting YAML to JSON: yaml: line \d+: /,
  },
  {
    name: "a Secret posted to the configmaps URL",
    method: "POST",
    path: CM,
    body: "wrong-kind.json",
    code: 400,
    reason: "BadRequest",
    message: /^Secret in version "v1" cannot be handled as a ConfigMap: /,
  },
  {
    name: "a name with bad characters",
    method: "POST",
    path: CM,
    body: "bad-name.json",
    code: 422,
    reason: "Invalid",
    message:
      /^ConfigMap "Bad_Name!" is invalid: metadata\.name: Invalid value: "Bad_Name!": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '\.', and must start and end with an alphanumeric character/,
  },
  {
    name: "a label value over 63 characters",
    method: "POST",
    path: CM,
    body: "long-label.json",
    code: 422,
    reason: "Invalid",
    message:
      /^ConfigMap "long-label" is invalid: metadata\.labels: Invalid value: "x{64}": must be no more than 63 characters/,
  },
  {
    name: "a quantity that does not parse",
    method: "POST",
    path: PODS,
    body: "bad-quantity.json",
    code: 400,
    reason: "BadRequest",
    message:
      /^Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '\^\(\[\+-\]\?\[0-9\.\]\+\)\(\[eEinumkKMGTP\]\*\[-\+\]\?\[0-9\]\*\)\$'$/,
  },
  {
    name: "a body over 3 MiB",
    method: "POST",
    path: CM,
    body: oversized,
    code: 413,
    reason: "RequestEntityTooLarge",
    message: /^Request entity too large: limit is 3145728$/,
  },
  {
    name: "an unknown content type",
    method: "POST",
    path: CM,
    body: "not-json.txt",
    contentType: "text/plain",
    code: 415,
    reason: "UnsupportedMediaType",
    message:
      /^the body of the request was in an unknown format - accepted media types include: application\/json, application\/yaml/,
  },
  {
    name: "a label selector that does not parse",
    method: "GET",
    path: `${CM}?labelSelector=${encodeURIComponent("a in (b")}`,
    code: 400,
    reason: "BadRequest",
    message: /^unable to parse requirement: /,
  },
  {
    name: "a field selector on a field pods do not index",
    method: "GET",
    path: `${PODS}?fieldSelector=${encodeURIComponent("foo=bar")}`,
    code: 400,
    reason: "BadRequest",
    message: /^field label not supported: foo$/,
  },
  {
    name: "a field selector that does not parse",
    method: "GET",
    path: `${PODS}?fieldSelector=${encodeURIComponent("metadata.name")}`,
    code: 400,
    reason: "BadRequest",
    message: /^invalid selector: 'metadata\.name'; can't understand 'metadata\.name'$/,
  },
];

describe("bad input over raw HTTPS", () => {
  let cluster: TestCluster;
  let creds: AdminCredentials;
  const answers = new Map<string, RawResponse>();

  const send = async (c: BadInput): Promise<RawResponse> => {
    const cached = answers.get(c.name);
    if (cached) return cached;
    const body = typeof c.body === "function" ? c.body() : c.body === undefined ? undefined : corpus(c.body);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = c.contentType ?? "application/json";
    const res = await rawRequest(creds, c.method, c.path, body, headers);
    answers.set(c.name, res);
    return res;
  };

  before(async () => {
    cluster = await startCluster();
    creds = adminCredentials(cluster.kubeconfig);
  });
  after(async () => {
    await cluster?.stop();
  });

  for (const c of CASES) {
    it(`${c.name}: answered with a 4xx Status whose code is the HTTP code`, async () => {
      const res = await send(c);
      assert.ok(res.status >= 400 && res.status < 500, `HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      const status = JSON.parse(res.body) as Record<string, unknown>;
      assert.equal(status["kind"], "Status");
      assert.equal(status["apiVersion"], "v1");
      assert.equal(status["status"], "Failure");
      assert.equal(status["code"], res.status);
      assert.equal(typeof status["message"], "string");
    });

    it(`${c.name}: ${c.code} ${c.reason ?? ""} worded as upstream words it`, { todo: c.todo ?? false }, async () => {
      const res = await send(c);
      const status = JSON.parse(res.body) as Record<string, unknown>;
      assert.equal(res.status, c.code, res.body.slice(0, 300));
      if (c.reason) assert.equal(status["reason"], c.reason);
      if (c.message) assert.match(String(status["message"]), c.message);
    });
  }

  it("a body without apiVersion and kind is created, both defaulted from the URL as upstream does", {}, async () => {
    const res = await rawRequest(creds, "POST", CM, corpus("missing-kind.json"), {
      "Content-Type": "application/json",
    });
    assert.equal(res.status, 201, res.body.slice(0, 300));
    const cm = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(cm["kind"], "ConfigMap");
    assert.equal(cm["apiVersion"], "v1");
  });

  it("nothing of the bad input was stored", async () => {
    const res = await rawRequest(creds, "GET", CM, undefined, { Accept: "application/json" });
    assert.equal(res.status, 200);
    const names = (JSON.parse(res.body) as { items: { metadata: { name: string } }[] }).items.map(
      (i) => i.metadata.name,
    );
    for (const bad of ["truncated", "not-a-configmap", "Bad_Name!", "long-label", "big"]) {
      assert.ok(!names.includes(bad), `${bad} was stored: ${names}`);
    }
  });

  it("the server still answers /readyz with ok afterwards", async () => {
    const res = await rawRequest(creds, "GET", "/readyz");
    assert.equal(res.status, 200);
    assert.equal(res.body, "ok");
  });
});
