import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import type { WatchEvent } from "../../src/store/types.js";

const dir = mkdtempSync(join(tmpdir(), "k8ts-sqlite-backend-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function fileSize(path: string): number {
  let total = 0;
  for (const p of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(p)) total += statSync(p).size;
  return total;
}

async function waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("sqlite backend", () => {
  it("the database does not grow without bound: 20k updates of 50 keys with compaction on stay small", async () => {
    const path = join(dir, "churn", "state.db");
    const s = new SqliteStore({
      path,
      compaction: { everyWrites: 1000, retainRevisions: 1000, retainMs: 0, intervalMs: 3_600_000 },
    });
    const value = JSON.stringify({ kind: "ConfigMap", data: { payload: "x".repeat(400) } });
    const revs = new Map<string, number>();
    for (let k = 0; k < 50; k++) revs.set(`/churn/${k}`, await s.create(`/churn/${k}`, value));
    let biggest = 0;
    for (let round = 0; round < 400; round++) {
      await Promise.all(
        [...revs].map(async ([key, rev]) => revs.set(key, await s.update(key, `${value}${round}`, rev))),
      );
      // Let timers and the compactor run between rounds, as they would between API requests.
      await new Promise((r) => setImmediate(r));
      if (round % 20 === 0) biggest = Math.max(biggest, fileSize(path));
    }
    const head = await s.currentRevision();
    assert.equal(head, 50 + 20_000);
    await waitFor("background compaction to catch up", async () => (await s.compactedRevision()) >= head - 2000);
    await s.compact(head - 1000);
    s.reclaimSpace();
    const final = fileSize(path);
    const listed = await s.list("/churn/");
    assert.equal(listed.kvs.length, 50);
    for (const kv of listed.kvs) assert.equal(kv.value, `${value}399`);
    await s.close();
    // Uncompacted, 20k rows of ~900 bytes (value + old value) would be ~18 MB.
    console.log(`sqlite churn: peak ${(biggest / 1e6).toFixed(2)} MB, final ${(final / 1e6).toFixed(2)} MB`);
    assert.ok(final < 3_000_000, `final size ${final} bytes`);
    assert.ok(biggest < 8_000_000, `peak size ${biggest} bytes`);
  });

  it("time retention keeps the last retainMs of history even when the revision retention would drop it", async () => {
    let now = 0;
    const s = new SqliteStore({
      path: join(dir, "time", "state.db"),
      now: () => now,
      compaction: { everyWrites: 5, retainRevisions: 0, retainMs: 60_000, intervalMs: 3_600_000 },
    });
    const writeFive = async (tag: string): Promise<void> => {
      for (let i = 0; i < 5; i++) await s.create(`/t/${tag}/${i}`, "v");
    };
    await writeFive("a"); // revisions 1..5 at t=0
    now = 61_000;
    await writeFive("b"); // 6..10 at t=61s: revisions of t=0 are past the window, revision 5 was current then
    await waitFor("compaction to the revision current 60s ago", async () => (await s.compactedRevision()) === 5);
    now = 122_000;
    await writeFive("c"); // 11..15: now the window starts at t=62s, when revision 10 was current
    await waitFor("compaction to revision 10", async () => (await s.compactedRevision()) === 10);
    assert.equal(await s.count("/t/"), 15);
    await s.close();
  });

  it("a watcher sees writes made through another connection to the same file (polling)", async () => {
    const path = join(dir, "shared", "state.db");
    const a = new SqliteStore({ path, pollIntervalMs: 20, compaction: false });
    const b = new SqliteStore({ path, pollIntervalMs: 0, compaction: false });
    const events: WatchEvent[] = [];
    const w = a.watch("/shared/", {
      onEvents: (batch) => events.push(...batch),
      onError: (e) => assert.fail(e.message),
    });
    const r1 = await b.create("/shared/x", "1");
    const r2 = await b.update("/shared/x", "2", r1);
    await waitFor("the poller to deliver the other connection's writes", async () => events.length >= 2);
    w.cancel();
    assert.deepEqual(
      events.map((e) => [e.type, e.kv.modRevision, e.prevKv?.value]),
      [
        ["put", r1, undefined],
        ["put", r2, "1"],
      ],
    );
    // And a's reads see them at once.
    assert.equal((await a.get("/shared/x")).kv?.value, "2");
    await a.close();
    await b.close();
  });

  it("survives kill -9 mid-load: every acknowledged write is there and the log has no holes", async () => {
    const path = join(dir, "crash", "state.db");
    const child = spawn(process.execPath, [fileURLToPath(new URL("./sqlite-crash-child.js", import.meta.url)), path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acked: Array<[number, string]> = [];
    let buf = "";
    await new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        if (signal === "SIGKILL") resolve();
        else reject(new Error(`child exited early: code ${code}`));
      });
      child.stdout?.on("data", (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const line of lines) {
          const [rev, key] = line.split(" ");
          acked.push([Number(rev), key ?? ""]);
        }
        if (acked.length >= 3000 && child.exitCode === null && !child.killed) child.kill("SIGKILL");
      });
    });
    assert.ok(acked.length >= 3000);
    const s = new SqliteStore({ path, compaction: false });
    const head = await s.currentRevision();
    const compacted = await s.compactedRevision();
    const maxAcked = Math.max(...acked.map(([rev]) => rev));
    assert.ok(head >= maxAcked, `head ${head} >= last acknowledged ${maxAcked}`);
    assert.ok(compacted > 0, "background compaction ran in the child");
    // Every acknowledged write is there: the key is at least that new, and readable at that revision.
    for (const [rev, key] of acked) {
      if (rev < compacted) continue;
      const at = await s.get(key, { revision: rev });
      assert.equal(at.kv === undefined ? rev : at.kv.modRevision, rev, `${key}@${rev}`);
    }
    const lastByKey = new Map<string, number>();
    for (const [rev, key] of acked) lastByKey.set(key, Math.max(rev, lastByKey.get(key) ?? 0));
    for (const [key, rev] of lastByKey) {
      const mod = (await s.get(key)).kv?.modRevision;
      const deletedLater = mod === undefined;
      assert.ok(deletedLater || mod >= rev, `${key}: modRevision ${mod} >= acknowledged ${rev}`);
    }
    // The log from the compacted revision on is complete: consecutive revisions up to head.
    const events: WatchEvent[] = [];
    const w = s.watch(
      "/",
      { onEvents: (b) => events.push(...b), onError: (e) => assert.fail(e.message) },
      {
        fromRevision: compacted,
      },
    );
    await waitFor("replay to head", async () => (events[events.length - 1]?.kv.modRevision ?? 0) >= head);
    w.cancel();
    assert.equal(events[0]?.kv.modRevision, compacted);
    for (let i = 1; i < events.length; i++) assert.equal(events[i]?.kv.modRevision, events[i - 1]!.kv.modRevision + 1);
    // And the store keeps working after the crash.
    assert.equal(await s.create("/after/crash", "v"), head + 1);
    await s.close();
  });
});
