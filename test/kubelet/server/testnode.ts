/**
 * A node for black-box tests of the kubelet API: the KubeletServer with the HostRuntime double,
 * a Node object whose address and kubelet port point at it, and pods bound to it whose containers
 * the double really runs (status written through pods/status, as a kubelet would).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KObject } from "../../../src/api/types.js";
import { defaultAdmissionOptions, firstServiceIP } from "../../../src/apiserver/admission.js";
import type { ApiServer } from "../../../src/apiserver/server.js";
import type { ContainerConfig } from "../../../src/kubelet/runtime/types.js";
import { type ContainerLocation, KubeletServer, type PodLocator } from "../../../src/kubelet/server/index.js";
import { defaultSans, ensurePki, type Pki } from "../../../src/pki/index.js";
import type { Client } from "../../e2e/client.js";
import { HostRuntime } from "./hostruntime.js";

export interface ContainerSpec {
  name: string;
  /** Shell script the container runs (`sh -c`). */
  script: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

interface Attempt {
  id: string;
  logPath: string;
}

interface PodRecord {
  pod: KObject;
  attempts: Map<string, Attempt[]>;
  specs: Map<string, ContainerSpec>;
}

export class TestNode implements PodLocator {
  readonly runtime = new HostRuntime();
  readonly name: string;
  server!: KubeletServer;
  port = 0;
  pki!: Pki;
  private readonly client: Client;
  private readonly dir: string;
  private readonly records = new Map<string, PodRecord>();

  constructor(client: Client, dir: string, name = "node1") {
    this.client = client;
    this.dir = dir;
    this.name = name;
  }

  /** Starts the kubelet API with a serving certificate of the cluster CA in `tlsDir`, and registers the Node. */
  async start(tlsDir: string, api: ApiServer): Promise<void> {
    // the same SANs as the server's, so its serving certificate is kept
    this.pki = await ensurePki(tlsDir, defaultSans("127.0.0.1", firstServiceIP(defaultAdmissionOptions.serviceCIDR)));
    if (!api.nodeProxy.hasKubeletClient) {
      // until src/cli/server.ts passes pki.kubeletClientCert to the ApiServer
      api.nodeProxy.setKubeletClient({ cert: this.pki.kubeletClientCert, key: this.pki.kubeletClientKey });
    }
    const serving = await this.pki.issue(this.name, [], ["127.0.0.1", "localhost", this.name]);
    this.server = new KubeletServer({
      runtime: this.runtime,
      pods: this,
      tls: { key: serving.key, cert: serving.cert, ca: this.pki.caCert },
      bind: "127.0.0.1",
      port: 0,
      nodeName: this.name,
      rootDir: this.dir,
    });
    this.port = await this.server.start();
    await this.ok(
      await this.client.call("POST", "/api/v1/nodes", {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: this.name },
      }),
    );
    await this.ok(
      await this.client.call(
        "PATCH",
        `/api/v1/nodes/${this.name}/status`,
        {
          status: {
            addresses: [
              { type: "InternalIP", address: "127.0.0.1" },
              { type: "Hostname", address: this.name },
            ],
            daemonEndpoints: { kubeletEndpoint: { Port: this.port } },
            conditions: [
              { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
            ],
          },
        },
        { "content-type": "application/merge-patch+json" },
      ),
    );
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.runtime.close();
  }

  private async ok(r: { code: number; body: string }): Promise<KObject> {
    if (r.code >= 300) throw new Error(`API call failed: ${r.code} ${r.body}`);
    return JSON.parse(r.body) as KObject;
  }

  /**
   * Creates a pod bound to `nodeName` (this node unless said), starts its containers unless
   * `start` is false, and reports its status.
   */
  async createPod(
    name: string,
    containers: ContainerSpec[],
    opts: { nodeName?: string | null; initContainers?: ContainerSpec[]; start?: boolean } = {},
  ): Promise<KObject> {
    const toSpec = (c: ContainerSpec) => ({
      name: c.name,
      image: "busybox",
      command: ["sh", "-c", c.script],
      ...(c.stdin ? { stdin: true } : {}),
      ...(c.stdinOnce ? { stdinOnce: true } : {}),
      ...(c.tty ? { tty: true } : {}),
    });
    const nodeName = opts.nodeName === undefined ? this.name : opts.nodeName;
    const pod = await this.ok(
      await this.client.call("POST", "/api/v1/namespaces/default/pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: {
          ...(nodeName ? { nodeName } : {}),
          containers: containers.map(toSpec),
          ...(opts.initContainers ? { initContainers: opts.initContainers.map(toSpec) } : {}),
        },
      }),
    );
    const rec: PodRecord = { pod, attempts: new Map(), specs: new Map(containers.map((c) => [c.name, c])) };
    this.records.set(name, rec);
    if (opts.start === false) {
      await this.reportStatus(name, "Pending");
      return pod;
    }
    for (const c of containers) await this.startContainer(name, c.name);
    await this.reportStatus(name, "Running");
    return pod;
  }

  /** Starts (another attempt of) a container; the previous attempt must have exited. */
  async startContainer(podName: string, container: string, script?: string): Promise<string> {
    const rec = this.records.get(podName)!;
    const spec = rec.specs.get(container)!;
    const attempts = rec.attempts.get(container) ?? [];
    const attempt = attempts.length;
    const uid = rec.pod.metadata.uid ?? "";
    const logPath = join(this.dir, "pods", `default_${podName}_${uid}`, container, `${attempt}.log`);
    mkdirSync(join(logPath, ".."), { recursive: true });
    const cfg: ContainerConfig = {
      name: container,
      attempt,
      image: "busybox",
      argv: ["sh", "-c", script ?? spec.script],
      env: [],
      mounts: [],
      resources: { cpuRequestMilli: 0, cpuLimitMilli: 0, memoryLimitBytes: 0 },
      stdin: spec.stdin ?? false,
      stdinOnce: spec.stdinOnce ?? false,
      tty: spec.tty ?? false,
      logPath,
      labels: {},
      podAnnotations: {},
    };
    const id = await this.runtime.createContainer(uid, cfg);
    await this.runtime.startContainer(id);
    attempts.push({ id, logPath });
    rec.attempts.set(container, attempts);
    return id;
  }

  /** Waits until the container's current attempt has exited. */
  async waitExit(podName: string, container: string): Promise<void> {
    const id = this.records.get(podName)!.attempts.get(container)!.at(-1)!.id;
    for (;;) {
      const s = await this.runtime.containerStatus(id);
      if (!s || s.state === "exited") return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Writes the pod's status as the kubelet would (container states from the runtime). */
  async reportStatus(podName: string, phase: string): Promise<void> {
    const rec = this.records.get(podName)!;
    const statuses = [];
    for (const [name] of rec.specs) {
      const attempts = rec.attempts.get(name) ?? [];
      const cur = attempts.at(-1);
      const prev = attempts.at(-2);
      const s = cur ? await this.runtime.containerStatus(cur.id) : undefined;
      const p = prev ? await this.runtime.containerStatus(prev.id) : undefined;
      const iso = (ms?: number) => new Date(ms ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
      const terminated = (x: NonNullable<typeof s>) => ({
        terminated: {
          exitCode: x.exitCode ?? 0,
          reason: x.reason ?? "Completed",
          startedAt: iso(x.startedAt),
          finishedAt: iso(x.finishedAt),
          containerID: `process://${x.id}`,
        },
      });
      statuses.push({
        name,
        image: "busybox",
        imageID: "",
        ready: s?.state === "running",
        restartCount: Math.max(0, attempts.length - 1),
        started: s?.state === "running",
        ...(s ? { containerID: `process://${s.id}` } : {}),
        state: !s
          ? { waiting: { reason: "ContainerCreating" } }
          : s.state === "running"
            ? { running: { startedAt: iso(s.startedAt) } }
            : terminated(s),
        lastState: p ? terminated(p) : {},
      });
    }
    await this.ok(
      await this.client.call(
        "PATCH",
        `/api/v1/namespaces/default/pods/${podName}/status`,
        { status: { phase, hostIP: "127.0.0.1", podIP: "127.0.0.1", containerStatuses: statuses } },
        { "content-type": "application/merge-patch+json" },
      ),
    );
  }

  // PodLocator

  container(namespace: string, pod: string, container: string): ContainerLocation | undefined {
    if (namespace !== "default") return undefined;
    const rec = this.records.get(pod);
    const attempts = rec?.attempts.get(container);
    const spec = rec?.specs.get(container);
    if (!rec || !attempts || attempts.length === 0 || !spec) return undefined;
    const cur = attempts.at(-1)!;
    const prev = attempts.at(-2);
    return {
      podUid: rec.pod.metadata.uid ?? "",
      containerId: cur.id,
      running: this.runtime.isRunning(cur.id),
      logPath: cur.logPath,
      ...(prev ? { previousLogPath: prev.logPath } : {}),
      stdin: spec.stdin ?? false,
      tty: spec.tty ?? false,
    };
  }

  pods(): KObject[] {
    return [...this.records.values()].map((r) => r.pod);
  }
}
