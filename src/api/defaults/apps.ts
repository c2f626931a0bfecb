/** apps/v1 defaults (kubernetes pkg/apis/apps/v1/defaults.go); every template gets PodSpec defaults. */
import { child, defaultPtr, defaultString, ensure, items, type Obj } from "./fields.js";
import { defaultPodTemplate } from "./pod.js";
import { defaultPersistentVolumeClaim } from "./volume.js";

export function defaultDeployment(d: Obj): void {
  const spec = ensure(d, "spec");
  if (!spec) return;
  defaultPtr(spec, "replicas", 1);
  const strategy = ensure(spec, "strategy");
  if (strategy) {
    defaultString(strategy, "type", "RollingUpdate");
    if (strategy["type"] === "RollingUpdate") {
      const ru = ensure(strategy, "rollingUpdate");
      if (ru) {
        defaultPtr(ru, "maxUnavailable", "25%");
        defaultPtr(ru, "maxSurge", "25%");
      }
    }
  }
  defaultPtr(spec, "revisionHistoryLimit", 10);
  defaultPtr(spec, "progressDeadlineSeconds", 600);
  defaultPodTemplate(child(spec, "template"));
}

export function defaultDaemonSet(ds: Obj): void {
  const spec = ensure(ds, "spec");
  if (!spec) return;
  const strategy = ensure(spec, "updateStrategy");
  if (strategy) {
    defaultString(strategy, "type", "RollingUpdate");
    if (strategy["type"] === "RollingUpdate") {
      const ru = ensure(strategy, "rollingUpdate");
      if (ru) {
        defaultPtr(ru, "maxUnavailable", 1);
        defaultPtr(ru, "maxSurge", 0);
      }
    }
  }
  defaultPtr(spec, "revisionHistoryLimit", 10);
  defaultPodTemplate(child(spec, "template"));
}

export function defaultStatefulSet(ss: Obj): void {
  const spec = ensure(ss, "spec");
  if (!spec) return;
  defaultString(spec, "podManagementPolicy", "OrderedReady");
  const strategy = ensure(spec, "updateStrategy");
  if (strategy) {
    // Upstream allocates rollingUpdate only when it also defaults the type.
    if (strategy["type"] === undefined || strategy["type"] === null || strategy["type"] === "") {
      strategy["type"] = "RollingUpdate";
      ensure(strategy, "rollingUpdate");
    }
    const ru = child(strategy, "rollingUpdate");
    if (strategy["type"] === "RollingUpdate" && ru) defaultPtr(ru, "partition", 0);
  }
  const retention = ensure(spec, "persistentVolumeClaimRetentionPolicy");
  if (retention) {
    defaultString(retention, "whenDeleted", "Retain");
    defaultString(retention, "whenScaled", "Retain");
  }
  defaultPtr(spec, "replicas", 1);
  defaultPtr(spec, "revisionHistoryLimit", 10);
  defaultPodTemplate(child(spec, "template"));
  for (const claim of items(spec, "volumeClaimTemplates")) {
    // Not a SetDefaults_ function: upstream's apps/v1 conversion writes the claim templates' TypeMeta,
    // so every StatefulSet read back shows them (tools like Argo CD diff against it).
    claim["apiVersion"] = "v1";
    claim["kind"] = "PersistentVolumeClaim";
    defaultPersistentVolumeClaim(claim);
  }
}

export function defaultReplicaSet(rs: Obj): void {
  const spec = ensure(rs, "spec");
  if (!spec) return;
  defaultPtr(spec, "replicas", 1);
  defaultPodTemplate(child(spec, "template"));
}
