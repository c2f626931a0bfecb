/**
 * What a simulated container does, as data (KWOK's stages): each stage selects containers in a
 * state (optionally only those whose pod carries an annotation), waits a delay, then moves them
 * to the next state. The defaults: a container runs at once; a pod annotated
 * `k8ts.io/sim-duration: 30s` (or `k8ts.io/sim-duration.<container>` for one container) has its
 * containers exit after that long, with `k8ts.io/sim-exit-code` (default 0) — so Jobs complete.
 */
import type { ContainerState } from "../types.js";

export const SIM_DURATION = "k8ts.io/sim-duration";
export const SIM_EXIT_CODE = "k8ts.io/sim-exit-code";

export interface StageValue {
  /** A fixed value... */
  fixed?: number;
  /** ...or one read from the pod annotation of this name (per-container `<name>.<container>` first). */
  annotation?: string;
}

export interface Stage {
  name: string;
  selector: { state: ContainerState; annotation?: string };
  /** Delay in ms; annotations hold Go-style durations ("30s", "1m", "1.5s", "500ms"). */
  delay: StageValue;
  next: { state: ContainerState; exitCode?: StageValue };
}

export const defaultStages: Stage[] = [
  { name: "container-start", selector: { state: "created" }, delay: { fixed: 0 }, next: { state: "running" } },
  {
    name: "container-complete",
    selector: { state: "running", annotation: SIM_DURATION },
    delay: { annotation: SIM_DURATION },
    next: { state: "exited", exitCode: { annotation: SIM_EXIT_CODE, fixed: 0 } },
  },
];

/** "1h2m3.5s", "500ms", "10s" → ms; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = false;
  let m: RegExpExecArray | null;
  const input = s.trim();
  for (;;) {
    m = re.exec(input);
    if (m === null) break;
    matched = true;
    const v = Number(m[1]);
    total += m[2] === "h" ? v * 3_600_000 : m[2] === "m" ? v * 60_000 : m[2] === "s" ? v * 1000 : v;
    if (re.lastIndex === input.length) return total;
  }
  return matched ? undefined : undefined;
}

function annotationValue(annotations: Record<string, string>, name: string, container: string): string | undefined {
  return annotations[`${name}.${container}`] ?? annotations[name];
}

/** The stage a container in `state` enters next, with its delay and outcome; undefined: it stays. */
export function nextStage(
  stages: Stage[],
  state: ContainerState,
  annotations: Record<string, string>,
  container: string,
): { stage: Stage; delayMs: number; exitCode: number } | undefined {
  for (const stage of stages) {
    if (stage.selector.state !== state) continue;
    if (stage.selector.annotation && annotationValue(annotations, stage.selector.annotation, container) === undefined) {
      continue;
    }
    let delayMs = stage.delay.fixed ?? 0;
    if (stage.delay.annotation) {
      const v = annotationValue(annotations, stage.delay.annotation, container);
      const d = v === undefined ? undefined : parseDuration(v);
      if (d === undefined) continue;
      delayMs = d;
    }
    let exitCode = stage.next.exitCode?.fixed ?? 0;
    if (stage.next.exitCode?.annotation) {
      const v = annotationValue(annotations, stage.next.exitCode.annotation, container);
      if (v !== undefined && /^\d+$/.test(v)) exitCode = Number(v);
    }
    return { stage, delayMs, exitCode };
  }
  return undefined;
}
