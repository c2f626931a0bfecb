/**
 * Nominated pods (upstream PodNominator): pods that preempted others wait for a node; until they
 * are bound, pods of lower or equal priority must not take the room they freed.
 */
import type { PodInfo } from "./podinfo.js";

export class Nominator {
  private readonly byNode = new Map<string, PodInfo[]>();
  private readonly nodeOf = new Map<string, string>();

  /** Records (or moves, or with "" clears) the pod's nomination. */
  set(pod: PodInfo, nodeName: string): void {
    this.delete(pod.uid);
    if (nodeName === "") return;
    let list = this.byNode.get(nodeName);
    if (!list) {
      list = [];
      this.byNode.set(nodeName, list);
    }
    list.push(pod);
    this.nodeOf.set(pod.uid, nodeName);
  }

  /** Keeps the nomination but with the pod's newer object. */
  refresh(pod: PodInfo): void {
    const node = this.nodeOf.get(pod.uid);
    if (node === undefined) return;
    const list = this.byNode.get(node);
    const i = list?.findIndex((p) => p.uid === pod.uid) ?? -1;
    if (list && i >= 0) list[i] = pod;
  }

  delete(uid: string): void {
    const node = this.nodeOf.get(uid);
    if (node === undefined) return;
    this.nodeOf.delete(uid);
    const list = this.byNode.get(node);
    if (!list) return;
    const i = list.findIndex((p) => p.uid === uid);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byNode.delete(node);
  }

  nodeFor(uid: string): string | undefined {
    return this.nodeOf.get(uid);
  }

  podsFor(nodeName: string): readonly PodInfo[] {
    return this.byNode.get(nodeName) ?? EMPTY;
  }

  get size(): number {
    return this.nodeOf.size;
  }
}

const EMPTY: readonly PodInfo[] = [];
