/**
 * The external-provisioner protocol (upstream sigs.k8s.io/sig-storage-lib-external-provisioner's
 * ProvisionController) as a controller any Provisioner plugs into. A claim the PV controller
 * handed to this provisioner (volume.kubernetes.io/storage-provisioner) whose class names it — for
 * a WaitForFirstConsumer class once the scheduler chose a node — gets storage from the
 * provisioner and a PersistentVolume `pvc-<claim uid>` pre-bound to it, which the PV controller
 * then binds. A released volume with reclaim policy Delete has its storage deleted, then the
 * object; the deletion finalizer (KEP-2644) keeps a volume deleted early until its storage is gone.
 * Events come from `<provisioner>_<identity>` as upstream's.
 */

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  ANN_SELECTED_NODE,
  claimClass,
  claimRefOf,
  PROVISIONER_DELETION_FINALIZER,
  volumeClass,
  volumeMode,
} from "../../../api/storage.js";
import type { KObject } from "../../../api/types.js";
import type { ServedVersion } from "../../../apiserver/catalog.js";
import { ApiError } from "../../../apiserver/errors.js";
import type { LocalClient } from "../../client.js";
import { QueuedController } from "../../controller.js";
import { recordEvent } from "../../events.js";
import type { ReconcileResult } from "../../queue.js";
import {
  asksFor,
  buildVolume,
  finalizersWanted,
  isProvisionedBy,
  provisionDecision,
  pvNameFor,
  selectedNodeOf,
  shouldDelete,
} from "./decide.js";
import { type Provisioner, ProvisioningError } from "./types.js";

export {
  asksFor,
  bindingMode,
  buildVolume,
  type ClaimDecision,
  claimProvisioner,
  classReclaimPolicy,
  finalizersWanted,
  isProvisionedBy,
  provisionDecision,
  pvNameFor,
  requestedStorage,
  selectedNodeOf,
  shouldDelete,
} from "./decide.js";
export * from "./types.js";

/** How a ProvisionController runs (each default on its field). */
export interface ProvisionControllerOptions {
  /** Who records the events, after the provisioner name: `<name>_<identity>`; default `<hostname>_<random uuid>` as upstream. */
  identity?: string;
  /** The clock of event timestamps; default Date.now. */
  now?: () => number;
}

const CLAIM = "pvc/";
const VOLUME = "pv/";

/** An error's message (what upstream's %v prints). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs the external-provisioner protocol for one Provisioner: `new ProvisionController(client, provisioner, opts)`. */
export class ProvisionController extends QueuedController {
  readonly provisioner: Provisioner;
  /** The events' source component. */
  readonly component: string;
  private abort = new AbortController();
  /** Claim keys by the name of the missing class they wait for. */
  private readonly waitingForClass = new Map<string, Set<string>>();

  constructor(client: LocalClient, provisioner: Provisioner, opts: ProvisionControllerOptions = {}) {
    super(client, `provisioner ${provisioner.name}`, opts.now);
    this.provisioner = provisioner;
    this.component = `${provisioner.name}_${opts.identity ?? `${hostname()}_${randomUUID()}`}`;
  }

  override start(): void {
    this.abort = new AbortController();
    super.start();
  }

  override stop(): void {
    this.abort.abort();
    super.stop();
    this.waitingForClass.clear();
  }

  private get claims(): ServedVersion {
    return this.client.resource("", "v1", "persistentvolumeclaims");
  }

  private get volumes(): ServedVersion {
    return this.client.resource("", "v1", "persistentvolumes");
  }

  private get classes(): ServedVersion {
    return this.client.resource("storage.k8s.io", "v1", "storageclasses");
  }

  private get nodes(): ServedVersion {
    return this.client.resource("", "v1", "nodes");
  }

  protected watchAll(): void {
    const name = this.provisioner.name;
    this.watch(this.claims, (claim, deleted) => {
      const key = `${CLAIM}${claim.metadata.namespace}/${claim.metadata.name}`;
      if (deleted) this.forgetWaiting(key);
      else if (asksFor(claim, name)) this.queue.add(key);
    });
    this.watch(this.volumes, (pv, deleted) => {
      if (!deleted && isProvisionedBy(pv, name)) this.queue.add(`${VOLUME}${pv.metadata.name}`);
    });
    this.watch(this.classes, (sc, deleted) => {
      if (deleted || sc["provisioner"] !== name) return;
      for (const key of this.waitingForClass.get(sc.metadata.name ?? "") ?? []) this.queue.add(key);
    });
    this.provisioner.start?.({
      watch: (sv, onChange) => this.watch(sv, onChange),
      requeueVolume: (pv) => this.queue.add(`${VOLUME}${pv}`),
      requeueClaim: (ns, claim) => this.queue.add(`${CLAIM}${ns}/${claim}`),
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    if (key.startsWith(VOLUME)) return this.syncVolume(key.slice(VOLUME.length));
    const [ns = "", name = ""] = key.slice(CLAIM.length).split("/");
    return this.syncClaim(key, ns, name);
  }

  private event(obj: KObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    return recordEvent(this.client, obj, this.component, type, reason, message, this.now());
  }

  private forgetWaiting(key: string): void {
    for (const [cls, keys] of this.waitingForClass) {
      keys.delete(key);
      if (keys.size === 0) this.waitingForClass.delete(cls);
    }
  }

  /** The claim's current decision, with its class. */
  private decide(ns: string, name: string) {
    const claim = this.client.get(this.claims, ns, name);
    if (!claim) return undefined;
    const className = claimClass(claim);
    const sc = this.client.get(this.classes, undefined, className);
    return { claim, className, sc, decision: provisionDecision(claim, this.provisioner.name, sc) };
  }

  private async syncClaim(key: string, ns: string, name: string): Promise<ReconcileResult> {
    this.forgetWaiting(key);
    let d = this.decide(ns, name);
    if (!d || d.decision === "skip" || d.decision === "wait-for-node") return undefined;
    if (d.decision === "wait-for-class") {
      // the class informer wakes the claim when the class appears
      const waiting = this.waitingForClass.get(d.className) ?? new Set<string>();
      waiting.add(key);
      this.waitingForClass.set(d.className, waiting);
      return undefined;
    }
    const pvName = pvNameFor(d.claim);
    if (this.client.get(this.volumes, undefined, pvName)) return undefined;
    // the cache now holds every write made before: a volume an earlier run (or term) created included
    await this.client.sync();
    d = this.decide(ns, name);
    if (d?.decision !== "provision" || !d.sc) return undefined;
    if (this.client.get(this.volumes, undefined, pvName)) return undefined;
    const { claim, className, sc } = d;

    if (volumeMode(claim) === "Block" && !this.provisioner.supportsBlock) {
      await this.event(
        claim,
        "Warning",
        "ProvisioningFailed",
        `${this.provisioner.name} does not support block volume provisioning`,
      );
      return undefined;
    }
    let selectedNode: KObject | undefined;
    const nodeName = selectedNodeOf(claim);
    if (nodeName !== "") {
      selectedNode = this.client.get(this.nodes, undefined, nodeName);
      if (!selectedNode) {
        // the node went away: the scheduler picks another (upstream ProvisioningReschedule)
        await this.event(claim, "Warning", "ProvisioningFailed", `node "${nodeName}" not found`);
        await this.dropSelectedNode(claim);
        return undefined;
      }
    }

    await this.event(
      claim,
      "Normal",
      "Provisioning",
      `External provisioner is provisioning volume for claim "${ns}/${name}"`,
    );
    let volume: KObject;
    try {
      const result = await this.provisioner.provision({
        claim,
        storageClass: sc,
        pvName,
        selectedNode,
        signal: this.abort.signal,
      });
      volume = buildVolume(claim, sc, pvName, this.provisioner.name, result);
    } catch (err) {
      return this.provisionFailed(claim, className, err);
    }
    if (!(await this.createVolume(claim, volume))) return undefined;
    await this.event(claim, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${pvName}`);
    return undefined;
  }

  private async provisionFailed(claim: KObject, className: string, err: unknown): Promise<ReconcileResult> {
    const message = `failed to provision volume with StorageClass "${className}": ${messageOf(err)}`;
    await this.event(claim, "Warning", "ProvisioningFailed", message);
    const kind = err instanceof ProvisioningError ? err.kind : "retry";
    if (kind === "final") return undefined;
    if (kind === "reschedule" && selectedNodeOf(claim) !== "") {
      await this.dropSelectedNode(claim);
      return undefined;
    }
    throw new Error(message);
  }

  /** Removes the claim's selected-node annotation: the scheduler chooses again. */
  private async dropSelectedNode(claim: KObject): Promise<void> {
    try {
      await this.client.update(this.claims, claim.metadata.namespace, claim.metadata.name ?? "", "", (o) => {
        if (o.metadata.uid === claim.metadata.uid && o.metadata.annotations) {
          delete o.metadata.annotations[ANN_SELECTED_NODE];
        }
        return o;
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }

  /**
   * Creates the volume; true when it exists now. AlreadyExists for the same claim is success (an
   * earlier run made it); a volume the API refuses is reported and its storage deleted again (upstream).
   */
  private async createVolume(claim: KObject, volume: KObject): Promise<boolean> {
    const claimKey = `${claim.metadata.namespace}/${claim.metadata.name}`;
    try {
      await this.client.registry.create(this.volumes, undefined, volume, { dryRun: false });
      return true;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.reason === "AlreadyExists") {
        await this.client.sync();
        const existing = this.client.get(this.volumes, undefined, volume.metadata.name ?? "");
        if (!existing || claimRefOf(existing)?.uid === claim.metadata.uid) return true;
        await this.event(
          claim,
          "Warning",
          "ProvisioningFailed",
          `persistentvolume "${volume.metadata.name}" already exists for another claim`,
        );
        return false;
      }
      // overload, timeouts, conflicts: another attempt may succeed
      if (err.code >= 500 || err.code === 429 || err.code === 409) throw err;
      await this.event(
        claim,
        "Warning",
        "ProvisioningFailed",
        `Error creating provisioned PV object for claim ${claimKey}: ${err.message}. Deleting the volume.`,
      );
      if (!(await this.provisioner.deletedElsewhere?.(volume))) {
        try {
          await this.provisioner.delete(volume, {
            storageClass: this.client.get(this.classes, undefined, claimClass(claim)),
            signal: this.abort.signal,
          });
        } catch (cleanup) {
          await this.event(
            claim,
            "Warning",
            "ProvisioningCleanupFailed",
            `Error cleaning provisioned volume for claim ${claimKey}: ${messageOf(cleanup)}. Please delete manually.`,
          );
        }
      }
      return false;
    }
  }

  private async syncVolume(name: string): Promise<ReconcileResult> {
    const pv = this.client.get(this.volumes, undefined, name);
    if (!pv || !isProvisionedBy(pv, this.provisioner.name)) return undefined;
    if (finalizersWanted(pv)) {
      // the informer brings the change back here
      await this.setFinalizers(pv, finalizersWanted);
      return undefined;
    }
    if (!shouldDelete(pv) || (await this.provisioner.deletedElsewhere?.(pv))) return undefined;
    try {
      await this.provisioner.delete(pv, {
        storageClass: this.client.get(this.classes, undefined, volumeClass(pv)),
        signal: this.abort.signal,
      });
    } catch (err) {
      await this.event(pv, "Warning", "VolumeFailedDelete", messageOf(err));
      throw err;
    }
    await this.client.delete(this.volumes, undefined, name, { preconditions: { uid: pv.metadata.uid ?? "" } });
    await this.setFinalizers(pv, (o) => o.metadata.finalizers?.filter((f) => f !== PROVISIONER_DELETION_FINALIZER));
    return undefined;
  }

  /** Rewrites the volume's finalizers as `next` says from the current object (same uid; undefined: unchanged; gone is fine). */
  private async setFinalizers(pv: KObject, next: (current: KObject) => string[] | undefined): Promise<void> {
    try {
      await this.client.update(this.volumes, undefined, pv.metadata.name ?? "", "", (o) => {
        if (o.metadata.uid !== pv.metadata.uid) return o;
        const f = next(o);
        if (f === undefined) return o;
        if (f.length > 0) o.metadata.finalizers = f;
        else delete o.metadata.finalizers;
        return o;
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }
}
