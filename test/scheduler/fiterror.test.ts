/** The FailedScheduling message, as upstream's FitError.Error() words it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitErrorMessage, newDiagnosis, reasonHistogram, truncateMessage } from "../../src/scheduler/fiterror.js";
import { type Status, status } from "../../src/scheduler/types.js";

function diagnosis(nodes: Record<string, Status>, extra: Partial<ReturnType<typeof newDiagnosis>> = {}) {
  const d = newDiagnosis();
  for (const [n, s] of Object.entries(nodes)) d.nodeToStatus.set(n, s);
  return Object.assign(d, extra);
}

describe("FitError message", () => {
  const cases: Array<{ name: string; all: number; d: ReturnType<typeof newDiagnosis>; want: string }> = [
    {
      name: "counts each reason across nodes, with the preemption outcome after it",
      all: 2,
      d: diagnosis(
        {
          a: status("Unschedulable", "NodeResourcesFit", "Insufficient cpu"),
          b: status("Unschedulable", "NodeResourcesFit", "Insufficient cpu"),
        },
        { postFilterMsg: "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod." },
      ),
      want: "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    },
    {
      name: "an untolerated control-plane taint",
      all: 1,
      d: diagnosis(
        {
          cp: status(
            "UnschedulableAndUnresolvable",
            "TaintToleration",
            "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
          ),
        },
        { postFilterMsg: "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling." },
      ),
      want: "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    },
    {
      name: "reasons are sorted as strings (Go's sort.Strings), several per node counted separately",
      all: 12,
      d: diagnosis({
        ...Object.fromEntries(
          Array.from({ length: 10 }, (_, i) => [
            `n${i}`,
            status("Unschedulable", "NodeResourcesFit", "Insufficient memory"),
          ]),
        ),
        x: status("Unschedulable", "NodeResourcesFit", "Insufficient cpu", "Insufficient memory"),
        y: status("UnschedulableAndUnresolvable", "NodeAffinity", "node(s) didn't match Pod's node affinity/selector"),
      }),
      want: "0/12 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, 11 Insufficient memory.",
    },
    {
      name: "a PreFilter rejection replaces the per-node reasons",
      all: 3,
      d: diagnosis(
        {},
        {
          preFilterMsg: "pod has unbound immediate PersistentVolumeClaims",
          absentStatus: status(
            "UnschedulableAndUnresolvable",
            "VolumeBinding",
            "pod has unbound immediate PersistentVolumeClaims",
          ),
          postFilterMsg: "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        },
      ),
      want: "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    },
    {
      name: "nodes not listed take the shared status",
      all: 5,
      d: diagnosis(
        { a: status("Unschedulable", "NodeResourcesFit", "Insufficient cpu") },
        { absentStatus: status("UnschedulableAndUnresolvable", "", "node(s) didn't satisfy plugin(s) [NodeAffinity]") },
      ),
      want: "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    },
    {
      name: "a non-preempting pod says so",
      all: 1,
      d: diagnosis(
        { a: status("Unschedulable", "NodeResourcesFit", "Insufficient memory") },
        { postFilterMsg: "preemption: not eligible due to preemptionPolicy=Never." },
      ),
      want: "0/1 nodes are available: 1 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never.",
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(fitErrorMessage(c.all, c.d), c.want));
  }

  it("the histogram alone", () => {
    const d = diagnosis({
      a: status("Unschedulable", "NodePorts", "node(s) didn't have free ports for the requested pod ports"),
    });
    assert.deepEqual(reasonHistogram(d, 1), ["1 node(s) didn't have free ports for the requested pod ports"]);
  });

  it("event notes longer than 1024 characters end in ' ...'", () => {
    const long = "x".repeat(2000);
    const t = truncateMessage(long);
    assert.equal(t.length, 1024);
    assert.ok(t.endsWith(" ..."));
    assert.equal(truncateMessage("short"), "short");
  });
});
