import type { Printer } from "../../src/api/printers/index.js";
import type { KObject } from "../../src/api/types.js";

/** The clock every test reads: 2024-06-01T12:00:00Z. */
export const NOW = new Date("2024-06-01T12:00:00Z");

/** A timestamp `ago` before NOW, e.g. ago("5m"), ago("2d3h"), ago("45s"). */
export function ago(spec: string): string {
  const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let ms = 0;
  for (const [, n, u] of spec.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * (units[u ?? "s"] ?? 0);
  return new Date(NOW.getTime() - ms).toISOString().replace(/\.000Z$/, "Z");
}

/** The headers kubectl prints: upper-cased names, wide columns only with `-o wide`. */
export function headers(p: Printer, wide = false): string[] {
  return p.columns.filter((c) => wide || c.priority === 0).map((c) => c.name.toUpperCase());
}

/** The cells kubectl prints, keyed by upper-cased header, wide columns included. */
export function row(p: Printer, obj: KObject): Record<string, unknown> {
  const cells = p.cells(obj, NOW);
  const out: Record<string, unknown> = {};
  p.columns.forEach((c, i) => {
    out[c.name.toUpperCase()] = cells[i];
  });
  return out;
}

/** Shorthand for an object with metadata. */
export function obj(name: string, created: string, rest: Record<string, unknown> = {}, meta: object = {}): KObject {
  return { metadata: { name, creationTimestamp: created, ...meta }, ...rest };
}
