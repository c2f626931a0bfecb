/**
 * Commands run in a running container through `runc exec` in the foreground (runc joins the
 * container's namespaces and cgroup, relays stdio and exits with the command's status). Without a
 * TTY over pipes; with one under a node-pty pseudo-terminal (runc allocates the console, resizes
 * follow the pty). A runc failure (no such command, container gone) is a RuntimeError with runc's
 * message, not an exit code. A timed-out execSync kills the command itself (its pid file), not only
 * runc, so nothing is left running in the container.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { type ExecStreams, RuntimeError } from "../types.js";
import { lastRuncError } from "./exit.js";
import { ptyChunk } from "./monitor.js";

export interface ExecTarget {
  runcPath: string;
  runcRoot: string;
  id: string;
  /** A directory for the exec's pid and log files (the container's). */
  dir: string;
}

interface ExecFiles {
  pidFile: string;
  log: string;
}

function execFiles(t: ExecTarget): ExecFiles {
  const tag = randomBytes(6).toString("hex");
  return { pidFile: join(t.dir, `exec-${tag}.pid`), log: join(t.dir, `exec-${tag}.log`) };
}

function execArgv(t: ExecTarget, f: ExecFiles, argv: string[], tty: boolean): string[] {
  return [
    "--root",
    t.runcRoot,
    "--log",
    f.log,
    "--log-format",
    "json",
    "exec",
    ...(tty ? ["--tty"] : []),
    "--pid-file",
    f.pidFile,
    t.id,
    ...argv,
  ];
}

/** runc's own failure, if it logged one; removes the exec's files. */
function finishExec(f: ExecFiles): string | undefined {
  let err: string | undefined;
  try {
    err = lastRuncError(readFileSync(f.log, "utf8"));
  } catch {
    err = undefined;
  }
  rmSync(f.log, { force: true });
  rmSync(f.pidFile, { force: true });
  return err;
}

function killExecProcess(f: ExecFiles): void {
  try {
    const pid = Number(readFileSync(f.pidFile, "utf8").trim());
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, "SIGKILL");
  } catch {
    // not started yet or already gone
  }
}

function validateArgv(argv: string[]): void {
  if (argv.length === 0 || argv[0] === "") throw new RuntimeError("ExecError", "exec needs a command");
}

export async function runcExec(t: ExecTarget, argv: string[], streams: ExecStreams): Promise<number> {
  validateArgv(argv);
  const f = execFiles(t);
  const code = streams.tty ? await execTty(t, f, argv, streams) : await execPipes(t, f, argv, streams);
  const err = finishExec(f);
  if (err !== undefined) throw new RuntimeError("ExecError", `cannot exec in container ${t.id}: ${err}`);
  return code;
}

function execPipes(t: ExecTarget, f: ExecFiles, argv: string[], streams: ExecStreams): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(t.runcPath, execArgv(t, f, argv, false), {
      stdio: [streams.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    child.on("error", (e) => reject(new RuntimeError("ExecError", `cannot run runc exec: ${e.message}`)));
    child.stdout?.on("data", (b: Buffer) => streams.stdout?.write(b));
    child.stderr?.on("data", (b: Buffer) => (streams.stderr ?? streams.stdout)?.write(b));
    if (streams.stdin && child.stdin) {
      const input = streams.stdin;
      const sink = child.stdin;
      sink.on("error", () => {});
      const onData = (b: Buffer) => sink.write(b);
      const onEnd = () => sink.end();
      input.on("data", onData);
      input.on("end", onEnd);
      child.on("close", () => {
        input.off("data", onData);
        input.off("end", onEnd);
      });
    }
    child.on("close", (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + (signal ? signalNumber(signal) : 9));
    });
  });
}

async function execTty(t: ExecTarget, f: ExecFiles, argv: string[], streams: ExecStreams): Promise<number> {
  const { spawn: ptySpawn } = await import("node-pty");
  const pty = ptySpawn(t.runcPath, execArgv(t, f, argv, true), {
    name: "xterm",
    cols: 80,
    rows: 24,
    env: { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin", TERM: "xterm" },
    encoding: null,
  });
  pty.onData((d: unknown) => streams.stdout?.write(ptyChunk(d)));
  streams.onResize?.((size) => {
    if (size.width > 0 && size.height > 0) {
      try {
        pty.resize(size.width, size.height);
      } catch {
        // the pty is gone
      }
    }
  });
  const onData = (b: Buffer) => pty.write(b);
  streams.stdin?.on("data", onData);
  const code = await new Promise<number>((resolve) => {
    pty.onExit((e) => resolve(e.signal ? 128 + e.signal : e.exitCode));
  });
  streams.stdin?.off("data", onData);
  return code;
}

export async function runcExecSync(
  t: ExecTarget,
  argv: string[],
  timeoutMs: number,
  maxOutput: number,
): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
  validateArgv(argv);
  const f = execFiles(t);
  const result = await new Promise<{ exitCode: number; output: string; timedOut: boolean }>((resolve, reject) => {
    const child = spawn(t.runcPath, execArgv(t, f, argv, false), { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (b: Buffer) => {
      if (size >= maxOutput) return;
      const part = b.subarray(0, maxOutput - size);
      chunks.push(part);
      size += part.length;
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    let timedOut = false;
    let hardKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killExecProcess(f);
      hardKill = setTimeout(() => child.kill("SIGKILL"), 2000);
      hardKill.unref();
    }, timeoutMs);
    timer.unref();
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new RuntimeError("ExecError", `cannot run runc exec: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      resolve({
        exitCode: code ?? 128 + (signal ? signalNumber(signal) : 9),
        output: Buffer.concat(chunks).toString("utf8"),
        timedOut,
      });
    });
  });
  const err = finishExec(f);
  if (err !== undefined && !result.timedOut)
    throw new RuntimeError("ExecError", `cannot exec in container ${t.id}: ${err}`);
  return result;
}

function signalNumber(name: string): number {
  return (constants.signals as Record<string, number | undefined>)[name] ?? 9;
}
