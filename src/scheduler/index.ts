/** The k8ts scheduler: kube-scheduler's default profile, in process, through the registry. */

export { claimBinding } from "./claimbinding.js";
export type { VolumeBinding, VolumeVerdict } from "./plugins/volumebinding.js";
export { passThroughVolumeBinding } from "./plugins/volumebinding.js";
export { Scheduler, type SchedulerOptions, type SchedulerStats } from "./scheduler.js";
