/**
 * The scheduler's VolumeBinding hook (upstream pkg/scheduler/framework/plugins/volumebinding:
 * volume_binding.go and the binder in binder.go), over the registry's watch cache:
 *
 * - PreFilter: a claim that is missing, Lost, being deleted or (generic ephemeral) not the pod's
 *   own rules the pod out everywhere, and so does a claim that is not bound while its class binds
 *   immediately ("pod has unbound immediate PersistentVolumeClaims", as seed 002 shows).
 * - Filter, per node: a bound claim's volume must exist and its node affinity admit the node; an
 *   unbound claim of a WaitForFirstConsumer class needs an Available volume usable there (the PV
 *   controller's matching rules with the node, never a volume already chosen for another claim of
 *   the pod), or its class must be able to provision there — a provisioner, allowedTopologies
 *   admitting the node and, for k8ts.io/local-path, room on the node: its ephemeral-storage
 *   capacity less the local-path volumes pinned to it and less what pods reserved and have not
 *   got yet. Every refusal is UnschedulableAndUnresolvable, worded as upstream.
 * - Reserve / Unreserve: the decision for the chosen node is assumed in memory — the volume as
 *   bound to the claim, the claim with its selected node, the local-path bytes — so the next pod
 *   does not take the same volume or room; unreserve (or a later API change) lets go of it, once
 *   no other pod in flight that shares the claim holds it too.
 * - PreBind: volumes are bound as the PV controller binds them (claimRef with the uid,
 *   pv.kubernetes.io/bound-by-controller), claims to provision get volume.kubernetes.io/selected-node;
 *   then it waits until the PV controller has bound every such claim, failing the attempt when a
 *   provisioner gives the node up (removes the annotation), a volume's claimRef is reset or taken,
 *   the pod goes, or the bind timeout passes.
 *
 * The hook's state between PreFilter, Filter and Reserve is that of the pod being scheduled: the
 * scheduler runs one cycle at a time, synchronously.
 */
import {
  ANN_BIND_COMPLETED,
  ANN_SELECTED_NODE,
  claimClass,
  claimRefOf,
  claimRequestBytes,
  LOCAL_PATH_PROVISIONER,
  specOf,
  statusOf,
  topologyAdmits,
} from "../api/storage.js";
import { isRecord, type KObject } from "../api/types.js";
import type { ServedVersion } from "../apiserver/catalog.js";
import type { LocalClient } from "../controllers/client.js";
import { hostnameOf, LocalPathUsage, rootRefusal } from "../controllers/volume/localpath/index.js";
import {
  bindVolumeToClaim,
  isVolumeBoundToClaim,
  VolumeIndex,
  volumeFitsNode,
} from "../controllers/volume/persistentvolume/match.js";
import type { VolumeBinding, VolumeVerdict } from "./plugins/volumebinding.js";

// ---- reasons, as upstream words them ----

/** ErrReasonBindConflict: no volume to bind and nothing can provision one here. */
export const REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
/** ErrReasonNodeConflict: a bound volume's node affinity does not admit the node. */
export const REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict";
/** ErrReasonNotEnoughSpace: the provisioner has no room for the claims on the node. */
export const REASON_NOT_ENOUGH_SPACE = "node(s) did not have enough free storage";
/** ErrReasonPVNotExist: a bound claim's volume is gone. */
export const REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/** The PreFilter refusal of claims the PV controller should have bound already. */
export const REASON_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims";

/** The provisioner of classes whose volumes an administrator makes (volume.NotSupportedProvisioner). */
const NO_PROVISIONER = "kubernetes.io/no-provisioner";
/** What the framework puts before a PreBind plugin's error. */
const PREBIND = 'running PreBind plugin "VolumeBinding": ';

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function claimKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ""}/${name ?? ""}`;
}

function volumeNameOf(pvc: KObject): string {
  const v = specOf(pvc)["volumeName"];
  return typeof v === "string" ? v : "";
}

// ---- the pod's claims ----

interface PodClaimVolume {
  claimName: string;
  /** A generic ephemeral volume: the claim is `<pod>-<volume>`, made by the ephemeral volume controller. */
  ephemeral: boolean;
}

function podClaimVolumes(pod: KObject): PodClaimVolume[] {
  const out: PodClaimVolume[] = [];
  const volumes = rec(pod["spec"])["volumes"];
  for (const v of Array.isArray(volumes) ? volumes.filter(isRecord) : []) {
    const pvc = rec(v["persistentVolumeClaim"]);
    if (typeof pvc["claimName"] === "string") out.push({ claimName: pvc["claimName"], ephemeral: false });
    else if (isRecord(v["ephemeral"]))
      out.push({ claimName: `${pod.metadata.name}-${String(v["name"])}`, ephemeral: true });
  }
  return out;
}

/** The claim names of the pod's volumes (persistentVolumeClaim, and ephemeral as `<pod>-<volume>`). */
export function podClaimNames(pod: KObject): string[] {
  return podClaimVolumes(pod).map((v) => v.claimName);
}

/** upstream isPVCFullyBound: the claim names its volume and the PV controller finished the binding. */
function isFullyBound(pvc: KObject): boolean {
  return volumeNameOf(pvc) !== "" && pvc.metadata.annotations?.[ANN_BIND_COMPLETED] !== undefined;
}

/** upstream ephemeral.VolumeIsForPod: the pod is the claim's controller. */
function isControlledBy(pvc: KObject, pod: KObject): boolean {
  return (pvc.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === pod.metadata.uid);
}

/** The pod's claims the scheduler has to look at per node. */
export interface PodClaims {
  /** Claims bound to their volume: its node affinity must admit the node. */
  bound: KObject[];
  /** Unbound claims of WaitForFirstConsumer classes, smallest request first: the scheduler picks their volume. */
  delayed: KObject[];
}

/**
 * upstream podHasPVCs + GetPodVolumeClaims: the pod's claims sorted for the filter, or the verdict
 * that rules the pod out on every node (UnschedulableAndUnresolvable).
 */
export function podVolumeClaims(
  pod: KObject,
  getClaim: (name: string) => KObject | undefined,
  getClass: (name: string) => KObject | undefined,
): { claims: PodClaims } | { verdict: VolumeVerdict } {
  const refuse = (reason: string) => ({ verdict: { reasons: [reason], unresolvable: true } });
  const found: KObject[] = [];
  const seen = new Set<string>();
  for (const v of podClaimVolumes(pod)) {
    const pvc = getClaim(v.claimName);
    if (!pvc) {
      return refuse(
        v.ephemeral
          ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${v.claimName}"`
          : `persistentvolumeclaim "${v.claimName}" not found`,
      );
    }
    if (statusOf(pvc)["phase"] === "Lost") {
      return refuse(
        `persistentvolumeclaim "${v.claimName}" bound to non-existent persistentvolume "${volumeNameOf(pvc)}"`,
      );
    }
    if (pvc.metadata.deletionTimestamp) return refuse(`persistentvolumeclaim "${v.claimName}" is being deleted`);
    if (v.ephemeral && !isControlledBy(pvc, pod)) {
      const ns = pod.metadata.namespace ?? "";
      return refuse(`PVC ${ns}/${v.claimName} was not created for pod ${ns}/${pod.metadata.name} (pod is not owner)`);
    }
    if (seen.has(v.claimName)) continue;
    seen.add(v.claimName);
    found.push(pvc);
  }
  const claims: PodClaims = { bound: [], delayed: [] };
  let unboundImmediate = false;
  for (const pvc of found) {
    if (isFullyBound(pvc)) {
      claims.bound.push(pvc);
      continue;
    }
    const cls = claimClass(pvc);
    const sc = cls === "" ? undefined : getClass(cls);
    // a claim naming its volume (pre-bound) is the PV controller's to bind, whatever its class
    if (sc?.["volumeBindingMode"] === "WaitForFirstConsumer" && volumeNameOf(pvc) === "") claims.delayed.push(pvc);
    else unboundImmediate = true;
  }
  if (unboundImmediate) return refuse(REASON_UNBOUND_IMMEDIATE);
  claims.delayed.sort((a, b) => {
    const x = claimRequestBytes(a);
    const y = claimRequestBytes(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { claims };
}

/** The PreFilter verdict alone (undefined: the claims allow scheduling). */
export function claimsVerdict(
  pod: KObject,
  getClaim: (name: string) => KObject | undefined,
  getClass: (name: string) => KObject | undefined,
): VolumeVerdict | undefined {
  const r = podVolumeClaims(pod, getClaim, getClass);
  return "verdict" in r ? r.verdict : undefined;
}

// ---- per node ----

/** What the binder reads while filtering (the hook's caches with its assumptions; tests give their own). */
export interface VolumeView {
  /** The volume by name. */
  volume(name: string): KObject | undefined;
  storageClass(name: string): KObject | undefined;
  /** The volume the claim would bind to on the node, none of `excluded` (upstream FindMatchingVolume). */
  match(claim: KObject, node: KObject, excluded: ReadonlySet<string>): KObject | undefined;
  /**
   * Bytes left on the node for new k8ts.io/local-path volumes, after what pods reserved (the
   * reservations of claims in `own` not counted); undefined when the node offers none.
   */
  localPathFree(node: KObject, own: ReadonlySet<string>): bigint | undefined;
}

export interface StaticBinding {
  claim: KObject;
  pv: KObject;
}

export interface Provision {
  claim: KObject;
  /** For k8ts.io/local-path: the bytes it takes of the node's room. */
  localPathBytes: bigint | undefined;
}

/** upstream PodVolumes: what binding the pod's claims on one node takes. */
export interface PodVolumes {
  staticBindings: StaticBinding[];
  provisions: Provision[];
}

/** upstream MatchTopologySelectorTerms: no terms admit every node; an empty term admits none. */

/** upstream checkVolumeProvisions: may the claims' classes make their volumes on the node? */
function checkProvisions(
  claims: readonly KObject[],
  node: KObject,
  view: VolumeView,
  own: ReadonlySet<string>,
): { satisfied: boolean; enoughSpace: boolean; provisions: Provision[] } {
  const provisions: Provision[] = [];
  const labels = node.metadata.labels ?? {};
  let localPath = 0n;
  for (const claim of claims) {
    const cls = claimClass(claim);
    const sc = cls === "" ? undefined : view.storageClass(cls);
    const provisioner = typeof sc?.["provisioner"] === "string" ? sc["provisioner"] : "";
    if (provisioner === "" || provisioner === NO_PROVISIONER || !sc) {
      return { satisfied: false, enoughSpace: true, provisions: [] };
    }
    if (!topologyAdmits(sc["allowedTopologies"], labels))
      return { satisfied: false, enoughSpace: true, provisions: [] };
    let bytes: bigint | undefined;
    if (provisioner === LOCAL_PATH_PROVISIONER) {
      bytes = claimRequestBytes(claim);
      localPath += bytes;
      const free = view.localPathFree(node, own);
      if (free === undefined || localPath > free) return { satisfied: true, enoughSpace: false, provisions: [] };
    }
    provisions.push({ claim, localPathBytes: bytes });
  }
  return { satisfied: true, enoughSpace: true, provisions };
}

/**
 * upstream FindPodVolumes: whether the pod's claims can be had on the node — the reasons it
 * cannot (empty: it can) and, when it can, the volumes to bind and the claims to provision.
 * `own` holds the keys (`<ns>/<name>`) of the pod's claims.
 */
export function findPodVolumes(
  claims: PodClaims,
  node: KObject,
  view: VolumeView,
  own: ReadonlySet<string>,
): { reasons: string[]; volumes: PodVolumes } {
  let boundSatisfied = true;
  let boundFound = true;
  let unboundSatisfied = true;
  let enoughSpace = true;
  const volumes: PodVolumes = { staticBindings: [], provisions: [] };
  const finish = () => {
    const reasons: string[] = [];
    if (!boundSatisfied) reasons.push(REASON_NODE_CONFLICT);
    if (!unboundSatisfied) reasons.push(REASON_BIND_CONFLICT);
    if (!enoughSpace) reasons.push(REASON_NOT_ENOUGH_SPACE);
    if (!boundFound) reasons.push(REASON_PV_NOT_EXIST);
    return { reasons, volumes };
  };
  for (const pvc of claims.bound) {
    const pv = view.volume(volumeNameOf(pvc));
    if (!pv) {
      boundFound = false;
      break;
    }
    if (!volumeFitsNode(pv, node)) {
      boundSatisfied = false;
      break;
    }
  }
  if (claims.delayed.length === 0) return finish();
  const toMatch: KObject[] = [];
  const toProvision: KObject[] = [];
  for (const pvc of claims.delayed) {
    const selected = pvc.metadata.annotations?.[ANN_SELECTED_NODE];
    if (selected === undefined) toMatch.push(pvc);
    else if (selected === node.metadata.name) toProvision.push(pvc);
    else {
      // being provisioned for another node
      unboundSatisfied = false;
      return finish();
    }
  }
  const chosen = new Set<string>();
  for (const pvc of toMatch) {
    const pv = view.match(pvc, node, chosen);
    if (!pv) {
      unboundSatisfied = false;
      toProvision.push(pvc);
      continue;
    }
    chosen.add(pv.metadata.name ?? "");
    volumes.staticBindings.push({ claim: pvc, pv });
  }
  if (toProvision.length > 0) {
    const r = checkProvisions(toProvision, node, view, own);
    unboundSatisfied = r.satisfied;
    enoughSpace = r.enoughSpace;
    volumes.provisions = r.provisions;
  }
  return finish();
}

// ---- the hook ----

export interface ClaimBindingOptions {
  /** How long PreBind waits for the claims to be bound before the attempt fails, s (upstream bindTimeoutSeconds; default 600). */
  bindTimeoutSeconds?: number;
  /** How often PreBind looks again besides on volume and claim changes, ms (upstream polls every second; default 1000). */
  bindPollIntervalMs?: number;
}

/** The state of one scheduling cycle (upstream stateData). */
interface Cycle {
  uid: string;
  claims: PodClaims;
  own: Set<string>;
  byNode: Map<string, PodVolumes>;
}

/** What reserve assumed for a pod, until preBind has it written or unreserve drops it. */
interface Decision {
  node: string;
  volumes: PodVolumes;
  /** Volumes this pod's reserve assumed bound (others may have been assumed already). */
  assumedVolumes: string[];
  /** Claims this pod's reserve assumed with the selected node. */
  assumedClaims: string[];
  /** Claims whose local-path bytes this pod's reserve holds. */
  reserved: string[];
}

class ClaimBinder implements VolumeBinding, VolumeView {
  private readonly client: LocalClient;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly pvs: ServedVersion;
  private readonly pvcs: ServedVersion;
  private readonly classes: ServedVersion;
  private readonly nodes: ServedVersion;
  private readonly pods: ServedVersion;
  private started = false;
  private closers: Array<() => void> = [];
  private abort = new AbortController();
  /** Every volume, with the bindings assumed for pods in flight in place of the API's version. */
  private index = new VolumeIndex();
  /** Bytes the local-path volumes take per hostname (from the same informer). */
  private readonly usage = new LocalPathUsage();
  /** Assumed volume → the API's version (what a revert puts back). */
  private readonly assumedVolumes = new Map<string, KObject>();
  /** Claim key → the claim with its selected node assumed, while the API's version is still `base`. */
  private readonly assumedClaims = new Map<string, { obj: KObject; base: string | undefined }>();
  /** Claim key → local-path bytes held on a host until its volume exists. */
  private readonly reservations = new Map<string, { host: string; bytes: bigint }>();
  private readonly reservedOnHost = new Map<string, bigint>();
  /** Pod uid → what its reserve assumed. */
  private readonly decisions = new Map<string, Decision>();
  /** `pv/<name>` | `pvc/<ns>/<name>` → PreBind waits to wake on its change. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private cycle: Cycle | undefined;

  constructor(client: LocalClient, opts: ClaimBindingOptions) {
    this.client = client;
    this.timeoutMs = (opts.bindTimeoutSeconds ?? 600) * 1000;
    this.pollMs = opts.bindPollIntervalMs ?? 1000;
    this.pvs = client.resource("", "v1", "persistentvolumes");
    this.pvcs = client.resource("", "v1", "persistentvolumeclaims");
    this.classes = client.resource("storage.k8s.io", "v1", "storageclasses");
    this.nodes = client.resource("", "v1", "nodes");
    this.pods = client.resource("", "v1", "pods");
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.abort = new AbortController();
    // initial events arrive before these return: the index is complete from here on
    const volumes = this.client.informer(this.pvs, (pv, deleted) => this.onVolume(pv, deleted));
    const claims = this.client.informer(this.pvcs, (pvc) =>
      this.wake(`pvc/${claimKey(pvc.metadata.namespace, pvc.metadata.name)}`),
    );
    this.closers = [() => volumes.stop(), () => claims.stop()];
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const close of this.closers) close();
    this.closers = [];
    this.abort.abort();
    this.index = new VolumeIndex();
    this.usage.forget();
    this.assumedVolumes.clear();
    this.assumedClaims.clear();
    this.reservations.clear();
    this.reservedOnHost.clear();
    this.decisions.clear();
    this.waiters.clear();
    this.cycle = undefined;
  }

  private onVolume(pv: KObject, deleted: boolean): void {
    const name = pv.metadata.name ?? "";
    // the API's newer version replaces an assumption (upstream assume cache)
    this.assumedVolumes.delete(name);
    if (deleted) this.index.remove(pv);
    else this.index.upsert(pv);
    this.usage.observe(pv, deleted);
    const ref = claimRefOf(pv);
    if (ref) {
      const key = claimKey(ref.namespace, ref.name);
      // a volume made for the claim counts in the usage now
      if (!deleted) this.release(key);
      this.wake(`pvc/${key}`);
    }
    this.wake(`pv/${name}`);
  }

  // ---- VolumeView ----

  volume(name: string): KObject | undefined {
    return this.index.get(name);
  }

  storageClass(name: string): KObject | undefined {
    return this.client.get(this.classes, undefined, name);
  }

  match(claim: KObject, node: KObject, excluded: ReadonlySet<string>): KObject | undefined {
    return this.index.findBestMatch(claim, { node, excluded, delayBinding: true });
  }

  localPathFree(node: KObject, own: ReadonlySet<string>): bigint | undefined {
    if (rootRefusal(node) !== undefined) return undefined;
    const free = this.usage.free(node);
    if (free === undefined) return undefined;
    const host = hostnameOf(node);
    let held = this.reservedOnHost.get(host) ?? 0n;
    for (const key of own) {
      const r = this.reservations.get(key);
      if (r && r.host === host) held -= r.bytes;
    }
    const left = free - held;
    return left < 0n ? 0n : left;
  }

  /** The claim as the binder sees it: with its assumed selected node while the API has not moved on. */
  private claim(namespace: string, name: string): KObject | undefined {
    const cur = this.client.get(this.pvcs, namespace, name);
    const key = claimKey(namespace, name);
    const a = this.assumedClaims.get(key);
    if (!a) return cur;
    if (cur && cur.metadata.uid === a.obj.metadata.uid && cur.metadata.resourceVersion === a.base) return a.obj;
    this.assumedClaims.delete(key);
    return cur;
  }

  // ---- PreFilter / Filter ----

  private newCycle(pod: KObject): VolumeVerdict | undefined {
    this.start();
    this.cycle = undefined;
    const ns = pod.metadata.namespace ?? "";
    const r = podVolumeClaims(
      pod,
      (n) => this.claim(ns, n),
      (n) => this.storageClass(n),
    );
    if ("verdict" in r) return r.verdict;
    const own = new Set([...r.claims.bound, ...r.claims.delayed].map((c) => claimKey(ns, c.metadata.name)));
    this.cycle = { uid: pod.metadata.uid ?? "", claims: r.claims, own, byNode: new Map() };
    return undefined;
  }

  private cycleOf(pod: KObject): Cycle | undefined {
    if (this.cycle?.uid !== pod.metadata.uid) this.newCycle(pod);
    return this.cycle?.uid === pod.metadata.uid ? this.cycle : undefined;
  }

  preFilter(pod: KObject): VolumeVerdict | undefined {
    return this.newCycle(pod);
  }

  filter(pod: KObject, node: KObject): VolumeVerdict | undefined {
    const c = this.cycleOf(pod);
    if (!c || (c.claims.bound.length === 0 && c.claims.delayed.length === 0)) return undefined;
    const r = findPodVolumes(c.claims, node, this, c.own);
    if (r.reasons.length > 0) return { reasons: r.reasons, unresolvable: true };
    c.byNode.set(node.metadata.name ?? "", r.volumes);
    return undefined;
  }

  // ---- Reserve / Unreserve ----

  reserve(pod: KObject, nodeName: string): void {
    const c = this.cycle;
    if (!c || c.uid !== pod.metadata.uid) return;
    this.cycle = undefined;
    let volumes = c.byNode.get(nodeName);
    if (!volumes) {
      const node = this.client.get(this.nodes, undefined, nodeName);
      if (!node) throw new Error(`node "${nodeName}" not found`);
      const r = findPodVolumes(c.claims, node, this, c.own);
      if (r.reasons.length > 0) throw new Error(r.reasons.join(", "));
      volumes = r.volumes;
    }
    const uid = pod.metadata.uid ?? "";
    this.unreserve(pod);
    const d: Decision = { node: nodeName, volumes, assumedVolumes: [], assumedClaims: [], reserved: [] };
    // what another pod in flight assumed already (a claim both use) is held by this decision too,
    // so that pod's unreserve does not let go of it under this one
    for (const b of volumes.staticBindings) {
      const { pv, dirty } = bindVolumeToClaim(b.pv, b.claim);
      const name = pv.metadata.name ?? "";
      if (dirty) {
        if (!this.assumedVolumes.has(name)) this.assumedVolumes.set(name, this.index.get(name) ?? b.pv);
        this.index.upsert(pv);
      } else if (!this.assumedVolumes.has(name)) continue;
      d.assumedVolumes.push(name);
    }
    const node = volumes.provisions.some((p) => p.localPathBytes !== undefined)
      ? this.client.get(this.nodes, undefined, nodeName)
      : undefined;
    for (const p of volumes.provisions) {
      const key = claimKey(p.claim.metadata.namespace, p.claim.metadata.name);
      if (p.claim.metadata.annotations?.[ANN_SELECTED_NODE] !== nodeName) {
        const obj: KObject = {
          ...p.claim,
          metadata: {
            ...p.claim.metadata,
            annotations: { ...p.claim.metadata.annotations, [ANN_SELECTED_NODE]: nodeName },
          },
        };
        this.assumedClaims.set(key, { obj, base: p.claim.metadata.resourceVersion });
        d.assumedClaims.push(key);
      } else if (this.assumedClaims.has(key)) d.assumedClaims.push(key);
      if (p.localPathBytes !== undefined && node) {
        if (!this.reservations.has(key)) {
          const host = hostnameOf(node);
          this.reservations.set(key, { host, bytes: p.localPathBytes });
          this.reservedOnHost.set(host, (this.reservedOnHost.get(host) ?? 0n) + p.localPathBytes);
        }
        d.reserved.push(key);
      }
    }
    this.decisions.set(uid, d);
  }

  unreserve(pod: KObject): void {
    const uid = pod.metadata.uid ?? "";
    const d = this.decisions.get(uid);
    if (!d) return;
    this.decisions.delete(uid);
    this.revert(d);
  }

  /**
   * Drops what the decision assumed and no other decision in flight holds: the API's versions (as
   * the informer last had them) count again.
   */
  private revert(d: Decision): void {
    const held = (key: string, of: (o: Decision) => string[]) => {
      for (const o of this.decisions.values()) if (o !== d && of(o).includes(key)) return true;
      return false;
    };
    for (const name of d.assumedVolumes) {
      const original = this.assumedVolumes.get(name);
      if (!original || held(name, (o) => o.assumedVolumes)) continue;
      this.assumedVolumes.delete(name);
      this.index.upsert(original);
    }
    for (const key of d.assumedClaims) if (!held(key, (o) => o.assumedClaims)) this.assumedClaims.delete(key);
    for (const key of d.reserved) if (!held(key, (o) => o.reserved)) this.release(key);
  }

  private release(key: string): void {
    const r = this.reservations.get(key);
    if (!r) return;
    this.reservations.delete(key);
    const left = (this.reservedOnHost.get(r.host) ?? 0n) - r.bytes;
    if (left > 0n) this.reservedOnHost.set(r.host, left);
    else this.reservedOnHost.delete(r.host);
  }

  // ---- PreBind ----

  async preBind(pod: KObject, nodeName: string): Promise<void> {
    const uid = pod.metadata.uid ?? "";
    const d = this.decisions.get(uid);
    if (!d || d.node !== nodeName) {
      // nothing reserved: only a pod whose claims are all bound may go on
      const ns = pod.metadata.namespace ?? "";
      const r = podVolumeClaims(
        pod,
        (n) => this.claim(ns, n),
        (n) => this.storageClass(n),
      );
      if ("claims" in r && r.claims.delayed.length === 0) return;
      throw new Error(`${PREBIND}no pod volumes found for node "${nodeName}"`);
    }
    if (d.volumes.staticBindings.length === 0 && d.volumes.provisions.length === 0) {
      this.decisions.delete(uid);
      return;
    }
    try {
      for (const b of d.volumes.staticBindings) await this.bindVolume(b.pv.metadata.name ?? "", b.claim);
      for (const p of d.volumes.provisions) await this.selectNode(p.claim, nodeName);
    } catch (err) {
      throw new Error(`${PREBIND}${err instanceof Error ? err.message : String(err)}`);
    }
    await this.waitBound(pod, d);
    // bound: the API's objects say it all now
    if (this.decisions.get(uid) === d) this.decisions.delete(uid);
    this.revert(d);
  }

  /** Binds the volume to the claim as the PV controller does (the controller finishes the claim side). */
  private async bindVolume(name: string, claim: KObject): Promise<void> {
    const cur = this.client.get(this.pvs, undefined, name);
    if (cur && !bindVolumeToClaim(cur, claim).dirty) return;
    await this.client.update(this.pvs, undefined, name, "", (pv) => {
      if (pv.metadata.deletionTimestamp) throw new Error(`persistentvolume "${name}" is being deleted`);
      const ref = claimRefOf(pv);
      if (ref && !isVolumeBoundToClaim(pv, claim)) {
        throw new Error(`persistentvolume "${name}" is already bound to claim ${ref.namespace}/${ref.name}`);
      }
      return bindVolumeToClaim(pv, claim).pv;
    });
  }

  /** Asks for provisioning on the node: the claim's volume.kubernetes.io/selected-node. */
  private async selectNode(claim: KObject, nodeName: string): Promise<void> {
    const ns = claim.metadata.namespace ?? "";
    const name = claim.metadata.name ?? "";
    const cur = this.client.get(this.pvcs, ns, name);
    if (cur && cur.metadata.uid === claim.metadata.uid && cur.metadata.annotations?.[ANN_SELECTED_NODE] === nodeName) {
      return;
    }
    await this.client.update(this.pvcs, ns, name, "", (c) => {
      if (c.metadata.uid !== claim.metadata.uid) throw new Error(`persistentvolumeclaim "${name}" was replaced`);
      if (volumeNameOf(c) !== "") return c;
      const selected = c.metadata.annotations?.[ANN_SELECTED_NODE];
      if (selected === nodeName) return c;
      if (selected !== undefined) {
        throw new Error(`persistentvolumeclaim "${name}" was given node "${selected}" meanwhile`);
      }
      c.metadata.annotations = { ...c.metadata.annotations, [ANN_SELECTED_NODE]: nodeName };
      return c;
    });
  }

  /** upstream checkBindings: true when every claim of the decision is bound, false to wait, else why the attempt fails. */
  private progress(pod: KObject, d: Decision): boolean | string {
    const ns = pod.metadata.namespace ?? "";
    const cur = this.client.get(this.pods, ns, pod.metadata.name ?? "");
    if (!cur || cur.metadata.uid !== pod.metadata.uid) return "pod does not exist any more";
    const node = this.client.get(this.nodes, undefined, d.node);
    if (!node) return `failed to get node "${d.node}": nodes "${d.node}" not found`;
    let done = true;
    for (const b of d.volumes.staticBindings) {
      const pvName = b.pv.metadata.name ?? "";
      const pv = this.client.get(this.pvs, undefined, pvName);
      if (!pv) return `failed to check binding: persistentvolume "${pvName}" not found`;
      const claim = this.client.get(this.pvcs, ns, b.claim.metadata.name ?? "");
      if (!claim || claim.metadata.uid !== b.claim.metadata.uid) {
        return `failed to check binding: persistentvolumeclaim "${ns}/${b.claim.metadata.name}" not found`;
      }
      if (!volumeFitsNode(pv, node)) return `pv "${pvName}" node affinity doesn't match node "${d.node}"`;
      const ref = claimRefOf(pv);
      if (!ref || ref.uid === undefined) return `ClaimRef got reset for pv "${pvName}"`;
      if (ref.uid !== claim.metadata.uid) return `pv "${pvName}" got bound to claim ${ref.namespace}/${ref.name}`;
      if (isFullyBound(claim) && volumeNameOf(claim) !== pvName) {
        return `pvc "${ns}/${claim.metadata.name}" got bound to pv "${volumeNameOf(claim)}"`;
      }
      if (!isFullyBound(claim)) done = false;
    }
    for (const p of d.volumes.provisions) {
      const name = p.claim.metadata.name ?? "";
      const claim = this.client.get(this.pvcs, ns, name);
      if (!claim || claim.metadata.uid !== p.claim.metadata.uid) {
        return `failed to check provisioning pvc: persistentvolumeclaim "${ns}/${name}" not found`;
      }
      // a provisioner that cannot use the node removes the annotation: the scheduler chooses again
      if (claim.metadata.annotations?.[ANN_SELECTED_NODE] !== d.node) return `provisioning failed for PVC "${name}"`;
      const pvName = volumeNameOf(claim);
      const pv = pvName === "" ? undefined : this.client.get(this.pvs, undefined, pvName);
      if (!pv) {
        done = false;
        continue;
      }
      if (!volumeFitsNode(pv, node)) return `pv "${pvName}" node affinity doesn't match node "${d.node}"`;
      const ref = claimRefOf(pv);
      if (ref?.uid !== undefined && ref.uid !== claim.metadata.uid) {
        return `pv "${pvName}" got bound to claim ${ref.namespace}/${ref.name}`;
      }
      if (ref?.uid !== claim.metadata.uid || !isFullyBound(claim)) done = false;
    }
    return done;
  }

  private async waitBound(pod: KObject, d: Decision): Promise<void> {
    const ns = pod.metadata.namespace ?? "";
    const keys = [
      ...d.volumes.staticBindings.map((b) => `pv/${b.pv.metadata.name}`),
      ...[...d.volumes.staticBindings, ...d.volumes.provisions].map(
        (x) => `pvc/${claimKey(ns, x.claim.metadata.name)}`,
      ),
    ];
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const p = this.progress(pod, d);
      if (p === true) return;
      if (typeof p === "string") throw new Error(`${PREBIND}binding volumes: ${p}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${PREBIND}binding volumes: context deadline exceeded`);
      await this.changed(keys, Math.min(this.pollMs, left));
    }
  }

  /** Resolves on a change of one of `keys` or after `ms`; rejects when the hook stops. */
  private changed(keys: readonly string[], ms: number): Promise<void> {
    const signal = this.abort.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(new Error(`${PREBIND}the scheduler stopped`));
        return;
      }
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        for (const k of keys) {
          const s = this.waiters.get(k);
          s?.delete(wake);
          if (s?.size === 0) this.waiters.delete(k);
        }
      };
      const wake = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(new Error(`${PREBIND}the scheduler stopped`));
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      signal.addEventListener("abort", onAbort, { once: true });
      for (const k of keys) {
        let s = this.waiters.get(k);
        if (!s) {
          s = new Set();
          this.waiters.set(k, s);
        }
        s.add(wake);
      }
    });
  }

  private wake(key: string): void {
    const s = this.waiters.get(key);
    if (!s) return;
    for (const w of [...s]) w();
  }
}

/** The VolumeBinding hook over the registry (`server.ts` hands it to the Scheduler). */
export function claimBinding(client: LocalClient, opts: ClaimBindingOptions = {}): VolumeBinding {
  return new ClaimBinder(client, opts);
}
