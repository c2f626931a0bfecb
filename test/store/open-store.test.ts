import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openStore, StoreError } from "../../src/store/index.js";

describe("openStore", () => {
  it("opens each embedded backend by name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-open-store-"));
    try {
      for (const backend of ["memory", "sqlite"] as const) {
        const s = await openStore({ backend, dataDir: dir });
        assert.equal(s.backend, backend);
        assert.equal(await s.create("/x", "1"), 1);
        await s.close();
      }
      // The sqlite file persists across opens.
      const again = await openStore({ backend: "sqlite", dataDir: dir });
      assert.equal((await again.get("/x")).kv?.value, "1");
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const bad: Array<[string, Parameters<typeof openStore>[0]]> = [
    ["sqlite without a data dir", { backend: "sqlite" }],
    ["etcd without endpoints", { backend: "etcd" }],
    [
      "etcd nobody listens on",
      { backend: "etcd", etcdEndpoints: ["http://127.0.0.1:1"], etcd: { dialTimeoutMs: 500 } },
    ],
  ];
  for (const [what, opts] of bad) {
    it(`fails with 'unavailable' for ${what}`, async () => {
      await assert.rejects(openStore(opts), (err: unknown) => err instanceof StoreError && err.code === "unavailable");
    });
  }
});
