/**
 * Server-side printing: Table and PartialObjectMetadata responses, as kubectl asks for them.
 */
import { crdPrinter, type Printer, printerFor } from "../api/printers/index.js";
import type { KObject } from "../api/types.js";
import type { ServedVersion } from "./catalog.js";

export type IncludeObject = "None" | "Metadata" | "Object";

export function printerOf(sv: ServedVersion): Printer {
  if (sv.crd) return crdPrinter(sv.crd.additionalPrinterColumns);
  return printerFor(sv.storageGroup, sv.def.plural);
}

export function partialObjectMetadata(obj: KObject, apiVersion: string): Record<string, unknown> {
  return { kind: "PartialObjectMetadata", apiVersion, metadata: obj.metadata };
}

export interface TableOptions {
  /** meta.k8s.io/v1 or meta.k8s.io/v1beta1 */
  apiVersion: string;
  includeObject: IncludeObject;
  /** Omit columnDefinitions (watch events after the first). */
  noHeaders?: boolean;
  resourceVersion?: string;
  continueToken?: string;
  remainingItemCount?: number;
  /** Converts a stored object to the requested version (for includeObject=Object). */
  convert(obj: KObject): KObject;
}

export function buildTable(printer: Printer, objects: KObject[], opts: TableOptions): Record<string, unknown> {
  const now = new Date();
  const rows = objects.map((obj) => {
    const row: Record<string, unknown> = { cells: printer.cells(obj, now) };
    if (opts.includeObject === "Metadata") row["object"] = partialObjectMetadata(obj, opts.apiVersion);
    else if (opts.includeObject === "Object") row["object"] = opts.convert(obj);
    return row;
  });
  const metadata: Record<string, unknown> = {};
  if (opts.resourceVersion !== undefined) metadata["resourceVersion"] = opts.resourceVersion;
  if (opts.continueToken !== undefined) metadata["continue"] = opts.continueToken;
  if (opts.remainingItemCount !== undefined) metadata["remainingItemCount"] = opts.remainingItemCount;
  const table: Record<string, unknown> = { kind: "Table", apiVersion: opts.apiVersion, metadata };
  table["columnDefinitions"] = opts.noHeaders ? null : printer.columns;
  table["rows"] = rows;
  return table;
}
