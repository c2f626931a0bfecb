/**
 * The pods/eviction subresource as upstream's: a pod guarded by a PodDisruptionBudget is only
 * deleted while the budget allows a disruption (which the eviction then uses up, noting the pod in
 * status.disruptedPods for the disruption controller); otherwise 429. A pod that is not Ready goes
 * without using the budget when the budget is met (IfHealthyBudget, the default) or always
 * (unhealthyPodEvictionPolicy AlwaysAllow). Before the delete, the pod gets the DisruptionTarget
 * condition (EvictionByEvictionAPI).
 */

import { allowedCondition, isPodReady, setCondition } from "../api/pdb.js";
import { labelSelectorFromObject } from "../api/selectors/index.js";
import { isRecord, type KObject, rfc3339 } from "../api/types.js";
import type { Catalog } from "./catalog.js";
import { ApiError, forbidden, internal } from "./errors.js";
import type { DeleteOptions, Registry } from "./rest.js";

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooManyRequests(message: string): ApiError {
  return new ApiError(429, "TooManyRequests", VIOLATION, {
    causes: [{ reason: "DisruptionBudget", message }],
  });
}

/** Pods that are done, not yet running, or already going are evicted without a budget check. */
function canIgnoreBudget(pod: KObject): boolean {
  const status = isRecord(pod["status"]) ? pod["status"] : {};
  const phase = status["phase"];
  return (
    pod.metadata.deletionTimestamp !== undefined || phase === "Succeeded" || phase === "Failed" || phase === "Pending"
  );
}

export async function evict(
  catalog: Catalog,
  registry: Registry,
  namespace: string,
  name: string,
  del: DeleteOptions,
): Promise<void> {
  const pods = catalog.lookup("", "v1", "pods")!;
  const pod = (await registry.get(pods, namespace, name)).obj;
  if (!canIgnoreBudget(pod)) {
    const pdbs = catalog.lookup("policy", "v1", "poddisruptionbudgets")!;
    const labels = pod.metadata.labels ?? {};
    const matching = (await registry.list(pdbs, { namespace, resourceVersion: "0" })).items.filter((c) => {
      const spec = isRecord(c.obj["spec"]) ? c.obj["spec"] : {};
      return (
        spec["selector"] !== undefined &&
        spec["selector"] !== null &&
        labelSelectorFromObject(spec["selector"]).matches(labels)
      );
    });
    if (matching.length > 1) {
      throw internal(
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    }
    const guard = matching[0];
    const guardSpec = guard && isRecord(guard.obj["spec"]) ? guard.obj["spec"] : {};
    const guardStatus = guard && isRecord(guard.obj["status"]) ? guard.obj["status"] : {};
    const num = (v: unknown) => (typeof v === "number" ? v : 0);
    const unhealthyMayGo =
      guard !== undefined &&
      !isPodReady(pod) &&
      (guardSpec["unhealthyPodEvictionPolicy"] === "AlwaysAllow" ||
        (num(guardStatus["currentHealthy"]) >= num(guardStatus["desiredHealthy"]) &&
          num(guardStatus["desiredHealthy"]) > 0));
    if (guard && !unhealthyMayGo) {
      const pdbName = guard.obj.metadata.name ?? "";
      await registry.update(
        pdbs,
        namespace,
        pdbName,
        "status",
        (cur) => {
          const status = isRecord(cur["status"]) ? cur["status"] : {};
          const observed = typeof status["observedGeneration"] === "number" ? status["observedGeneration"] : 0;
          if (observed < (cur.metadata.generation ?? 1)) {
            throw tooManyRequests(`The disruption budget ${pdbName} is still being processed by the server.`);
          }
          const allowed = typeof status["disruptionsAllowed"] === "number" ? status["disruptionsAllowed"] : 0;
          if (allowed < 0)
            throw forbidden("policy", "poddisruptionbudgets", pdbName, "pdb disruptions allowed is negative");
          const disruptedNow = isRecord(status["disruptedPods"]) ? status["disruptedPods"] : {};
          if (Object.keys(disruptedNow).length > MAX_DISRUPTED_PODS) {
            throw forbidden(
              "policy",
              "poddisruptionbudgets",
              pdbName,
              "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
            );
          }
          if (allowed === 0) {
            throw tooManyRequests(
              `The disruption budget ${pdbName} needs ${String(status["desiredHealthy"] ?? 0)} healthy pods and has ${String(status["currentHealthy"] ?? 0)} currently`,
            );
          }
          const disrupted = isRecord(status["disruptedPods"]) ? status["disruptedPods"] : {};
          const conditions = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
          cur["status"] = {
            ...status,
            disruptionsAllowed: allowed - 1,
            disruptedPods: { ...disrupted, [name]: rfc3339() },
            // the budget is used up: say so now, as upstream does, not only at the controller's next sync
            ...(allowed - 1 === 0
              ? {
                  conditions: setCondition(
                    conditions,
                    allowedCondition(
                      0,
                      typeof status["observedGeneration"] === "number" ? status["observedGeneration"] : 0,
                    ),
                    Date.now(),
                  ),
                }
              : {}),
          };
          delete cur.metadata.resourceVersion;
          return cur;
        },
        { dryRun: del.dryRun, retry: true },
      );
    }
  }
  if (!del.dryRun) {
    await registry
      .update(
        pods,
        namespace,
        name,
        "status",
        (cur) => {
          const status = isRecord(cur["status"]) ? cur["status"] : {};
          const conds = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
          const i = conds.findIndex((c) => c["type"] === "DisruptionTarget");
          const cond = {
            type: "DisruptionTarget",
            status: "True",
            lastProbeTime: null,
            lastTransitionTime: i >= 0 && conds[i]!["status"] === "True" ? conds[i]!["lastTransitionTime"] : rfc3339(),
            reason: "EvictionByEvictionAPI",
            message: "Eviction API: evicting",
          };
          status["conditions"] = i >= 0 ? conds.map((c, j) => (j === i ? cond : c)) : [...conds, cond];
          cur["status"] = status;
          delete cur.metadata.resourceVersion;
          return cur;
        },
        { dryRun: false, retry: true },
      )
      .catch((err: unknown) => {
        // the pod went meanwhile: the delete below says so
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      });
  }
  await registry.delete(pods, namespace, name, del);
}

/** Upstream's MaxDisruptedPodSize: evictions the disruption controller has not confirmed yet. */
const MAX_DISRUPTED_PODS = 2000;
