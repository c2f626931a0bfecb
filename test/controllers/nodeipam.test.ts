/** Node IPAM's range arithmetic: the /24s of a cluster CIDR, in order. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { subnets } from "../../src/controllers/nodeipam/index.js";

describe("node IPAM subnets", () => {
  it("10.244.0.0/16 holds 256 /24s, from 10.244.0.0/24 to 10.244.255.0/24", () => {
    const s = subnets("10.244.0.0/16", 24);
    assert.equal(s.count, 256);
    assert.equal(s.at(0), "10.244.0.0/24");
    assert.equal(s.at(1), "10.244.1.0/24");
    assert.equal(s.at(255), "10.244.255.0/24");
  });
  it("a cluster CIDR written with host bits set starts at its network address", () => {
    assert.equal(subnets("10.244.3.7/16", 24).at(0), "10.244.0.0/24");
  });
  it("a /12 holds 4,096 /24s (enough for 5,000-node fleets only with a wider range)", () => {
    const s = subnets("10.96.0.0/12", 24);
    assert.equal(s.count, 4096);
    assert.equal(s.at(4095), "10.111.255.0/24");
  });
});
