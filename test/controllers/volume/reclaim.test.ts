/** What the binder itself does to released storage: the scrub's refusals, and NFS through a declared export. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { KObject } from "../../../src/api/types.js";
import {
  deleteStaticVolume,
  nfsLocalPath,
  recycleVolume,
} from "../../../src/controllers/volume/persistentvolume/reclaim.js";

const pv = (spec: Record<string, unknown>): KObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: "v" },
  spec,
});

describe("reclaiming a volume's storage", () => {
  const scratch = mkdtempSync(join(tmpdir(), "k8ts-reclaim-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("Recycle refuses the root, a top-level directory, and anything holding or inside the data dir", async () => {
    const dataDir = join(scratch, "data");
    mkdirSync(join(dataDir, "db"), { recursive: true });
    writeFileSync(join(dataDir, "db", "state.db"), "x");
    const opts = { protectedPaths: [dataDir] };
    await assert.rejects(
      recycleVolume(pv({ hostPath: { path: "/" } }), opts),
      /refusing to scrub \/: it is a system directory/,
    );
    await assert.rejects(
      recycleVolume(pv({ hostPath: { path: "/etc" } }), opts),
      /refusing to scrub \/etc: it is a system directory/,
    );
    await assert.rejects(recycleVolume(pv({ hostPath: { path: scratch } }), opts), /it holds k8ts's own data/);
    await assert.rejects(
      recycleVolume(pv({ hostPath: { path: join(dataDir, "db") } }), opts),
      /it holds k8ts's own data/,
    );
    assert.ok(existsSync(join(dataDir, "db", "state.db")));
  });

  it("Recycle of an nfs volume scrubs through the declared export, and says what is missing without one", async () => {
    const root = join(scratch, "export");
    mkdirSync(join(root, "share", "sub"), { recursive: true });
    writeFileSync(join(root, "share", "sub", "f"), "x");
    writeFileSync(join(root, "keep"), "x");
    const exports = [{ server: "10.0.0.5", path: "/exports", root }];
    assert.equal(nfsLocalPath(exports, "10.0.0.5", "/exports/../etc"), undefined);
    assert.equal(nfsLocalPath(exports, "10.0.0.6", "/exports/share"), undefined);
    await recycleVolume(pv({ nfs: { server: "10.0.0.5", path: "/exports/share" } }), { nfsExports: exports });
    assert.deepEqual(readdirSync(join(root, "share")), []);
    assert.ok(existsSync(join(root, "keep")), "only the volume's directory is scrubbed");
    await assert.rejects(
      recycleVolume(pv({ nfs: { server: "10.9.9.9", path: "/x" } }), { nfsExports: exports }),
      /the NFS export holding 10\.9\.9\.9:\/x is not available on this server \(declare it with --nfs-export\)/,
    );
  });

  it("Recycle of a source no recycler serves, and Delete of one no deleter serves, say so as upstream", async () => {
    await assert.rejects(
      recycleVolume(pv({ local: { path: "/x" } }), {}),
      /^Error: No recycler plugin found for the volume!$/,
    );
    await assert.rejects(
      deleteStaticVolume(pv({ nfs: { server: "s", path: "/x" } }), {}),
      /error getting deleter volume plugin for volume "v": no deletable volume plugin matched/,
    );
  });

  it("Delete of a /tmp hostPath volume removes it without following a symlink out", async () => {
    const dir = join(scratch, "del");
    const outside = join(scratch, "outside");
    mkdirSync(dir, { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, "precious"), "keep");
    symlinkSync(outside, join(dir, "link"));
    await deleteStaticVolume(pv({ hostPath: { path: dir } }), {});
    assert.ok(!existsSync(dir));
    assert.ok(existsSync(join(outside, "precious")));
  });
});
