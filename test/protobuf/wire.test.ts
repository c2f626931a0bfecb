import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeObject,
  encodeObject,
  encodeWatchEventFrame,
  ProtobufDecodeError,
  ProtobufEncodeError,
} from "../../src/api/protobuf/index.js";
import { messageForKind } from "../../src/api/protobuf/schema.js";
import type { KObject } from "../../src/api/types.js";

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** magic + runtime.Unknown around raw, written by protobufjs' reflection encoder. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const unknown = messageForKind("v1", "Status")!.root.lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");
  return Buffer.concat([MAGIC, unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw })).finish()]);
}

/** A k8s protobuf body built with protobufjs' own reflection encoder (independent of our codec). */
function goStyleBody(apiVersion: string, kind: string, message: Record<string, unknown>): Buffer {
  const type = messageForKind(apiVersion, kind);
  assert.ok(type, `${apiVersion} ${kind} has a message`);
  return envelope(apiVersion, kind, type.encode(type.fromObject(message)).finish());
}

/** The value at a path of nested objects/arrays, or undefined. */
function dig(v: unknown, ...path: (string | number)[]): unknown {
  let cur = v;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** Our encoding, read back by protobufjs' reflection decoder. */
function readBack(obj: KObject): Record<string, unknown> {
  const body = encodeObject(obj);
  const unknownType = messageForKind("v1", "Status")!.root.lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");
  const env = unknownType.toObject(unknownType.decode(body.subarray(4)), { bytes: Buffer }) as {
    typeMeta: { apiVersion: string; kind: string };
    raw: Buffer;
  };
  const type = messageForKind(env.typeMeta.apiVersion, env.typeMeta.kind)!;
  return type.toObject(type.decode(env.raw), { longs: Number, bytes: String }) as Record<string, unknown>;
}

describe("decoding what a Go client writes", () => {
  it("zero non-pointer fields on the wire are dropped; zero pointer fields are kept", () => {
    const body = goStyleBody("apps/v1", "Deployment", {
      metadata: { name: "d", generateName: "", namespace: "", uid: "", generation: 0, creationTimestamp: {} },
      spec: {
        replicas: 0,
        minReadySeconds: 0,
        paused: false,
        template: {
          metadata: {},
          spec: {
            containers: [
              {
                name: "c",
                image: "x",
                workingDir: "",
                livenessProbe: { periodSeconds: 0, timeoutSeconds: 0, handler: { tcpSocket: { port: { type: 0 } } } },
                securityContext: { runAsUser: 0 },
              },
            ],
            terminationGracePeriodSeconds: 0,
            hostNetwork: false,
          },
        },
      },
    });
    assert.deepEqual(decodeObject(body), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: {
        replicas: 0,
        template: {
          metadata: {},
          spec: {
            containers: [
              { name: "c", image: "x", livenessProbe: { tcpSocket: { port: 0 } }, securityContext: { runAsUser: 0 } },
            ],
            terminationGracePeriodSeconds: 0,
          },
        },
      },
    });
  });

  it("DeleteOptions sent under a group version (client-go typed Delete) decode from meta.k8s.io", () => {
    const body = goStyleBody("v1", "DeleteOptions", { gracePeriodSeconds: 0, propagationPolicy: "Foreground" });
    assert.deepEqual(decodeObject(body), {
      apiVersion: "v1",
      kind: "DeleteOptions",
      gracePeriodSeconds: 0,
      propagationPolicy: "Foreground",
    });
  });

  it("a RawExtension holding a protobuf object (magic prefix) decodes to that object", () => {
    const inner = encodeObject({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } });
    const body = goStyleBody("apps/v1", "ControllerRevision", {
      metadata: { name: "r" },
      data: { raw: inner },
      revision: 2,
    });
    assert.deepEqual(decodeObject(body), {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name: "r" },
      data: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } },
      revision: 2,
    });
  });
});

describe("what our encoder puts on the wire", () => {
  it("IntOrString '25%' is type 1 + strVal, 1 is type 0 + intVal; Quantity is its string", () => {
    const msg = readBack({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: {
        replicas: 0,
        strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 } },
        template: { spec: { containers: [{ name: "c", resources: { limits: { cpu: "250m" } } }] } },
      },
    });
    assert.equal(dig(msg, "spec", "replicas"), 0);
    assert.deepEqual(dig(msg, "spec", "strategy", "rollingUpdate"), {
      maxSurge: { type: 1, intVal: 0, strVal: "25%" },
      maxUnavailable: { type: 0, intVal: 1, strVal: "" },
    });
    assert.deepEqual(dig(msg, "spec", "template", "spec", "containers", 0, "resources", "limits"), {
      cpu: { string: "250m" },
    });
  });

  it("Time is seconds since the epoch; Secret data are raw bytes", () => {
    const msg = readBack({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", creationTimestamp: "2024-01-02T03:04:05Z" },
      data: { k: Buffer.from("v").toString("base64") },
    });
    assert.equal(dig(msg, "metadata", "creationTimestamp", "seconds"), Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
    assert.deepEqual(msg["data"], { k: Buffer.from("v").toString("base64") });
  });

  it("inline Go structs are nested messages on the wire (Volume.volumeSource, Probe.handler)", () => {
    const msg = readBack({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: {
        volumes: [{ name: "v", emptyDir: {} }],
        containers: [{ name: "c", readinessProbe: { exec: { command: ["true"] } } }],
      },
    });
    assert.deepEqual(dig(msg, "spec", "volumes", 0), { name: "v", volumeSource: { emptyDir: {} } });
    assert.deepEqual(dig(msg, "spec", "containers", 0, "readinessProbe"), { handler: { exec: { command: ["true"] } } });
  });

  it("a watch frame is a big-endian length then a bare WatchEvent whose object is a full protobuf object", () => {
    const pod: KObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", resourceVersion: "5" } };
    const frame = encodeWatchEventFrame("ADDED", pod);
    const len = new DataView(frame.buffer, frame.byteOffset).getUint32(0, false);
    assert.equal(len, frame.length - 4);
    const watchEvent = messageForKind("meta.k8s.io/v1", "WatchEvent")!;
    const ev = watchEvent.decode(frame.subarray(4)) as unknown as { type: string; object: { raw: Uint8Array } };
    assert.equal(ev.type, "ADDED");
    assert.deepEqual(decodeObject(ev.object.raw), pod);
  });
});

describe("bodies we refuse", () => {
  const cases: { name: string; body: Uint8Array; message: RegExp }[] = [
    { name: "an empty body", body: new Uint8Array(0), message: /empty data/ },
    { name: "JSON sent as protobuf", body: Buffer.from('{"kind":"Pod"}'), message: /expected prefix \[107 56 115 0\]/ },
    {
      name: "a kind the group does not have",
      body: envelope("v1", "Frobnicator", new Uint8Array(0)),
      message: /no kind "Frobnicator" is registered for version "v1"/,
    },
    {
      name: "an envelope cut short",
      body: goStyleBody("v1", "Namespace", { metadata: { name: "x" } }).subarray(0, 12),
      message: /unable to decode/,
    },
    {
      name: "a message cut short inside the raw object",
      body: (() => {
        const ns = messageForKind("v1", "Namespace")!;
        const raw = ns.encode(ns.fromObject({ metadata: { name: "abcdef" } })).finish();
        return envelope("v1", "Namespace", raw.subarray(0, raw.length - 3));
      })(),
      message: /unable to decode protobuf/,
    },
  ];

  for (const c of cases) {
    it(`${c.name} is a 400 ProtobufDecodeError`, () => {
      assert.throws(
        () => decodeObject(c.body),
        (err: unknown) => {
          assert.ok(err instanceof ProtobufDecodeError);
          assert.match(err.message, c.message);
          assert.equal(err.status()["code"], 400);
          assert.equal(err.status()["reason"], "BadRequest");
          return true;
        },
      );
    });
  }

  it("custom resources and meta.k8s.io Table have no protobuf form (upstream neither): ProtobufEncodeError", () => {
    assert.throws(
      () => encodeObject({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }),
      ProtobufEncodeError,
    );
    assert.throws(
      () => encodeObject({ apiVersion: "meta.k8s.io/v1", kind: "Table", metadata: {} }),
      ProtobufEncodeError,
    );
  });
});
