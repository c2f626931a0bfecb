/**
 * Pod binding (pods/binding and the bindings resource): sets spec.nodeName once, as the
 * registry's own write (no update validation), with the PodScheduled condition.
 */
import { isRecord, type KObject, rfc3339 } from "../api/types.js";
import type { ServedVersion } from "./catalog.js";
import { ApiError, conflict } from "./errors.js";
import type { Registry } from "./rest.js";

export async function bindPod(
  registry: Registry,
  sv: ServedVersion,
  namespace: string | undefined,
  name: string,
  binding: KObject,
  dryRun: boolean,
): Promise<void> {
  const target = isRecord(binding["target"]) ? binding["target"] : {};
  const node = typeof target["name"] === "string" ? target["name"] : "";
  if (node === "") {
    throw new ApiError(422, "Invalid", `Binding "${name}" is invalid: target.name: Required value`);
  }
  await registry.update(
    sv,
    namespace,
    name,
    "binding",
    (cur) => {
      const spec = isRecord(cur["spec"]) ? cur["spec"] : {};
      if (cur.metadata.deletionTimestamp) {
        throw conflict("", "pods", name, `pod ${name} is being deleted, cannot be assigned to a host`);
      }
      if (spec["nodeName"]) {
        throw conflict("", "pods", name, `pod ${name} is already assigned to node "${String(spec["nodeName"])}"`);
      }
      spec["nodeName"] = node;
      cur["spec"] = spec;
      const status = isRecord(cur["status"]) ? cur["status"] : {};
      const conditions = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
      const others = conditions.filter((c) => c["type"] !== "PodScheduled");
      status["conditions"] = [
        ...others,
        {
          type: "PodScheduled",
          status: "True",
          lastProbeTime: null,
          lastTransitionTime: rfc3339(),
        },
      ];
      return cur;
    },
    { dryRun, retry: true, skipAdmission: true },
  );
}
