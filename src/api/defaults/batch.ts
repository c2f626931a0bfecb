/** batch/v1 defaults (kubernetes pkg/apis/batch/v1/defaults.go). */
import { isRecord } from "../types.js";
import { child, defaultPtr, defaultString, ensure, isEmpty, isNil, items, type Obj } from "./fields.js";
import { defaultPodTemplate } from "./pod.js";

const MAX_INT32 = 2147483647;

export function defaultJob(job: Obj): void {
  const spec = ensure(job, "spec");
  if (!spec) return;
  // A non-parallel job may leave both unset; then both are 1.
  if (isNil(spec["completions"]) && isNil(spec["parallelism"])) {
    spec["completions"] = 1;
    spec["parallelism"] = 1;
  }
  defaultPtr(spec, "parallelism", 1);
  defaultPtr(spec, "backoffLimit", isNil(spec["backoffLimitPerIndex"]) ? 6 : MAX_INT32);
  const template = child(spec, "template");
  const labels = template ? child(template, "metadata")?.["labels"] : undefined;
  if (isRecord(labels)) {
    const meta = ensure(job, "metadata");
    if (meta && isEmpty(meta["labels"])) meta["labels"] = { ...labels };
  }
  defaultPtr(spec, "completionMode", "NonIndexed");
  defaultPtr(spec, "suspend", false);
  const failurePolicy = child(spec, "podFailurePolicy");
  if (failurePolicy) {
    for (const rule of items(failurePolicy, "rules")) {
      for (const pattern of items(rule, "onPodConditions")) defaultString(pattern, "status", "True");
    }
  }
  defaultPtr(spec, "podReplacementPolicy", failurePolicy ? "Failed" : "TerminatingOrFailed");
  defaultPodTemplate(template);
}

/**
 * CronJob. Upstream's Job defaulter takes a Job, not a JobSpec, so the job template gets only the
 * PodSpec defaults of its pod template (no backoffLimit/completions until a Job is created).
 */
export function defaultCronJob(cj: Obj): void {
  const spec = ensure(cj, "spec");
  if (!spec) return;
  defaultString(spec, "concurrencyPolicy", "Allow");
  defaultPtr(spec, "suspend", false);
  defaultPtr(spec, "successfulJobsHistoryLimit", 3);
  defaultPtr(spec, "failedJobsHistoryLimit", 1);
  const jobSpec = child(child(spec, "jobTemplate") ?? {}, "spec");
  if (jobSpec) defaultPodTemplate(child(jobSpec, "template"));
}
