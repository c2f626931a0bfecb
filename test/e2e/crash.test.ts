/**
 * Crash safety: the server is killed with SIGKILL during a write load and restarted on the same
 * data dir. Every write it acknowledged is there, and a watch resumed from a revision before the
 * load sees every acknowledged object exactly once, in strictly increasing revision order.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type Client, clientFor } from "./client.js";

const BIN = new URL("../../../bin/k8ts.js", import.meta.url).pathname;

async function startChild(dataDir: string): Promise<{ child: ChildProcess; client: Client }> {
  const child = spawn(process.execPath, [BIN, "server", "--data-dir", dataDir, "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, K8TS_LOG: "error" },
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("export KUBECONFIG=")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, client: clientFor(join(dataDir, "kubeconfig.yaml")) };
}

interface WatchEventLine {
  type: string;
  object: { metadata: { name?: string; resourceVersion?: string } };
}

/** Collects watch events until `until` says stop or the time runs out. */
function collectWatch(client: Client, path: string, until: (evs: WatchEventLine[]) => boolean, ms: number) {
  return new Promise<WatchEventLine[]>((resolve, reject) => {
    const events: WatchEventLine[] = [];
    const req = request({ agent: client.agent, host: client.base.hostname, port: client.base.port, path }, (res) => {
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        buf += d;
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          events.push(JSON.parse(buf.slice(0, nl)) as WatchEventLine);
          buf = buf.slice(nl + 1);
        }
        if (until(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(events);
    }, ms);
    req.on("error", (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  });
}

describe("files of the data dir", () => {
  it("keeps the store, keys, tokens and kubeconfig readable by the server's user only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-modes-"));
    try {
      const server = await startChild(dir);
      server.client.agent.destroy();
      server.child.kill("SIGTERM");
      await new Promise((r) => server.child.once("exit", r));
      for (const f of ["", "db", "tls"]) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o700, `${f || "data dir"}`);
      for (const f of [
        "db/state.db",
        "tls/ca.key",
        "tls/server.key",
        "tls/admin.key",
        "tokens.csv",
        "kubeconfig.yaml",
      ]) {
        assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("kill -9 during writes", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-crash-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("keeps every acknowledged write and lets watches resume without holes", async () => {
    const first = await startChild(dataDir);
    const ns = "crash";
    assert.equal(
      (
        await first.client.call("POST", "/api/v1/namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: ns },
        })
      ).code,
      201,
    );
    const start = JSON.parse((await first.client.call("GET", `/api/v1/namespaces/${ns}/configmaps`)).body) as {
      metadata: { resourceVersion: string };
    };
    const acked = new Map<string, string>();
    let stop = false;
    let n = 0;
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const name = `cm-${n++}`;
        try {
          const r = await first.client.call("POST", `/api/v1/namespaces/${ns}/configmaps`, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, labels: { load: "crash" } },
            data: { n: name },
          });
          if (r.code === 201) {
            const obj = JSON.parse(r.body) as { metadata: { resourceVersion: string } };
            acked.set(name, obj.metadata.resourceVersion);
          }
        } catch {
          return; // the connection died with the server
        }
      }
    });
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 10));
    first.child.kill("SIGKILL");
    stop = true;
    await Promise.all(writers);
    first.client.agent.destroy();
    await new Promise((r) => first.child.once("exit", r));

    const second = await startChild(dataDir);
    try {
      const list = JSON.parse((await second.client.call("GET", `/api/v1/namespaces/${ns}/configmaps`)).body) as {
        items: Array<{ metadata: { name: string; resourceVersion: string } }>;
      };
      // the load's objects (controllers also write a kube-root-ca.crt ConfigMap into the namespace)
      const stored = new Map(
        list.items
          .filter((i) => i.metadata.name.startsWith("cm-"))
          .map((i) => [i.metadata.name, i.metadata.resourceVersion]),
      );
      for (const [name, rv] of acked) {
        assert.equal(stored.get(name), rv, `acknowledged ${name} at ${rv} must be stored with that revision`);
      }
      const events = await collectWatch(
        second.client,
        `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion}&labelSelector=load%3Dcrash`,
        (evs) => evs.length >= stored.size,
        10_000,
      );
      assert.equal(events.length, stored.size, "one event per stored object");
      let last = Number(start.metadata.resourceVersion);
      for (const ev of events) {
        assert.equal(ev.type, "ADDED");
        const rv = Number(ev.object.metadata.resourceVersion);
        assert.ok(rv > last, `revisions increase: ${rv} after ${last}`);
        last = rv;
      }
      assert.deepEqual(new Set(events.map((e) => e.object.metadata.name)), new Set(stored.keys()));
    } finally {
      second.client.agent.destroy();
      second.child.kill("SIGTERM");
      await new Promise((r) => second.child.once("exit", r));
    }
  });
});
