/** Projected token renewal: 80% of the lifetime or 24 h, jitter, cached token served while a renewal fails. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../../../src/apiserver/errors.js";
import { ServiceAccountTokenManager, tokenRequiresRefresh } from "../../../src/kubelet/volumes/tokens.js";
import { FakeClient } from "./helpers.js";

const H = 3600 * 1000;

describe("when a token needs renewing (upstream requiresRefresh)", () => {
  const t0 = Date.UTC(2025, 0, 1);
  const hourToken = { token: "t", expiresAt: t0 + H, expirationSeconds: 3600 };
  const weekToken = { token: "t", expiresAt: t0 + 7 * 24 * H, expirationSeconds: 7 * 24 * 3600 };
  const cases: Array<[string, typeof hourToken, number, number, boolean]> = [
    ["a fresh 1 h token is kept", hourToken, t0, 0, false],
    ["at 79% of its lifetime it is kept", hourToken, t0 + 0.79 * H, 0, false],
    ["past 80% of its lifetime it is renewed", hourToken, t0 + 0.81 * H, 0, true],
    ["jitter brings the renewal earlier (10 s)", hourToken, t0 + 0.8 * H - 5000, 10, true],
    ["a 7-day token is kept at 23 h", weekToken, t0 + 23 * H, 0, false],
    ["a 7-day token is renewed after 24 h", weekToken, t0 + 24 * H + 1000, 0, true],
  ];
  for (const [name, tok, now, jitter, want] of cases) {
    it(name, () => assert.equal(tokenRequiresRefresh(tok, now, jitter), want));
  }
});

describe("ServiceAccountTokenManager", () => {
  const spec = {
    namespace: "default",
    serviceAccount: "default",
    audience: "vault",
    expirationSeconds: 3600,
    pod: { name: "web", uid: "u1" },
  };

  function setup() {
    let now = Date.UTC(2025, 0, 1);
    const client = new FakeClient(() => now);
    client.put("serviceaccounts", { metadata: { name: "default", namespace: "default" } });
    const m = new ServiceAccountTokenManager({ client, now: () => now, jitter: () => 0 });
    return { client, m, advance: (ms: number) => (now += ms) };
  }

  it("asks for a pod-bound token with the projection's audience and lifetime, then serves it from cache", async () => {
    const { client, m } = setup();
    assert.equal(await m.get(spec), "token-1");
    assert.equal(await m.get(spec), "token-1");
    assert.equal(client.tokenCalls.length, 1);
    assert.deepEqual(client.tokenCalls[0], {
      namespace: "default",
      serviceAccount: "default",
      spec: {
        audiences: ["vault"],
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: "web", uid: "u1" },
      },
    });
  });

  it("renews once 80% of the lifetime has passed", async () => {
    const { m, advance } = setup();
    await m.get(spec);
    advance(0.7 * H);
    assert.equal(await m.get(spec), "token-1");
    advance(0.15 * H);
    assert.equal(await m.get(spec), "token-2");
  });

  it("a failed renewal keeps the cached token until it expires, then fails", async () => {
    const { client, m, advance } = setup();
    await m.get(spec);
    advance(0.9 * H);
    client.tokenError = new ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request");
    assert.equal(await m.get(spec), "token-1");
    advance(0.2 * H);
    await assert.rejects(m.get(spec), /expired and refresh failed: the server is currently unable/);
  });

  it("with nothing cached a failure is reported as upstream's 'failed to fetch token'", async () => {
    const { m } = setup();
    await assert.rejects(m.get({ ...spec, serviceAccount: "ghost" }), {
      message: 'failed to fetch token: serviceaccounts "ghost" not found',
    });
  });

  it("a pod's tokens are forgotten when it leaves the node", async () => {
    const { m } = setup();
    await m.get(spec);
    await m.get({ ...spec, pod: { name: "other", uid: "u2" } });
    m.deletePod("u1");
    assert.equal(m.size(), 1);
  });
});
