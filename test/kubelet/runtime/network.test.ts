import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cidrContains, gatewayOf, intToIp, ipToInt, parseCidr, podRange } from "../../../src/kubelet/network/cidr.js";
import { HostLocalIpam, nextFreeAddress } from "../../../src/kubelet/network/ipam.js";
import { iptablesRule, nftRuleset, nftTableName } from "../../../src/kubelet/network/masquerade.js";
import { hostVethName, shortPodId } from "../../../src/kubelet/network/podnetwork.js";

describe("pod network: CIDR arithmetic", () => {
  it("10.244.0.0/24 has gateway .1 and pods .2 to .254", () => {
    const c = parseCidr("10.244.0.0/24");
    assert.equal(gatewayOf(c), "10.244.0.1");
    const r = podRange(c);
    assert.equal(intToIp(r.first), "10.244.0.2");
    assert.equal(intToIp(r.last), "10.244.0.254");
  });

  it("a /16 spans the whole second-level range", () => {
    const c = parseCidr("10.1.0.0/16");
    assert.equal(intToIp(podRange(c).last), "10.1.255.254");
    assert.ok(cidrContains(c, "10.1.200.3"));
    assert.ok(!cidrContains(c, "10.2.0.3"));
  });

  const bad: Array<[string, RegExp]> = [
    ["10.244.0.1/24", /host bits are set/],
    ["10.244.0.0/31", /leaves no room/],
    ["10.244.0.0", /want a\.b\.c\.d\/prefix/],
    ["300.1.1.0/24", /invalid IPv4/],
    ["10.244.0.0/24/1", /invalid CIDR/],
  ];
  for (const [text, err] of bad) {
    it(`"${text}" is refused`, () => assert.throws(() => parseCidr(text), err));
  }

  it("addresses round-trip through numbers, including the top of the range", () => {
    for (const ip of ["0.0.0.0", "10.244.0.1", "255.255.255.255", "192.168.1.200"])
      assert.equal(intToIp(ipToInt(ip)), ip);
  });
});

describe("pod network: host-local IPAM", () => {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-ipam-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the next free address is round-robin after the last one given, skipping used ones, wrapping", () => {
    const r = { first: 2, last: 5 };
    assert.equal(nextFreeAddress(r, new Set(), undefined), 2);
    assert.equal(nextFreeAddress(r, new Set([2]), 2), 3);
    assert.equal(nextFreeAddress(r, new Set([3]), 2), 4);
    assert.equal(nextFreeAddress(r, new Set([2]), 5), 3, "wraps around past the end");
    assert.equal(nextFreeAddress(r, new Set([2, 3, 4, 5]), 3), undefined);
  });

  it("an owner keeps its address; a freed address is not handed out again at once", () => {
    const ipam = new HostLocalIpam(parseCidr("10.9.0.0/24"), join(dir, "a"));
    const a = ipam.allocate("pod-a");
    assert.equal(a, "10.9.0.2");
    assert.equal(ipam.allocate("pod-a"), a);
    const b = ipam.allocate("pod-b");
    assert.equal(b, "10.9.0.3");
    ipam.release("pod-a");
    assert.equal(ipam.allocate("pod-c"), "10.9.0.4");
    assert.equal(ipam.lookup("pod-a"), undefined);
  });

  it("allocations survive a new instance (a restarted kubelet never hands out a live address)", () => {
    const first = new HostLocalIpam(parseCidr("10.9.1.0/24"), join(dir, "b"));
    const a = first.allocate("pod-a", "k8ts-abc");
    const second = new HostLocalIpam(parseCidr("10.9.1.0/24"), join(dir, "b"));
    assert.equal(second.lookup("pod-a"), a);
    assert.notEqual(second.allocate("pod-b"), a);
    assert.equal(second.list()[a]?.note, "k8ts-abc");
  });

  it("a full range is an error that says so", () => {
    const ipam = new HostLocalIpam(parseCidr("10.9.2.0/30"), join(dir, "c"));
    assert.equal(ipam.allocate("one"), "10.9.2.2");
    assert.throws(() => ipam.allocate("two"), /no free address in pod CIDR 10\.9\.2\.0\/30/);
  });

  it("an unreadable state file is a clear error, not a crash or a silent reset", () => {
    const d = join(dir, "d");
    const ipam = new HostLocalIpam(parseCidr("10.9.3.0/24"), d);
    writeFileSync(join(d, "allocations.json"), "{not json");
    assert.throws(() => ipam.allocate("x"), /IPAM state .* is unreadable/);
  });
});

describe("pod network: names and NAT rules", () => {
  it("a uuid's short id is its first 12 hex digits; other uids are hashed", () => {
    assert.equal(shortPodId("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), "0f1e2d3c4b5a");
    assert.match(shortPodId("not a uuid/../x"), /^[0-9a-f]{12}$/);
  });

  it("host veth names fit Linux's 15 bytes and differ per bridge", () => {
    const a = hostVethName("k8ts0", "uid-1");
    assert.ok(a.length <= 15);
    assert.notEqual(a, hostVethName("k8ts1", "uid-1"));
  });

  it("nft masquerades traffic from the pod CIDR leaving it, in our own table", () => {
    const r = nftRuleset(nftTableName("k8ts0"), "10.244.0.0/24");
    assert.match(r, /^table ip k8ts_k8ts0 \{/);
    assert.match(r, /type nat hook postrouting priority srcnat/);
    assert.match(r, /ip saddr 10\.244\.0\.0\/24 ip daddr != 10\.244\.0\.0\/24 masquerade/);
    assert.equal(nftTableName("k8ts-0.x"), "k8ts_k8ts_0_x");
  });

  it("iptables masquerades the same traffic, with a comment naming us", () => {
    assert.deepEqual(iptablesRule("10.244.0.0/24", "k8ts k8ts0 masquerade"), [
      "-s",
      "10.244.0.0/24",
      "!",
      "-d",
      "10.244.0.0/24",
      "-m",
      "comment",
      "--comment",
      "k8ts k8ts0 masquerade",
      "-j",
      "MASQUERADE",
    ]);
  });
});
