/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does: one server
 * of several sharing a store runs the controllers; the others take over when its lease expires.
 */
import { isRecord, type KObject, microTime } from "../api/types.js";
import { ApiError } from "../apiserver/errors.js";
import { log } from "../util/log.js";
import type { LocalClient } from "./client.js";

export interface LeaderElectionOptions {
  /** Lease name (default "k8ts-controller-manager") in `namespace` (default "kube-system"). */
  name?: string;
  namespace?: string;
  /** This server's identity (hostname + a random suffix, as upstream). */
  identity: string;
  /** How long a lease holds without renewal (default 15 s). */
  leaseDurationSeconds?: number;
  /** The leader gives up when it could not renew for this long (default 10 s). */
  renewDeadlineSeconds?: number;
  /** How often to try to acquire or renew (default 2 s). */
  retryPeriodSeconds?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

class NotOurs extends Error {}

export class LeaderElector {
  private readonly client: LocalClient;
  private readonly opts: Required<Omit<LeaderElectionOptions, "onStartedLeading" | "onStoppedLeading">> &
    LeaderElectionOptions;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private busy = false;

  constructor(client: LocalClient, opts: LeaderElectionOptions) {
    this.client = client;
    this.opts = {
      name: "k8ts-controller-manager",
      namespace: "kube-system",
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      ...opts,
    };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.retryPeriodSeconds * 1000);
    this.timer.unref();
  }

  /** Stops trying; a leader releases its lease so another server can take over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.leading) return;
    this.leading = false;
    this.opts.onStoppedLeading();
    try {
      await this.client.update(this.leases(), this.opts.namespace, this.opts.name, "", (o) => {
        const spec = isRecord(o["spec"]) ? o["spec"] : {};
        if (spec["holderIdentity"] === this.opts.identity) {
          o["spec"] = { ...spec, holderIdentity: "", leaseDurationSeconds: 1 };
        }
        return o;
      });
    } catch {
      // best effort: the lease expires anyway
    }
  }

  private leases() {
    return this.client.resource("coordination.k8s.io", "v1", "leases");
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const ok = await this.tryAcquireOrRenew(Date.now());
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          log.info("became leader", {
            lease: `${this.opts.namespace}/${this.opts.name}`,
            identity: this.opts.identity,
          });
          this.opts.onStartedLeading();
        }
      } else if (this.leading && Date.now() - this.lastRenew > this.opts.renewDeadlineSeconds * 1000) {
        this.leading = false;
        log.warn("lost leadership", { identity: this.opts.identity });
        this.opts.onStoppedLeading();
      }
    } finally {
      this.busy = false;
    }
  }

  /** One attempt; true when this server holds the lease afterwards. */
  async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { name, namespace, identity, leaseDurationSeconds } = this.opts;
    const leases = this.leases();
    try {
      if (!this.client.get(leases, namespace, name)) {
        await this.client.registry.create(
          leases,
          namespace,
          {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          { dryRun: false },
        );
        return true;
      }
      await this.client.update(leases, namespace, name, "", (o: KObject) => {
        const spec = isRecord(o["spec"]) ? o["spec"] : {};
        const holder = typeof spec["holderIdentity"] === "string" ? spec["holderIdentity"] : "";
        const renew = typeof spec["renewTime"] === "string" ? Date.parse(spec["renewTime"]) : 0;
        const duration =
          typeof spec["leaseDurationSeconds"] === "number" ? spec["leaseDurationSeconds"] : leaseDurationSeconds;
        const expired = holder === "" || Number.isNaN(renew) || renew + duration * 1000 < now;
        if (holder !== identity && !expired) throw new NotOurs();
        const transitions = typeof spec["leaseTransitions"] === "number" ? spec["leaseTransitions"] : 0;
        o["spec"] = {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds,
          renewTime: microTime(now),
          ...(holder !== identity ? { acquireTime: microTime(now), leaseTransitions: transitions + 1 } : {}),
        };
        return o;
      });
      return true;
    } catch (err) {
      if (err instanceof NotOurs || (err instanceof ApiError && (err.code === 409 || err.code === 404))) return false;
      log.warn("leader election attempt failed", { error: String(err) });
      return false;
    }
  }
}
