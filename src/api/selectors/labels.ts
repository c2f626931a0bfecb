/**
 * Label selectors as k8s.io/apimachinery/pkg/labels: the string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`),
 * metav1.LabelSelector objects, and matching. Errors carry upstream's wording.
 */

import { isRecord } from "../types.js";
import { aggregateMessage, type FieldError, fe, index, key } from "../validation/field.js";
import { isQualifiedName, isValidLabelValue } from "../validation/names.js";

/** selection.Operator values. */
export type LabelOperator = "in" | "notin" | "=" | "==" | "!=" | "exists" | "!" | "gt" | "lt";

const BINARY_OPERATORS: readonly LabelOperator[] = ["in", "notin", "=", "==", "!=", "gt", "lt"];
const VALID_OPERATORS: readonly LabelOperator[] = [...BINARY_OPERATORS, "exists", "!"];

export interface Requirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and de-duplicated for parsed selectors, as upstream's sets.String.List(). */
  values: string[];
}

export class LabelSelectorError extends Error {
  override name = "LabelSelectorError";
}

export type Labels = Readonly<Record<string, string>> | undefined | null;

export interface LabelSelector {
  readonly requirements: readonly Requirement[];
  /** True when the labels satisfy every requirement. */
  matches(labels: Labels): boolean;
  /** True when the selector selects everything. */
  empty(): boolean;
  /** Upstream String() form, e.g. `a=b,c in (x,y)`. */
  toString(): string;
  /** The value a requirement pins `label` to (=, ==, or `in` with one value), if any. */
  requiresExactMatch(label: string): string | undefined;
}

function requirementMatches(r: Requirement, labels: Labels): boolean {
  const has = labels != null && Object.hasOwn(labels, r.key);
  const v = has ? (labels as Record<string, string>)[r.key] : undefined;
  switch (r.operator) {
    case "in":
    case "=":
    case "==":
      return has && r.values.includes(v as string);
    case "notin":
    case "!=":
      return !has || !r.values.includes(v as string);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (!has || r.values.length !== 1) return false;
      if (!/^[+-]?[0-9]+$/.test(v as string) || !/^[+-]?[0-9]+$/.test(r.values[0] as string)) return false;
      const lv = BigInt(v as string);
      const rv = BigInt(r.values[0] as string);
      return r.operator === "gt" ? lv > rv : lv < rv;
    }
  }
}

function sortedCopy(values: readonly string[]): string[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function requirementString(r: Requirement): string {
  let s = r.operator === "!" ? "!" : "";
  s += r.key;
  switch (r.operator) {
    case "=":
      s += "=";
      break;
    case "==":
      s += "==";
      break;
    case "!=":
      s += "!=";
      break;
    case "in":
      s += " in ";
      break;
    case "notin":
      s += " notin ";
      break;
    case "gt":
      s += ">";
      break;
    case "lt":
      s += "<";
      break;
    case "exists":
    case "!":
      return s;
  }
  const set = r.operator === "in" || r.operator === "notin";
  if (set) s += "(";
  s += r.values.length === 1 ? r.values[0] : sortedCopy(r.values).join(",");
  if (set) s += ")";
  return s;
}

class RequirementsSelector implements LabelSelector {
  constructor(readonly requirements: readonly Requirement[]) {}
  matches(labels: Labels): boolean {
    for (const r of this.requirements) if (!requirementMatches(r, labels)) return false;
    return true;
  }
  empty(): boolean {
    return this.requirements.length === 0;
  }
  toString(): string {
    return this.requirements.map(requirementString).join(",");
  }
  requiresExactMatch(label: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== label) continue;
      if ((r.operator === "=" || r.operator === "==" || r.operator === "in") && r.values.length === 1)
        return r.values[0];
      return undefined;
    }
    return undefined;
  }
}

class NothingSelector implements LabelSelector {
  readonly requirements: readonly Requirement[] = [];
  matches(): boolean {
    return false;
  }
  empty(): boolean {
    return false;
  }
  toString(): string {
    return "";
  }
  requiresExactMatch(): string | undefined {
    return undefined;
  }
}

/** Selects everything. */
export function everything(): LabelSelector {
  return new RequirementsSelector([]);
}

/** Selects nothing (a nil metav1.LabelSelector). */
export function nothing(): LabelSelector {
  return new NothingSelector();
}

function byKey(a: Requirement, b: Requirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** labels.NewRequirement's checks; returns the field errors (paths as upstream builds them without a base path). */
export function requirementErrors(k: string, op: string, values: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  for (const m of isQualifiedName(k)) errs.push(fe.invalid("key", k, m));
  switch (op) {
    case "in":
    case "notin":
      if (values.length === 0)
        errs.push(fe.invalid("values", values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1)
        errs.push(fe.invalid("values", values, "exact-match compatibility requires one single value"));
      break;
    case "exists":
    case "!":
      if (values.length !== 0)
        errs.push(fe.invalid("values", values, "values set must be empty for exists and does not exist"));
      break;
    case "gt":
    case "lt":
      if (values.length !== 1)
        errs.push(fe.invalid("values", values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (!/^[+-]?[0-9]+$/.test(v))
          errs.push(fe.invalid(index("values", i), v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
    default:
      errs.push(fe.notSupported("operator", op, VALID_OPERATORS));
  }
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v);
    if (msgs.length > 0) errs.push(fe.invalid(key(index("values", i), k), v, msgs.join("; ")));
  });
  return errs;
}

function newRequirement(k: string, op: LabelOperator, values: string[]): Requirement {
  const errs = requirementErrors(k, op, values);
  if (errs.length > 0) throw new LabelSelectorError(aggregateMessage(errs));
  return { key: k, operator: op, values };
}

// ---- lexer / parser (labels/selector.go) ----

type Tok =
  | "error"
  | "eos"
  | "closedPar"
  | "comma"
  | "doesNotExist"
  | "doubleEquals"
  | "equals"
  | "gt"
  | "identifier"
  | "in"
  | "lt"
  | "notEquals"
  | "notIn"
  | "openPar";

const STRING_TO_TOKEN: Readonly<Record<string, Tok>> = {
  ")": "closedPar",
  ",": "comma",
  "!": "doesNotExist",
  "==": "doubleEquals",
  "=": "equals",
  ">": "gt",
  in: "in",
  "<": "lt",
  "!=": "notEquals",
  notin: "notIn",
  "(": "openPar",
};

function tokenOf(s: string): Tok | undefined {
  return Object.hasOwn(STRING_TO_TOKEN, s) ? STRING_TO_TOKEN[s] : undefined;
}

const isWhitespace = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
const isSpecial = (c: string): boolean => "=!(),><".includes(c);

interface Item {
  tok: Tok;
  lit: string;
}

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos] as string)) pos++;
    if (pos >= s.length) {
      items.push({ tok: "eos", lit: "" });
      return items;
    }
    const c = s[pos] as string;
    if (isSpecial(c)) {
      let buf = "";
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos] as string)) {
        buf += s[pos];
        const t = tokenOf(buf);
        if (t) {
          last = { tok: t, lit: buf };
          pos++;
        } else if (last) {
          break;
        } else {
          pos++;
        }
      }
      items.push(last ?? { tok: "error", lit: `error expected: keyword found '${buf}'` });
    } else {
      const start = pos;
      while (pos < s.length && !isSpecial(s[pos] as string) && !isWhitespace(s[pos] as string)) pos++;
      const word = s.slice(start, pos);
      items.push({ tok: tokenOf(word) ?? "identifier", lit: word });
    }
  }
}

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  private lookahead(values: boolean): Item {
    const it = this.items[this.pos] as Item;
    if (values && (it.tok === "in" || it.tok === "notIn")) return { tok: "identifier", lit: it.lit };
    return it;
  }

  private consume(values: boolean): Item {
    const it = this.lookahead(values);
    this.pos++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(true);
      if (tok === "identifier" || tok === "doesNotExist") {
        let r: Requirement;
        try {
          r = this.parseRequirement();
        } catch (e) {
          throw new LabelSelectorError(`unable to parse requirement: ${(e as Error).message}`);
        }
        reqs.push(r);
        const t = this.consume(true);
        if (t.tok === "eos") return reqs;
        if (t.tok === "comma") {
          const t2 = this.lookahead(true);
          if (t2.tok !== "identifier" && t2.tok !== "doesNotExist")
            throw new LabelSelectorError(`found '${t2.lit}', expected: identifier after ','`);
        } else {
          throw new LabelSelectorError(`found '${t.lit}', expected: ',' or 'end of string'`);
        }
      } else if (tok === "eos") {
        return reqs;
      } else {
        throw new LabelSelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    let op: LabelOperator | undefined;
    let t = this.consume(true);
    if (t.tok === "doesNotExist") {
      op = "!";
      t = this.consume(true);
    }
    if (t.tok !== "identifier") throw new Error(`found '${t.lit}', expected: identifier`);
    const k = t.lit;
    const keyErrs = isQualifiedName(k);
    // Upstream validates the key against a nil field path, which prints as "<nil>".
    if (keyErrs.length > 0) throw new Error(`<nil>: ${fe.invalid("<nil>", k, keyErrs.join("; ")).message}`);
    // `!key` is complete by itself (anything after it is reported by the caller); a bare `key` means exists.
    if (op === "!") return newRequirement(k, "!", []);
    const next = this.lookahead(true).tok;
    if (next === "eos" || next === "comma") return newRequirement(k, "exists", []);
    const operator = this.parseOperator();
    let values: string[];
    if (operator === "in" || operator === "notin") values = this.parseValues();
    else values = this.parseExactValue();
    return newRequirement(k, operator, sortedCopy([...new Set(values)]));
  }

  private parseOperator(): LabelOperator {
    const { tok, lit } = this.consume(false);
    switch (tok) {
      case "in":
        return "in";
      case "equals":
        return "=";
      case "doubleEquals":
        return "==";
      case "gt":
        return "gt";
      case "lt":
        return "lt";
      case "notIn":
        return "notin";
      case "notEquals":
        return "!=";
      default:
        throw new Error(`found '${lit}', expected: ${BINARY_OPERATORS.join(", ")}`);
    }
  }

  private parseValues(): string[] {
    let { tok, lit } = this.consume(true);
    if (tok !== "openPar") throw new Error(`found '${lit}' expected: '('`);
    ({ tok, lit } = this.lookahead(true));
    if (tok === "identifier" || tok === "comma") {
      const s = this.parseIdentifiersList();
      if (this.consume(true).tok !== "closedPar") throw new Error(`found '${lit}', expected: ')'`);
      return s;
    }
    if (tok === "closedPar") {
      this.consume(true);
      return [""];
    }
    throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): string[] {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume(true);
      if (tok === "identifier") {
        s.add(lit);
        const t2 = this.lookahead(true);
        if (t2.tok === "comma") continue;
        if (t2.tok === "closedPar") return [...s];
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      }
      if (tok === "comma") {
        if (s.size === 0) s.add("");
        const t2 = this.lookahead(true).tok;
        if (t2 === "closedPar") {
          s.add("");
          return [...s];
        }
        if (t2 === "comma") {
          this.consume(true);
          s.add("");
        }
        continue;
      }
      throw new Error(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): string[] {
    const la = this.lookahead(true).tok;
    if (la === "eos" || la === "comma") return [""];
    const { tok, lit } = this.consume(true);
    if (tok === "identifier") return [lit];
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

/** Parses the string syntax like upstream `labels.Parse`; throws LabelSelectorError with upstream's message. */
export function parseLabelSelector(selector: string): LabelSelector {
  const reqs = new Parser(lex(selector)).parse();
  reqs.sort(byKey);
  return new RequirementsSelector(reqs);
}

/** A selector matching exactly the given labels (labels.SelectorFromSet); not validated. */
export function selectorFromSet(set: Readonly<Record<string, string>> | undefined | null): LabelSelector {
  if (!set) return everything();
  const reqs: Requirement[] = Object.keys(set)
    .sort()
    .map((k) => ({ key: k, operator: "=" as const, values: [set[k] as string] }));
  return new RequirementsSelector(reqs);
}

/** metav1.LabelSelector as JSON. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

const EXPR_OPERATORS: Readonly<Record<string, LabelOperator>> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, an empty selector selects everything.
 * Throws LabelSelectorError with upstream's message for a bad operator, key or value.
 */
export function labelSelectorFromObject(sel: unknown): LabelSelector {
  if (sel === null || sel === undefined) return nothing();
  if (!isRecord(sel)) throw new LabelSelectorError("invalid label selector");
  const ml = isRecord(sel["matchLabels"]) ? sel["matchLabels"] : {};
  const me = Array.isArray(sel["matchExpressions"]) ? (sel["matchExpressions"] as unknown[]) : [];
  if (Object.keys(ml).length + me.length === 0) return everything();
  const reqs: Requirement[] = [];
  for (const k of Object.keys(ml)) reqs.push(newRequirement(k, "=", [String(ml[k])]));
  for (const raw of me) {
    const expr = isRecord(raw) ? raw : {};
    const opName = typeof expr["operator"] === "string" ? expr["operator"] : "";
    const op = Object.hasOwn(EXPR_OPERATORS, opName) ? EXPR_OPERATORS[opName] : undefined;
    if (!op) throw new LabelSelectorError(`${JSON.stringify(opName)} is not a valid label selector operator`);
    const values = Array.isArray(expr["values"]) ? (expr["values"] as unknown[]).map(String) : [];
    reqs.push(newRequirement(typeof expr["key"] === "string" ? expr["key"] : "", op, values));
  }
  reqs.sort(byKey);
  return new RequirementsSelector(reqs);
}

/** Convenience: does a metav1.LabelSelector (JSON) select these labels? A null selector selects nothing. */
export function selectorMatches(sel: unknown, labels: Labels): boolean {
  return labelSelectorFromObject(sel).matches(labels);
}
