import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  type Store,
  StoreError,
  type StoreErrorCode,
  type WatchEvent,
  type WatchOptions,
} from "../../src/store/types.js";

/**
 * The one behaviour every Store backend must have (etcd's model). Each backend's test file calls
 * `storeConformance` with a factory; each case gets a fresh store (or, for etcd, a fresh prefix of a
 * shared server, so absolute revisions are never assumed: cases work from `currentRevision()`).
 */
export interface ConformanceOptions {
  /** Opens a fresh, empty store (an empty key space under its prefix). */
  open: () => Promise<Store>;
  /** Skips the whole suite with this reason (e.g. the etcd binary is missing). */
  skip?: string | undefined;
  /** The store is brand new, so its first write is revision 1. Default false. */
  startsAtOne?: boolean;
}

export function storeConformance(name: string, opts: ConformanceOptions): void {
  describe(`Store conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    const open: Array<Store> = [];
    const fresh = async (): Promise<Store> => {
      const s = await opts.open();
      open.push(s);
      return s;
    };
    after(async () => {
      for (const s of open) await s.close();
    });

    if (opts.startsAtOne) {
      it("an empty store is at revision 0 and its first write is revision 1", async () => {
        const s = await fresh();
        assert.equal(await s.currentRevision(), 0);
        assert.equal(await s.compactedRevision(), 0);
        assert.equal(await s.create("/a", "1"), 1);
        assert.equal(await s.currentRevision(), 1);
      });
    }

    it("create stores the key with createRevision = modRevision = the write's revision", async () => {
      const s = await fresh();
      const base = await s.currentRevision();
      const rev = await s.create("/r/pods/default/a", '{"x":1}');
      assert.equal(rev, base + 1);
      const got = await s.get("/r/pods/default/a");
      assert.deepEqual(got.kv, { key: "/r/pods/default/a", value: '{"x":1}', createRevision: rev, modRevision: rev });
      assert.equal(got.revision, rev);
    });

    it("create of an existing key fails with 'exists' and writes nothing", async () => {
      const s = await fresh();
      await s.create("/k", "1");
      const rev = await s.currentRevision();
      await rejectsWith(s.create("/k", "2"), "exists");
      assert.equal(await s.currentRevision(), rev);
      assert.equal((await s.get("/k")).kv?.value, "1");
    });

    it("get of a missing key returns no kv and the current revision", async () => {
      const s = await fresh();
      await s.create("/other", "x");
      const got = await s.get("/missing");
      assert.equal(got.kv, undefined);
      assert.equal(got.revision, await s.currentRevision());
    });

    it("get at a revision returns the value as of that revision", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "v1");
      const r2 = await s.update("/k", "v2", r1);
      const r3 = await s.delete("/k", r2);
      const cases: Array<[number, string | undefined]> = [
        [r1, "v1"],
        [r2, "v2"],
        [r3.revision, undefined],
      ];
      for (const [rev, want] of cases) {
        const got = await s.get("/k", { revision: rev });
        assert.equal(got.kv?.value, want, `at revision ${rev}`);
        assert.equal(got.revision, rev);
      }
      assert.equal((await s.get("/k", { revision: r2 })).kv?.modRevision, r2);
      assert.equal((await s.get("/k", { revision: r2 })).kv?.createRevision, r1);
    });

    it("get at a future revision fails with 'future-revision'", async () => {
      const s = await fresh();
      const r = await s.create("/k", "v");
      await rejectsWith(s.get("/k", { revision: r + 10 }), "future-revision");
      await rejectsWith(s.list("/", { revision: r + 10 }), "future-revision");
    });

    it("list returns the keys under the prefix in key order, and count counts them", async () => {
      const s = await fresh();
      for (const k of ["/a/b/3", "/a/b/1", "/a/bc/x", "/a/b/2", "/a/a", "/b/1", "/a/b/10"]) await s.create(k, k);
      const res = await s.list("/a/b/");
      assert.deepEqual(
        res.kvs.map((kv) => kv.key),
        ["/a/b/1", "/a/b/10", "/a/b/2", "/a/b/3"],
      );
      assert.equal(res.more, false);
      assert.equal(res.revision, await s.currentRevision());
      assert.deepEqual(
        (await s.list("/a/")).kvs.map((kv) => kv.key),
        ["/a/a", "/a/b/1", "/a/b/10", "/a/b/2", "/a/b/3", "/a/bc/x"],
      );
      assert.equal(await s.count("/a/b/"), 4);
      assert.equal(await s.count("/a/"), 6);
      assert.equal(await s.count("/zzz/"), 0);
    });

    it("list leaves out deleted keys", async () => {
      const s = await fresh();
      await s.create("/p/1", "1");
      const r2 = await s.create("/p/2", "2");
      await s.create("/p/3", "3");
      await s.delete("/p/2", r2);
      assert.deepEqual(
        (await s.list("/p/")).kvs.map((kv) => kv.key),
        ["/p/1", "/p/3"],
      );
      assert.equal(await s.count("/p/"), 2);
    });

    it("limit and startAfter paginate with 'more' set on every page but the last", async () => {
      const s = await fresh();
      const keys = ["/p/a", "/p/b", "/p/c", "/p/d", "/p/e"];
      for (const k of keys) await s.create(k, k);
      await s.create("/q/a", "outside");
      const pages: string[][] = [];
      const mores: boolean[] = [];
      let startAfter: string | undefined;
      const rev = await s.currentRevision();
      for (;;) {
        const res = await s.list("/p/", { limit: 2, startAfter, revision: rev });
        pages.push(res.kvs.map((kv) => kv.key));
        mores.push(res.more);
        if (!res.more) break;
        startAfter = res.kvs[res.kvs.length - 1]?.key;
      }
      assert.deepEqual(pages, [["/p/a", "/p/b"], ["/p/c", "/p/d"], ["/p/e"]]);
      assert.deepEqual(mores, [true, true, false]);
      const exact = await s.list("/p/", { limit: 5 });
      assert.equal(exact.kvs.length, 5);
      assert.equal(exact.more, false, "no more when the limit is exactly the number of keys");
    });

    it("list at a revision shows the key space as it was then", async () => {
      const s = await fresh();
      const r1 = await s.create("/p/a", "a1");
      await s.create("/p/b", "b1");
      const r3 = await s.update("/p/a", "a2", r1);
      const before = await s.currentRevision();
      await s.delete("/p/b");
      await s.create("/p/c", "c1");
      const then = await s.list("/p/", { revision: before });
      assert.deepEqual(
        then.kvs.map((kv) => [kv.key, kv.value, kv.modRevision]),
        [
          ["/p/a", "a2", r3],
          ["/p/b", "b1", r1 + 1],
        ],
      );
      assert.equal(then.revision, before);
      const at1 = await s.list("/p/", { revision: r1 });
      assert.deepEqual(
        at1.kvs.map((kv) => kv.value),
        ["a1"],
      );
    });

    it("update replaces the value when modRevision matches and keeps createRevision", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "v1");
      const r2 = await s.update("/k", "v2", r1);
      assert.equal(r2, r1 + 1);
      assert.deepEqual((await s.get("/k")).kv, { key: "/k", value: "v2", createRevision: r1, modRevision: r2 });
    });

    it("update with a stale modRevision fails with 'conflict' carrying the current value", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "v1");
      const r2 = await s.update("/k", "v2", r1);
      const err = await rejectsWith(s.update("/k", "v3", r1), "conflict");
      assert.deepEqual(err.current, { key: "/k", value: "v2", createRevision: r1, modRevision: r2 });
      assert.equal(await s.currentRevision(), r2, "a failed write does not take a revision");
    });

    it("racing updates from the same revision: exactly one wins", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "v0");
      const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => s.update("/k", `v${i}`, r1)));
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      assert.equal(won.length, 1);
      for (const r of lost) assert.equal(errorCode(r.reason), "conflict");
      assert.equal(await s.currentRevision(), r1 + 1);
    });

    it("delete guarded by modRevision: stale fails with 'conflict', matching deletes and returns the last value", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "v1");
      const r2 = await s.update("/k", "v2", r1);
      const err = await rejectsWith(s.delete("/k", r1), "conflict");
      assert.equal(err.current?.modRevision, r2);
      const del = await s.delete("/k", r2);
      assert.equal(del.revision, r2 + 1);
      assert.deepEqual(del.prevKv, { key: "/k", value: "v2", createRevision: r1, modRevision: r2 });
      assert.equal((await s.get("/k")).kv, undefined);
    });

    it("delete without a guard deletes whatever is there", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "v1");
      const del = await s.delete("/k");
      assert.equal(del.prevKv.modRevision, r1);
      assert.equal(await s.count("/k"), 0);
    });

    it("update and delete of missing or deleted keys fail with 'not-found'", async () => {
      const s = await fresh();
      const r1 = await s.create("/gone", "v");
      await s.delete("/gone", r1);
      const cases: Array<[string, () => Promise<unknown>]> = [
        ["update of a never-written key", () => s.update("/never", "v", 1)],
        ["delete of a never-written key", () => s.delete("/never")],
        ["guarded delete of a never-written key", () => s.delete("/never", 1)],
        ["update of a deleted key", () => s.update("/gone", "v", r1)],
        ["delete of a deleted key", () => s.delete("/gone")],
      ];
      for (const [what, op] of cases) await rejectsWith(op(), "not-found", what);
    });

    it("create after delete starts a new life with a new createRevision", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "old");
      await s.delete("/k");
      const r3 = await s.create("/k", "new");
      assert.equal(r3, r1 + 2);
      assert.deepEqual((await s.get("/k")).kv, { key: "/k", value: "new", createRevision: r3, modRevision: r3 });
    });

    it("every write takes exactly the next revision; failed writes take none", async () => {
      const s = await fresh();
      const ra = await s.create("/m/a", "1");
      const writes: Array<() => Promise<number>> = [
        () => s.create("/m/b", "1"),
        () => s.update("/m/a", "2", ra),
        () => s.delete("/m/b").then((d) => d.revision),
        () => s.create("/m/b", "2"),
        () => s.create("/m/c", "1"),
      ];
      for (const write of writes) {
        await rejectsWith(s.create("/m/a", "dup"), "exists");
        await rejectsWith(s.update("/m/none", "x", 1), "not-found");
        const current = await s.currentRevision();
        const got = await write();
        assert.equal(got, current + 1);
        assert.equal(await s.currentRevision(), got);
      }
    });

    it("watch from a revision replays history in order, then delivers live events", async () => {
      const s = await fresh();
      const r1 = await s.create("/w/a", "1");
      const r2 = await s.update("/w/a", "2", r1);
      const r3 = await s.create("/w/b", "1");
      const w = collect(s, "/w/", { fromRevision: r2 });
      await w.until(2);
      const r4 = (await s.delete("/w/a", r2)).revision;
      const r5 = await s.create("/w/c", "1");
      await w.until(4);
      w.cancel();
      assert.deepEqual(summary(w.events), [
        ["put", "/w/a", r2],
        ["put", "/w/b", r3],
        ["delete", "/w/a", r4],
        ["put", "/w/c", r5],
      ]);
      assert.deepEqual(w.errors, []);
    });

    it("watch without a revision delivers only writes made after it started", async () => {
      const s = await fresh();
      await s.create("/w/old", "1");
      const w = collect(s, "/w/");
      await settle(s);
      const r = await s.create("/w/new", "1");
      await w.until(1);
      w.cancel();
      assert.deepEqual(summary(w.events), [["put", "/w/new", r]]);
    });

    it("watch events carry prevKv on update and delete, none on create", async () => {
      const s = await fresh();
      const w = collect(s, "/w/", { prevKv: true });
      await settle(s);
      const r1 = await s.create("/w/k", "v1");
      const r2 = await s.update("/w/k", "v2", r1);
      const r3 = (await s.delete("/w/k", r2)).revision;
      await w.until(3);
      w.cancel();
      const [c, u, d] = w.events;
      assert.deepEqual(c?.kv, { key: "/w/k", value: "v1", createRevision: r1, modRevision: r1 });
      assert.equal(c?.prevKv, undefined);
      assert.deepEqual(u?.kv, { key: "/w/k", value: "v2", createRevision: r1, modRevision: r2 });
      assert.deepEqual(u?.prevKv, { key: "/w/k", value: "v1", createRevision: r1, modRevision: r1 });
      assert.equal(d?.type, "delete");
      assert.equal(d?.kv.modRevision, r3);
      assert.equal(d?.kv.key, "/w/k");
      assert.deepEqual(d?.prevKv, { key: "/w/k", value: "v2", createRevision: r1, modRevision: r2 });
    });

    it("a prefix ending in '/' does not match siblings that share its beginning", async () => {
      const s = await fresh();
      const w = collect(s, "/a/b/");
      await settle(s);
      await s.create("/a/bc", "no");
      await s.create("/a/bc/d", "no");
      await s.create("/a/b", "no");
      const r = await s.create("/a/b/x", "yes");
      await w.until(1);
      await settle(s);
      w.cancel();
      assert.deepEqual(summary(w.events), [["put", "/a/b/x", r]]);
    });

    it("many concurrent watchers starting at different revisions each see the same ordered, gapless stream", async () => {
      const s = await fresh();
      const base = await s.currentRevision();
      const writes = 60;
      const watchers: Array<ReturnType<typeof collect>> = [];
      let last = base;
      for (let i = 0; i < writes; i++) {
        const key = `/c/${i % 7}`;
        const cur = (await s.get(key)).kv;
        last = cur === undefined ? await s.create(key, `${i}`) : await s.update(key, `${i}`, cur.modRevision);
        if (i % 3 === 0) watchers.push(collect(s, "/c/", { fromRevision: base + 1 }));
        if (i % 5 === 0) watchers.push(collect(s, "/c/"));
      }
      assert.equal(last, base + writes);
      for (const w of watchers) await w.untilRevision(last);
      for (const w of watchers) {
        w.cancel();
        const revs = w.events.map((e) => e.kv.modRevision);
        for (let i = 1; i < revs.length; i++) assert.equal(revs[i], revs[i - 1]! + 1, "consecutive revisions");
        assert.equal(revs[revs.length - 1], last);
        assert.deepEqual(w.errors, []);
      }
      assert.deepEqual(
        watchers[0]?.events.map((e) => e.kv.modRevision),
        Array.from({ length: writes }, (_, i) => base + 1 + i),
      );
    });

    it("cancel stops delivery", async () => {
      const s = await fresh();
      const w = collect(s, "/x/");
      await settle(s);
      await s.create("/x/1", "1");
      await w.until(1);
      w.cancel();
      await s.create("/x/2", "2");
      const probe = collect(s, "/x/", { fromRevision: await s.currentRevision() });
      await probe.until(1);
      probe.cancel();
      assert.equal(w.events.length, 1);
    });

    it("compaction keeps the latest value of every live key and drops older history", async () => {
      const s = await fresh();
      const r1 = await s.create("/k/a", "a1");
      let ra = r1;
      for (let i = 2; i <= 5; i++) ra = await s.update("/k/a", `a${i}`, ra);
      const rb = await s.create("/k/b", "b1");
      await s.delete("/k/b", rb);
      const rc = await s.create("/k/c", "c1");
      const target = await s.currentRevision();
      await s.compact(target);
      assert.ok((await s.compactedRevision()) >= target);
      assert.deepEqual(
        (await s.list("/k/")).kvs.map((kv) => [kv.key, kv.value, kv.createRevision, kv.modRevision]),
        [
          ["/k/a", "a5", r1, ra],
          ["/k/c", "c1", rc, rc],
        ],
      );
      assert.equal((await s.get("/k/a", { revision: target })).kv?.value, "a5");
      const err = await rejectsWith(s.get("/k/a", { revision: r1 }), "compacted");
      assert.ok((err.revision ?? 0) >= target, "compacted error carries the compacted revision");
      await rejectsWith(s.list("/k/", { revision: r1 }), "compacted");
      // Writes continue from where they were.
      assert.equal(await s.update("/k/a", "a6", ra), target + 1);
    });

    it("watch from a compacted revision fails with 'compacted'; from the compacted revision itself works", async () => {
      const s = await fresh();
      const r1 = await s.create("/k", "1");
      const r2 = await s.update("/k", "2", r1);
      const r3 = await s.update("/k", "3", r2);
      await s.compact(r3);
      const bad = collect(s, "/", { fromRevision: r1 });
      const err = await bad.untilError();
      assert.equal(err.code, "compacted");
      assert.ok((err.revision ?? 0) >= r3);
      bad.cancel();
      const good = collect(s, "/k", { fromRevision: r3 });
      const r4 = await s.update("/k", "4", r3);
      await good.untilRevision(r4);
      good.cancel();
      assert.deepEqual(summary(good.events), [
        ["put", "/k", r3],
        ["put", "/k", r4],
      ]);
    });
  });
}

/** Waits long enough for a store's watchers to have registered (a write and a watch that sees it). */
async function settle(s: Store): Promise<void> {
  const key = `/__settle/${Math.random()}`;
  const w = collect(s, key);
  await tick();
  // A watch registered before a write sees it; waiting for it orders earlier watch registrations.
  const rev = await s.create(key, "x");
  await w.untilRevision(rev);
  w.cancel();
}

function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 20));
}

function summary(events: WatchEvent[]): Array<[string, string, number]> {
  return events.map((e) => [e.type, e.kv.key, e.kv.modRevision]);
}

function errorCode(err: unknown): StoreErrorCode | undefined {
  return err instanceof StoreError ? err.code : undefined;
}

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode, what = ""): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StoreError, `${what}: expected StoreError, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return err;
  }
  assert.fail(`${what}: expected StoreError '${code}', the call succeeded`);
}

const WAIT_LIMIT_MS = 10_000;

/** Collects a watch's events; the `until*` helpers fail after a generous limit instead of hanging. */
export function collect(s: Store, prefix: string, opts?: WatchOptions) {
  const events: WatchEvent[] = [];
  const errors: StoreError[] = [];
  let wake: (() => void) | undefined;
  const watch = s.watch(
    prefix,
    {
      onEvents(batch) {
        assert.ok(batch.length > 0, "never an empty batch");
        events.push(...batch);
        wake?.();
      },
      onError(err) {
        errors.push(err);
        wake?.();
      },
    },
    opts,
  );
  const waitFor = async (done: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (!done()) {
      if (errors.length > 0 && !what.includes("error")) assert.fail(`watch failed: ${errors[0]?.message}`);
      if (Date.now() > deadline) assert.fail(`watch on ${prefix}: gave up waiting for ${what}; have ${events.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };
  return {
    events,
    errors,
    cancel: () => watch.cancel(),
    until: (n: number) => waitFor(() => events.length >= n, `${n} events`),
    untilRevision: (rev: number) =>
      waitFor(() => (events[events.length - 1]?.kv.modRevision ?? 0) >= rev, `revision ${rev}`),
    untilError: async (): Promise<StoreError> => {
      await waitFor(() => errors.length > 0, "an error");
      return errors[0]!;
    },
  };
}
