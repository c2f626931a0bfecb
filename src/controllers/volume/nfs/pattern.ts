/**
 * Where an NFS-subdir volume lives inside the export (upstream nfs-subdir-external-provisioner):
 * `<namespace>-<claim>-<pv>` by default, else the class's `pathPattern` with `${.PVC.namespace}`,
 * `${.PVC.name}`, `${.PVC.labels.<key>}` and `${.PVC.annotations.<key>}` filled in (what is
 * missing is ""). The result is checked before anything touches the disk: claim labels and
 * annotations are user input, and a path that is absolute, climbs with `..`, holds a NUL byte or
 * names the export root itself is refused rather than cleaned into something else.
 */
import type { KObject } from "../../../api/types.js";
import { ProvisioningError } from "../provisioner/index.js";

/** upstream's `\${\.PVC\.((labels|annotations)\.(.*?)|.*?)}` */
const PLACEHOLDER = /\$\{\.PVC\.((labels|annotations)\.(.*?)|.*?)\}/g;

/**
 * The pattern with the claim's fields filled in, in one pass (a value that itself looks like a
 * placeholder stays as it is).
 */
export function expandPathPattern(pattern: string, claim: KObject): string {
  const data: Record<string, string | undefined> = {
    name: claim.metadata.name,
    namespace: claim.metadata.namespace,
  };
  return pattern.replace(PLACEHOLDER, (_all, field: string, kind: string | undefined, key: string | undefined) => {
    if (kind === "labels") return claim.metadata.labels?.[key ?? ""] ?? "";
    if (kind === "annotations") return claim.metadata.annotations?.[key ?? ""] ?? "";
    return Object.hasOwn(data, field) ? (data[field] ?? "") : "";
  });
}

/**
 * The components of a path relative to the export, cleaned as Go's filepath.Join cleans (empty
 * and `.` components dropped: `default/` is `default`); `..`, a NUL byte, or nothing left are refused.
 */
export function subdirSegments(rel: string): string[] {
  if (rel.includes("\0")) throw new ProvisioningError(`path ${JSON.stringify(rel)} holds a NUL byte`, "final");
  const segments = rel.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw new ProvisioningError(`path ${JSON.stringify(rel)} climbs out of the export with ".."`, "final");
  }
  if (segments.length === 0) {
    throw new ProvisioningError(`path ${JSON.stringify(rel)} names the export root itself`, "final");
  }
  return segments;
}

/**
 * The directory of a claim's volume inside the export, as components: the class's pathPattern
 * when it expands to something, else `<namespace>-<claim>-<pv>`.
 */
export function volumeSubdir(claim: KObject, pvName: string, parameters: Record<string, unknown>): string[] {
  const pattern = parameters["pathPattern"];
  if (typeof pattern === "string") {
    const custom = expandPathPattern(pattern, claim);
    if (custom !== "") {
      if (custom.startsWith("/")) {
        throw new ProvisioningError(
          `path ${JSON.stringify(custom)} is absolute: volumes live inside the export`,
          "final",
        );
      }
      return subdirSegments(custom);
    }
  }
  return subdirSegments([claim.metadata.namespace ?? "", claim.metadata.name ?? "", pvName].join("-"));
}
