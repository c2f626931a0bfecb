import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QUANTITY_FORMAT_ERROR, Quantity, QuantityParseError } from "../../src/api/quantity.js";

describe("Quantity canonical form (upstream Quantity.String)", () => {
  const cases: Array<[string, string]> = [
    ["0", "0"],
    ["100m", "100m"],
    ["1000m", "1"],
    ["0.1", "100m"],
    ["0.5", "500m"],
    ["1.5", "1500m"],
    ["1Gi", "1Gi"],
    ["1.5Gi", "1536Mi"],
    ["1024Ki", "1Mi"],
    ["2048Mi", "2Gi"],
    ["512", "512"],
    ["2000", "2k"],
    ["2e3", "2e3"],
    ["1e3", "1e3"],
    ["1E3", "1E3"],
    ["10", "10"],
    ["100", "100"],
    ["1.1", "1100m"],
    ["0.0000000001", "1n"],
    ["1n", "1n"],
    ["1000n", "1u"],
    ["1u", "1u"],
    ["1k", "1k"],
    ["1000k", "1M"],
    ["1M", "1M"],
    ["128974848", "128974848"],
    ["129e6", "129e6"],
    ["123Mi", "123Mi"],
    ["0.5Ki", "512"],
    ["-1", "-1"],
    ["-100m", "-100m"],
    ["-1.5Gi", "-1536Mi"],
    ["+1", "+1"],
    ["01", "01"], // upstream keeps text it considers canonical, leading zero included
    ["0100m", "0100m"],
    ["01000m", "1"],
    ["000", "0"],
    ["0Ki", "0"],
    ["1.G", "1.G"],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} prints as ${JSON.stringify(want)}`, () => {
      assert.equal(Quantity.parse(input).toString(), want);
    });
  }
});

describe("Quantity parse errors carry upstream messages", () => {
  const cases: Array<[string, string]> = [
    ["", QUANTITY_FORMAT_ERROR],
    ["abc", QUANTITY_FORMAT_ERROR],
    ["1 Gi", QUANTITY_FORMAT_ERROR],
    ["1Gix", QUANTITY_FORMAT_ERROR],
    ["1Gb", QUANTITY_FORMAT_ERROR],
    ["1ki", "unable to parse quantity's suffix"],
    ["1eK", "unable to parse quantity's suffix"],
  ];
  for (const [input, message] of cases) {
    it(`${JSON.stringify(input)} is rejected with ${JSON.stringify(message)}`, () => {
      assert.throws(
        () => Quantity.parse(input),
        (e: unknown) => e instanceof QuantityParseError && e.message === message,
      );
    });
  }
  it("the format error quotes the upstream regular expression", () => {
    assert.equal(
      QUANTITY_FORMAT_ERROR,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });
});

describe("Quantity arithmetic and comparison", () => {
  const q = Quantity.parse;
  it("compares across formats by value", () => {
    assert.equal(q("1Gi").cmp(q("1G")), 1);
    assert.equal(q("1000m").cmp(q("1")), 0);
    assert.equal(q("500m").cmp(q("1")), -1);
  });
  it("adds and keeps the left operand's format", () => {
    assert.equal(q("1Gi").add(q("512Mi")).toString(), "1536Mi");
    assert.equal(q("100m").add(q("900m")).toString(), "1");
  });
  it("a zero left operand takes the right operand's format", () => {
    assert.equal(Quantity.fromInt(0).add(q("1Gi")).toString(), "1Gi");
  });
  it("subtracts", () => {
    assert.equal(q("1").sub(q("250m")).toString(), "750m");
    assert.equal(q("1Gi").sub(q("2Gi")).toString(), "-1Gi");
  });
  it("milliValue and value round up away from zero", () => {
    assert.equal(q("1.5").milliValue(), 1500n);
    assert.equal(q("1n").milliValue(), 1n);
    assert.equal(q("1.2").value(), 2n);
    assert.equal(q("-1.2").value(), -2n);
    assert.equal(q("1Ki").value(), 1024n);
  });
  it("serialises to JSON as its canonical string", () => {
    assert.equal(JSON.stringify({ cpu: q("1000m") }), '{"cpu":"1"}');
  });
});
