/**
 * The sqlite dialect of the append-only log (kine's layout).
 *
 * - `log.id` IS the revision (AUTOINCREMENT: ids are never reused, even after compaction deletes
 *   the newest rows, and a rolled-back insert gives its id back, so revisions have no holes).
 * - `created` = 1 on the row that creates a key; then its create revision is its own id and
 *   `create_revision` is 0 (saves an update per create). Otherwise `create_revision` is the key's.
 * - `deleted` = 1 marks a deletion; `value` then holds the deleted value (for the watch event).
 * - `prev_revision` is the id of the key's previous row (0 for none); the UNIQUE index on
 *   (name, prev_revision) makes two writers racing from the same revision collide.
 * - `old_value` is the value an update replaced (prevKv for watchers), NULL otherwise.
 * - `meta` holds the compacted revision.
 */
export const SCHEMA_VERSION = 1;

/** Statements run once on an empty database, in order (auto_vacuum must precede the first table). */
export const CREATE_STATEMENTS: readonly string[] = [
  "PRAGMA auto_vacuum = INCREMENTAL",
  `CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value TEXT NOT NULL,
    old_value TEXT
  )`,
  "CREATE UNIQUE INDEX IF NOT EXISTS log_name_prev_revision ON log (name, prev_revision)",
  "CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id)",
  "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
  `INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ${SCHEMA_VERSION})`,
  "INSERT OR IGNORE INTO meta (name, value) VALUES ('compact_revision', 0)",
];

export const COLUMNS = "id, name, created, deleted, create_revision, prev_revision, value, old_value";

/** A row as better-sqlite3 returns it. */
export interface SqlRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
  old_value: string | null;
}
