/**
 * DefaultPreemption (upstream PostFilter plugin + preemption.Evaluator): when a pod fits nowhere,
 * find nodes where removing lower-priority pods would make it fit, pick the fewest and least
 * important victims (reprieving PodDisruptionBudget-protected pods first), and choose the node
 * by PDB violations, highest victim priority, sum of priorities, number of victims, start time.
 * This module decides; the scheduler deletes the victims and nominates the node.
 */
import { type LabelSelector, labelSelectorFromObject } from "../api/selectors/index.js";
import { isRecord, type KObject } from "../api/types.js";
import { type Diagnosis, fitErrorMessage, newDiagnosis, nodeStatus } from "./fiterror.js";
import type { CycleState, Framework, Snapshot } from "./framework.js";
import type { NodeInfo } from "./nodeinfo.js";
import { moreImportantPod, type PodInfo } from "./podinfo.js";
import { type Status, status } from "./types.js";

export const NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const NO_VICTIMS = "No preemption victims found for incoming pod";
export const NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never.";
export const NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node.";

/** Candidates tried: 10% of the potential nodes, at least 100 (DefaultPreemptionArgs defaults). */
const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

export interface DisruptionBudget {
  namespace: string;
  name: string;
  selector: LabelSelector;
  disruptionsAllowed: number;
  disruptedPods: Set<string>;
}

export function disruptionBudgetOf(obj: KObject): DisruptionBudget {
  const spec = isRecord(obj["spec"]) ? obj["spec"] : {};
  const st = isRecord(obj["status"]) ? obj["status"] : {};
  let selector: LabelSelector;
  try {
    selector = labelSelectorFromObject(spec["selector"]);
  } catch {
    // an invalid selector matches no pod (upstream skips the budget)
    selector = labelSelectorFromObject(null);
  }
  return {
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name ?? "",
    selector,
    disruptionsAllowed: typeof st["disruptionsAllowed"] === "number" ? st["disruptionsAllowed"] : 0,
    disruptedPods: new Set(isRecord(st["disruptedPods"]) ? Object.keys(st["disruptedPods"]) : []),
  };
}

/** upstream filterPodsWithPDBViolation: keeps order; a pod whose budget would drop below 0 is "violating". */
export function splitByBudgetViolation(
  pods: readonly PodInfo[],
  pdbs: readonly DisruptionBudget[],
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.disruptionsAllowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pod of pods) {
    let violated = false;
    if (Object.keys(pod.labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if (pdb.namespace !== pod.namespace) return;
        if (pdb.selector.empty() || !pdb.selector.matches(pod.labels)) return;
        if (pdb.disruptedPods.has(pod.name)) return;
        allowed[i] = (allowed[i] as number) - 1;
        if ((allowed[i] as number) < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pod);
  }
  return { violating, nonViolating };
}

export interface Victims {
  pods: PodInfo[];
  numPDBViolations: number;
}

export interface PreemptionContext {
  framework: Framework;
  state: CycleState;
  snap: Snapshot;
  pdbs: readonly DisruptionBudget[];
  nominatedPodsFor(nodeName: string): readonly PodInfo[];
  now: number;
  /** Random integer in [0, n). */
  random(n: number): number;
}

/** upstream SelectVictimsOnNode, on a copy of the node and of the cycle state. */
export function selectVictimsOnNode(ctx: PreemptionContext, pod: PodInfo, original: NodeInfo): Victims | Status {
  const node = original.clone();
  const state = ctx.state.clone();
  const filters = ctx.framework.activeFilters(state);
  const remove = (p: PodInfo) => {
    node.removePod(p.uid);
    ctx.framework.runRemovePod(state, pod, p, node, ctx.snap);
  };
  const add = (p: PodInfo) => {
    node.addPod(p);
    ctx.framework.runAddPod(state, pod, p, node, ctx.snap);
  };
  const fits = () =>
    ctx.framework.runFilterWithNominated(filters, state, pod, node, ctx.nominatedPodsFor(node.name), ctx.snap);
  const potential = node.pods.filter((p) => p.priority < pod.priority);
  for (const p of potential) remove(p);
  if (potential.length === 0) return status("UnschedulableAndUnresolvable", "DefaultPreemption", NO_VICTIMS);
  const without = fits();
  if (without !== null) return without;
  potential.sort((a, b) => (moreImportantPod(a, b, ctx.now) ? -1 : moreImportantPod(b, a, ctx.now) ? 1 : 0));
  const { violating, nonViolating } = splitByBudgetViolation(potential, ctx.pdbs);
  const victims: PodInfo[] = [];
  let numPDBViolations = 0;
  const reprieve = (p: PodInfo): boolean => {
    add(p);
    if (fits() === null) return true;
    remove(p);
    victims.push(p);
    return false;
  };
  for (const p of violating) if (!reprieve(p)) numPDBViolations++;
  for (const p of nonViolating) reprieve(p);
  if (violating.length > 0 && nonViolating.length > 0) {
    victims.sort((a, b) => (moreImportantPod(a, b, ctx.now) ? -1 : moreImportantPod(b, a, ctx.now) ? 1 : 0));
  }
  return { pods: victims, numPDBViolations };
}

/** upstream GetEarliestPodStartTime over the highest-priority victims. */
function earliestStartOfTopVictims(v: Victims, now: number): number {
  const first = v.pods[0];
  if (!first) return Number.MIN_SAFE_INTEGER;
  let maxPriority = first.priority;
  let earliest = first.startTime ?? now;
  for (const p of v.pods) {
    const start = p.startTime ?? now;
    if (p.priority === maxPriority) {
      if (start < earliest) earliest = start;
    } else if (p.priority > maxPriority) {
      maxPriority = p.priority;
      earliest = start;
    }
  }
  return earliest;
}

/** upstream pickOneNodeForPreemption; candidates in the order found. */
export function pickOneNodeForPreemption(candidates: ReadonlyMap<string, Victims>, now: number): string | undefined {
  let nodes = [...candidates.keys()];
  if (nodes.length === 0) return undefined;
  const get = (n: string) => candidates.get(n) as Victims;
  const scoreFuncs: Array<(n: string) => number> = [
    (n) => -get(n).numPDBViolations,
    (n) => -(get(n).pods[0]?.priority ?? 0),
    (n) => -get(n).pods.reduce((sum, p) => sum + p.priority + 2147483648, 0),
    (n) => -get(n).pods.length,
    (n) => earliestStartOfTopVictims(get(n), now),
  ];
  for (const f of scoreFuncs) {
    let best = Number.NEGATIVE_INFINITY;
    let selected: string[] = [];
    for (const n of nodes) {
      const s = f(n);
      if (s > best) {
        best = s;
        selected = [n];
      } else if (s === best) {
        selected.push(n);
      }
    }
    if (selected.length === 1) return selected[0];
    nodes = selected;
  }
  return nodes[0];
}

/** A pod deleted by a scheduler's preemption (DisruptionTarget=True, PreemptionByScheduler) and still terminating. */
export function terminatingByPreemption(p: PodInfo): boolean {
  if (!p.terminating) return false;
  const st = isRecord(p.obj["status"]) ? p.obj["status"] : {};
  const conds = Array.isArray(st["conditions"]) ? st["conditions"] : [];
  for (const c of conds) {
    if (isRecord(c) && c["type"] === "DisruptionTarget") {
      return c["status"] === "True" && c["reason"] === "PreemptionByScheduler";
    }
  }
  return false;
}

/** upstream PodEligibleToPreemptOthers: the reason it is not, or undefined. */
export function notEligibleReason(pod: PodInfo, d: Diagnosis, snap: Snapshot): string | undefined {
  if (pod.preemptionPolicy === "Never") return NOT_ELIGIBLE_NEVER;
  const nominated = pod.nominatedNodeName;
  if (nominated === "") return undefined;
  if (nodeStatus(d, nominated)?.code === "UnschedulableAndUnresolvable") return undefined;
  const node = snap.get(nominated);
  if (node?.pods.some((p) => p.priority < pod.priority && terminatingByPreemption(p))) {
    return NOT_ELIGIBLE_TERMINATING;
  }
  return undefined;
}

export interface PreemptionOutcome {
  /** "Success": a node was chosen; otherwise the pod stays unschedulable. */
  code: "Success" | "Unschedulable" | "Error";
  /** The PostFilter message for the FitError ("" on success). */
  message: string;
  /** Set (a node), "" (clear) or undefined (leave the pod's nominatedNodeName as is). */
  nominatedNodeName: string | undefined;
  victims: PodInfo[];
  /** Lower-priority pods nominated to the chosen node lose their nomination. */
  clearNominated: PodInfo[];
}

/** upstream Evaluator.Preempt. */
export function preempt(ctx: PreemptionContext, pod: PodInfo, d: Diagnosis): PreemptionOutcome {
  const fail = (code: PreemptionOutcome["code"], message: string, nominatedNodeName?: string): PreemptionOutcome => ({
    code,
    message,
    nominatedNodeName,
    victims: [],
    clearNominated: [],
  });
  const notEligible = notEligibleReason(pod, d, ctx.snap);
  if (notEligible !== undefined) return fail("Unschedulable", `preemption: ${notEligible}`);
  const all = ctx.snap.nodes();
  if (all.length === 0) return fail("Error", "preemption: no nodes available");
  const potential = all.filter((n) => nodeStatus(d, n.name)?.code === "Unschedulable");
  const statuses = newDiagnosis();
  statuses.absentStatus = status("UnschedulableAndUnresolvable", "DefaultPreemption", NOT_HELPFUL);
  const candidates = new Map<string, Victims>();
  const violatingCandidates = new Map<string, Victims>();
  const errors: string[] = [];
  if (potential.length > 0) {
    const offset = ctx.random(potential.length);
    let want = Math.trunc((potential.length * MIN_CANDIDATE_NODES_PERCENTAGE) / 100);
    if (want < MIN_CANDIDATE_NODES_ABSOLUTE) want = MIN_CANDIDATE_NODES_ABSOLUTE;
    if (want > potential.length) want = potential.length;
    for (let i = 0; i < potential.length; i++) {
      const node = potential[(offset + i) % potential.length] as NodeInfo;
      let r = selectVictimsOnNode(ctx, pod, node);
      if (!("code" in r) && r.pods.length === 0) {
        r = status("Error", "DefaultPreemption", `expected at least one victim pod on node "${node.name}"`);
      }
      if ("code" in r) {
        if (r.code === "Error") errors.push(r.reasons.join(", "));
        statuses.nodeToStatus.set(node.name, r);
        continue;
      }
      (r.numPDBViolations === 0 ? candidates : violatingCandidates).set(node.name, r);
      if (candidates.size > 0 && candidates.size + violatingCandidates.size >= want) break;
    }
  }
  const all2 = new Map([...candidates, ...violatingCandidates]);
  if (all2.size === 0) {
    if (errors.length > 0) return fail("Error", `preemption: ${errors.join(", ")}`);
    return fail("Unschedulable", `preemption: ${fitErrorMessage(all.length, statuses)}`, "");
  }
  const chosen = pickOneNodeForPreemption(all2, ctx.now) as string;
  const victims = (all2.get(chosen) as Victims).pods;
  const clearNominated = ctx.nominatedPodsFor(chosen).filter((p) => p.priority < pod.priority && p.uid !== pod.uid);
  return { code: "Success", message: "", nominatedNodeName: chosen, victims, clearNominated };
}
