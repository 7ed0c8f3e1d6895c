// A real terminal for the introspection tests: a detached tmux session running a command, driven with send-keys
// and read with capture-pane.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export class TmuxSession {
  readonly name = `s2d-introspect-${randomBytes(4).toString("hex")}`;

  /** Starts `command` (a shell line) in a 200x50 terminal; it then prints `<marker>=<exit code>` and stays. */
  constructor(command: string, readonly exitMarker = "STAPEL-TEST-EXIT") {
    execFileSync("tmux", ["new-session", "-d", "-s", this.name, "-x", "200", "-y", "50",
      `${command}; echo ${exitMarker}=$?; sleep 3600`]);
    execFileSync("tmux", ["set-option", "-t", this.name, "history-limit", "20000"]);
  }

  /** The whole pane with its history. */
  capture(): string {
    return execFileSync("tmux", ["capture-pane", "-p", "-J", "-S", "-", "-t", this.name], { encoding: "utf8" });
  }

  send(line: string): void {
    execFileSync("tmux", ["send-keys", "-t", this.name, "-l", line]);
    execFileSync("tmux", ["send-keys", "-t", this.name, "Enter"]);
  }

  /** Waits until the pane (after `from` characters) matches; returns the match. */
  async waitFor(re: RegExp, timeoutMs = 120_000, from = 0): Promise<RegExpMatchArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = this.capture().slice(from);
      const m = text.match(re);
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in the terminal:\n${text.split("\n").filter((l) => l.trim()).slice(-40).join("\n")}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Waits for the command's exit code. */
  async exitCode(timeoutMs = 180_000): Promise<number> {
    const m = await this.waitFor(new RegExp(`${this.exitMarker}=(\\d+)`), timeoutMs);
    return Number(m[1]);
  }

  kill(): void {
    try {
      execFileSync("tmux", ["kill-session", "-t", this.name]);
    } catch {
      // already gone
    }
  }
}

/** A shell-quoted word. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
