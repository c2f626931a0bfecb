/**
 * Tables for custom resources (apiextensions-apiserver's tableconvertor) and the apiserver's
 * default table convertor for resources without a printer of their own.
 */

import type { KObject } from "../types.js";
import { col, NAME, nameOf, printer } from "./common.js";
import * as d from "./descriptions.js";
import { humanDuration } from "./duration.js";
import { evaluateJSONPath, parseJSONPath } from "./jsonpath.js";
import type { Printer } from "./types.js";

export interface CustomResourceColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** Go's time.Time.Format(time.RFC3339) of a stored timestamp, in UTC and without fractions. */
function rfc3339(v: unknown): string {
  if (typeof v === "string") {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return new Date(t).toISOString().replace(/\.\d+Z$/, "Z");
  }
  return "0001-01-01T00:00:00Z";
}

/** The apiserver's default table: NAME and "Created At" (an RFC 3339 date). */
export const defaultTablePrinter: Printer = printer(
  [NAME, col("Created At", "date", d.metaCreationTimestamp)],
  (obj) => [nameOf(obj), rfc3339(obj.metadata?.creationTimestamp)],
);

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Go's fmt "%v" of a float64: shortest digits, exponent form below 1e-4 or from 1e21 on. */
function goFloat(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [mant, e] = n.toExponential().split("e");
    const ev = Number(e);
    const digits = String(Math.abs(ev)).padStart(2, "0");
    return `${mant}e${ev < 0 ? "-" : "+"}${digits}`;
  }
  return String(n);
}

/** encoding/json.Marshal: sorted map keys, HTML-safe escapes. */
function goJSON(v: unknown): string {
  const sortKeys = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sortKeys);
    if (x !== null && typeof x === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) out[k] = sortKeys((x as Record<string, unknown>)[k]);
      return out;
    }
    return x;
  };
  return JSON.stringify(sortKeys(v)).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

/** How a string column prints whatever value it selected. */
function printValue(v: unknown): string {
  if (v === null) return "<no value>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : goFloat(v);
  if (typeof v === "boolean") return String(v);
  return goJSON(v);
}

function cellFor(type: string, v: unknown, now: Date): unknown {
  if (v === undefined) return null;
  if (type === "string") return printValue(v);
  if (v === null) return null;
  switch (type) {
    case "integer":
      return typeof v === "number" ? Math.trunc(v) : null;
    case "number":
      return typeof v === "number" ? v : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
    case "date": {
      if (typeof v !== "string") return null;
      if (v === "" || v === "null") return "<unknown>";
      if (!RFC3339.test(v)) return "<invalid>";
      const t = Date.parse(v);
      if (Number.isNaN(t)) return "<invalid>";
      if (new Date(t).getUTCFullYear() <= 1) return "<unknown>";
      return humanDuration(now.getTime() - t);
    }
    default:
      return null;
  }
}

/**
 * NAME, then the CRD version's additionalPrinterColumns. A version without columns gets the
 * logically defaulted "Age" column (type date, from .metadata.creationTimestamp); with columns,
 * nothing is added, as upstream.
 */
export function crdPrinter(columns: CustomResourceColumn[]): Printer {
  const effective: CustomResourceColumn[] =
    columns.length > 0
      ? columns
      : [{ name: "Age", type: "date", description: d.metaCreationTimestamp, jsonPath: ".metadata.creationTimestamp" }];
  const paths = effective.map((c) => {
    try {
      return parseJSONPath(c.jsonPath);
    } catch {
      return undefined;
    }
  });
  const defs = [
    NAME,
    ...effective.map((c) =>
      col(c.name, c.type, c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`, {
        priority: c.priority ?? 0,
        format: c.format ?? "",
      }),
    ),
  ];
  return printer(defs, (obj: KObject, now: Date) => {
    const cells: unknown[] = [nameOf(obj)];
    effective.forEach((c, i) => {
      const steps = paths[i];
      const results = steps === undefined ? [] : evaluateJSONPath(steps, obj);
      cells.push(results.length === 0 ? null : cellFor(c.type, results[0], now));
    });
    return cells;
  });
}
