/**
 * A container's stdio without a shim process of our own: named pipes (FIFOs) in the container's
 * directory. The monitor (`runc run` under sh) gets stdout/stderr opened read-write, so it is
 * itself a reader and never sees EPIPE when the kubelet is gone: output waits in the pipe (64 KiB,
 * then the container blocks on write) until a kubelet opens the FIFO again and drains it into the
 * CRI log. The reader gets EOF once the monitor exits. stdin is a FIFO as well (see `StdinMode`).
 */
import { closeSync, constants, existsSync, fstatSync, openSync } from "node:fs";
import { Socket } from "node:net";
import { runCommand } from "../../network/command.js";
import type { CriLogWriter, LogStream } from "../crilog.js";

export async function makeFifos(paths: string[]): Promise<void> {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) await runCommand("mkfifo", ["-m", "0600", ...missing]);
  for (const p of paths) {
    const fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFIFO()) throw new Error(`${p} exists and is not a FIFO`);
    } finally {
      closeSync(fd);
    }
  }
}

/** Opens a FIFO for the monitor's side: read-write, so opening never blocks and writes never EPIPE. */
export function openMonitorEnd(path: string): number {
  return openSync(path, constants.O_RDWR);
}

/** Opens the FIFO's read end for the kubelet (non-blocking, as a stream). */
export function openReader(path: string): Socket {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return new Socket({ fd, readable: true, writable: false });
}

/** Opens the FIFO's write end (fails with ENXIO when nobody reads it). */
export function openWriter(path: string): Socket {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return new Socket({ fd, readable: false, writable: true });
}

/** Copies the stdout and stderr FIFOs into a CRI log until both reach EOF (or `detach`). */
export class LogPump {
  readonly done: Promise<void>;
  private readonly sockets: Socket[] = [];

  constructor(
    private readonly writer: CriLogWriter,
    fifos: Record<LogStream, string>,
  ) {
    const ends: Promise<void>[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      const s = openReader(fifos[stream]);
      this.sockets.push(s);
      ends.push(
        new Promise<void>((resolve) => {
          s.on("data", (b: Buffer) => writer.write(stream, b));
          s.on("end", () => resolve());
          s.on("close", () => resolve());
          s.on("error", () => resolve());
        }),
      );
    }
    this.done = Promise.all(ends).then(() => undefined);
  }

  /** Stops reading without waiting for EOF (the kubelet is going away; the container is not). */
  detach(): void {
    for (const s of this.sockets) s.destroy();
    this.writer.close();
  }
}
