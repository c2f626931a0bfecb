/**
 * Child process for the sqlite crash test: writes in a loop (4 concurrent writers, so writes are
 * batched), with background compaction on, and prints "<revision> <key>" for every acknowledged
 * write. The parent kills it with SIGKILL mid-load. Usage: node sqlite-crash-child.js <db path>
 */
import { SqliteStore } from "../../src/store/sqlite/index.js";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: sqlite-crash-child <db path>");
const store = new SqliteStore({
  path,
  compaction: { everyWrites: 200, retainRevisions: 100, retainMs: 0, batchSize: 50 },
});

async function writer(id: number): Promise<void> {
  for (let i = 0; ; i++) {
    const key = `/crash/${id}/${i % 25}`;
    const cur = (await store.get(key)).kv;
    let rev: number;
    if (cur === undefined) rev = await store.create(key, `{"writer":${id},"i":${i}}`);
    else if (i % 7 === 0) rev = (await store.delete(key, cur.modRevision)).revision;
    else rev = await store.update(key, `{"writer":${id},"i":${i}}`, cur.modRevision);
    process.stdout.write(`${rev} ${key}\n`);
    // Yield to timers and the compactor, as a server does between requests.
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
  }
}

await Promise.all([0, 1, 2, 3].map((id) => writer(id)));
