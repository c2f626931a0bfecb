import type { KeyValue, WatchEvent } from "../types.js";

/**
 * One entry of an append-only revision log (kine's model, shared by the memory and sqlite
 * backends): the entry's revision is the write's revision, and an entry carries everything its
 * watch event needs (the previous value included), so history survives compaction of older rows.
 */
export interface LogRow {
  /** The write's revision (the row id in sqlite). */
  revision: number;
  key: string;
  /** The new value; for a deletion, the value that was deleted. */
  value: string;
  /** Revision that created the key this row belongs to. */
  createRevision: number;
  /** Revision of the key's previous row (0 when the key had no row, e.g. its first create). */
  prevRevision: number;
  deleted: boolean;
  /** For an update: the value it replaced. Undefined for creates and deletions. */
  prevValue: string | undefined;
}

/** The key's value as of this row, or undefined for a deletion. */
export function rowKeyValue(row: LogRow): KeyValue | undefined {
  if (row.deleted) return undefined;
  return { key: row.key, value: row.value, createRevision: row.createRevision, modRevision: row.revision };
}

export function rowToEvent(row: LogRow): WatchEvent {
  const kv: KeyValue = {
    key: row.key,
    value: row.value,
    createRevision: row.createRevision,
    modRevision: row.revision,
  };
  if (row.deleted) {
    return {
      type: "delete",
      kv,
      prevKv: { key: row.key, value: row.value, createRevision: row.createRevision, modRevision: row.prevRevision },
    };
  }
  if (row.prevValue !== undefined && row.createRevision !== row.revision) {
    return {
      type: "put",
      kv,
      prevKv: { key: row.key, value: row.prevValue, createRevision: row.createRevision, modRevision: row.prevRevision },
    };
  }
  return { type: "put", kv };
}

/**
 * The smallest string greater than every string starting with `prefix` (etcd's range_end for a
 * prefix), or undefined when there is none (empty prefix or all U+FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}
