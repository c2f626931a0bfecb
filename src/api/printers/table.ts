/** Assembling a meta.k8s.io/v1 Table response from a printer and stored objects. */

import type { KObject } from "../types.js";
import type { Printer, TableColumnDefinition, TableRowCondition } from "./types.js";

export type IncludeObject = "None" | "Metadata" | "Object";

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object?: unknown;
}

export interface Table {
  kind: "Table";
  /** meta.k8s.io/v1, or v1beta1 when the client asked for that. */
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface TableOptions {
  /** `?includeObject=`: what each row carries. Default "Metadata" (a PartialObjectMetadata). */
  includeObject?: IncludeObject;
  /** TableOptions.noHeaders: leave columnDefinitions empty. Default false. */
  noHeaders?: boolean;
  /** List metadata to copy onto the table (resourceVersion, continue, remainingItemCount). */
  listMeta?: Table["metadata"];
  /** The Table's (and row PartialObjectMetadata's) apiVersion. Default meta.k8s.io/v1. */
  apiVersion?: string;
  /** includeObject=Object: the object as the client's version shows it. Default: as stored. */
  convert?: (obj: KObject) => KObject;
}

function rowObject(obj: KObject, include: IncludeObject, opts: TableOptions): unknown {
  switch (include) {
    case "None":
      return undefined;
    case "Object":
      return opts.convert ? opts.convert(obj) : obj;
    default:
      return { kind: "PartialObjectMetadata", apiVersion: opts.apiVersion ?? "meta.k8s.io/v1", metadata: obj.metadata };
  }
}

/** A Table of `objects` as the apiserver returns it for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. */
export function buildTable(printer: Printer, objects: KObject[], now: Date, opts: TableOptions = {}): Table {
  const include = opts.includeObject ?? "Metadata";
  const rows = objects.map((obj): TableRow => {
    const row: TableRow = { cells: printer.cells(obj, now) };
    const conditions = printer.conditions?.(obj);
    if (conditions !== undefined) row.conditions = conditions;
    const object = rowObject(obj, include, opts);
    if (object !== undefined) row.object = object;
    return row;
  });
  return {
    kind: "Table",
    apiVersion: opts.apiVersion ?? "meta.k8s.io/v1",
    metadata: { ...(opts.listMeta ?? {}) },
    columnDefinitions: opts.noHeaders ? [] : printer.columns,
    rows,
  };
}
