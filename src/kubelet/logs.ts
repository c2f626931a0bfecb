/**
 * Reads a container's CRI log file for `kubectl logs` (upstream pkg/kubelet/kuberuntime/logs):
 * records `<RFC3339Nano> <stdout|stderr> <F|P> <text>`, partial (P) records joined with what
 * follows into one line that gets one timestamp, tailLines, sinceSeconds/sinceTime, timestamps
 * (RFC3339 with a fixed 9-digit fraction, as upstream's RFC3339NanoFixed), limitBytes, and follow:
 * keep reading until the container is no longer running and the file is drained. A line counts for
 * tailLines once, however many partial records it took.
 *
 * Also here: PodLogOptions read from a query and validated, as both the API server and the
 * kubelet read them.
 */
import { watch as watchFile } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";

export type LogStream = "stdout" | "stderr";

export interface CriRecord {
  /** Nanoseconds since the epoch. */
  ns: bigint;
  /** The timestamp as upstream prints it with --timestamps. */
  fixed: string;
  stream: LogStream;
  partial: boolean;
  /** The text; a full (F) record's carries its newline. */
  content: Buffer;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 time with up to nine fraction digits (Go's RFC3339NanoLenient-ish). */
export function parseTimestamp(text: string): { ns: bigint; fixed: string } | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone] = m;
  const base = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone === "Z" ? "Z" : zone}`);
  if (Number.isNaN(base)) return undefined;
  const nanos = frac.padEnd(9, "0");
  return {
    ns: BigInt(base) * 1_000_000n + BigInt(nanos),
    fixed: `${y}-${mo}-${d}T${h}:${mi}:${s}.${nanos}${zone}`,
  };
}

/** One line of the file (with or without its newline); undefined for a line that is not CRI. */
export function parseCriRecord(line: Buffer): CriRecord | undefined {
  const sp1 = line.indexOf(32);
  if (sp1 < 0) return undefined;
  const ts = parseTimestamp(line.subarray(0, sp1).toString("latin1"));
  if (!ts) return undefined;
  const sp2 = line.indexOf(32, sp1 + 1);
  if (sp2 < 0) return undefined;
  const stream = line.subarray(sp1 + 1, sp2).toString("latin1");
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const sp3 = line.indexOf(32, sp2 + 1);
  // no delimiter after the tag: upstream's "log tag is not found"
  if (sp3 < 0) return undefined;
  // tags are ':'-separated and only the first matters (forward compatible, as upstream)
  const tag = line
    .subarray(sp2 + 1, sp3)
    .toString("latin1")
    .split(":")[0];
  if (tag !== "F" && tag !== "P") return undefined;
  const partial = tag === "P";
  let content = line.subarray(sp3 + 1);
  if (partial && content.length > 0 && content[content.length - 1] === 10) content = content.subarray(0, -1);
  if (!partial && (content.length === 0 || content[content.length - 1] !== 10)) {
    content = Buffer.concat([content, Buffer.from("\n")]);
  }
  return { ns: ts.ns, fixed: ts.fixed, stream, partial, content };
}

/** The tag of a complete record line, without parsing the rest ("F", "P" or undefined). */
function tagOf(line: Buffer): string | undefined {
  const sp1 = line.indexOf(32);
  const sp2 = sp1 < 0 ? -1 : line.indexOf(32, sp1 + 1);
  if (sp2 < 0) return undefined;
  const sp3 = line.indexOf(32, sp2 + 1);
  return line
    .subarray(sp2 + 1, sp3 < 0 ? line.length : sp3)
    .toString("latin1")
    .split(":")[0];
}

/**
 * Where the last `lines` lines start: scanning back from the end, a line ends at each full (F)
 * record; trailing partial records (a line still being written) count as one line.
 */
export async function tailStart(file: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  const CHUNK = 64 * 1024;
  let groups = 0;
  let sawFull = false;
  let trailingCounted = false;
  /** Counts one line read backwards; the offset to start from once enough lines are behind it. */
  const consider = (line: Buffer, endOffset: number): number | undefined => {
    const complete = line.length > 0 && line[line.length - 1] === 10;
    if (complete && tagOf(line) === "F") {
      sawFull = true;
      groups++;
      if (groups > lines) return endOffset;
    } else if (!sawFull && !trailingCounted && line.length > 0) {
      trailingCounted = true;
      groups++;
    }
    return undefined;
  };
  let pos = size;
  let carry: Buffer = Buffer.alloc(0);
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    const dataStart = pos - len;
    const chunk = Buffer.alloc(len);
    await file.read(chunk, 0, len, dataStart);
    const data = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
    let end = data.length;
    for (;;) {
      const nl = end >= 2 ? data.lastIndexOf(10, end - 2) : -1;
      if (nl < 0) break;
      const found = consider(data.subarray(nl + 1, end), dataStart + end);
      if (found !== undefined) return found;
      end = nl + 1;
    }
    carry = data.subarray(0, end);
    pos = dataStart;
  }
  if (carry.length > 0) consider(carry, carry.length);
  return 0;
}

export interface LogReadOptions {
  /** Only the last N lines (upstream tailLines); absent = all. */
  tailLines?: number;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Skip lines older than this (epoch nanoseconds). */
  sinceNs?: bigint;
  timestamps: boolean;
  /** Keep reading until isRunning() says no and the file is drained. */
  follow: boolean;
  /** Whether the container still runs (asked when the reader reaches the end of the file). */
  isRunning?: () => boolean | Promise<boolean>;
  /** Ends the read (the client went away). */
  signal?: AbortSignal;
  /** How often a follower checks without a file event (upstream's logForceCheckPeriod, 1 s). */
  pollMs?: number;
}

/** Receives output; a returned promise is awaited (backpressure). */
export type LogSink = (data: Buffer, stream: LogStream) => void | Promise<void>;

export class LogReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LogReadError";
  }
}

/** Streams the log at `path` to `sink` as the options say; resolves when done. */
export async function readContainerLog(path: string, opts: LogReadOptions, sink: LogSink): Promise<void> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (e) {
    throw new LogReadError(`failed to open log file "${path}": ${(e as Error).message}`);
  }
  try {
    await new LogReader(file, path, opts, sink).run();
  } finally {
    await file.close().catch(() => undefined);
  }
}

class LogReader {
  private file: FileHandle;
  private readonly path: string;
  private readonly opts: LogReadOptions;
  private readonly sink: LogSink;
  private pos = 0;
  private pending: Buffer = Buffer.alloc(0);
  /** Per stream: the previous record was partial (the next one continues its line). */
  private readonly inLine: Record<LogStream, boolean> = { stdout: false, stderr: false };
  /** Per stream: the line being continued was skipped by since. */
  private readonly skipping: Record<LogStream, boolean> = { stdout: false, stderr: false };
  private remaining: number;
  private linesLeft: number;

  constructor(file: FileHandle, path: string, opts: LogReadOptions, sink: LogSink) {
    this.file = file;
    this.path = path;
    this.opts = opts;
    this.sink = sink;
    this.remaining = opts.limitBytes ?? Number.POSITIVE_INFINITY;
    // without follow, tailLines also bounds how many lines are written (the file may grow meanwhile)
    this.linesLeft = opts.tailLines !== undefined && !opts.follow ? opts.tailLines : Number.POSITIVE_INFINITY;
  }

  async run(): Promise<void> {
    if (this.opts.tailLines !== undefined) {
      const { size } = await this.file.stat();
      this.pos = await tailStart(this.file, size, this.opts.tailLines);
    }
    if (this.linesLeft === 0) return;
    for (;;) {
      if (this.opts.signal?.aborted) return;
      const more = await this.readAvailable();
      if (more === "stop") return;
      if (!this.opts.follow) {
        await this.flushIncomplete();
        return;
      }
      const running = (await this.opts.isRunning?.()) ?? false;
      if (!running) {
        // the container stopped: take what it wrote last, then end
        if ((await this.readAvailable()) === "stop") return;
        await this.flushIncomplete();
        return;
      }
      await this.waitForChange();
      await this.reopenIfReplaced();
    }
  }

  /** Reads to the end of the file, writing complete records. */
  private async readAvailable(): Promise<"stop" | "eof"> {
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      if (this.opts.signal?.aborted) return "stop";
      const { bytesRead } = await this.file.read(buf, 0, buf.length, this.pos);
      if (bytesRead === 0) return "eof";
      this.pos += bytesRead;
      let data =
        this.pending.length > 0
          ? Buffer.concat([this.pending, buf.subarray(0, bytesRead)])
          : buf.subarray(0, bytesRead);
      for (;;) {
        const nl = data.indexOf(10);
        if (nl < 0) break;
        const line = data.subarray(0, nl + 1);
        data = data.subarray(nl + 1);
        if ((await this.record(line)) === "stop") return "stop";
      }
      this.pending = Buffer.from(data);
    }
  }

  /** Without follow, a last line the runtime has not finished is still shown (upstream does so too). */
  private async flushIncomplete(): Promise<void> {
    if (this.pending.length === 0) return;
    const line = this.pending;
    this.pending = Buffer.alloc(0);
    await this.record(line);
  }

  private async record(line: Buffer): Promise<"stop" | "ok"> {
    const rec = parseCriRecord(line);
    if (!rec) return "ok"; // a line that does not parse is skipped, as upstream logs and skips it
    const continuing = this.inLine[rec.stream];
    this.inLine[rec.stream] = rec.partial;
    if (!continuing) {
      this.skipping[rec.stream] = this.opts.sinceNs !== undefined && rec.ns < this.opts.sinceNs;
    }
    if (this.skipping[rec.stream]) return "ok";
    let out = rec.content;
    if (this.opts.timestamps && !continuing) out = Buffer.concat([Buffer.from(`${rec.fixed} `), out]);
    if (out.length > this.remaining) out = out.subarray(0, this.remaining);
    this.remaining -= out.length;
    if (out.length > 0) await this.sink(out, rec.stream);
    if (this.remaining <= 0) return "stop";
    if (!rec.partial) {
      this.linesLeft--;
      if (this.linesLeft <= 0) return "stop";
    }
    return "ok";
  }

  /** Until the file changes, the poll period passes, or the read is aborted. */
  private waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      let watcher: ReturnType<typeof watchFile> | undefined;
      const done = () => {
        clearTimeout(timer);
        watcher?.close();
        this.opts.signal?.removeEventListener("abort", done);
        resolve();
      };
      // cleared when the wait ends or the read is aborted
      const timer = setTimeout(done, this.opts.pollMs ?? 1000);

      try {
        watcher = watchFile(this.path, { persistent: false }, done);
        watcher.on("error", done);
      } catch {
        // no inotify: the poll period alone paces the follower
      }
      this.opts.signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** A log file replaced by a new one (rotation by rename): continue in the new file from its start. */
  private async reopenIfReplaced(): Promise<void> {
    try {
      const [now, mine] = await Promise.all([stat(this.path), this.file.stat()]);
      if (now.ino === mine.ino && now.size >= this.pos) return;
      if (now.ino === mine.ino) {
        // truncated in place (copytruncate): start over
        this.pos = 0;
        this.pending = Buffer.alloc(0);
        return;
      }
      // drain what the old file still had before switching
      await this.readAvailable();
      const next = await open(this.path, "r");
      await this.file.close().catch(() => undefined);
      this.file = next;
      this.pos = 0;
      this.pending = Buffer.alloc(0);
    } catch {
      // the file is gone for a moment during rotation: keep the open one
    }
  }
}

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  /** RFC 3339 as given. */
  sinceTime?: string;
  insecureSkipTLSVerifyBackend: boolean;
}

export type OptionsError =
  | { kind: "decode"; message: string }
  | { kind: "invalid"; causes: Array<{ field: string; message: string }> };

/** Go's strconv.ParseBool. */
function parseBool(name: string, v: string): boolean | OptionsError {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False", ""].includes(v)) return false;
  return { kind: "decode", message: `strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax (${name})` };
}

function parseInt64(v: string): number | OptionsError {
  if (!/^[+-]?\d+$/.test(v))
    return { kind: "decode", message: `strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax` };
  const n = Number(v);
  if (!Number.isSafeInteger(n)) {
    return { kind: "decode", message: `strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range` };
  }
  return n;
}

function isErr(v: unknown): v is OptionsError {
  return typeof v === "object" && v !== null && "kind" in v;
}

/**
 * PodLogOptions from a query (the API server's and the kubelet's), validated as upstream's
 * ValidatePodLogOptions: tailLines >= 0, limitBytes > 0, sinceSeconds > 0, not both since forms.
 * The kubelet also takes the legacy `tail` (a number, or "all").
 */
export function parsePodLogOptions(query: URLSearchParams): PodLogOptions | OptionsError {
  const out: PodLogOptions = { follow: false, previous: false, timestamps: false, insecureSkipTLSVerifyBackend: false };
  const container = query.get("container");
  if (container) out.container = container;
  for (const k of ["follow", "previous", "timestamps", "insecureSkipTLSVerifyBackend"] as const) {
    const v = query.get(k);
    if (v === null) continue;
    const b = parseBool(k, v);
    if (isErr(b)) return b;
    out[k] = b;
  }
  let tail = query.get("tailLines");
  const legacy = query.get("tail");
  if (legacy !== null && legacy !== "") tail = legacy === "all" ? null : legacy;
  for (const [k, v] of [
    ["tailLines", tail],
    ["limitBytes", query.get("limitBytes")],
    ["sinceSeconds", query.get("sinceSeconds")],
  ] as const) {
    if (v === null || v === "") continue;
    const n = parseInt64(v);
    if (isErr(n)) return n;
    out[k] = n;
  }
  const sinceTime = query.get("sinceTime");
  if (sinceTime !== null && sinceTime !== "") {
    if (
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(sinceTime) ||
      Number.isNaN(Date.parse(sinceTime))
    ) {
      return {
        kind: "decode",
        message: `parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(sinceTime)} as "2006"`,
      };
    }
    out.sinceTime = sinceTime;
  }
  const causes: Array<{ field: string; message: string }> = [];
  if (out.tailLines !== undefined && out.tailLines < 0) {
    causes.push({ field: "tailLines", message: `Invalid value: ${out.tailLines}: must be greater than or equal to 0` });
  }
  if (out.limitBytes !== undefined && out.limitBytes < 1) {
    causes.push({ field: "limitBytes", message: `Invalid value: ${out.limitBytes}: must be greater than 0` });
  }
  if (out.sinceSeconds !== undefined && out.sinceTime !== undefined) {
    causes.push({ field: "", message: "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified" });
  } else if (out.sinceSeconds !== undefined && out.sinceSeconds < 1) {
    causes.push({ field: "sinceSeconds", message: `Invalid value: ${out.sinceSeconds}: must be greater than 0` });
  }
  if (causes.length > 0) return { kind: "invalid", causes };
  return out;
}

/** The earliest time a line may have (upstream NewLogOptions: the later of both since forms). */
export function sinceNanos(opts: PodLogOptions, nowMs: number = Date.now()): bigint | undefined {
  let since: bigint | undefined;
  if (opts.sinceSeconds !== undefined) since = BigInt(nowMs - opts.sinceSeconds * 1000) * 1_000_000n;
  if (opts.sinceTime !== undefined) {
    const t = BigInt(Date.parse(opts.sinceTime)) * 1_000_000n;
    if (since === undefined || t > since) since = t;
  }
  return since;
}

/** The query the API server sends the kubelet for these options (upstream LogLocation's params). */
export function podLogQuery(opts: PodLogOptions): URLSearchParams {
  const q = new URLSearchParams();
  if (opts.follow) q.set("follow", "true");
  if (opts.previous) q.set("previous", "true");
  if (opts.timestamps) q.set("timestamps", "true");
  if (opts.sinceSeconds !== undefined) q.set("sinceSeconds", String(opts.sinceSeconds));
  if (opts.sinceTime !== undefined)
    q.set("sinceTime", new Date(Date.parse(opts.sinceTime)).toISOString().replace(/\.\d{3}Z$/, "Z"));
  if (opts.tailLines !== undefined) q.set("tailLines", String(opts.tailLines));
  if (opts.limitBytes !== undefined) q.set("limitBytes", String(opts.limitBytes));
  return q;
}
