/**
 * Derives data/proto/json-names.json: where the field names of k8s.io `generated.proto` differ from the
 * JSON names of the same Go types. go-to-protobuf mostly names a field after its JSON tag, but not always
 * (`uID` for `uid`, `Webhooks` for `webhooks`), and Go structs embedded with `json:",inline"` become a
 * nested message field (`Volume.volumeSource`, `Probe.handler`) whose fields JSON flattens into the parent.
 * The OpenAPI spec lists the JSON properties of every definition, so comparing the two finds both.
 *
 * Run `node .build-X/test/protobuf/support/json-names.js --write` to regenerate the file.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as Protobuf from "protobufjs";
import { dataPath } from "../../../src/util/paths.js";

type Pb = typeof Protobuf;

interface JsonNames {
  fields: Record<string, Record<string, string>>;
  arrays: string[];
}

function listProtoFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listProtoFiles(p, out);
    else if (e.name === "generated.proto") out.push(p);
  }
  return out;
}

function allTypes(ns: Protobuf.NamespaceBase, pb: Pb, out: Protobuf.Type[] = []): Protobuf.Type[] {
  for (const n of ns.nestedArray) {
    if (n instanceof pb.Type) out.push(n);
    if (n instanceof pb.Namespace || n instanceof pb.Type) allTypes(n, pb, out);
  }
  return out;
}

/** OpenAPI definition name of a proto message: k8s.io.api.core.v1.Pod → io.k8s.api.core.v1.Pod. */
function definitionName(fullName: string): string {
  return `io.${fullName.replace(/^k8s\.io\./, "k8s.")}`;
}

/** Every k8s.io generated.proto under data/proto, parsed into one resolved protobufjs root. */
export function loadAllProtos(): { pb: Pb; root: Protobuf.Root; files: string[]; types: Protobuf.Type[] } {
  const require = createRequire(import.meta.url);
  const pb = require("protobufjs") as Pb;
  const base = dataPath("proto");
  const files = listProtoFiles(join(base, "k8s.io")).sort();
  const root = new pb.Root();
  root.resolvePath = (_o: string, t: string) => (t.startsWith("/") ? t : join(base, t));
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return { pb, root, files, types: allTypes(root, pb) };
}

/** Builds the naming table from every generated.proto under data/proto and the OpenAPI v2 document. */
export function generateJsonNames(): JsonNames {
  const { pb, files, types: everyType } = loadAllProtos();

  const arrays: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    const pkg = /^package ([\w.]+);/m.exec(text)?.[1];
    for (const m of text.matchAll(/\+protobuf\.nullable=true\n(?:\/\/.*\n)*message (\w+) \{/g)) {
      arrays.push(`${pkg}.${m[1]}`);
    }
  }
  arrays.sort();

  const swagger = JSON.parse(readFileSync(dataPath("openapi", "swagger.json"), "utf8")) as {
    definitions: Record<string, { properties?: Record<string, unknown> }>;
  };
  const defs = swagger.definitions;
  const byShortName = new Map<string, string[]>();
  for (const name of Object.keys(defs)) {
    const short = name.slice(name.lastIndexOf(".") + 1);
    byShortName.set(short, [...(byShortName.get(short) ?? []), name]);
  }

  const types = everyType.filter((t) => t.fullName.startsWith(".k8s.io.api."));
  const fields: Record<string, Record<string, string>> = {};
  const memo = new Map<string, Set<string>>();

  /** The JSON property names a message contributes, inline fields expanded. */
  function jsonKeys(t: Protobuf.Type): Set<string> {
    const name = t.fullName.slice(1);
    const hit = memo.get(name);
    if (hit) return hit;
    memo.set(name, new Set());
    const own = names(t);
    const keys = new Set<string>();
    for (const f of t.fieldsArray) {
      const j = own[f.name] ?? f.name;
      if (j === "" && f.resolvedType instanceof pb.Type) for (const k of jsonKeys(f.resolvedType)) keys.add(k);
      else keys.add(j);
    }
    memo.set(name, keys);
    return keys;
  }

  const namesMemo = new Map<string, Record<string, string>>();
  /** proto field → JSON name ("" = inline) for the fields whose names differ. */
  function names(t: Protobuf.Type): Record<string, string> {
    const name = t.fullName.slice(1);
    const hit = namesMemo.get(name);
    if (hit) return hit;
    const out: Record<string, string> = {};
    namesMemo.set(name, out);
    const short = t.name;
    let def = defs[definitionName(name)];
    if (def === undefined) {
      // An API version the spec no longer serves: borrow the properties of the same type in another version.
      const protoNames = new Set(t.fieldsArray.map((f) => f.name.toLowerCase()));
      let best = 0;
      for (const candidate of byShortName.get(short) ?? []) {
        const props = Object.keys(defs[candidate]?.properties ?? {});
        const overlap = props.filter((p) => protoNames.has(p.toLowerCase())).length;
        if (overlap > best) {
          best = overlap;
          def = defs[candidate];
        }
      }
    }
    const props = new Set(Object.keys(def?.properties ?? {}));
    const byLower = new Map([...props].map((p) => [p.toLowerCase(), p]));
    for (const f of t.fieldsArray) {
      if (props.has(f.name)) continue;
      const renamed = byLower.get(f.name.toLowerCase());
      if (renamed !== undefined) {
        out[f.name] = renamed;
        continue;
      }
      if (f.resolvedType instanceof pb.Type && !f.repeated && !f.map && def !== undefined) {
        const sub = [...jsonKeys(f.resolvedType)];
        if (sub.length > 0 && sub.every((k) => props.has(k))) {
          out[f.name] = "";
          continue;
        }
      }
      if (/^[A-Z]/.test(f.name)) out[f.name] = f.name[0]!.toLowerCase() + f.name.slice(1);
    }
    return out;
  }

  for (const t of types) {
    const n = names(t);
    if (Object.keys(n).length > 0) fields[t.fullName.slice(1)] = n;
  }
  const sorted: Record<string, Record<string, string>> = {};
  for (const k of Object.keys(fields).sort()) sorted[k] = fields[k]!;
  return { fields: sorted, arrays };
}

export function renderJsonNames(table: JsonNames): string {
  const lines = Object.entries(table.fields).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n  "fields": {\n${lines.join(",\n")}\n  },\n  "arrays": ${JSON.stringify(table.arrays, null, 4).replace(/\n/g, "\n  ")}\n}\n`;
}

if (process.argv.includes("--write") && process.argv[1]?.endsWith("json-names.js")) {
  const out = dataPath("proto", "json-names.json");
  writeFileSync(out, renderJsonNames(generateJsonNames()));
  console.log(`wrote ${out}`);
}
