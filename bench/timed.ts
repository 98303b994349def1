/**
 * Runs a command as a child process under GNU time (`/usr/bin/time`), for per-process wall
 * time, CPU time (user + system, all threads) and peak RSS. Used by `bench/scale.ts` and the
 * streaming-memory test.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** GNU time's path. */
export const GNU_TIME = '/usr/bin/time';

/** Whether GNU time is installed (Debian package `time`). */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

/** What {@link timedRun} measured. */
export interface TimedResult {
  /** Exit code of the command (null if killed by a signal). */
  code: number | null;
  /** Wall-clock seconds. */
  wallSeconds: number;
  /** User + system CPU seconds of the process and its threads. */
  cpuSeconds: number;
  /** Peak resident set size in bytes. */
  maxRssBytes: number;
  /** Standard output (the stage's `--json` document). */
  stdout: string;
  /** Standard error, when not inherited (its last 64 KiB). */
  stderr: string;
}

/** Options of {@link timedRun}. */
export interface TimedRunOptions {
  /** Pass the child's stderr through (progress bars) instead of capturing it (default false). */
  inheritStderr?: boolean;
  /** Working directory of the child. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Runs `command args...` under `/usr/bin/time` and returns its figures. Never throws on a
 * non-zero exit (see `code`); throws when GNU time is missing or its report cannot be read.
 */
export async function timedRun(command: string, args: readonly string[], options: TimedRunOptions = {}): Promise<TimedResult> {
  if (!hasGnuTime()) throw new Error(`${GNU_TIME} not found: install GNU time (Debian package "time")`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rp-timed-'));
  const report = path.join(dir, 'time.txt');
  try {
    // Elapsed seconds, user and system CPU seconds, max RSS in KiB; to a file, so the command's
    // own stderr stays untouched.
    const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', report, command, ...args], {
      cwd: options.cwd,
      env: { ...process.env, FORCE_COLOR: '0', ...options.env },
      stdio: ['ignore', 'pipe', options.inheritStderr === true ? 'inherit' : 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-65_536);
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c));
    });
    // GNU time prefixes "Command exited with non-zero status N" on failures: the figures are the last line.
    const last = (await readFile(report, 'utf8')).trim().split('\n').at(-1) ?? '';
    const [wall, user, sys, rssKiB] = last.split(' ').map(Number);
    if (wall === undefined || user === undefined || sys === undefined || rssKiB === undefined || [wall, user, sys, rssKiB].some(Number.isNaN)) {
      throw new Error(`unreadable ${GNU_TIME} report: ${JSON.stringify(last)}`);
    }
    return { code, wallSeconds: wall, cpuSeconds: user + sys, maxRssBytes: rssKiB * 1024, stdout: Buffer.concat(out).toString('utf8'), stderr: err };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
