/**
 * Volume failures as the kubelet reports them: the reason is the event's (FailedMount,
 * FailedUnmount, FailedAttachVolume: upstream's attach/detach Multi-Attach refusal) or the
 * container's waiting reason (CreateContainerConfigError); the message is worded as upstream's
 * events. `detail` is for the node's log only: it may name host paths, which upstream
 * deliberately keeps out of what users see.
 */

export type VolumeErrorReason = "FailedMount" | "FailedUnmount" | "FailedAttachVolume" | "CreateContainerConfigError";

export class VolumeError extends Error {
  readonly reason: VolumeErrorReason;
  /** The pod volume the failure is about, when there is one. */
  readonly volume: string | undefined;
  /** What went wrong in host terms, for logs (never put in events or statuses). */
  readonly detail: string | undefined;
  /** setUp/refresh: every volume that failed, this error being the first of them. */
  readonly failures: VolumeError[];

  constructor(
    reason: VolumeErrorReason,
    message: string,
    opts: { volume?: string; detail?: string; failures?: VolumeError[] } = {},
  ) {
    super(message);
    this.name = "VolumeError";
    this.reason = reason;
    this.volume = opts.volume;
    this.detail = opts.detail;
    this.failures = opts.failures ?? [this];
  }
}

/** upstream's `MountVolume.SetUp failed for volume "<name>" : <why>`. */
export function setUpFailed(volume: string, err: unknown, detail?: string): VolumeError {
  if (err instanceof VolumeError) return err;
  return new VolumeError("FailedMount", `MountVolume.SetUp failed for volume "${volume}" : ${errorText(err)}`, {
    volume,
    detail,
  });
}

/** upstream's `UnmountVolume.TearDown failed for volume "<name>" : <why>`. */
export function tearDownFailed(volume: string, err: unknown): VolumeError {
  return new VolumeError("FailedUnmount", `UnmountVolume.TearDown failed for volume "${volume}" : ${errorText(err)}`, {
    volume,
  });
}

/** A failure while building a container's mounts: the container waits with CreateContainerConfigError. */
export function containerConfigError(message: string, detail?: string): VolumeError {
  return new VolumeError("CreateContainerConfigError", message, { detail });
}

/** Several failures as one message, as Go's utilerrors.NewAggregate prints them (deduplicated). */
export function aggregateMessage(messages: string[]): string {
  const seen = [...new Set(messages)];
  return seen.length === 1 ? seen[0]! : `[${seen.join(", ")}]`;
}

const STRERROR: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EEXIST: "file exists",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EROFS: "read-only file system",
  EPERM: "operation not permitted",
  ELOOP: "too many levels of symbolic links",
  ENOSPC: "no space left on device",
  EBUSY: "device or resource busy",
  EINVAL: "invalid argument",
  ENAMETOOLONG: "file name too long",
  EIO: "input/output error",
  ENOTEMPTY: "directory not empty",
  EXDEV: "invalid cross-device link",
};

interface SystemErrorLike {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

/**
 * An error's text as Go prints an *os.PathError (`open /x: no such file or directory`) when it
 * is a Node system error, else its message.
 */
export function errorText(err: unknown): string {
  if (typeof err !== "object" || err === null) return String(err);
  const e = err as SystemErrorLike;
  if (typeof e.code === "string" && e.code in STRERROR && typeof e.syscall === "string") {
    const op = e.syscall === "rmdir" || e.syscall === "unlink" ? "remove" : e.syscall;
    const text = STRERROR[e.code]!;
    return typeof e.path === "string" ? `${op} ${e.path}: ${text}` : `${op}: ${text}`;
  }
  return typeof e.message === "string" ? e.message : String(err);
}

/** The errno code of a Node system error ("ENOENT"...), or undefined. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as SystemErrorLike).code;
  return typeof code === "string" ? code : undefined;
}
