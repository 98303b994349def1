import type { Command } from 'commander';
import { LoadParams } from '../../stages/options.js';
import { addSchemaFlags, schemaValues } from '../flags.js';
import { formatEntry } from '../../stages/load/quarantine.js';
import type { LoadRun } from '../../stages/load/types.js';
import { withPipeline } from '../context.js';
import { emit, n, type OutputOptions } from '../output.js';

interface LoadCliOptions extends OutputOptions {
  data: string;
  store?: string;
}

/** Text summary of a load run. */
export function describeLoad(run: LoadRun, maxEntries = 20): string[] {
  const { train, test, labels } = run.rows;
  const lines = [
    `load ${run.status} in ${run.seconds.toFixed(1)} s  (run ${run._id})`,
    `  store:  ${run.store}`,
    `  source: ${run.source}`,
    `  train rows:  ${n(train.stored)} stored (${n(train.inserted)} new, ${n(train.updated)} changed, ${n(train.unchanged)} unchanged${train.removed ? `, ${n(train.removed)} removed` : ''}), ${n(train.rejected)} rejected`,
    `  labels:      ${n(labels.stored)} stored, ${n(labels.rejected)} rejected  ->  ${n(run.labelledTrainRows)} labelled training rows`,
    `  test rows:   ${n(test.stored)} stored (${n(test.inserted)} new, ${n(test.updated)} changed, ${n(test.unchanged)} unchanged${test.removed ? `, ${n(test.removed)} removed` : ''}), ${n(test.rejected)} rejected`,
  ];
  for (const split of ['train', 'test'] as const) {
    const i = run.images[split];
    lines.push(
      `  images ${split.padEnd(5)}: ${n(i.withImage)} found and stored (${n(i.inserted)} new, ${n(i.unchanged)} unchanged), ` +
        `${n(i.missing)} missing, ${n(i.undecodable)} undecodable, ${n(i.orphan)} without a row`,
    );
  }
  for (const w of run.warnings) lines.push(`  warning: ${w}`);
  for (const e of run.errors) lines.push(`  error: ${e}`);
  if (run.quarantineTotal > 0) {
    const reasons = Object.entries(run.quarantineByReason).map(([r, c]) => `${r} ${n(c)}`).join(', ');
    lines.push(`  quarantine: ${n(run.quarantineTotal)} reported (${reasons})`);
    // Rejected rows first: they are missing from the store, while kept ones only lack an image.
    const ordered = [...run.quarantine].sort((a, b) => Number(a.action === 'kept') - Number(b.action === 'kept'));
    for (const e of ordered.slice(0, maxEntries)) lines.push(`    - ${formatEntry(e)}`);
    if (run.quarantineTotal > maxEntries) lines.push(`    ... ${n(run.quarantineTotal - maxEntries)} more (see --json or the run document)`);
  }
  return lines;
}

const LOAD_FLAGS = ['batchSize', 'quarantineLimit', 'imageConcurrency', 'maxImageFileBytes', 'maxCsvRecordBytes', 'maxImagePixels', 'allowUnknownClasses'] as const;

/** The loader module, imported when a command runs (not for `--help`). */
export const loaderModule = () => import('../../stages/load/loader.js');

/** Registers `load`. */
export function registerLoad(program: Command): void {
  const command = program
    .command('load')
    .description('Load a folder in the challenge layout (CSV + images) into the store')
    .requiredOption('--data <dir>', 'data folder (X_train_update.csv, Y_train_CVw08PX.csv, X_test_update.csv, image_train/, image_test/)')
    .option('--store <uri>', 'store: a folder path (embedded) or mongodb://host:port/db (default: $RAKUTEN_STORE or .rakuten-store)');
  addSchemaFlags(command, LoadParams, LOAD_FLAGS)
    .option('--json', 'print the run document as JSON on stdout')
    .action(async (opts: LoadCliOptions & Record<string, unknown>) => {
      const { LoadError } = await loaderModule();
      const run = await withPipeline(
        opts.store,
        (pipeline, onProgress, signal) =>
          pipeline.load({ ...schemaValues(opts, LoadParams, LOAD_FLAGS), dataDir: opts.data, onProgress, signal }).catch((error: unknown) => {
            if (!(error instanceof LoadError)) throw error;
            process.exitCode = 1;
            return error.run;
          }),
        { create: true },
      );
      emit(opts, run, () => describeLoad(run));
    });
}
