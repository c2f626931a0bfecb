/**
 * etcd history compaction, as the upstream API server runs it: every interval (5 minutes) the
 * history older than the revision seen one interval ago is dropped, so watches can resume from
 * anything recent and etcd does not grow without bound. (The SQLite store compacts itself.)
 * Several servers may compact the same etcd; compacting an already compacted revision is a no-op.
 */
import { type Store, StoreError } from "../store/types.js";
import { log } from "../util/log.js";

export class StoreCompactor {
  private readonly store: Store;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** The revision seen at the previous tick: compacted at the next one. */
  private previous = 0;

  constructor(store: Store, intervalMs = 5 * 60_000) {
    this.store = store;
    this.intervalMs = intervalMs;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    try {
      const current = await this.store.currentRevision();
      if (this.previous > 0 && this.previous > (await this.store.compactedRevision())) {
        await this.store.compact(this.previous);
        log.info("compacted store history", { revision: this.previous, backend: this.store.backend });
      }
      this.previous = current;
    } catch (err) {
      if (err instanceof StoreError && err.code === "compacted") return;
      log.warn("store compaction failed", { error: String(err) });
    }
  }
}
