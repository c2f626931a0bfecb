/** PersistentVolume, PersistentVolumeClaim and StorageClass validation. */

import type { Quantity } from "../quantity.js";
import { ANN_BETA_STORAGE_CLASS } from "../storage.js";
import type { KObject } from "../types.js";
import { child, type FieldError, fe, key, mapValue } from "./field.js";
import { arr, clone, type Json, jsonEqual, rec, str } from "./json.js";
import { FIELD_IMMUTABLE, validateLabelSelector } from "./meta.js";
import { byteLength, isDNS1123Subdomain, isQualifiedName } from "./names.js";
import { parseQuantityField, specDiff, validateResourceQuantityValue } from "./pod.js";

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES = ["Block", "Filesystem"];
const PV_RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"];
const SC_RECLAIM_POLICIES = ["Delete", "Retain"];
const BINDING_MODES = ["Immediate", "WaitForFirstConsumer"];
const NOT_POSITIVE = "must be greater than zero";

/** PersistentVolume sources, in the order upstream checks them. */
const PV_SOURCES = [
  "hostPath",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "glusterfs",
  "flocker",
  "nfs",
  "rbd",
  "quobyte",
  "cinder",
  "cephfs",
  "iscsi",
  "fc",
  "flexVolume",
  "azureFile",
  "vsphereVolume",
  "photonPersistentDisk",
  "portworxVolume",
  "azureDisk",
  "scaleIO",
  "local",
  "storageos",
  "csi",
];

function validateAccessModes(modes: unknown, path: string, requiredDetail: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = arr(modes);
  if (list.length === 0) errs.push(fe.required(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const m of list) {
    if (typeof m !== "string" || !ACCESS_MODES.includes(m)) errs.push(fe.notSupported(path, m, ACCESS_MODES));
    if (m === "ReadWriteOncePod") rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(fe.forbidden(path, "may not use ReadWriteOncePod with other access modes"));
  return errs;
}

function positiveQuantity(q: Quantity, path: string): FieldError[] {
  return q.sign() <= 0 ? [fe.invalid(path, q.toString(), NOT_POSITIVE)] : [];
}

function validateClassName(name: string, path: string): FieldError[] {
  return isDNS1123Subdomain(name).map((m) => fe.invalid(path, name, m));
}

export function validatePersistentVolumeSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec["accessModes"], child(path, "accessModes"), ""));
  const capacity = rec(spec["capacity"]);
  const cpath = child(path, "capacity");
  if (Object.keys(capacity).length === 0) errs.push(fe.required(cpath));
  if (!Object.hasOwn(capacity, "storage") || Object.keys(capacity).length > 1)
    errs.push(fe.notSupported(cpath, mapValue(capacity), ["storage"]));
  for (const [name, raw] of Object.entries(capacity)) {
    const p = key(cpath, name);
    const q = parseQuantityField(raw, p, errs);
    if (!q) continue;
    if (q.value() < 0n) errs.push(fe.invalid(p, Number(q.value()), "must be a valid resource quantity"));
    errs.push(...positiveQuantity(q, p));
  }
  const scn = str(spec["storageClassName"]);
  if (scn !== "") errs.push(...validateClassName(scn, child(path, "storageClassName")));
  const vm = spec["volumeMode"];
  if (typeof vm === "string" && !VOLUME_MODES.includes(vm))
    errs.push(fe.notSupported(child(path, "volumeMode"), vm, VOLUME_MODES));
  const rp = spec["persistentVolumeReclaimPolicy"];
  if (typeof rp === "string" && rp !== "" && !PV_RECLAIM_POLICIES.includes(rp))
    errs.push(fe.notSupported(child(path, "persistentVolumeReclaimPolicy"), rp, PV_RECLAIM_POLICIES));
  let n = 0;
  for (const src of PV_SOURCES) {
    const v = spec[src];
    if (v === undefined || v === null) continue;
    const p = child(path, src);
    if (n > 0) {
      errs.push(fe.forbidden(p, "may not specify more than 1 volume type"));
      continue;
    }
    n++;
    const s = rec(v);
    if (src === "hostPath" && str(s["path"]) === "") errs.push(fe.required(child(p, "path")));
    if (src === "nfs") {
      if (str(s["server"]) === "") errs.push(fe.required(child(p, "server")));
      if (str(s["path"]) === "") errs.push(fe.required(child(p, "path")));
    }
    if (src === "local") {
      if (str(s["path"]) === "") errs.push(fe.required(child(p, "path")));
      if (spec["nodeAffinity"] === undefined || spec["nodeAffinity"] === null)
        errs.push(fe.required(child(path, "nodeAffinity"), "Local volume requires node affinity"));
    }
    if (src === "csi") {
      if (str(s["driver"]) === "") errs.push(fe.required(child(p, "driver")));
      if (str(s["volumeHandle"]) === "") errs.push(fe.required(child(p, "volumeHandle")));
    }
  }
  if (n === 0) errs.push(fe.required(path, "must specify a volume type"));
  return errs;
}

export function validatePersistentVolumeUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const n = rec(obj["spec"]);
  const o = rec(old["spec"]);
  // The volume source is immutable once created.
  const source = (s: Json): Json => {
    const out: Json = {};
    for (const src of PV_SOURCES) if (s[src] !== undefined) out[src] = s[src];
    return out;
  };
  if (!jsonEqual(source(n), source(o)))
    errs.push(fe.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is forbidden once created"));
  if (!jsonEqual(n["volumeMode"], o["volumeMode"]))
    errs.push(fe.invalid("spec.volumeMode", n["volumeMode"] ?? null, FIELD_IMMUTABLE));
  if (o["nodeAffinity"] && !jsonEqual(n["nodeAffinity"], o["nodeAffinity"]))
    errs.push(fe.invalid("spec.nodeAffinity", n["nodeAffinity"] ?? null, FIELD_IMMUTABLE));
  return errs;
}

export function validatePersistentVolumeClaimSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  errs.push(
    ...validateAccessModes(spec["accessModes"], child(path, "accessModes"), "at least 1 access mode is required"),
  );
  if (spec["selector"] !== undefined && spec["selector"] !== null)
    errs.push(...validateLabelSelector(spec["selector"], child(path, "selector")));
  const requests = rec(rec(spec["resources"])["requests"]);
  const sp = key(child(path, "resources"), "storage");
  if (!Object.hasOwn(requests, "storage")) {
    errs.push(fe.required(sp));
  } else {
    const q = parseQuantityField(requests["storage"], sp, errs);
    if (q) {
      const pos = positiveQuantity(q, sp);
      errs.push(...(pos.length > 0 ? pos : validateResourceQuantityValue("storage", q, sp)));
    }
  }
  const scn = spec["storageClassName"];
  if (typeof scn === "string" && scn !== "") errs.push(...validateClassName(scn, child(path, "storageClassName")));
  const vm = spec["volumeMode"];
  if (typeof vm === "string" && !VOLUME_MODES.includes(vm))
    errs.push(fe.notSupported(child(path, "volumeMode"), vm, VOLUME_MODES));
  return errs;
}

export const PVC_IMMUTABLE =
  "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";

export function validatePersistentVolumeClaimUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const n = clone(rec(obj["spec"]));
  const o = clone(rec(old["spec"]));
  const bound = rec(obj["status"])["phase"] === "Bound" || rec(old["status"])["phase"] === "Bound";
  // volumeName may be set once (binding).
  if (str(o["volumeName"]) === "") o["volumeName"] = n["volumeName"];
  // a claim that named no class may be given one once (the retroactive default class, 1.28+)
  if (o["storageClassName"] == null && old.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] === undefined) {
    o["storageClassName"] = n["storageClassName"];
  }
  const nReq = rec(rec(n["resources"])["requests"]);
  const oReq = rec(rec(o["resources"])["requests"]);
  const newSize = nReq["storage"];
  const oldSize = oReq["storage"];
  if (bound && Object.keys(nReq).length > 0) nReq["storage"] = oldSize;
  delete n["volumeAttributesClassName"];
  delete o["volumeAttributesClassName"];
  if (!jsonEqual(n, o)) errs.push(fe.forbidden("spec", `${PVC_IMMUTABLE}\n${specDiff(o, n)}`));
  if (bound && newSize !== undefined && oldSize !== undefined) {
    const tmp: FieldError[] = [];
    const nq = parseQuantityField(newSize, "spec.resources.requests.storage", tmp);
    const oq = parseQuantityField(oldSize, "spec.resources.requests.storage", tmp);
    const cap = rec(rec(old["status"])["capacity"])["storage"];
    const cq = cap === undefined ? undefined : parseQuantityField(cap, "status.capacity", tmp);
    if (nq && oq && nq.cmp(oq) < 0) {
      if (cq && nq.cmp(cq) < 0)
        errs.push(fe.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"));
      else if (!cq)
        errs.push(fe.forbidden("spec.resources.requests.storage", "field can not be less than previous value"));
    }
  }
  return errs;
}

const MAX_PARAMETERS_SIZE = 256 * 1024;
const MAX_PARAMETERS_LEN = 512;

export function validateStorageClass(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const prov = str(obj["provisioner"]);
  if (prov === "") errs.push(fe.required("provisioner"));
  else for (const m of isQualifiedName(prov.toLowerCase())) errs.push(fe.invalid("provisioner", prov.toLowerCase(), m));
  const params = rec(obj["parameters"]);
  if (Object.keys(params).length > MAX_PARAMETERS_LEN) {
    errs.push(fe.tooLong("parameters", MAX_PARAMETERS_LEN));
  } else {
    let total = 0;
    for (const [k, v] of Object.entries(params)) {
      if (k.length < 1) errs.push(fe.invalid("parameters", k, "field can not be empty."));
      total += byteLength(k) + byteLength(str(v));
    }
    if (total > MAX_PARAMETERS_SIZE) errs.push(fe.tooLong("parameters", MAX_PARAMETERS_SIZE));
  }
  const rp = obj["reclaimPolicy"];
  if (typeof rp === "string" && rp !== "" && !SC_RECLAIM_POLICIES.includes(rp))
    errs.push(fe.notSupported("reclaimPolicy", rp, SC_RECLAIM_POLICIES));
  const bm = obj["volumeBindingMode"];
  if (bm === "") errs.push(fe.required("volumeBindingMode"));
  else if (typeof bm === "string" && !BINDING_MODES.includes(bm))
    errs.push(fe.notSupported("volumeBindingMode", bm, BINDING_MODES));
  return errs;
}

export function validateStorageClassUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!jsonEqual(obj["parameters"], old["parameters"]))
    errs.push(fe.forbidden("parameters", "updates to parameters are forbidden."));
  if (str(obj["provisioner"]) !== str(old["provisioner"]))
    errs.push(fe.forbidden("provisioner", "updates to provisioner are forbidden."));
  if ((obj["reclaimPolicy"] ?? "Delete") !== (old["reclaimPolicy"] ?? "Delete"))
    errs.push(fe.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
  if ((obj["volumeBindingMode"] ?? "Immediate") !== (old["volumeBindingMode"] ?? "Immediate"))
    errs.push(fe.invalid("volumeBindingMode", obj["volumeBindingMode"] ?? null, FIELD_IMMUTABLE));
  return errs;
}
