/** `k8ts server --controllers`: kube-controller-manager's selection rule. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { controllerEnabled } from "../../src/cli/server.js";

describe("--controllers", () => {
  const cases: Array<[string[], string, boolean]> = [
    [["*"], "deployment", true],
    [["*", "-deployment"], "deployment", false],
    [["*", "-deployment"], "job", true],
    [["job"], "job", true],
    [["job"], "deployment", false],
    [["-job", "job"], "job", false],
  ];
  for (const [list, name, want] of cases) {
    it(`${list.join(",")} → ${name} ${want ? "runs" : "does not run"}`, () =>
      assert.equal(controllerEnabled(name, list), want));
  }
});
