/**
 * The store: one revisioned key space with etcd's model.
 *
 * - Every write (create, update, delete) gets the next store revision; `modRevision` of a key is
 *   the revision of the write that last touched it; `createRevision` the one that created it.
 * - Reads may be served "at a revision" (MVCC) as long as that revision is not compacted.
 * - Watches deliver every event with revision >= `fromRevision`, strictly in revision order,
 *   without holes; a compacted `fromRevision` fails with `StoreError('compacted')`.
 *
 * Backends: memory (tests), sqlite (embedded default, kine-like append-only log), etcd (HA).
 * All of them pass the one conformance suite in test/store/conformance.ts.
 */

/** One stored key at one revision. Values are UTF-8 strings (JSON objects, in practice). */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (stays the same across updates). */
  createRevision: number;
  /** Revision of the write that last changed this key. Used as the object's resourceVersion. */
  modRevision: number;
}

export type WatchEventType = "put" | "delete";

export interface WatchEvent {
  type: WatchEventType;
  /** For "put": the new value. For "delete": the key with its last value and modRevision = the delete's revision. */
  kv: KeyValue;
  /** The value before this event, when there was one (always set for delete; for updates). */
  prevKv?: KeyValue;
}

export interface ListOptions {
  /** Return only keys strictly greater than this one (pagination: the last key of the previous page). */
  startAfter?: string;
  /** At most this many keys; 0 or undefined = no limit. */
  limit?: number;
  /** Read at this revision (MVCC); undefined = the latest. Fails with 'compacted' if compacted. */
  revision?: number;
}

export interface ListResult {
  kvs: KeyValue[];
  /** True when more keys matched after the last one returned (limit cut the result). */
  more: boolean;
  /** The revision the read was served at (the current revision when `revision` was not given). */
  revision: number;
}

export interface GetResult {
  kv: KeyValue | undefined;
  revision: number;
}

export type StoreErrorCode =
  /** create: the key already exists. */
  | "exists"
  /** update/delete: the key's modRevision is not the expected one. `current` holds what is there. */
  | "conflict"
  /** update/delete: the key does not exist. */
  | "not-found"
  /** read or watch at a revision older than the compacted one. */
  | "compacted"
  /** read at a revision newer than the current one. */
  | "future-revision"
  /** the backend cannot be reached or failed; the write may or may not have happened. */
  | "unavailable";

/** The closed set of errors a backend may raise; driver errors are translated at the edge. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** For "conflict": the key's current value. */
  readonly current: KeyValue | undefined;
  /** For "compacted": the compacted revision. For "future-revision": the current revision. */
  readonly revision: number | undefined;
  constructor(code: StoreErrorCode, message: string, extra?: { current?: KeyValue; revision?: number }) {
    super(message);
    this.name = "StoreError";
    this.code = code;
    this.current = extra?.current;
    this.revision = extra?.revision;
  }
}

export interface WatchOptions {
  /** Deliver events with revision >= fromRevision. 0/undefined = only future events. */
  fromRevision?: number;
  /** Also deliver prevKv on events. Default false (backends may always fill it). */
  prevKv?: boolean;
}

export interface Watch {
  /** Stops the watch; no callback is called after it returns. */
  cancel(): void;
}

export interface WatchHandlers {
  /** Called with batches of events, in revision order, never with an empty batch. */
  onEvents(events: WatchEvent[]): void;
  /** Called once when the watch fails (e.g. compacted start revision); no events follow. */
  onError(err: StoreError): void;
}

export interface Store {
  /** "memory" | "sqlite" | "etcd". */
  readonly backend: string;
  get(key: string, opts?: { revision?: number }): Promise<GetResult>;
  /** Keys with the given prefix in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Counts the keys under a prefix at the latest revision. */
  count(prefix: string): Promise<number>;
  /** Creates the key if absent; returns the new revision. Throws StoreError('exists'). */
  create(key: string, value: string): Promise<number>;
  /**
   * Replaces the key's value if its modRevision equals `expectedModRevision`; returns the new
   * revision. Throws StoreError('conflict' with current) or StoreError('not-found').
   */
  update(key: string, value: string, expectedModRevision: number): Promise<number>;
  /**
   * Deletes the key, guarded by modRevision when `expectedModRevision` is given.
   * Returns the delete's revision and the last value. Throws 'conflict' / 'not-found'.
   */
  delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prevKv: KeyValue }>;
  /** Watches every key with the prefix. */
  watch(prefix: string, handlers: WatchHandlers, opts?: WatchOptions): Watch;
  /** The latest revision (0 for an empty, never written store). */
  currentRevision(): Promise<number>;
  /** The revision below which history is gone (reads/watches before it fail). 0 = none. */
  compactedRevision(): Promise<number>;
  /** Drops history older than `revision` (the latest value of every live key is kept). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
