import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EtcdStore } from "../../src/store/etcd/index.js";
import { StoreError } from "../../src/store/types.js";
import { collect, storeConformance } from "./conformance.js";
import { type EtcdProcess, etcdSkipReason, startEtcd } from "./etcd-process.js";

const skip = etcdSkipReason();
if (skip !== undefined) console.log(`# skipping etcd store tests: ${skip}`);
let etcd: EtcdProcess | undefined;
let n = 0;

before(async () => {
  if (skip === undefined) etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

storeConformance("etcd", {
  skip,
  // One etcd for the suite; each case gets its own key prefix (revisions are etcd-wide).
  open: async () => {
    if (etcd === undefined) throw new Error("etcd did not start");
    return new EtcdStore({ endpoints: [etcd.endpoint], prefix: `/k8ts-test-${process.pid}-${n++}` });
  },
});

describe("etcd backend", { skip }, () => {
  it("a watch survives an etcd restart and resumes without holes or duplicates", async () => {
    const own = await startEtcd();
    const store = new EtcdStore({ endpoints: [own.endpoint], prefix: "/restart" });
    try {
      const w = collect(store, "/w/");
      const r1 = await store.create("/w/a", "1");
      await w.untilRevision(r1);
      await own.stop({ keepData: true });
      const again = await startEtcd({ dataDir: own.dataDir, clientPort: own.clientPort, peerPort: own.peerPort });
      try {
        let r2 = 0;
        for (let i = 0; r2 === 0; i++) {
          try {
            r2 = await store.update("/w/a", "2", r1);
          } catch (err) {
            // Only "cannot reach etcd" is worth retrying; anything else is a real failure.
            if (i > 100 || !(err instanceof StoreError) || err.code !== "unavailable") throw err;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        const r3 = await store.create("/w/b", "1");
        await w.untilRevision(r3);
        w.cancel();
        assert.deepEqual(
          w.events.map((e) => e.kv.modRevision),
          [r1, r2, r3],
        );
      } finally {
        await store.close();
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  });
});
