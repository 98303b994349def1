import type { Command } from 'commander';
import { DRIFT_FEATURES, type DriftFeature, type DriftReport } from '../../stages/monitor/drift.js';
import { withPipeline } from '../context.js';
import { emit, n, type OutputOptions } from '../output.js';

/** Text summary of a drift report. */
export function describeDrift(r: DriftReport): string[] {
  const w = r.window;
  const lines = [
    `drift of champion v${r.modelVersion}: ${n(w.size)} recent predictions (${n(w.online)} online, ${n(w.batch)} batch)${w.from ? ` from ${w.from} to ${w.to}` : ''}`,
    `reference: ${n(r.reference.count)} validation products of ${r.reference.prepareRun ?? '?'}`,
  ];
  for (const f of r.features) {
    lines.push(`  ${f.name.padEnd(16)} PSI ${f.value.toFixed(4).padStart(8)}  flagged above ${f.threshold} + noise ${f.noise.toFixed(4)}  ${f.flagged ? 'DRIFT' : 'ok'}`);
  }
  if (r.note) lines.push(`note: ${r.note}`);
  lines.push(r.flagged.length ? `flagged: ${r.flagged.join(', ')}` : 'no feature flagged');
  return lines;
}

/** Registers `drift`. */
export function registerDrift(program: Command): void {
  program
    .command('drift')
    .description("Compare the champion's recent predictions (online and batch) with its training data, per feature (PSI), and store the report in drift_reports")
    .option('--store <uri>', 'store: a folder path (embedded) or mongodb://host:port/db')
    .option('--window <n>', 'most recent predictions compared (default 1000)', (v) => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--window must be a positive integer, got ${JSON.stringify(v)}`);
      return Number(v);
    })
    .option('--threshold <psi>', 'PSI above which a feature is flagged (default 0.25)', (v) => {
      const x = Number(v);
      if (v.trim() === '' || !Number.isFinite(x) || x <= 0) throw new Error(`--threshold must be a positive number, got ${JSON.stringify(v)}`);
      return x;
    })
    .option('--fail-on-drift', 'exit with status 3 when a feature is flagged (for schedulers and CI)')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; window?: number; threshold?: number; failOnDrift?: boolean }) => {
      const thresholds = opts.threshold === undefined ? {} : Object.fromEntries(DRIFT_FEATURES.map((f): [DriftFeature, number] => [f, opts.threshold as number]));
      const report = await withPipeline(opts.store, (pipeline) => pipeline.drift.report({ ...(opts.window ? { window: opts.window } : {}), thresholds }));
      const { _id, ...rest } = report;
      emit(opts, { id: _id, ...rest }, () => describeDrift(report));
      if (opts.failOnDrift && report.flagged.length) process.exitCode = 3;
    });
}
