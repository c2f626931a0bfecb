// Runs every compiled test file under dist/test with node's test runner (Node 20 has no globs).
// The TAP stream is passed through as it comes; when it ends, every failing test is listed again with
// its error, then the runner's summary is repeated, so the tail of a CI log names what failed and still
// ends with the summary line.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = find("dist/test", []).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
files.sort();
const child = spawn(process.execPath, ["--test", "--test-concurrency=1", ...files], {
  stdio: ["inherit", "pipe", "inherit"],
});

const summary = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;
const failures = []; // { path: string[], lines: string[] }
const names = []; // subtest names by depth
let current = null; // the failure whose YAML block is being read
let currentIndent = 0;
const tail = [];

const lines = createInterface({ input: child.stdout });
lines.on("line", (line) => {
  process.stdout.write(`${line}\n`);
  if (summary.test(line)) tail.push(line);
  const indent = line.length - line.trimStart().length;
  const text = line.trimStart();
  if (current !== null) {
    if (indent > currentIndent || text === "---") {
      current.lines.push(line.slice(currentIndent));
      return;
    }
    current = null;
  }
  const depth = Math.floor(indent / 4);
  const sub = /^# Subtest: (.*)$/.exec(text);
  if (sub) {
    names[depth] = sub[1];
    names.length = depth + 1;
    return;
  }
  const bad = /^not ok \d+ - (.*?)(\s+#.*)?$/.exec(text);
  if (bad) {
    const path = names.slice(0, depth).concat(bad[1]);
    // A suite fails when a child did; list the innermost failures only.
    const last = failures.at(-1);
    if (last && last.path.length > path.length && path.every((p, i) => last.path[i] === p)) return;
    current = { path, lines: [] };
    currentIndent = indent;
    failures.push(current);
  }
});

child.on("close", (code, signal) => {
  if (failures.length > 0) {
    process.stdout.write(`# ---- ${failures.length} failing test(s) ----\n`);
    for (const f of failures) {
      process.stdout.write(`# FAIL ${f.path.join(" > ")}\n`);
      for (const l of f.lines.slice(0, 40)) process.stdout.write(`#   ${l}\n`);
    }
    for (const l of tail) process.stdout.write(`${l}\n`);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
