/**
 * The Kubernetes protobuf wire format (`application/vnd.kubernetes.protobuf`): the bytes "k8s\0" then a
 * runtime.Unknown whose typeMeta names the kind and whose raw field holds the typed message
 * (k8s.io.api.apps.v1.Deployment, ...). Also the gnostic encoding of /openapi/v2.
 *
 * Schemas are read from data/proto on first use; importing this module is free.
 */
import { isRecord, type KObject } from "../types.js";
import { decodeMessage, encodeMessage, hasMagic, setNestedObjectDecoder } from "./codec.js";
import { ProtobufDecodeError, ProtobufEncodeError } from "./errors.js";
import { messageForKind, type Protobuf, protobufjs } from "./schema.js";

export { ProtobufDecodeError, ProtobufEncodeError } from "./errors.js";
export { encodeOpenAPIv2 } from "./openapi.js";

export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";
/** The media type of a protobuf watch stream (each frame: 4-byte big-endian length + an encoded WatchEvent). */
export const PROTOBUF_STREAM_CONTENT_TYPE = "application/vnd.kubernetes.protobuf;stream=watch";
/** The media type kubectl <= 1.28 and Helm ask /openapi/v2 for (Accept). */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/**
 * The Content-Type to answer it with (kube-openapi does the same): Go's mime.ParseMediaType rejects the "@" in
 * the requested type, so kubectl fails with "mime: unexpected content after media subtype" if it is echoed back.
 */
export const OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

const MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

interface Unknown {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

function readUnknown(body: Uint8Array): Unknown {
  const lib = protobufjs();
  const r = lib.Reader.create(body.subarray(MAGIC.length));
  const out: Unknown = { apiVersion: "", kind: "", raw: new Uint8Array(0), contentEncoding: "", contentType: "" };
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      const id = tag >>> 3;
      if ((tag & 7) !== 2) {
        r.skipType(tag & 7);
        continue;
      }
      if (id === 1) {
        const end = r.uint32() + r.pos;
        while (r.pos < end) {
          const t = r.uint32();
          if (t >>> 3 === 1 && (t & 7) === 2) out.apiVersion = r.string();
          else if (t >>> 3 === 2 && (t & 7) === 2) out.kind = r.string();
          else r.skipType(t & 7);
        }
      } else if (id === 2) out.raw = r.bytes();
      else if (id === 3) out.contentEncoding = r.string();
      else if (id === 4) out.contentType = r.string();
      else r.skipType(2);
    }
  } catch (err) {
    throw new ProtobufDecodeError(
      `unable to decode protobuf envelope: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return out;
}

function typeFor(apiVersion: string, kind: string): Protobuf.Type | undefined {
  try {
    return messageForKind(apiVersion, kind);
  } catch (err) {
    throw new Error(`loading the protobuf schema of ${apiVersion} ${kind}: ${String(err)}`, { cause: err });
  }
}

/**
 * Decodes a k8s protobuf body to the JSON form of the object (as the JSON API would carry it), apiVersion/kind
 * filled from typeMeta. Kinds without ObjectMeta (DeleteOptions, Status, ...) come back without `metadata`.
 * Throws ProtobufDecodeError (message usable in a 400 Status) on bad magic, unknown kind, or malformed bytes.
 */
export function decodeObject(body: Uint8Array): KObject {
  if (body.length === 0) throw new ProtobufDecodeError("empty data");
  if (!hasMagic(body)) {
    throw new ProtobufDecodeError(
      "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
    );
  }
  const u = readUnknown(body);
  if (u.kind === "") throw new ProtobufDecodeError("Object 'Kind' is missing in protobuf data");
  if (u.contentEncoding !== "") {
    throw new ProtobufDecodeError(`unsupported protobuf content encoding "${u.contentEncoding}"`);
  }
  if (u.contentType !== "" && u.contentType !== PROTOBUF_CONTENT_TYPE) {
    throw new ProtobufDecodeError(`unsupported protobuf content type "${u.contentType}"`);
  }
  const type = typeFor(u.apiVersion, u.kind);
  if (type === undefined) {
    throw new ProtobufDecodeError(`no kind "${u.kind}" is registered for version "${u.apiVersion}"`);
  }
  const decoded = decodeMessage(u.raw, type);
  const obj: Record<string, unknown> = { apiVersion: u.apiVersion, kind: u.kind };
  if (isRecord(decoded)) Object.assign(obj, decoded);
  if (type.fields["metadata"] !== undefined && !isRecord(obj["metadata"])) obj["metadata"] = {};
  return obj as KObject;
}

/**
 * Encodes a JSON object (with apiVersion/kind) into a k8s protobuf body (magic + Unknown). Works for every kind
 * with a message in data/proto, lists (FooList) and meta.k8s.io kinds (Status, WatchEvent, Table...) included.
 * Throws ProtobufEncodeError when the kind has no protobuf message (e.g. custom resources) or a field has
 * the wrong shape.
 */
export function encodeObject(obj: KObject): Uint8Array {
  const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
  const kind = typeof obj.kind === "string" ? obj.kind : "";
  const type = typeFor(apiVersion, kind);
  if (type === undefined) {
    throw new ProtobufEncodeError(`object ${apiVersion}, Kind=${kind} cannot be encoded as protobuf`);
  }
  const raw = encodeMessage(obj, type, kind);
  const w = protobufjs().Writer.create();
  w.uint32(0x0a).fork();
  w.uint32(0x0a).string(apiVersion);
  w.uint32(0x12).string(kind);
  w.ldelim();
  w.uint32(0x12).bytes(raw);
  w.uint32(0x1a).string("");
  w.uint32(0x22).string("");
  const envelope = w.finish();
  const out = new Uint8Array(MAGIC.length + envelope.length);
  out.set(MAGIC, 0);
  out.set(envelope, MAGIC.length);
  return out;
}

/** True when a kind can be carried as protobuf (built-in kinds; not custom resources). */
export function canEncode(apiVersion: string, kind: string): boolean {
  return typeFor(apiVersion, kind) !== undefined;
}

/**
 * One frame of a protobuf watch stream (`application/vnd.kubernetes.protobuf;stream=watch`): a 4-byte big-endian
 * length, then a bare metav1.WatchEvent message (the stream serializer is the "raw" protobuf serializer: no magic,
 * no Unknown envelope) whose `object.raw` holds the object as a full protobuf body (magic + Unknown).
 */
export function encodeWatchEventFrame(type: string, object: KObject): Uint8Array {
  const inner = encodeObject(object);
  const w = protobufjs().Writer.create();
  w.uint32(0x0a).string(type);
  w.uint32(0x12).fork();
  w.uint32(0x0a).bytes(inner);
  w.ldelim();
  const event = w.finish();
  const frame = new Uint8Array(4 + event.length);
  new DataView(frame.buffer).setUint32(0, event.length, false);
  frame.set(event, 4);
  return frame;
}

setNestedObjectDecoder((bytes) => decodeObject(bytes));
