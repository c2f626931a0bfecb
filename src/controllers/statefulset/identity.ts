/**
 * A StatefulSet pod's identity and storage as upstream's stateful_set_utils.go defines them: the pod
 * `<set>-<ordinal>` for ordinals `spec.ordinals.start` .. start+replicas-1, its labels
 * (statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index, controller-revision-hash), its
 * hostname and subdomain, and one PersistentVolumeClaim `<template>-<set>-<ordinal>` per
 * volumeClaimTemplate mounted as the volume named after the template; and the pod states the
 * controller reads (created, failed, terminating, running and ready, available).
 */

import { isPodReady } from "../../api/pdb.js";
import { isRecord, type KObject } from "../../api/types.js";
import { REVISION_LABEL } from "../history.js";
import { controllerRef } from "../refmanager.js";
import { isAvailable } from "../replicaset/index.js";

type Rec = Record<string, unknown>;

export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

export function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

export function specOf(set: KObject): Rec {
  return rec(set["spec"]);
}

const POD_NAME = /^(.*)-([0-9]+)$/;
const INT32_MAX = 2 ** 31 - 1;

/** The set name and ordinal in a pod name (upstream getParentNameAndOrdinal): ordinal -1 when there is none. */
export function parentAndOrdinal(name: string): { parent: string; ordinal: number } {
  const m = POD_NAME.exec(name);
  if (!m) return { parent: "", ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1] ?? "", ordinal: Number.isSafeInteger(n) && n <= INT32_MAX ? n : -1 };
}

export function ordinalOf(pod: KObject): number {
  return parentAndOrdinal(pod.metadata.name ?? "").ordinal;
}

/** A pod whose name says it belongs to the set (upstream isMemberOf). */
export function isMemberOf(set: KObject, pod: KObject): boolean {
  return parentAndOrdinal(pod.metadata.name ?? "").parent === set.metadata.name;
}

export function podName(set: KObject, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

export function replicasOf(set: KObject): number {
  const r = specOf(set)["replicas"];
  return typeof r === "number" ? r : 1;
}

export function startOrdinal(set: KObject): number {
  const s = rec(specOf(set)["ordinals"])["start"];
  return typeof s === "number" ? s : 0;
}

export function endOrdinal(set: KObject): number {
  return startOrdinal(set) + replicasOf(set) - 1;
}

export function inOrdinalRange(set: KObject, pod: KObject): boolean {
  const o = ordinalOf(pod);
  return o >= startOrdinal(set) && o <= endOrdinal(set);
}

export function minReadySeconds(set: KObject): number {
  const m = specOf(set)["minReadySeconds"];
  return typeof m === "number" ? m : 0;
}

/** OrderedReady (the default) makes and removes pods one at a time; Parallel does not wait. */
export function isMonotonic(set: KObject): boolean {
  return specOf(set)["podManagementPolicy"] !== "Parallel";
}

export function claimTemplates(set: KObject): Rec[] {
  const t = specOf(set)["volumeClaimTemplates"];
  return Array.isArray(t) ? t.filter(isRecord) : [];
}

function templateName(t: Rec): string {
  return String(rec(t["metadata"])["name"] ?? "");
}

export function claimName(set: KObject, template: Rec, ordinal: number): string {
  return `${templateName(template)}-${set.metadata.name}-${ordinal}`;
}

/**
 * The claims of the pod with `ordinal`, by template name (upstream getPersistentVolumeClaims): the
 * template with its name, the set's namespace, and labels = the template's own plus the set's
 * selector matchLabels.
 */
export function claimsFor(set: KObject, ordinal: number): Array<{ template: string; claim: KObject }> {
  const matchLabels = rec(rec(specOf(set)["selector"])["matchLabels"]) as Record<string, string>;
  return claimTemplates(set).map((t) => {
    const meta = structuredClone(rec(t["metadata"]));
    const labels = { ...(rec(meta["labels"]) as Record<string, string>), ...matchLabels };
    const claim: KObject = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        ...meta,
        name: claimName(set, t, ordinal),
        namespace: set.metadata.namespace,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
      },
      spec: structuredClone(rec(t["spec"])),
    };
    if (Object.keys(labels).length === 0) delete claim.metadata.labels;
    return { template: templateName(t), claim };
  });
}

function podSpec(pod: KObject): Rec {
  if (!isRecord(pod["spec"])) pod["spec"] = {};
  return pod["spec"] as Rec;
}

/** Name, namespace and the identity labels (upstream updateIdentity). */
export function updateIdentity(set: KObject, pod: KObject): void {
  const ordinal = ordinalOf(pod);
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = {
    ...pod.metadata.labels,
    [POD_NAME_LABEL]: pod.metadata.name,
    [POD_INDEX_LABEL]: String(ordinal),
  };
}

export function identityMatches(set: KObject, pod: KObject): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod.metadata.name ?? "");
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name
  );
}

/** The claim volumes first (in template order), then the pod's other volumes (upstream updateStorage). */
export function updateStorage(set: KObject, pod: KObject): void {
  const spec = podSpec(pod);
  const claims = claimsFor(set, ordinalOf(pod));
  const names = new Set(claims.map((c) => c.template));
  const current = Array.isArray(spec["volumes"]) ? spec["volumes"].filter(isRecord) : [];
  const volumes = [
    ...claims.map((c) => ({ name: c.template, persistentVolumeClaim: { claimName: c.claim.metadata.name } })),
    ...current.filter((v) => !names.has(String(v["name"]))),
  ];
  if (volumes.length > 0) spec["volumes"] = volumes;
}

export function storageMatches(set: KObject, pod: KObject): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const spec = rec(pod["spec"]);
  const volumes = new Map<string, Rec>();
  for (const v of Array.isArray(spec["volumes"]) ? spec["volumes"].filter(isRecord) : [])
    volumes.set(String(v["name"]), v);
  return claimTemplates(set).every((t) => {
    const v = volumes.get(templateName(t));
    return rec(v?.["persistentVolumeClaim"])["claimName"] === claimName(set, t, ordinal);
  });
}

/** The set's template with the identity of `ordinal` (upstream newStatefulSetPod). */
export function newPod(set: KObject, ordinal: number, revision: string): KObject {
  const template = rec(specOf(set)["template"]);
  const meta = rec(template["metadata"]);
  const name = podName(set, ordinal);
  const pod: KObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      generateName: `${set.metadata.name}-`,
      namespace: set.metadata.namespace,
      labels: { ...(rec(meta["labels"]) as Record<string, string>) },
      ...(isRecord(meta["annotations"]) ? { annotations: { ...(meta["annotations"] as Record<string, string>) } } : {}),
      ...(Array.isArray(meta["finalizers"]) ? { finalizers: [...(meta["finalizers"] as string[])] } : {}),
      ownerReferences: [controllerRef(set, "apps/v1", "StatefulSet")],
    },
    spec: structuredClone(rec(template["spec"])),
  };
  updateIdentity(set, pod);
  const spec = podSpec(pod);
  spec["hostname"] = name;
  const service = specOf(set)["serviceName"];
  if (typeof service === "string" && service !== "") spec["subdomain"] = service;
  updateStorage(set, pod);
  pod.metadata.labels = { ...pod.metadata.labels, [REVISION_LABEL]: revision };
  return pod;
}

export function revisionOf(pod: KObject): string {
  return pod.metadata.labels?.[REVISION_LABEL] ?? "";
}

function phase(pod: KObject): string {
  return String(rec(pod["status"])["phase"] ?? "");
}

/** Made by the API server (a pod the controller is about to create has no phase yet). */
export function isCreated(pod: KObject): boolean {
  return phase(pod) !== "";
}

export function isFailed(pod: KObject): boolean {
  return phase(pod) === "Failed";
}

export function isSucceeded(pod: KObject): boolean {
  return phase(pod) === "Succeeded";
}

export function isPending(pod: KObject): boolean {
  return phase(pod) === "Pending";
}

export function isTerminating(pod: KObject): boolean {
  return pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

export function isRunningAndReady(pod: KObject): boolean {
  return phase(pod) === "Running" && isPodReady(pod);
}

export function isRunningAndAvailable(pod: KObject, minReady: number, now: number): boolean {
  return isRunningAndReady(pod) && isAvailable(pod, minReady, now);
}

export function isHealthy(pod: KObject): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}
