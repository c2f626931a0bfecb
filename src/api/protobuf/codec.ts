/**
 * Converts between k8s.io protobuf messages and the JSON form of the same Go types, driven by the
 * reflected `.proto` schema. Wire reading/writing uses protobufjs' Reader/Writer; the JSON conventions
 * (names, inline structs, pointer presence, Time/Quantity/IntOrString/...) are ours.
 */
import { isRecord } from "../types.js";
import { ProtobufDecodeError, ProtobufEncodeError } from "./errors.js";
import { isPointerScalar } from "./presence.js";
import { jsonNameTable, type Protobuf, protobufjs } from "./schema.js";
import { formatDuration, formatMicroTime, formatTime, parseDuration, parseTime } from "./wellknown.js";

type Reader = Protobuf.Reader;
type Writer = Protobuf.Writer;

/** Messages with their own JSON form. */
type Special = "time" | "microtime" | "duration" | "quantity" | "intorstring" | "rawextension" | "fieldsv1" | "array";

const SPECIALS: Record<string, Special> = {
  "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "time",
  "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
  "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "duration",
  "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
  "k8s.io.apimachinery.pkg.api.resource.QuantityValue": "quantity",
  "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
  "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawextension",
  "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "fieldsv1",
};

const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_LDELIM = 2;
const WIRE_32BIT = 5;

const SCALAR_WIRE: Record<string, number> = {
  int32: WIRE_VARINT,
  int64: WIRE_VARINT,
  uint32: WIRE_VARINT,
  uint64: WIRE_VARINT,
  sint32: WIRE_VARINT,
  sint64: WIRE_VARINT,
  bool: WIRE_VARINT,
  enum: WIRE_VARINT,
  fixed64: WIRE_64BIT,
  sfixed64: WIRE_64BIT,
  double: WIRE_64BIT,
  fixed32: WIRE_32BIT,
  sfixed32: WIRE_32BIT,
  float: WIRE_32BIT,
  string: WIRE_LDELIM,
  bytes: WIRE_LDELIM,
};

interface FieldPlan {
  id: number;
  json: string;
  /** Go `json:",inline"`: the message's fields live in the parent JSON object. */
  inline: boolean;
  repeated: boolean;
  map: boolean;
  /** Map key scalar type (maps only). */
  keyType: string;
  /** Scalar type name, or "" for message-typed fields. */
  scalar: string;
  message: Protobuf.Type | undefined;
  /** Keep a zero value in JSON (the Go field is a pointer). */
  pointer: boolean;
}

export interface TypePlan {
  name: string;
  special: Special | undefined;
  fields: FieldPlan[];
  byId: Map<number, FieldPlan>;
}

const plans = new Map<Protobuf.Type, TypePlan>();

export function planFor(type: Protobuf.Type): TypePlan {
  const hit = plans.get(type);
  if (hit !== undefined) return hit;
  const lib = protobufjs();
  const name = type.fullName.slice(1);
  const table = jsonNameTable();
  const renames = table.fields[name] ?? {};
  const special = SPECIALS[name] ?? (table.arrays.includes(name) ? "array" : undefined);
  const fields: FieldPlan[] = [];
  for (const f of type.fieldsArray) {
    f.resolve();
    const resolved = f.resolvedType;
    const json = renames[f.name] ?? f.name;
    const isMessage = resolved instanceof lib.Type;
    const scalar = isMessage ? "" : resolved instanceof lib.Enum ? "enum" : f.type;
    const keyType = f instanceof lib.MapField ? f.keyType : "";
    fields.push({
      id: f.id,
      json,
      inline: json === "" && isMessage,
      repeated: f.repeated,
      map: f.map,
      keyType,
      scalar,
      message: isMessage ? resolved : undefined,
      pointer: isPointerScalar(type.name, json),
    });
  }
  fields.sort((a, b) => a.id - b.id);
  const plan: TypePlan = {
    name,
    special,
    fields,
    byId: new Map(fields.map((f) => [f.id, f])),
  };
  plans.set(type, plan);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Decoding: message bytes → JSON
// ---------------------------------------------------------------------------------------------

function decodeError(where: string, message: string): ProtobufDecodeError {
  return new ProtobufDecodeError(`unable to decode protobuf ${where}: ${message}`);
}

function toBigInt(v: number | Protobuf.Long): bigint {
  if (typeof v === "number") return BigInt(v);
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return v.unsigned ? bits : BigInt.asIntN(64, bits);
}

function toNumber(v: number | Protobuf.Long): number {
  if (typeof v === "number") return v;
  return v.unsigned ? (v.high >>> 0) * 2 ** 32 + (v.low >>> 0) : v.high * 2 ** 32 + (v.low >>> 0);
}

function readScalar(r: Reader, type: string): string | number | boolean {
  switch (type) {
    case "string":
      return r.string();
    case "bytes":
      return Buffer.from(r.bytes()).toString("base64");
    case "bool":
      return r.bool();
    case "int32":
    case "enum":
      return r.int32();
    case "uint32":
      return r.uint32();
    case "sint32":
      return r.sint32();
    case "fixed32":
      return r.fixed32();
    case "sfixed32":
      return r.sfixed32();
    case "int64":
      return toNumber(r.int64());
    case "uint64":
      return toNumber(r.uint64());
    case "sint64":
      return toNumber(r.sint64());
    case "fixed64":
      return toNumber(r.fixed64());
    case "sfixed64":
      return toNumber(r.sfixed64());
    case "double":
      return r.double();
    case "float":
      return r.float();
    default:
      throw new Error(`unsupported scalar type ${type}`);
  }
}

function isZero(v: unknown): boolean {
  return v === "" || v === 0 || v === false;
}

/** One field of a message read without a schema: varints as Long, length-delimited as bytes. */
type RawValue = Protobuf.Long | number | Uint8Array;

function readRawFields(r: Reader, end: number): Map<number, RawValue[]> {
  const out = new Map<number, RawValue[]>();
  while (r.pos < end) {
    const tag = r.uint32();
    const id = tag >>> 3;
    let v: RawValue;
    switch (tag & 7) {
      case WIRE_VARINT:
        v = r.int64();
        break;
      case WIRE_64BIT:
        v = r.fixed64();
        break;
      case WIRE_LDELIM:
        v = r.bytes();
        break;
      case WIRE_32BIT:
        v = r.fixed32();
        break;
      default:
        r.skipType(tag & 7);
        continue;
    }
    const list = out.get(id);
    if (list === undefined) out.set(id, [v]);
    else list.push(v);
  }
  return out;
}

function lastOf(fields: Map<number, RawValue[]>, id: number): RawValue | undefined {
  const list = fields.get(id);
  return list === undefined ? undefined : list[list.length - 1];
}

function rawInt(v: RawValue | undefined): bigint {
  if (v === undefined || v instanceof Uint8Array) return 0n;
  return toBigInt(v);
}

function rawString(v: RawValue | undefined): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : "";
}

function parseJsonBytes(bytes: Uint8Array, where: string): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw decodeError(where, "embedded object is not valid JSON");
  }
}

/** Hook for RawExtension bytes that are themselves a k8s protobuf object (set by index.ts). */
let nestedObjectDecoder: ((bytes: Uint8Array) => unknown) | undefined;
export function setNestedObjectDecoder(fn: (bytes: Uint8Array) => unknown): void {
  nestedObjectDecoder = fn;
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];
export function hasMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

/** Decodes one message whose bytes run from r.pos to end into its JSON value (undefined = omit). */
function decodeMessageValue(r: Reader, end: number, plan: TypePlan): unknown {
  if (plan.special !== undefined) {
    const fields = readRawFields(r, end);
    switch (plan.special) {
      case "time":
      case "microtime": {
        const seconds = rawInt(lastOf(fields, 1));
        const nanos = Number(rawInt(lastOf(fields, 2)));
        if (seconds === 0n && nanos === 0) return undefined;
        return plan.special === "time" ? formatTime(seconds) : formatMicroTime(seconds, nanos);
      }
      case "duration":
        return formatDuration(BigInt.asIntN(64, rawInt(lastOf(fields, 1))));
      case "quantity": {
        const s = rawString(lastOf(fields, 1));
        return s === "" ? "0" : s;
      }
      case "intorstring":
        return rawInt(lastOf(fields, 1)) === 1n
          ? rawString(lastOf(fields, 3))
          : Number(BigInt.asIntN(32, rawInt(lastOf(fields, 2))));
      case "rawextension":
      case "fieldsv1": {
        const raw = lastOf(fields, 1);
        if (!(raw instanceof Uint8Array)) return undefined;
        if (hasMagic(raw) && nestedObjectDecoder !== undefined) return nestedObjectDecoder(raw);
        return parseJsonBytes(raw, plan.name);
      }
      case "array":
        return (fields.get(1) ?? []).map((v) => rawString(v));
    }
  }
  const out: Record<string, unknown> = {};
  decodeFields(r, end, plan, out);
  return out;
}

function decodeFields(r: Reader, end: number, plan: TypePlan, out: Record<string, unknown>): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    const f = plan.byId.get(tag >>> 3);
    if (f === undefined) {
      r.skipType(wire);
      continue;
    }
    if (f.inline && f.message !== undefined) {
      expectWire(plan, f, wire, WIRE_LDELIM);
      const len = r.uint32();
      decodeFields(r, r.pos + len, planFor(f.message), out);
      continue;
    }
    if (f.map) {
      expectWire(plan, f, wire, WIRE_LDELIM);
      const len = r.uint32();
      const entryEnd = r.pos + len;
      let key: unknown = f.keyType === "string" ? "" : 0;
      let value: unknown;
      while (r.pos < entryEnd) {
        const t = r.uint32();
        if (t >>> 3 === 1) key = readScalar(r, f.keyType);
        else if (t >>> 3 === 2) value = readValue(r, f);
        else r.skipType(t & 7);
      }
      if (value === undefined) value = f.scalar === "" ? {} : f.scalar === "string" || f.scalar === "bytes" ? "" : 0;
      let target = out[f.json];
      if (!isRecord(target)) {
        target = {};
        out[f.json] = target;
      }
      (target as Record<string, unknown>)[String(key)] = value;
      continue;
    }
    if (f.repeated) {
      let list = out[f.json];
      if (!Array.isArray(list)) {
        list = [];
        out[f.json] = list;
      }
      const items = list as unknown[];
      if (f.scalar !== "" && wire === WIRE_LDELIM && SCALAR_WIRE[f.scalar] !== WIRE_LDELIM) {
        const packedEnd = r.uint32() + r.pos;
        while (r.pos < packedEnd) items.push(readScalar(r, f.scalar));
      } else {
        expectWire(plan, f, wire, f.scalar === "" ? WIRE_LDELIM : (SCALAR_WIRE[f.scalar] ?? WIRE_VARINT));
        const v = readValue(r, f);
        items.push(v === undefined ? null : v);
      }
      continue;
    }
    expectWire(plan, f, wire, f.scalar === "" ? WIRE_LDELIM : (SCALAR_WIRE[f.scalar] ?? WIRE_VARINT));
    const v = readValue(r, f);
    if (v === undefined || (f.scalar !== "" && isZero(v) && !f.pointer) || (f.scalar === "bytes" && v === "")) {
      delete out[f.json];
    } else {
      out[f.json] = v;
    }
  }
}

function expectWire(plan: TypePlan, f: FieldPlan, got: number, want: number): void {
  if (got !== want) throw decodeError(plan.name, `field ${f.json} (${f.id}) has wire type ${got}, expected ${want}`);
}

function readValue(r: Reader, f: FieldPlan): unknown {
  if (f.message === undefined) return readScalar(r, f.scalar);
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw decodeError(f.message.fullName.slice(1), "length exceeds the message");
  return decodeMessageValue(r, end, planFor(f.message));
}

/** Decodes the bytes of a whole message of the given type into JSON. */
export function decodeMessage(bytes: Uint8Array, type: Protobuf.Type): unknown {
  const lib = protobufjs();
  const r = lib.Reader.create(bytes);
  try {
    return decodeMessageValue(r, r.len, planFor(type));
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw err;
    throw decodeError(type.fullName.slice(1), err instanceof Error ? err.message : String(err));
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding: JSON → message bytes
// ---------------------------------------------------------------------------------------------

function encodeError(path: string, message: string): ProtobufEncodeError {
  return new ProtobufEncodeError(`cannot encode ${path} as protobuf: ${message}`);
}

function writeScalar(w: Writer, type: string, v: unknown, path: string): void {
  switch (type) {
    case "string":
      if (typeof v !== "string") throw encodeError(path, "expected a string");
      w.string(v);
      return;
    case "bytes":
      if (typeof v !== "string") throw encodeError(path, "expected a base64 string");
      w.bytes(Buffer.from(v, "base64"));
      return;
    case "bool":
      if (typeof v !== "boolean") throw encodeError(path, "expected a boolean");
      w.bool(v);
      return;
  }
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) n = Number(v);
  else throw encodeError(path, "expected a number");
  switch (type) {
    case "int32":
    case "enum":
      w.int32(n);
      return;
    case "uint32":
      w.uint32(n);
      return;
    case "sint32":
      w.sint32(n);
      return;
    case "fixed32":
      w.fixed32(n);
      return;
    case "sfixed32":
      w.sfixed32(n);
      return;
    case "int64":
      w.int64(n);
      return;
    case "uint64":
      w.uint64(n);
      return;
    case "sint64":
      w.sint64(n);
      return;
    case "fixed64":
      w.fixed64(n);
      return;
    case "sfixed64":
      w.sfixed64(n);
      return;
    case "double":
      w.double(n);
      return;
    case "float":
      w.float(n);
      return;
    default:
      throw encodeError(path, `unsupported scalar type ${type}`);
  }
}

function tag(id: number, wire: number): number {
  return ((id << 3) | wire) >>> 0;
}

function writeInt64(w: Writer, id: number, v: bigint): void {
  w.uint32(tag(id, WIRE_VARINT)).int64(BigInt.asIntN(64, v).toString());
}

function jsonBytes(v: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(v), "utf8");
}

/** Writes the body (not the tag/length) of a message with its own JSON form. */
function encodeSpecial(w: Writer, special: Special, v: unknown, path: string): void {
  switch (special) {
    case "time":
    case "microtime": {
      if (typeof v !== "string") throw encodeError(path, "expected an RFC 3339 time string");
      const t = parseTime(v);
      if (t === undefined) throw encodeError(path, `"${v}" is not an RFC 3339 time`);
      writeInt64(w, 1, t.seconds);
      w.uint32(tag(2, WIRE_VARINT)).int32(special === "time" ? 0 : t.nanos - (t.nanos % 1000));
      return;
    }
    case "duration": {
      const d = typeof v === "string" ? parseDuration(v) : undefined;
      if (d === undefined) throw encodeError(path, `${JSON.stringify(v)} is not a duration`);
      writeInt64(w, 1, d);
      return;
    }
    case "quantity":
      if (typeof v !== "string" && typeof v !== "number") throw encodeError(path, "expected a quantity");
      w.uint32(tag(1, WIRE_LDELIM)).string(String(v));
      return;
    case "intorstring":
      if (typeof v === "number") {
        writeInt64(w, 1, 0n);
        w.uint32(tag(2, WIRE_VARINT)).int32(v);
        w.uint32(tag(3, WIRE_LDELIM)).string("");
      } else if (typeof v === "string") {
        writeInt64(w, 1, 1n);
        w.uint32(tag(2, WIRE_VARINT)).int32(0);
        w.uint32(tag(3, WIRE_LDELIM)).string(v);
      } else {
        throw encodeError(path, "expected an integer or a string");
      }
      return;
    case "rawextension":
    case "fieldsv1":
      w.uint32(tag(1, WIRE_LDELIM)).bytes(jsonBytes(v));
      return;
    case "array":
      if (!Array.isArray(v)) throw encodeError(path, "expected an array");
      for (const item of v) w.uint32(tag(1, WIRE_LDELIM)).string(String(item));
      return;
  }
}

function writeMessageValue(w: Writer, type: Protobuf.Type, v: unknown, path: string): void {
  const plan = planFor(type);
  if (plan.special !== undefined) {
    encodeSpecial(w, plan.special, v, path);
    return;
  }
  if (!isRecord(v)) throw encodeError(path, "expected an object");
  encodeFields(w, plan, v, path);
}

function writeField(w: Writer, f: FieldPlan, v: unknown, path: string): void {
  if (f.message !== undefined) {
    w.uint32(tag(f.id, WIRE_LDELIM)).fork();
    writeMessageValue(w, f.message, v, path);
    w.ldelim();
  } else {
    w.uint32(tag(f.id, SCALAR_WIRE[f.scalar] ?? WIRE_VARINT));
    writeScalar(w, f.scalar, v, path);
  }
}

export function encodeFields(w: Writer, plan: TypePlan, obj: Record<string, unknown>, path: string): void {
  for (const f of plan.fields) {
    if (f.inline && f.message !== undefined) {
      w.uint32(tag(f.id, WIRE_LDELIM)).fork();
      encodeFields(w, planFor(f.message), obj, path);
      w.ldelim();
      continue;
    }
    const v = obj[f.json];
    if (v === undefined || v === null) continue;
    const here = `${path}.${f.json}`;
    if (f.map) {
      if (!isRecord(v)) throw encodeError(here, "expected an object");
      for (const key of Object.keys(v).sort()) {
        const value = v[key];
        if (value === undefined) continue;
        w.uint32(tag(f.id, WIRE_LDELIM)).fork();
        w.uint32(tag(1, SCALAR_WIRE[f.keyType] ?? WIRE_VARINT));
        writeScalar(w, f.keyType, f.keyType === "string" ? key : Number(key), here);
        if (value !== null) writeField(w, { ...f, id: 2 }, value, `${here}[${key}]`);
        w.ldelim();
      }
      continue;
    }
    if (f.repeated) {
      if (!Array.isArray(v)) throw encodeError(here, "expected an array");
      v.forEach((item, i) => {
        if (item !== null && item !== undefined) writeField(w, f, item, `${here}[${i}]`);
      });
      continue;
    }
    writeField(w, f, v, here);
  }
}

/** Encodes a JSON value as the bytes of a whole message of the given type. */
export function encodeMessage(v: unknown, type: Protobuf.Type, path: string): Uint8Array {
  const w = protobufjs().Writer.create();
  writeMessageValue(w, type, v, path);
  return w.finish();
}
