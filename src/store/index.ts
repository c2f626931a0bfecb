import { join } from "node:path";
import type { EtcdStoreOptions } from "./etcd/index.js";
import { MemoryStore } from "./memory/index.js";
import type { SqliteStoreOptions } from "./sqlite/index.js";
import { type Store, StoreError } from "./types.js";

export type { EtcdStoreOptions } from "./etcd/index.js";
export type { SqliteCompactionOptions, SqliteStoreOptions } from "./sqlite/index.js";
export type {
  GetResult,
  KeyValue,
  ListOptions,
  ListResult,
  Store,
  StoreErrorCode,
  Watch,
  WatchEvent,
  WatchEventType,
  WatchHandlers,
  WatchOptions,
} from "./types.js";
export { StoreError } from "./types.js";
export { MemoryStore };

export type StoreBackend = "sqlite" | "etcd" | "memory";

export interface OpenStoreOptions {
  backend: StoreBackend;
  /** sqlite: the folder holding the database (`<dataDir>/state.db`, created when missing). Required for sqlite. */
  dataDir?: string;
  /** sqlite: the database file name inside dataDir. Default "state.db". */
  sqliteFile?: string;
  /** sqlite: polling and compaction settings (see SqliteStoreOptions for the defaults). */
  sqlite?: Omit<SqliteStoreOptions, "path">;
  /** etcd: client URLs. Required for etcd. */
  etcdEndpoints?: string[];
  /** etcd: prefix for every key in etcd. Default "" (keys as given). */
  etcdPrefix?: string;
  /** etcd: TLS/auth/timeouts. */
  etcd?: Omit<EtcdStoreOptions, "endpoints" | "prefix">;
}

/**
 * Opens a store. For etcd, the first call is made here so an unreachable cluster fails at start
 * (StoreError 'unavailable') instead of on the first request.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  switch (opts.backend) {
    case "memory":
      return new MemoryStore();
    case "sqlite": {
      if (opts.dataDir === undefined) throw new StoreError("unavailable", "sqlite store: dataDir is required");
      // backends load on demand: the etcd client alone costs ~150 ms of start-up
      const { SqliteStore } = await import("./sqlite/index.js");
      return new SqliteStore({ ...opts.sqlite, path: join(opts.dataDir, opts.sqliteFile ?? "state.db") });
    }
    case "etcd": {
      const endpoints = opts.etcdEndpoints ?? [];
      if (endpoints.length === 0) throw new StoreError("unavailable", "etcd store: etcdEndpoints is required");
      const { EtcdStore } = await import("./etcd/index.js");
      const store = new EtcdStore({ ...opts.etcd, endpoints, prefix: opts.etcdPrefix ?? "" });
      try {
        await store.currentRevision();
      } catch (err) {
        await store.close();
        throw err;
      }
      return store;
    }
    default: {
      const never: never = opts.backend;
      throw new StoreError("unavailable", `unknown store backend ${String(never)}`);
    }
  }
}
