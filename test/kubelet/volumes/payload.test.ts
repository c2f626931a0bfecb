/** What configMap, secret and downwardAPI sources project: keys, items, modes, optional, upstream's formats and messages. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../../src/api/types.js";
import type { Payload } from "../../../src/kubelet/volumes/atomic-writer.js";
import { fieldPathValue, formatMap, goQuote, resourceFieldValue } from "../../../src/kubelet/volumes/downward.js";
import { aggregateMessage } from "../../../src/kubelet/volumes/errors.js";
import {
  configMapPayload,
  downwardAPIPayload,
  keyToPaths,
  secretPayload,
} from "../../../src/kubelet/volumes/payload.js";
import { allocatable } from "./helpers.js";

function show(p: Payload): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const [k, v] of p) out[k] = [v.data.toString("utf8"), v.mode.toString(8)];
  return out;
}

const cm: KObject = {
  metadata: { name: "cfg", namespace: "default" },
  data: { "game.properties": "lives=3", "ui.properties": "color=red" },
  binaryData: { "logo.bin": Buffer.from([0, 1, 2]).toString("base64") },
};

describe("configMap payload (upstream configmap.MakePayload)", () => {
  const cases: Array<{ name: string; items: unknown; mode: number; optional: boolean; want: unknown }> = [
    {
      name: "every key of data and binaryData, with defaultMode",
      items: undefined,
      mode: 0o644,
      optional: false,
      want: {
        "game.properties": ["lives=3", "644"],
        "ui.properties": ["color=red", "644"],
        "logo.bin": ["\u0000\u0001\u0002", "644"],
      },
    },
    {
      name: "items map keys to paths, a per-item mode wins over defaultMode",
      items: [
        { key: "game.properties", path: "conf/game" },
        { key: "ui.properties", path: "ui", mode: 0o400 },
      ],
      mode: 0o640,
      optional: false,
      want: { "conf/game": ["lives=3", "640"], ui: ["color=red", "400"] },
    },
    {
      name: "items may take binaryData keys",
      items: [{ key: "logo.bin", path: "logo" }],
      mode: 0o644,
      optional: false,
      want: { logo: ["\u0000\u0001\u0002", "644"] },
    },
    {
      name: "optional: a missing key is skipped",
      items: [
        { key: "nope", path: "nope" },
        { key: "ui.properties", path: "ui" },
      ],
      mode: 0o644,
      optional: true,
      want: { ui: ["color=red", "644"] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(show(configMapPayload(cm, keyToPaths(c.items), c.mode, c.optional)), c.want);
    });
  }
  it("a missing key of a required configMap fails with upstream's message", () => {
    assert.throws(() => configMapPayload(cm, keyToPaths([{ key: "k", path: "k" }]), 0o644, false), {
      message: "configmap references non-existent config key: k",
    });
  });
});

describe("secret payload (upstream secret.MakePayload)", () => {
  const secret: KObject = {
    metadata: { name: "s", namespace: "default" },
    data: { username: Buffer.from("admin").toString("base64"), password: Buffer.from("s3cr3t\n").toString("base64") },
  };
  it("data is base64-decoded into the files", () => {
    assert.deepEqual(show(secretPayload(secret, [], 0o400, false)), {
      username: ["admin", "400"],
      password: ["s3cr3t\n", "400"],
    });
  });
  it("items select and rename keys", () => {
    assert.deepEqual(show(secretPayload(secret, keyToPaths([{ key: "password", path: "db/pass" }]), 0o644, false)), {
      "db/pass": ["s3cr3t\n", "644"],
    });
  });
  it("a missing key of a required secret fails with upstream's message", () => {
    assert.throws(() => secretPayload(secret, keyToPaths([{ key: "token", path: "t" }]), 0o644, false), {
      message: "references non-existent secret key: token",
    });
  });
});

describe("Go %q quoting of label and annotation values", () => {
  const cases: Array<[string, string]> = [
    ["plain", '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["back\\slash", '"back\\\\slash"'],
    ["line\nbreak\ttab", '"line\\nbreak\\ttab"'],
    ["\u0007\u0008\u000b\u000c\r", '"\\a\\b\\v\\f\\r"'],
    ["\u0001\u007f", '"\\x01\\x7f"'],
    ["héllo 世界 ✓", '"héllo 世界 ✓"'],
    ["nbsp\u00a0", '"nbsp\\u00a0"'],
    ["zero\u200bwidth", '"zero\\u200bwidth"'],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${want}`, () => assert.equal(goQuote(input), want));
  }
});

describe("downward API field values (upstream ExtractFieldPathAsString)", () => {
  const pod: KObject = {
    metadata: {
      name: "web-0",
      namespace: "shop",
      uid: "1234-abcd",
      labels: { zone: "us-east", app: "web", "app.kubernetes.io/name": "shop" },
      annotations: { build: 'a "quoted"\nvalue' },
    },
    spec: { containers: [] },
  };
  const cases: Array<[string, string]> = [
    ["metadata.name", "web-0"],
    ["metadata.namespace", "shop"],
    ["metadata.uid", "1234-abcd"],
    ["metadata.labels", 'app="web"\napp.kubernetes.io/name="shop"\nzone="us-east"'],
    ["metadata.annotations", 'build="a \\"quoted\\"\\nvalue"'],
    ["metadata.labels['zone']", "us-east"],
    ["metadata.labels['missing']", ""],
    ["metadata.annotations['build']", 'a "quoted"\nvalue'],
  ];
  for (const [path, want] of cases) {
    it(`${path} → ${JSON.stringify(want)}`, () => assert.equal(fieldPathValue(pod, path), want));
  }
  it('labels are sorted, one key="value" per line, no trailing newline', () => {
    assert.equal(formatMap({ b: "2", a: "1" }), 'a="1"\nb="2"');
    assert.equal(formatMap({}), "");
  });
  it("an unsupported field path fails as upstream", () => {
    assert.throws(() => fieldPathValue(pod, "spec.nodeName"), { message: "unsupported fieldPath: spec.nodeName" });
  });
});

describe("downward API resource values (upstream ExtractContainerResourceValue)", () => {
  const pod: KObject = {
    metadata: { name: "p" },
    spec: {
      containers: [
        {
          name: "app",
          resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "250m", memory: "64Mi" } },
        },
        { name: "nolimits" },
      ],
      initContainers: [{ name: "init", resources: { limits: { "ephemeral-storage": "1Gi" } } }],
    },
  };
  const cases: Array<[string, string, string | undefined, string]> = [
    ["app", "limits.cpu", undefined, "1"],
    ["app", "limits.cpu", "1m", "500"],
    ["app", "requests.cpu", "1m", "250"],
    ["app", "limits.memory", undefined, String(128 * 1024 * 1024)],
    ["app", "limits.memory", "1Mi", "128"],
    ["app", "requests.memory", "1Mi", "64"],
    ["app", "limits.memory", "1G", "1"],
    ["nolimits", "limits.cpu", "1m", "4000"],
    ["nolimits", "limits.memory", "1Gi", "8"],
    ["nolimits", "limits.ephemeral-storage", "1Gi", "100"],
    ["nolimits", "requests.cpu", undefined, "0"],
    ["init", "limits.ephemeral-storage", "1Mi", "1024"],
  ];
  for (const [c, res, div, want] of cases) {
    it(`${c} ${res} ÷ ${div ?? "1"} → ${want}`, () => {
      assert.equal(resourceFieldValue(pod, c, res, div, allocatable), want);
    });
  }
  it("an unknown container fails", () => {
    assert.throws(() => resourceFieldValue(pod, "ghost", "limits.cpu", undefined, allocatable), {
      message: "container ghost not found",
    });
  });
});

describe("downwardAPI payload (upstream CollectData)", () => {
  const pod: KObject = {
    metadata: { name: "p", namespace: "ns", labels: { a: "1" } },
    spec: { containers: [{ name: "app", resources: { limits: { memory: "32Mi" } } }] },
  };
  it("one file per item, item mode over defaultMode, paths as given", () => {
    const items = [
      { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
      { path: "info/name", fieldRef: { fieldPath: "metadata.name" }, mode: 0o600 },
      { path: "mem", resourceFieldRef: { containerName: "app", resource: "limits.memory", divisor: "1Mi" } },
    ];
    assert.deepEqual(show(downwardAPIPayload(pod, items, 0o644, allocatable)), {
      labels: ['a="1"', "644"],
      "info/name": ["p", "600"],
      mem: ["32", "644"],
    });
  });
  it("every failing item is reported, aggregated as upstream", () => {
    const items = [
      { path: "x", fieldRef: { fieldPath: "status.podIP" } },
      { path: "y", resourceFieldRef: { containerName: "nope", resource: "limits.cpu" } },
    ];
    assert.throws(() => downwardAPIPayload(pod, items, 0o644, allocatable), {
      message: "[unsupported fieldPath: status.podIP, container nope not found]",
    });
  });
  it("aggregates print one error bare and deduplicate", () => {
    assert.equal(aggregateMessage(["a"]), "a");
    assert.equal(aggregateMessage(["a", "b", "a"]), "[a, b]");
  });
});
