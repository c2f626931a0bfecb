/**
 * The /openapi/v2 and /openapi/v3 documents, trimmed from the official 1.36 spec (data/openapi/swagger.json)
 * to the resources this server serves. Nothing is read or parsed until a document is first asked for; the
 * serialized bytes are then cached (and the parsed spec dropped).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dataPath } from "../../util/paths.js";
import type { ServedResource, SpecModel } from "./build.js";
import { buildModel } from "./build.js";
import type { CustomResourceInput } from "./crd.js";
import type { JsonObject } from "./json.js";
import { stableStringify } from "./json.js";
import { buildV3Document, v3DocumentPaths } from "./v3.js";

export type { ServedResource } from "./build.js";
export type { CustomResourceInput } from "./crd.js";
export { customResourceDefinitionName } from "./crd.js";

export interface OpenAPIDocs {
  /** JSON document for /openapi/v2 (swagger 2.0), trimmed to the served resources (paths + only definitions reachable from them + the metav1 ones clients need). ETag-able: cache the serialized bytes. */
  v2Json(): Buffer;
  /** sha512 of v2Json(), uppercase hex (upstream's ETag for /openapi/v2, which it quotes). */
  v2Hash(): string;
  /** /openapi/v3 discovery: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=<HASH>"}, "apis/apps/v1": {...}, ...}} */
  v3Index(): Record<string, unknown>;
  /** /openapi/v3/apis/<group>/<version> (or api/v1) document: OpenAPI 3.0 with components.schemas and paths for that GV; undefined if not served. */
  v3GroupVersion(path: string): Buffer | undefined;
  v3Hash(path: string): string | undefined;
  /** How long the builds took and how big the results are (undefined until built). */
  stats(): OpenAPIStats;
}

export interface OpenAPIStats {
  modelMs?: number;
  v2Ms?: number;
  v3Ms?: number;
  v2Bytes?: number;
  v3Bytes?: number;
  v3Documents?: number;
}

export interface BuildOpenAPIOptions {
  /** The full upstream swagger 2.0 spec. Default: data/openapi/swagger.json. */
  swaggerPath?: string;
}

/** Upstream's ETag/hash: sha512 of the bytes, uppercase hex. */
export function openAPIHash(bytes: Buffer): string {
  return createHash("sha512").update(bytes).digest("hex").toUpperCase();
}

/** "/openapi/v3/apis/apps/v1?hash=X", "apis/apps/v1/", "/apis/apps/v1" → "apis/apps/v1". */
export function normalizeV3Path(path: string): string {
  let p = path;
  const q = p.indexOf("?");
  if (q >= 0) p = p.slice(0, q);
  p = p.replace(/^\/+/, "");
  if (p.startsWith("openapi/v3/")) p = p.slice("openapi/v3/".length);
  return p.replace(/\/+$/, "");
}

interface V3Entry {
  bytes: Buffer;
  hash: string;
}

export function buildOpenAPI(
  resources: ServedResource[],
  crds?: CustomResourceInput[],
  options: BuildOpenAPIOptions = {},
): OpenAPIDocs {
  const served = resources.map((r) => ({ ...r, verbs: [...r.verbs], subresources: [...r.subresources] }));
  const customResources = (crds ?? []).map((c) => ({ ...c }));
  const swaggerPath = options.swaggerPath ?? dataPath("openapi", "swagger.json");
  const stats: OpenAPIStats = {};

  let model: SpecModel | undefined;
  let v2: V3Entry | undefined;
  let v3: Map<string, V3Entry> | undefined;

  const getModel = (): SpecModel => {
    if (model === undefined) {
      const start = performance.now();
      const spec = JSON.parse(readFileSync(swaggerPath, "utf8")) as JsonObject;
      model = buildModel(spec, served, customResources);
      stats.modelMs = Math.round(performance.now() - start);
    }
    return model;
  };
  /** Once both forms are serialized the model is no longer needed. */
  const release = (): void => {
    if (v2 !== undefined && v3 !== undefined) model = undefined;
  };

  const getV2 = (): V3Entry => {
    if (v2 === undefined) {
      const m = getModel();
      const start = performance.now();
      const bytes = Buffer.from(stableStringify(m.swagger));
      v2 = { bytes, hash: openAPIHash(bytes) };
      stats.v2Ms = Math.round(performance.now() - start);
      stats.v2Bytes = bytes.length;
      release();
    }
    return v2;
  };

  const getV3 = (): Map<string, V3Entry> => {
    if (v3 === undefined) {
      const m = getModel();
      const start = performance.now();
      const docs = new Map<string, V3Entry>();
      let total = 0;
      for (const [key, paths] of [...v3DocumentPaths(m)].sort(([a], [b]) => a.localeCompare(b))) {
        const bytes = Buffer.from(stableStringify(buildV3Document(m, paths)));
        docs.set(key, { bytes, hash: openAPIHash(bytes) });
        total += bytes.length;
      }
      v3 = docs;
      stats.v3Ms = Math.round(performance.now() - start);
      stats.v3Bytes = total;
      stats.v3Documents = docs.size;
      release();
    }
    return v3;
  };

  return {
    v2Json: () => getV2().bytes,
    v2Hash: () => getV2().hash,
    v3Index: () => {
      const paths: Record<string, unknown> = {};
      for (const [key, entry] of getV3()) {
        paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${entry.hash}` };
      }
      return { paths };
    },
    v3GroupVersion: (path) => getV3().get(normalizeV3Path(path))?.bytes,
    v3Hash: (path) => getV3().get(normalizeV3Path(path))?.hash,
    stats: () => ({ ...stats }),
  };
}
