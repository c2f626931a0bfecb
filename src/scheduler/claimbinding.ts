/**
 * The claims part of the VolumeBinding hook (upstream VolumeBinding PreFilter): a pod whose
 * PersistentVolumeClaim does not exist, is being deleted, or is not bound while its StorageClass
 * binds immediately is not schedulable anywhere until the claim changes — "pod has unbound
 * immediate PersistentVolumeClaims", as seed 002 shows for a StatefulSet whose claims no
 * provisioner serves. Claims of WaitForFirstConsumer classes pass here (the volume component picks
 * their node); every node passes the filter and nothing is bound before the pod.
 */
import { isRecord, type KObject } from "../api/types.js";
import type { LocalClient } from "../controllers/client.js";
import type { VolumeBinding, VolumeVerdict } from "./plugins/volumebinding.js";

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

/** The claim names of the pod's volumes (persistentVolumeClaim, and ephemeral as `<pod>-<volume>`). */
export function podClaimNames(pod: KObject): string[] {
  const out: string[] = [];
  const volumes = rec(pod["spec"])["volumes"];
  for (const v of Array.isArray(volumes) ? volumes.filter(isRecord) : []) {
    const pvc = rec(v["persistentVolumeClaim"]);
    if (typeof pvc["claimName"] === "string") out.push(pvc["claimName"]);
    else if (isRecord(v["ephemeral"])) out.push(`${pod.metadata.name}-${String(v["name"])}`);
  }
  return out;
}

function isBound(pvc: KObject): boolean {
  return typeof rec(pvc["spec"])["volumeName"] === "string" && rec(pvc["spec"])["volumeName"] !== "";
}

function className(pvc: KObject): string {
  const c = rec(pvc["spec"])["storageClassName"];
  if (typeof c === "string") return c;
  return pvc.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? "";
}

/** Upstream podVolumeClaims + the unbound-immediate rule, as a verdict (undefined: the claims allow scheduling). */
export function claimsVerdict(
  pod: KObject,
  getClaim: (name: string) => KObject | undefined,
  getClass: (name: string) => KObject | undefined,
): VolumeVerdict | undefined {
  let unboundImmediate = false;
  for (const name of podClaimNames(pod)) {
    const pvc = getClaim(name);
    if (!pvc) return { reasons: [`persistentvolumeclaim "${name}" not found`], unresolvable: true };
    if (pvc.metadata.deletionTimestamp) {
      return { reasons: [`persistentvolumeclaim "${name}" is being deleted`], unresolvable: true };
    }
    if (isBound(pvc)) continue;
    const cls = className(pvc);
    const sc = cls === "" ? undefined : getClass(cls);
    if (sc?.["volumeBindingMode"] !== "WaitForFirstConsumer") unboundImmediate = true;
  }
  return unboundImmediate
    ? { reasons: ["pod has unbound immediate PersistentVolumeClaims"], unresolvable: true }
    : undefined;
}

export function claimBinding(client: LocalClient): VolumeBinding {
  const pvcs = client.resource("", "v1", "persistentvolumeclaims");
  const classes = client.resource("storage.k8s.io", "v1", "storageclasses");
  return {
    preFilter: (pod) =>
      claimsVerdict(
        pod,
        (n) => client.get(pvcs, pod.metadata.namespace, n),
        (n) => client.get(classes, undefined, n),
      ),
    filter: () => undefined,
    preBind: async () => undefined,
  };
}
