import type { Command } from 'commander';
import type { PrepareRun } from '../../stages/prepare/types.js';
import { NUMERIC_OPTIONS as N } from '../../options.js';
import { flag } from '../flags.js';
import { PrepareParams } from '../../stages/options.js';
import { withPipeline } from '../context.js';
import { addSchemaFlags, schemaValues } from '../flags.js';
import { emit, n, type OutputOptions } from '../output.js';

interface PrepareCliOptions extends OutputOptions {
  store?: string;
  imageSize: number;
}

/** Text summary of a prepare run. */
export function describePrepare(run: PrepareRun): string[] {
  const lines = [
    `prepare ${run.status} in ${run.timings.total.toFixed(1)} s  (run ${run._id})`,
    `  records: ${n(run.records.train)} labelled, ${n(run.records.test)} test rows, ${n(run.records.unlabelled)} without label (skipped)`,
    `  images:  ${n(run.images.processed)} preprocessed to ${run.params.imageSize} px, ${n(run.images.reused)} reused, ${n(run.images.failed)} failed`,
    `  speed:   ${n(run.throughput.textsPerSecond)} texts/s, ${n(run.throughput.imagesPerSecond)} images/s`,
  ];
  for (const split of ['train', 'val', 'test'] as const) {
    const s = run.splits[split];
    lines.push(`  ${split.padEnd(5)}: ${n(s.total)} products, ${Object.keys(s.perClass).length} classes, ${n(s.withImage)} with image`);
  }
  const d = run.duplicateGroups;
  lines.push(
    `  largest class-share gap between a split and the whole: ${run.maxClassShareGapPp.toFixed(2)} pp`,
    `  duplicate groups kept together: ${n(d.groups)} groups of ${n(d.items)} products (largest ${d.largest}, ${d.mixedLabels} with mixed labels; ` +
      `${n(d.byText)} products share a cleaned text, ${n(d.byImage)} an image hash)`,
  );
  for (const f of run.failures.slice(0, 10)) lines.push(`  failed: product ${f.productid} ${f.image}: ${f.reason}`);
  for (const e of run.errors) lines.push(`  error: ${e}`);
  return lines;
}

const PREPARE_FLAGS = ['seed', 'val', 'test', 'imageConcurrency'] as const;

/** Registers `prepare`. */
export function registerPrepare(program: Command): void {
  const command = program
    .command('prepare')
    .description('Preprocess loaded products (text + images) and split them into labeled_train / labeled_val / labeled_test')
    .option('--store <uri>', 'store: a folder path (embedded) or mongodb://host:port/db');
  addSchemaFlags(command, PrepareParams, PREPARE_FLAGS)
    .addOption(flag(N.imageSize))
    .option('--json', 'print the run record as JSON on stdout')
    .action(async (opts: PrepareCliOptions & Record<string, unknown>) => {
      const run = await withPipeline(
        opts.store,
        (pipeline, onProgress, signal) => pipeline.prepare({ ...schemaValues(opts, PrepareParams, PREPARE_FLAGS), onProgress, signal }),
        { preprocessing: { image: { size: opts.imageSize } } },
      );
      emit(opts, run, () => describePrepare(run));
    });
}
