// Builds real git repositories in temp dirs for the git tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, symlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
  GIT_AUTHOR_DATE: "2024-01-02T03:04:05Z",
  GIT_COMMITTER_DATE: "2024-01-02T03:04:05Z",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: ENV, encoding: "utf8" }).trim();
}

const madeDirs: string[] = [];

/** A new folder under the temp dir, removed when the test file's process exits (each test file runs in its own). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `s2d-${prefix}-`));
  if (madeDirs.length === 0) process.once("exit", () => { for (const d of madeDirs) rmSync(d, { recursive: true, force: true }); });
  madeDirs.push(dir);
  return dir;
}

export function writeFile(root: string, rel: string, content: string | Buffer, mode?: number): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  if (mode !== undefined) chmodSync(p, mode);
}

/** 64 KiB of deterministic binary data including NUL bytes and invalid UTF-8. */
export function binaryData(size = 65536): Buffer {
  const b = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >> 16;
  }
  b[0] = 0;
  b[1] = 0xff;
  return b;
}

/** A repository with one commit: nested dirs, an executable, a symlink, a binary, unicode and spaces. */
export function makeRepo(): { dir: string; commit: string; cleanup(): void } {
  const dir = tempDir("repo");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "README.md", "# demo\n");
  writeFile(dir, "app/main.go", "package main\n");
  writeFile(dir, "app/lib/util.go", "package lib\n");
  writeFile(dir, "app/lib/deep/notes.txt", "deep\n");
  writeFile(dir, "app/bin/run.sh", "#!/bin/sh\necho run\n", 0o755);
  writeFile(dir, "app/data/blob.bin", binaryData());
  writeFile(dir, "app/dir with space/file é.txt", "spaced\n");
  writeFile(dir, "app/日本/語.txt", "unicode\n");
  writeFile(dir, "app/empty.txt", "");
  symlinkSync("main.go", path.join(dir, "app/link.go"));
  writeFile(dir, "docs/guide.md", "guide\n");
  writeFile(dir, "composer.json", "{}\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
  return { dir, commit: git(dir, "rev-parse", "HEAD"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Commits the current worktree state; returns the new commit id. */
export function commitAll(dir: string, message: string): string {
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}
