/** autoscaling/v2 HorizontalPodAutoscaler defaults (kubernetes pkg/apis/autoscaling/v2/defaults.go). */
import { child, defaultPtr, ensure, isEmpty, isNil, type Obj } from "./fields.js";

/** Target CPU utilization when an HPA names no metrics. */
export const DEFAULT_CPU_UTILIZATION = 80;

function scaleUpRules(): Obj {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ],
  };
}

/** Scale-down keeps stabilizationWindowSeconds unset: the controller's command-line flag decides it. */
function scaleDownRules(): Obj {
  return { selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] };
}

/** Fills unset fields of user scaling rules from the defaults (upstream copyHPAScalingRules). */
function mergeRules(from: unknown, defaults: Obj): Obj {
  const user = child({ v: from }, "v");
  if (!user) return defaults;
  for (const key of ["selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"]) {
    if (!isNil(user[key])) defaults[key] = user[key];
  }
  return defaults;
}

export function defaultHorizontalPodAutoscaler(hpa: Obj): void {
  const spec = ensure(hpa, "spec");
  if (!spec) return;
  defaultPtr(spec, "minReplicas", 1);
  if (isEmpty(spec["metrics"])) {
    spec["metrics"] = [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: DEFAULT_CPU_UTILIZATION } },
      },
    ];
  }
  const behavior = child(spec, "behavior");
  if (behavior) {
    behavior["scaleUp"] = mergeRules(behavior["scaleUp"], scaleUpRules());
    behavior["scaleDown"] = mergeRules(behavior["scaleDown"], scaleDownRules());
  }
}
