/**
 * The node agent end to end with the real kubectl, on the `process` runtime (host processes:
 * runs on any machine). Pods are bound with spec.nodeName here, so the kubelet is tested apart
 * from the scheduler.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, until } from "./support.js";

const NODE = "k8ts-node";

function pod(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { nodeName: NODE, automountServiceAccountToken: false, ...spec },
  });
}

describe("node agent (process runtime) with kubectl", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  const get = async (name: string) => {
    const r = await c.kubectl(["get", "pod", name, "-o", "json"]);
    return r.code === 0 ? (JSON.parse(r.stdout) as { status: Record<string, unknown> }) : undefined;
  };
  const statusCell = async (name: string) => {
    const r = await c.kubectl(["get", "pod", name, "--no-headers"]);
    return r.stdout.trim().split(/\s+/);
  };

  before(async () => {
    c = await startCluster({ agent: "process" });
  });
  after(async () => {
    await c?.stop();
  });

  it("registers a Ready node with upstream's columns", async () => {
    const r = await until("node Ready", async () => {
      const x = await c.kubectl(["get", "nodes"]);
      return x.stdout.includes(" Ready ") ? x : undefined;
    });
    const [header, row] = r.stdout.trim().split("\n");
    assert.deepEqual(header!.split(/\s{2,}/), ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert.match(row!, /^k8ts-node\s+Ready\s+control-plane\s+\S+\s+v1\.36\./);
    const lease = await c.kubectl([
      "get",
      "lease",
      "-n",
      "kube-node-lease",
      NODE,
      "-o",
      "jsonpath={.spec.holderIdentity}",
    ]);
    assert.equal(lease.stdout, NODE);
    const d = await c.kubectl(["describe", "node", NODE]);
    assert.match(d.stdout, /Ready\s+True\s+.*KubeletReady\s+kubelet is posting ready status/);
    assert.match(d.stdout, /pods:\s+110/);
    assert.match(d.stdout, /PodCIDR:\s+10\.244\.\d+\.0\/24/);
  });

  it("runs a pod to Completed with its env, logs and events", async () => {
    const r = await c.kubectl(["create", "-f", "-"], {
      stdin: pod("hello", {
        restartPolicy: "Never",
        containers: [
          {
            name: "main",
            image: "busybox",
            command: ["sh", "-c", "echo hello from $(MY_NAME) on $NODE; echo oops >&2"],
            env: [
              { name: "MY_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            ],
          },
        ],
      }),
    });
    assert.equal(r.code, 0, r.stderr);
    await until("Completed", async () => ((await statusCell("hello"))[2] === "Completed" ? true : undefined));
    const p = (await get("hello"))!;
    assert.equal(p.status["phase"], "Succeeded");
    const cs = (p.status["containerStatuses"] as Array<Record<string, unknown>>)[0]!;
    const term = (cs["state"] as Record<string, Record<string, unknown>>)["terminated"]!;
    assert.equal(term["exitCode"], 0);
    assert.equal(term["reason"], "Completed");
    assert.match(String(cs["containerID"]), /^process:\/\/[0-9a-f]{64}$/);
    assert.equal(cs["image"], "docker.io/library/busybox:latest");
    const ev = await c.kubectl(["get", "events", "--field-selector", "involvedObject.name=hello", "-o", "json"]);
    const reasons = (JSON.parse(ev.stdout) as { items: Array<{ reason: string; message: string }> }).items.map(
      (e) => `${e.reason}: ${e.message}`,
    );
    assert.ok(reasons.includes("Created: Created container: main"), reasons.join("\n"));
    assert.ok(reasons.includes("Started: Started container main"), reasons.join("\n"));
  });

  it("reports a failing container as Error with its exit code, and restarts under Always with back-off", async () => {
    await c.kubectl(["create", "-f", "-"], {
      stdin: pod("fails", {
        restartPolicy: "Never",
        containers: [{ name: "main", image: "x", command: ["sh", "-c", "exit 3"] }],
      }),
    });
    await c.kubectl(["create", "-f", "-"], {
      stdin: pod("crashloop", { containers: [{ name: "main", image: "x", command: ["sh", "-c", "exit 1"] }] }),
    });
    await until("Error", async () => ((await statusCell("fails"))[2] === "Error" ? true : undefined));
    const f = (await get("fails"))!;
    assert.equal(f.status["phase"], "Failed");
    const cells = await until("CrashLoopBackOff", async () => {
      const x = await statusCell("crashloop");
      return x[2] === "CrashLoopBackOff" ? x : undefined;
    });
    assert.equal(cells[1], "0/1");
    assert.ok(Number(cells[3]) >= 1, `restarts: ${cells.join(" ")}`);
    const p = (await get("crashloop"))!;
    assert.equal(p.status["phase"], "Running");
    const cs = (p.status["containerStatuses"] as Array<Record<string, Record<string, Record<string, unknown>>>>)[0]!;
    assert.match(
      String(cs["state"]!["waiting"]!["message"]),
      /^back-off \d+s restarting failed container=main pod=crashloop_default\(/,
    );
    assert.equal(cs["lastState"]!["terminated"]!["exitCode"], 1);
    const d = await c.kubectl(["describe", "pod", "crashloop"]);
    assert.match(d.stdout, /Warning\s+BackOff\s+.*Back-off restarting failed container main in pod crashloop_default/);
  });

  it("waits for init containers in order (Init:0/2 → Running)", async () => {
    const marker = `/tmp/k8ts-init-${process.pid}-${Date.now()}`;
    await c.kubectl(["create", "-f", "-"], {
      stdin: pod("withinit", {
        initContainers: [
          { name: "first", image: "x", command: ["sh", "-c", `sleep 1; echo one > ${marker}`] },
          { name: "second", image: "x", command: ["sh", "-c", `test -f ${marker} && echo two >> ${marker}`] },
        ],
        containers: [{ name: "main", image: "x", command: ["sh", "-c", `cat ${marker}; sleep 600`] }],
      }),
    });
    const early = await statusCell("withinit");
    assert.match(early[2] ?? "", /^(Init:0\/2|Pending)$/);
    await until("Running", async () => ((await statusCell("withinit"))[2] === "Running" ? true : undefined));
    const logs = await until("logs", async () => {
      const l = await c.kubectl(["get", "--raw", "/api/v1/namespaces/default/pods/withinit"]);
      return l.code === 0 ? l : undefined;
    });
    assert.ok(logs.stdout.includes('"initContainerStatuses"'));
    const p = (await get("withinit"))!;
    const inits = p.status["initContainerStatuses"] as Array<Record<string, Record<string, Record<string, unknown>>>>;
    assert.deepEqual(
      inits.map((s) => s["state"]!["terminated"]?.["exitCode"]),
      [0, 0],
    );
  });

  it("marks a pod ready only after its readiness probe passes", async () => {
    const flag = `/tmp/k8ts-ready-${process.pid}-${Date.now()}`;
    await c.kubectl(["create", "-f", "-"], {
      stdin: pod("probed", {
        containers: [
          {
            name: "main",
            image: "x",
            command: ["sh", "-c", `sleep 2; touch ${flag}; sleep 600`],
            readinessProbe: { exec: { command: ["test", "-f", flag] }, periodSeconds: 1 },
          },
        ],
      }),
    });
    await until("Running", async () => ((await statusCell("probed"))[2] === "Running" ? true : undefined));
    const notYet = await statusCell("probed");
    assert.equal(notYet[1], "0/1");
    await until("1/1", async () => ((await statusCell("probed"))[1] === "1/1" ? true : undefined));
    const d = await c.kubectl(["describe", "pod", "probed"]);
    assert.match(d.stdout, /Readiness probe failed/);
  });

  it("restarts a container whose liveness probe fails", async () => {
    await c.kubectl(["create", "-f", "-"], {
      stdin: pod("unhealthy", {
        containers: [
          {
            name: "main",
            image: "x",
            command: ["sh", "-c", "sleep 600"],
            livenessProbe: {
              exec: { command: ["sh", "-c", "echo not well; exit 1"] },
              periodSeconds: 1,
              failureThreshold: 2,
            },
          },
        ],
      }),
    });
    await until("a restart", async () => (Number((await statusCell("unhealthy"))[3]) >= 1 ? true : undefined));
    const d = await c.kubectl(["describe", "pod", "unhealthy"]);
    assert.match(d.stdout, /Warning\s+Unhealthy\s+.*Liveness probe failed: not well/);
    assert.match(d.stdout, /Normal\s+Killing\s+.*Container main failed liveness probe, will be restarted/);
  });

  it("waits with CreateContainerConfigError for a missing ConfigMap key, then starts once it exists", async () => {
    await c.kubectl(["create", "-f", "-"], {
      stdin: pod("needscm", {
        containers: [
          {
            name: "main",
            image: "x",
            command: ["sh", "-c", "echo $GREETING; sleep 600"],
            env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: "greet", key: "text" } } }],
          },
        ],
      }),
    });
    await until("CreateContainerConfigError", async () =>
      (await statusCell("needscm"))[2] === "CreateContainerConfigError" ? true : undefined,
    );
    const p = (await get("needscm"))!;
    const cs = (p.status["containerStatuses"] as Array<Record<string, Record<string, Record<string, unknown>>>>)[0]!;
    assert.equal(cs["state"]!["waiting"]!["message"], 'configmap "greet" not found');
    await c.kubectl(["create", "configmap", "greet", "--from-literal=text=hi"]);
    await until("Running", async () => ((await statusCell("needscm"))[2] === "Running" ? true : undefined), 40_000);
  });

  it("deletes gracefully: SIGTERM, the grace period, then SIGKILL, then the object goes", async () => {
    await c.kubectl(["create", "-f", "-"], {
      stdin: pod("stubborn", {
        terminationGracePeriodSeconds: 3,
        containers: [{ name: "main", image: "x", command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.2; done"] }],
      }),
    });
    await until("Running", async () => ((await statusCell("stubborn"))[2] === "Running" ? true : undefined));
    const del = c.kubectl(["delete", "pod", "stubborn", "--wait=false"]);
    assert.equal((await del).code, 0);
    // within the grace period the pod is still there, Terminating
    const during = await statusCell("stubborn");
    assert.equal(during[2], "Terminating");
    await until(
      "gone",
      async () => ((await c.kubectl(["get", "pod", "stubborn"])).code !== 0 ? true : undefined),
      20_000,
    );
    const d = await c.kubectl([
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=stubborn,reason=Killing",
      "-o",
      "name",
    ]);
    assert.notEqual(d.stdout.trim(), "");
  });
});
