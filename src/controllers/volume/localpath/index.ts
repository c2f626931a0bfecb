/**
 * The server side of k8ts.io/local-path (the default class `standard`), after rancher's
 * local-path-provisioner: a volume is a directory `<pv>_<namespace>_<claim>` under the root the
 * node's agent publishes (Node annotation k8ts.io/local-path-root), pinned to that node by node
 * affinity. The node is the scheduler's for WaitForFirstConsumer classes, else the Ready,
 * schedulable node with the most room; room is the node's ephemeral-storage capacity less what its
 * local-path volumes take (capacity.ts). Nothing is written here: the agent makes the directory at
 * first mount and, for a released volume, removes it, deletes the PV and lifts the deletion
 * finalizer (src/kubelet/volumes/localpath.ts). Only a volume whose node is gone — nothing left
 * to clean — is deleted by the controller.
 */
import { posix } from "node:path";
import {
  claimRefOf,
  claimRequestBytes,
  LABEL_LOCAL_PATH_NODE,
  LOCAL_PATH_PROVISIONER,
  topologyAdmits,
} from "../../../api/storage.js";
import type { KObject } from "../../../api/types.js";
import type { ServedVersion } from "../../../apiserver/catalog.js";
import type { LocalClient } from "../../client.js";
import {
  type Provisioner,
  type ProvisionerHooks,
  ProvisioningError,
  type ProvisionOptions,
  type ProvisionResult,
} from "../provisioner/index.js";
import {
  canGrow,
  fitRefusal,
  type GrowAnswer,
  hostnameAffinity,
  hostnameOf,
  isLocalPathVolume,
  LocalPathUsage,
  volumeHost,
} from "./capacity.js";
import { chooseNode, rootRefusal, usableRoot } from "./placement.js";

export {
  canGrow,
  fitRefusal,
  formatBytes,
  type GrowAnswer,
  HOSTNAME_LABEL,
  hostnameAffinity,
  hostnameOf,
  isLocalPathVolume,
  LocalPathUsage,
  localPathBytes,
  localPathRootOf,
  volumeHost,
} from "./capacity.js";
export { acceptsVolumes, chooseNode, rootRefusal, usableRoot } from "./placement.js";

/** rancher's directory name of a volume: `<pvName>_<namespace>_<claimName>`. */
export function localPathDirName(pvName: string, namespace: string, claimName: string): string {
  return [pvName, namespace, claimName].join("_");
}

/** Where a local-path volume lives under its node's `root`: `<root>/<pv>_<claim namespace>_<claim name>`. */
export function localPathDir(root: string, pv: KObject): string {
  const ref = claimRefOf(pv);
  return posix.join(root, localPathDirName(pv.metadata.name ?? "", ref?.namespace ?? "", ref?.name ?? ""));
}

/** The k8ts.io/local-path provisioner: picks the node and describes the volume; the node's agent does the file work. */
export class LocalPathProvisioner implements Provisioner {
  readonly name = LOCAL_PATH_PROVISIONER;
  /** What the local-path volumes take per node, from the PV informer start() opens. */
  readonly usage = new LocalPathUsage();
  private readonly client: LocalClient;
  /** `<ns>/<claim>` of Immediate claims no node had room for. */
  private readonly waitingForRoom = new Set<string>();

  constructor(client: LocalClient) {
    this.client = client;
  }

  private get nodes(): ServedVersion {
    return this.client.resource("", "v1", "nodes");
  }

  start(hooks: ProvisionerHooks): void {
    this.usage.forget();
    this.waitingForRoom.clear();
    hooks.watch(this.client.resource("", "v1", "persistentvolumes"), (pv, deleted) => {
      this.usage.observe(pv, deleted);
      // room freed: the claims that found none try again now rather than at their back-off
      if (deleted && isLocalPathVolume(pv)) {
        for (const key of this.waitingForRoom) {
          const [ns = "", name = ""] = key.split("/");
          hooks.requeueClaim(ns, name);
        }
        this.waitingForRoom.clear();
      }
    });
    hooks.watch(this.nodes, (node, deleted) => {
      // a node gone leaves its volumes to the controller
      if (deleted) for (const pv of this.usage.volumesOn(hostnameOf(node))) hooks.requeueVolume(pv);
    });
  }

  async provision(o: ProvisionOptions): Promise<ProvisionResult> {
    const bytes = claimRequestBytes(o.claim);
    // the index has now seen every volume created before (the one of the claim just before included)
    await this.client.sync();
    let node: KObject;
    if (o.selectedNode) {
      node = o.selectedNode;
      const refusal = rootRefusal(node) ?? fitRefusal(node, bytes, this.usage);
      // the scheduler may pick a node with room
      if (refusal !== undefined) throw new ProvisioningError(refusal, "reschedule");
    } else {
      // the class's allowedTopologies narrow the nodes (the scheduler checks them for WaitForFirstConsumer)
      const nodes = (await this.client.list(this.nodes))
        .map((c) => c.obj)
        .filter((n) => topologyAdmits(o.storageClass["allowedTopologies"], n.metadata.labels ?? {}));
      const chosen = chooseNode(nodes, bytes, this.usage);
      if ("refusal" in chosen) {
        this.waitingForRoom.add(`${o.claim.metadata.namespace}/${o.claim.metadata.name}`);
        throw new ProvisioningError(chosen.refusal, "retry");
      }
      node = chosen.node;
    }
    const root = usableRoot(node) ?? "";
    const path = posix.join(
      root,
      localPathDirName(o.pvName, o.claim.metadata.namespace ?? "", o.claim.metadata.name ?? ""),
    );
    return {
      source: { local: { path } },
      nodeAffinity: hostnameAffinity(hostnameOf(node)),
      labels: { [LABEL_LOCAL_PATH_NODE]: node.metadata.name ?? "" },
    };
  }

  /** The node a volume is pinned to, when it still exists (by name, else by hostname label). */
  async nodeOf(pv: KObject): Promise<KObject | undefined> {
    const host = volumeHost(pv);
    if (host === undefined) return undefined;
    const byName = this.client.get(this.nodes, undefined, host);
    if (byName) return byName;
    return (await this.client.listFresh(this.nodes)).map((c) => c.obj).find((n) => hostnameOf(n) === host);
  }

  /** Deletion is the node agent's while the volume's node exists. */
  async deletedElsewhere(pv: KObject): Promise<boolean> {
    return (await this.nodeOf(pv)) !== undefined;
  }

  /** The node is gone, and the directory with it: nothing to clean. */
  async delete(): Promise<void> {}

  /** Whether the volume may grow to `newBytes` on its node (volume expansion). */
  async canGrow(pv: KObject, newBytes: bigint): Promise<GrowAnswer> {
    await this.client.sync();
    return canGrow(pv, newBytes, await this.nodeOf(pv), this.usage);
  }
}
