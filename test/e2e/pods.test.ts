/**
 * Pods end to end the way the seeds run them: the scheduler places them, the embedded node runs
 * them. On runc (where it can run: root, runc, overlayfs) the seed 000 emptyDir story verbatim; on
 * the process runtime (anywhere) the seed 004 taint story, restart adoption, drain, and faults
 * that must end in upstream's states with events.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spawn as spawnPty } from "node-pty";
import { runcAvailability } from "../../src/kubelet/runtime/runc/availability.js";
import { kubectlBinary, startCluster, type TestCluster } from "./harness.js";
import { kubectlSkip, until } from "./support.js";

function cells(c: TestCluster, pod: string): Promise<string[]> {
  return c.kubectl(["get", "pod", pod, "--no-headers"]).then((r) => r.stdout.trim().split(/\s+/));
}

async function running(c: TestCluster, pod: string): Promise<void> {
  await until(`${pod} Running`, async () => ((await cells(c, pod))[2] === "Running" ? true : undefined));
}

/**
 * `kubectl port-forward pod/<pod> :<port>` in the background: waits for its "Forwarding from
 * 127.0.0.1:<local>" line, fetches `path` through it with a plain HTTP GET, and stops it.
 */
async function portForwardGet(
  c: TestCluster,
  pod: string,
  port: number,
  path = "/",
): Promise<{ body: string; stderr: string }> {
  const child = spawn(kubectlBinary() ?? "kubectl", ["port-forward", `pod/${pod}`, `:${port}`], {
    env: { ...process.env, KUBECONFIG: c.kubeconfig, HOME: c.dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  try {
    const local = await until("kubectl port-forward to listen", async () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
      return m ? Number(m[1]) : undefined;
    });
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpGet({ host: "127.0.0.1", port: local, path, timeout: 10_000 }, (res) => {
        let b = "";
        res.on("data", (d: Buffer) => {
          b += d.toString();
        });
        res.on("end", () => resolve(b));
      });
      req.on("error", (e) => resolve(`request failed: ${e.message}`));
      req.on("timeout", () => req.destroy(new Error("timed out")));
      void reject;
    });
    if (body === "" || body.startsWith("request failed")) {
      // kubectl prints the kubelet's error and exits ("lost connection to pod")
      await new Promise<void>((r) => {
        const t = setTimeout(r, 5000);
        child.once("exit", () => {
          clearTimeout(t);
          r();
        });
      });
    }
    return { body, stderr: err };
  } finally {
    child.kill("SIGTERM");
  }
}

const runc = runcAvailability();

describe("pods on runc: seed 000's emptyDir story", {
  skip: kubectlSkip() || (runc.ok ? false : `runc cannot run here: ${runc.reason}`),
}, () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ agent: "runc" });
  });
  after(async () => {
    await c?.stop();
  });

  it("kubectl create -f emptydir_pod.yaml → Running 1/1; a file touched in /cache is on the host", async () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: emptydir-pod
spec:
  containers:
  - name: myapp
    image: nginx
    volumeMounts:
    - name: cache-volume
      mountPath: /cache
  volumes:
  - name: cache-volume
    emptyDir: {}
`;
    assert.equal((await c.kubectl(["create", "-f", "-"], { stdin: yaml })).stdout.trim(), "pod/emptydir-pod created");
    await running(c, "emptydir-pod");
    const row = await cells(c, "emptydir-pod");
    assert.equal(row[1], "1/1");
    const ex = await c.kubectl(["exec", "emptydir-pod", "--", "sh", "-c", "touch /cache/abc && ls /cache && hostname"]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, "abc\nemptydir-pod\n");
    const uid = (await c.kubectl(["get", "pod", "emptydir-pod", "-o", "jsonpath={.metadata.uid}"])).stdout;
    const onHost = join(c.dataDir, "pods", uid, "volumes", "kubernetes.io~empty-dir", "cache-volume", "abc");
    assert.ok(existsSync(onHost), `${onHost} should exist`);
    const wide = await c.kubectl(["get", "pods", "-o", "wide", "--no-headers"]);
    assert.match(wide.stdout, /^emptydir-pod\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+k8ts-node\s/m);
    // the service account token is mounted where clients look for it
    const sa = await c.kubectl(["exec", "emptydir-pod", "--", "ls", "/var/run/secrets/kubernetes.io/serviceaccount"]);
    assert.deepEqual(sa.stdout.trim().split("\n").sort(), ["ca.crt", "namespace", "token"]);
    // the data dir (CA key, store) is not visible inside
    const peek = await c.kubectl(["exec", "emptydir-pod", "--", "cat", join(c.dataDir, "tls", "ca.key")]);
    assert.notEqual(peek.code, 0);
    assert.doesNotMatch(peek.stdout, /PRIVATE KEY/);
    const d = await c.kubectl(["describe", "pod", "emptydir-pod"]);
    assert.match(d.stdout, /Warning\s+ImageStoreMissing/);
    assert.match(
      d.stdout,
      /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/emptydir-pod to k8ts-node/,
    );
    assert.equal((await c.kubectl(["delete", "pod", "emptydir-pod"])).code, 0);
    // the pod's directory goes with it (upstream removes it in housekeeping, after the API object)
    await until("the emptyDir removed", async () => (existsSync(onHost) ? undefined : true), 20_000);
  });

  it("kubectl run busybox -it --image=busybox --restart=Never --rm -- sh -c 'echo hi' prints hi (seed 004)", async () => {
    // kubectl allocates a TTY only when its own stdin is a terminal: run it on one
    const bin = kubectlBinary() ?? "kubectl";
    const out = await new Promise<string>((resolve) => {
      const p = spawnPty(
        bin,
        ["run", "busybox", "-it", "--image=busybox", "--restart=Never", "--rm", "--", "sh", "-c", "echo hi"],
        {
          cols: 100,
          rows: 30,
          env: { ...process.env, KUBECONFIG: c.kubeconfig, HOME: c.dataDir, TERM: "xterm" } as Record<string, string>,
        },
      );
      let text = "";
      p.onData((d) => {
        text += d;
      });
      const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
      p.onExit(() => {
        clearTimeout(timer);
        resolve(text.replace(/\r/g, ""));
      });
    });
    assert.match(out, /^hi$/m);
    assert.match(out, /pod "busybox" deleted/);
  });

  it("kubectl port-forward reaches a server that listens on localhost inside the pod's network namespace", async () => {
    const pod = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "pf-web" },
      spec: {
        automountServiceAccountToken: false,
        containers: [
          {
            name: "web",
            image: "python",
            command: ["python3", "-m", "http.server", "8000", "--bind", "127.0.0.1", "--directory", "/etc"],
          },
        ],
      },
    });
    await c.kubectl(["create", "-f", "-"], { stdin: pod });
    await running(c, "pf-web");
    // the server may need a moment to listen
    const got = await until("a page through the tunnel", async () => {
      const r = await portForwardGet(c, "pf-web", 8000, "/hostname");
      return r.body === "pf-web\n" ? r : undefined;
    });
    assert.equal(got.body, "pf-web\n");
    // nothing listens on 9999: kubectl reports the kubelet's error
    const none = await portForwardGet(c, "pf-web", 9999);
    assert.match(none.body, /request failed|^$/);
    assert.match(
      none.stderr,
      /error forwarding port 9999 to pod pf-web_default, uid \S+: failed to connect to localhost:9999 inside the pod's network namespace/,
    );
    assert.equal((await c.kubectl(["delete", "pod", "pf-web", "--grace-period=1"])).code, 0);
  });

  it("an emptyDir over its sizeLimit gets the pod Evicted with upstream's message", async () => {
    const yaml = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "filler" },
      spec: {
        containers: [
          {
            name: "c",
            image: "busybox",
            command: ["sh", "-c", "head -c 3000000 /dev/zero > /scratch/big; sleep 600"],
            volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
          },
        ],
        volumes: [{ name: "scratch", emptyDir: { sizeLimit: "1Mi" } }],
      },
    });
    await c.kubectl(["create", "-f", "-"], { stdin: yaml });
    // the kubelet checks usage every 10 s, then kills at once
    const st = await until(
      "Evicted",
      async () => {
        const r = await c.kubectl([
          "get",
          "pod",
          "filler",
          "-o",
          "jsonpath={.status.phase}|{.status.reason}|{.status.message}",
        ]);
        return r.stdout.startsWith("Failed|") ? r.stdout : undefined;
      },
      60_000,
    );
    assert.equal(st, 'Failed|Evicted|Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  });

  it("a container over its memory limit is OOMKilled", async () => {
    const yaml = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "hog" },
      spec: {
        restartPolicy: "Never",
        containers: [
          {
            name: "hog",
            image: "busybox",
            command: ["sh", "-c", "tail /dev/zero"],
            resources: { limits: { memory: "32Mi" } },
          },
        ],
      },
    });
    await c.kubectl(["create", "-f", "-"], { stdin: yaml });
    await until("OOMKilled", async () => ((await cells(c, "hog"))[2] === "OOMKilled" ? true : undefined));
    const code = await c.kubectl([
      "get",
      "pod",
      "hog",
      "-o",
      "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}",
    ]);
    assert.equal(code.stdout, "137");
  });
});

describe("pods on the process runtime with the scheduler", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ agent: "process" });
    await until("node Ready", async () =>
      (await c.kubectl(["get", "node", "k8ts-node", "--no-headers"])).stdout.includes(" Ready ") ? true : undefined,
    );
  });
  after(async () => {
    await c?.stop();
  });

  const sleeper = (name: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app: name } },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: "c", image: "busybox", command: ["sh", "-c", "sleep 600"] }],
        ...extra,
      },
    });

  it("seed 000: a Job with completions 5 runs its pods one after another; kubectl delete job takes them", async () => {
    const yaml = `apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  completions: 5
  template:
    metadata:
      name: pi
    spec:
      automountServiceAccountToken: false
      containers:
      - name: pi
        image: perl
        command: ["sh", "-c", "echo 3.14159265358979323846"]
      restartPolicy: Never
`;
    assert.equal((await c.kubectl(["create", "-f", "-"], { stdin: yaml })).stdout.trim(), "job.batch/pi created");
    const row = await until(
      "5/5",
      async () => {
        const r = await c.kubectl(["get", "job", "pi", "--no-headers"]);
        return /^pi\s+Complete\s+5\/5\s+\S+\s+\S+/.test(r.stdout) ? r.stdout : undefined;
      },
      90_000,
    ).catch(async (err: unknown) => {
      // say where it stood
      const pods = await c.kubectl(["get", "pods", "-l", "job-name=pi", "-o", "wide"]);
      const job = await c.kubectl(["get", "job", "pi", "-o", "jsonpath={.status}"]);
      const ev = await c.kubectl(["get", "events", "--sort-by=.lastTimestamp"]);
      throw new Error(`${String(err)}\npods:\n${pods.stdout}\njob status: ${job.stdout}\nevents:\n${ev.stdout}`);
    });
    assert.match(row, /^pi\s+Complete\s+5\/5/);
    const listed = await c.kubectl(["get", "pods", "-l", "job-name=pi", "--no-headers"]);
    const lines = listed.stdout.trim().split("\n");
    assert.equal(lines.length, 5, listed.stdout);
    assert.ok(
      lines.every((l) => /^pi-[a-z0-9]{5}\s+0\/1\s+Completed\s+0\s/.test(l)),
      listed.stdout,
    );
    // one after another: each pod started after the previous one finished
    const times = await c.kubectl([
      "get",
      "pods",
      "-l",
      "job-name=pi",
      "-o",
      "jsonpath={range .items[*]}{.status.containerStatuses[0].state.terminated.startedAt} {.status.containerStatuses[0].state.terminated.finishedAt}{'\\n'}{end}",
    ]);
    const spans = times.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(" ").map((t) => Date.parse(t)) as [number, number])
      .sort((a, b) => a[0] - b[0]);
    assert.equal(spans.length, 5, times.stdout);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], times.stdout);
    const first = lines[0]!.split(/\s+/)[0]!;
    assert.equal((await c.kubectl(["logs", first])).stdout, "3.14159265358979323846\n");
    const d = await c.kubectl(["describe", "job", "pi"]);
    assert.match(d.stdout, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 5 Succeeded \/ 0 Failed/);
    assert.match(d.stdout, /Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/);
    assert.equal((await c.kubectl(["delete", "job", "pi"])).stdout.trim(), 'job.batch "pi" deleted');
    await until("its pods gone", async () => {
      const r = await c.kubectl(["get", "pods", "-l", "job-name=pi", "-o", "name"]);
      return r.stdout.trim() === "" ? true : undefined;
    });
  });

  it("seed 004: a control-plane taint keeps pods Pending with upstream's message; untainting lets them run", async () => {
    const t = await c.kubectl(["taint", "node", "k8ts-node", "node-role.kubernetes.io/control-plane=:NoSchedule"]);
    assert.equal(t.stdout.trim(), "node/k8ts-node tainted");
    await c.kubectl(["create", "-f", "-"], { stdin: sleeper("tainted") });
    const msg = await until("FailedScheduling", async () => {
      const d = await c.kubectl(["describe", "pod", "tainted"]);
      const line = d.stdout.split("\n").find((l) => l.includes("FailedScheduling"));
      return line?.replace(/^.*default-scheduler\s+/, "").trim();
    });
    assert.equal(
      msg,
      "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    const u = await c.kubectl(["taint", "node", "k8ts-node", "node-role.kubernetes.io/control-plane-"]);
    assert.equal(u.stdout.trim(), "node/k8ts-node untainted");
    await running(c, "tainted");
  });

  it("a kubelet restart adopts running containers instead of starting them again", async () => {
    await c.kubectl(["create", "-f", "-"], { stdin: sleeper("survivor") });
    await running(c, "survivor");
    const before = await c.kubectl([
      "get",
      "pod",
      "survivor",
      "-o",
      "jsonpath={.status.containerStatuses[0].containerID}",
    ]);
    await c.stop({ keepData: true });
    c = await startCluster({ agent: "process", dataDir: c.dataDir });
    await until("node Ready again", async () =>
      (await c.kubectl(["get", "node", "k8ts-node", "--no-headers"])).stdout.includes(" Ready ") ? true : undefined,
    );
    await running(c, "survivor");
    // a few relists later: still the same container, never restarted
    await new Promise((r) => setTimeout(r, 2500));
    const after = await c.kubectl([
      "get",
      "pod",
      "survivor",
      "-o",
      "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}",
    ]);
    assert.equal(after.stdout, `${before.stdout} 0`);
  });

  it("a command that does not exist ends in RunContainerError / CrashLoopBackOff with its message", async () => {
    await c.kubectl(["create", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "nocmd" },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: "c", image: "x", command: ["no-such-command-k8ts"] }],
        },
      }),
    });
    await until("a start failure", async () => {
      const s = (await cells(c, "nocmd"))[2] ?? "";
      return ["RunContainerError", "CrashLoopBackOff", "ContainerCannotRun"].includes(s) ? true : undefined;
    });
    const d = await c.kubectl(["describe", "pod", "nocmd"]);
    assert.match(d.stdout, /executable file not found in \$PATH/);
  });

  it("a hostPath of the wrong type fails to mount with upstream's event, the pod waits in ContainerCreating", async () => {
    await c.kubectl(["create", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "badhostpath" },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: "c", image: "x", command: ["sleep", "600"] }],
          volumes: [{ name: "data", hostPath: { path: "/etc/hostname", type: "Directory" } }],
        },
      }),
    });
    const ev = await until("FailedMount", async () => {
      const d = await c.kubectl(["describe", "pod", "badhostpath"]);
      return d.stdout.split("\n").find((l) => l.includes("FailedMount"));
    });
    assert.match(
      ev,
      /MountVolume\.SetUp failed for volume "data" : hostPath type check failed: \/etc\/hostname is not a directory/,
    );
    assert.equal((await cells(c, "badhostpath"))[2], "ContainerCreating");
  });

  it("kubectl drain evicts through the eviction API and respects a PodDisruptionBudget", async () => {
    const guarded = (name: string) =>
      JSON.parse(sleeper(name)) as { metadata: { labels: Record<string, string> } } & Record<string, unknown>;
    for (const name of ["guarded-1", "guarded-2"]) {
      const pod = guarded(name);
      pod.metadata.labels = { app: "guarded" };
      await c.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(pod) });
      await running(c, name);
    }
    const pdb = JSON.stringify({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "keep-guarded" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "guarded" } } },
    });
    assert.equal((await c.kubectl(["create", "-f", "-"], { stdin: pdb })).code, 0);
    // the disruption controller computes the budget: 2 healthy, 1 needed, 1 disruption allowed
    const row = await until("PDB status", async () => {
      const r = await c.kubectl(["get", "pdb", "keep-guarded", "--no-headers"]);
      return /\s1\s+N\/A\s+1\s/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(row, /^keep-guarded\s+1\s+N\/A\s+1\s+\S+/);
    const cond = await c.kubectl([
      "get",
      "pdb",
      "keep-guarded",
      "-o",
      "jsonpath={.status.conditions[0].type}={.status.conditions[0].status} {.status.conditions[0].reason} {.status.expectedPods}",
    ]);
    assert.equal(cond.stdout, "DisruptionAllowed=True SufficientPods 2");
    const blocked = await c.kubectl(
      ["drain", "k8ts-node", "--force", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=8s"],
      {
        timeoutMs: 60_000,
      },
    );
    assert.notEqual(blocked.code, 0);
    // one pod goes (the budget allowed one disruption), the other is refused with upstream's words
    assert.match(blocked.stdout + blocked.stderr, /pod\/guarded-[12] evicted/);
    assert.match(blocked.stderr + blocked.stdout, /Cannot evict pod as it would violate the pod's disruption budget/);
    const left1 = await c.kubectl(["get", "pods", "-l", "app=guarded", "-o", "name"]);
    assert.equal(left1.stdout.trim().split("\n").length, 1, left1.stdout);
    const after1 = await until("budget used up", async () => {
      const r = await c.kubectl([
        "get",
        "pdb",
        "keep-guarded",
        "-o",
        "jsonpath={.status.disruptionsAllowed} {.status.currentHealthy} {.status.conditions[0].reason}",
      ]);
      return r.stdout === "0 1 InsufficientPods" ? r.stdout : undefined;
    });
    assert.equal(after1, "0 1 InsufficientPods");
    const cordoned = await c.kubectl(["get", "node", "k8ts-node", "--no-headers"]);
    assert.match(cordoned.stdout, /SchedulingDisabled/);
    assert.equal((await c.kubectl(["delete", "pdb", "keep-guarded"])).code, 0);
    const drained = await c.kubectl(
      ["drain", "k8ts-node", "--force", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s"],
      {
        timeoutMs: 90_000,
      },
    );
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /node\/k8ts-node drained/);
    const left = await c.kubectl(["get", "pods", "--field-selector", "spec.nodeName=k8ts-node", "-o", "name"]);
    assert.equal(left.stdout.trim(), "");
    assert.equal((await c.kubectl(["uncordon", "k8ts-node"])).code, 0);
  });
});
