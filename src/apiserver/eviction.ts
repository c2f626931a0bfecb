/**
 * The pods/eviction subresource as upstream's: a pod guarded by a PodDisruptionBudget is only
 * deleted while the budget allows a disruption (which the eviction then uses up); otherwise 429.
 */
import { labelSelectorFromObject } from "../api/selectors/index.js";
import { isRecord, type KObject, rfc3339 } from "../api/types.js";
import type { Catalog } from "./catalog.js";
import { ApiError, internal } from "./errors.js";
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
    if (guard) {
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
          if (allowed <= 0) {
            throw tooManyRequests(
              `The disruption budget ${pdbName} needs ${String(status["desiredHealthy"] ?? 0)} healthy pods and has ${String(status["currentHealthy"] ?? 0)} currently`,
            );
          }
          const disrupted = isRecord(status["disruptedPods"]) ? status["disruptedPods"] : {};
          cur["status"] = {
            ...status,
            disruptionsAllowed: allowed - 1,
            disruptedPods: { ...disrupted, [name]: rfc3339() },
          };
          delete cur.metadata.resourceVersion;
          return cur;
        },
        { dryRun: del.dryRun, retry: true },
      );
    }
  }
  await registry.delete(pods, namespace, name, del);
}
