import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ApplyConflictError,
  lastAppliedAnnotation,
  PatchError,
  serverSideApply,
  updateManagedFields,
} from "../../src/api/patch/index.js";
import { schemaForKind } from "../../src/api/schema/index.js";
import type { KObject, ManagedFieldsEntry } from "../../src/api/types.js";
import { at } from "./fixtures.js";

const schema = schemaForKind({ group: "apps", version: "v1", kind: "Deployment" });
const base = { schema, apiVersion: "apps/v1", now: "2025-01-01T00:00:00Z" };

function config(
  opts: { replicas?: number; image?: string; labels?: Record<string, string>; containers?: unknown[] } = {},
): KObject {
  const spec: Record<string, unknown> = {
    selector: { matchLabels: { app: "nginx" } },
    template: {
      metadata: { labels: { app: "nginx" } },
      spec: {
        containers: opts.containers ?? [
          { name: "nginx", image: opts.image ?? "nginx:1.14.2", ports: [{ containerPort: 80 }] },
        ],
      },
    },
  };
  if (opts.replicas !== undefined) spec["replicas"] = opts.replicas;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "nginx-deployment", labels: opts.labels ?? { app: "nginx" } },
    spec,
  };
}

function apply(live: KObject | undefined, applied: KObject, manager: string, force = false, now = base.now): KObject {
  return serverSideApply(live, applied, { ...base, now, manager, force }).object;
}

function entry(obj: KObject, manager: string, operation = "Apply"): ManagedFieldsEntry | undefined {
  return obj.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation);
}

function conflictOf(fn: () => unknown): ApplyConflictError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApplyConflictError) return err;
    throw err;
  }
  assert.fail("expected an apply conflict");
}

describe("server-side apply", () => {
  it("apply creates the object and records the applied fields as FieldsV1", () => {
    const out = apply(undefined, config({ replicas: 2 }), "kubectl");
    assert.equal(at(out, "spec", "replicas"), 2);
    assert.deepEqual(out.metadata.managedFields, [
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: base.now,
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it("SSA by two managers on the same field conflicts", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const err = conflictOf(() => apply(live, config({ replicas: 3 }), "bob"));
    assert.equal(err.code, 409);
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas');
    assert.deepEqual(err.status().details?.causes, [
      { type: "FieldManagerConflict", message: 'conflict with "alice"', field: ".spec.replicas" },
    ]);
  });

  it("conflicts on several fields are listed per manager", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const err = conflictOf(() => apply(live, config({ replicas: 3, image: "nginx:1.16" }), "bob"));
    assert.equal(
      err.message,
      'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
  });

  it("force takes ownership", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const out = apply(live, config({ replicas: 3 }), "bob", true);
    assert.equal(at(out, "spec", "replicas"), 3);
    assert.equal(at(entry(out, "alice"), "fieldsV1", "f:spec", "f:replicas"), undefined);
    assert.deepEqual(at(entry(out, "bob"), "fieldsV1", "f:spec", "f:replicas"), {});
  });

  it("two managers applying the same value share the field without conflict", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const out = apply(live, config({ replicas: 2 }), "bob");
    assert.deepEqual(at(entry(out, "alice"), "fieldsV1", "f:spec", "f:replicas"), {});
    assert.deepEqual(at(entry(out, "bob"), "fieldsV1", "f:spec", "f:replicas"), {});
  });

  it("a field the applier stops applying is removed when nobody else owns it", () => {
    const live = apply(undefined, config({ replicas: 2, labels: { app: "nginx", tier: "web" } }), "alice");
    const out = apply(live, config({ labels: { app: "nginx" } }), "alice");
    assert.deepEqual(out.metadata.labels, { app: "nginx" });
    assert.equal(at(out, "spec", "replicas"), undefined);
  });

  it("a field the applier stops applying stays when another manager also owns it", () => {
    const first = apply(undefined, config({ replicas: 2 }), "alice");
    const shared = apply(first, config({ replicas: 2 }), "bob");
    const out = apply(shared, config({}), "alice");
    assert.equal(at(out, "spec", "replicas"), 2);
    assert.equal(at(entry(out, "alice"), "fieldsV1", "f:spec", "f:replicas"), undefined);
  });

  it("two appliers each own their own container of the same list", () => {
    const live = apply(undefined, config({}), "alice");
    const out = apply(
      live,
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "nginx-deployment" },
        spec: { template: { spec: { containers: [{ name: "sidecar", image: "busybox" }] } } },
      },
      "bob",
    );
    assert.deepEqual(
      (at(out, "spec", "template", "spec", "containers") as { name: string }[]).map((c) => c.name),
      ["nginx", "sidecar"],
    );
    const again = apply(out, config({ image: "nginx:1.16" }), "alice");
    assert.deepEqual(
      (at(again, "spec", "template", "spec", "containers") as { name: string; image: string }[]).map((c) => c.image),
      ["nginx:1.16", "busybox"],
    );
  });

  it("client-side apply then server-side apply by another manager conflicts with the Update entry", () => {
    const created = updateManagedFields(undefined, config({ replicas: 2 }), "kubectl-client-side-apply", base);
    assert.deepEqual(
      created.metadata.managedFields?.map((e) => [e.manager, e.operation]),
      [["kubectl-client-side-apply", "Update"]],
    );
    const err = conflictOf(() => apply(created, config({ replicas: 3 }), "ci"));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
  });

  it("kubectl apply --server-side after kubectl apply takes over what last-applied recorded", () => {
    const csa = config({ replicas: 2 });
    const withAnnotation: KObject = structuredClone(csa);
    withAnnotation.metadata.annotations = { [lastAppliedAnnotation]: JSON.stringify(csa) };
    const created = updateManagedFields(undefined, withAnnotation, "kubectl-client-side-apply", base);
    const out = apply(created, config({ replicas: 3 }), "kubectl");
    assert.equal(at(out, "spec", "replicas"), 3);
    assert.equal(at(entry(out, "kubectl-client-side-apply", "Update"), "fieldsV1", "f:spec", "f:replicas"), undefined);
    const synced = JSON.parse(out.metadata.annotations?.[lastAppliedAnnotation] ?? "{}");
    assert.equal(at(synced, "spec", "replicas"), 3, "the last-applied annotation follows the server-side apply");
  });

  it("the first apply to an object nobody tracked gives its fields to before-first-apply", () => {
    const untracked = config({ replicas: 1 });
    const err = conflictOf(() => apply(untracked, config({ replicas: 4 }), "ci"));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
  });

  it("an applied field the schema does not declare is refused", () => {
    const bad = config({});
    (bad["spec"] as Record<string, unknown>)["foo"] = 1;
    assert.throws(
      () => apply(undefined, bad, "kubectl"),
      (err: unknown) =>
        err instanceof PatchError &&
        err.code === 400 &&
        err.message ===
          "failed to create typed patch object (apps/v1, Kind=Deployment): .spec.foo: field not declared in schema",
    );
  });

  it("an apply body at another version or with managedFields is a bad request", () => {
    const other = config({});
    other.apiVersion = "apps/v1beta1";
    assert.throws(
      () => apply(undefined, other, "kubectl"),
      (err: unknown) =>
        err instanceof PatchError &&
        err.message ===
          "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1",
    );
    const withManaged = config({});
    withManaged.metadata.managedFields = [];
    assert.throws(
      () => apply(undefined, withManaged, "kubectl"),
      (err: unknown) => err instanceof PatchError && err.message === "metadata.managedFields must be nil",
    );
  });
});

describe("managedFields for non-apply writes", () => {
  it("create records every set field under an Update entry, without name, status or type meta", () => {
    const obj = config({ replicas: 2 });
    obj["status"] = { replicas: 0 };
    const out = updateManagedFields(undefined, obj, "kubectl-create", base);
    const e = entry(out, "kubectl-create", "Update");
    assert.equal(e?.time, base.now);
    assert.deepEqual(at(e, "fieldsV1", "f:metadata"), { "f:labels": { "f:app": {} } });
    assert.equal(at(e, "fieldsV1", "f:status"), undefined);
    assert.equal(at(e, "fieldsV1", "f:apiVersion"), undefined);
  });

  it("an update that changes nothing records nothing", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const out = updateManagedFields(live, structuredClone(live), "kubectl-edit", {
      ...base,
      now: "2025-02-02T00:00:00Z",
    });
    assert.deepEqual(out.metadata.managedFields, live.metadata.managedFields);
  });

  it("an update takes the fields it changes from the applier, who keeps the rest", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const edited = structuredClone(live);
    (edited["spec"] as Record<string, unknown>)["replicas"] = 5;
    const out = updateManagedFields(live, edited, "kubectl-edit", { ...base, now: "2025-02-02T00:00:00Z" });
    assert.deepEqual(at(entry(out, "kubectl-edit", "Update"), "fieldsV1"), { "f:spec": { "f:replicas": {} } });
    assert.equal(at(entry(out, "alice"), "fieldsV1", "f:spec", "f:replicas"), undefined);
    assert.deepEqual(at(entry(out, "alice"), "fieldsV1", "f:spec", "f:selector"), {});
    assert.deepEqual(
      out.metadata.managedFields?.map((e) => e.operation),
      ["Apply", "Update"],
    );
  });

  it("a status update is recorded with its subresource and does not own spec", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const withStatus = structuredClone(live);
    withStatus["status"] = { replicas: 2, readyReplicas: 1 };
    const out = updateManagedFields(live, withStatus, "kube-controller-manager", { ...base, subresource: "status" });
    const e = entry(out, "kube-controller-manager", "Update");
    assert.equal(e?.subresource, "status");
    assert.deepEqual(at(e, "fieldsV1"), { "f:status": { "f:readyReplicas": {}, "f:replicas": {} } });
  });

  it("managedFields: [{}] in a request resets them", () => {
    const live = apply(undefined, config({ replicas: 2 }), "alice");
    const reset = structuredClone(live);
    reset.metadata.managedFields = [{}];
    const out = updateManagedFields(live, reset, "kubectl-edit", base);
    assert.equal(out.metadata.managedFields, undefined);
  });
});

describe("server-side apply of other kinds", () => {
  const serviceSchema = schemaForKind({ group: "", version: "v1", kind: "Service" });
  const svc = (ports: unknown[], finalizers?: string[]): KObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: finalizers ? { name: "nginx", finalizers } : { name: "nginx" },
    spec: { selector: { app: "nginx" }, ports },
  });
  const opts = (manager: string) => ({ schema: serviceSchema, apiVersion: "v1", now: base.now, manager, force: false });

  it("service ports are keyed by port and protocol, TCP when the protocol is left out", () => {
    const out = serverSideApply(undefined, svc([{ port: 80, targetPort: 8080 }], ["a"]), opts("kubectl")).object;
    const fields = out.metadata.managedFields?.[0]?.fieldsV1;
    assert.deepEqual(at(fields, "f:spec", "f:ports"), {
      'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {}, "f:targetPort": {} },
    });
    assert.deepEqual(at(fields, "f:metadata", "f:finalizers"), { 'v:"a"': {} });
  });

  it("a repeated identical apply keeps the entry's time", () => {
    const first = serverSideApply(undefined, svc([{ port: 80 }]), opts("kubectl")).object;
    const again = serverSideApply(first, svc([{ port: 80 }]), {
      ...opts("kubectl"),
      now: "2030-01-01T00:00:00Z",
    }).object;
    assert.equal(again.metadata.managedFields?.[0]?.time, base.now);
    const changed = serverSideApply(first, svc([{ port: 81 }]), {
      ...opts("kubectl"),
      now: "2030-01-01T00:00:00Z",
    }).object;
    assert.equal(changed.metadata.managedFields?.[0]?.time, "2030-01-01T00:00:00Z");
    assert.deepEqual(at(changed, "spec", "ports"), [{ port: 81 }], "the port no longer applied is removed");
  });
});

describe("server-side apply with unknownFields: drop", () => {
  it("drops undeclared fields, even inside list items, and applies the rest", () => {
    const cfg = config({ containers: [{ name: "nginx", image: "nginx", imagePullPolicyy: "Always" }] });
    (cfg["spec"] as Record<string, unknown>)["foo"] = 1;
    const out = serverSideApply(undefined, cfg, {
      ...base,
      manager: "kubectl",
      force: false,
      unknownFields: "drop",
    }).object;
    assert.equal(at(out, "spec", "foo"), undefined);
    assert.deepEqual(at(out, "spec", "template", "spec", "containers"), [{ name: "nginx", image: "nginx" }]);
  });
});
