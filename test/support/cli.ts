import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './data.js';

const run = promisify(execFile);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const DIST_CLI = path.join(REPO_ROOT, 'dist/cli.js');

/**
 * Node arguments that run the CLI: `dist/cli.js` when the build is at least as new as src/ (CI
 * builds first; a start-up is ~1 s instead of ~3 s through tsx), else the sources through tsx
 * (a stale build would test old code), said once on stderr.
 */
export const CLI_ARGS: readonly string[] = (() => {
  if (existsSync(DIST_CLI) && statSync(DIST_CLI).mtimeMs >= newestMtime(path.join(REPO_ROOT, 'src'))) return [DIST_CLI];
  console.warn('[cli] dist/cli.js is missing or older than src/: running the CLI from the sources (npm run build to use dist/)');
  return ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts')];
})();

/** Runs the CLI in a child process; never throws on a non-zero exit. */
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI_ARGS, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
