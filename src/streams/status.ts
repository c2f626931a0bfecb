/**
 * What the error channel of an exec/attach session carries when the command ends, as the kubelet
 * writes it (pkg/kubelet/cri/streaming/remotecommand): protocol v4 and v5 send a metav1.Status as
 * JSON (Success, or Failure with reason NonZeroExitCode and the exit code as an ExitCode cause, which
 * kubectl turns into "command terminated with exit code N"); v1-v3 send only a failure's message, as
 * plain text, and nothing on success.
 */

/** How a remote command ended. */
export type CommandResult = { exitCode: number; argv?: string[] } | { error: string };

export interface StreamStatus {
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { causes: Array<{ reason?: string; message: string }> };
  code?: number;
}

/** Go's %v of a []string: "[sh -c exit 3]". */
function goList(items: string[]): string {
  return `[${items.join(" ")}]`;
}

/**
 * The Status the kubelet writes for a result. A non-zero exit is worded as the CRI runtimes
 * (containerd, CRI-O) word their exit error, inside the kubelet's "command terminated with non-zero
 * exit code: ..."; other failures are internal errors.
 */
export function statusFor(result: CommandResult): StreamStatus {
  if ("error" in result) {
    return {
      metadata: {},
      status: "Failure",
      message: `Internal error occurred: ${result.error}`,
      reason: "InternalError",
      details: { causes: [{ message: result.error }] },
      code: 500,
    };
  }
  if (result.exitCode === 0) return { metadata: {}, status: "Success" };
  const inner =
    result.argv !== undefined
      ? `error executing command ${goList(result.argv)}, exit code ${result.exitCode}`
      : `exit code ${result.exitCode}`;
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: ${inner}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(result.exitCode) }] },
  };
}

/**
 * The bytes for the error channel: the Status JSON for protocols that carry it, else the failure's
 * message (nothing at all on success).
 */
export function encodeStatus(status: StreamStatus, jsonStatus: boolean): Buffer {
  if (jsonStatus) return Buffer.from(JSON.stringify(status));
  if (status.status === "Success") return Buffer.alloc(0);
  return Buffer.from(status.message ?? "");
}
