/**
 * Writes a container's output in the CRI log format containerd and CRI-O use, which the kubelet
 * reads for `kubectl logs`: `<RFC3339Nano> <stdout|stderr> <F|P> <text>\n`. A line longer than
 * 16 KiB is cut into partial (P) records; a final fragment without a newline is a full (F) one.
 */
import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

const MAX_LINE = 16 * 1024;

/** RFC 3339 with nanoseconds (from ms plus hrtime's sub-ms part), as containerd stamps lines. */
export function rfc3339Nano(ms: number = Date.now(), extraNs = Number(process.hrtime.bigint() % 1_000_000n)): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  const ns = String((ms % 1000) * 1_000_000 + extraNs).padStart(9, "0");
  return `${iso.slice(0, 19)}.${ns}Z`;
}

export type LogStream = "stdout" | "stderr";

export class CriLogWriter {
  private fd: number | undefined;
  private readonly pending: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly listeners = new Set<(stream: LogStream, data: Buffer) => void>();

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    // make sure the file exists from the start (kubectl logs of a silent container is empty, not an error)
    appendFileSync(path, "", { mode: 0o640 });
    this.fd = openSync(path, "a");
  }

  /** Live copies of everything written (kubectl attach). */
  subscribe(listener: (stream: LogStream, data: Buffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  write(stream: LogStream, chunk: Buffer): void {
    for (const l of this.listeners) l(stream, chunk);
    let buf = this.pending[stream].length > 0 ? Buffer.concat([this.pending[stream], chunk]) : chunk;
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl >= 0 && nl <= MAX_LINE) {
        this.record(stream, "F", buf.subarray(0, nl));
        buf = buf.subarray(nl + 1);
        continue;
      }
      if (buf.length > MAX_LINE) {
        this.record(stream, "P", buf.subarray(0, MAX_LINE));
        buf = buf.subarray(MAX_LINE);
        continue;
      }
      break;
    }
    this.pending[stream] = Buffer.from(buf);
  }

  /** Writes what is left of unterminated lines and closes the file. */
  close(): void {
    for (const s of ["stdout", "stderr"] as const) {
      if (this.pending[s].length > 0) this.record(s, "F", this.pending[s]);
      this.pending[s] = Buffer.alloc(0);
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.listeners.clear();
  }

  private record(stream: LogStream, tag: "F" | "P", text: Buffer): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, Buffer.concat([Buffer.from(`${rfc3339Nano()} ${stream} ${tag} `), text, Buffer.from("\n")]));
  }
}
