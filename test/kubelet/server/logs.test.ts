import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  type LogReadOptions,
  parseCriRecord,
  parsePodLogOptions,
  parseTimestamp,
  readContainerLog,
  sinceNanos,
} from "../../../src/kubelet/logs.js";
import { CriLogWriter } from "../../../src/kubelet/runtime/crilog.js";

const dir = mkdtempSync(join(tmpdir(), "k8ts-logs-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function file(lines: string[]): string {
  const p = join(dir, `${++n}.log`);
  writeFileSync(p, lines.map((l) => `${l}\n`).join(""));
  return p;
}

async function read(path: string, opts: Partial<LogReadOptions> = {}): Promise<string> {
  let out = "";
  await readContainerLog(path, { follow: false, timestamps: false, ...opts }, (d) => {
    out += d.toString();
  });
  return out;
}

const T = (s: number, frac = "000000001") => `2024-05-01T10:00:${String(s).padStart(2, "0")}.${frac}Z`;
const basic = () =>
  file([
    `${T(1)} stdout F one`,
    `${T(2)} stderr F two`,
    `${T(3)} stdout P thr`,
    `${T(4)} stdout P e`,
    `${T(5)} stdout F e-three`,
    `${T(6)} stdout F four`,
  ]);

describe("CRI log records", () => {
  it("a full record's text gets its newline, a partial one's none", () => {
    assert.deepEqual(parseCriRecord(Buffer.from(`${T(1)} stdout F hi\n`))?.content, Buffer.from("hi\n"));
    assert.deepEqual(parseCriRecord(Buffer.from(`${T(1)} stderr P hi\n`))?.content, Buffer.from("hi"));
    assert.equal(parseCriRecord(Buffer.from(`${T(1)} stderr P hi\n`))?.stream, "stderr");
    assert.equal(parseCriRecord(Buffer.from(`${T(1)} stdout F:x hi\n`))?.partial, false);
    assert.equal(parseCriRecord(Buffer.from(`${T(1)} stdout F \n`))?.content.toString(), "\n");
    // no delimiter after the tag: upstream's "log tag is not found"
    assert.equal(parseCriRecord(Buffer.from(`${T(1)} stdout F\n`)), undefined);
    assert.equal(parseCriRecord(Buffer.from("not a record\n")), undefined);
    assert.equal(parseCriRecord(Buffer.from(`${T(1)} stdin F x\n`)), undefined);
  });

  it("timestamps come out with nine fraction digits and their zone", () => {
    assert.equal(parseTimestamp("2024-05-01T10:00:01.5Z")?.fixed, "2024-05-01T10:00:01.500000000Z");
    assert.equal(parseTimestamp("2024-05-01T10:00:01Z")?.fixed, "2024-05-01T10:00:01.000000000Z");
    assert.equal(parseTimestamp("2024-05-01T12:00:01.123+02:00")?.ns, parseTimestamp("2024-05-01T10:00:01.123Z")?.ns);
    assert.equal(parseTimestamp("yesterday"), undefined);
  });
});

describe("reading a container log", () => {
  it("everything, partial records joined into their line", async () => {
    assert.equal(await read(basic()), "one\ntwo\nthree-three\nfour\n");
  });

  it("tailLines counts lines, a line made of partial records once", async () => {
    assert.equal(await read(basic(), { tailLines: 2 }), "three-three\nfour\n");
    assert.equal(await read(basic(), { tailLines: 1 }), "four\n");
    assert.equal(await read(basic(), { tailLines: 0 }), "");
    assert.equal(await read(basic(), { tailLines: 100 }), "one\ntwo\nthree-three\nfour\n");
  });

  it("since skips older lines, judged by a line's first record", async () => {
    const since = parseTimestamp(T(3))!.ns;
    assert.equal(await read(basic(), { sinceNs: since }), "three-three\nfour\n");
    assert.equal(await read(basic(), { sinceNs: since + 1n }), "four\n");
  });

  it("timestamps prefix each line once, with its first record's time", async () => {
    assert.equal(await read(basic(), { timestamps: true, tailLines: 2 }), `${T(3)} three-three\n${T(6)} four\n`);
  });

  it("limitBytes cuts the output, mid-line if need be", async () => {
    assert.equal(await read(basic(), { limitBytes: 6 }), "one\ntw");
    assert.equal(await read(basic(), { limitBytes: 4 }), "one\n");
  });

  it("a line the runtime has not finished writing is shown without follow", async () => {
    const p = file([`${T(1)} stdout F done`]);
    appendFileSync(p, `${T(2)} stdout F unfinished`);
    assert.equal(await read(p), "done\nunfinished\n");
  });

  it("lines that are not CRI records are skipped", async () => {
    assert.equal(await read(file(["garbage", `${T(1)} stdout F ok`])), "ok\n");
  });

  it("a missing file is an error naming it", async () => {
    await assert.rejects(read(join(dir, "nope.log")), /failed to open log file/);
  });

  it("follow reads what is written and ends once the container stops and the file is drained", async () => {
    const p = join(dir, "follow.log");
    const w = new CriLogWriter(p);
    w.write("stdout", Buffer.from("first\n"));
    let running = true;
    const chunks: string[] = [];
    const done = readContainerLog(p, { follow: true, timestamps: false, isRunning: () => running, pollMs: 50 }, (d) => {
      chunks.push(d.toString());
    });
    await new Promise((r) => setTimeout(r, 120));
    w.write("stdout", Buffer.from("second\npartial "));
    await new Promise((r) => setTimeout(r, 120));
    w.write("stdout", Buffer.from("line\n"));
    w.write("stderr", Buffer.from("last words\n"));
    running = false;
    w.close();
    await done;
    assert.equal(chunks.join(""), "first\nsecond\npartial line\nlast words\n");
  });

  it("follow with tailLines starts at the tail and keeps going", async () => {
    const p = join(dir, "follow-tail.log");
    const w = new CriLogWriter(p);
    w.write("stdout", Buffer.from("a\nb\nc\n"));
    let running = true;
    let out = "";
    const done = readContainerLog(
      p,
      { follow: true, timestamps: false, tailLines: 1, isRunning: () => running, pollMs: 30 },
      (d) => {
        out += d.toString();
      },
    );
    await new Promise((r) => setTimeout(r, 60));
    w.write("stdout", Buffer.from("d\n"));
    running = false;
    w.close();
    await done;
    assert.equal(out, "c\nd\n");
  });

  it("an aborted follow ends at once", async () => {
    const p = file([`${T(1)} stdout F x`]);
    const ac = new AbortController();
    const done = readContainerLog(
      p,
      { follow: true, timestamps: false, isRunning: () => true, signal: ac.signal, pollMs: 10_000 },
      () => undefined,
    );
    setTimeout(() => ac.abort(), 50);
    await done;
  });
});

describe("PodLogOptions from a query", () => {
  const q = (s: string) => parsePodLogOptions(new URLSearchParams(s));
  it("reads each option", () =>
    assert.deepEqual(q("container=c&follow=true&previous=1&timestamps=true&tailLines=5&limitBytes=10&sinceSeconds=3"), {
      container: "c",
      follow: true,
      previous: true,
      timestamps: true,
      tailLines: 5,
      limitBytes: 10,
      sinceSeconds: 3,
      insecureSkipTLSVerifyBackend: false,
    }));
  it("the legacy tail parameter, 'all' meaning no limit", () => {
    assert.equal((q("tail=7") as { tailLines?: number }).tailLines, 7);
    assert.equal((q("tail=all&tailLines=3") as { tailLines?: number }).tailLines, undefined);
  });
  const invalid: Array<[string, string]> = [
    ["tailLines=-1", "Invalid value: -1: must be greater than or equal to 0"],
    ["limitBytes=0", "Invalid value: 0: must be greater than 0"],
    ["sinceSeconds=0", "Invalid value: 0: must be greater than 0"],
    [
      "sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z",
      "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
    ],
  ];
  for (const [query, msg] of invalid) {
    it(`${query} is invalid: ${msg}`, () => {
      const r = q(query);
      assert.ok("kind" in r && r.kind === "invalid");
      assert.equal(r.causes[0]?.message, msg);
    });
  }
  it("values that do not parse are decode errors", () => {
    for (const bad of ["tailLines=x", "follow=maybe", "sinceTime=yesterday"]) {
      const r = q(bad);
      assert.ok("kind" in r && r.kind === "decode", bad);
    }
  });
  it("since is the later of sinceSeconds and sinceTime", () => {
    const now = Date.parse("2024-05-01T10:00:00Z");
    const opts = q("sinceSeconds=60");
    assert.ok(!("kind" in opts));
    assert.equal(sinceNanos(opts, now), BigInt(now - 60_000) * 1_000_000n);
  });
});
