/**
 * Mount points of other volumes nested below where a volume is mounted (upstream
 * pkg/volume/util/nested_volumes.go): a read-only volume (configMap, secret, ...) mounted at
 * /etc/app with another volume at /etc/app/extra needs an `extra` directory in it, which the
 * runtime cannot create through the read-only mount, so the kubelet creates it at set-up.
 */
import { posix } from "node:path";
import { isRecord, type KObject } from "../../api/types.js";

function containers(pod: KObject): Record<string, unknown>[] {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const list = (v: unknown) => (Array.isArray(v) ? v.filter(isRecord) : []);
  return [...list(spec["initContainers"]), ...list(spec["containers"]), ...list(spec["ephemeralContainers"])];
}

/** Relative directories to create in volume `name` (only the first level of nesting). */
export function nestedMountpoints(name: string, pod: KObject): string[] {
  const out: string[] = [];
  for (const c of containers(pod)) {
    const mounts = Array.isArray(c["volumeMounts"]) ? c["volumeMounts"].filter(isRecord) : [];
    const all = mounts.map((m) => posix.normalize(String(m["mountPath"] ?? ""))).sort();
    const mine = mounts
      .filter((m) => m["name"] === name && (m["subPath"] ?? "") === "" && (m["subPathExpr"] ?? "") === "")
      .map((m) => posix.normalize(String(m["mountPath"] ?? "")));
    for (const mp of mine) {
      if (mp.startsWith("../")) throw new Error(`invalid container mount point ${mp}`);
      const prefix = mp.endsWith("/") ? mp : `${mp}/`;
      let prev = "";
      for (const other of all) {
        if (!other.startsWith(prefix)) continue;
        if (prev !== "" && other.startsWith(prev)) continue;
        prev = `${other}/`;
        const rel = other.slice(prefix.length).replace(/\/+$/, "");
        if (rel !== "" && !rel.split("/").includes("..")) out.push(rel);
      }
    }
  }
  return [...new Set(out)];
}
