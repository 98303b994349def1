import type { Command } from 'commander';
import type { DataStatus } from '../../stages/status.js';
import { withPipeline } from '../context.js';
import { emit, n, type OutputOptions } from '../output.js';

/** Text summary of a data status. */
export function describeStatus(s: DataStatus): string[] {
  const lines = [`store: ${s.store} (${s.driver})`, 'collections:'];
  for (const [name, count] of Object.entries(s.collections)) lines.push(`  ${name.padEnd(24)} ${n(count)}`);
  lines.push(`labelled training rows: ${n(s.labelledTrainRows)}`, `test rows: ${n(s.testRows)}`);
  for (const split of ['train', 'test'] as const) {
    const i = s.images[split];
    lines.push(`images ${split}: ${n(i.withImage)} of ${n(i.rows)} rows have an image (${n(i.missing)} missing), ${n(i.stored)} stored`);
  }
  const last = s.lastLoad;
  lines.push(last ? `last load: ${last.status} at ${last.finishedAt ?? last.startedAt} from ${last.source}` : 'last load: none');
  const { data, prepare } = s.state;
  lines.push(`committed data: ${data ? `${data.generation} (${data.committedAt})` : 'none'}`);
  lines.push(`committed splits: ${prepare ? `${prepare.generation} (${prepare.committedAt}), from ${prepare.dataGeneration ?? '?'}` : 'none'}`);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return lines;
}

/** Registers `status`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show what the store holds: counts per collection, images, last load run')
    .option('--store <uri>', 'store: a folder path (embedded) or mongodb://host:port/db')
    .option('--json', 'print the status as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string }) => {
      const status = await withPipeline(opts.store, (pipeline) => pipeline.status());
      emit(opts, status, () => describeStatus(status));
    });
}
