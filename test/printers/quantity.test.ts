import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatQuantity } from "../../src/api/printers/index.js";

describe("formatQuantity prints resource.Quantity in canonical form", () => {
  const cases: Array<[unknown, string]> = [
    [undefined, "0"],
    ["0", "0"],
    ["100m", "100m"],
    ["1000m", "1"],
    ["0.5", "500m"],
    ["0.1", "100m"],
    ["1500", "1500"],
    ["2000", "2k"],
    ["1.5k", "1500"],
    ["10Gi", "10Gi"],
    ["1024Mi", "1Gi"],
    ["0.5Gi", "512Mi"],
    ["1.5Gi", "1536Mi"],
    ["512", "512"],
    ["1Ki", "1Ki"],
    ["100Ki", "100Ki"],
    ["1e3", "1e3"],
    ["1E6", "1e6"],
    ["128974848", "128974848"],
    ["129e6", "129e6"],
    ["123Mi", "123Mi"],
    ["1n", "1n"],
    ["0.0000000001", "1n"],
    [4, "4"],
    ["-1", "-1"],
  ];
  for (const [input, want] of cases) it(`${String(input)} → ${want}`, () => assert.equal(formatQuantity(input), want));
});
