/**
 * The node side of the k8ts.io/local-path provisioner (as rancher's local-path-provisioner's
 * helper pod, run by the node agent itself): the node publishes where its volumes live (the Node
 * annotation k8ts.io/local-path-root, see node.ts), directories are made on first mount
 * (claims.ts), and here a PV watch deletes them once their volume is released with reclaim policy
 * Delete — directory first, then the PV object (or the provisioner's finalizer when the object is
 * already being deleted). At start, directories whose PV is gone (a crash between the two steps,
 * a PV deleted by hand) are swept.
 */
import { mkdirSync, realpathSync } from "node:fs";
import { readdir, realpath } from "node:fs/promises";
import { basename, dirname, join, posix } from "node:path";
import {
  LABEL_LOCAL_PATH_NODE,
  LOCAL_PATH_PROVISIONER,
  PROVISIONER_DELETION_FINALIZER,
  provisionedBy,
  reclaimPolicy,
  specOf,
  statusOf,
  volumeNodeTerms,
} from "../../api/storage.js";
import { isRecord, type KObject } from "../../api/types.js";
import { ApiError } from "../../apiserver/errors.js";
import { Informer } from "../../client/informer.js";
import { type ApiClient, resources } from "../../client/types.js";
import { type ReconcileResult, WorkQueue } from "../../controllers/queue.js";
import { NodeSelector } from "../../scheduler/nodeselector.js";
import { log } from "../../util/log.js";
import { EventRecorder } from "../events.js";
import { errnoOf, errorText } from "./errors.js";
import { isWithin } from "./layout.js";
import { readMounts } from "./mount.js";
import { removeAllNoCross } from "./safe-path.js";

/** A directory the provisioner names `<pvName>_<namespace>_<claimName>`, pvName being `pvc-<claim uid>`. */
const VOLUME_DIR = /^(pvc-[0-9a-f][0-9a-f-]*)_([a-z0-9][a-z0-9-]*)_(.+)$/;

/** Makes the local-path root (0700 where created) and resolves it: the Node annotation and every check use the real path. */
export function prepareLocalPathRoot(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return realpathSync(dir);
}

/** What the node does about a PV. */
export type LocalPathAction =
  /** Not ours, or nothing to do. */
  | { kind: "none" }
  /** Released with reclaim policy Delete: remove the directory, then delete the object. */
  | { kind: "delete"; path: string }
  /** Being deleted and held by the provisioner's finalizer: remove the directory, then the finalizer. */
  | { kind: "finalize"; path: string }
  /** Being deleted without that finalizer (the object goes anyway): remove the directory. */
  | { kind: "remove"; path: string };

function cleanPath(p: unknown): string | undefined {
  if (typeof p !== "string" || !p.startsWith("/") || p.includes("\0") || p.split("/").includes("..")) return undefined;
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

/** The local path of a k8ts.io/local-path PV pinned to this node and lying strictly inside `root`; undefined otherwise. */
export function localPathOf(
  pv: KObject,
  nodeName: string,
  root: string,
  nodeLabels: Readonly<Record<string, string>>,
): string | undefined {
  if (provisionedBy(pv) !== LOCAL_PATH_PROVISIONER) return undefined;
  const local = specOf(pv)["local"];
  const path = isRecord(local) ? cleanPath(local["path"]) : undefined;
  if (path === undefined || path === root || !isWithin(path, root)) return undefined;
  const terms = volumeNodeTerms(pv);
  if (!terms || !NodeSelector.parse({ nodeSelectorTerms: terms }).matches(nodeName, nodeLabels)) return undefined;
  return path;
}

/**
 * The clean-up a PV asks of this node (upstream external-provisioner's shouldDelete with the
 * deletion finalizer): reclaim policy Delete and either phase Released, or a deletion while not
 * Bound (held by the provisioner's finalizer, which is removed once the directory is gone).
 */
export function localPathAction(
  pv: KObject,
  nodeName: string,
  root: string,
  nodeLabels: Readonly<Record<string, string>>,
): LocalPathAction {
  const path = localPathOf(pv, nodeName, root, nodeLabels);
  if (path === undefined || reclaimPolicy(pv) !== "Delete") return { kind: "none" };
  const phase = statusOf(pv)["phase"];
  const held = (pv.metadata.finalizers ?? []).includes(PROVISIONER_DELETION_FINALIZER);
  if (pv.metadata.deletionTimestamp) {
    if (phase === "Bound") return { kind: "none" };
    return held ? { kind: "finalize", path } : { kind: "remove", path };
  }
  return phase === "Released" ? { kind: "delete", path } : { kind: "none" };
}

/**
 * Removes a volume directory: its parent is resolved and the result must still lie strictly
 * inside `root` (also resolved); the tree is removed without following symlinks and without
 * touching anything mounted below it. A directory already gone is fine.
 */
export async function removeVolumeDir(root: string, path: string): Promise<void> {
  let parent: string;
  try {
    parent = await realpath(dirname(path));
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return;
    throw err;
  }
  const target = join(parent, basename(path));
  if (target === root || !isWithin(target, root)) {
    throw new Error(`refusing to remove ${path}: it resolves to ${target}, not inside the local-path root ${root}`);
  }
  const mounts = new Set((await readMounts()).map((m) => m.mountPoint));
  await removeAllNoCross(target, mounts);
}

export interface LocalPathNodeOptions {
  client: ApiClient;
  nodeName: string;
  /** The resolved root (prepareLocalPathRoot). */
  root: string;
  /** This node's labels, for the PVs' node affinity (default: kubernetes.io/hostname=<nodeName>). */
  nodeLabels?: () => Readonly<Record<string, string>> | undefined;
  /** Where VolumeFailedDelete events go (default: a recorder of its own, component k8ts.io/local-path). */
  events?: Pick<EventRecorder, "event">;
  /** Retry delays after a failure: initial and maximum, ms (defaults 1 s and 5 min). */
  backoffMs?: { initial: number; max: number };
}

export class LocalPathNode {
  private readonly opts: LocalPathNodeOptions;
  private readonly informer: Informer;
  private readonly queue: WorkQueue;
  private readonly ownEvents: EventRecorder | undefined;
  private readonly events: Pick<EventRecorder, "event">;
  private readonly failures = new Map<string, number>();
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(opts: LocalPathNodeOptions) {
    this.opts = opts;
    // only this node's volumes (the provisioner labels them): a node does not hear of every volume in the cluster
    this.informer = new Informer(opts.client, resources.persistentvolumes, {
      labelSelector: `${LABEL_LOCAL_PATH_NODE}=${opts.nodeName}`,
    });
    this.queue = new WorkQueue("local-path", (key) => this.sync(key));
    if (opts.events) {
      this.events = opts.events;
    } else {
      this.ownEvents = new EventRecorder(opts.client, { component: LOCAL_PATH_PROVISIONER, host: opts.nodeName });
      this.events = this.ownEvents;
    }
    const enqueue = (pv: KObject) => {
      if (localPathOf(pv, opts.nodeName, opts.root, this.labels()) !== undefined)
        this.queue.add(pv.metadata.name ?? "");
    };
    this.informer.addHandlers({
      onAdd: enqueue,
      onUpdate: enqueue,
      onDelete: (pv) => this.failures.delete(pv.metadata.name ?? ""),
    });
  }

  /** Watches PVs; once the first list is in, sweeps directories whose PV is gone. */
  start(): void {
    this.stopped = false;
    this.informer.start();
    this.sweeping = this.informer
      .waitForSync()
      .then(async () => {
        if (!this.stopped) await this.sweep();
      })
      .catch((err: unknown) =>
        log.warn("local-path sweep failed", { node: this.opts.nodeName, error: errorText(err) }),
      );
  }

  /** Resolves once the start-up sweep is done (tests). */
  async synced(): Promise<void> {
    await this.informer.waitForSync();
    await this.sweeping;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.informer.stop();
    this.queue.stop();
    await this.sweeping;
    await this.ownEvents?.flush();
  }

  /**
   * Removes the empty directories in the root named as the provisioner names them whose PV no
   * longer exists (left by a crash between a clean-up and its record); one still holding data is
   * kept and logged, since its volume may have been deleted by hand under Retain.
   */
  async sweep(): Promise<string[]> {
    const root = this.opts.root;
    let names: string[];
    try {
      names = await readdir(root);
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return [];
      throw err;
    }
    const inUse = new Set<string>();
    for (const pv of this.informer.list()) {
      const local = specOf(pv)["local"];
      const p = isRecord(local) ? cleanPath(local["path"]) : undefined;
      if (p) inUse.add(p);
    }
    const removed: string[] = [];
    for (const name of names) {
      const m = VOLUME_DIR.exec(name);
      const path = join(root, name);
      if (!m || inUse.has(path) || this.informer.get(undefined, m[1]!)) continue;
      // a PV made since the list may not be in the cache yet: ask the server before removing anything
      try {
        await this.opts.client.get(resources.persistentvolumes, undefined, m[1]!);
        continue;
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 404) throw err;
      }
      // a volume deleted by hand (Retain, or its finalizer stripped) may hold data nobody reclaimed: kept
      const contents = await readdir(path).catch(() => [] as string[]);
      if (contents.length > 0) {
        log.warn("a local-path directory whose volume is gone still holds data: kept (remove it by hand)", {
          node: this.opts.nodeName,
          dir: name,
        });
        continue;
      }
      try {
        await removeVolumeDir(root, path);
        removed.push(name);
        log.info("removed a local-path directory whose volume is gone", { node: this.opts.nodeName, dir: name });
      } catch (err) {
        log.warn("cannot remove a leaked local-path directory", {
          node: this.opts.nodeName,
          dir: name,
          error: errorText(err),
        });
      }
    }
    return removed;
  }

  private labels(): Readonly<Record<string, string>> {
    return this.opts.nodeLabels?.() ?? { "kubernetes.io/hostname": this.opts.nodeName };
  }

  /** One PV: reads it from the cache and does what localPathAction says; a failure is an event and a retry later. */
  async sync(name: string): Promise<ReconcileResult> {
    const cached = this.informer.get(undefined, name);
    if (!cached) return undefined;
    const action = localPathAction(cached, this.opts.nodeName, this.opts.root, this.labels());
    if (action.kind === "none") {
      this.failures.delete(name);
      return undefined;
    }
    try {
      await removeVolumeDir(this.opts.root, action.path);
      if (action.kind === "finalize") {
        const pv = structuredClone(cached);
        pv.metadata.finalizers = (pv.metadata.finalizers ?? []).filter((f) => f !== PROVISIONER_DELETION_FINALIZER);
        await this.opts.client.update(resources.persistentvolumes, undefined, name, pv);
      } else if (action.kind === "delete") {
        await this.opts.client.delete(resources.persistentvolumes, undefined, name, {
          preconditions: { uid: cached.metadata.uid },
        });
      }
      this.failures.delete(name);
      log.info("local-path volume deleted", { node: this.opts.nodeName, pv: name });
      return undefined;
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) {
        // gone, or changed meanwhile: the watch brings the new state
        return undefined;
      }
      const n = (this.failures.get(name) ?? 0) + 1;
      this.failures.set(name, n);
      const initial = this.opts.backoffMs?.initial ?? 1000;
      const max = this.opts.backoffMs?.max ?? 300_000;
      const message = `failed to delete volume ${name}: ${errorText(err)}`;
      this.events.event(
        { ...cached, apiVersion: "v1", kind: "PersistentVolume" },
        "Warning",
        "VolumeFailedDelete",
        message,
      );
      log.warn("local-path volume deletion failed", { node: this.opts.nodeName, pv: name, attempt: n, error: message });
      return { requeueAfterMs: Math.min(initial * 2 ** (n - 1), max) };
    }
  }
}
