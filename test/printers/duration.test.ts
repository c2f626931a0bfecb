import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { humanDuration, shortHumanDuration } from "../../src/api/printers/index.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

describe("humanDuration (Go duration.HumanDuration)", () => {
  const cases: Array<[string, number, string]> = [
    ["more than a second in the future is invalid", -2 * S, "<invalid>"],
    ["a second of clock skew reads as now", -1 * S, "0s"],
    ["half a second of skew reads as now", -500, "0s"],
    ["zero", 0, "0s"],
    ["seconds under two minutes stay seconds", 119 * S, "119s"],
    ["two minutes", 2 * M, "2m"],
    ["minutes and seconds under ten minutes", 5 * M + 30 * S, "5m30s"],
    ["ten minutes drop the seconds", 10 * M + 30 * S, "10m"],
    ["under three hours stays in minutes", 179 * M, "179m"],
    ["three hours", 3 * H, "3h"],
    ["hours and minutes under eight hours", 7 * H + 59 * M, "7h59m"],
    ["eight hours drop the minutes", 8 * H + 30 * M, "8h"],
    ["under two days stays in hours", 47 * H, "47h"],
    ["days and hours under eight days", 2 * D + 5 * H, "2d5h"],
    ["whole days", 3 * D, "3d"],
    ["eight days drop the hours", 8 * D + 5 * H, "8d"],
    ["under two years stays in days", 400 * D, "400d"],
    ["years and days under eight years", 3 * Y + 10 * D, "3y10d"],
    ["whole years", 2 * Y, "2y"],
    ["eight years and more", 9 * Y + 100 * D, "9y"],
  ];
  for (const [name, ms, want] of cases) it(name, () => assert.equal(humanDuration(ms), want));
});

describe("shortHumanDuration (Go duration.ShortHumanDuration)", () => {
  const cases: Array<[number, string]> = [
    [-2 * S, "<invalid>"],
    [-1 * S, "0s"],
    [59 * S, "59s"],
    [90 * S, "1m"],
    [59 * M, "59m"],
    [5 * H + 59 * M, "5h"],
    [3 * D + 5 * H, "3d"],
    [400 * D, "1y"],
  ];
  for (const [ms, want] of cases) it(`${ms}ms → ${want}`, () => assert.equal(shortHumanDuration(ms), want));
});
