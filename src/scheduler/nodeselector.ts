/**
 * core/v1 NodeSelector matching (upstream component-helpers nodeaffinity): terms are ORed, the
 * requirements of a term ANDed; matchExpressions test labels (In, NotIn, Exists, DoesNotExist,
 * Gt, Lt), matchFields test metadata.name. A term with nothing in it, or with an invalid
 * requirement, matches no node.
 */
import { isRecord } from "../api/types.js";

type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";

interface Requirement {
  key: string;
  op: Operator;
  values: readonly string[];
  /** Gt/Lt bound. */
  bound: number;
}

export interface SelectorTerm {
  expressions: Requirement[];
  fields: Requirement[];
  /** False when a requirement could not be understood: the term then matches nothing. */
  valid: boolean;
}

const OPERATORS: ReadonlySet<string> = new Set(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]);
const INT = /^[+-]?\d+$/;

function parseRequirements(v: unknown, field: boolean): { reqs: Requirement[]; valid: boolean } {
  const reqs: Requirement[] = [];
  let valid = true;
  if (v === undefined || v === null) return { reqs, valid };
  if (!Array.isArray(v)) return { reqs, valid: false };
  for (const raw of v) {
    const r = isRecord(raw) ? raw : {};
    const key = typeof r["key"] === "string" ? r["key"] : "";
    const op = typeof r["operator"] === "string" ? r["operator"] : "";
    const values = Array.isArray(r["values"]) ? r["values"].filter((x): x is string => typeof x === "string") : [];
    if (!OPERATORS.has(op) || key === "") {
      valid = false;
      continue;
    }
    const req: Requirement = { key, op: op as Operator, values, bound: 0 };
    if (field) {
      // only metadata.name, with In / NotIn and one value (upstream's field selector rules)
      if (key !== "metadata.name" || (op !== "In" && op !== "NotIn") || values.length !== 1) valid = false;
    } else if (op === "Gt" || op === "Lt") {
      if (values.length !== 1 || !INT.test(values[0] as string)) valid = false;
      else req.bound = Number(values[0]);
    } else if ((op === "In" || op === "NotIn") && values.length === 0) {
      valid = false;
    } else if ((op === "Exists" || op === "DoesNotExist") && values.length > 0) {
      valid = false;
    }
    reqs.push(req);
  }
  return { reqs, valid };
}

/** One NodeSelectorTerm (or a preferred term's preference). */
export function parseSelectorTerm(v: unknown): SelectorTerm {
  if (!isRecord(v)) return { expressions: [], fields: [], valid: false };
  const e = parseRequirements(v["matchExpressions"], false);
  const f = parseRequirements(v["matchFields"], true);
  return { expressions: e.reqs, fields: f.reqs, valid: e.valid && f.valid };
}

function requirementMatches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.op) {
    case "In":
      return has && r.values.includes(value as string);
    case "NotIn":
      return !has || !r.values.includes(value as string);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      if (!has || !INT.test(value as string)) return false;
      const n = Number(value);
      return r.op === "Gt" ? n > r.bound : n < r.bound;
    }
  }
}

export function termMatches(t: SelectorTerm, nodeName: string, labels: Readonly<Record<string, string>>): boolean {
  if (!t.valid || (t.expressions.length === 0 && t.fields.length === 0)) return false;
  for (const r of t.expressions) if (!requirementMatches(r, labels)) return false;
  for (const r of t.fields) {
    const is = r.values[0] === nodeName;
    if (r.op === "In" ? !is : is) return false;
  }
  return true;
}

/** A required node selector: matches when any term matches. */
export class NodeSelector {
  readonly terms: SelectorTerm[];

  constructor(terms: SelectorTerm[]) {
    this.terms = terms;
  }

  static parse(v: unknown): NodeSelector {
    const terms = isRecord(v) && Array.isArray(v["nodeSelectorTerms"]) ? v["nodeSelectorTerms"] : [];
    return new NodeSelector(terms.map(parseSelectorTerm));
  }

  matches(nodeName: string, labels: Readonly<Record<string, string>>): boolean {
    for (const t of this.terms) if (termMatches(t, nodeName, labels)) return true;
    return false;
  }
}

/** A pod's required node constraints: spec.nodeSelector and requiredDuringScheduling node affinity. */
export interface RequiredNodeAffinity {
  nodeSelector: Readonly<Record<string, string>> | undefined;
  affinity: NodeSelector | undefined;
}

export function requiredNodeAffinityMatches(
  r: RequiredNodeAffinity,
  nodeName: string,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (r.nodeSelector) {
    for (const k of Object.keys(r.nodeSelector)) {
      if (!Object.hasOwn(labels, k) || labels[k] !== r.nodeSelector[k]) return false;
    }
  }
  return r.affinity === undefined || r.affinity.matches(nodeName, labels);
}
