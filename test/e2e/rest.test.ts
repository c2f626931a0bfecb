/**
 * REST semantics of the API server, black-box over raw HTTPS against one in-memory cluster:
 * what create/update/delete set and keep, optimistic locking, the status and scale subresources,
 * finalizers and graceful deletion, namespace termination, pagination, selectors, dry run, field
 * validation, watch filtering, service IP allocation and legacy-version conversion. Upstream
 * Kubernetes (apiserver endpoints/handlers, registry/generic, pkg/registry/*) is the specification.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { isRecord } from "../../src/api/types.js";
import { type Client, clientFor } from "./client.js";
import { startCluster, type TestCluster } from "./harness.js";
import { at } from "./support.js";

type Obj = Record<string, unknown>;
type Reply = Awaited<ReturnType<Client["call"]>>;

const MERGE = { "content-type": "application/merge-patch+json" };

/** Upstream's generateName suffix: 5 characters of k8s.io/apimachinery/pkg/util/rand's alphabet. */
const GENERATED_SUFFIX = /^[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function bodyOf(r: Reply): Obj {
  const v: unknown = JSON.parse(r.body);
  if (!isRecord(v)) throw new Error(`not an object: ${r.body}`);
  return v;
}

function describeReply(r: Reply): string {
  return `HTTP ${r.code}: ${r.body.slice(0, 2000)}`;
}

function meta(o: unknown): Obj {
  const m = at(o, "metadata");
  return isRecord(m) ? m : {};
}

function namesOf(list: Obj): string[] {
  const items = Array.isArray(list["items"]) ? list["items"] : [];
  return items.map((i) => String(meta(i)["name"]));
}

function configMap(name: string, labels: Record<string, string> = {}, extra: Obj = {}): Obj {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels, ...extra }, data: { k: "v" } };
}

function deployment(name: string, replicas = 1): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "nginx:1.27" }] },
      },
    },
  };
}

function pod(name: string, nodeName?: string, labels: Record<string, string> = {}): Obj {
  const spec: Obj = { containers: [{ name: "c", image: "busybox" }] };
  if (nodeName) spec["nodeName"] = nodeName;
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec };
}

interface WatchEvent {
  type: string;
  object: Obj;
}

interface Watch {
  events: WatchEvent[];
  /** Resolves with the first event (from the start of the stream) that matches; rejects after 10 s. */
  waitFor(pred: (e: WatchEvent) => boolean): Promise<WatchEvent>;
  close(): void;
}

/** Opens a watch and resolves once the response headers arrived (the server is then subscribed). */
function openWatch(client: Client, path: string): Promise<Watch> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const listeners = new Set<() => void>();
    const req = request({ agent: false, ...agentOptions(client), method: "GET", path }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
        return;
      }
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        buf += d;
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) {
            const v: unknown = JSON.parse(line);
            if (isRecord(v) && isRecord(v["object"])) events.push({ type: String(v["type"]), object: v["object"] });
          }
          nl = buf.indexOf("\n");
        }
        for (const l of listeners) l();
      });
      res.on("error", () => {});
      resolve({
        events,
        waitFor(pred) {
          return new Promise((ok, fail) => {
            const check = () => {
              const found = events.find(pred);
              if (!found) return;
              done();
              ok(found);
            };
            const timer = setTimeout(() => {
              done();
              fail(new Error(`watch ${path}: event not seen in ${JSON.stringify(events.map(summary))}`));
            }, 10_000);
            const done = () => {
              clearTimeout(timer);
              listeners.delete(check);
            };
            listeners.add(check);
            check();
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on("error", () => {});
    req.end();
  });
}

function agentOptions(client: Client): Obj {
  const o = client.agent.options;
  return { host: client.base.hostname, port: client.base.port, ca: o.ca, cert: o.cert, key: o.key };
}

function summary(e: WatchEvent): string {
  return `${e.type} ${String(meta(e.object)["name"])}`;
}

describe("REST semantics (raw HTTP, memory store)", () => {
  let cluster: TestCluster;
  let client: Client;

  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    client.call(method, path, body, headers);

  /** A call that must answer `code`; returns the parsed body. */
  async function expectCode(code: number, method: string, path: string, body?: unknown, headers?: Obj) {
    const r = await call(method, path, body, headers as Record<string, string> | undefined);
    assert.equal(r.code, code, `${method} ${path} → ${describeReply(r)}`);
    return bodyOf(r);
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Creates a namespace and waits for its default ServiceAccount (pods need it upstream). */
  async function namespace(name: string): Promise<void> {
    await expectCode(201, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    await until(`serviceaccount ${name}/default`, async () => {
      const r = await call("GET", `/api/v1/namespaces/${name}/serviceaccounts/default`);
      return r.code === 200 ? true : undefined;
    });
  }

  before(async () => {
    // no Deployment controller: these cases check what the registry alone does with the objects
    cluster = await startCluster({ store: "memory", controllers: ["*", "-deployment"] });
    client = clientFor(cluster.kubeconfig);
  });
  after(async () => {
    client?.agent.destroy();
    await cluster?.stop();
  });

  describe("create", () => {
    it("generateName appends 5 characters of upstream's alphabet, a new name each time", async () => {
      await namespace("gen");
      const names = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const created = await expectCode(201, "POST", "/api/v1/namespaces/gen/configmaps", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { generateName: "cfg-" },
        });
        const name = String(meta(created)["name"]);
        assert.ok(name.startsWith("cfg-"), name);
        assert.match(name.slice(4), GENERATED_SUFFIX);
        assert.equal(meta(created)["generateName"], "cfg-");
        names.add(name);
      }
      assert.equal(names.size, 5);
    });

    it("sets uid, creationTimestamp and a resourceVersion, ignoring client-sent uid and timestamps", async () => {
      await namespace("meta");
      const created = await expectCode(201, "POST", "/api/v1/namespaces/meta/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "m", uid: "not-a-uid", creationTimestamp: "2000-01-01T00:00:00Z" },
      });
      const m = meta(created);
      assert.match(String(m["uid"]), UUID);
      assert.match(String(m["creationTimestamp"]), RFC3339);
      assert.notEqual(m["creationTimestamp"], "2000-01-01T00:00:00Z");
      assert.match(String(m["resourceVersion"]), /^\d+$/);
      const got = await expectCode(200, "GET", "/api/v1/namespaces/meta/configmaps/m");
      assert.equal(meta(got)["uid"], m["uid"]);
    });
  });

  describe("update", () => {
    it("Deployment generation: 1 on create, bumped by a spec change, kept by a metadata-only change", async () => {
      await namespace("gen-bump");
      const base = "/apis/apps/v1/namespaces/gen-bump/deployments";
      const created = await expectCode(201, "POST", base, deployment("web"));
      assert.equal(meta(created)["generation"], 1);
      const rvs = [Number(meta(created)["resourceVersion"])];

      const scaled = structuredClone(created);
      (scaled["spec"] as Obj)["replicas"] = 3;
      const updated = await expectCode(200, "PUT", `${base}/web`, scaled);
      assert.equal(meta(updated)["generation"], 2, "spec.replicas changed");
      rvs.push(Number(meta(updated)["resourceVersion"]));

      const labelled = await expectCode(200, "PATCH", `${base}/web`, { metadata: { labels: { team: "a" } } }, MERGE);
      assert.equal(meta(labelled)["generation"], 2, "labels are metadata");
      rvs.push(Number(meta(labelled)["resourceVersion"]));

      const annotated = await expectCode(
        200,
        "PATCH",
        `${base}/web`,
        { metadata: { annotations: { note: "x" } } },
        MERGE,
      );
      assert.equal(meta(annotated)["generation"], 2, "annotations are metadata");
      rvs.push(Number(meta(annotated)["resourceVersion"]));

      for (let i = 1; i < rvs.length; i++) assert.ok(rvs[i]! > rvs[i - 1]!, `resourceVersions ${rvs.join(" ")}`);
    });

    it("a PUT with a stale resourceVersion is a 409 Conflict worded as upstream", async () => {
      await namespace("stale");
      const base = "/apis/apps/v1/namespaces/stale/deployments";
      const created = await expectCode(201, "POST", base, deployment("x"));
      const first = structuredClone(created);
      (first["spec"] as Obj)["replicas"] = 2;
      await expectCode(200, "PUT", `${base}/x`, first);
      const second = structuredClone(created);
      (second["spec"] as Obj)["replicas"] = 5;
      const r = await call("PUT", `${base}/x`, second);
      assert.equal(r.code, 409, describeReply(r));
      const status = bodyOf(r);
      assert.equal(status["kind"], "Status");
      assert.equal(status["reason"], "Conflict");
      assert.equal(
        status["message"],
        'Operation cannot be fulfilled on deployments.apps "x": the object has been modified; please apply your changes to the latest version and try again',
      );
      assert.deepEqual(status["details"], { name: "x", group: "apps", kind: "deployments" });
      const now = await expectCode(200, "GET", `${base}/x`);
      assert.equal(at(now, "spec", "replicas"), 2);
    });

    it("a PUT without a resourceVersion is an unconditional update", async () => {
      await namespace("uncond");
      await expectCode(201, "POST", "/api/v1/namespaces/uncond/configmaps", configMap("u"));
      const out = await expectCode(200, "PUT", "/api/v1/namespaces/uncond/configmaps/u", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "u" },
        data: { k: "new" },
      });
      assert.deepEqual(out["data"], { k: "new" });
    });

    it("a create whose body names another namespace than the URL is a 400", async () => {
      const r = await call("POST", "/api/v1/namespaces/uncond/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "elsewhere", namespace: "default" },
      });
      assert.equal(r.code, 400, describeReply(r));
      assert.equal(
        bodyOf(r)["message"],
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    });

    it("a PUT to the main endpoint ignores status; a PUT to /status ignores spec and metadata", async () => {
      await namespace("status");
      const base = "/apis/apps/v1/namespaces/status/deployments";
      await expectCode(201, "POST", base, deployment("s"));

      const viaStatus = await expectCode(200, "GET", `${base}/s`);
      (viaStatus["spec"] as Obj)["replicas"] = 9;
      meta(viaStatus)["labels"] = { sneaky: "yes" };
      viaStatus["status"] = { replicas: 3, observedGeneration: 1 };
      const afterStatus = await expectCode(200, "PUT", `${base}/s/status`, viaStatus);
      assert.equal(at(afterStatus, "status", "replicas"), 3);
      assert.equal(at(afterStatus, "spec", "replicas"), 1, "spec comes from the stored object");
      assert.equal(meta(afterStatus)["labels"], undefined, "labels come from the stored object");
      assert.equal(meta(afterStatus)["generation"], 1);

      const viaMain = await expectCode(200, "GET", `${base}/s`);
      viaMain["status"] = { replicas: 7 };
      (viaMain["spec"] as Obj)["replicas"] = 2;
      const afterMain = await expectCode(200, "PUT", `${base}/s`, viaMain);
      assert.equal(at(afterMain, "spec", "replicas"), 2);
      assert.equal(at(afterMain, "status", "replicas"), 3, "status comes from the stored object");
      assert.equal(meta(afterMain)["generation"], 2);
    });
  });

  describe("scale subresource", () => {
    it("GET /scale is an autoscaling/v1 Scale with the selector as a string", async () => {
      await namespace("scale");
      const created = await expectCode(201, "POST", "/apis/apps/v1/namespaces/scale/deployments", deployment("web", 2));
      const scale = await expectCode(200, "GET", "/apis/apps/v1/namespaces/scale/deployments/web/scale");
      assert.equal(scale["kind"], "Scale");
      assert.equal(scale["apiVersion"], "autoscaling/v1");
      assert.equal(meta(scale)["name"], "web");
      assert.equal(meta(scale)["namespace"], "scale");
      assert.equal(meta(scale)["uid"], meta(created)["uid"]);
      assert.equal(at(scale, "spec", "replicas"), 2);
      assert.equal(at(scale, "status", "selector"), "app=web");
    });

    const scalable: Array<{ resource: string; body: Obj; selector: string }> = [
      {
        resource: "replicasets",
        selector: "app=rs",
        body: {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          metadata: { name: "rs" },
          spec: {
            replicas: 3,
            selector: { matchLabels: { app: "rs" } },
            template: { metadata: { labels: { app: "rs" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
          },
        },
      },
      {
        resource: "statefulsets",
        selector: "app=ss,tier in (db)",
        body: {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          metadata: { name: "ss" },
          spec: {
            replicas: 3,
            serviceName: "ss",
            selector: {
              matchLabels: { app: "ss" },
              matchExpressions: [{ key: "tier", operator: "In", values: ["db"] }],
            },
            template: {
              metadata: { labels: { app: "ss", tier: "db" } },
              spec: { containers: [{ name: "c", image: "nginx" }] },
            },
          },
        },
      },
    ];
    for (const { resource, body, selector } of scalable) {
      it(`GET /scale of ${resource} carries the selector ${selector}`, async () => {
        const base = `/apis/apps/v1/namespaces/scale/${resource}`;
        await expectCode(201, "POST", base, body);
        const scale = await expectCode(200, "GET", `${base}/${String(meta(body)["name"])}/scale`);
        assert.equal(scale["kind"], "Scale");
        assert.equal(at(scale, "spec", "replicas"), 3);
        assert.equal(at(scale, "status", "selector"), selector);
      });
    }

    const scaleWrites: Array<{ name: string; method: string; body: (s: Obj) => unknown; headers?: Obj }> = [
      {
        name: "a merge PATCH of /scale",
        method: "PATCH",
        body: () => ({ spec: { replicas: 4 } }),
        headers: MERGE,
      },
      {
        name: "a JSON PATCH of /scale",
        method: "PATCH",
        body: () => JSON.stringify([{ op: "replace", path: "/spec/replicas", value: 4 }]),
        headers: { "content-type": "application/json-patch+json" },
      },
      {
        name: "a PUT of /scale",
        method: "PUT",
        body: (s) => ({ ...s, spec: { replicas: 4 } }),
      },
    ];
    for (const [i, c] of scaleWrites.entries()) {
      it(`${c.name} changes the Deployment's spec.replicas and bumps its generation`, async () => {
        const name = `w${i}`;
        const base = "/apis/apps/v1/namespaces/scale/deployments";
        await expectCode(201, "POST", base, deployment(name, 1));
        const current = await expectCode(200, "GET", `${base}/${name}/scale`);
        const out = await expectCode(200, c.method, `${base}/${name}/scale`, c.body(current), c.headers);
        assert.equal(out["kind"], "Scale");
        assert.equal(at(out, "spec", "replicas"), 4);
        const dep = await expectCode(200, "GET", `${base}/${name}`);
        assert.equal(at(dep, "spec", "replicas"), 4);
        assert.equal(meta(dep)["generation"], 2);
      });
    }
    it("a PUT of /scale with a stale resourceVersion is a 409 Conflict on the parent", async () => {
      const base = "/apis/apps/v1/namespaces/scale/deployments";
      await expectCode(201, "POST", base, deployment("stale", 1));
      const scale = await expectCode(200, "GET", `${base}/stale/scale`);
      await expectCode(200, "PATCH", `${base}/stale`, '{"metadata":{"labels":{"x":"y"}}}', {
        "content-type": "application/merge-patch+json",
      });
      const status = await expectCode(409, "PUT", `${base}/stale/scale`, { ...scale, spec: { replicas: 3 } });
      assert.equal(
        status["message"],
        'Operation cannot be fulfilled on deployments.apps "stale": the object has been modified; please apply your changes to the latest version and try again',
      );
      assert.equal(at(await expectCode(200, "GET", `${base}/stale`), "spec", "replicas"), 1);
    });
  });

  describe("delete", () => {
    it("an object with a finalizer gets a deletionTimestamp and stays until a patch removes the finalizer", async () => {
      await namespace("fin");
      const path = "/api/v1/namespaces/fin/configmaps/held";
      await expectCode(
        201,
        "POST",
        "/api/v1/namespaces/fin/configmaps",
        configMap("held", {}, { finalizers: ["example.com/hold"] }),
      );
      const r = await call("DELETE", path);
      assert.ok(r.code === 200 || r.code === 202, describeReply(r));
      const answered = bodyOf(r);
      assert.equal(answered["kind"], "ConfigMap", "the answer is the object, not a Status");
      const kept = await expectCode(200, "GET", path);
      assert.match(String(meta(kept)["deletionTimestamp"]), RFC3339);
      assert.equal(meta(kept)["deletionGracePeriodSeconds"], 0);
      assert.deepEqual(meta(kept)["finalizers"], ["example.com/hold"]);

      // a second delete changes nothing
      const again = await call("DELETE", path);
      assert.ok(again.code === 200 || again.code === 202, describeReply(again));
      assert.equal(meta(await expectCode(200, "GET", path))["deletionTimestamp"], meta(kept)["deletionTimestamp"]);

      await expectCode(200, "PATCH", path, { metadata: { finalizers: null } }, MERGE);
      const gone = await call("GET", path);
      assert.equal(gone.code, 404, describeReply(gone));
    });

    const policies: Array<{ policy: string; finalizer: string }> = [
      { policy: "Foreground", finalizer: "foregroundDeletion" },
      { policy: "Orphan", finalizer: "orphan" },
    ];
    for (const { policy, finalizer } of policies) {
      it(`propagationPolicy=${policy} adds the ${finalizer} finalizer; the garbage collector then completes the delete`, async () => {
        const ns = `prop-${policy.toLowerCase()}`;
        await namespace(ns);
        const base = `/apis/apps/v1/namespaces/${ns}/deployments`;
        await expectCode(201, "POST", base, deployment("d"));
        const r = await call("DELETE", `${base}/d`, {
          kind: "DeleteOptions",
          apiVersion: "v1",
          propagationPolicy: policy,
        });
        assert.ok(r.code === 200 || r.code === 202, describeReply(r));
        // the answer is the object as the delete left it: terminating, with the finalizer
        const kept = bodyOf(r);
        assert.deepEqual(meta(kept)["finalizers"], [finalizer]);
        assert.match(String(meta(kept)["deletionTimestamp"]), RFC3339);
        // with no dependents, the garbage collector drops the finalizer and the object goes
        for (let i = 0; i < 100 && (await call("GET", `${base}/d`)).code === 200; i++) {
          await new Promise((res) => setTimeout(res, 50));
        }
        assert.equal((await call("GET", `${base}/d`)).code, 404);
      });
    }

    it("an unscheduled pod is removed at once", async () => {
      await namespace("pods-del");
      await expectCode(201, "POST", "/api/v1/namespaces/pods-del/pods", pod("loose"));
      const r = await call("DELETE", "/api/v1/namespaces/pods-del/pods/loose");
      assert.equal(r.code, 200, describeReply(r));
      assert.equal(bodyOf(r)["kind"], "Pod", "pods answer a delete with the deleted pod");
      assert.equal((await call("GET", "/api/v1/namespaces/pods-del/pods/loose")).code, 404);
    });

    it("a pod on a node gets deletionTimestamp + 30 s grace; gracePeriodSeconds=0 then removes it", async () => {
      await namespace("pods-grace");
      const path = "/api/v1/namespaces/pods-grace/pods/bound";
      await expectCode(201, "POST", "/api/v1/namespaces/pods-grace/pods", pod("bound", "node-a"));
      const before = Date.now();
      const r = await call("DELETE", path);
      assert.ok(r.code === 200 || r.code === 202, describeReply(r));
      const kept = await expectCode(200, "GET", path);
      assert.equal(meta(kept)["deletionGracePeriodSeconds"], 30);
      const ts = Date.parse(String(meta(kept)["deletionTimestamp"]));
      assert.ok(ts >= before + 20_000, `deletionTimestamp ${String(meta(kept)["deletionTimestamp"])} is now + grace`);
      const now = await call("DELETE", `${path}?gracePeriodSeconds=0`);
      assert.equal(now.code, 200, describeReply(now));
      assert.equal((await call("GET", path)).code, 404);
    });

    it("a second delete with a shorter grace period shortens a pod's pending deletion", async () => {
      await namespace("pods-shorter");
      const path = "/api/v1/namespaces/pods-shorter/pods/slow";
      await expectCode(201, "POST", "/api/v1/namespaces/pods-shorter/pods", pod("slow", "node-a"));
      await call("DELETE", path);
      const first = await expectCode(200, "GET", path);
      assert.equal(meta(first)["deletionGracePeriodSeconds"], 30);
      await call("DELETE", `${path}?gracePeriodSeconds=5`);
      const second = await expectCode(200, "GET", path);
      assert.equal(meta(second)["deletionGracePeriodSeconds"], 5);
      await call("DELETE", `${path}?gracePeriodSeconds=60`);
      assert.equal(meta(await expectCode(200, "GET", path))["deletionGracePeriodSeconds"], 5, "never lengthened");
    });

    it("shortening the grace period moves the deletionTimestamp 25 s earlier (30 s → 5 s), as upstream's BeforeDelete", {}, async () => {
      await namespace("pods-shorter-ts");
      const path = "/api/v1/namespaces/pods-shorter-ts/pods/slow";
      await expectCode(201, "POST", "/api/v1/namespaces/pods-shorter-ts/pods", pod("slow", "node-a"));
      await call("DELETE", path);
      const first = Date.parse(String(meta(await expectCode(200, "GET", path))["deletionTimestamp"]));
      await call("DELETE", `${path}?gracePeriodSeconds=5`);
      const second = Date.parse(String(meta(await expectCode(200, "GET", path))["deletionTimestamp"]));
      assert.equal(first - second, 25_000);
    });

    it("a delete with a uid precondition that does not match is a 409 and keeps the object", async () => {
      await namespace("precond");
      const created = await expectCode(201, "POST", "/api/v1/namespaces/precond/configmaps", configMap("p"));
      const uid = String(meta(created)["uid"]);
      const r = await call("DELETE", "/api/v1/namespaces/precond/configmaps/p", {
        kind: "DeleteOptions",
        apiVersion: "v1",
        preconditions: { uid: "00000000-0000-0000-0000-000000000000" },
      });
      assert.equal(r.code, 409, describeReply(r));
      assert.equal(
        bodyOf(r)["message"],
        `Operation cannot be fulfilled on configmaps "p": Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: ${uid}`,
      );
      await expectCode(200, "GET", "/api/v1/namespaces/precond/configmaps/p");
      await expectCode(200, "DELETE", "/api/v1/namespaces/precond/configmaps/p", {
        kind: "DeleteOptions",
        apiVersion: "v1",
        preconditions: { uid },
      });
    });

    // Upstream (apiserver handlers/delete.go) answers 200 whenever the registry returns the object,
    // and 202 only when the object stays and the client sent orphanDependents=false.
    const codes: Array<{ name: string; code: number; setup: (ns: string) => Promise<string>; body?: Obj }> = [
      {
        name: "a configmap kept by a finalizer",
        code: 200,
        setup: async (ns) => {
          await expectCode(
            201,
            "POST",
            `/api/v1/namespaces/${ns}/configmaps`,
            configMap("c1", {}, { finalizers: ["example.com/hold"] }),
          );
          return `/api/v1/namespaces/${ns}/configmaps/c1`;
        },
      },
      {
        name: "a deployment deleted with propagationPolicy=Foreground",
        code: 200,
        body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Foreground" },
        setup: async (ns) => {
          await expectCode(201, "POST", `/apis/apps/v1/namespaces/${ns}/deployments`, deployment("d1"));
          return `/apis/apps/v1/namespaces/${ns}/deployments/d1`;
        },
      },
      {
        name: "a pod on a node (graceful deletion)",
        code: 200,
        setup: async (ns) => {
          await expectCode(201, "POST", `/api/v1/namespaces/${ns}/pods`, pod("p1", "node-a"));
          return `/api/v1/namespaces/${ns}/pods/p1`;
        },
      },
      {
        name: "a configmap kept by a finalizer, deleted with orphanDependents=false",
        code: 202,
        body: { kind: "DeleteOptions", apiVersion: "v1", orphanDependents: false },
        setup: async (ns) => {
          await expectCode(
            201,
            "POST",
            `/api/v1/namespaces/${ns}/configmaps`,
            configMap("c2", {}, { finalizers: ["example.com/hold"] }),
          );
          return `/api/v1/namespaces/${ns}/configmaps/c2`;
        },
      },
    ];
    let codesNs: Promise<void> | undefined;
    for (const c of codes) {
      it(`a delete that leaves ${c.name} in place answers ${c.code} with the object`, {}, async () => {
        codesNs ??= namespace("del-codes");
        await codesNs;
        const path = await c.setup("del-codes");
        const r = await call("DELETE", path, c.body);
        assert.equal(r.code, c.code, describeReply(r));
        assert.notEqual(bodyOf(r)["kind"], "Status");
      });
    }
  });

  describe("namespace lifecycle", () => {
    it("creating in a terminating namespace is 403 Forbidden with the NamespaceTerminating cause", async () => {
      await namespace("term");
      await expectCode(
        201,
        "POST",
        "/api/v1/namespaces/term/configmaps",
        configMap("held", {}, { finalizers: ["example.com/hold"] }),
      );
      await call("DELETE", "/api/v1/namespaces/term");
      const ns = await expectCode(200, "GET", "/api/v1/namespaces/term");
      assert.equal(at(ns, "status", "phase"), "Terminating");
      const r = await call("POST", "/api/v1/namespaces/term/configmaps", configMap("late"));
      assert.equal(r.code, 403, describeReply(r));
      const status = bodyOf(r);
      assert.equal(status["reason"], "Forbidden");
      const causes = at(status, "details", "causes");
      assert.deepEqual(causes, [
        { reason: "NamespaceTerminating", message: "namespace term is being terminated", field: "metadata.namespace" },
      ]);
      assert.match(
        String(status["message"]),
        /unable to create new content in namespace term because it is being terminated$/,
      );
    });

    it("the terminating-namespace message names the object, as upstream's admission.NewForbidden does", {}, async () => {
      const r = await call("POST", "/api/v1/namespaces/term/configmaps", configMap("late2"));
      assert.equal(r.code, 403, describeReply(r));
      const status = bodyOf(r);
      assert.equal(
        status["message"],
        'configmaps "late2" is forbidden: unable to create new content in namespace term because it is being terminated',
      );
      assert.equal(at(status, "details", "name"), "late2");
      assert.equal(at(status, "details", "kind"), "configmaps");
    });
  });

  describe("list", () => {
    it("limit + continue returns every object exactly once, in key order", async () => {
      await namespace("page");
      for (const n of ["g", "c", "a", "f", "b", "e", "d"]) {
        await expectCode(201, "POST", "/api/v1/namespaces/page/configmaps", configMap(`cm-${n}`));
      }
      const all = namesOf(await expectCode(200, "GET", "/api/v1/namespaces/page/configmaps"));
      for (const n of ["a", "b", "c", "d", "e", "f", "g"]) assert.ok(all.includes(`cm-${n}`), all.join(" "));
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const q = token ? `&continue=${encodeURIComponent(token)}` : "";
        const page = await expectCode(200, "GET", `/api/v1/namespaces/page/configmaps?limit=3${q}`);
        const names = namesOf(page);
        assert.ok(names.length <= 3, `page of ${names.length}`);
        seen.push(...names);
        const c = meta(page)["continue"];
        token = typeof c === "string" && c !== "" ? c : undefined;
        pages++;
        assert.ok(pages < 10, "pagination does not end");
      } while (token);
      assert.deepEqual(seen, all);
      assert.deepEqual([...all].sort(), all, "items come in name order");
      assert.equal(pages, Math.ceil(all.length / 3));
    });

    it("a continue token from the first page keeps its snapshot while objects are added", async () => {
      const first = await expectCode(200, "GET", "/api/v1/namespaces/page/configmaps?limit=2");
      const token = String(meta(first)["continue"]);
      await expectCode(201, "POST", "/api/v1/namespaces/page/configmaps", configMap("cm-zz"));
      const rest = await expectCode(
        200,
        "GET",
        `/api/v1/namespaces/page/configmaps?continue=${encodeURIComponent(token)}`,
      );
      assert.ok(!namesOf(rest).includes("cm-zz"), namesOf(rest).join(" "));
      assert.equal(meta(rest)["resourceVersion"], meta(first)["resourceVersion"]);
    });
  });

  describe("selectors", () => {
    let ready: Promise<void> | undefined;
    function setup(): Promise<void> {
      ready ??= (async () => {
        await namespace("sel");
        const cms: Array<[string, Record<string, string>]> = [
          ["a", { tier: "web", env: "prod" }],
          ["b", { tier: "db", env: "prod" }],
          ["c", { tier: "web", env: "dev" }],
          ["d", {}],
        ];
        for (const [n, labels] of cms) {
          await expectCode(201, "POST", "/api/v1/namespaces/sel/configmaps", configMap(n, labels));
        }
        await expectCode(201, "POST", "/api/v1/namespaces/sel/pods", pod("p-run", "node-1"));
        // pending for good: no scheduler serves this schedulerName (so none adds events about it)
        const waiting = pod("p-wait");
        (waiting["spec"] as Obj)["schedulerName"] = "no-such-scheduler";
        await expectCode(201, "POST", "/api/v1/namespaces/sel/pods", waiting);
        const running = await expectCode(200, "GET", "/api/v1/namespaces/sel/pods/p-run");
        running["status"] = { ...(running["status"] as Obj), phase: "Running" };
        await expectCode(200, "PUT", "/api/v1/namespaces/sel/pods/p-run/status", running);
        for (const [n, involved] of [
          ["ev-1", "p-run"],
          ["ev-2", "p-wait"],
        ] as const) {
          await expectCode(201, "POST", "/api/v1/namespaces/sel/events", {
            apiVersion: "v1",
            kind: "Event",
            metadata: { name: n },
            involvedObject: { kind: "Pod", name: involved, namespace: "sel", apiVersion: "v1" },
            reason: "Testing",
            message: "hello",
            type: "Normal",
            source: { component: "rest-test" },
            firstTimestamp: "2024-01-01T00:00:00Z",
            lastTimestamp: "2024-01-01T00:00:00Z",
            count: 1,
          });
        }
        for (const [n, type] of [
          ["s-opaque", "Opaque"],
          ["s-custom", "example.com/custom"],
        ] as const) {
          await expectCode(201, "POST", "/api/v1/namespaces/sel/secrets", {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: n },
            type,
            stringData: { k: "v" },
          });
        }
      })();
      return ready;
    }

    const labelCases: Array<[string, string[]]> = [
      ["tier=web", ["a", "c"]],
      ["tier==web", ["a", "c"]],
      ["tier!=web", ["b", "d"]],
      ["tier in (web,db)", ["a", "b", "c"]],
      ["tier notin (web)", ["b", "d"]],
      ["env", ["a", "b", "c"]],
      ["!env", ["d"]],
      ["tier=web,env=prod", ["a"]],
      ["tier in (web),env notin (prod)", ["c"]],
    ];
    for (const [selector, want] of labelCases) {
      it(`labelSelector ${selector} selects ${want.join(", ")}`, async () => {
        await setup();
        const list = await expectCode(
          200,
          "GET",
          `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent(selector)}`,
        );
        assert.deepEqual(
          namesOf(list).filter((n) => n.length === 1),
          want,
        );
      });
    }

    const fieldCases: Array<[string, string, string[]]> = [
      ["configmaps", "metadata.name=a", ["a"]],
      ["configmaps", "metadata.name!=a", ["b", "c", "d"]],
      ["configmaps", "metadata.namespace=sel,metadata.name=b", ["b"]],
      ["pods", "status.phase=Running", ["p-run"]],
      ["pods", "status.phase=Pending", ["p-wait"]],
      ["pods", "spec.nodeName=node-1", ["p-run"]],
      ["pods", "spec.nodeName=", ["p-wait"]],
      ["pods", "spec.restartPolicy=Always,status.phase!=Running", ["p-wait"]],
      ["events", "involvedObject.name=p-run", ["ev-1"]],
      ["events", "involvedObject.kind=Pod,involvedObject.name=p-wait", ["ev-2"]],
      ["secrets", "type=example.com/custom", ["s-custom"]],
      ["secrets", "type=Opaque", ["s-opaque"]],
    ];
    for (const [resource, selector, want] of fieldCases) {
      it(`fieldSelector ${selector} on ${resource} selects ${want.join(", ")}`, async () => {
        await setup();
        const list = await expectCode(
          200,
          "GET",
          `/api/v1/namespaces/sel/${resource}?fieldSelector=${encodeURIComponent(selector)}`,
        );
        const names = namesOf(list).filter((n) => resource !== "configmaps" || n.length === 1);
        assert.deepEqual(names, want);
      });
    }

    // Kinds without their own field label conversion use apimachinery's DefaultMetaV1FieldSelectorConversion.
    const badFields: Array<[string, string, string]> = [
      ["configmaps", "data.k", '"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"'],
      ["pods", "spec.foo", "field label not supported: spec.foo"],
      ["secrets", "data", "field label not supported: data"],
    ];
    for (const [resource, label, message] of badFields) {
      it(`fieldSelector ${label} on ${resource} is a 400 BadRequest`, async () => {
        await setup();
        const r = await call(
          "GET",
          `/api/v1/namespaces/sel/${resource}?fieldSelector=${encodeURIComponent(`${label}=x`)}`,
        );
        assert.equal(r.code, 400, describeReply(r));
        const status = bodyOf(r);
        assert.equal(status["reason"], "BadRequest");
        assert.equal(status["message"], message);
      });
    }

    it("deletecollection with a label selector deletes only the matching objects", async () => {
      await namespace("dc");
      for (const [n, batch] of [
        ["x1", "del"],
        ["x2", "del"],
        ["x3", "keep"],
      ] as const) {
        await expectCode(201, "POST", "/api/v1/namespaces/dc/configmaps", configMap(n, { batch }));
      }
      const r = await expectCode(200, "DELETE", "/api/v1/namespaces/dc/configmaps?labelSelector=batch%3Ddel");
      assert.equal(r["kind"], "ConfigMapList");
      assert.deepEqual(namesOf(r).sort(), ["x1", "x2"]);
      const left = namesOf(await expectCode(200, "GET", "/api/v1/namespaces/dc/configmaps?labelSelector=batch"));
      assert.deepEqual(left, ["x3"]);
    });
  });

  describe("dryRun=All", () => {
    it("a dry-run create answers the object and stores nothing", async () => {
      await namespace("dry");
      const out = await expectCode(201, "POST", "/api/v1/namespaces/dry/configmaps?dryRun=All", configMap("ghost"));
      assert.equal(meta(out)["name"], "ghost");
      assert.match(String(meta(out)["uid"]), UUID);
      assert.equal((await call("GET", "/api/v1/namespaces/dry/configmaps/ghost")).code, 404);
    });

    it("a dry-run update and patch answer the change and store nothing", async () => {
      const created = await expectCode(201, "POST", "/api/v1/namespaces/dry/configmaps", configMap("real"));
      const changed = { ...created, data: { k: "changed" } };
      const put = await expectCode(200, "PUT", "/api/v1/namespaces/dry/configmaps/real?dryRun=All", changed);
      assert.deepEqual(put["data"], { k: "changed" });
      const patched = await expectCode(
        200,
        "PATCH",
        "/api/v1/namespaces/dry/configmaps/real?dryRun=All",
        { data: { k: "patched" } },
        MERGE,
      );
      assert.deepEqual(patched["data"], { k: "patched" });
      const stored = await expectCode(200, "GET", "/api/v1/namespaces/dry/configmaps/real");
      assert.deepEqual(stored["data"], { k: "v" });
      assert.equal(meta(stored)["resourceVersion"], meta(created)["resourceVersion"]);
    });

    it("a dry-run delete answers success and keeps the object", async () => {
      const r = await call("DELETE", "/api/v1/namespaces/dry/configmaps/real?dryRun=All");
      assert.equal(r.code, 200, describeReply(r));
      assert.equal((await call("GET", "/api/v1/namespaces/dry/configmaps/real")).code, 200);
    });

    it("an unknown dryRun value is a 400", async () => {
      const r = await call("POST", "/api/v1/namespaces/dry/configmaps?dryRun=Some", configMap("nope"));
      assert.equal(r.code, 400, describeReply(r));
      assert.equal(bodyOf(r)["message"], 'Invalid dry run value: "Some": supported values: "All"');
    });
  });

  describe("fieldValidation", () => {
    const withFoo = (name: string): Obj => {
      const d = deployment(name);
      (d["spec"] as Obj)["foo"] = "bar";
      return d;
    };

    it("Strict refuses an unknown field with a 400 strict decoding error", async () => {
      await namespace("fv");
      const r = await call("POST", "/apis/apps/v1/namespaces/fv/deployments?fieldValidation=Strict", withFoo("s"));
      assert.equal(r.code, 400, describeReply(r));
      assert.equal(bodyOf(r)["reason"], "BadRequest");
      assert.match(String(bodyOf(r)["message"]), /strict decoding error: unknown field "spec\.foo"$/);
      assert.equal((await call("GET", "/apis/apps/v1/namespaces/fv/deployments/s")).code, 404);
    });

    it("the Strict create error is prefixed as upstream's transformDecodeError words it", {}, async () => {
      const r = await call("POST", "/apis/apps/v1/namespaces/fv/deployments?fieldValidation=Strict", withFoo("s2"));
      assert.equal(r.code, 400, describeReply(r));
      assert.equal(
        bodyOf(r)["message"],
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"',
      );
    });

    it("Warn creates the object and sends a 299 Warning header naming the field", async () => {
      const r = await call("POST", "/apis/apps/v1/namespaces/fv/deployments?fieldValidation=Warn", withFoo("w"));
      assert.equal(r.code, 201, describeReply(r));
      const warning = [r.headers["warning"]].flat().join("\n");
      assert.equal(warning, '299 - "unknown field \\"spec.foo\\""');
    });

    it("Warn drops the unknown field, as decoding into the typed object does upstream", {}, async () => {
      const r = await call("POST", "/apis/apps/v1/namespaces/fv/deployments?fieldValidation=Warn", withFoo("w2"));
      assert.equal(r.code, 201, describeReply(r));
      assert.equal(at(bodyOf(r), "spec", "foo"), undefined, "answer");
      const stored = await expectCode(200, "GET", "/apis/apps/v1/namespaces/fv/deployments/w2");
      assert.equal(at(stored, "spec", "foo"), undefined, "stored");
    });

    it("Ignore creates the object without a warning", async () => {
      const r = await call("POST", "/apis/apps/v1/namespaces/fv/deployments?fieldValidation=Ignore", withFoo("i"));
      assert.equal(r.code, 201, describeReply(r));
      assert.equal(r.headers["warning"], undefined);
    });
  });

  describe("watch", () => {
    it("a watch with a label selector sees an object leave the selection as DELETED", async () => {
      await namespace("wsel");
      await expectCode(201, "POST", "/api/v1/namespaces/wsel/configmaps", configMap("w1", { sel: "yes" }));
      const w = await openWatch(client, "/api/v1/namespaces/wsel/configmaps?watch=true&labelSelector=sel%3Dyes");
      try {
        await w.waitFor((e) => e.type === "ADDED" && meta(e.object)["name"] === "w1");
        await expectCode(
          200,
          "PATCH",
          "/api/v1/namespaces/wsel/configmaps/w1",
          { metadata: { labels: { sel: "no" } } },
          MERGE,
        );
        const left = await w.waitFor((e) => e.type !== "ADDED");
        assert.equal(summary(left), "DELETED w1");
        assert.deepEqual(
          at(left.object, "metadata", "labels"),
          { sel: "no" },
          "the DELETED event carries the new state",
        );
        // back into the selection: ADDED again
        await expectCode(
          200,
          "PATCH",
          "/api/v1/namespaces/wsel/configmaps/w1",
          { metadata: { labels: { sel: "yes" } } },
          MERGE,
        );
        await w.waitFor((e) => e.type === "ADDED" && w.events.indexOf(e) > 0);
        assert.deepEqual(w.events.map(summary), ["ADDED w1", "DELETED w1", "ADDED w1"]);
      } finally {
        w.close();
      }
    });

    it("a watch from a list's resourceVersion sees only later events", async () => {
      await namespace("wrv");
      await expectCode(201, "POST", "/api/v1/namespaces/wrv/configmaps", configMap("before"));
      const list = await expectCode(200, "GET", "/api/v1/namespaces/wrv/configmaps");
      const rv = String(meta(list)["resourceVersion"]);
      await expectCode(201, "POST", "/api/v1/namespaces/wrv/configmaps", configMap("between"));
      const w = await openWatch(client, `/api/v1/namespaces/wrv/configmaps?watch=true&resourceVersion=${rv}`);
      try {
        await expectCode(201, "POST", "/api/v1/namespaces/wrv/configmaps", configMap("after"));
        await w.waitFor((e) => meta(e.object)["name"] === "after");
        const mine = w.events.map(summary).filter((s) => !s.endsWith("kube-root-ca.crt"));
        assert.deepEqual(mine, ["ADDED between", "ADDED after"]);
      } finally {
        w.close();
      }
    });
  });

  describe("built-in behaviour", () => {
    it("a new namespace gets the default ServiceAccount", async () => {
      await expectCode(201, "POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "sa" },
      });
      const sa = await until("default serviceaccount", async () => {
        const r = await call("GET", "/api/v1/namespaces/sa/serviceaccounts/default");
        return r.code === 200 ? bodyOf(r) : undefined;
      });
      assert.equal(sa["kind"], "ServiceAccount");
      assert.equal(meta(sa)["namespace"], "sa");
    });

    it("a ClusterIP service gets a clusterIP from 10.43.0.0/16", async () => {
      await namespace("svc");
      const svc = await expectCode(201, "POST", "/api/v1/namespaces/svc/services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      const ip = String(at(svc, "spec", "clusterIP"));
      assert.match(ip, /^10\.43\.\d{1,3}\.\d{1,3}$/);
      assert.deepEqual(at(svc, "spec", "clusterIPs"), [ip]);
      assert.equal(at(svc, "spec", "type"), "ClusterIP");
    });

    it("a NodePort service gets a nodePort in 30000-32767, distinct per service", async () => {
      const ports: number[] = [];
      for (const name of ["np1", "np2"]) {
        const svc = await expectCode(201, "POST", "/api/v1/namespaces/svc/services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name },
          spec: { type: "NodePort", selector: { app: name }, ports: [{ port: 80 }] },
        });
        const port = at(svc, "spec", "ports");
        const np = Array.isArray(port) ? at(port[0], "nodePort") : undefined;
        assert.equal(typeof np, "number", JSON.stringify(port));
        assert.ok((np as number) >= 30000 && (np as number) <= 32767, String(np));
        assert.match(String(at(svc, "spec", "clusterIP")), /^10\.43\./);
        ports.push(np as number);
      }
      assert.notEqual(ports[0], ports[1]);
    });
  });

  describe("legacy API versions convert both ways", () => {
    it("a StatefulSet created as apps/v1 reads as apps/v1beta1 and back", async () => {
      await namespace("legacy");
      const sts = {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          replicas: 2,
          selector: { matchLabels: { app: "db" } },
          template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "c", image: "pg" }] } },
        },
      };
      await expectCode(201, "POST", "/apis/apps/v1/namespaces/legacy/statefulsets", sts);
      const old = await expectCode(200, "GET", "/apis/apps/v1beta1/namespaces/legacy/statefulsets/db");
      assert.equal(old["apiVersion"], "apps/v1beta1");
      assert.equal(old["kind"], "StatefulSet");
      assert.equal(at(old, "spec", "replicas"), 2);
      assert.equal(at(old, "spec", "serviceName"), "db");

      const viaOld = { ...sts, apiVersion: "apps/v1beta1", metadata: { name: "db2" } };
      await expectCode(201, "POST", "/apis/apps/v1beta1/namespaces/legacy/statefulsets", viaOld);
      const now = await expectCode(200, "GET", "/apis/apps/v1/namespaces/legacy/statefulsets/db2");
      assert.equal(now["apiVersion"], "apps/v1");
      assert.deepEqual(at(now, "spec", "selector"), { matchLabels: { app: "db" } });
    });

    it("a CronJob created as batch/v1beta1 reads as batch/v1 and back", async () => {
      const cj = {
        apiVersion: "batch/v1beta1",
        kind: "CronJob",
        metadata: { name: "tick" },
        spec: {
          schedule: "*/5 * * * *",
          jobTemplate: {
            spec: {
              template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox" }] } },
            },
          },
        },
      };
      await expectCode(201, "POST", "/apis/batch/v1beta1/namespaces/legacy/cronjobs", cj);
      const v1 = await expectCode(200, "GET", "/apis/batch/v1/namespaces/legacy/cronjobs/tick");
      assert.equal(v1["apiVersion"], "batch/v1");
      assert.equal(at(v1, "spec", "schedule"), "*/5 * * * *");
      const back = await expectCode(200, "GET", "/apis/batch/v1beta1/namespaces/legacy/cronjobs/tick");
      assert.equal(back["apiVersion"], "batch/v1beta1");
      assert.equal(at(back, "spec", "schedule"), "*/5 * * * *");
    });

    it("an autoscaling/v1 HPA's targetCPUUtilizationPercentage is a v2 cpu Utilization metric and back", async () => {
      const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };
      await expectCode(201, "POST", "/apis/autoscaling/v1/namespaces/legacy/horizontalpodautoscalers", {
        apiVersion: "autoscaling/v1",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "h1" },
        spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
      });
      const v2 = await expectCode(200, "GET", "/apis/autoscaling/v2/namespaces/legacy/horizontalpodautoscalers/h1");
      assert.deepEqual(at(v2, "spec", "metrics"), [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
      ]);

      await expectCode(201, "POST", "/apis/autoscaling/v2/namespaces/legacy/horizontalpodautoscalers", {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "h2" },
        spec: {
          scaleTargetRef: ref,
          minReplicas: 1,
          maxReplicas: 5,
          metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
          ],
        },
      });
      const v1 = await expectCode(200, "GET", "/apis/autoscaling/v1/namespaces/legacy/horizontalpodautoscalers/h2");
      assert.equal(v1["apiVersion"], "autoscaling/v1");
      assert.equal(at(v1, "spec", "targetCPUUtilizationPercentage"), 70);
      assert.equal(at(v1, "spec", "metrics"), undefined);
    });
  });
});
