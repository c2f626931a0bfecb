/**
 * Per-kind create/update strategies: what the registry resets, initialises or derives before an
 * object is stored (upstream `pkg/registry/<group>/<resource>/strategy.go`).
 */

import { randomBytes, randomUUID } from "node:crypto";
import { canonical } from "../api/canonical.js";
import type { ResourceDef } from "../api/registry/resources.js";
import { ensureRecord, isRecord, type KObject, rfc3339 } from "../api/types.js";

const rec = ensureRecord;

/** Upstream's generateName suffix alphabet (no vowels, no confusable characters). */
const SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function generateNameSuffix(): string {
  const bytes = randomBytes(5);
  let s = "";
  for (const b of bytes) s += SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length];
  return s;
}

/** Pod QoS class from requests/limits (upstream pkg/apis/core/helper/qos). */
export function podQOSClass(pod: KObject): string {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const containers = [
    ...(Array.isArray(spec["containers"]) ? spec["containers"] : []),
    ...(Array.isArray(spec["initContainers"]) ? spec["initContainers"] : []),
  ].filter(isRecord);
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = isRecord(c["resources"]) ? c["resources"] : {};
    const req = isRecord(res["requests"]) ? res["requests"] : {};
    const lim = isRecord(res["limits"]) ? res["limits"] : {};
    for (const name of ["cpu", "memory"]) {
      if (req[name] !== undefined || lim[name] !== undefined) anySet = true;
      if (lim[name] === undefined) guaranteed = false;
      else if (req[name] !== undefined && String(req[name]) !== String(lim[name])) guaranteed = false;
    }
  }
  if (!anySet) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** The apps/v1 face of a DaemonSet's internal spec.templateGeneration. */
const DS_TEMPLATE_GENERATION = "deprecated.daemonset.template.generation";

/** Fields a create fills in or resets, for every kind. Mutates obj. */
export function prepareForCreate(def: ResourceDef, obj: KObject): void {
  const meta = obj.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = rfc3339();
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.resourceVersion;
  delete meta["selfLink"];
  if (def.generation) meta.generation = 1;
  else delete meta.generation;
  if (def.status && def.kind !== "Node") delete obj["status"];
  switch (def.kind) {
    case "Namespace": {
      const spec = rec(obj, "spec");
      if (!Array.isArray(spec["finalizers"])) spec["finalizers"] = ["kubernetes"];
      obj["status"] = { phase: "Active" };
      break;
    }
    case "Pod": {
      obj["status"] = { phase: "Pending", qosClass: podQOSClass(obj) };
      const spec = rec(obj, "spec");
      // the ServiceAccount admission plugin defaults the name (to "default") and sets both fields
      if (spec["serviceAccount"] !== undefined && spec["serviceAccountName"] === undefined) {
        spec["serviceAccountName"] = spec["serviceAccount"];
      }
      break;
    }
    case "PersistentVolume":
    case "PersistentVolumeClaim":
      obj["status"] = { phase: "Pending" };
      break;
    case "CustomResourceDefinition": {
      // the CRD controller deletes the custom resources before the CRD goes
      const finalizers = meta.finalizers ?? [];
      if (!finalizers.includes("customresourcecleanup.apiextensions.k8s.io")) {
        meta.finalizers = [...finalizers, "customresourcecleanup.apiextensions.k8s.io"];
      }
      break;
    }
    case "Job":
      if (obj.apiVersion === "batch/v1") prepareJob(obj);
      break;
    case "DaemonSet": {
      const g = Number(meta.annotations?.[DS_TEMPLATE_GENERATION]);
      meta.annotations = {
        ...meta.annotations,
        [DS_TEMPLATE_GENERATION]: String(Number.isInteger(g) && g > 1 ? g : 1),
      };
      break;
    }
    default:
      break;
  }
  // a new Service starts with an empty load-balancer status, as upstream's strategy leaves it
  if (def.kind === "Service" && def.group === "") obj["status"] = { loadBalancer: {} };
}

/** Job selector and pod labels, generated unless manualSelector (upstream job strategy). */
function prepareJob(job: KObject): void {
  const spec = rec(job, "spec");
  if (spec["manualSelector"] === true) return;
  const uid = job.metadata.uid ?? "";
  const name = job.metadata.name ?? "";
  spec["selector"] = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
  const template = rec(spec, "template");
  const tmeta = rec(template, "metadata");
  const labels = isRecord(tmeta["labels"]) ? (tmeta["labels"] as Record<string, string>) : {};
  tmeta["labels"] = {
    ...labels,
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": name,
    "controller-uid": uid,
    "job-name": name,
  };
}

/** Everything but metadata and status, for generation bumps. */
function specPart(obj: KObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

/**
 * An update through the main endpoint: immutable metadata comes from the old object, status is
 * kept when the resource has a status subresource, generation bumps on a spec change.
 */
export function prepareForUpdate(def: ResourceDef, obj: KObject, old: KObject, subresource: string): KObject {
  if (subresource === "status") {
    // Only status changes: everything else, metadata included, comes from the old object.
    const out: KObject = { ...old, metadata: { ...old.metadata } };
    if (obj["status"] === undefined) delete out["status"];
    else out["status"] = obj["status"];
    if (obj.metadata.managedFields !== undefined) out.metadata.managedFields = obj.metadata.managedFields;
    return out;
  }
  const meta = obj.metadata;
  const o = old.metadata;
  meta.uid = o.uid;
  meta.creationTimestamp = o.creationTimestamp;
  meta.name = o.name;
  if (o.namespace !== undefined) meta.namespace = o.namespace;
  if (o.deletionTimestamp !== undefined) meta.deletionTimestamp = o.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (o.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
  else delete meta.deletionGracePeriodSeconds;
  if (o.generateName !== undefined && meta.generateName === undefined) meta.generateName = o.generateName;
  delete meta["selfLink"];
  if (def.status && subresource !== "binding") {
    if (old["status"] === undefined) delete obj["status"];
    else obj["status"] = old["status"];
  }
  if (def.generation) {
    const gen = typeof o.generation === "number" ? o.generation : 1;
    meta.generation = specPart(obj) !== specPart(old) ? gen + 1 : gen;
  } else {
    delete meta.generation;
  }
  if (def.kind === "DaemonSet" && def.group !== "") {
    // spec.templateGeneration of the internal type: one more at each template change, never set by a user
    const g = Number(o.annotations?.[DS_TEMPLATE_GENERATION]);
    const was = Number.isInteger(g) && g > 0 ? g : 1;
    const changed =
      JSON.stringify(canonical(rec(obj, "spec")["template"])) !==
      JSON.stringify(canonical(rec(old, "spec")["template"]));
    meta.annotations = { ...meta.annotations, [DS_TEMPLATE_GENERATION]: String(changed ? was + 1 : was) };
  }
  if (def.kind === "Namespace" && subresource !== "finalize") {
    // spec.finalizers only change through /finalize
    obj["spec"] = old["spec"];
  }
  return obj;
}
