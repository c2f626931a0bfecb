import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StoreCompactor } from "../../src/apiserver/compactor.js";
import { MemoryStore } from "../../src/store/index.js";

describe("store compactor", () => {
  it("compacts, at each tick, up to the revision seen at the tick before (never the newest history)", async () => {
    const store = new MemoryStore();
    const compactor = new StoreCompactor(store, 60_000);
    await store.create("/a", "1");
    await store.create("/b", "1");
    await compactor.tick(); // remembers revision 2, compacts nothing
    assert.equal(await store.compactedRevision(), 0);
    await store.update("/a", "2", 1);
    await store.update("/a", "3", 3);
    await compactor.tick(); // compacts to 2, remembers 4
    assert.equal(await store.compactedRevision(), 2);
    assert.equal((await store.get("/a")).kv?.value, "3");
    await compactor.tick(); // compacts to 4
    assert.equal(await store.compactedRevision(), 4);
    await compactor.tick(); // nothing new: stays
    assert.equal(await store.compactedRevision(), 4);
    await store.close();
  });
});
