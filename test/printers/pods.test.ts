import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { printerFor } from "../../src/api/printers/index.js";
import type { KObject } from "../../src/api/types.js";
import { ago, headers, NOW, obj, row } from "./helpers.js";

const pods = printerFor("", "pods");

const running = (name: string, restartCount = 0, extra: Record<string, unknown> = {}) => ({
  name,
  ready: true,
  restartCount,
  state: { running: { startedAt: ago("1h") } },
  ...extra,
});

function pod(spec: Record<string, unknown>, status: Record<string, unknown>, meta: object = {}): KObject {
  return obj("web-1", ago("2d5h"), { spec, status }, meta);
}

const twoContainers = {
  containers: [
    { name: "app", image: "nginx" },
    { name: "sidecar", image: "envoy" },
  ],
};

describe("pods table", () => {
  it("has upstream's columns, wide ones at priority 1", () => {
    assert.deepEqual(headers(pods), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert.deepEqual(headers(pods, true), [
      "NAME",
      "READY",
      "STATUS",
      "RESTARTS",
      "AGE",
      "IP",
      "NODE",
      "NOMINATED NODE",
      "READINESS GATES",
    ]);
    assert.equal(pods.columns[0]?.format, "name");
    assert.equal(pods.columns[3]?.type, "string");
    assert.match(pods.columns[0]?.description ?? "", /^Name must be unique within a namespace/);
  });

  const cases: Array<{ name: string; pod: KObject; want: Record<string, unknown> }> = [
    {
      name: "a running pod with both containers ready",
      pod: pod(
        { ...twoContainers, nodeName: "node-1" },
        {
          phase: "Running",
          podIP: "10.244.1.5",
          podIPs: [{ ip: "10.244.1.5" }],
          containerStatuses: [running("app"), running("sidecar")],
        },
      ),
      want: {
        NAME: "web-1",
        READY: "2/2",
        STATUS: "Running",
        RESTARTS: "0",
        AGE: "2d5h",
        IP: "10.244.1.5",
        NODE: "node-1",
        "NOMINATED NODE": "<none>",
        "READINESS GATES": "<none>",
      },
    },
    {
      name: "a pending pod not yet scheduled shows <none> for IP and node",
      pod: pod(twoContainers, { phase: "Pending" }),
      want: { READY: "0/2", STATUS: "Pending", RESTARTS: "0", IP: "<none>", NODE: "<none>" },
    },
    {
      name: "restarts show when the last one ended",
      pod: pod(twoContainers, {
        phase: "Running",
        containerStatuses: [
          running("app", 3, { lastState: { terminated: { exitCode: 1, finishedAt: ago("5m") } } }),
          running("sidecar", 1, { lastState: { terminated: { exitCode: 1, finishedAt: ago("2h") } } }),
        ],
      }),
      want: { READY: "2/2", STATUS: "Running", RESTARTS: "4 (5m ago)" },
    },
    {
      name: "a crash-looping container's waiting reason becomes the status",
      pod: pod(twoContainers, {
        phase: "Running",
        containerStatuses: [
          {
            name: "app",
            ready: false,
            restartCount: 7,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 1, finishedAt: ago("30s") } },
          },
          running("sidecar"),
        ],
      }),
      want: { READY: "1/2", STATUS: "CrashLoopBackOff", RESTARTS: "7 (30s ago)" },
    },
    {
      name: "an image pull failure",
      pod: pod(
        { containers: [{ name: "app" }] },
        {
          phase: "Pending",
          containerStatuses: [
            { name: "app", ready: false, restartCount: 0, state: { waiting: { reason: "ErrImagePull" } } },
          ],
        },
      ),
      want: { READY: "0/1", STATUS: "ErrImagePull" },
    },
    {
      name: "a completed pod shows the terminated reason",
      pod: pod(
        { containers: [{ name: "pi" }] },
        {
          phase: "Succeeded",
          containerStatuses: [
            { name: "pi", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
          ],
        },
      ),
      want: { READY: "0/1", STATUS: "Completed" },
    },
    {
      name: "a terminated container without a reason shows its exit code",
      pod: pod(
        { containers: [{ name: "app" }] },
        { phase: "Failed", containerStatuses: [{ name: "app", state: { terminated: { exitCode: 2 } } }] },
      ),
      want: { STATUS: "ExitCode:2" },
    },
    {
      name: "a terminated container killed by a signal shows the signal",
      pod: pod(
        { containers: [{ name: "app" }] },
        { phase: "Failed", containerStatuses: [{ name: "app", state: { terminated: { exitCode: 137, signal: 9 } } }] },
      ),
      want: { STATUS: "Signal:9" },
    },
    {
      name: "Completed turns back into Running while another container still runs and the pod is ready",
      pod: pod(twoContainers, {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [
          running("app"),
          { name: "sidecar", ready: false, state: { terminated: { exitCode: 0, reason: "Completed" } } },
        ],
      }),
      want: { READY: "1/2", STATUS: "Running" },
    },
    {
      name: "Completed turns into NotReady while another container runs but the pod is not ready",
      pod: pod(twoContainers, {
        phase: "Running",
        containerStatuses: [
          running("app"),
          { name: "sidecar", ready: false, state: { terminated: { exitCode: 0, reason: "Completed" } } },
        ],
      }),
      want: { STATUS: "NotReady" },
    },
    {
      name: "the second of three init containers running shows Init:1/3",
      pod: pod(
        { initContainers: [{ name: "a" }, { name: "b" }, { name: "c" }], containers: [{ name: "app" }] },
        {
          phase: "Pending",
          initContainerStatuses: [
            { name: "a", state: { terminated: { exitCode: 0, reason: "Completed" } } },
            { name: "b", state: { running: {} } },
            { name: "c", state: { waiting: { reason: "PodInitializing" } } },
          ],
          containerStatuses: [{ name: "app", state: { waiting: { reason: "PodInitializing" } } }],
        },
      ),
      want: { READY: "0/1", STATUS: "Init:1/3", RESTARTS: "0" },
    },
    {
      name: "a failing init container shows Init: and its reason, with its restarts",
      pod: pod(
        { initContainers: [{ name: "migrate" }], containers: [{ name: "app" }] },
        {
          phase: "Pending",
          initContainerStatuses: [
            {
              name: "migrate",
              restartCount: 2,
              state: { waiting: { reason: "CrashLoopBackOff" } },
              lastState: { terminated: { exitCode: 1, finishedAt: ago("1m") } },
            },
          ],
        },
      ),
      want: { STATUS: "Init:CrashLoopBackOff", RESTARTS: "2 (60s ago)" },
    },
    {
      name: "an init container that exited non-zero shows Init:ExitCode",
      pod: pod(
        { initContainers: [{ name: "migrate" }], containers: [{ name: "app" }] },
        { phase: "Pending", initContainerStatuses: [{ name: "migrate", state: { terminated: { exitCode: 3 } } }] },
      ),
      want: { STATUS: "Init:ExitCode:3" },
    },
    {
      name: "a started sidecar (restartable init container) counts as a ready container",
      pod: pod(
        { initContainers: [{ name: "proxy", restartPolicy: "Always" }], containers: [{ name: "app" }] },
        {
          phase: "Running",
          conditions: [{ type: "Initialized", status: "True" }],
          initContainerStatuses: [
            { name: "proxy", ready: true, started: true, restartCount: 1, state: { running: {} } },
          ],
          containerStatuses: [running("app")],
        },
      ),
      want: { READY: "2/2", STATUS: "Running", RESTARTS: "1" },
    },
    {
      name: "a deleted running pod is Terminating",
      pod: pod(
        { containers: [{ name: "app" }] },
        { phase: "Running", containerStatuses: [running("app")] },
        { deletionTimestamp: ago("10s") },
      ),
      want: { READY: "1/1", STATUS: "Terminating" },
    },
    {
      name: "a deleted pod on an unreachable node is Unknown",
      pod: pod(
        { containers: [{ name: "app" }] },
        { phase: "Running", reason: "NodeLost" },
        { deletionTimestamp: ago("10s") },
      ),
      want: { STATUS: "Unknown" },
    },
    {
      name: "a deleted pod that already succeeded keeps its status",
      pod: pod(
        { containers: [{ name: "app" }] },
        {
          phase: "Succeeded",
          containerStatuses: [{ name: "app", state: { terminated: { exitCode: 0, reason: "Completed" } } }],
        },
        { deletionTimestamp: ago("10s") },
      ),
      want: { STATUS: "Completed" },
    },
    {
      name: "a pod whose status carries a reason (Evicted) shows it",
      pod: pod({ containers: [{ name: "app" }] }, { phase: "Failed", reason: "Evicted" }),
      want: { STATUS: "Evicted" },
    },
    {
      name: "a pod held by scheduling gates is SchedulingGated",
      pod: pod(
        { containers: [{ name: "app" }], schedulingGates: [{ name: "x" }] },
        { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }] },
      ),
      want: { STATUS: "SchedulingGated" },
    },
    {
      name: "readiness gates count the true conditions",
      pod: pod(
        { containers: [{ name: "app" }], readinessGates: [{ conditionType: "a" }, { conditionType: "b" }] },
        {
          phase: "Running",
          nominatedNodeName: "node-2",
          conditions: [
            { type: "a", status: "True" },
            { type: "b", status: "False" },
          ],
        },
      ),
      want: { "READINESS GATES": "1/2", "NOMINATED NODE": "node-2" },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const got = row(pods, c.pod);
      for (const [k, v] of Object.entries(c.want)) assert.equal(got[k], v, `${k}`);
    });
  }

  it("finished pods carry the Completed row condition", () => {
    const succeeded = pods.conditions?.(pod({}, { phase: "Succeeded" }));
    assert.deepEqual(succeeded, [
      { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
    ]);
    assert.equal(pods.conditions?.(pod({}, { phase: "Failed" }))?.[0]?.reason, "Failed");
    assert.equal(pods.conditions?.(pod({}, { phase: "Running" })), undefined);
  });

  it("an object without a creation timestamp has an <unknown> age", () => {
    assert.equal(row(pods, { metadata: { name: "x" } })["AGE"], "<unknown>");
    assert.equal(NOW.toISOString(), "2024-06-01T12:00:00.000Z");
  });
});
