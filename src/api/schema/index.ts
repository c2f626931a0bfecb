export type { SchemaNode, SchemaNodeKind } from "./model.js";
export {
  fieldSchema,
  legacyAliases,
  schemaAtPath,
  schemaForDefinition,
  schemaForKind,
  schemaFromOpenAPIV3,
} from "./model.js";
export { pruneUnknownFields } from "./prune.js";
export { findTypeError } from "./typecheck.js";
export { findDuplicateFields, findUnknownFields } from "./unknown.js";
