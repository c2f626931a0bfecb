/**
 * The node side of k8ts.io/local-path: which PVs the node cleans up, the clean-up of a released
 * volume (directory, then object or finalizer) without following symlinks, the start-up sweep of
 * leaked directories, retries with VolumeFailedDelete events, and the Node's root annotation.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../../src/api/types.js";
import { ApiError, conflict, notFound } from "../../../src/apiserver/errors.js";
import type {
  ApiClient,
  DeleteOptions,
  ListOptions,
  ResourceId,
  WatchEvent,
  WatchHandle,
} from "../../../src/client/types.js";
import { NodeManager } from "../../../src/kubelet/node.js";
import {
  LocalPathNode,
  localPathAction,
  prepareLocalPathRoot,
  removeVolumeDir,
} from "../../../src/kubelet/volumes/localpath.js";
import { cleanup, tempRoot } from "./helpers.js";

type Rec = Record<string, unknown>;

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Rec =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Rec) } : {};
  for (const [k, v] of Object.entries(patch as Rec)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** An API of cluster-scoped objects with watch, finalizers and deletion as the API server does them; events recorded. */
class Cluster implements ApiClient {
  readonly identity = "system:node:node-1";
  readonly objects = new Map<string, KObject>();
  readonly events: KObject[] = [];
  private rv = 1;
  private readonly watchers = new Set<{ plural: string; fn: (ev: WatchEvent) => void }>();

  private key(r: ResourceId, ns: string | undefined, name: string): string {
    return `${r.plural}/${r.namespaced ? (ns ?? "") : ""}/${name}`;
  }

  private emit(plural: string, type: WatchEvent["type"], obj: KObject): void {
    for (const w of this.watchers) if (w.plural === plural) w.fn({ type, object: structuredClone(obj) });
  }

  private write(r: ResourceId, obj: KObject, type: "ADDED" | "MODIFIED"): KObject {
    obj.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(r, obj.metadata.namespace, obj.metadata.name ?? ""), obj);
    this.emit(r.plural, type, obj);
    return structuredClone(obj);
  }

  /** Puts an object as is (a test's setup). */
  put(r: ResourceId, obj: KObject): void {
    const exists = this.objects.has(this.key(r, obj.metadata.namespace, obj.metadata.name ?? ""));
    this.write(r, structuredClone(obj), exists ? "MODIFIED" : "ADDED");
  }

  async get(r: ResourceId, ns: string | undefined, name: string): Promise<KObject> {
    const o = this.objects.get(this.key(r, ns, name));
    if (!o) throw notFound(r.group, r.plural, name);
    return structuredClone(o);
  }

  async list(r: ResourceId, _opts?: ListOptions): Promise<{ items: KObject[]; resourceVersion: string }> {
    const items = [...this.objects].filter(([k]) => k.startsWith(`${r.plural}/`)).map(([, v]) => structuredClone(v));
    return { items, resourceVersion: String(this.rv) };
  }

  watch(r: ResourceId, _opts: unknown, onEvent: (ev: WatchEvent) => void): WatchHandle {
    const w = { plural: r.plural, fn: onEvent };
    this.watchers.add(w);
    return { stop: () => this.watchers.delete(w) };
  }

  async create(r: ResourceId, ns: string | undefined, obj: KObject): Promise<KObject> {
    if (r.plural === "events") {
      this.events.push(structuredClone(obj));
      return obj;
    }
    const o = structuredClone(obj);
    o.metadata.namespace = ns;
    o.metadata.uid ??= `uid-${o.metadata.name}`;
    if (this.objects.has(this.key(r, ns, o.metadata.name ?? ""))) {
      throw new ApiError(409, "AlreadyExists", `${r.plural} "${o.metadata.name}" already exists`);
    }
    return this.write(r, o, "ADDED");
  }

  async update(r: ResourceId, ns: string | undefined, name: string, obj: KObject): Promise<KObject> {
    const cur = this.objects.get(this.key(r, ns, name));
    if (!cur) throw notFound(r.group, r.plural, name);
    if (obj.metadata.resourceVersion !== cur.metadata.resourceVersion) throw conflict(r.group, r.plural, name, "stale");
    const next = structuredClone(obj);
    next.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(this.key(r, ns, name));
      this.emit(r.plural, "DELETED", next);
      return next;
    }
    return this.write(r, next, "MODIFIED");
  }

  async patch(r: ResourceId, ns: string | undefined, name: string, _t: string, body: unknown): Promise<KObject> {
    if (r.plural === "events") return { metadata: {} };
    const cur = this.objects.get(this.key(r, ns, name));
    if (!cur) throw notFound(r.group, r.plural, name);
    return this.write(r, mergePatch(cur, body) as KObject, "MODIFIED");
  }

  async delete(r: ResourceId, ns: string | undefined, name: string, opts?: DeleteOptions): Promise<void> {
    const cur = this.objects.get(this.key(r, ns, name));
    if (!cur) throw notFound(r.group, r.plural, name);
    if (opts?.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) {
      throw conflict(r.group, r.plural, name, "uid precondition failed");
    }
    if ((cur.metadata.finalizers ?? []).length > 0) {
      if (!cur.metadata.deletionTimestamp) {
        cur.metadata.deletionTimestamp = "2025-01-01T00:00:00Z";
        this.write(r, cur, "MODIFIED");
      }
      return;
    }
    this.objects.delete(this.key(r, ns, name));
    this.emit(r.plural, "DELETED", cur);
  }

  async raw(): Promise<{ code: number; body: string }> {
    return { code: 404, body: "" };
  }

  close(): void {}
}

const PV = { group: "", version: "v1", plural: "persistentvolumes", namespaced: false } as const;
const NODES = { group: "", version: "v1", plural: "nodes", namespaced: false } as const;
const FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

let base = "";
let root = "";
let outside = "";

function volume(
  name: string,
  opts: {
    path?: string;
    phase?: string;
    policy?: string;
    node?: string;
    finalizers?: string[];
    deleting?: boolean;
    provisioner?: string;
  } = {},
): KObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name,
      uid: `uid-${name}`,
      annotations: { "pv.kubernetes.io/provisioned-by": opts.provisioner ?? "k8ts.io/local-path" },
      finalizers: opts.finalizers ?? [FINALIZER],
      ...(opts.deleting ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}),
    },
    spec: {
      local: { path: opts.path ?? join(root, `${name}_default_data`) },
      persistentVolumeReclaimPolicy: opts.policy ?? "Delete",
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [opts.node ?? "node-1"] }] },
          ],
        },
      },
    },
    status: { phase: opts.phase ?? "Bound" },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

before(async () => {
  base = await tempRoot("localpath");
  root = prepareLocalPathRoot(join(base, "storage"));
  outside = join(base, "outside");
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, "precious"), "keep me");
});

after(async () => {
  await cleanup(base);
});

describe("which PVs the node cleans up", () => {
  const labels = { "kubernetes.io/hostname": "node-1" };
  const cases: Array<{ name: string; pv: () => KObject; want: string }> = [
    {
      name: "Released, reclaim Delete: directory, then the object",
      pv: () => volume("pvc-a", { phase: "Released" }),
      want: "delete",
    },
    {
      name: "Released, reclaim Retain: kept",
      pv: () => volume("pvc-a", { phase: "Released", policy: "Retain" }),
      want: "none",
    },
    { name: "Bound: kept", pv: () => volume("pvc-a"), want: "none" },
    {
      name: "Available (pre-provisioned, never used): kept",
      pv: () => volume("pvc-a", { phase: "Available" }),
      want: "none",
    },
    {
      name: "being deleted, held by the provisioner's finalizer, not Bound: directory, then the finalizer",
      pv: () => volume("pvc-a", { phase: "Released", deleting: true }),
      want: "finalize",
    },
    { name: "being deleted while Bound: kept", pv: () => volume("pvc-a", { deleting: true }), want: "none" },
    {
      name: "being deleted without the finalizer: directory only",
      pv: () => volume("pvc-a", { phase: "Released", deleting: true, finalizers: [] }),
      want: "remove",
    },
    {
      name: "another node's volume: not ours",
      pv: () => volume("pvc-a", { phase: "Released", node: "node-2" }),
      want: "none",
    },
    {
      name: "another provisioner's volume: not ours",
      pv: () => volume("pvc-a", { phase: "Released", provisioner: "example.com/nfs" }),
      want: "none",
    },
    {
      name: "a path outside the root: never removed",
      pv: () => volume("pvc-a", { phase: "Released", path: join(outside, "x") }),
      want: "none",
    },
    {
      name: "the root itself: never removed",
      pv: () => volume("pvc-a", { phase: "Released", path: root }),
      want: "none",
    },
    {
      name: "a path leaving the root with '..': never removed",
      pv: () => volume("pvc-a", { phase: "Released", path: `${root}/../outside` }),
      want: "none",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(localPathAction(c.pv(), "node-1", root, labels).kind, c.want);
    });
  }
});

describe("removeVolumeDir", () => {
  it("a parent that resolves outside the root is refused, and nothing there is touched", async () => {
    await symlink(outside, join(root, "sneaky"));
    await assert.rejects(removeVolumeDir(root, join(root, "sneaky", "precious")), /not inside the local-path root/);
    assert.equal(await readFile(join(outside, "precious"), "utf8"), "keep me");
  });
});

describe("clean-up of released volumes", () => {
  it("a Released volume's directory goes (a symlink in it to an outside file is removed, the file stays), then the PV", async () => {
    const api = new Cluster();
    const dir = join(root, "pvc-11111111-aaaa_default_data");
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(join(dir, "sub", "file"), "data");
    await symlink(join(outside, "precious"), join(dir, "link"));
    await symlink(outside, join(dir, "dirlink"));
    api.put(PV, volume("pvc-11111111-aaaa", { phase: "Bound" }));
    const node = new LocalPathNode({ client: api, nodeName: "node-1", root });
    node.start();
    try {
      await node.synced();
      assert.ok(await exists(dir), "a Bound volume is kept");
      const pv = await api.get(PV, undefined, "pvc-11111111-aaaa");
      pv["status"] = { phase: "Released" };
      api.put(PV, pv);
      // delete → deletionTimestamp (the finalizer holds it) → finalizer removed → gone
      await until("the PV to be gone", () =>
        api.objects.has("persistentvolumes//pvc-11111111-aaaa") ? undefined : true,
      );
      assert.equal(await exists(dir), false);
      assert.equal(await readFile(join(outside, "precious"), "utf8"), "keep me");
      assert.deepEqual(api.events, []);
    } finally {
      await node.stop();
    }
  });

  it("a failed removal is a VolumeFailedDelete event on the PV and is retried with back-off", async () => {
    const api = new Cluster();
    await mkdir(join(outside, "pvc-22222222-bbbb_default_data"), { recursive: true });
    await symlink(outside, join(root, "elsewhere"));
    const path = join(root, "elsewhere", "pvc-22222222-bbbb_default_data");
    api.put(PV, volume("pvc-22222222-bbbb", { phase: "Released", path }));
    const events: Array<{ obj: KObject; type: string; reason: string; message: string }> = [];
    const node = new LocalPathNode({
      client: api,
      nodeName: "node-1",
      root,
      events: { event: (obj, type, reason, message) => events.push({ obj, type, reason, message }) },
      backoffMs: { initial: 10, max: 20 },
    });
    node.start();
    try {
      await until("two attempts", () => (events.length >= 2 ? true : undefined));
      const [first] = events;
      assert.equal(first?.type, "Warning");
      assert.equal(first?.reason, "VolumeFailedDelete");
      assert.equal(first?.obj.kind, "PersistentVolume");
      assert.equal(first?.obj.metadata.name, "pvc-22222222-bbbb");
      assert.match(first?.message ?? "", /^failed to delete volume pvc-22222222-bbbb: refusing to remove/);
      assert.ok(api.objects.has("persistentvolumes//pvc-22222222-bbbb"), "the PV stays while its directory cannot go");
      assert.ok(await exists(join(outside, "pvc-22222222-bbbb_default_data")));
    } finally {
      await node.stop();
    }
  });
});

describe("start-up sweep", () => {
  it("empty directories whose PV is gone are removed once the PV list is in; data and the rest stay", async () => {
    const api = new Cluster();
    const leaked = join(root, "pvc-33333333-cccc_default_data");
    const withData = join(root, "pvc-55555555-eeee_default_kept");
    const live = join(root, "pvc-44444444-dddd_default_web");
    const other = join(root, "notes");
    for (const d of [leaked, withData, live, other]) await mkdir(d, { recursive: true });
    await writeFile(join(withData, "f"), "x");
    await symlink(join(outside, "precious"), join(withData, "link"));
    api.put(PV, volume("pvc-44444444-dddd", { path: live }));
    const node = new LocalPathNode({ client: api, nodeName: "node-1", root });
    node.start();
    try {
      await node.synced();
      assert.equal(await exists(leaked), false);
      assert.ok(await exists(join(withData, "f")), "a gone volume's data is not deleted by the sweep");
      assert.ok(await exists(live));
      assert.ok(await exists(other));
      assert.equal(await readFile(join(outside, "precious"), "utf8"), "keep me");
    } finally {
      await node.stop();
    }
  });
});

describe("the Node's local-path root", () => {
  it("is annotated at registration and put back when removed", async () => {
    const api = new Cluster();
    const nm = new NodeManager(api, {
      name: "node-1",
      ip: "10.0.0.1",
      kubeletPort: 10250,
      labels: {},
      annotations: { "k8ts.io/local-path-root": root },
      taints: [],
      rootDir: base,
      containerRuntimeVersion: "sim://0.1.0",
      capacity: { cpu: "1", memory: "1024Ki", ephemeralStorage: "1024Ki", pods: "110" },
      simulated: true,
    });
    await nm.register();
    const node = await api.get(NODES, undefined, "node-1");
    assert.equal(node.metadata.annotations?.["k8ts.io/local-path-root"], root);
    await api.patch(NODES, undefined, "node-1", "merge", {
      metadata: { annotations: { "k8ts.io/local-path-root": null } },
    });
    await nm.tick();
    const after = await api.get(NODES, undefined, "node-1");
    assert.equal(after.metadata.annotations?.["k8ts.io/local-path-root"], root);
    assert.equal(after.metadata.annotations?.["node.alpha.kubernetes.io/ttl"], "0");
  });
});
