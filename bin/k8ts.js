#!/usr/bin/env node
// The k8ts command: runs the compiled CLI (npm ci builds it through the prepare script).
import { main } from "../dist/src/cli/main.js";

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`k8ts: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
