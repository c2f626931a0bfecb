/** apps/v1 and batch/v1 spec validation (pkg/apis/apps/validation, pkg/apis/batch/validation). */

import { type LabelSelector, LabelSelectorError, labelSelectorFromObject } from "../selectors/labels.js";
import type { KObject } from "../types.js";
import { cronScheduleError } from "./cron.js";
import { child, type FieldError, fe, goJSON, mapValue, RawValue } from "./field.js";
import { arr, clone, type Json, jsonEqual, rec, str } from "./json.js";
import { FIELD_IMMUTABLE, labelSelectorValue, validateLabelSelector } from "./meta.js";
import { IS_NEGATIVE_ERROR, isDNS1123Label } from "./names.js";
import { validatePodTemplateSpec } from "./pod.js";

const SELECTOR_MISMATCH = "`selector` does not match template `labels`";

function nonNegative(v: unknown, path: string): FieldError[] {
  return typeof v === "number" && v < 0 ? [fe.invalid(path, v, IS_NEGATIVE_ERROR)] : [];
}

function selectorOf(sel: unknown): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(sel);
  } catch (e) {
    if (e instanceof LabelSelectorError) return undefined;
    throw e;
  }
}

function templateLabels(spec: Json): Record<string, unknown> {
  return rec(rec(rec(spec["template"])["metadata"])["labels"]);
}

function templateRestartPolicy(spec: Json): unknown {
  return rec(rec(spec["template"])["spec"])["restartPolicy"];
}

function isEmptySelector(sel: unknown): boolean {
  const s = rec(sel);
  return Object.keys(rec(s["matchLabels"])).length + arr(s["matchExpressions"]).length === 0;
}

/** ValidatePodTemplateSpecForReplicaSet (also used for Deployments): selector match + pod template + Always. */
function validateTemplateForReplicaSet(spec: Json, selector: LabelSelector, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const template = spec["template"];
  if (template === undefined || template === null) return [fe.required(path)];
  if (!selector.empty() && !selector.matches(templateLabels(spec) as Record<string, string>))
    errs.push(fe.invalid(child(path, "metadata", "labels"), mapValue(templateLabels(spec)), SELECTOR_MISMATCH));
  errs.push(...validatePodTemplateSpec(template, path));
  const rp = templateRestartPolicy(spec);
  if (rp !== undefined && rp !== "Always")
    errs.push(fe.notSupported(child(path, "spec", "restartPolicy"), rp, ["Always"]));
  const ads = rec(rec(template)["spec"])["activeDeadlineSeconds"];
  if (ads !== undefined && ads !== null)
    errs.push(
      fe.invalid(
        child(path, "spec", "activeDeadlineSeconds"),
        ads,
        "activeDeadlineSeconds in ReplicaSet is not Supported",
      ),
    );
  return errs;
}

function validateSelectorAndTemplate(spec: Json, path: string, emptyMsg: string): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec["selector"];
  if (sel === undefined || sel === null) {
    errs.push(fe.required(child(path, "selector")));
  } else {
    errs.push(...validateLabelSelector(sel, child(path, "selector")));
    if (isEmptySelector(sel)) errs.push(fe.invalid(child(path, "selector"), labelSelectorValue(sel), emptyMsg));
  }
  const selector = selectorOf(sel);
  if (!selector) errs.push(fe.invalid(child(path, "selector"), labelSelectorValue(sel), "invalid label selector"));
  else errs.push(...validateTemplateForReplicaSet(spec, selector, child(path, "template")));
  return errs;
}

export function validateDeploymentSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec["replicas"], child(path, "replicas")));
  errs.push(...validateSelectorAndTemplate(spec, path, "empty selector is invalid for deployment"));
  const strategy = rec(spec["strategy"]);
  const type = strategy["type"];
  if (type === "Recreate") {
    if (strategy["rollingUpdate"] !== undefined && strategy["rollingUpdate"] !== null)
      errs.push(
        fe.forbidden(
          child(path, "strategy", "rollingUpdate"),
          "may not be specified when strategy `type` is 'Recreate'",
        ),
      );
  } else if (type !== undefined && type !== "RollingUpdate") {
    errs.push(fe.notSupported(child(path, "strategy", "Type"), type, ["Recreate", "RollingUpdate"]));
  }
  errs.push(...nonNegative(spec["minReadySeconds"], child(path, "minReadySeconds")));
  errs.push(...nonNegative(spec["revisionHistoryLimit"], child(path, "revisionHistoryLimit")));
  const pds = spec["progressDeadlineSeconds"];
  if (typeof pds === "number") {
    errs.push(...nonNegative(pds, child(path, "progressDeadlineSeconds")));
    const mrs = typeof spec["minReadySeconds"] === "number" ? spec["minReadySeconds"] : 0;
    if (pds <= mrs)
      errs.push(fe.invalid(child(path, "progressDeadlineSeconds"), pds, "must be greater than minReadySeconds"));
  }
  return errs;
}

export function validateReplicaSetSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec["replicas"], child(path, "replicas")));
  errs.push(...nonNegative(spec["minReadySeconds"], child(path, "minReadySeconds")));
  errs.push(...validateSelectorAndTemplate(spec, path, "empty selector is invalid for deployment"));
  return errs;
}

export function validateDaemonSetSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  const sel = spec["selector"];
  errs.push(...validateLabelSelector(sel, child(path, "selector")));
  const selector = selectorOf(sel);
  if (selector && !selector.matches(templateLabels(spec) as Record<string, string>))
    errs.push(
      fe.invalid(child(path, "template", "metadata", "labels"), mapValue(templateLabels(spec)), SELECTOR_MISMATCH),
    );
  if (sel !== undefined && sel !== null && isEmptySelector(sel))
    errs.push(fe.invalid(child(path, "selector"), labelSelectorValue(sel), "empty selector is invalid for daemonset"));
  errs.push(...validatePodTemplateSpec(spec["template"], child(path, "template")));
  const rp = templateRestartPolicy(spec);
  if (rp !== undefined && rp !== "Always")
    errs.push(fe.notSupported(child(path, "template", "spec", "restartPolicy"), rp, ["Always"]));
  errs.push(...nonNegative(spec["minReadySeconds"], child(path, "minReadySeconds")));
  errs.push(...nonNegative(spec["revisionHistoryLimit"], child(path, "revisionHistoryLimit")));
  const ust = rec(spec["updateStrategy"])["type"];
  if (ust !== undefined && ust !== "RollingUpdate" && ust !== "OnDelete")
    errs.push(fe.notSupported(child(path, "updateStrategy", "type"), ust, ["OnDelete", "RollingUpdate"]));
  return errs;
}

export function validateStatefulSetSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  const pmp = spec["podManagementPolicy"];
  if (pmp === "") errs.push(fe.required(child(path, "podManagementPolicy")));
  else if (pmp !== undefined && pmp !== "OrderedReady" && pmp !== "Parallel")
    errs.push(fe.invalid(child(path, "podManagementPolicy"), pmp, "must be 'OrderedReady' or 'Parallel'"));
  const ust = rec(spec["updateStrategy"])["type"];
  if (ust === "") errs.push(fe.required(child(path, "updateStrategy")));
  else if (ust !== undefined && ust !== "RollingUpdate" && ust !== "OnDelete")
    errs.push(
      fe.invalid(child(path, "updateStrategy"), spec["updateStrategy"], "must be 'RollingUpdate' or 'OnDelete'"),
    );
  errs.push(...nonNegative(spec["replicas"], child(path, "replicas")));
  errs.push(...nonNegative(spec["minReadySeconds"], child(path, "minReadySeconds")));
  const sel = spec["selector"];
  if (sel === undefined || sel === null) {
    errs.push(fe.required(child(path, "selector")));
  } else {
    errs.push(...validateLabelSelector(sel, child(path, "selector")));
    if (isEmptySelector(sel))
      errs.push(
        fe.invalid(child(path, "selector"), labelSelectorValue(sel), "empty selector is invalid for statefulset"),
      );
  }
  const selector = selectorOf(sel);
  const tpath = child(path, "template");
  if (!selector) {
    errs.push(fe.invalid(child(path, "selector"), labelSelectorValue(sel), ""));
  } else if (spec["template"] === undefined || spec["template"] === null) {
    errs.push(fe.required(tpath));
  } else {
    if (!selector.empty() && !selector.matches(templateLabels(spec) as Record<string, string>))
      errs.push(fe.invalid(child(tpath, "metadata", "labels"), mapValue(templateLabels(spec)), SELECTOR_MISMATCH));
  }
  const claimNames = arr(spec["volumeClaimTemplates"]).map((c) => str(rec(rec(c)["metadata"])["name"]));
  errs.push(...validatePodTemplateSpec(spec["template"], tpath, { extraVolumeNames: claimNames }));
  const rp = templateRestartPolicy(spec);
  if (rp !== undefined && rp !== "Always")
    errs.push(fe.notSupported(child(tpath, "spec", "restartPolicy"), rp, ["Always"]));
  const svc = str(spec["serviceName"]);
  if (svc !== "") for (const m of isDNS1123Label(svc)) errs.push(fe.invalid(child(path, "serviceName"), svc, m));
  return errs;
}

export const STATEFULSET_FORBIDDEN =
  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

export function validateStatefulSetUpdate(obj: KObject, old: KObject): FieldError[] {
  const n = clone(rec(obj["spec"]));
  const o = clone(rec(old["spec"]));
  for (const f of [
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
  ]) {
    delete n[f];
    delete o[f];
  }
  // volumeClaimTemplates carry status and defaulted fields; compare only what users set.
  const strip = (s: Json): void => {
    s["volumeClaimTemplates"] = arr(s["volumeClaimTemplates"]).map((c) => {
      const x = rec(clone(c));
      delete x["status"];
      return x;
    });
  };
  strip(n);
  strip(o);
  return jsonEqual(n, o) ? [] : [fe.forbidden("spec", STATEFULSET_FORBIDDEN)];
}

/** Selector immutability on update of Deployments, ReplicaSets, DaemonSets (apps/v1). */
export function validateSelectorImmutable(obj: KObject, old: KObject): FieldError[] {
  const n = rec(obj["spec"])["selector"];
  const o = rec(old["spec"])["selector"];
  return jsonEqual(n, o) ? [] : [fe.invalid("spec.selector", labelSelectorValue(n), FIELD_IMMUTABLE)];
}

export function validateReplicationControllerSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec["replicas"], child(path, "replicas")));
  errs.push(...nonNegative(spec["minReadySeconds"], child(path, "minReadySeconds")));
  const sel = rec(spec["selector"]);
  const tlabels = templateLabels(spec);
  const selector = Object.keys(sel).length === 0 ? tlabels : sel;
  if (Object.keys(selector).length === 0) errs.push(fe.required(child(path, "selector")));
  const template = spec["template"];
  if (template === undefined || template === null) {
    errs.push(fe.required(child(path, "template")));
  } else {
    const ok = Object.entries(selector).every(([k, v]) => tlabels[k] === v);
    if (!ok)
      errs.push(
        fe.invalid(
          child(path, "template", "metadata", "labels"),
          mapValue(tlabels),
          "`selector` does not match template `labels`",
        ),
      );
    errs.push(...validatePodTemplateSpec(template, child(path, "template")));
    const rp = templateRestartPolicy(spec);
    if (rp !== undefined && rp !== "Always")
      errs.push(fe.notSupported(child(path, "template", "spec", "restartPolicy"), rp, ["Always"]));
  }
  return errs;
}

// ---- batch ----

/** validateJobSpec: the checks a Job and a CronJob's jobTemplate share (no selector rules). */
function validateJobSpecCommon(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec["parallelism"], child(path, "parallelism")));
  errs.push(...nonNegative(spec["completions"], child(path, "completions")));
  errs.push(...nonNegative(spec["activeDeadlineSeconds"], child(path, "activeDeadlineSeconds")));
  errs.push(...nonNegative(spec["backoffLimit"], child(path, "backoffLimit")));
  errs.push(...nonNegative(spec["ttlSecondsAfterFinished"], child(path, "ttlSecondsAfterFinished")));
  errs.push(...nonNegative(spec["backoffLimitPerIndex"], child(path, "backoffLimitPerIndex")));
  errs.push(...nonNegative(spec["maxFailedIndexes"], child(path, "maxFailedIndexes")));
  const cm = spec["completionMode"];
  if (cm !== undefined && cm !== null) {
    if (cm !== "NonIndexed" && cm !== "Indexed")
      errs.push(fe.notSupported(child(path, "completionMode"), cm, ["NonIndexed", "Indexed"]));
    if (cm === "Indexed" && (spec["completions"] === undefined || spec["completions"] === null))
      errs.push(fe.required(child(path, "completions"), "when completion mode is Indexed"));
  }
  if (cm !== "Indexed") {
    if (typeof spec["backoffLimitPerIndex"] === "number")
      errs.push(
        fe.invalid(
          child(path, "backoffLimitPerIndex"),
          spec["backoffLimitPerIndex"],
          "requires indexed completion mode",
        ),
      );
    if (typeof spec["maxFailedIndexes"] === "number")
      errs.push(
        fe.invalid(child(path, "maxFailedIndexes"), spec["maxFailedIndexes"], "requires indexed completion mode"),
      );
  }
  const tpath = child(path, "template");
  errs.push(...validatePodTemplateSpec(spec["template"], tpath));
  // An absent restartPolicy may have been defaulted to Always; upstream treats both as "not chosen".
  const rp = templateRestartPolicy(spec);
  const rpPath = child(tpath, "spec", "restartPolicy");
  if (rp === undefined || rp === null || rp === "" || rp === "Always")
    errs.push(fe.required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== "OnFailure" && rp !== "Never") errs.push(fe.notSupported(rpPath, rp, ["OnFailure", "Never"]));
  else if (spec["podFailurePolicy"] !== undefined && spec["podFailurePolicy"] !== null && rp !== "Never")
    errs.push(fe.invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** ValidateJobSpec: the shared checks, then the selector (required, and it must select the template). */
export function validateJobSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs = validateJobSpecCommon(spec, path);
  const sel = spec["selector"];
  if (sel === undefined || sel === null) errs.push(fe.required(child(path, "selector")));
  else errs.push(...validateLabelSelector(sel, child(path, "selector")));
  const selector = selectorOf(sel);
  if (selector && !selector.matches(templateLabels(spec) as Record<string, string>))
    errs.push(
      fe.invalid(child(path, "template", "metadata", "labels"), mapValue(templateLabels(spec)), SELECTOR_MISMATCH),
    );
  return errs;
}

export function validateJobUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const n = rec(obj["spec"]);
  const o = rec(old["spec"]);
  if (!jsonEqual(n["selector"], o["selector"]))
    errs.push(fe.invalid("spec.selector", labelSelectorValue(n["selector"]), FIELD_IMMUTABLE));
  if (!jsonEqual(n["completions"], o["completions"]) && n["completionMode"] !== "Indexed")
    errs.push(fe.invalid("spec.completions", n["completions"] ?? null, FIELD_IMMUTABLE));
  if (!jsonEqual(n["completionMode"], o["completionMode"]))
    errs.push(fe.invalid("spec.completionMode", n["completionMode"] ?? null, FIELD_IMMUTABLE));
  if (!jsonEqual(n["podFailurePolicy"], o["podFailurePolicy"]))
    errs.push(fe.invalid("spec.podFailurePolicy", n["podFailurePolicy"] ?? null, FIELD_IMMUTABLE));
  // The template is immutable, except scheduling directives of a suspended job that never started.
  const nt = clone(rec(n["template"]));
  const ot = clone(rec(o["template"]));
  const suspendedNeverStarted = n["suspend"] === true && !rec(old["status"])["startTime"];
  if (suspendedNeverStarted) {
    for (const f of ["nodeSelector", "tolerations", "affinity", "schedulingGates"]) {
      delete rec(nt["spec"])[f];
      delete rec(ot["spec"])[f];
    }
    for (const f of ["labels", "annotations"]) {
      delete rec(nt["metadata"])[f];
      delete rec(ot["metadata"])[f];
    }
  }
  if (!jsonEqual(nt, ot))
    errs.push(fe.invalid("spec.template", new RawValue(goJSON(n["template"] ?? null)), FIELD_IMMUTABLE));
  return errs;
}

export function validateCronJobSpec(specRaw: unknown, path = "spec"): FieldError[] {
  const spec = rec(specRaw);
  const errs: FieldError[] = [];
  const schedule = str(spec["schedule"]);
  if (schedule === "") {
    errs.push(fe.required(child(path, "schedule")));
  } else {
    const e = cronScheduleError(schedule);
    if (e !== undefined) errs.push(fe.invalid(child(path, "schedule"), schedule, e));
    if (schedule.includes("TZ") && typeof spec["timeZone"] === "string")
      errs.push(
        fe.invalid(child(path, "schedule"), schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"),
      );
  }
  errs.push(...nonNegative(spec["startingDeadlineSeconds"], child(path, "startingDeadlineSeconds")));
  const cp = spec["concurrencyPolicy"];
  if (cp === "") errs.push(fe.required(child(path, "concurrencyPolicy")));
  else if (cp !== undefined && cp !== "Allow" && cp !== "Forbid" && cp !== "Replace")
    errs.push(fe.notSupported(child(path, "concurrencyPolicy"), cp, ["Allow", "Forbid", "Replace"]));
  errs.push(...nonNegative(spec["successfulJobsHistoryLimit"], child(path, "successfulJobsHistoryLimit")));
  errs.push(...nonNegative(spec["failedJobsHistoryLimit"], child(path, "failedJobsHistoryLimit")));
  const tz = spec["timeZone"];
  if (typeof tz === "string" && tz !== "") {
    let ok = true;
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
    } catch {
      ok = false;
    }
    if (!ok || tz.includes(" ")) errs.push(fe.invalid(child(path, "timeZone"), tz, `unknown time zone ${tz}`));
  }
  const jt = rec(spec["jobTemplate"]);
  const jspec = rec(jt["spec"]);
  const jpath = child(path, "jobTemplate", "spec");
  errs.push(...validateJobSpecCommon(jspec, jpath));
  if (jspec["selector"] !== undefined && jspec["selector"] !== null && jspec["manualSelector"] !== true)
    errs.push(
      fe.invalid(child(jpath, "selector"), labelSelectorValue(jspec["selector"]), "`selector` will be auto-generated"),
    );
  return errs;
}
