/**
 * The small part of k8s.io/client-go/util/jsonpath that CRD additionalPrinterColumns use:
 * `.a.b`, `.a[0].b`, `.a[-1]`, `.a[*].b`, `.a['key.with.dots']`, and filters such as
 * `.status.conditions[?(@.type=="Ready")].status`. Missing keys yield no result.
 */

import { isRecord } from "../types.js";

type Literal = string | number | boolean | null;

type Step =
  | { kind: "field"; name: string }
  | { kind: "index"; index: number }
  | { kind: "wildcard" }
  | { kind: "filter"; path: Step[]; op: "==" | "!=" | "<" | ">" | "<=" | ">=" | "exists"; value: Literal };

export class JSONPathError extends Error {}

/** Parses a path such as `.status.replicas` or `{.status.replicas}`. */
export function parseJSONPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1).trim();
  if (s.startsWith("$")) s = s.slice(1);
  const [steps, rest] = parseSteps(s, 0, false);
  if (rest !== s.length) throw new JSONPathError(`unrecognized JSONPath ${JSON.stringify(expr)}`);
  return steps;
}

function parseSteps(s: string, start: number, inFilter: boolean): [Step[], number] {
  const steps: Step[] = [];
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === ".") {
      i++;
      if (s[i] === "*") {
        steps.push({ kind: "wildcard" });
        i++;
        continue;
      }
      let j = i;
      while (j < s.length && !".[]()=!<> ".includes(s[j] ?? "")) j++;
      if (j === i) {
        if (i === s.length && steps.length === 0 && !inFilter) break; // "." alone is the root
        throw new JSONPathError(`empty field name at ${i}`);
      }
      steps.push({ kind: "field", name: s.slice(i, j) });
      i = j;
    } else if (c === "[") {
      const [step, next] = parseBracket(s, i);
      steps.push(step);
      i = next;
    } else {
      break;
    }
  }
  return [steps, i];
}

function parseBracket(s: string, open: number): [Step, number] {
  let i = open + 1;
  if (s[i] === "?") {
    if (s[i + 1] !== "(") throw new JSONPathError("expected ( after ?");
    i += 2;
    while (s[i] === " ") i++;
    if (s[i] !== "@") throw new JSONPathError("filter must start with @");
    const [path, afterPath] = parseSteps(s, i + 1, true);
    i = afterPath;
    while (s[i] === " ") i++;
    let op: "==" | "!=" | "<" | ">" | "<=" | ">=" | "exists" = "exists";
    let value: Literal = null;
    const m = /^(==|!=|<=|>=|<|>)/.exec(s.slice(i));
    if (m?.[1] !== undefined) {
      op = m[1] as typeof op;
      i += m[1].length;
      while (s[i] === " ") i++;
      const [lit, afterLit] = parseLiteral(s, i);
      value = lit;
      i = afterLit;
      while (s[i] === " ") i++;
    }
    if (s[i] !== ")" || s[i + 1] !== "]") throw new JSONPathError("unterminated filter");
    return [{ kind: "filter", path, op, value }, i + 2];
  }
  const close = s.indexOf("]", i);
  if (close < 0) throw new JSONPathError("unterminated [");
  const inner = s.slice(i, close).trim();
  if (inner === "*") return [{ kind: "wildcard" }, close + 1];
  if (/^-?\d+$/.test(inner)) return [{ kind: "index", index: Number.parseInt(inner, 10) }, close + 1];
  const q = inner[0];
  if ((q === "'" || q === '"') && inner.endsWith(q) && inner.length >= 2) {
    return [{ kind: "field", name: inner.slice(1, -1).replace(/\\(.)/g, "$1") }, close + 1];
  }
  throw new JSONPathError(`unsupported subscript [${inner}]`);
}

function parseLiteral(s: string, i: number): [Literal, number] {
  const q = s[i];
  if (q === "'" || q === '"') {
    const end = s.indexOf(q, i + 1);
    if (end < 0) throw new JSONPathError("unterminated string");
    return [s.slice(i + 1, end), end + 1];
  }
  const m = /^(-?\d+(?:\.\d+)?|true|false|null)/.exec(s.slice(i));
  if (!m?.[1]) throw new JSONPathError(`bad literal at ${i}`);
  const t = m[1];
  const v: Literal = t === "true" ? true : t === "false" ? false : t === "null" ? null : Number(t);
  return [v, i + t.length];
}

function compare(a: unknown, op: string, b: Literal): boolean {
  switch (op) {
    case "==":
      return a === b || (typeof a === "number" && typeof b === "string" && String(a) === b);
    case "!=":
      return !(a === b || (typeof a === "number" && typeof b === "string" && String(a) === b));
    default: {
      if (typeof a !== "number" || typeof b !== "number") return false;
      if (op === "<") return a < b;
      if (op === ">") return a > b;
      if (op === "<=") return a <= b;
      return a >= b;
    }
  }
}

/** Every value the path selects, in document order (map keys sorted for wildcards). */
export function evaluateJSONPath(steps: Step[], root: unknown): unknown[] {
  let cur: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      switch (step.kind) {
        case "field":
          if (isRecord(v) && Object.hasOwn(v, step.name)) next.push(v[step.name]);
          break;
        case "index":
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case "wildcard":
          if (Array.isArray(v)) next.push(...v);
          else if (isRecord(v)) for (const k of Object.keys(v).sort()) next.push(v[k]);
          break;
        case "filter":
          if (Array.isArray(v)) {
            for (const item of v) {
              const found = evaluateJSONPath(step.path, item);
              if (step.op === "exists" ? found.length > 0 : found.some((f) => compare(f, step.op, step.value))) {
                next.push(item);
              }
            }
          }
          break;
      }
    }
    cur = next;
  }
  return cur;
}
