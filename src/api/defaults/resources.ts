/** Upstream SetDefaults_ResourceList: quantities round up to milli scale, written in canonical form. */
import { Quantity, quantityFromJSON } from "../quantity.js";
import { isRecord } from "../types.js";
import type { Obj } from "./fields.js";

const NANOS_PER_MILLI = 1_000_000n;

/** Rounds a quantity up (away from zero) to a whole number of thousandths, as `RoundUp(-3)`. */
export function roundUpToMilli(q: Quantity): Quantity {
  const rem = q.nanos % NANOS_PER_MILLI;
  if (rem === 0n) return q;
  const step = q.nanos > 0n ? NANOS_PER_MILLI : -NANOS_PER_MILLI;
  return new Quantity(q.nanos - rem + step, q.format);
}

/**
 * Rounds every quantity of the resource list at `o[key]` to milli scale and rewrites it in the
 * canonical form the Go API server serializes ("0.5" → "500m", 1 → "1"). Values that do not
 * parse are left for validation to reject.
 */
export function defaultResourceList(o: Obj | undefined, key: string): void {
  if (!o) return;
  const list = o[key];
  if (!isRecord(list)) return;
  for (const [name, raw] of Object.entries(list)) {
    let q: Quantity;
    try {
      q = quantityFromJSON(raw);
    } catch {
      continue;
    }
    list[name] = roundUpToMilli(q).toString();
  }
}

/** Both lists of a ResourceRequirements object (limits and requests). */
export function defaultResourceRequirements(r: Obj | undefined): void {
  defaultResourceList(r, "limits");
  defaultResourceList(r, "requests");
}
