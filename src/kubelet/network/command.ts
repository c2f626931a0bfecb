/**
 * Runs a host tool (ip, runc, mount, ...) with an argv (never a shell line), collecting its
 * output. A non-zero exit is a CommandError carrying the tool's stderr, so callers can say what
 * went wrong; a timeout kills the tool.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";

export class CommandError extends Error {
  readonly code: number | null;
  readonly stderr: string;
  readonly stdout: string;
  constructor(file: string, args: string[], code: number | null, stdout: string, stderr: string, signal?: string) {
    const how = signal ? `killed by ${signal}` : `exit status ${code}`;
    super(`${file} ${args.join(" ")}: ${how}${stderr.trim() ? `: ${stderr.trim()}` : ""}`);
    this.name = "CommandError";
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

export interface CommandOptions {
  /** Written to the tool's stdin (closed after). */
  input?: string;
  /** Kill the tool after this long (default 30 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the tool and resolves with its output whatever its exit status (spawn failures reject). */
export function runTool(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"],
      env: opts.env ?? process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    timer.unref();
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === null) {
        reject(new CommandError(file, args, null, stdout, stderr, signal ?? "signal"));
        return;
      }
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) {
      child.stdin?.on("error", () => {});
      child.stdin?.end(opts.input);
    }
  });
}

/** Runs the tool and rejects with a CommandError unless it exits 0. */
export async function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<string> {
  const r = await runTool(file, args, opts);
  if (r.code !== 0) throw new CommandError(file, args, r.code, r.stdout, r.stderr);
  return r.stdout;
}

/** The first executable called `name` on PATH (or in the usual sbin folders), if any. */
export function findExecutable(
  name: string,
  extra: string[] = ["/usr/sbin", "/sbin", "/usr/local/sbin"],
): string | undefined {
  const dirs = [...(process.env["PATH"] ?? "").split(":").filter(Boolean), ...extra];
  for (const d of dirs) {
    const p = `${d}/${name}`;
    if (isExecutable(p)) return p;
  }
  return undefined;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
