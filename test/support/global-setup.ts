import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startMongoEmulator } from './mongo-emulator.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The MobileNetV2 weights the models read are written by the build (scripts/extract-weights.mjs,
 * from the nsfwjs devDependency); a test run without a build writes them first.
 */
function ensureWeights(): void {
  if (existsSync(path.join(REPO_ROOT, 'weights/mobilenet_v2/model.json'))) return;
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/extract-weights.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongo: { uri: string; kind: 'server' | 'emulator' | 'none'; reason: string };
  }
}

/**
 * Gives the MongoDB test suites a server: the real one in MONGODB_URI when set, else the
 * mongomock wire emulator. Outside CI a missing emulator skips those suites (loudly); in CI it fails.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  ensureWeights();
  const real = process.env['MONGODB_URI'];
  if (real) {
    console.log(`[mongodb] contract and stage suites run against the REAL server in MONGODB_URI`);
    project.provide('mongo', { uri: real, kind: 'server', reason: '' });
    return undefined;
  }
  try {
    const emulator = await startMongoEmulator();
    console.log(
      `[mongodb] suites run against the mongomock wire EMULATOR at ${emulator.uri} ` +
        '(no transactions or text search; set MONGODB_URI to test a real server)',
    );
    project.provide('mongo', { uri: emulator.uri, kind: 'emulator', reason: '' });
    return () => emulator.stop();
  } catch (error) {
    if (process.env['CI']) throw error;
    const reason = `MongoDB suites SKIPPED: ${(error as Error).message}`;
    console.warn(`[mongodb] ${reason}`);
    project.provide('mongo', { uri: '', kind: 'none', reason });
    return undefined;
  }
}
