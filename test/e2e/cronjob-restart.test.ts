/**
 * A CronJob across a server restart: the run missed while the server was down is started once
 * the server is back (it is within startingDeadlineSeconds), and no scheduled minute gets two Jobs.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, until } from "./support.js";

const yaml = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 10
  failedJobsHistoryLimit: 10
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: c
            image: busybox
          restartPolicy: OnFailure
`;

const jobNames = async (c: TestCluster): Promise<string[]> => {
  const r = await c.kubectl(["get", "jobs", "-o", "jsonpath={.items[*].metadata.name}"]);
  return r.stdout.split(" ").filter((n) => n.startsWith("tick-"));
};

describe("CronJob across a server restart", { skip: kubectlSkip() }, () => {
  let c: TestCluster | undefined;
  after(async () => {
    await c?.stop();
  });

  it("starts the run missed while down, once, and never two Jobs for one minute", { timeout: 240_000 }, async () => {
    c = await startCluster();
    assert.equal((await c.kubectl(["create", "-f", "-"], { stdin: yaml })).code, 0);
    const first = await until(
      "the first run",
      async () => ((await jobNames(c!)).length > 0 ? jobNames(c!) : undefined),
      75_000,
    );
    const firstMinute = Number(first[0]!.slice("tick-".length));
    const dataDir = c.dataDir;
    await c.stop({ keepData: true });
    c = undefined;
    // down across the next minute boundary
    const wait = (firstMinute + 2) * 60_000 + 3_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    c = await startCluster({ dataDir });
    const after = await until(
      "the missed run",
      async () => {
        const names = await jobNames(c!);
        return names.some((n) => Number(n.slice("tick-".length)) >= firstMinute + 2) ? names : undefined;
      },
      30_000,
    );
    const minutes = after.map((n) => Number(n.slice("tick-".length)));
    assert.equal(new Set(minutes).size, minutes.length, `a minute ran twice: ${after.join(" ")}`);
    // only the most recent missed time runs (minute +2), not every minute the server was down (+1)
    assert.ok(minutes.includes(firstMinute + 2), after.join(" "));
    assert.ok(!minutes.includes(firstMinute + 1), after.join(" "));
    assert.ok(
      minutes.every((m) => m >= firstMinute),
      after.join(" "),
    );
  });
});
