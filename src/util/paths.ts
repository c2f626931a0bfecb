import { fileURLToPath } from "node:url";

/**
 * The package's `data/` folder (OpenAPI spec, protobuf schemas, ...). Compiled code lives at
 * `<out>/src/util/paths.js` where `<out>` is a folder directly under the package root
 * (dist/ or a .build-* folder), so the package root is three levels up.
 */
export const dataDir: string = fileURLToPath(new URL("../../../data/", import.meta.url));

export function dataPath(...parts: string[]): string {
  return dataDir + parts.join("/");
}
