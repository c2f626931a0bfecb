/** The atomic writer: upstream's on-disk layout, modes, updates that readers see whole, removed keys gone. */
import assert from "node:assert/strict";
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import {
  type Payload,
  timestampDirName,
  validatePayloadPath,
  writeAtomic,
} from "../../../src/kubelet/volumes/atomic-writer.js";
import { cleanup, tempRoot } from "./helpers.js";

function payload(files: Record<string, string | [string, number]>): Payload {
  const p: Payload = new Map();
  for (const [k, v] of Object.entries(files)) {
    const [text, mode] = typeof v === "string" ? [v, 0o644] : v;
    p.set(k, { data: Buffer.from(text), mode });
  }
  return p;
}

let root = "";
let n = 0;
async function freshDir(): Promise<string> {
  const d = join(root, `vol${n++}`);
  await mkdir(d);
  return d;
}

before(async () => {
  root = await tempRoot("atomic");
});
after(async () => {
  await cleanup(root);
});

describe("payload paths are validated as upstream's validatePath", () => {
  const cases: Array<[string, string | undefined]> = [
    ["key", undefined],
    ["dir/key", undefined],
    [".hidden", undefined],
    ["a..b", undefined],
    ["", 'invalid path: must not be empty: ""'],
    ["/etc/passwd", "invalid path: must be relative path: /etc/passwd"],
    ["..", "invalid path: must not contain '..': .."],
    ["../escape", "invalid path: must not contain '..': ../escape"],
    ["a/../../b", "invalid path: must not contain '..': a/../../b"],
    ["..data", "invalid path: must not start with '..': ..data"],
    ["..2024_01_01/x", "invalid path: must not start with '..': ..2024_01_01/x"],
    [`${"x".repeat(256)}`, "invalid path: filenames must be less than or equal to 255 characters"],
    [`${"a/".repeat(2049)}`, "invalid path: must be less than or equal to 4096 characters"],
  ];
  for (const [p, want] of cases) {
    it(`${JSON.stringify(p.length > 40 ? `${p.slice(0, 20)}…(${p.length})` : p)} → ${want ?? "accepted"}`, () => {
      assert.equal(validatePayloadPath(p), want);
    });
  }
});

describe("timestamped version directories are named as upstream's", () => {
  it("..YYYY_MM_DD_HH_MM_SS.<digits> in UTC", () => {
    assert.equal(timestampDirName(Date.UTC(2024, 0, 2, 3, 4, 5), 42), "..2024_01_02_03_04_05.42");
  });
});

describe("writeAtomic", () => {
  it("lays out a version directory, the ..data link and one user-visible link per top-level name", async () => {
    const dir = await freshDir();
    assert.equal(await writeAtomic(dir, payload({ "app.conf": "a=1", "sub/nested.txt": "deep" })), true);
    const version = await readlink(join(dir, "..data"));
    assert.match(version, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/);
    assert.equal(await readlink(join(dir, "app.conf")), "..data/app.conf");
    assert.equal(await readlink(join(dir, "sub")), "..data/sub");
    assert.equal(await readFile(join(dir, "sub/nested.txt"), "utf8"), "deep");
    assert.ok((await lstat(join(dir, version, "sub"))).isDirectory());
    assert.deepEqual((await readdir(dir)).sort(), ["..data", version, "app.conf", "sub"].sort());
  });

  it("gives files exactly the requested modes whatever the umask", async () => {
    const dir = await freshDir();
    const old = process.umask(0o077);
    try {
      await writeAtomic(dir, payload({ open: ["x", 0o644], private: ["y", 0o400], exec: ["z", 0o755] }));
    } finally {
      process.umask(old);
    }
    const mode = async (k: string) => (await stat(join(dir, k))).mode & 0o7777;
    assert.equal(await mode("open"), 0o644);
    assert.equal(await mode("private"), 0o400);
    assert.equal(await mode("exec"), 0o755);
    assert.equal((await stat(join(dir, await readlink(join(dir, "..data"))))).mode & 0o777, 0o755);
  });

  it("writes nothing when the payload is unchanged", async () => {
    const dir = await freshDir();
    await writeAtomic(dir, payload({ a: "1" }));
    const before = await readlink(join(dir, "..data"));
    assert.equal(await writeAtomic(dir, payload({ a: "1" })), false);
    assert.equal(await readlink(join(dir, "..data")), before);
  });

  it("a mode change alone publishes a new version", async () => {
    const dir = await freshDir();
    await writeAtomic(dir, payload({ a: ["1", 0o644] }));
    assert.equal(await writeAtomic(dir, payload({ a: ["1", 0o600] })), true);
    assert.equal((await stat(join(dir, "a"))).mode & 0o777, 0o600);
  });

  it("an update swaps ..data, drops removed keys and their links, and removes the old version", async () => {
    const dir = await freshDir();
    await writeAtomic(dir, payload({ keep: "v1", gone: "v1", "d/x": "v1", "d/y": "v1" }));
    const v1 = await readlink(join(dir, "..data"));
    await writeAtomic(dir, payload({ keep: "v2", added: "v2", "d/x": "v2" }));
    const v2 = await readlink(join(dir, "..data"));
    assert.notEqual(v1, v2);
    assert.equal(await readFile(join(dir, "keep"), "utf8"), "v2");
    assert.equal(await readFile(join(dir, "added"), "utf8"), "v2");
    await assert.rejects(lstat(join(dir, "gone")), { code: "ENOENT" });
    await assert.rejects(lstat(join(dir, "d/y")), { code: "ENOENT" });
    await assert.rejects(lstat(join(dir, v1)), { code: "ENOENT" });
    assert.deepEqual((await readdir(dir)).sort(), ["..data", v2, "added", "d", "keep"].sort());
  });

  it("a version a crash left half-written is removed by the next write", async () => {
    const dir = await freshDir();
    await writeAtomic(dir, payload({ a: "1" }));
    await mkdir(join(dir, "..2020_01_01_00_00_00.77"));
    await writeFile(join(dir, "..2020_01_01_00_00_00.77", "a"), "partial");
    assert.equal(await writeAtomic(dir, payload({ a: "1" })), false);
    assert.deepEqual((await readdir(dir)).sort(), [await readlink(join(dir, "..data")), "..data", "a"].sort());
  });

  it("refuses a payload with an escaping path before touching the directory", async () => {
    const dir = await freshDir();
    await assert.rejects(writeAtomic(dir, payload({ "../../etc/evil": "x" })), {
      message: "invalid path: must not contain '..': ../../etc/evil",
    });
    assert.deepEqual(await readdir(dir), []);
  });

  it("a reader never sees a half-written set: every version it reads is whole and of one generation", async () => {
    const dir = await freshDir();
    const keys = ["a", "b", "c"];
    const size = 256 * 1024;
    const gen = (g: number) => {
      const files: Record<string, string> = {};
      for (const k of keys) files[k] = `${k}:${g};`.repeat(size).slice(0, size);
      return payload(files);
    };
    await writeAtomic(dir, gen(0));
    const stop = new Int32Array(new SharedArrayBuffer(4));
    // a concurrent reader (its own thread): pins ..data once per round and reads every key through it
    const worker = new Worker(
      `
      const { workerData, parentPort } = require("node:worker_threads");
      const fs = require("node:fs");
      const { dir, keys, size, stop } = workerData;
      let whole = 0, mixed = 0, torn = 0, gone = 0, visible = 0;
      while (Atomics.load(stop, 0) === 0) {
        let fd;
        try { fd = fs.openSync(dir + "/..data", fs.constants.O_RDONLY | fs.constants.O_DIRECTORY); }
        catch { gone++; continue; }
        try {
          const texts = keys.map((k) => fs.readFileSync("/proc/self/fd/" + fd + "/" + k, "utf8"));
          if (texts.some((t) => t.length !== size)) torn++;
          else {
            const gens = new Set(texts.map((t) => t.slice(t.indexOf(":") + 1, t.indexOf(";"))));
            if (gens.size === 1) whole++; else mixed++;
          }
        } catch { gone++; }
        finally { fs.closeSync(fd); }
        try {
          const t = fs.readFileSync(dir + "/a", "utf8");
          if (t.length !== size) torn++; else visible++;
        } catch { gone++; }
      }
      parentPort.postMessage({ whole, mixed, torn, gone, visible });
      `,
      { eval: true, workerData: { dir, keys, size, stop } },
    );
    const result = new Promise<{ whole: number; mixed: number; torn: number; gone: number; visible: number }>(
      (resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      },
    );
    for (let g = 1; g <= 40; g++) await writeAtomic(dir, gen(g));
    Atomics.store(stop, 0, 1);
    const r = await result;
    await worker.terminate();
    assert.equal(r.mixed, 0, `reader saw files of different generations together: ${JSON.stringify(r)}`);
    assert.equal(r.torn, 0, `reader saw a partly written file: ${JSON.stringify(r)}`);
    assert.ok(r.whole > 0 && r.visible > 0, `reader read nothing: ${JSON.stringify(r)}`);
    assert.equal((await readFile(join(dir, "a"), "utf8")).slice(0, 5), "a:40;");
  });
});
