/**
 * How many nodes a cycle looks at and which scored node wins: upstream numFeasibleNodesToFind
 * (adaptive percentageOfNodesToScore: 50% minus 1% per 125 nodes, at least 5%, at least 100
 * nodes) and selectHost (the highest total score, ties broken at random).
 */

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** `percentage` 0 (or undefined) is adaptive, as upstream's default. */
export function numFeasibleNodesToFind(numAllNodes: number, percentage: number | undefined): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let p = percentage ?? 0;
  if (p <= 0) {
    p = 50 - Math.trunc(numAllNodes / 125);
    if (p < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) p = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  if (p > 100) p = 100;
  const n = Math.trunc((numAllNodes * p) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}

/** Index of the best score; among equals each is equally likely (reservoir sampling). */
export function selectHost(totals: readonly number[], random: () => number = Math.random): number {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let ties = 0;
  for (let i = 0; i < totals.length; i++) {
    const s = totals[i] as number;
    if (s > bestScore) {
      bestScore = s;
      best = i;
      ties = 1;
    } else if (s === bestScore) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  }
  return best;
}
