/**
 * Helpers of the fault-injection suite: the CLI as a child process, SIGKILL on an observed
 * condition, store set-up through the library, and the store readers the triggers poll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateDemoCatalogue, type DemoCatalogueOptions } from '../../src/demo/generate-catalogue.js';
import { BUILT_IN_MODELS } from '../../src/models/builtin.js';
import { NAIVE_BAYES_KIND, naiveBayesModel } from '../../src/models/naive-bayes.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import { TrainStage, type TrainResult } from '../../src/stages/train/stage.js';
import type { Store } from '../../src/stores/types.js';
import { CLI_ARGS } from '../support/cli.js';
import { REPO_ROOT, tempDir } from '../support/data.js';
import { readSource, type SourceData } from '../support/invariants.js';
import type { StoreBackend, StoreHarness } from '../support/stores.js';
import { mongoGate, sqliteGate, type WriteGate } from '../support/write-gate.js';

// ------------------------------------------------------------------------------------------------
// The CLI as a child process
// ------------------------------------------------------------------------------------------------

const CLI = CLI_ARGS;

/** A CLI child process. */
export interface CliChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly output: { stdout: string; stderr: string };
  /** Resolves when it has exited. */
  readonly exited: Promise<CliExit>;
}

/** How a CLI child ended. */
export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Starts `rakuten-pipeline ...args` (naive Bayes needs no TensorFlow backend: the cpu one starts fastest). */
export function startCli(args: readonly string[]): CliChild {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_COLOR: '0', RAKUTEN_TF_BACKEND: 'cpu' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (output.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (output.stderr += s));
  const exited = new Promise<CliExit>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, ...output });
    }),
  );
  if (child.pid === undefined) throw new Error(`cannot start the CLI: ${[...CLI, ...args].join(' ')}`);
  return { child, pid: child.pid, output, exited };
}

/** Runs the CLI to its end. */
export function runCli(args: readonly string[]): Promise<CliExit> {
  return startCli(args).exited;
}

/** Runs the CLI and expects exit code 0; returns its `--json` output parsed when asked. */
export async function runCliOk<T = unknown>(args: readonly string[]): Promise<T> {
  const r = await runCli(args);
  expect(r.code, `rakuten-pipeline ${args.join(' ')}\n${r.stderr}\n${r.stdout.slice(-2000)}`).toBe(0);
  return (args.includes('--json') ? JSON.parse(r.stdout) : r.stdout) as T;
}

/** No child outlives its test file. */
export function killChildrenAfterAll(): void {
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where a kill landed. */
export interface KillOutcome {
  /** Milliseconds from start to the kill. */
  ms: number;
  /** What the trigger saw. */
  seen: string;
}

/**
 * Polls `probe` (a reading of the store from the test, while the child writes) until it returns a
 * description of what it saw, then SIGKILLs the child. Fails the test when the child exits before
 * the trigger fires: the kill must land where the test says it does.
 */
export async function killWhen(
  cli: CliChild,
  probe: () => Promise<string | false | undefined> | string | false | undefined,
  options: { label: string; intervalMs?: number; timeoutMs?: number; beforeKill?: () => Promise<void> } = { label: 'trigger' },
): Promise<KillOutcome> {
  const started = Date.now();
  const timeout = options.timeoutMs ?? 90_000;
  let done = false;
  void cli.exited.then(() => (done = true));
  for (;;) {
    const seen = await probe();
    if (seen) {
      await options.beforeKill?.();
      const alive = !done && cli.child.exitCode === null && cli.child.signalCode === null;
      cli.child.kill('SIGKILL');
      const exit = await cli.exited;
      expect(alive && exit.signal === 'SIGKILL', `${options.label}: the child had already exited (${exit.code}) when the trigger fired\n${exit.stderr}`).toBe(true);
      return { ms: Date.now() - started, seen };
    }
    if (done) {
      const exit = await cli.exited;
      throw new Error(`${options.label}: the child exited (code ${exit.code}) before the trigger fired\n${exit.stderr}\n${exit.stdout.slice(0, 500)}`);
    }
    if (Date.now() - started > timeout) {
      cli.child.kill('SIGKILL');
      throw new Error(`${options.label}: trigger not reached after ${timeout} ms`);
    }
    await sleep(options.intervalMs ?? 2);
  }
}

/** Polls until `condition` holds (or fails after `timeoutMs`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, label: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${label}: not reached after ${timeoutMs} ms`);
    await sleep(5);
  }
}

// ------------------------------------------------------------------------------------------------
// Data and stores
// ------------------------------------------------------------------------------------------------

/** A demo catalogue on disk with its expected content. */
export interface Catalogue {
  dir: string;
  source: SourceData;
}

/**
 * Small synthetic catalogues, made once per test file and deleted after it. A few faults
 * (rows without id, duplicate productids, a label for no row, missing images) make the good rows
 * differ from the raw rows.
 */
export function useCatalogues(specs: Record<string, Partial<DemoCatalogueOptions> & { indexOffset?: number }>): Record<string, Catalogue> {
  const out: Record<string, Catalogue> = {};
  beforeAll(async () => {
    for (const [name, { indexOffset, ...spec }] of Object.entries(specs)) {
      const dir = await tempDir(`rp-faults-${name}-`);
      await generateDemoCatalogue({
        outDir: dir,
        rows: 600,
        imageSize: 32,
        imageFraction: 0.2,
        faults: { missingId: 2, duplicateProductId: 2, unknownLabel: 1, missingImage: 2 },
        ...spec,
      });
      if (indexOffset) await shiftIndexes(dir, indexOffset);
      out[name] = { dir, source: await readSource(dir) };
    }
  }, 120_000);
  afterAll(async () => {
    for (const c of Object.values(out)) await rm(c.dir, { recursive: true, force: true });
  });
  return out;
}

/**
 * Adds `offset` to the index column of every CSV of a catalogue, so that its rows have ids no
 * other catalogue has (a load of it then shows as new documents whatever the store layout).
 */
async function shiftIndexes(dir: string, offset: number): Promise<void> {
  for (const name of ['X_train_update.csv', 'Y_train_CVw08PX.csv', 'X_test_update.csv']) {
    const file = path.join(dir, name);
    const [header, ...rows] = parse(await readFile(file, 'utf8'), { relax_column_count: true }) as string[][];
    const shifted = rows.map(([index = '', ...rest]) => [/^\d+$/.test(index) ? String(Number(index) + offset) : index, ...rest]);
    await writeFile(file, stringify([header ?? [], ...shifted]));
  }
}

/** Loads a folder through the library. */
export async function loadInto(store: Store, dir: string): Promise<void> {
  await new ChallengeDataLoader(store).load({ dataDir: dir });
}

/** Prepares (preprocess + split) through the library. */
export async function prepareInto(store: Store, seed: number): Promise<void> {
  await new PrepareStage(store).run({ seed });
}

/** Trains and registers a naive-Bayes version through the library. */
export async function trainInto(store: Store, seed = 1): Promise<TrainResult> {
  return new TrainStage(store, naiveBayesModel, async () => 'none', new ModelRegistry(store, BUILT_IN_MODELS)).run({ seed, promote: 'always' });
}

/** CLI arguments of a quick training. */
export function trainArgs(storeUri: string, ...extra: string[]): string[] {
  return ['train', '--store', storeUri, '--kind', NAIVE_BAYES_KIND, '--json', ...extra];
}

/** Documents per collection (all collections), for triggers. */
export async function collectionCounts(store: Store): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of await store.documents.listCollections()) out.set(name, await store.documents.collection(name).count());
  return out;
}

/** Collections whose count differs from `before` (new ones included), ignoring `ignore`. */
export function changedCollections(before: Map<string, number>, after: Map<string, number>, ignore: readonly string[] = []): { name: string; delta: number }[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names]
    .filter((n) => !ignore.includes(n))
    .map((name) => ({ name, delta: (after.get(name) ?? 0) - (before.get(name) ?? 0) }))
    .filter((c) => c.delta !== 0);
}

/** Opens a second connection to a harness's store (a reader beside the child). */
export async function withReader<T>(harness: StoreHarness, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await harness.open();
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Whether a harness is the embedded store. */
export const isEmbedded = (harness: StoreHarness) => !harness.uri.startsWith('mongodb');

// ------------------------------------------------------------------------------------------------
// Tests on both stores, two at a time
// ------------------------------------------------------------------------------------------------

/** A fresh store for one test. */
export interface StoreCtx {
  readonly store: Store;
  readonly harness: StoreHarness;
}

let running = 0;
const waiting: (() => void)[] = [];
/** At most `FAULT_TESTS_AT_ONCE` (default 2) fault tests run at once in a file: one per core. */
const AT_ONCE = Number(process.env['FAULT_TESTS_AT_ONCE'] ?? 2);
/** Runs `work` when a slot is free. */
export async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * Registers tests of one backend, each on a fresh store. Declare them inside `describe.concurrent`:
 * the suites of both stores then run side by side, two tests at a time (the CLI children of one
 * use the core the other leaves idle).
 */
export function storeTest(backend: StoreBackend): (name: string, body: (ctx: StoreCtx) => Promise<void>, timeoutMs?: number) => void {
  return (name, body, timeoutMs = 300_000) => {
    it.skipIf(backend.skip)(`${name} [${backend.name}]`, { timeout: timeoutMs }, () =>
      slot(async () => {
        const harness = await backend.create();
        const store = await harness.open();
        try {
          await body({ store, harness });
        } finally {
          await store.close();
          await harness.dispose();
        }
      }),
    );
  };
}

/**
 * Starts one CLI per argument list at once, each held at its first write by a write gate (one
 * SQLite lock, or one MongoDB proxy each), releases them together and waits for all. `args` gets
 * the store URI to use (the proxy's on MongoDB). Asserts that every child reached the gate.
 */
export async function clisAtOnce(harness: StoreHarness, argLists: readonly ((storeUri: string) => string[])[], what: string): Promise<CliExit[]> {
  const gates: WriteGate[] = isEmbedded(harness) ? [sqliteGate(harness.uri)] : await Promise.all(argLists.map(() => mongoGate(harness.uri)));
  const gateFor = (i: number) => gates[i % gates.length]!;
  try {
    for (const g of gates) await g.close();
    const clis = argLists.map((args, i) => startCli(args(gateFor(i).uri)));
    // A child waiting in SQLite's busy handler is seen between two of its retries: once seen, it stays lined up.
    const lined = clis.map(() => false);
    for (const started = Date.now(); Date.now() - started < 60_000; await sleep(5)) {
      clis.forEach((c, i) => (lined[i] ||= gateFor(i).isHeld(c.pid)));
      if (clis.every((c, i) => lined[i] || c.child.exitCode !== null)) break;
    }
    for (const g of gates) await g.open();
    const exits = await Promise.all(clis.map((c) => c.exited));
    expect(lined, `${what} reached their first write`).toEqual(argLists.map(() => true));
    return exits;
  } finally {
    for (const g of gates) await g.dispose();
  }
}
