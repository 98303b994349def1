import type { Command } from 'commander';
import type { DemoFaults } from '../../demo/generate-catalogue.js';
import { NUMERIC_OPTIONS as N } from '../../options.js';
import { flag } from '../flags.js';
import { emit, n, progressBars, type OutputOptions } from '../output.js';

interface DemoCliOptions extends OutputOptions {
  out: string;
  rows: number;
  testRows?: number;
  seed: number;
  imageFraction: number;
  imageSize: number;
  faults?: string;
}

/** Parses `missingId=2,corruptImage=1` into fault counts. */
function parseFaults(spec: string | undefined): DemoFaults {
  const faults: Record<string, number> = {};
  const known = ['missingId', 'unknownLabel', 'duplicateProductId', 'missingImage', 'corruptImage', 'orphanImage'];
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!name || !known.includes(name) || !/^\d+$/.test(value ?? '')) {
      throw new Error(`--faults: bad item ${JSON.stringify(part)}; use name=count with names ${known.join(', ')}`);
    }
    faults[name] = Number(value);
  }
  return faults;
}

/** Registers `demo-data`. */
export function registerDemoData(program: Command): void {
  program
    .command('demo-data')
    .description('Write a SYNTHETIC catalogue in the challenge layout (deterministic), for demos and tests')
    .requiredOption('--out <dir>', 'output folder')
    .addOption(flag(N.demoRows))
    .addOption(flag(N.demoTestRows))
    .addOption(flag(N.seed, 'random seed'))
    .addOption(flag(N.demoImageFraction))
    .addOption(flag(N.demoImageSize))
    .option('--faults <spec>', 'inject bad input, e.g. missingId=2,unknownLabel=1,duplicateProductId=1,missingImage=3,corruptImage=2,orphanImage=2')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (opts: DemoCliOptions) => {
      const bars = progressBars();
      try {
        // Imported here: sharp and the generator load only for this command, not for `--help`.
        const { generateDemoCatalogue } = await import('../../demo/generate-catalogue.js');
        const summary = await generateDemoCatalogue({
          outDir: opts.out,
          rows: opts.rows,
          ...(opts.testRows !== undefined ? { testRows: opts.testRows } : {}),
          seed: opts.seed,
          imageFraction: opts.imageFraction,
          imageSize: opts.imageSize,
          faults: parseFaults(opts.faults),
          onProgress: (done, total) => bars.listener({ stage: 'demo', phase: 'files', done, total, unit: 'files' }),
        });
        bars.stop();
        emit(opts, summary, () => [
          `synthetic catalogue written to ${summary.outDir} (seed ${opts.seed}; SYNTHETIC, not Rakuten data)`,
          `  ${n(summary.trainRows)} training rows, ${n(summary.testRows)} test rows, ` +
            `${n(summary.trainImages)} + ${n(summary.testImages)} images`,
        ]);
      } finally {
        bars.stop();
      }
    });
}
