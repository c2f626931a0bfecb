/** hostPath types: upstream's checks and creation modes, every type passing and failing. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setUpHostPath } from "../../../src/kubelet/volumes/hostpath.js";
import { cleanup, isRoot, tempRoot } from "./helpers.js";

let root = "";
let server: Server | undefined;
const p = (name: string) => join(root, name);

before(async () => {
  root = await tempRoot("hostpath");
  await mkdir(p("dir"));
  await writeFile(p("file"), "x");
  server = createServer();
  await new Promise<void>((resolve) => server!.listen(p("sock"), resolve));
  if (isRoot) {
    execFileSync("mknod", [p("chr"), "c", "1", "3"]);
    execFileSync("mknod", [p("blk"), "b", "7", "0"]);
  }
});

after(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await cleanup(root);
});

describe("hostPath type checks (upstream checkTypeInternal)", () => {
  const checks: Array<{ type: string; path: string; fails?: string; needsRoot?: boolean }> = [
    { type: "", path: "missing" },
    { type: "", path: "file" },
    { type: "Directory", path: "dir" },
    { type: "Directory", path: "file", fails: "is not a directory" },
    { type: "Directory", path: "missing", fails: "is not a directory" },
    { type: "File", path: "file" },
    { type: "File", path: "dir", fails: "is not a file" },
    { type: "File", path: "missing", fails: "is not a file" },
    { type: "Socket", path: "sock" },
    { type: "Socket", path: "file", fails: "is not a socket file" },
    { type: "CharDevice", path: "chr", needsRoot: true },
    { type: "CharDevice", path: "blk", fails: "is not a character device", needsRoot: true },
    { type: "CharDevice", path: "file", fails: "is not a character device" },
    { type: "BlockDevice", path: "blk", needsRoot: true },
    { type: "BlockDevice", path: "chr", fails: "is not a block device", needsRoot: true },
    { type: "BlockDevice", path: "dir", fails: "is not a block device" },
    { type: "DirectoryOrCreate", path: "dir" },
    { type: "DirectoryOrCreate", path: "file", fails: "is not a directory" },
    { type: "FileOrCreate", path: "file" },
    { type: "FileOrCreate", path: "dir", fails: "is not a file" },
  ];
  for (const c of checks) {
    const title = `${c.type || '""'} on ${c.path}: ${c.fails ? `fails (${c.fails})` : "passes"}`;
    it(title, { skip: c.needsRoot && !isRoot ? "device nodes need root to create" : false }, async () => {
      const path = p(c.path);
      if (c.fails) {
        await assert.rejects(setUpHostPath(path, c.type), {
          message: `hostPath type check failed: ${path} ${c.fails}`,
        });
      } else {
        await setUpHostPath(path, c.type);
      }
    });
  }
});

describe("hostPath creation (DirectoryOrCreate 0755 with parents, FileOrCreate 0644 in an existing parent)", () => {
  it("DirectoryOrCreate creates the directory and its parents 0755, whatever the umask", async () => {
    const old = process.umask(0o077);
    try {
      assert.equal(await setUpHostPath(p("made/a/b"), "DirectoryOrCreate"), "Directory");
    } finally {
      process.umask(old);
    }
    for (const d of ["made", "made/a", "made/a/b"]) assert.equal((await stat(p(d))).mode & 0o7777, 0o755, d);
  });

  it("FileOrCreate creates an empty 0644 file", async () => {
    const old = process.umask(0o077);
    try {
      assert.equal(await setUpHostPath(p("new.txt"), "FileOrCreate"), "File");
    } finally {
      process.umask(old);
    }
    const st = await stat(p("new.txt"));
    assert.equal(st.mode & 0o7777, 0o644);
    assert.equal(st.size, 0);
  });

  it("FileOrCreate does not create a missing parent (as upstream)", async () => {
    const path = p("nodir/new.txt");
    await assert.rejects(setUpHostPath(path, "FileOrCreate"), { code: "ENOENT" });
    await assert.rejects(stat(p("nodir")), { code: "ENOENT" });
  });

  it("a path with '..' is refused before anything is checked", async () => {
    await assert.rejects(setUpHostPath("/var/../etc", "Directory"), {
      message: "invalid HostPath `/var/../etc`: must not contain '..'",
    });
  });

  it("an unknown type is refused", async () => {
    await assert.rejects(setUpHostPath(p("dir"), "Pipe"), { message: "Pipe is an invalid volume type" });
  });
});
