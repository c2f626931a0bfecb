import { isRecord } from "../types.js";
import { PatchError } from "./errors.js";
import { deepEqual } from "./values.js";

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
  hasValue: boolean;
}

/** Parses an RFC 6902 document; a malformed one is a 400. */
function decodeOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) {
    throw new PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400);
  }
  return patch.map((raw) => {
    if (!isRecord(raw)) throw new PatchError("json: cannot unmarshal into Go value of type jsonpatch.Operation", 400);
    const op = raw["op"];
    const path = raw["path"];
    const from = raw["from"];
    const o: Operation = {
      op: typeof op === "string" ? op : "",
      path: typeof path === "string" ? path : "",
      hasValue: "value" in raw,
      value: raw["value"],
    };
    if (typeof from === "string") o.from = from;
    if (typeof path !== "string")
      throw new PatchError(`operation missing path: ${JSON.stringify(raw)}`, 422, "Invalid");
    return o;
  });
}

function splitPointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new PatchError(`invalid JSON pointer: "${path}"`, 422, "Invalid");
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The container holding the last segment of `path`, or undefined when a parent is missing. */
function findContainer(doc: unknown, parts: string[]): Record<string, unknown> | unknown[] | undefined {
  let cur: unknown = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(p, cur.length - 1);
      if (i === undefined) return undefined;
      cur = cur[i];
    } else if (isRecord(cur)) {
      if (!(p in cur)) return undefined;
      cur = cur[p];
    } else return undefined;
  }
  return Array.isArray(cur) || isRecord(cur) ? cur : undefined;
}

function arrayIndex(p: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(p)) return undefined;
  const i = Number(p);
  return i <= max ? i : undefined;
}

function getAt(doc: unknown, path: string): { found: boolean; value: unknown } {
  const parts = splitPointer(path);
  if (parts.length === 0) return { found: true, value: doc };
  const c = findContainer(doc, parts);
  const key = parts[parts.length - 1] ?? "";
  if (Array.isArray(c)) {
    const i = arrayIndex(key, c.length - 1);
    return i === undefined ? { found: false, value: undefined } : { found: true, value: c[i] };
  }
  if (c && key in c) return { found: true, value: c[key] };
  return { found: false, value: undefined };
}

function invalid(message: string): PatchError {
  return new PatchError(message, 422, "Invalid");
}

function add(doc: unknown, path: string, value: unknown, opName = "add"): unknown {
  const parts = splitPointer(path);
  if (parts.length === 0) return value;
  const c = findContainer(doc, parts);
  const key = parts[parts.length - 1] ?? "";
  if (c === undefined)
    throw invalid(`${opName} operation does not apply: doc is missing path: "${path}": missing value`);
  if (Array.isArray(c)) {
    if (key === "-") c.push(value);
    else {
      const i = arrayIndex(key, c.length);
      if (i === undefined)
        throw invalid(`error in ${opName} for path: '${path}': unable to access invalid index: ${key}`);
      c.splice(i, 0, value);
    }
  } else c[key] = value;
  return doc;
}

function remove(doc: unknown, path: string, opName = "remove"): unknown {
  const parts = splitPointer(path);
  const c = findContainer(doc, parts);
  const key = parts[parts.length - 1] ?? "";
  if (c === undefined || parts.length === 0) {
    throw invalid(`${opName} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  if (Array.isArray(c)) {
    const i = arrayIndex(key, c.length - 1);
    if (i === undefined)
      throw invalid(`error in ${opName} for path: '${path}': Unable to access invalid index: ${key}`);
    c.splice(i, 1);
  } else {
    if (!(key in c)) {
      throw invalid(`error in ${opName} for path: '${path}': Unable to remove nonexistent key: ${key}: missing value`);
    }
    delete c[key];
  }
  return doc;
}

function replace(doc: unknown, path: string, value: unknown): unknown {
  const parts = splitPointer(path);
  if (parts.length === 0) return value;
  const c = findContainer(doc, parts);
  const key = parts[parts.length - 1] ?? "";
  if (c === undefined) throw invalid(`replace operation does not apply: doc is missing path: ${path}: missing value`);
  if (Array.isArray(c)) {
    const i = arrayIndex(key, c.length - 1);
    if (i === undefined) throw invalid(`replace operation does not apply: doc is missing key: ${path}: missing value`);
    c[i] = value;
  } else {
    if (!(key in c)) throw invalid(`replace operation does not apply: doc is missing key: ${path}: missing value`);
    c[key] = value;
  }
  return doc;
}

/** Applies an RFC 6902 JSON patch to a copy of `doc`. Errors carry upstream's (evanphx/json-patch) wording. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decodeOperations(patch);
  let cur: unknown = structuredClone(doc);
  for (const o of ops) {
    switch (o.op) {
      case "add":
        if (!o.hasValue) throw invalid("add operation does not apply: value is missing");
        cur = add(cur, o.path, structuredClone(o.value));
        break;
      case "remove":
        cur = remove(cur, o.path);
        break;
      case "replace":
        if (!o.hasValue) throw invalid("replace operation does not apply: value is missing");
        cur = replace(cur, o.path, structuredClone(o.value));
        break;
      case "move": {
        const from = o.from ?? "";
        const got = getAt(cur, from);
        if (!got.found)
          throw invalid(`move operation does not apply: doc is missing from path: ${from}: missing value`);
        cur = remove(cur, from, "move");
        cur = add(cur, o.path, got.value, "move");
        break;
      }
      case "copy": {
        const from = o.from ?? "";
        const got = getAt(cur, from);
        if (!got.found)
          throw invalid(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
        cur = add(cur, o.path, structuredClone(got.value), "copy");
        break;
      }
      case "test": {
        const got = getAt(cur, o.path);
        const expected = o.value ?? null;
        const matches = got.found ? deepEqual(got.value, expected) : expected === null;
        if (!matches) throw invalid(`testing value ${o.path} failed: test failed`);
        break;
      }
      default:
        throw invalid(`Unexpected kind: ${o.op}`);
    }
  }
  return cur;
}

/** Applies an RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const target: Record<string, unknown> = isRecord(doc) ? { ...doc } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else target[k] = applyMergePatch(target[k], v);
  }
  return target;
}
