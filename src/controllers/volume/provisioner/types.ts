/**
 * What a provisioner plugs into the ProvisionController (upstream sig-storage-lib-external-provisioner's
 * Provisioner interface): it makes the storage for a claim and describes it as the pieces of a
 * PersistentVolume spec; it deletes a released volume's storage. The controller does the rest of
 * the protocol (which claims, the PV object, events, retries, the deletion finalizer).
 */
import type { KObject } from "../../../api/types.js";
import type { ServedVersion } from "../../../apiserver/catalog.js";

/** What provision() is given. */
export interface ProvisionOptions {
  /** The claim, as cached: read it, do not change it. */
  claim: KObject;
  /** The claim's StorageClass (its provisioner is this one). */
  storageClass: KObject;
  /** The name the volume gets: `pvc-<claim uid>`. */
  pvName: string;
  /** The node the scheduler chose (volume.kubernetes.io/selected-node); set for WaitForFirstConsumer classes. */
  selectedNode?: KObject;
  /** Aborted when the controller stops. */
  signal: AbortSignal;
}

/** The provisioner's part of the PersistentVolume it made storage for. */
export interface ProvisionResult {
  /** The volume source, one key of a PersistentVolumeSpec: `{ nfs: {...} }`, `{ local: {...} }`. */
  source: Record<string, unknown>;
  /** spec.capacity.storage; default: the claim's request. */
  capacity?: string;
  /** spec.nodeAffinity, for storage reachable from some nodes only. */
  nodeAffinity?: Record<string, unknown>;
  /** Added to the volume's annotations (pv.kubernetes.io/provisioned-by is the controller's). */
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/** What delete() is given besides the volume. */
export interface DeleteVolumeOptions {
  /** The volume's StorageClass, when it still exists (its parameters may say how to delete). */
  storageClass?: KObject;
  /** Aborted when the controller stops. */
  signal: AbortSignal;
}

/**
 * How a failed provision() is retried: `retry` with exponential backoff (also any other error);
 * `final` not until the claim or its class changes; `reschedule` drops the claim's selected-node
 * annotation so the scheduler picks a node again (upstream ProvisioningReschedule).
 */
export type FailureKind = "retry" | "final" | "reschedule";

/** A provisioning failure with its retry rule; the message goes into the ProvisioningFailed event. */
export class ProvisioningError extends Error {
  readonly kind: FailureKind;
  constructor(message: string, kind: FailureKind = "retry") {
    super(message);
    this.name = "ProvisioningError";
    this.kind = kind;
  }
}

/** What a provisioner may use from its controller while it runs (start() is called at each start). */
export interface ProvisionerHooks {
  /** An informer that lives until the controller stops. */
  watch(sv: ServedVersion, onChange: (obj: KObject, deleted: boolean) => void): void;
  /** Looks at a volume again (e.g. the node it lived on went away). */
  requeueVolume(name: string): void;
  /** Looks at a claim again. */
  requeueClaim(namespace: string, name: string): void;
}

/** A storage backend the ProvisionController drives (upstream controller.Provisioner). */
export interface Provisioner {
  /** The provisioner name classes name (StorageClass.provisioner) and volumes record (provisioned-by). */
  readonly name: string;
  /** Makes the storage for a claim (idempotent: a retry or a restart may ask again for the same pvName). */
  provision(o: ProvisionOptions): Promise<ProvisionResult>;
  /** Deletes a released volume's storage (idempotent: storage already gone is success). */
  delete(pv: KObject, o: DeleteVolumeOptions): Promise<void>;
  /** Whether claims with volumeMode Block are provisioned; default no (upstream BlockProvisioner). */
  readonly supportsBlock?: boolean;
  /**
   * Whether this volume's storage is deleted elsewhere (by a node agent, say): the controller then
   * leaves the released volume to that party, which deletes the storage, then the object, and
   * removes PROVISIONER_DELETION_FINALIZER. Default: deleted here.
   */
  deletedElsewhere?(pv: KObject): boolean | Promise<boolean>;
  /** Opens the provisioner's own informers; called at every controller start. */
  start?(hooks: ProvisionerHooks): void;
}
