/**
 * Which pods use which claims (`<ns>/<claim>` → pod keys), kept from a pod informer by the volume
 * controllers that care (the binder names the pod a WaitForFirstConsumer claim waits for and will
 * not recycle a volume in use; pvc-protection keeps a claim while it is used).
 */
import type { KObject } from "../../api/types.js";
import { podClaimNames } from "../../scheduler/claimbinding.js";

export class ClaimUsers {
  private readonly users = new Map<string, Set<string>>();

  /**
   * Records the pod as a user of its claims while `holds(pod)` (and it is not deleted), else not;
   * returns the claim keys it joined and left.
   */
  observe(pod: KObject, deleted: boolean, holds: (pod: KObject) => boolean): { joined: string[]; left: string[] } {
    const ns = pod.metadata.namespace ?? "";
    const podKey = `${ns}/${pod.metadata.name}`;
    const uses = !deleted && holds(pod);
    const joined: string[] = [];
    const left: string[] = [];
    for (const claim of podClaimNames(pod)) {
      const key = `${ns}/${claim}`;
      let s = this.users.get(key);
      if (uses) {
        if (!s) {
          s = new Set();
          this.users.set(key, s);
        }
        if (!s.has(podKey)) {
          s.add(podKey);
          joined.push(key);
        }
      } else if (s?.delete(podKey)) {
        if (s.size === 0) this.users.delete(key);
        left.push(key);
      }
    }
    return { joined, left };
  }

  /** The pods (`<ns>/<name>`) using the claim `<ns>/<claim>`, sorted. */
  of(key: string): string[] {
    return [...(this.users.get(key) ?? [])].sort();
  }

  clear(): void {
    this.users.clear();
  }
}
