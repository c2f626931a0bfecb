/**
 * The server's own surface: TLS with HTTP/2 and HTTP/1.1, authentication (client certificates,
 * bearer tokens, 401 for anonymous requests except health and version), discovery, watch-list
 * and /metrics.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect } from "node:http2";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Client, clientFor } from "./client.js";
import { startCluster, type TestCluster } from "./harness.js";

function anonymous(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ code: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, rejectUnauthorized: false, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("API server surface", () => {
  let cluster: TestCluster;
  let client: Client;
  before(async () => {
    cluster = await startCluster({ store: "memory", watchCacheWindow: 5 });
    client = clientFor(cluster.kubeconfig);
  });
  after(async () => {
    client?.agent.destroy();
    await cluster?.stop();
  });

  for (const path of ["/healthz", "/livez", "/readyz", "/version"]) {
    it(`${path} answers anonymous requests`, async () => {
      assert.equal((await anonymous(cluster.server.url, path)).code, 200);
    });
  }

  for (const path of ["/api", "/apis", "/api/v1/namespaces", "/metrics", "/openapi/v2"]) {
    it(`${path} answers anonymous requests with a 401 Status`, async () => {
      const r = await anonymous(cluster.server.url, path);
      assert.equal(r.code, 401);
      assert.deepEqual(JSON.parse(r.body), {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    });
  }

  it("accepts a bearer token from the token file and refuses an unknown one", async () => {
    const line = readFileSync(join(cluster.dataDir, "tokens.csv"), "utf8").split("\n")[0]!;
    const token = line.split(",")[0]!;
    assert.equal(
      (await anonymous(cluster.server.url, "/api/v1/namespaces", { authorization: `Bearer ${token}` })).code,
      200,
    );
    assert.equal(
      (await anonymous(cluster.server.url, "/api/v1/namespaces", { authorization: "Bearer nope" })).code,
      401,
    );
  });

  it("speaks HTTP/2 with ALPN", async () => {
    const kc = readFileSync(cluster.kubeconfig, "utf8");
    const field = (name: string) => Buffer.from(new RegExp(`${name}: (\\S+)`).exec(kc)![1]!, "base64").toString();
    const session = connect(cluster.server.url, {
      ca: field("certificate-authority-data"),
      cert: field("client-certificate-data"),
      key: field("client-key-data"),
    });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": "/api/v1/namespaces/default" });
        let text = "";
        req.setEncoding("utf8");
        req.on("data", (d: string) => {
          text += d;
        });
        req.on("end", () => resolve(text));
        req.on("error", reject);
        req.end();
      });
      assert.equal((JSON.parse(body) as { metadata: { name: string } }).metadata.name, "default");
    } finally {
      session.close();
    }
  });

  it("serves aggregated discovery when asked for it", async () => {
    const r = await client.call("GET", "/apis", undefined, {
      accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    });
    assert.equal(r.headers["content-type"], "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const doc = JSON.parse(r.body) as {
      items: Array<{
        metadata: { name: string };
        versions: Array<{ version: string; resources: Array<Record<string, unknown>> }>;
      }>;
    };
    const apps = doc.items.find((g) => g.metadata.name === "apps")!;
    assert.equal(apps.versions[0]!.version, "v1");
    const deployments = apps.versions[0]!.resources.find((r2) => r2["resource"] === "deployments")!;
    const scale = (deployments["subresources"] as Array<Record<string, unknown>>).find(
      (s) => s["subresource"] === "scale",
    );
    assert.deepEqual(scale?.["responseKind"], { group: "autoscaling", version: "v1", kind: "Scale" });
    const core = JSON.parse((await client.call("GET", "/api/v1")).body) as {
      resources: Array<Record<string, unknown>>;
    };
    const eviction = core.resources.find((x) => x["name"] === "pods/eviction");
    assert.deepEqual([eviction?.["group"], eviction?.["version"], eviction?.["kind"]], ["policy", "v1", "Eviction"]);
  });

  it("answers a watch-list with ADDED events then an initial-events-end BOOKMARK", async () => {
    const u = new URL(cluster.server.url);
    const lines = await new Promise<string[]>((resolve, reject) => {
      const req = request(
        {
          agent: client.agent,
          host: u.hostname,
          port: u.port,
          path: "/api/v1/namespaces?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
        },
        (res) => {
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => {
            buf += d;
            if (buf.includes('"BOOKMARK"')) {
              req.destroy();
              resolve(buf.trim().split("\n"));
            }
          });
        },
      );
      req.on("error", (e) => {
        if (!req.destroyed) reject(e);
      });
      req.end();
    });
    const events = lines.map((l) => JSON.parse(l) as { type: string; object: { metadata: Record<string, unknown> } });
    const bookmark = events.pop()!;
    assert.deepEqual(events.map((e) => `${e.type} ${String(e.object.metadata["name"])}`).sort(), [
      "ADDED default",
      "ADDED kube-node-lease",
      "ADDED kube-public",
      "ADDED kube-system",
    ]);
    assert.equal(bookmark.type, "BOOKMARK");
    assert.deepEqual(bookmark.object.metadata["annotations"], { "k8s.io/initial-events-end": "true" });
  });

  it("answers kubectl auth can-i / whoami and TokenReview without storing anything", async () => {
    const ssar = await client.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { verb: "create", resource: "pods", namespace: "default" } },
    });
    assert.equal(ssar.code, 201);
    assert.equal((JSON.parse(ssar.body) as { status: { allowed: boolean } }).status.allowed, true);
    const ssr = await client.call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
    });
    assert.deepEqual((JSON.parse(ssr.body) as { status: unknown }).status, {
      userInfo: { username: "system:admin", groups: ["system:masters", "system:authenticated"] },
    });
    const token = readFileSync(join(cluster.dataDir, "tokens.csv"), "utf8").split(",")[0]!;
    for (const [t, authenticated] of [
      [token, true],
      ["wrong", false],
    ] as const) {
      const tr = await client.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token: t },
      });
      assert.equal((JSON.parse(tr.body) as { status: { authenticated: boolean } }).status.authenticated, authenticated);
    }
    assert.equal((await client.call("GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).code, 405);
  });

  it("issues service account tokens (kubectl create token) that authenticate until the account goes", async () => {
    await client.call("POST", "/api/v1/namespaces/default/serviceaccounts", { metadata: { name: "robot" } });
    const tr = await client.call("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    });
    assert.equal(tr.code, 201);
    const token = (JSON.parse(tr.body) as { status: { token: string; expirationTimestamp: string } }).status.token;
    const whoami = await anonymous(cluster.server.url, "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      authorization: `Bearer ${token}`,
    });
    assert.equal(whoami.code, 405); // GET is not allowed on reviews, but the caller was authenticated (not 401)
    const list = await anonymous(cluster.server.url, "/api/v1/namespaces", { authorization: `Bearer ${token}` });
    assert.equal(list.code, 200);
    const short = await client.call("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 60 },
    });
    assert.equal(short.code, 422);
    assert.match(JSON.parse(short.body).message as string, /may not specify a duration less than 10 minutes/);
    await client.call("DELETE", "/api/v1/namespaces/default/serviceaccounts/robot");
    assert.equal(
      (await anonymous(cluster.server.url, "/api/v1/namespaces", { authorization: `Bearer ${token}` })).code,
      401,
    );
    const forged = `${token.slice(0, token.lastIndexOf(".") + 1)}AAAA`;
    assert.equal(
      (await anonymous(cluster.server.url, "/api/v1/namespaces", { authorization: `Bearer ${forged}` })).code,
      401,
    );
  });

  it("refuses duplicate JSON keys with fieldValidation=Strict and warns about them otherwise", async () => {
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup1","name":"dup2"}}';
    const strict = await client.call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", body);
    assert.equal(strict.code, 400);
    assert.equal(
      JSON.parse(strict.body).message,
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name"',
    );
    const warn = await client.call("POST", "/api/v1/namespaces/default/configmaps", body);
    assert.equal(warn.code, 201);
    assert.equal(warn.headers["warning"], '299 - "duplicate field \\"metadata.name\\""');
  });

  it("answers a read at a revision the server has not seen with 504 Too large resource version", async () => {
    for (const watch of ["", "&watch=true"]) {
      const r = await client.call("GET", `/api/v1/namespaces?resourceVersion=999999999${watch}`);
      assert.equal(r.code, 504);
      const status = JSON.parse(r.body) as { reason: string; message: string; details: { retryAfterSeconds: number } };
      assert.equal(status.reason, "Timeout");
      assert.match(status.message, /^Too large resource version: 999999999, current: \d+$/);
      assert.equal(status.details.retryAfterSeconds, 1);
    }
  });

  it("answers a dry-run update with the object's current resourceVersion", async () => {
    const created = JSON.parse(
      (
        await client.call("POST", "/api/v1/namespaces/default/configmaps", {
          metadata: { name: "dry" },
          data: { a: "1" },
        })
      ).body,
    ) as { metadata: { resourceVersion: string } };
    const r = await client.call("PATCH", "/api/v1/namespaces/default/configmaps/dry?dryRun=All", '{"data":{"a":"2"}}', {
      "content-type": "application/merge-patch+json",
    });
    const dry = JSON.parse(r.body) as { metadata: { resourceVersion: string }; data: { a: string } };
    assert.equal(dry.data.a, "2");
    assert.equal(dry.metadata.resourceVersion, created.metadata.resourceVersion);
  });

  it("counts requests by verb and resource in /metrics", async () => {
    await client.call("GET", "/api/v1/namespaces");
    const r = await client.call("GET", "/metrics");
    assert.equal(r.code, 200);
    assert.match(
      r.body,
      /^apiserver_request_total\{verb="LIST",group="",version="v1",resource="namespaces",subresource="",code="200"\} \d+$/m,
    );
    assert.match(r.body, /^apiserver_request_duration_seconds_bucket\{.*resource="namespaces".*le="\+Inf"\} \d+$/m);
    assert.match(r.body, /^k8ts_store_request_duration_seconds_count\{operation="create",backend="memory"\} \d+$/m);
    assert.match(r.body, /^apiserver_storage_objects\{resource="namespaces"\} 4$/m);
  });

  it("expires a watch from a compacted revision with 410 Gone as an ERROR event", async () => {
    // more events than the cache window keeps: the resume falls back to the store's history
    for (let i = 0; i < 8; i++) {
      await client.call("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: `c${i}` } });
    }
    await cluster.server.store.compact(await cluster.server.store.currentRevision());
    const r = await client.call(
      "GET",
      "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=2",
    );
    const ev = JSON.parse(r.body.trim().split("\n")[0]!) as {
      type: string;
      object: { code: number; reason: string; message: string };
    };
    assert.equal(ev.type, "ERROR");
    assert.equal(ev.object.code, 410);
    assert.equal(ev.object.reason, "Expired");
    assert.match(ev.object.message, /^too old resource version: 1 \(\d+\)$/);
  });
});
