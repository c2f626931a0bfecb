/**
 * Conversion between served versions and storage versions, for the versions that differ from
 * their storage version (removed upstream APIs the seeds use; autoscaling/v1; events.k8s.io).
 * Each converter takes a deep copy it may change and returns the converted object.
 */
import { ensureRecord, isRecord, type KObject } from "../types.js";

export interface Converter {
  /** served version → storage version (includes the defaulting the old version applied). */
  toStorage(obj: KObject): KObject;
  /** storage version → served version. */
  fromStorage(obj: KObject): KObject;
}

type Obj = Record<string, unknown>;
const rec = ensureRecord;

/** Old apps/extensions versions defaulted a missing selector from the template's labels. */
function defaultSelectorFromTemplate(obj: KObject): void {
  const spec = rec(obj, "spec");
  if (spec["selector"] !== undefined) return;
  const template = spec["template"];
  if (!isRecord(template) || !isRecord(template["metadata"])) return;
  const labels = template["metadata"]["labels"];
  if (isRecord(labels) && Object.keys(labels).length > 0) spec["selector"] = { matchLabels: { ...labels } };
}

function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined) o[key] = value;
}

/** apps/v1beta1 + extensions/v1beta1 defaults that differ from apps/v1 (upstream defaults.go of those versions). */
function legacyWorkloadDefaults(kind: string, group: string, version: string, obj: KObject): void {
  const spec = rec(obj, "spec");
  defaultSelectorFromTemplate(obj);
  const MAX_INT32 = 2147483647;
  if (kind === "DaemonSet" && group === "extensions") {
    setDefault(spec, "updateStrategy", { type: "OnDelete" });
    setDefault(spec, "revisionHistoryLimit", 10);
  }
  if (kind === "Deployment" && group === "extensions") {
    setDefault(spec, "revisionHistoryLimit", MAX_INT32);
    setDefault(spec, "progressDeadlineSeconds", MAX_INT32);
    const strategy = spec["strategy"];
    if (strategy === undefined) {
      spec["strategy"] = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } };
    } else if (isRecord(strategy) && (strategy["type"] ?? "RollingUpdate") === "RollingUpdate") {
      const ru = rec(strategy, "rollingUpdate");
      setDefault(ru, "maxUnavailable", 1);
      setDefault(ru, "maxSurge", 1);
    }
    delete spec["rollbackTo"];
  }
  if (kind === "Deployment" && group === "apps" && version === "v1beta1") {
    setDefault(spec, "revisionHistoryLimit", 2);
    setDefault(spec, "progressDeadlineSeconds", 600);
    delete spec["rollbackTo"];
  }
  if (kind === "StatefulSet" && group === "apps" && version === "v1beta1") {
    setDefault(spec, "updateStrategy", { type: "OnDelete" });
    setDefault(spec, "podManagementPolicy", "OrderedReady");
    setDefault(spec, "revisionHistoryLimit", 10);
  }
}

function renameApiVersion(obj: KObject, apiVersion: string): KObject {
  obj.apiVersion = apiVersion;
  return obj;
}

/** Same-shape versions: only apiVersion changes, plus the old version's defaults on the way in. */
function sameShape(kind: string, group: string, version: string, storage: string): Converter {
  const served = group === "" ? version : `${group}/${version}`;
  return {
    toStorage(obj) {
      if (group === "extensions" || version === "v1beta1" || version === "v1beta2") {
        legacyWorkloadDefaults(kind, group, version, obj);
      }
      return renameApiVersion(obj, storage);
    },
    fromStorage(obj) {
      return renameApiVersion(obj, served);
    },
  };
}

// autoscaling/v1 <-> v2 -----------------------------------------------------------------------

const HPA_ANNOTATIONS = {
  metrics: "autoscaling.alpha.kubernetes.io/metrics",
  conditions: "autoscaling.alpha.kubernetes.io/conditions",
  currentMetrics: "autoscaling.alpha.kubernetes.io/current-metrics",
  behavior: "autoscaling.alpha.kubernetes.io/behavior",
};

function hpaV1ToV2(obj: KObject): KObject {
  const spec = rec(obj, "spec");
  const metrics: unknown[] = [];
  const annotations = obj.metadata.annotations ?? {};
  const extra = annotations[HPA_ANNOTATIONS.metrics];
  if (extra !== undefined) {
    try {
      const parsed: unknown = JSON.parse(extra);
      if (Array.isArray(parsed)) metrics.push(...parsed);
    } catch {
      // an unparsable annotation is ignored, as upstream does
    }
  }
  const target = spec["targetCPUUtilizationPercentage"];
  if (typeof target === "number") {
    metrics.push({
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: target } },
    });
  }
  delete spec["targetCPUUtilizationPercentage"];
  if (metrics.length > 0) spec["metrics"] = metrics;
  const behavior = annotations[HPA_ANNOTATIONS.behavior];
  if (behavior !== undefined) {
    try {
      spec["behavior"] = JSON.parse(behavior);
    } catch {
      // ignored
    }
  }
  if (obj.metadata.annotations) {
    for (const a of Object.values(HPA_ANNOTATIONS)) delete obj.metadata.annotations[a];
    if (Object.keys(obj.metadata.annotations).length === 0) delete obj.metadata.annotations;
  }
  const status = obj["status"];
  if (isRecord(status)) {
    const cur = status["currentCPUUtilizationPercentage"];
    delete status["currentCPUUtilizationPercentage"];
    if (typeof cur === "number") {
      status["currentMetrics"] = [
        { type: "Resource", resource: { name: "cpu", current: { averageUtilization: cur } } },
      ];
    }
  }
  obj.apiVersion = "autoscaling/v2";
  return obj;
}

function hpaV2ToV1(obj: KObject): KObject {
  const spec = rec(obj, "spec");
  const metrics = Array.isArray(spec["metrics"]) ? (spec["metrics"] as unknown[]) : [];
  const other: unknown[] = [];
  for (const m of metrics) {
    if (
      isRecord(m) &&
      m["type"] === "Resource" &&
      isRecord(m["resource"]) &&
      m["resource"]["name"] === "cpu" &&
      isRecord(m["resource"]["target"]) &&
      m["resource"]["target"]["type"] === "Utilization" &&
      spec["targetCPUUtilizationPercentage"] === undefined
    ) {
      spec["targetCPUUtilizationPercentage"] = m["resource"]["target"]["averageUtilization"];
    } else {
      other.push(m);
    }
  }
  delete spec["metrics"];
  const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}) };
  if (other.length > 0) annotations[HPA_ANNOTATIONS.metrics] = JSON.stringify(other);
  if (spec["behavior"] !== undefined) {
    annotations[HPA_ANNOTATIONS.behavior] = JSON.stringify(spec["behavior"]);
    delete spec["behavior"];
  }
  const status = obj["status"];
  if (isRecord(status)) {
    const current = Array.isArray(status["currentMetrics"]) ? (status["currentMetrics"] as unknown[]) : [];
    for (const m of current) {
      if (
        isRecord(m) &&
        isRecord(m["resource"]) &&
        m["resource"]["name"] === "cpu" &&
        isRecord(m["resource"]["current"])
      ) {
        status["currentCPUUtilizationPercentage"] = m["resource"]["current"]["averageUtilization"];
      }
    }
    if (Array.isArray(status["conditions"])) {
      annotations[HPA_ANNOTATIONS.conditions] = JSON.stringify(status["conditions"]);
    }
    delete status["currentMetrics"];
    delete status["conditions"];
  }
  if (Object.keys(annotations).length > 0) obj.metadata.annotations = annotations;
  obj.apiVersion = "autoscaling/v1";
  return obj;
}

// events.k8s.io/v1 <-> core v1 Event ------------------------------------------------------------

function eventsV1ToCore(obj: KObject): KObject {
  const out: KObject = { apiVersion: "v1", kind: "Event", metadata: obj.metadata };
  const map: Array<[string, string]> = [
    ["regarding", "involvedObject"],
    ["note", "message"],
    ["deprecatedCount", "count"],
    ["deprecatedFirstTimestamp", "firstTimestamp"],
    ["deprecatedLastTimestamp", "lastTimestamp"],
    ["reportingController", "reportingComponent"],
    ["reportingInstance", "reportingInstance"],
    ["eventTime", "eventTime"],
    ["series", "series"],
    ["action", "action"],
    ["reason", "reason"],
    ["related", "related"],
    ["type", "type"],
  ];
  for (const [from, to] of map) if (obj[from] !== undefined) out[to] = obj[from];
  const src = obj["deprecatedSource"];
  if (isRecord(src)) out["source"] = src;
  if (out["involvedObject"] === undefined) out["involvedObject"] = {};
  return out;
}

function coreToEventsV1(obj: KObject): KObject {
  const out: KObject = { apiVersion: "events.k8s.io/v1", kind: "Event", metadata: obj.metadata };
  const map: Array<[string, string]> = [
    ["involvedObject", "regarding"],
    ["message", "note"],
    ["count", "deprecatedCount"],
    ["firstTimestamp", "deprecatedFirstTimestamp"],
    ["lastTimestamp", "deprecatedLastTimestamp"],
    ["reportingComponent", "reportingController"],
    ["reportingInstance", "reportingInstance"],
    ["eventTime", "eventTime"],
    ["series", "series"],
    ["action", "action"],
    ["reason", "reason"],
    ["related", "related"],
    ["type", "type"],
    ["source", "deprecatedSource"],
  ];
  for (const [from, to] of map) if (obj[from] !== undefined) out[to] = obj[from];
  return out;
}

/**
 * Converters keyed by `<group>/<version>/<Kind>` of the served version. A served version without
 * an entry has the storage version's shape (apiVersion is the only difference).
 */
export const legacyConversions: Record<string, Converter> = {
  "autoscaling/v1/HorizontalPodAutoscaler": { toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 },
  "events.k8s.io/v1/Event": { toStorage: eventsV1ToCore, fromStorage: coreToEventsV1 },
};

/** The converter for a served version (identity-with-rename when shapes match). */
export function converterFor(group: string, version: string, kind: string, storageApiVersion: string): Converter {
  const key = `${group}/${version}/${kind}`;
  const special = legacyConversions[key];
  if (special) return special;
  return sameShape(kind, group, version, storageApiVersion);
}
