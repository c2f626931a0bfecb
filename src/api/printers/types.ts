import type { KObject } from "../types.js";

/** One column of a meta.k8s.io/v1 Table, as the apiserver sends it. */
export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type of the cells: "string", "integer", "number", "boolean" or "date". */
  type: string;
  /** "name" for the column that holds the object's name; "" otherwise. */
  format: string;
  description: string;
  /** 0 for the default view; 1 and above only for `-o wide`. */
  priority: number;
}

/** A meta.k8s.io/v1 TableRowCondition (pods that finished carry "Completed"). */
export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Turns stored objects of one resource into Table rows. */
export interface Printer {
  columns: TableColumnDefinition[];
  /** One cell per column, wide columns included (the apiserver always prints wide). */
  cells(obj: KObject, now: Date): unknown[];
  /** Row conditions upstream attaches to some rows; absent means none. */
  conditions?(obj: KObject): TableRowCondition[] | undefined;
}
