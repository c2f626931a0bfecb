/**
 * Which PersistentVolume a claim binds to (upstream component-helpers FindMatchingVolume over the
 * PV controller's access-modes index): a volume pre-bound to the claim wins; otherwise the
 * smallest Available volume of the claim's class, at least as large as the request, whose access
 * modes include the claim's (the index tries mode sets with the fewest modes first), with the same
 * volumeMode, matching the claim's selector and — on the scheduler's path — the node's labels.
 *
 * Unclaimed volumes are kept per (class, access modes) sorted by capacity, so a claim looks at
 * the volumes of its size and up in its class only: a claim among 10,000 Available volumes does
 * not scan them all.
 */
import { type LabelSelector, labelSelectorFromObject } from "../../../api/selectors/index.js";
import {
  ANN_BOUND_BY_CONTROLLER,
  accessModes,
  claimClass,
  claimRefOf,
  claimRequestBytes,
  specOf,
  statusOf,
  volumeAdmitsNode,
  volumeCapacityBytes,
  volumeClass,
  volumeMode,
} from "../../../api/storage.js";
import type { KObject } from "../../../api/types.js";

interface Entry {
  pv: KObject;
  bytes: bigint;
}

export interface MatchOptions {
  /** The claim's class binds on first consumer: only a volume pre-bound to it is taken (without a node). */
  delayBinding?: boolean;
  /** The scheduler's path: the node the volume must be usable on (its node affinity), access modes checked. */
  node?: KObject;
  /** Volumes not to take (already chosen for another claim of the same pod). */
  excluded?: ReadonlySet<string>;
}

function modesKey(modes: readonly string[]): string {
  return [...new Set(modes)].sort().join(",");
}

/** Whether the volume is bound or pre-bound to this claim (name, namespace and, when set, uid). */
export function isVolumeBoundToClaim(pv: KObject, claim: KObject): boolean {
  const ref = claimRefOf(pv);
  if (!ref || ref.name !== claim.metadata.name || ref.namespace !== (claim.metadata.namespace ?? "")) return false;
  return ref.uid === undefined || ref.uid === claim.metadata.uid;
}

/** Whether the volume's node affinity admits the node (no affinity: every node). */
export function volumeFitsNode(pv: KObject, node: KObject): boolean {
  return volumeAdmitsNode(pv, node.metadata.name ?? "", node.metadata.labels ?? {});
}

/**
 * upstream GetBindVolumeToClaim: the volume bound to the claim (claimRef with the claim's uid;
 * bound-by-controller unless it was pre-bound to it), and whether that differs from `pv`.
 */
export function bindVolumeToClaim(pv: KObject, claim: KObject): { pv: KObject; dirty: boolean } {
  const ref = claimRefOf(pv);
  const name = claim.metadata.name ?? "";
  const namespace = claim.metadata.namespace ?? "";
  const preBound = isVolumeBoundToClaim(pv, claim);
  let next = pv;
  let dirty = false;
  if (!ref || ref.name !== name || ref.namespace !== namespace || ref.uid !== claim.metadata.uid) {
    const claimRef = {
      kind: "PersistentVolumeClaim",
      namespace,
      name,
      uid: claim.metadata.uid,
      apiVersion: "v1",
      resourceVersion: claim.metadata.resourceVersion,
    };
    next = { ...next, spec: { ...specOf(pv), claimRef } };
    dirty = true;
  }
  if (!preBound && pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined) {
    next = {
      ...next,
      metadata: { ...next.metadata, annotations: { ...next.metadata.annotations, [ANN_BOUND_BY_CONTROLLER]: "yes" } },
    };
    dirty = true;
  }
  return { pv: next, dirty };
}

/** Upstream CheckVolumeModeMismatches: Filesystem and Block do not mix. */
function modeMismatch(claim: KObject, pv: KObject): boolean {
  return volumeMode(claim) !== volumeMode(pv);
}

/** Every access mode the claim asks for is one the volume offers. */
export function accessModesContain(have: readonly string[], want: readonly string[]): boolean {
  return want.every((m) => have.includes(m));
}

export class VolumeIndex {
  private readonly byName = new Map<string, KObject>();
  /** `<class>\n<modes>` → unclaimed volumes sorted by capacity (then name). */
  private readonly groups = new Map<string, Entry[]>();
  /** `<ns>/<name>` → names of the volumes whose claimRef names that claim. */
  private readonly claimed = new Map<string, Set<string>>();

  clear(): void {
    this.byName.clear();
    this.groups.clear();
    this.claimed.clear();
  }

  get size(): number {
    return this.byName.size;
  }

  get(name: string): KObject | undefined {
    return this.byName.get(name);
  }

  all(): IterableIterator<KObject> {
    return this.byName.values();
  }

  /** The volumes naming the claim `<ns>/<name>` in their claimRef. */
  claimedBy(key: string): KObject[] {
    return [...(this.claimed.get(key) ?? [])].map((n) => this.byName.get(n)).filter((v): v is KObject => !!v);
  }

  upsert(pv: KObject): void {
    this.remove(pv);
    const name = pv.metadata.name ?? "";
    this.byName.set(name, pv);
    const ref = claimRefOf(pv);
    if (ref) {
      const key = `${ref.namespace}/${ref.name}`;
      let s = this.claimed.get(key);
      if (!s) {
        s = new Set();
        this.claimed.set(key, s);
      }
      s.add(name);
      return;
    }
    const gk = `${volumeClass(pv)}\n${modesKey(accessModes(pv))}`;
    let g = this.groups.get(gk);
    if (!g) {
      g = [];
      this.groups.set(gk, g);
    }
    const e = { pv, bytes: volumeCapacityBytes(pv) };
    g.splice(this.lowerBound(g, e.bytes, name), 0, e);
  }

  remove(pv: KObject): void {
    const name = pv.metadata.name ?? "";
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    const ref = claimRefOf(old);
    if (ref) {
      const key = `${ref.namespace}/${ref.name}`;
      const s = this.claimed.get(key);
      s?.delete(name);
      if (s && s.size === 0) this.claimed.delete(key);
      return;
    }
    const gk = `${volumeClass(old)}\n${modesKey(accessModes(old))}`;
    const g = this.groups.get(gk);
    if (!g) return;
    const i = this.lowerBound(g, volumeCapacityBytes(old), name);
    if (g[i]?.pv.metadata.name === name) g.splice(i, 1);
    if (g.length === 0) this.groups.delete(gk);
  }

  /** First position whose (bytes, name) is not below the given one. */
  private lowerBound(g: Entry[], bytes: bigint, name: string): number {
    let lo = 0;
    let hi = g.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = g[mid]!;
      if (e.bytes < bytes || (e.bytes === bytes && (e.pv.metadata.name ?? "") < name)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The volume the claim should bind to, or undefined (upstream findBestMatchForClaim / FindMatchingVolume). */
  findBestMatch(claim: KObject, opts: MatchOptions = {}): KObject | undefined {
    const want = claimRequestBytes(claim);
    const key = `${claim.metadata.namespace ?? ""}/${claim.metadata.name ?? ""}`;
    const usable = (pv: KObject) =>
      !opts.excluded?.has(pv.metadata.name ?? "") &&
      volumeCapacityBytes(pv) >= want &&
      !modeMismatch(claim, pv) &&
      !pv.metadata.deletionTimestamp;
    // a volume pre-bound (or bound) to this claim is the only answer when there is one
    for (const pv of this.claimedBy(key)) {
      if (!isVolumeBoundToClaim(pv, claim) || !usable(pv)) continue;
      if (opts.node && !volumeFitsNode(pv, opts.node)) return undefined;
      return pv;
    }
    if (!opts.node && opts.delayBinding) return undefined;
    const cls = claimClass(claim);
    const claimModes = accessModes(claim);
    const rawSelector = specOf(claim)["selector"];
    let selector: LabelSelector | undefined;
    try {
      selector = rawSelector == null ? undefined : labelSelectorFromObject(rawSelector);
    } catch {
      return undefined;
    }
    const candidates: Array<{ modes: number; group: Entry[] }> = [];
    for (const [gk, group] of this.groups) {
      const [gcls = "", gmodes = ""] = gk.split("\n");
      if (gcls !== cls) continue;
      const modes = gmodes === "" ? [] : gmodes.split(",");
      if (!accessModesContain(modes, claimModes)) continue;
      candidates.push({ modes: modes.length, group });
    }
    candidates.sort((a, b) => a.modes - b.modes);
    for (const { group } of candidates) {
      for (let i = this.lowerBound(group, want, ""); i < group.length; i++) {
        const pv = group[i]!.pv;
        if (!usable(pv) || statusOf(pv)["phase"] !== "Available") continue;
        if (selector && !selector.matches(pv.metadata.labels ?? {})) continue;
        if (opts.node && !volumeFitsNode(pv, opts.node)) continue;
        return pv;
      }
    }
    return undefined;
  }
}
