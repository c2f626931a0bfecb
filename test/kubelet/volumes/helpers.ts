/** Shared by the volume tests: an in-memory ApiClient, temporary kubelet roots, mount clean-up. */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KObject } from "../../../src/api/types.js";
import { ApiError, notFound } from "../../../src/apiserver/errors.js";
import type { ApiClient, ListOptions, ResourceId, WatchHandle, WriteOptions } from "../../../src/client/types.js";
import { parseMountInfo } from "../../../src/kubelet/volumes/mount.js";

// the manager logs rejected subPaths as warnings: keep test output to failures
process.env["K8TS_LOG"] ??= "error";

export interface TokenCall {
  namespace: string;
  serviceAccount: string;
  spec: Record<string, unknown>;
}

/** An ApiClient over a map of objects; TokenRequests are answered with numbered tokens on a given clock. */
export class FakeClient implements ApiClient {
  readonly identity = "system:node:test";
  readonly objects = new Map<string, KObject>();
  readonly tokenCalls: TokenCall[] = [];
  /** When set, TokenRequests fail with this error. */
  tokenError: ApiError | undefined;
  now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  private static key(r: ResourceId, ns: string | undefined, name: string): string {
    return `${r.plural}/${r.namespaced ? (ns ?? "") : ""}/${name}`;
  }

  put(plural: string, obj: KObject): void {
    this.objects.set(`${plural}/${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`, structuredClone(obj));
  }

  remove(plural: string, namespace: string, name: string): void {
    this.objects.delete(`${plural}/${namespace}/${name}`);
  }

  async get(r: ResourceId, namespace: string | undefined, name: string): Promise<KObject> {
    const obj = this.objects.get(FakeClient.key(r, namespace, name));
    if (!obj) throw notFound(r.group, r.plural, name);
    return structuredClone(obj);
  }

  async list(_r: ResourceId, _opts?: ListOptions): Promise<{ items: KObject[]; resourceVersion: string }> {
    throw new Error("list is not used by the volume manager");
  }

  watch(): WatchHandle {
    throw new Error("watch is not used by the volume manager");
  }

  async create(
    r: ResourceId,
    namespace: string | undefined,
    obj: KObject,
    opts?: WriteOptions & { name?: string },
  ): Promise<KObject> {
    if (r.plural !== "serviceaccounts" || opts?.subresource !== "token") {
      throw new Error(`unexpected create of ${r.plural}`);
    }
    const sa = opts.name ?? "";
    if (!this.objects.has(`serviceaccounts/${namespace}/${sa}`)) throw notFound("", "serviceaccounts", sa);
    if (this.tokenError) throw this.tokenError;
    const spec = (obj["spec"] ?? {}) as Record<string, unknown>;
    this.tokenCalls.push({ namespace: namespace ?? "", serviceAccount: sa, spec: structuredClone(spec) });
    const seconds = typeof spec["expirationSeconds"] === "number" ? spec["expirationSeconds"] : 3600;
    const exp = new Date(Math.floor(this.now() / 1000) * 1000 + seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    return {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: { name: sa, namespace },
      spec: { ...spec, expirationSeconds: seconds },
      status: { token: `token-${this.tokenCalls.length}`, expirationTimestamp: exp },
    };
  }

  async update(): Promise<KObject> {
    throw new Error("update is not used by the volume manager");
  }

  async patch(): Promise<KObject> {
    throw new Error("patch is not used by the volume manager");
  }

  async delete(): Promise<void> {
    throw new Error("delete is not used by the volume manager");
  }

  async raw(): Promise<{ code: number; body: string }> {
    throw new Error("raw is not used by the volume manager");
  }

  close(): void {}
}

export { ApiError };

/** A fresh directory under the system temp dir, symlinks resolved (mount tables name real paths). */
export async function tempRoot(prefix: string): Promise<string> {
  return realpath(await mkdtemp(join(tmpdir(), `k8ts-${prefix}-`)));
}

export async function mountsBelow(dir: string): Promise<string[]> {
  const table = parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
  return table.map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** Detaches whatever a test left mounted below `dir` (deepest first), then removes it. */
export async function cleanup(dir: string): Promise<void> {
  for (let i = 0; i < 64; i++) {
    const left = await mountsBelow(dir);
    const last = left.at(-1);
    if (!last) break;
    try {
      execFileSync("umount", ["-l", last], { stdio: "ignore" });
    } catch {
      break;
    }
  }
  if ((await mountsBelow(dir)).length === 0) await rm(dir, { recursive: true, force: true });
}

/** `stat -f -c %T`: the filesystem type of a path. */
export function fsType(path: string): string {
  return execFileSync("stat", ["-f", "-c", "%T", path], { encoding: "utf8" }).trim();
}

export const isRoot = process.getuid?.() === 0;

export const allocatable = { cpuMilli: 4000, memoryBytes: 8 * 1024 ** 3, ephemeralBytes: 100 * 1024 ** 3 };

let uidCounter = 0;

/** A pod as the API server would hand it to the node (uid set, defaults applied as needed). */
export function makePod(spec: Record<string, unknown>, meta: Partial<KObject["metadata"]> = {}): KObject {
  uidCounter++;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web",
      namespace: "default",
      uid: `0000aaaa-0000-4000-8000-${String(uidCounter).padStart(12, "0")}`,
      ...meta,
    },
    spec: { serviceAccountName: "default", containers: [{ name: "c", image: "busybox" }], ...spec },
  };
}
