/**
 * The sim runtime: its stages (as data) on table-driven cases, and the conformance suite's
 * sandbox cases (it runs no commands by design).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SimRuntime } from "../../../src/kubelet/runtime/sim/index.js";
import { defaultStages, nextStage, parseDuration } from "../../../src/kubelet/runtime/sim/stages.js";
import { runtimeConformance, waitFor } from "./conformance.js";

runtimeConformance("sim", {
  make: async () => new SimRuntime({ writeLogs: true }),
  capabilities: { commands: false, adoption: false },
});

describe("sim stages", () => {
  const cases: Array<[string, string, Record<string, string>, string | undefined, number, number]> = [
    ["a created container runs at once", "created", {}, "container-start", 0, 0],
    ["a running container without a duration keeps running", "running", {}, undefined, 0, 0],
    [
      "k8ts.io/sim-duration ends it after that long with exit 0",
      "running",
      { "k8ts.io/sim-duration": "1m30s" },
      "container-complete",
      90_000,
      0,
    ],
    [
      "a per-container duration wins over the pod's",
      "running",
      { "k8ts.io/sim-duration": "10s", "k8ts.io/sim-duration.c": "500ms" },
      "container-complete",
      500,
      0,
    ],
    [
      "k8ts.io/sim-exit-code sets the exit code",
      "running",
      { "k8ts.io/sim-duration": "1s", "k8ts.io/sim-exit-code": "2" },
      "container-complete",
      1000,
      2,
    ],
    ["a malformed duration selects nothing", "running", { "k8ts.io/sim-duration": "soon" }, undefined, 0, 0],
  ];
  for (const [name, state, ann, stage, delay, exit] of cases) {
    it(name, () => {
      const n = nextStage(defaultStages, state as "created" | "running", ann, "c");
      assert.equal(n?.stage.name, stage);
      if (n) {
        assert.equal(n.delayMs, delay);
        assert.equal(n.exitCode, exit);
      }
    });
  }
  it("parses Go durations", () => {
    assert.equal(parseDuration("1h2m3s"), 3_723_000);
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("3x"), undefined);
  });

  it("a simulated container exits after its duration, so Jobs complete", async () => {
    const rt = new SimRuntime();
    await rt.init();
    await rt.runPodSandbox({
      podUid: "u1",
      namespace: "d",
      name: "p",
      hostname: "p",
      hostNetwork: false,
      podDir: "/nonexistent",
      labels: {},
      annotations: {},
    });
    const id = await rt.createContainer("u1", {
      name: "c",
      attempt: 0,
      image: "perl",
      argv: [],
      env: [],
      mounts: [],
      resources: { cpuRequestMilli: 0, cpuLimitMilli: 0, memoryLimitBytes: 0 },
      stdin: false,
      stdinOnce: false,
      tty: false,
      logPath: "/nonexistent/log",
      labels: {},
      podAnnotations: { "k8ts.io/sim-duration": "200ms", "k8ts.io/sim-exit-code": "0" },
    });
    await rt.startContainer(id);
    assert.equal((await rt.containerStatus(id))?.state, "running");
    const done = await waitFor("exit", async () => {
      const s = await rt.containerStatus(id);
      return s?.state === "exited" ? s : undefined;
    });
    assert.equal(done.exitCode, 0);
    assert.equal(done.reason, "Completed");
    await rt.close();
  });
});

describe("sim pod IPs", () => {
  it("come from the node's pod CIDR once it is assigned, read at each new sandbox", async () => {
    let cidr: string | undefined;
    const rt = new SimRuntime({ podCIDR: () => cidr, writeLogs: false });
    await rt.init();
    const sandbox = (podUid: string) =>
      rt.runPodSandbox({
        podUid,
        namespace: "d",
        name: podUid,
        hostname: podUid,
        hostNetwork: false,
        podDir: "/nonexistent",
        labels: {},
        annotations: {},
      });
    assert.match((await sandbox("before")).ip, /^10\.250\./);
    cidr = "10.244.7.0/24";
    assert.match((await sandbox("after")).ip, /^10\.244\.7\.\d+$/);
    assert.match((await sandbox("before")).ip, /^10\.250\./, "an existing sandbox keeps its IP");
    await rt.close();
  });
});
