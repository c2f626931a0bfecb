import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatDuration,
  formatMicroTime,
  formatTime,
  parseDuration,
  parseTime,
} from "../../src/api/protobuf/wellknown.js";

const S = 1_000_000_000n;

describe("metav1.Duration JSON form is Go's time.Duration string", () => {
  const cases: [bigint, string][] = [
    [0n, "0s"],
    [1n, "1ns"],
    [1_500n, "1.5µs"],
    [500_000_000n, "500ms"],
    [1_500_000_000n, "1.5s"],
    [90n * S, "1m30s"],
    [3600n * S, "1h0m0s"],
    [72n * 3600n * S + 3n * 60n * S + S / 2n, "72h3m0.5s"],
    [-5n * S, "-5s"],
  ];
  for (const [ns, text] of cases) {
    it(`${ns}ns formats as "${text}" and parses back`, () => {
      assert.equal(formatDuration(ns), text);
      assert.equal(parseDuration(text), ns);
    });
  }

  it("parses forms Go accepts but never prints", () => {
    assert.equal(parseDuration("1h30m"), 5400n * S);
    assert.equal(parseDuration("1.5h"), 5400n * S);
    assert.equal(parseDuration("300us"), 300_000n);
    assert.equal(parseDuration("0"), 0n);
  });

  it("rejects what Go rejects", () => {
    for (const bad of ["", "1", "1d", "h", "1.s.s", "abc"]) assert.equal(parseDuration(bad), undefined, bad);
  });
});

describe("metav1.Time and MicroTime JSON forms", () => {
  it("Time is RFC 3339 UTC with seconds precision", () => {
    assert.equal(formatTime(1_700_000_000n), "2023-11-14T22:13:20Z");
  });

  it("MicroTime always has six fractional digits", () => {
    assert.equal(formatMicroTime(1_700_000_000n, 0), "2023-11-14T22:13:20.000000Z");
    assert.equal(formatMicroTime(1_700_000_000n, 123_456_789), "2023-11-14T22:13:20.123456Z");
  });

  it("parses offsets and fractions into UTC seconds and nanos", () => {
    assert.deepEqual(parseTime("2023-11-14T23:13:20+01:00"), { seconds: 1_700_000_000n, nanos: 0 });
    assert.deepEqual(parseTime("2023-11-14T22:13:20.5Z"), { seconds: 1_700_000_000n, nanos: 500_000_000 });
    assert.equal(parseTime("yesterday"), undefined);
  });
});
