/**
 * The API client every component outside the API server uses (the node agent, `k8ts agent`,
 * `k8ts token`): Kubernetes REST verbs on objects as JSON, over the real API. Errors are
 * `ApiError`s carrying the server's Status (code, reason, message).
 */
import type { KObject } from "../api/types.js";

/** A resource as the REST paths name it. */
export interface ResourceId {
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export const resources = {
  pods: { group: "", version: "v1", plural: "pods", namespaced: true },
  nodes: { group: "", version: "v1", plural: "nodes", namespaced: false },
  events: { group: "", version: "v1", plural: "events", namespaced: true },
  configmaps: { group: "", version: "v1", plural: "configmaps", namespaced: true },
  secrets: { group: "", version: "v1", plural: "secrets", namespaced: true },
  serviceaccounts: { group: "", version: "v1", plural: "serviceaccounts", namespaced: true },
  namespaces: { group: "", version: "v1", plural: "namespaces", namespaced: false },
  services: { group: "", version: "v1", plural: "services", namespaced: true },
  persistentvolumeclaims: { group: "", version: "v1", plural: "persistentvolumeclaims", namespaced: true },
  persistentvolumes: { group: "", version: "v1", plural: "persistentvolumes", namespaced: false },
  leases: { group: "coordination.k8s.io", version: "v1", plural: "leases", namespaced: true },
} as const satisfies Record<string, ResourceId>;

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Resume after this revision ("" or absent: from now, after the current state as ADDED events). */
  resourceVersion?: string;
  /** Ask for BOOKMARK events (default true). */
  allowWatchBookmarks?: boolean;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: KObject;
}

export interface WatchHandle {
  stop(): void;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
}

export type PatchType = "merge" | "strategic" | "json" | "apply";

export interface WriteOptions {
  subresource?: string;
  fieldManager?: string;
  /** Server-side apply: take over conflicting fields. */
  force?: boolean;
}

export interface ApiClient {
  /** The user this client authenticates as, for messages. */
  readonly identity: string;
  get(r: ResourceId, namespace: string | undefined, name: string, subresource?: string): Promise<KObject>;
  list(r: ResourceId, opts?: ListOptions): Promise<{ items: KObject[]; resourceVersion: string }>;
  /**
   * Streams changes. `onClose` runs once when the stream ends for any reason but `stop()`; an
   * `ApiError` with code 410 means the revision is gone and the caller must list again.
   */
  watch(
    r: ResourceId,
    opts: WatchOptions,
    onEvent: (ev: WatchEvent) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle;
  create(
    r: ResourceId,
    namespace: string | undefined,
    obj: KObject,
    opts?: WriteOptions & { name?: string },
  ): Promise<KObject>;
  update(
    r: ResourceId,
    namespace: string | undefined,
    name: string,
    obj: KObject,
    opts?: WriteOptions,
  ): Promise<KObject>;
  patch(
    r: ResourceId,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts?: WriteOptions,
  ): Promise<KObject>;
  delete(r: ResourceId, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<void>;
  /** Raw GET of a non-resource or subresource path (e.g. /version); resolves with the body text. */
  raw(method: string, path: string, body?: string): Promise<{ code: number; body: string }>;
  close(): void;
}
