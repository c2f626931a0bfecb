/** The work queue: one reconcile per burst of adds, backoff on failure, and delayed adds where the earlier time wins. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WorkQueue } from "../../src/controllers/queue.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("WorkQueue", () => {
  it("with workers, that many keys run at once, never one key twice at a time; a key added while it runs runs again after", async () => {
    let running = 0;
    let most = 0;
    const inFlight = new Set<string>();
    const runs: string[] = [];
    const q = new WorkQueue(
      "t",
      async (k) => {
        assert.ok(!inFlight.has(k), `${k} reconciled twice at once`);
        inFlight.add(k);
        running++;
        most = Math.max(most, running);
        runs.push(k);
        await sleep(20);
        running--;
        inFlight.delete(k);
        return undefined;
      },
      3,
    );
    for (const k of ["a", "b", "c", "d", "e", "f"]) q.add(k);
    await sleep(5);
    q.add("a"); // while a runs
    await sleep(120);
    q.stop();
    assert.equal(most, 3);
    assert.deepEqual([...runs].sort(), ["a", "a", "b", "c", "d", "e", "f"]);
    assert.ok(runs.indexOf("a", 1) > 2, "the second a came after the first ended");
  });

  it("a key added many times before it runs is reconciled once", async () => {
    const seen: string[] = [];
    const q = new WorkQueue("t", async (k) => {
      seen.push(k);
      await sleep(5);
      return undefined;
    });
    q.add("a");
    q.add("b");
    q.add("b");
    q.add("b");
    await sleep(50);
    q.stop();
    assert.deepEqual(seen, ["a", "b"]);
  });

  it("a later addAfter does not push back an earlier one; an earlier one brings it forward", async () => {
    const at: number[] = [];
    const t0 = Date.now();
    const q = new WorkQueue("t", async () => {
      at.push(Date.now() - t0);
      return undefined;
    });
    q.addAfter("k", 2000);
    q.addAfter("k", 50);
    q.addAfter("k", 5000);
    await sleep(300);
    q.stop();
    assert.equal(at.length, 1);
    assert.ok(at[0]! < 300, `ran after ${at[0]} ms`);
  });

  it("a failing key is retried with backoff", async () => {
    let n = 0;
    const q = new WorkQueue("t", async () => {
      n++;
      if (n < 3) throw new Error("not yet");
      return undefined;
    });
    q.add("k");
    await sleep(200);
    q.stop();
    assert.equal(n, 3);
  });
});
