/**
 * Helpers the examples share (this module only exports functions; run the other files).
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ProgressEvent } from 'rakuten-pipeline';
import { generateDemoCatalogue } from 'rakuten-pipeline/demo';

/**
 * Runs an example's `main`, printing a failure as one readable message and exiting with 1.
 * (TensorFlow.js's wasm backend rethrows uncaught errors from its own handler, which would
 * otherwise print a screenful of minified code.)
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['DEBUG'] && e instanceof Error) console.error(e.stack);
    process.exit(1);
  });
}

/**
 * The data folder named on the command line, or else a synthetic demo catalogue generated in a
 * temp folder (the real rows: pass ../shared/data/rakuten).
 */
export async function dataDirFromArg(arg: string | undefined, rows = 600): Promise<string> {
  if (arg) return path.resolve(arg);
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'rp-demo-'));
  const demo = await generateDemoCatalogue({ outDir, rows });
  console.log(`no data folder given: generated a synthetic demo catalogue (${demo.trainRows} rows) in ${demo.outDir}`);
  return demo.outDir;
}

/** `done/total unit` of a progress event, with a percentage when the total is known. */
export function describeProgress(e: ProgressEvent): string {
  if (e.total <= 0) return `${e.stage} ${e.phase}: ${e.done} ${e.unit}`;
  return `${e.stage} ${e.phase}: ${e.done}/${e.total} ${e.unit} (${Math.floor((100 * e.done) / e.total)}%)`;
}

/**
 * A progress display on stderr: on a terminal, one line redrawn at most every 200 ms; elsewhere
 * (logs, CI), a new line at most every `everyMs` (default 2 s) or when the phase changes. Call
 * `done()` before printing anything else.
 */
export function progressLine(everyMs = 2_000): ((e: ProgressEvent) => void) & { done(): void } {
  const tty = Boolean(process.stderr.isTTY);
  let last = 0;
  let phase = '';
  let shown = false;
  const show = (e: ProgressEvent) => {
    const now = Date.now();
    const newPhase = `${e.stage}/${e.phase}` !== phase;
    if (now - last < (tty ? 200 : everyMs) && !(newPhase && !tty)) return;
    last = now;
    phase = `${e.stage}/${e.phase}`;
    if (tty) {
      shown = true;
      process.stderr.write(`\r\x1b[2K  ${describeProgress(e)}`);
    } else process.stderr.write(`  ${describeProgress(e)}\n`);
  };
  return Object.assign(show, {
    done() {
      if (shown) process.stderr.write('\r\x1b[2K');
      shown = false;
      phase = '';
    },
  });
}
