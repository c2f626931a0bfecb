/** The runtime conformance suite on the process runtime (host processes: no mounts by design). */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessRuntime } from "../../../src/kubelet/runtime/process/index.js";
import { runtimeConformance } from "./conformance.js";

const state = join(mkdtempSync(join(tmpdir(), "k8ts-process-rt-")), "state");

runtimeConformance("process", {
  make: async () => new ProcessRuntime({ stateDir: state, nodeIP: "127.0.0.1" }),
  capabilities: { mounts: false },
});
