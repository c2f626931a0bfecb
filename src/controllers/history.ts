/**
 * ControllerRevisions as the DaemonSet and StatefulSet controllers keep them (upstream
 * pkg/controller/history): one revision per distinct pod template, owned by the set, whose `data`
 * is the strategic-merge patch `{"spec":{"template":{...,"$patch":"replace"}}}` that puts the
 * template back (what `kubectl rollout undo` applies) and whose `revision` numbers grow: going back
 * to an earlier template renumbers its revision instead of making a new one.
 */

import { canonical } from "../api/canonical.js";
import { isRecord, type KObject } from "../api/types.js";
import type { ServedVersion } from "../apiserver/catalog.js";
import { ApiError } from "../apiserver/errors.js";
import type { LocalClient } from "./client.js";
import { claim, controllerRef } from "./refmanager.js";

type Rec = Record<string, unknown>;

/** The pod label naming the revision a DaemonSet's or StatefulSet's pod was made from. */
export const REVISION_LABEL = "controller-revision-hash";

export interface RevisionOwner {
  client: LocalClient;
  owner: KObject;
  apiVersion: string;
  kind: string;
  /** The owner's selector (an empty one takes nothing). */
  matches: (labels: Record<string, string>) => boolean;
}

export function revisionsResource(client: LocalClient): ServedVersion {
  return client.resource("apps", "v1", "controllerrevisions");
}

/** The revision data of an owner's current template. */
export function templatePatch(owner: KObject): Rec {
  const spec = isRecord(owner["spec"]) ? owner["spec"] : {};
  const template = isRecord(spec["template"]) ? structuredClone(spec["template"]) : {};
  return { spec: { template: { ...template, $patch: "replace" } } };
}

export function revisionNumber(cr: KObject): number {
  const r = cr["revision"];
  return typeof r === "number" ? r : 0;
}

function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** The owner's revisions (adopting matching orphans, releasing strays), oldest revision first. */
export async function ownedRevisions(o: RevisionOwner): Promise<KObject[]> {
  const sv = revisionsResource(o.client);
  const candidates = (await o.client.list(sv, o.owner.metadata.namespace)).map((c) => c.obj);
  const owned = await claim({ ...o, sv }, candidates);
  return owned.sort(
    (a, b) => revisionNumber(a) - revisionNumber(b) || String(a.metadata.name).localeCompare(String(b.metadata.name)),
  );
}

export interface RevisionSpec {
  /** The revision's name for a collision count. */
  name: (collisionCount: number) => string;
  /** The revision's labels (for a collision count, when they hold the hash). */
  labels: Record<string, string> | ((collisionCount: number) => Record<string, string>);
  annotations?: Record<string, string>;
}

/**
 * The revision of the owner's current template: the existing one (renumbered to be the newest if
 * it is not), or a new one. A name taken by another template bumps the collision count; the count
 * used is returned for the owner's status.
 */
export async function currentRevision(
  o: RevisionOwner,
  revisions: KObject[],
  spec: RevisionSpec,
  collisionCount: number,
): Promise<{ revision: KObject; collisionCount: number }> {
  const sv = revisionsResource(o.client);
  const data = templatePatch(o.owner);
  const next = revisions.reduce((m, r) => Math.max(m, revisionNumber(r)), 0) + 1;
  const equal = revisions.filter((r) => sameData(r["data"], data));
  const latest = revisions.at(-1);
  const match = equal.at(-1);
  if (match && match === latest) return { revision: match, collisionCount };
  if (match) {
    let updated = match;
    await o.client.update(sv, match.metadata.namespace, match.metadata.name ?? "", "", (cr) => {
      cr["revision"] = next;
      updated = cr;
      return cr;
    });
    return { revision: updated, collisionCount };
  }
  for (let count = collisionCount; ; count++) {
    const cr: KObject = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name: spec.name(count),
        namespace: o.owner.metadata.namespace,
        labels: typeof spec.labels === "function" ? spec.labels(count) : { ...spec.labels },
        ...(spec.annotations && Object.keys(spec.annotations).length > 0
          ? { annotations: { ...spec.annotations } }
          : {}),
        ownerReferences: [controllerRef(o.owner, o.apiVersion, o.kind)],
      },
      data,
      revision: next,
    };
    try {
      const made = await o.client.registry.create(sv, cr.metadata.namespace, cr, { dryRun: false });
      return { revision: made.obj, collisionCount: count };
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      const there = await o.client.registry
        .get(sv, cr.metadata.namespace, cr.metadata.name ?? "")
        .catch(() => undefined);
      if (there && sameData(there.obj["data"], data)) return { revision: there.obj, collisionCount: count };
    }
  }
}

/** Deletes the oldest revisions beyond `limit`, never one in `live` (the current ones, those pods were made from). */
export async function truncateHistory(
  o: RevisionOwner,
  revisions: KObject[],
  live: Set<string>,
  limit: number,
): Promise<void> {
  const old = revisions.filter((r) => !live.has(r.metadata.name ?? ""));
  const sv = revisionsResource(o.client);
  for (const r of old.slice(0, Math.max(0, old.length - limit))) {
    await o.client.delete(sv, r.metadata.namespace, r.metadata.name ?? "");
  }
}
