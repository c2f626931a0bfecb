/** Port-forward stream bookkeeping as upstream's kubelet does it: header checks and request pairing. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkPortForwardHeaders, requestIdOf } from "../../src/streams/spdy/portforward.js";

describe("port-forward streams", () => {
  it("checks the port and streamType headers with upstream's words", () => {
    assert.equal(checkPortForwardHeaders("8080", "data"), undefined);
    assert.equal(checkPortForwardHeaders("1", "error"), undefined);
    assert.equal(checkPortForwardHeaders(undefined, "data"), '"port" header is required');
    assert.equal(checkPortForwardHeaders("http", "data"), 'unable to parse "http" as a port');
    assert.equal(checkPortForwardHeaders("70000", "data"), 'unable to parse "70000" as a port');
    assert.equal(checkPortForwardHeaders("0", "data"), 'port "0" must be > 0');
    assert.equal(checkPortForwardHeaders("80", undefined), '"streamType" header is required');
    assert.equal(checkPortForwardHeaders("80", "stdin"), 'invalid stream type "stdin"');
  });

  it("pairs streams by requestID, or for old clients by the error stream's id (data = error + 2)", () => {
    const s = (id: number, h: Record<string, string>) => ({ id, header: (n: string) => h[n] });
    assert.equal(requestIdOf(s(5, { requestid: "7", streamtype: "data" })), "7");
    assert.equal(requestIdOf(s(1, { streamtype: "error" })), "1");
    assert.equal(requestIdOf(s(3, { streamtype: "data" })), "1");
  });
});
