/** Printers for apps, batch, autoscaling and policy resources. */

import { isRecord, parseApiVersion } from "../types.js";
import {
  AGE,
  ageOf,
  boolPtr,
  col,
  containerCells,
  NAME,
  nameOf,
  printer,
  WIDE_CONTAINERS,
  WIDE_IMAGES,
} from "./common.js";
import * as d from "./descriptions.js";
import { humanDuration, parseTime, since } from "./duration.js";
import { arr, at, intOrString, num, optNum, optStr, rec, str } from "./json.js";
import { formatQuantity } from "./quantity.js";
import { formatLabelSelector, formatLabels, labelSelectorString } from "./selectors.js";
import type { Printer } from "./types.js";

/**
 * ReplicaSets and ReplicationControllers print alike (upstream's printReplicaSet and
 * printReplicationController): only the descriptions and the selector's form differ.
 */
export function replicatedPrinter(
  descriptions: { replicas: string; current: string; ready: string; selector: string },
  selector: (v: unknown) => string,
): Printer {
  return printer(
    [
      NAME,
      col("Desired", "integer", descriptions.replicas),
      col("Current", "integer", descriptions.current),
      col("Ready", "integer", descriptions.ready),
      AGE,
      WIDE_CONTAINERS,
      WIDE_IMAGES,
      col("Selector", "string", descriptions.selector, { priority: 1 }),
    ],
    (obj, now) => {
      const [names, images] = containerCells(at(obj, "spec", "template", "spec", "containers"));
      return [
        nameOf(obj),
        optNum(at(obj, "spec", "replicas")) ?? 1,
        num(at(obj, "status", "replicas")),
        num(at(obj, "status", "readyReplicas")),
        ageOf(obj, now),
        names,
        images,
        selector(at(obj, "spec", "selector")),
      ];
    },
  );
}

export const replicaSetPrinter: Printer = replicatedPrinter(
  {
    replicas: d.rsSpecReplicas,
    current: d.rsStatusReplicas,
    ready: d.rsStatusReadyReplicas,
    selector: d.rsSpecSelector,
  },
  formatLabelSelector,
);

export const daemonSetPrinter: Printer = printer(
  [
    NAME,
    col("Desired", "integer", d.dsStatusDesired),
    col("Current", "integer", d.dsStatusCurrent),
    col("Ready", "integer", d.dsStatusReady),
    col("Up-to-date", "integer", d.dsStatusUpdated),
    col("Available", "integer", d.dsStatusAvailable),
    col("Node Selector", "string", d.podSpecNodeSelector),
    AGE,
    WIDE_CONTAINERS,
    WIDE_IMAGES,
    col("Selector", "string", d.dsSpecSelector, { priority: 1 }),
  ],
  (obj, now) => {
    const status = rec(obj["status"]);
    const [names, images] = containerCells(at(obj, "spec", "template", "spec", "containers"));
    return [
      nameOf(obj),
      num(status["desiredNumberScheduled"]),
      num(status["currentNumberScheduled"]),
      num(status["numberReady"]),
      num(status["updatedNumberScheduled"]),
      num(status["numberAvailable"]),
      formatLabels(at(obj, "spec", "template", "spec", "nodeSelector")),
      ageOf(obj, now),
      names,
      images,
      formatLabelSelector(at(obj, "spec", "selector")),
    ];
  },
);

export const deploymentPrinter: Printer = printer(
  [
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "string", d.deploymentStatusUpdated),
    col("Available", "string", d.deploymentStatusAvailable),
    AGE,
    WIDE_CONTAINERS,
    WIDE_IMAGES,
    col("Selector", "string", d.deploymentSpecSelector, { priority: 1 }),
  ],
  (obj, now) => {
    const status = rec(obj["status"]);
    const desired = optNum(at(obj, "spec", "replicas")) ?? 1;
    const [names, images] = containerCells(at(obj, "spec", "template", "spec", "containers"));
    return [
      nameOf(obj),
      `${num(status["readyReplicas"])}/${desired}`,
      num(status["updatedReplicas"]),
      num(status["availableReplicas"]),
      ageOf(obj, now),
      names,
      images,
      labelSelectorString(at(obj, "spec", "selector")) ?? "<invalid>",
    ];
  },
);

export const statefulSetPrinter: Printer = printer(
  [NAME, col("Ready", "string", "Number of the pod with ready state"), AGE, WIDE_CONTAINERS, WIDE_IMAGES],
  (obj, now) => {
    const desired = optNum(at(obj, "spec", "replicas")) ?? 1;
    const [names, images] = containerCells(at(obj, "spec", "template", "spec", "containers"));
    return [nameOf(obj), `${num(at(obj, "status", "readyReplicas"))}/${desired}`, ageOf(obj, now), names, images];
  },
);

/** formatResourceName with kind: "statefulset.apps/web", "daemonset.apps/x", "pod/y". */
function controllerName(ownerReferences: unknown): string {
  const ref = arr(ownerReferences).find((r) => at(r, "controller") === true);
  if (ref === undefined) return "<none>";
  const { group } = parseApiVersion(str(at(ref, "apiVersion")));
  const kind = str(at(ref, "kind"));
  const name = str(at(ref, "name"));
  if (kind === "" && group === "") return name;
  const groupKind = group === "" ? kind : `${kind}.${group}`;
  return `${groupKind.toLowerCase()}/${name}`;
}

export const controllerRevisionPrinter: Printer = printer(
  [
    NAME,
    col("Controller", "string", "Controller of the object"),
    col("Revision", "string", d.controllerRevisionRevision),
    AGE,
  ],
  (obj, now) => [nameOf(obj), controllerName(obj.metadata?.ownerReferences), num(obj["revision"]), ageOf(obj, now)],
);

// ---------------------------------------------------------------------------------------------
// batch

function jobCondition(conditions: unknown, type: string): boolean {
  const c = arr(conditions).find((x) => str(at(x, "type")) === type);
  return c !== undefined && str(at(c, "status")) === "True";
}

export function jobStatus(job: Record<string, unknown>): string {
  const conditions = at(job, "status", "conditions");
  if (jobCondition(conditions, "Complete")) return "Complete";
  if (jobCondition(conditions, "Failed")) return "Failed";
  if (isRecord(job["metadata"]) && typeof job["metadata"]["deletionTimestamp"] === "string") return "Terminating";
  if (jobCondition(conditions, "Suspended")) return "Suspended";
  if (jobCondition(conditions, "FailureTarget")) return "FailureTarget";
  return "Running";
}

export const jobPrinter: Printer = printer(
  [
    NAME,
    col("Status", "string", "Status of the job."),
    col("Completions", "string", d.jobStatusSucceeded),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    WIDE_CONTAINERS,
    WIDE_IMAGES,
    col("Selector", "string", d.jobSpecSelector, { priority: 1 }),
  ],
  (job, now) => {
    const spec = rec(job["spec"]);
    const status = rec(job["status"]);
    const succeeded = num(status["succeeded"]);
    const completionsSpec = optNum(spec["completions"]);
    let completions: string;
    if (completionsSpec !== undefined) {
      completions = `${succeeded}/${completionsSpec}`;
    } else {
      const parallelism = num(spec["parallelism"]);
      completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
    }
    let duration = "";
    const start = parseTime(status["startTime"]);
    if (start !== undefined) duration = humanDuration((parseTime(status["completionTime"]) ?? now.getTime()) - start);
    const [names, images] = containerCells(at(spec, "template", "spec", "containers"));
    return [
      nameOf(job),
      jobStatus(job),
      completions,
      duration,
      ageOf(job, now),
      names,
      images,
      formatLabelSelector(spec["selector"]),
    ];
  },
);

export const cronJobPrinter: Printer = printer(
  [
    NAME,
    col("Schedule", "string", d.cronJobSpecSchedule),
    col("Timezone", "string", d.cronJobSpecTimeZone),
    col("Suspend", "boolean", d.cronJobSpecSuspend),
    col("Active", "integer", d.cronJobStatusActive),
    col("Last Schedule", "string", d.cronJobStatusLastScheduleTime),
    AGE,
    WIDE_CONTAINERS,
    WIDE_IMAGES,
    col("Selector", "string", d.jobSpecSelector, { priority: 1 }),
  ],
  (cj, now) => {
    const spec = rec(cj["spec"]);
    const status = rec(cj["status"]);
    const last = typeof status["lastScheduleTime"] === "string" ? since(status["lastScheduleTime"], now) : "<none>";
    const [names, images] = containerCells(at(spec, "jobTemplate", "spec", "template", "spec", "containers"));
    return [
      nameOf(cj),
      str(spec["schedule"]),
      optStr(spec["timeZone"]) ?? "<none>",
      boolPtr(spec["suspend"]),
      arr(status["active"]).length,
      last,
      ageOf(cj, now),
      names,
      images,
      formatLabelSelector(at(spec, "jobTemplate", "spec", "selector")),
    ];
  },
);

// ---------------------------------------------------------------------------------------------
// autoscaling and policy

/** A *resource.Quantity: "<nil>" when absent, else its canonical form. */
function qptr(v: unknown): string {
  return v === undefined || v === null ? "<nil>" : formatQuantity(v);
}

/** formatHPAMetrics: "cpu: 20%/50%", "<unknown>/500m (avg)", at most two then " + N more...". */
export function formatHPAMetrics(specs: unknown, statuses: unknown): string {
  const specList = arr(specs);
  const statusList = arr(statuses);
  if (specList.length === 0) return "<none>";
  const list: string[] = [];
  const max = 2;
  specList.forEach((spec, i) => {
    const st = statusList[i];
    switch (str(at(spec, "type"))) {
      case "External": {
        const target = rec(at(spec, "external", "target"));
        const cur = at(st, "external");
        if (target["averageValue"] !== undefined && target["averageValue"] !== null) {
          const current = isRecord(cur) && at(cur, "current", "averageValue") != null;
          list.push(
            `${current ? qptr(at(cur, "current", "averageValue")) : "<unknown>"}/${qptr(target["averageValue"])} (avg)`,
          );
        } else {
          const current = isRecord(cur) ? qptr(at(cur, "current", "value")) : "<unknown>";
          list.push(`${current}/${qptr(target["value"])}`);
        }
        break;
      }
      case "Pods": {
        const cur = at(st, "pods");
        const current = isRecord(cur) ? qptr(at(cur, "current", "averageValue")) : "<unknown>";
        list.push(`${current}/${qptr(at(spec, "pods", "target", "averageValue"))}`);
        break;
      }
      case "Object": {
        const target = rec(at(spec, "object", "target"));
        const cur = at(st, "object");
        if (target["averageValue"] !== undefined && target["averageValue"] !== null) {
          const current = isRecord(cur) && at(cur, "current", "averageValue") != null;
          list.push(
            `${current ? qptr(at(cur, "current", "averageValue")) : "<unknown>"}/${qptr(target["averageValue"])} (avg)`,
          );
        } else {
          const current = isRecord(cur) ? qptr(at(cur, "current", "value")) : "<unknown>";
          list.push(`${current}/${qptr(target["value"])}`);
        }
        break;
      }
      case "Resource":
      case "ContainerResource": {
        const key = str(at(spec, "type")) === "Resource" ? "resource" : "containerResource";
        const name = str(at(spec, key, "name"));
        const target = rec(at(spec, key, "target"));
        const cur = at(st, key);
        if (target["averageValue"] !== undefined && target["averageValue"] !== null) {
          const current = isRecord(cur) ? qptr(at(cur, "current", "averageValue")) : "<unknown>";
          list.push(`${name}: ${current}/${qptr(target["averageValue"])}`);
        } else {
          const util = optNum(at(cur, "current", "averageUtilization"));
          const current = isRecord(cur) && util !== undefined ? `${util}%` : "<unknown>";
          const targetUtil = optNum(target["averageUtilization"]);
          list.push(`${name}: ${current}/${targetUtil !== undefined ? `${targetUtil}%` : "<auto>"}`);
        }
        break;
      }
      default:
        list.push("<unknown type>");
    }
  });
  const count = list.length;
  if (count > max) return `${list.slice(0, max).join(", ")} + ${count - max} more...`;
  return list.join(", ");
}

export const horizontalPodAutoscalerPrinter: Printer = printer(
  [
    NAME,
    col("Reference", "string", d.hpaSpecScaleTargetRef),
    col("Targets", "string", d.hpaSpecMetrics),
    col("MinPods", "string", d.hpaSpecMinReplicas),
    col("MaxPods", "string", d.hpaSpecMaxReplicas),
    col("Replicas", "string", d.hpaStatusCurrentReplicas),
    AGE,
  ],
  (hpa, now) => {
    const spec = rec(hpa["spec"]);
    const min = optNum(spec["minReplicas"]);
    return [
      nameOf(hpa),
      `${str(at(spec, "scaleTargetRef", "kind"))}/${str(at(spec, "scaleTargetRef", "name"))}`,
      formatHPAMetrics(spec["metrics"], at(hpa, "status", "currentMetrics")),
      min !== undefined ? String(min) : "<unset>",
      num(spec["maxReplicas"]),
      num(at(hpa, "status", "currentReplicas")),
      ageOf(hpa, now),
    ];
  },
);

export const podDisruptionBudgetPrinter: Printer = printer(
  [
    NAME,
    col("Min Available", "string", "The minimum number of pods that must be available."),
    col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    AGE,
  ],
  (pdb, now) => {
    const spec = rec(pdb["spec"]);
    const min = spec["minAvailable"];
    const max = spec["maxUnavailable"];
    return [
      nameOf(pdb),
      min === undefined || min === null ? "N/A" : intOrString(min),
      max === undefined || max === null ? "N/A" : intOrString(max),
      num(at(pdb, "status", "disruptionsAllowed")),
      ageOf(pdb, now),
    ];
  },
);
