import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { storeConformance } from "./conformance.js";

const dir = mkdtempSync(join(tmpdir(), "k8ts-sqlite-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

storeConformance("sqlite", {
  open: async () => new SqliteStore({ path: join(dir, `db-${n++}`, "state.db") }),
  startsAtOne: true,
});
