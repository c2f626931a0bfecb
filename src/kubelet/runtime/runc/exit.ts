/**
 * How a finished container is reported, as containerd's CRI plugin reports it: an OOM kill seen in
 * the container's memory cgroup → `OOMKilled`; exit 0 → `Completed`; anything else → `Error`. And
 * what runc said when it failed (its JSON log), for start errors.
 */

export interface ExitOutcome {
  exitCode: number;
  reason: string;
  message?: string;
}

/** `exitCode` undefined = the status was lost (the monitor died while the container ran). */
export function exitOutcome(exitCode: number | undefined, oomKills: number): ExitOutcome {
  if (oomKills > 0) return { exitCode: exitCode ?? 137, reason: "OOMKilled" };
  if (exitCode === undefined) {
    return {
      exitCode: 255,
      reason: "Error",
      message: "exit status unknown: the container's runc monitor was gone when it ended",
    };
  }
  return { exitCode, reason: exitCode === 0 ? "Completed" : "Error" };
}

/** The shim writes runc's exit status; `128+n` is a death by signal n, as the shell reports it. */
export function parseExitFile(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,3}$/.test(t)) return undefined;
  return Number(t);
}

/** The last error runc logged (its `--log-format json` lines), without runc's own prefixes. */
export function lastRuncError(logText: string): string | undefined {
  let last: string | undefined;
  for (const line of logText.split("\n")) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if ((v.level === "error" || v.level === "fatal") && typeof v.msg === "string") last = v.msg;
    } catch {
      // not JSON (an old runc): keep the raw line
      last = line.trim();
    }
  }
  return last?.replace(/^runc (run|create|exec) failed: /, "");
}
