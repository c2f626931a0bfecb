import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type KObject, rfc3339 } from "../../src/api/types.js";
import type { ContainerStatus } from "../../src/kubelet/runtime/types.js";
import {
  type ContainerKnowledge,
  computePodStatus,
  normalizedImage,
  type PodStatusInput,
  podPhase,
  sameStatus,
} from "../../src/kubelet/status.js";

type Rec = Record<string, unknown>;

const T0 = Date.parse("2025-03-01T10:00:00Z");
const NOW = T0 + 60_000;

function pod(spec: Rec, status: Rec = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "default", name: "p", uid: "uid-1" },
    spec: { restartPolicy: "Always", ...spec },
    status,
  };
}

const ctr = (name: string, extra: Rec = {}): Rec => ({ name, image: "busybox", ...extra });
const sidecar = (name: string, extra: Rec = {}): Rec => ctr(name, { restartPolicy: "Always", ...extra });

let ids = 0;
function running(name: string, attempt = 0): ContainerStatus {
  return {
    id: `c${++ids}`,
    podUid: "uid-1",
    name,
    attempt,
    state: "running",
    createdAt: T0,
    startedAt: T0 + 1000,
    image: "busybox",
  };
}
function exited(name: string, exitCode: number, attempt = 0, extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    id: `c${++ids}`,
    podUid: "uid-1",
    name,
    attempt,
    state: "exited",
    createdAt: T0,
    startedAt: T0 + 1000,
    finishedAt: T0 + 5000,
    exitCode,
    image: "busybox",
    ...extra,
  };
}

interface Case {
  pod: KObject;
  attempts?: ContainerStatus[];
  knowledge?: Record<string, ContainerKnowledge>;
  sandboxReady?: boolean;
  terminal?: PodStatusInput["terminal"];
  now?: number;
  previous?: Rec;
}

function status(c: Case): Rec {
  const attempts = new Map<string, ContainerStatus[]>();
  for (const a of c.attempts ?? []) attempts.set(a.name, [...(attempts.get(a.name) ?? []), a]);
  return computePodStatus({
    pod: c.pod,
    now: c.now ?? NOW,
    runtimeName: "runc",
    hostIP: "192.168.1.10",
    podIP: "10.244.0.7",
    sandboxReady: c.sandboxReady ?? true,
    attempts,
    knowledge: new Map(Object.entries(c.knowledge ?? {})),
    terminal: c.terminal,
    ...(c.previous ? { previous: c.previous } : {}),
  });
}

const crashLoop: ContainerKnowledge = {
  ready: false,
  started: false,
  waitingReason: "CrashLoopBackOff",
  waitingMessage: "back-off 10s restarting failed container=main pod=p_default(uid-1)",
};

function cond(s: Rec, type: string): Rec {
  const c = (s["conditions"] as Rec[]).find((x) => x["type"] === type);
  assert.ok(c, `condition ${type}`);
  return c;
}

/** type → [status, reason, message] of each condition. */
function conds(s: Rec): Record<string, [unknown, unknown, unknown]> {
  return Object.fromEntries(
    (s["conditions"] as Rec[]).map((c) => [String(c["type"]), [c["status"], c["reason"], c["message"]]]),
  );
}

function cs(s: Rec, name: string, key = "containerStatuses"): Rec {
  const x = (s[key] as Rec[]).find((c) => c["name"] === name);
  assert.ok(x, `status of ${name}`);
  return x;
}

describe("pod phase (upstream getPhase)", () => {
  const cases: Array<[string, Case, string]> = [
    ["nothing created yet is Pending", { pod: pod({ containers: [ctr("main")] }) }, "Pending"],
    [
      "a running container is Running",
      { pod: pod({ containers: [ctr("main")] }), attempts: [running("main")] },
      "Running",
    ],
    [
      "one running and one not yet created is Pending",
      { pod: pod({ containers: [ctr("a"), ctr("b")] }), attempts: [running("a")] },
      "Pending",
    ],
    [
      "Always: containers that exited 0 are Running (they restart)",
      { pod: pod({ containers: [ctr("main")] }), attempts: [exited("main", 0)] },
      "Running",
    ],
    [
      "Always: a container in CrashLoopBackOff counts as stopped, so Running",
      { pod: pod({ containers: [ctr("main")] }), attempts: [exited("main", 1)], knowledge: { main: crashLoop } },
      "Running",
    ],
    [
      "OnFailure: all exited 0 is Succeeded",
      {
        pod: pod({ restartPolicy: "OnFailure", containers: [ctr("a"), ctr("b")] }),
        attempts: [exited("a", 0), exited("b", 0)],
      },
      "Succeeded",
    ],
    [
      "OnFailure: a failure is Running (it restarts)",
      {
        pod: pod({ restartPolicy: "OnFailure", containers: [ctr("a"), ctr("b")] }),
        attempts: [exited("a", 0), exited("b", 2)],
      },
      "Running",
    ],
    [
      "OnFailure: a failed container in CrashLoopBackOff is Running",
      {
        pod: pod({ restartPolicy: "OnFailure", containers: [ctr("main")] }),
        attempts: [exited("main", 1)],
        knowledge: { main: crashLoop },
      },
      "Running",
    ],
    [
      "Never: all exited 0 is Succeeded",
      { pod: pod({ restartPolicy: "Never", containers: [ctr("main")] }), attempts: [exited("main", 0)] },
      "Succeeded",
    ],
    [
      "Never: one failure among stopped containers is Failed",
      {
        pod: pod({ restartPolicy: "Never", containers: [ctr("a"), ctr("b")] }),
        attempts: [exited("a", 0), exited("b", 1)],
      },
      "Failed",
    ],
    [
      "Never: a failure while another container runs is Running",
      {
        pod: pod({ restartPolicy: "Never", containers: [ctr("a"), ctr("b")] }),
        attempts: [running("a"), exited("b", 1)],
      },
      "Running",
    ],
    [
      "an init container running is Pending",
      { pod: pod({ initContainers: [ctr("init")], containers: [ctr("main")] }), attempts: [running("init")] },
      "Pending",
    ],
    [
      "Never: a failed init container fails the pod",
      {
        pod: pod({ restartPolicy: "Never", initContainers: [ctr("init")], containers: [ctr("main")] }),
        attempts: [exited("init", 1)],
      },
      "Failed",
    ],
    [
      "Always: a failed init container in CrashLoopBackOff is Pending",
      {
        pod: pod({ initContainers: [ctr("init")], containers: [ctr("main")] }),
        attempts: [exited("init", 1)],
        knowledge: { init: crashLoop },
      },
      "Pending",
    ],
    [
      "OnFailure: a failed init container is Pending (it restarts)",
      {
        pod: pod({ restartPolicy: "OnFailure", initContainers: [ctr("init")], containers: [ctr("main")] }),
        attempts: [exited("init", 1)],
      },
      "Pending",
    ],
    [
      "init done and the main container running is Running",
      {
        pod: pod({ initContainers: [ctr("init")], containers: [ctr("main")] }),
        attempts: [exited("init", 0), running("main")],
      },
      "Running",
    ],
    [
      "a sidecar started and the main container running is Running",
      {
        pod: pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
        attempts: [running("proxy"), running("main")],
      },
      "Running",
    ],
    [
      "a sidecar running but not started yet (startup probe) is Pending",
      {
        pod: pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
        attempts: [running("proxy")],
        knowledge: { proxy: { ready: false, started: false } },
      },
      "Pending",
    ],
    [
      "a sidecar restarted after initialization and not started yet keeps the pod Running",
      {
        pod: pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
        attempts: [exited("proxy", 1), running("proxy", 1), running("main")],
        knowledge: { proxy: { ready: false, started: false } },
      },
      "Running",
    ],
    [
      "a sidecar crash-looping after initialization keeps the pod Running",
      {
        pod: pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
        attempts: [exited("proxy", 1), running("main")],
        knowledge: { proxy: crashLoop },
      },
      "Running",
    ],
    [
      "Never: main containers done with a sidecar still running is Succeeded (the kubelet then stops the sidecar)",
      {
        pod: pod({ restartPolicy: "Never", initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
        attempts: [running("proxy"), exited("main", 0)],
      },
      "Succeeded",
    ],
    [
      "a terminal phase is kept whatever the containers do",
      { pod: pod({ containers: [ctr("main")] }, { phase: "Succeeded" }), attempts: [running("main")] },
      "Succeeded",
    ],
    [
      "a terminal verdict (eviction) sets the phase",
      {
        pod: pod({ containers: [ctr("main")] }),
        attempts: [running("main")],
        terminal: { phase: "Failed", reason: "Evicted" },
      },
      "Failed",
    ],
  ];
  for (const [name, c, want] of cases) it(name, () => assert.equal(status(c)["phase"], want));

  it("a container without any status is unknown: Pending", () => {
    const p = pod({ containers: [ctr("a"), ctr("b")] });
    assert.equal(podPhase(p, [], [{ name: "a", state: { running: {} } }]), "Pending");
  });
});

describe("pod conditions (upstream status/generate.go)", () => {
  it("a running, ready pod: all True, in upstream's order, PodScheduled kept", () => {
    const scheduled = { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: rfc3339(T0) };
    const s = status({
      pod: pod({ containers: [ctr("main")] }, { conditions: [scheduled] }),
      attempts: [running("main")],
    });
    assert.deepEqual(
      (s["conditions"] as Rec[]).map((c) => [c["type"], c["status"]]),
      [
        ["PodReadyToStartContainers", "True"],
        ["Initialized", "True"],
        ["Ready", "True"],
        ["ContainersReady", "True"],
        ["PodScheduled", "True"],
      ],
    );
    assert.deepEqual(cond(s, "PodScheduled"), scheduled);
    assert.equal(cond(s, "Ready")["lastProbeTime"], null);
    assert.equal(cond(s, "Ready")["lastTransitionTime"], rfc3339(NOW));
  });

  it("unready containers are named as upstream: containers with unready status: [a b]", () => {
    const s = status({
      pod: pod({ containers: [ctr("a"), ctr("b"), ctr("c")] }),
      attempts: [running("a"), running("b"), running("c")],
      knowledge: {
        a: { ready: false, started: true },
        b: { ready: false, started: true },
        c: { ready: true, started: true },
      },
    });
    const c = conds(s);
    assert.deepEqual(c["ContainersReady"], ["False", "ContainersNotReady", "containers with unready status: [a b]"]);
    assert.deepEqual(c["Ready"], ["False", "ContainersNotReady", "containers with unready status: [a b]"]);
  });

  it("an unready sidecar is named before the containers", () => {
    const s = status({
      pod: pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
      attempts: [running("proxy"), running("main")],
      knowledge: { proxy: { ready: false, started: true }, main: { ready: false, started: true } },
    });
    assert.equal(cond(s, "Ready")["message"], "containers with unready status: [proxy main]");
  });

  it("init containers not done: ContainersNotInitialized with the incomplete ones", () => {
    const s = status({
      pod: pod({ initContainers: [ctr("fetch"), ctr("migrate"), ctr("warm")], containers: [ctr("main")] }),
      attempts: [exited("fetch", 0), running("migrate")],
    });
    const c = conds(s);
    assert.deepEqual(c["Initialized"], [
      "False",
      "ContainersNotInitialized",
      "containers with incomplete status: [migrate warm]",
    ]);
    assert.deepEqual(c["ContainersReady"], ["False", "ContainersNotReady", "containers with unready status: [main]"]);
  });

  it("a sidecar counts as initialized once started", () => {
    const p = pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] });
    const notStarted = status({
      pod: p,
      attempts: [running("proxy")],
      knowledge: { proxy: { ready: false, started: false } },
    });
    assert.deepEqual(conds(notStarted)["Initialized"], [
      "False",
      "ContainersNotInitialized",
      "containers with incomplete status: [proxy]",
    ]);
    const started = status({
      pod: p,
      attempts: [running("proxy")],
      knowledge: { proxy: { ready: false, started: true } },
    });
    assert.equal(cond(started, "Initialized")["status"], "True");
  });

  it("stays Initialized while a sidecar restarts after a regular container started", () => {
    const s = status({
      pod: pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
      attempts: [exited("proxy", 1), running("main")],
      knowledge: { proxy: crashLoop },
    });
    assert.deepEqual(conds(s)["Initialized"], ["True", undefined, undefined]);
  });

  it("Succeeded: Initialized True and Ready/ContainersReady False, all with reason PodCompleted", () => {
    const s = status({
      pod: pod({ restartPolicy: "Never", containers: [ctr("main")] }),
      attempts: [exited("main", 0)],
    });
    const c = conds(s);
    assert.deepEqual(c["Initialized"], ["True", "PodCompleted", undefined]);
    assert.deepEqual(c["Ready"], ["False", "PodCompleted", undefined]);
    assert.deepEqual(c["ContainersReady"], ["False", "PodCompleted", undefined]);
  });

  it("Failed: Ready and ContainersReady False with reason PodFailed", () => {
    const s = status({
      pod: pod({ restartPolicy: "Never", containers: [ctr("main")] }),
      attempts: [exited("main", 1)],
    });
    const c = conds(s);
    assert.deepEqual(c["Ready"], ["False", "PodFailed", undefined]);
    assert.deepEqual(c["ContainersReady"], ["False", "PodFailed", undefined]);
    assert.deepEqual(c["Initialized"], ["True", undefined, undefined]);
  });

  it("PodReadyToStartContainers follows the sandbox", () => {
    const s = status({ pod: pod({ containers: [ctr("main")] }), sandboxReady: false });
    assert.deepEqual(conds(s)["PodReadyToStartContainers"], ["False", undefined, undefined]);
  });

  it("keeps lastTransitionTime while a condition's status is unchanged, moves it when it changes", () => {
    const p = pod({ containers: [ctr("main")] });
    const first = status({
      pod: p,
      attempts: [running("main")],
      knowledge: { main: { ready: false, started: true } },
      now: T0,
    });
    const later = status({
      pod: { ...p, status: first },
      attempts: [running("main")],
      knowledge: { main: { ready: false, started: true } },
      now: T0 + 30_000,
    });
    assert.equal(cond(later, "Ready")["lastTransitionTime"], rfc3339(T0));
    assert.equal(cond(later, "Initialized")["lastTransitionTime"], rfc3339(T0));
    const ready = status({ pod: { ...p, status: later }, attempts: [running("main")], now: T0 + 60_000 });
    assert.equal(cond(ready, "Ready")["lastTransitionTime"], rfc3339(T0 + 60_000));
    assert.equal(cond(ready, "Initialized")["lastTransitionTime"], rfc3339(T0));
  });

  it("transition times go on from the status the kubelet last wrote while the API copy lags behind it", () => {
    const p = pod({ containers: [ctr("main")] });
    const running1 = status({ pod: p, attempts: [running("main")], now: T0 });
    // the kubelet wrote the Succeeded status; its copy of the pod still shows Running
    const done = { attempts: [exited("main", 0)], terminal: { phase: "Succeeded" as const }, sandboxReady: false };
    const written = status({ pod: { ...p, status: running1 }, ...done, now: T0 + 10_000 });
    const again = status({ pod: { ...p, status: running1 }, ...done, now: T0 + 20_000, previous: written });
    assert.equal(sameStatus(again, written), true, "nothing new to write");
    assert.equal(cond(again, "Ready")["lastTransitionTime"], rfc3339(T0 + 10_000));
    assert.equal(cond(again, "PodReadyToStartContainers")["lastTransitionTime"], rfc3339(T0 + 10_000));
    // without what it wrote (a restarted kubelet) the API copy is the reference, as before
    const fresh = status({ pod: { ...p, status: running1 }, ...done, now: T0 + 20_000 });
    assert.equal(cond(fresh, "Ready")["lastTransitionTime"], rfc3339(T0 + 20_000));
    // a terminal phase the kubelet wrote stays terminal though the copy says Running
    const after = status({ pod: { ...p, status: running1 }, attempts: [exited("main", 0)], previous: written });
    assert.equal(after["phase"], "Succeeded");
  });

  it("conditions others own (DisruptionTarget) are kept as they are, before the kubelet's", () => {
    const disruption = {
      type: "DisruptionTarget",
      status: "True",
      reason: "DeletionByTaintManager",
      message: "Taint manager: deleting due to NoExecute taint",
      lastProbeTime: null,
      lastTransitionTime: rfc3339(T0),
    };
    const s = status({
      pod: pod({ containers: [ctr("main")] }, { conditions: [disruption] }),
      attempts: [running("main")],
    });
    assert.deepEqual((s["conditions"] as Rec[])[0], disruption);
    assert.equal((s["conditions"] as Rec[]).filter((c) => c["type"] === "DisruptionTarget").length, 1);
  });

  describe("readiness gates", () => {
    const gated = (conditions: Rec[]) =>
      status({
        pod: pod({ readinessGates: [{ conditionType: "example.com/lb" }], containers: [ctr("main")] }, { conditions }),
        attempts: [running("main")],
      });
    const gate = (s: string): Rec => ({
      type: "example.com/lb",
      status: s,
      lastProbeTime: null,
      lastTransitionTime: rfc3339(T0),
    });

    it("a missing gate condition holds Ready False, ContainersReady stays True", () => {
      const c = conds(gated([]));
      assert.deepEqual(c["Ready"], [
        "False",
        "ReadinessGatesNotReady",
        'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
      ]);
      assert.deepEqual(c["ContainersReady"], ["True", undefined, undefined]);
    });

    it("a gate condition not True holds Ready False", () => {
      assert.deepEqual(conds(gated([gate("False")]))["Ready"], [
        "False",
        "ReadinessGatesNotReady",
        'the status of pod readiness gate "example.com/lb" is not "True", but False',
      ]);
    });

    it("a True gate condition lets the pod be Ready, and is kept", () => {
      const s = gated([gate("True")]);
      assert.deepEqual(conds(s)["Ready"], ["True", undefined, undefined]);
      assert.deepEqual(cond(s, "example.com/lb"), gate("True"));
    });

    it("unready containers win over gates in the message", () => {
      const s = status({
        pod: pod({ readinessGates: [{ conditionType: "example.com/lb" }], containers: [ctr("main")] }),
        attempts: [running("main")],
        knowledge: { main: { ready: false, started: true } },
      });
      assert.deepEqual(conds(s)["Ready"], ["False", "ContainersNotReady", "containers with unready status: [main]"]);
    });
  });
});

describe("container statuses (upstream convertToAPIContainerStatuses)", () => {
  it("a running container: startedAt, containerID <runtime>://<id>, ready and started", () => {
    const r = running("main", 2);
    const s = cs(status({ pod: pod({ containers: [ctr("main")] }), attempts: [exited("main", 1, 1), r] }), "main");
    assert.deepEqual(s["state"], { running: { startedAt: rfc3339(T0 + 1000) } });
    assert.equal(s["containerID"], `runc://${r.id}`);
    assert.equal(s["ready"], true);
    assert.equal(s["started"], true);
    assert.equal(s["restartCount"], 2);
    assert.equal((s["lastState"] as Rec)["terminated"] !== undefined, true, "the previous attempt is the last state");
  });

  it("a terminated container: exit code, reason, message, times and container ID", () => {
    const e = exited("main", 137, 0, { reason: "OOMKilled", message: "out of memory" });
    const s = cs(status({ pod: pod({ restartPolicy: "Never", containers: [ctr("main")] }), attempts: [e] }), "main");
    assert.deepEqual(s["state"], {
      terminated: {
        exitCode: 137,
        reason: "OOMKilled",
        message: "out of memory",
        startedAt: rfc3339(T0 + 1000),
        finishedAt: rfc3339(T0 + 5000),
        containerID: `runc://${e.id}`,
      },
    });
    assert.deepEqual(s["lastState"], {});
    assert.equal(s["ready"], false);
  });

  it("a terminated container's reason defaults to Completed for 0 and Error otherwise", () => {
    const s = status({
      pod: pod({ restartPolicy: "Never", containers: [ctr("ok"), ctr("bad")] }),
      attempts: [exited("ok", 0), exited("bad", 3)],
    });
    assert.equal(((cs(s, "ok")["state"] as Rec)["terminated"] as Rec)["reason"], "Completed");
    assert.equal(((cs(s, "bad")["state"] as Rec)["terminated"] as Rec)["reason"], "Error");
  });

  it("a container in back-off waits with CrashLoopBackOff and its exit as the last state", () => {
    const e = exited("main", 1, 3);
    const s = cs(
      status({
        pod: pod({ containers: [ctr("main")] }),
        attempts: [exited("main", 1, 2), e],
        knowledge: { main: crashLoop },
      }),
      "main",
    );
    assert.deepEqual(s["state"], {
      waiting: {
        reason: "CrashLoopBackOff",
        message: "back-off 10s restarting failed container=main pod=p_default(uid-1)",
      },
    });
    assert.equal(((s["lastState"] as Rec)["terminated"] as Rec)["containerID"], `runc://${e.id}`);
    assert.equal(((s["lastState"] as Rec)["terminated"] as Rec)["exitCode"], 1);
    assert.equal(s["restartCount"], 3);
    assert.equal(s["containerID"], `runc://${e.id}`);
  });

  it("a container not created yet waits with ContainerCreating, or PodInitializing when the pod has init containers", () => {
    const plain = status({ pod: pod({ containers: [ctr("main")] }) });
    assert.deepEqual(cs(plain, "main")["state"], { waiting: { reason: "ContainerCreating" } });
    const withInit = status({
      pod: pod({ initContainers: [ctr("init")], containers: [ctr("main")] }),
      attempts: [exited("init", 0)],
    });
    assert.deepEqual(cs(withInit, "main")["state"], { waiting: { reason: "PodInitializing" } });
  });

  it("a waiting reason the kubelet knows (CreateContainerConfigError) is shown with its message", () => {
    const s = status({
      pod: pod({ containers: [ctr("main")] }),
      knowledge: {
        main: {
          ready: false,
          started: false,
          waitingReason: "CreateContainerConfigError",
          waitingMessage: 'configmap "cfg" not found',
        },
      },
    });
    assert.deepEqual(cs(s, "main")["state"], {
      waiting: { reason: "CreateContainerConfigError", message: 'configmap "cfg" not found' },
    });
  });

  it("a completed init container is ready but not started; later ones wait with PodInitializing", () => {
    const s = status({
      pod: pod({ initContainers: [ctr("a"), ctr("b"), ctr("c")], containers: [ctr("main")] }),
      attempts: [exited("a", 0), running("b")],
    });
    const a = cs(s, "a", "initContainerStatuses");
    assert.equal(a["ready"], true);
    assert.equal(a["started"], false);
    const b = cs(s, "b", "initContainerStatuses");
    assert.equal(b["ready"], false, "a running regular init container is not ready");
    assert.equal(b["started"], true);
    assert.deepEqual(cs(s, "c", "initContainerStatuses")["state"], { waiting: { reason: "PodInitializing" } });
    assert.deepEqual(
      (s["initContainerStatuses"] as Rec[]).map((x) => x["name"]),
      ["a", "b", "c"],
      "init containers in spec order",
    );
  });

  it("a failed init container is not ready", () => {
    const s = status({
      pod: pod({ restartPolicy: "Never", initContainers: [ctr("a")], containers: [ctr("main")] }),
      attempts: [exited("a", 1)],
    });
    assert.equal(cs(s, "a", "initContainerStatuses")["ready"], false);
  });

  it("a sidecar's readiness and start come from its probes", () => {
    const s = status({
      pod: pod({ initContainers: [sidecar("proxy")], containers: [ctr("main")] }),
      attempts: [running("proxy"), running("main")],
      knowledge: { proxy: { ready: false, started: true } },
    });
    const proxy = cs(s, "proxy", "initContainerStatuses");
    assert.equal(proxy["started"], true);
    assert.equal(proxy["ready"], false);
  });

  it("container statuses are sorted by name, as upstream", () => {
    const s = status({
      pod: pod({ containers: [ctr("web"), ctr("app"), ctr("sidecar")] }),
      attempts: [running("web"), running("app"), running("sidecar")],
    });
    assert.deepEqual(
      (s["containerStatuses"] as Rec[]).map((x) => x["name"]),
      ["app", "sidecar", "web"],
    );
  });

  it("before the runtime knows a container, its image is the spec's as written", () => {
    const s = status({ pod: pod({ containers: [ctr("main", { image: "nginx" })] }) });
    assert.equal(cs(s, "main")["image"], "nginx");
  });

  it("a created container's image is the normalized reference", () => {
    const s = status({
      pod: pod({ containers: [ctr("main", { image: "nginx" })] }),
      attempts: [{ ...running("main"), image: "nginx" }],
    });
    assert.equal(cs(s, "main")["image"], "docker.io/library/nginx:latest");
  });

  const images: Array<[string, string]> = [
    ["nginx", "docker.io/library/nginx:latest"],
    ["nginx:1.27", "docker.io/library/nginx:1.27"],
    ["library/nginx", "docker.io/library/nginx:latest"],
    ["bitnami/redis:7.2", "docker.io/bitnami/redis:7.2"],
    ["registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"],
    ["localhost:5000/x", "localhost:5000/x:latest"],
    ["localhost:5000/x:v1", "localhost:5000/x:v1"],
    ["localhost/app", "localhost/app:latest"],
    ["quay.io/coreos/etcd", "quay.io/coreos/etcd:latest"],
    ["nginx@sha256:0123abcd", "docker.io/library/nginx@sha256:0123abcd"],
  ];
  for (const [image, want] of images)
    it(`image ${image} is reported as ${want}`, () => assert.equal(normalizedImage(image), want));
});

describe("pod status fields", () => {
  it("IPs, start time, and the host", () => {
    const s = status({ pod: pod({ containers: [ctr("main")] }), attempts: [running("main")] });
    assert.equal(s["hostIP"], "192.168.1.10");
    assert.deepEqual(s["hostIPs"], [{ ip: "192.168.1.10" }]);
    assert.equal(s["podIP"], "10.244.0.7");
    assert.deepEqual(s["podIPs"], [{ ip: "10.244.0.7" }]);
    assert.equal(s["startTime"], rfc3339(NOW));
    const again = status({
      pod: pod({ containers: [ctr("main")] }, { startTime: rfc3339(T0) }),
      attempts: [running("main")],
    });
    assert.equal(again["startTime"], rfc3339(T0));
  });

  it("a terminal verdict's reason and message are reported", () => {
    const s = status({
      pod: pod({ containers: [ctr("main")] }),
      attempts: [running("main")],
      terminal: { phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." },
    });
    assert.equal(s["reason"], "Evicted");
    assert.equal(s["message"], "The node was low on resource: memory.");
  });

  it("the reason of a phase is kept while the phase holds, dropped when it changes", () => {
    const kept = status({
      pod: pod({ containers: [ctr("main")] }, { phase: "Running", reason: "Something" }),
      attempts: [running("main")],
    });
    assert.equal(kept["reason"], "Something");
    const dropped = status({
      pod: pod({ containers: [ctr("main")] }, { phase: "Pending", reason: "Something" }),
      attempts: [running("main")],
    });
    assert.equal(dropped["reason"], undefined);
  });

  it("the same status computed twice is the same (no needless writes)", () => {
    const c: Case = { pod: pod({ containers: [ctr("main")] }), attempts: [running("main")] };
    const first = status(c);
    const second = status({ ...c, pod: { ...c.pod, status: first }, now: NOW + 10_000 });
    assert.equal(sameStatus(first, second), true);
  });
});
