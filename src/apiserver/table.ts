/**
 * Server-side printing: which printer serves a resource, and the Table / PartialObjectMetadata
 * shapes kubectl asks for (the Table itself is assembled by api/printers).
 */
import {
  buildTable as assembleTable,
  crdPrinter,
  type IncludeObject,
  type Printer,
  printerFor,
} from "../api/printers/index.js";
import type { KObject } from "../api/types.js";
import type { ServedVersion } from "./catalog.js";

export type { IncludeObject };

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
  const listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number } = {};
  if (opts.resourceVersion !== undefined) listMeta.resourceVersion = opts.resourceVersion;
  if (opts.continueToken !== undefined) listMeta.continue = opts.continueToken;
  if (opts.remainingItemCount !== undefined) listMeta.remainingItemCount = opts.remainingItemCount;
  return assembleTable(printer, objects, new Date(), {
    includeObject: opts.includeObject,
    noHeaders: opts.noHeaders ?? false,
    listMeta,
    apiVersion: opts.apiVersion,
    convert: opts.convert,
  }) as unknown as Record<string, unknown>;
}
