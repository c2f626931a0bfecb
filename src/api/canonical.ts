/** The canonical form objects are compared and hashed in (templates of controllers, the DaemonSet template generation). */
import { isRecord } from "./types.js";

/**
 * An object with sorted keys and without null, empty objects or empty arrays: what Go's semantic
 * equality cannot tell apart compares (and hashes) the same here.
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.map(canonical);
  }
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonical(v[k]);
      if (c === undefined || c === null) continue;
      if (Array.isArray(c) && c.length === 0) continue;
      if (isRecord(c) && Object.keys(c).length === 0) continue;
      out[k] = c;
    }
    return out;
  }
  return v;
}
