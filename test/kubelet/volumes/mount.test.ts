/** Reading the mount table and the path containment every check relies on. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isWithin } from "../../../src/kubelet/volumes/layout.js";
import { mountsUnder, parseMountInfo } from "../../../src/kubelet/volumes/mount.js";

describe("parseMountInfo (proc(5) mountinfo)", () => {
  const text = [
    "22 27 0:21 / /proc rw,relatime - proc proc rw",
    "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue",
    "45 27 254:0 /tmp/with\\040space /var/lib/k8ts/pods/u/volume-subpaths/v/c/0 rw - ext4 /dev/vda rw",
    "garbage line",
    "",
  ].join("\n");
  const mounts = parseMountInfo(text);
  it("reads id, parent, root, mount point, type and source; skips lines that do not parse", () => {
    assert.deepEqual(mounts[0], {
      id: 22,
      parentId: 27,
      root: "/",
      mountPoint: "/proc",
      fsType: "proc",
      source: "proc",
    });
    assert.equal(mounts.length, 3);
  });
  it("optional fields before the separator are skipped", () => {
    assert.deepEqual(mounts[1], {
      id: 36,
      parentId: 35,
      root: "/mnt1",
      mountPoint: "/mnt2",
      fsType: "ext3",
      source: "/dev/root",
    });
  });
  it("octal escapes are decoded", () => {
    assert.equal(mounts[2]?.root, "/tmp/with space");
  });
  it("mountsUnder selects a directory and what lies below it, not its namesakes", () => {
    const m = parseMountInfo(
      [
        "1 0 0:1 / /var/lib/k8ts/pods/u rw - tmpfs tmpfs rw",
        "2 0 0:1 / /var/lib/k8ts/pods/u/volumes/x rw - tmpfs tmpfs rw",
        "3 0 0:1 / /var/lib/k8ts/pods/u2 rw - tmpfs tmpfs rw",
      ].join("\n"),
    );
    assert.deepEqual(
      mountsUnder(m, "/var/lib/k8ts/pods/u").map((x) => x.id),
      [1, 2],
    );
  });
});

describe("isWithin", () => {
  const cases: Array<[string, string, boolean]> = [
    ["/a/b", "/a", true],
    ["/a", "/a", true],
    ["/ab", "/a", false],
    ["/", "/a", false],
    ["/a/..b", "/a", true],
    ["/a/b/../../c", "/a", false],
  ];
  for (const [p, base, want] of cases) it(`${p} in ${base}: ${want}`, () => assert.equal(isWithin(p, base), want));
});
