// The one way stapel2docker runs a child process to completion: output collected (and optionally passed on as it
// comes), input written, a timeout, SIGINT/SIGTERM forwarded, and a spawn failure (a missing program) reported as
// `error` instead of thrown. Long-lived helpers (the lock holder, ssh-agent, git streams) use `start`.

import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (no input: stdin is closed at once). */
  input?: string | Buffer;
  /** Killed with SIGKILL after this many milliseconds (`timedOut` is then set). */
  timeoutMs?: number;
  /** Sees every chunk of stdout and stderr as it comes. */
  onOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
  /** Pass SIGINT/SIGTERM received by this process on to the child while it runs. */
  forwardSignals?: boolean;
  /** Keep at most this many characters of each stream (the end); default: all. */
  keep?: number;
  /** stdout goes to this process's stdout/stderr instead of being collected. */
  inheritStdout?: boolean;
}

export interface RunResult {
  /** The exit code; null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Why the program could not be started (e.g. "spawn docker ENOENT"), with its errno code. */
  error?: { message: string; code?: string };
  timedOut: boolean;
}

/** Runs `cmd args` to completion; never rejects. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    const stdio: StdioOptions = ["pipe", opts.inheritStdout ? "inherit" : "pipe", "pipe"];
    try {
      child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio });
    } catch (e) {
      resolve({ code: null, signal: null, stdout: "", stderr: "", error: { message: (e as Error).message }, timedOut: false });
      return;
    }
    let stdout = "";
    let stderr = "";
    const keep = (s: string) => (opts.keep !== undefined && s.length > opts.keep ? s.slice(-opts.keep) : s);
    let error: RunResult["error"];
    let timedOut = false;
    const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), opts.timeoutMs) : undefined;
    const onInt = () => child.kill("SIGINT");
    const onTerm = () => child.kill("SIGTERM");
    if (opts.forwardSignals) {
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
    }
    child.stdout?.on("data", (b: Buffer) => {
      stdout = keep(stdout + b.toString("utf8"));
      opts.onOutput?.(b, "stdout");
    });
    child.stderr?.on("data", (b: Buffer) => {
      stderr = keep(stderr + b.toString("utf8"));
      opts.onOutput?.(b, "stderr");
    });
    child.on("error", (e: NodeJS.ErrnoException) => (error = { message: e.message, ...(e.code ? { code: e.code } : {}) }));
    child.stdin?.on("error", () => {});
    child.stdin?.end(opts.input);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (opts.forwardSignals) {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
      }
      resolve({ code, signal, stdout, stderr, ...(error ? { error } : {}), timedOut });
    });
  });
}

/** Runs `cmd args` on this process's terminal (stdio inherited), ignoring SIGINT meanwhile (the child gets it);
 *  resolves with the exit code. */
export function runInteractive(cmd: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, [...args], { stdio: "inherit" });
    const ignore = () => {};
    process.on("SIGINT", ignore);
    c.on("error", (e) => {
      process.off("SIGINT", ignore);
      reject(e);
    });
    c.on("close", (code) => {
      process.off("SIGINT", ignore);
      resolve(code ?? 1);
    });
  });
}

/** Starts a long-lived child with piped stdio (the caller reads and ends it). */
export function start(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stderr?: "pipe" | "inherit" } = {}): ChildProcess {
  return spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["pipe", "pipe", opts.stderr ?? "pipe"] });
}
