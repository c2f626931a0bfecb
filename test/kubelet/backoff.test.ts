import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Backoff, goDuration } from "../../src/kubelet/backoff.js";

/** A back-off on a hand-moved clock. */
function clocked(opts: { initialMs?: number; maxMs?: number } = {}) {
  let t = 1_000_000;
  const b = new Backoff({ ...opts, now: () => t });
  return {
    b,
    at: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** Crashes the container `n` times, each right after its restart; returns the delays seen. */
function crashLoop(c: ReturnType<typeof clocked>, key: string, n: number): number[] {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const finishedAt = c.at();
    const wait = c.b.remaining(key, finishedAt);
    delays.push(wait);
    c.advance(wait);
    c.b.next(key, finishedAt);
  }
  return delays;
}

describe("crash-loop back-off", () => {
  it("restarts the first time at once, then waits 10s, 20s, 40s … capped at 5 minutes", () => {
    const c = clocked();
    assert.deepEqual(
      crashLoop(c, "uid/main", 9),
      [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000],
    );
  });

  it("reports the delay in force, 0 for an unknown container", () => {
    const c = clocked();
    assert.equal(c.b.get("uid/main"), 0);
    crashLoop(c, "uid/main", 3);
    assert.equal(c.b.get("uid/main"), 40_000);
  });

  it("counts the wait from the exit, not from when the kubelet looks", () => {
    const c = clocked();
    crashLoop(c, "k", 2); // next delay 20s
    const finishedAt = c.at();
    c.advance(15_000);
    assert.equal(c.b.remaining("k", finishedAt), 5_000);
    c.advance(5_000);
    assert.equal(c.b.remaining("k", finishedAt), 0);
  });

  it("forgets a container that ran fine for 10 minutes: the next crash restarts at once and starts over", () => {
    const c = clocked();
    crashLoop(c, "k", 5); // next delay 160s
    c.advance(10 * 60_000 + 1);
    const finishedAt = c.at();
    assert.equal(c.b.remaining("k", finishedAt), 0);
    c.b.next("k", finishedAt);
    assert.equal(c.b.get("k"), 10_000);
  });

  it("keeps the back-off of a container that crashed within 10 minutes of its restart", () => {
    const c = clocked();
    crashLoop(c, "k", 5); // next delay 160s
    c.advance(10 * 60_000);
    const finishedAt = c.at();
    assert.equal(c.b.remaining("k", finishedAt), 160_000);
    c.advance(160_000);
    c.b.next("k", finishedAt);
    assert.equal(c.b.get("k"), 300_000);
  });

  it("judges expiry by the exit time, not by when the kubelet notices the exit", () => {
    const c = clocked();
    crashLoop(c, "k", 3); // next delay 40s, last restart now
    const finishedAt = c.at() + 60_000; // crashed a minute after its restart
    c.advance(11 * 60_000); // noticed much later
    assert.equal(c.b.remaining("k", finishedAt), 0);
    c.b.next("k", finishedAt);
    assert.equal(c.b.get("k"), 80_000);
  });

  it("uses the configured initial and maximum delays", () => {
    const c = clocked({ initialMs: 100, maxMs: 350 });
    assert.deepEqual(crashLoop(c, "k", 5), [0, 100, 200, 350, 350]);
  });

  it("forgets the containers of one pod by prefix and leaves the others", () => {
    const c = clocked();
    crashLoop(c, "pod-a/x", 2);
    crashLoop(c, "pod-b/x", 2);
    c.b.forgetPrefix("pod-a/");
    assert.equal(c.b.get("pod-a/x"), 0);
    assert.equal(c.b.get("pod-b/x"), 20_000);
  });

  it("garbage-collects entries untouched for twice the maximum", () => {
    const c = clocked();
    crashLoop(c, "old", 2);
    c.advance(5 * 60_000);
    crashLoop(c, "new", 2);
    c.advance(5 * 60_000 + 1);
    c.b.gc();
    assert.equal(c.b.get("old"), 0);
    assert.equal(c.b.get("new"), 20_000);
  });
});

describe("goDuration (Go's time.Duration String)", () => {
  const cases: Array<[number, string]> = [
    [0, "0s"],
    [10_000, "10s"],
    [20_000, "20s"],
    [40_000, "40s"],
    [59_000, "59s"],
    [60_000, "1m0s"],
    [80_000, "1m20s"],
    [160_000, "2m40s"],
    [300_000, "5m0s"],
    [3_600_000, "1h0m0s"],
    [3_725_000, "1h2m5s"],
    [1_500, "1.5s"],
    [61_250, "1m1.25s"],
    [500, "500ms"],
    [1, "1ms"],
    [0.5, "500µs"],
    [0.000_5, "500ns"],
    [-10_000, "-10s"],
  ];
  for (const [ms, want] of cases) {
    it(`${ms} ms is "${want}"`, () => assert.equal(goDuration(ms), want));
  }
});
