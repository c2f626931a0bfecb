import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  decodeObject,
  encodeObject,
  encodeOpenAPIv2,
  OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE,
  PROTOBUF_CONTENT_TYPE,
} from "../../src/api/protobuf/index.js";
import { dataPath } from "../../src/util/paths.js";

/**
 * The real kubectl (Go client-go) against a stub server that reads its protobuf request with decodeObject and
 * answers with encodeObject: kubectl printing the object back proves both directions speak Go's wire format.
 */
const KUBECTL = "/usr/bin/kubectl";
const run = promisify(execFile);

function writeKubeconfig(dir: string, port: number): string {
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: c, cluster: {server: 'http://127.0.0.1:${port}'}}]`,
      "users: [{name: u, user: {token: t}}]",
      "contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]",
      "current-context: c",
      "",
    ].join("\n"),
  );
  return file;
}

describe("real kubectl ↔ our protobuf codec", { skip: existsSync(KUBECTL) ? false : "kubectl not installed" }, () => {
  let server: Server;
  let dir: string;
  const received: Record<string, unknown>[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method !== "POST" || req.headers["content-type"] !== PROTOBUF_CONTENT_TYPE) {
          res.writeHead(404, { "content-type": "application/json" });
          res.end(
            JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404, reason: "NotFound" }),
          );
          return;
        }
        const obj = decodeObject(Buffer.concat(chunks));
        received.push(structuredClone(obj));
        obj.metadata = {
          ...obj.metadata,
          uid: "0b7c5d4e-1111-4222-8333-444455556666",
          resourceVersion: "12",
          creationTimestamp: "2024-05-06T07:08:09Z",
        };
        if (obj.kind === "Deployment") {
          obj["status"] = {
            observedGeneration: 1,
            conditions: [
              {
                type: "Available",
                status: "True",
                lastUpdateTime: "2024-05-06T07:08:10Z",
                lastTransitionTime: "2024-05-06T07:08:10Z",
                reason: "R",
              },
            ],
          };
          (obj["spec"] as Record<string, unknown>)["strategy"] = {
            type: "RollingUpdate",
            rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 },
          };
        }
        res.writeHead(201, { "content-type": PROTOBUF_CONTENT_TYPE });
        res.end(encodeObject(obj));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), "k8ts-proto-"));
    writeKubeconfig(dir, port);
  });

  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kubectl(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(KUBECTL, [...args, "-o", "json"], {
      env: { ...process.env, KUBECONFIG: join(dir, "kubeconfig") },
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  it("kubectl create namespace: request decodes, protobuf response is read back by kubectl", async () => {
    const out = await kubectl("create", "namespace", "team-a");
    assert.deepEqual(received.at(-1), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "team-a" },
      spec: {},
      status: {},
    });
    assert.deepEqual(out["metadata"], {
      name: "team-a",
      uid: "0b7c5d4e-1111-4222-8333-444455556666",
      resourceVersion: "12",
      creationTimestamp: "2024-05-06T07:08:09Z",
    });
  });

  it("kubectl create deployment --replicas=0: replicas 0 arrives, intstr and conditions go back", async () => {
    const out = await kubectl("create", "deployment", "web", "--image=nginx", "--replicas=0");
    assert.equal((received.at(-1)?.["spec"] as Record<string, unknown> | undefined)?.["replicas"], 0);
    const spec = out["spec"] as Record<string, unknown>;
    assert.equal(spec["replicas"], 0);
    assert.deepEqual(spec["strategy"], {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 },
    });
    assert.deepEqual(out["status"], {
      observedGeneration: 1,
      conditions: [
        {
          type: "Available",
          status: "True",
          lastUpdateTime: "2024-05-06T07:08:10Z",
          lastTransitionTime: "2024-05-06T07:08:10Z",
          reason: "R",
        },
      ],
    });
  });

  it("kubectl create secret: bytes survive both ways", async () => {
    const out = await kubectl("create", "secret", "generic", "s", "--from-literal=k=v");
    assert.deepEqual(received.at(-1)?.["data"], { k: Buffer.from("v").toString("base64") });
    assert.deepEqual(out["data"], { k: Buffer.from("v").toString("base64") });
  });
});

describe("real kubectl reads our /openapi/v2 protobuf", {
  skip: existsSync(KUBECTL) ? false : "kubectl not installed",
}, () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;
  const accepts: string[] = [];

  before(async () => {
    const swagger = JSON.parse(readFileSync(dataPath("openapi", "swagger.json"), "utf8")) as Record<string, unknown>;
    const spec = encodeOpenAPIv2(swagger);
    const discovery: Record<string, unknown> = {
      "/api": { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] },
      "/apis": {
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: [
          {
            name: "apps",
            versions: [{ groupVersion: "apps/v1", version: "v1" }],
            preferredVersion: { groupVersion: "apps/v1", version: "v1" },
          },
        ],
      },
      "/api/v1": {
        kind: "APIResourceList",
        groupVersion: "v1",
        resources: [{ name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get"] }],
      },
      "/apis/apps/v1": {
        kind: "APIResourceList",
        groupVersion: "apps/v1",
        resources: [
          { name: "deployments", singularName: "deployment", namespaced: true, kind: "Deployment", verbs: ["get"] },
        ],
      },
    };
    server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/openapi/v2") {
        accepts.push(req.headers.accept ?? "");
        res.writeHead(200, { "content-type": OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE });
        res.end(spec);
        return;
      }
      const body = discovery[path];
      res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify(body ?? { kind: "Status", apiVersion: "v1", status: "Failure", code: 404 }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    dir = mkdtempSync(join(tmpdir(), "k8ts-proto-"));
    kubeconfig = writeKubeconfig(dir, (server.address() as AddressInfo).port);
  });

  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("kubectl explain --output=plaintext-openapiv2 finds the kind by its x-kubernetes-group-version-kind", async () => {
    const { stdout } = await run(KUBECTL, ["explain", "deployment.spec.strategy", "--output=plaintext-openapiv2"], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    assert.match(stdout, /KIND:\s+Deployment/);
    assert.match(stdout, /rollingUpdate\s+<Object>/);
    assert.ok(
      accepts.some((a) => a.includes("protobuf")),
      `kubectl asked for protobuf: ${accepts.join(" | ")}`,
    );
  });
});
