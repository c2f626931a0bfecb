/** A pod's effective requests, as upstream's resourcehelper.PodRequests computes them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { podInfoOf } from "../../src/scheduler/podinfo.js";
import { isScalarResourceName, podRequests } from "../../src/scheduler/resources.js";

const c = (requests: Record<string, string>, restartPolicy?: string) => ({
  name: "c",
  image: "x",
  resources: { requests },
  ...(restartPolicy ? { restartPolicy } : {}),
});

describe("pod requests", () => {
  const cases = [
    {
      name: "containers add up",
      spec: { containers: [c({ cpu: "100m", memory: "1Gi" }), c({ cpu: "250m" })] },
      cpu: 350,
      mem: 1073741824,
    },
    {
      name: "a larger init container wins per resource",
      spec: { containers: [c({ cpu: "100m", memory: "1Gi" })], initContainers: [c({ cpu: "2", memory: "10Mi" })] },
      cpu: 2000,
      mem: 1073741824,
    },
    {
      name: "sidecars (restartable init containers) add to the containers and to later init containers",
      spec: {
        containers: [c({ cpu: "100m" })],
        initContainers: [c({ cpu: "200m" }, "Always"), c({ cpu: "1" })],
      },
      cpu: 1200,
      mem: 0,
    },
    {
      name: "overhead is added at the end",
      spec: { containers: [c({ cpu: "100m" })], overhead: { cpu: "250m", memory: "120Mi" } },
      cpu: 350,
      mem: 125829120,
    },
    { name: "quantities round up to whole millicores", spec: { containers: [c({ cpu: "0.0001" })] }, cpu: 1, mem: 0 },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const r = podRequests(t.spec);
      assert.equal(r.requests.milliCpu, t.cpu);
      assert.equal(r.requests.memory, t.mem);
      assert.deepEqual(r.invalid, []);
    });
  }

  it("containers without requests count as 100m cpu and 200Mi memory for scoring only", () => {
    const r = podRequests({ containers: [c({}), c({ cpu: "1" })] });
    assert.equal(r.requests.milliCpu, 1000);
    assert.equal(r.nonZeroCpu, 1100);
    assert.equal(r.nonZeroMemory, 2 * 200 * 1024 * 1024);
  });

  it("extended resources and hugepages are scalar resources; a bad quantity is reported", () => {
    const r = podRequests({
      containers: [c({ "example.com/gpu": "2", "hugepages-2Mi": "4Mi", "nvidia.com/x": "lots" })],
    });
    assert.equal(r.requests.scalar?.get("example.com/gpu"), 2);
    assert.equal(r.requests.scalar?.get("hugepages-2Mi"), 4194304);
    assert.deepEqual(r.invalid, ["nvidia.com/x"]);
    assert.equal(isScalarResourceName("cpu"), false);
    assert.equal(isScalarResourceName("requests.example.com/x"), false);
    assert.equal(isScalarResourceName("attachable-volumes-aws-ebs"), true);
  });

  it("an odd pod object parses to something safe", () => {
    const p = podInfoOf({
      metadata: { name: "odd" },
      spec: { containers: "nope", affinity: 7, tolerations: [1, null] },
    });
    assert.equal(p.requests.milliCpu, 0);
    assert.deepEqual(p.tolerations, []);
    assert.equal(p.namespace, "");
    const bad = podInfoOf({
      metadata: { name: "bad", namespace: "d" },
      spec: {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchExpressions: [{ key: "a", operator: "Near" }] }, topologyKey: "z" },
            ],
          },
        },
      },
    });
    assert.equal(bad.errors.length, 1);
  });
});
