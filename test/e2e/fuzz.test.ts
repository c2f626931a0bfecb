/**
 * Bad input never crashes the server and never yields a 500: valid objects from the seeds are
 * mutated at random (types swapped, fields dropped, values replaced with junk) with a fixed seed,
 * posted, and every answer must be 2xx or a 4xx Status (but for the one 500 upstream answers too);
 * the server still answers afterwards.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { type Client, clientFor } from "./client.js";
import { startCluster, type TestCluster } from "./harness.js";

const SEEDS = new URL("../../../test/fixtures/seeds/", import.meta.url).pathname;

/** mulberry32: a small deterministic PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JUNK: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  "",
  "x",
  "-1",
  "1e400",
  true,
  [],
  {},
  [null],
  { "": null },
  "ü\u0000",
];

function paths(v: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(prefix);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) paths(v[i], [...prefix, i], out);
  } else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function mutate(obj: Record<string, unknown>, rnd: () => number): Record<string, unknown> {
  const copy = structuredClone(obj);
  const all = paths(copy).filter((p) => p.length > 0);
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    const p = all[Math.floor(rnd() * all.length)];
    if (!p) continue;
    let parent: unknown = copy;
    for (const k of p.slice(0, -1)) parent = (parent as Record<string | number, unknown>)?.[k];
    if (!parent || typeof parent !== "object") continue;
    const key = p[p.length - 1]!;
    const r = rnd();
    const target = parent as Record<string | number, unknown>;
    if (r < 0.3) delete target[key];
    else target[key] = structuredClone(JUNK[Math.floor(rnd() * JUNK.length)]);
  }
  return copy;
}

describe("random bad input", () => {
  let cluster: TestCluster;
  let client: Client;
  const objects: Array<Record<string, unknown>> = [];
  before(async () => {
    cluster = await startCluster({ store: "memory" });
    client = clientFor(cluster.kubeconfig);
    for (const f of readdirSync(SEEDS).filter((n) => n.endsWith(".yaml"))) {
      for (const doc of parseAllDocuments(readFileSync(SEEDS + f, "utf8"))) {
        const o = doc.toJSON() as Record<string, unknown> | null;
        if (o && typeof o["kind"] === "string") objects.push(o);
      }
    }
  });
  after(async () => {
    client?.agent.destroy();
    await cluster?.stop();
  });

  it("answers 400 mutated objects with 2xx or a 4xx Status, never 5xx", async () => {
    const rnd = prng(20261123);
    const disco = JSON.parse((await client.call("GET", "/apis")).body) as { groups: Array<{ name: string }> };
    assert.ok(disco.groups.length > 0);
    const pathFor = async (o: Record<string, unknown>): Promise<string | undefined> => {
      const api = String(o["apiVersion"] ?? "v1");
      const base = api.includes("/") ? `/apis/${api}` : `/api/${api}`;
      const list = JSON.parse((await client.call("GET", base)).body) as {
        resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
      };
      const r = list.resources?.find((x) => x.kind === o["kind"] && !x.name.includes("/"));
      if (!r) return undefined;
      return r.namespaced ? `${base}/namespaces/default/${r.name}` : `${base}/${r.name}`;
    };
    const failures: string[] = [];
    for (let i = 0; i < 400; i++) {
      const original = objects[i % objects.length]!;
      const path = await pathFor(original);
      if (!path) continue;
      const body = mutate(original, rnd);
      const method = rnd() < 0.7 ? "POST" : "PUT";
      const name = (original["metadata"] as { name?: string } | undefined)?.name ?? "x";
      const r = await client.call(method, method === "POST" ? path : `${path}/${name}`, body);
      // the one 500 upstream itself answers to bad input (its storage layer's check)
      const upstream500 = r.body.includes("resourceVersion should not be set on objects to be created");
      if (r.code >= 500 && !upstream500)
        failures.push(`${method} ${path} ${JSON.stringify(body).slice(0, 300)} → ${r.code} ${r.body.slice(0, 300)}`);
      else if (r.code >= 400) {
        const status = JSON.parse(r.body) as { kind: string; code: number };
        assert.equal(status.kind, "Status");
        assert.equal(status.code, r.code);
      }
    }
    assert.deepEqual(failures, []);
    assert.equal((await client.call("GET", "/readyz")).body, "ok");
  });
});
