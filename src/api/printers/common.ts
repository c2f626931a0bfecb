/** Building blocks shared by the per-resource printers. */

import type { KObject } from "../types.js";
import * as d from "./descriptions.js";
import { since } from "./duration.js";
import { arr, at, str } from "./json.js";
import type { Printer, TableColumnDefinition, TableRowCondition } from "./types.js";

export function col(
  name: string,
  type: string,
  description: string,
  opts: { priority?: number; format?: string } = {},
): TableColumnDefinition {
  return { name, type, format: opts.format ?? "", description, priority: opts.priority ?? 0 };
}

export const NAME = col("Name", "string", d.metaName, { format: "name" });
export const AGE = col("Age", "string", d.metaCreationTimestamp);
export const WIDE_CONTAINERS = col("Containers", "string", "Names of each container in the template.", { priority: 1 });
export const WIDE_IMAGES = col("Images", "string", "Images referenced by each container in the template.", {
  priority: 1,
});

export function nameOf(obj: KObject): string {
  return str(obj.metadata?.name);
}

export function ageOf(obj: KObject, now: Date): string {
  return since(obj.metadata?.creationTimestamp, now);
}

export function isDeleting(obj: KObject): boolean {
  return typeof obj.metadata?.deletionTimestamp === "string" && obj.metadata.deletionTimestamp !== "";
}

/** layoutContainerCells: names and images, each joined with ",". */
export function containerCells(containers: unknown): [string, string] {
  const list = arr(containers);
  return [list.map((c) => str(at(c, "name"))).join(","), list.map((c) => str(at(c, "image"))).join(",")];
}

/** printBoolPtr: "True" / "False", or "<unset>" when absent. */
export function boolPtr(v: unknown): string {
  if (typeof v !== "boolean") return "<unset>";
  return v ? "True" : "False";
}

/** listWithMoreString: the first `max` items, then " + N more..."; "<unset>" when empty. */
export function listWithMore(list: string[], count: number, max: number): string {
  const ret = list.slice(0, max).join(",");
  if (count > max) return `${ret} + ${count - max} more...`;
  return ret === "" ? "<unset>" : ret;
}

/** A Printer from its columns and a cells function. */
export function printer(
  columns: TableColumnDefinition[],
  cells: (obj: KObject, now: Date) => unknown[],
  conditions?: (obj: KObject) => TableRowCondition[] | undefined,
): Printer {
  return conditions ? { columns, cells, conditions } : { columns, cells };
}
