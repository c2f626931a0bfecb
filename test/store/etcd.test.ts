import { after, before } from "node:test";
import { EtcdStore } from "../../src/store/etcd/index.js";
import { storeConformance } from "./conformance.js";
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
