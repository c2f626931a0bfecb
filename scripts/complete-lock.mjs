// Adds the platform-specific optional packages (e.g. @biomejs/cli-win32-x64) that npm leaves out of
// package-lock.json when the registry it installs from does not carry them; without those entries
// `npm ci` refuses the lock file. Each entry gets the os/cpu/libc its name says, so npm skips it here.
// Run after `npm install` changes the lock: node scripts/complete-lock.mjs
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const pkgs = lock.packages;
const platform = /-(android|darwin|linux|win32|freebsd)-(arm64|x64|ia32|arm)(-(musl|gnu))?$/;
let added = 0;
for (const entry of Object.values(pkgs)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    const m = platform.exec(dep);
    if (pkgs[depKey] || !m) continue;
    const e = { version, cpu: [m[2]], dev: entry.dev || undefined, optional: true, os: [m[1]] };
    if (m[1] === "linux") e.libc = [m[4] === "musl" ? "musl" : "glibc"];
    pkgs[depKey] = e;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lock: added ${added} platform entries`);
