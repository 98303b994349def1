import path from 'node:path';
import type { Command } from 'commander';
import { emit, escapeControl, n, type OutputOptions } from '../output.js';
import { describeLoad, loaderModule } from './load.js';
import { describePrepare } from './prepare.js';
import { withPipeline } from '../context.js';
import { checkOutputFile } from '../../util/output-file.js';
import { NUMERIC_OPTIONS as N } from '../../options.js';
import { flag } from '../flags.js';
import { describeEvaluation, describePrediction, describeTrain } from './model.js';
import { queueUrl } from '../queue.js';

/** Registers `run`: the whole pipeline in one command. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Load -> prepare -> train -> evaluate -> predict, and print one summary')
    .option('--data <dir>', 'data folder in the challenge layout (required, but for --resume)')
    .option('--store <uri>', 'store (default: $RAKUTEN_STORE or .rakuten-store)')
    .addOption(flag(N.seed, 'seed of the split and the model'))
    .option('--kind <kind>', 'model kind (default: the built-in text-image model)')
    .option('--output <csv>', 'also write a submission file for the data folder\'s X_test_update.csv')
    .option('--report <file>', 'HTML evaluation report path (default reports/evaluation-v<N>.html)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--queue <url>', 'run the steps as jobs on this Redis queue\'s workers (`rakuten-pipeline worker`) and follow the run (default: $RAKUTEN_QUEUE)')
    .option('--steps <list>', 'with --queue: steps to run, comma-separated (default load,prepare,train,evaluate,predict)')
    .option('--resume <runId>', 'with --queue: resume a failed or cancelled pipeline run from its failed step')
    .option('--detach', 'with --queue: print the run and return without following it')
    .action(async (opts: OutputOptions & { data?: string; store?: string; seed: number; kind?: string; output?: string; report?: string; queue?: string; steps?: string; resume?: string; detach?: boolean }) => {
      const url = queueUrl(opts.queue, false);
      if (url) {
        if (opts.output || opts.report) throw new Error('--output and --report are not available with --queue: the steps run on the workers');
        if (!opts.resume && !opts.data && (opts.steps === undefined || opts.steps.includes('load'))) throw new Error("--data: required (the load step's data folder)");
        const { queuedRun, runSpec } = await import('./queued-run.js');
        return queuedRun({ ...opts, queue: url, ...(opts.resume ? { resume: opts.resume } : { spec: runSpec(opts) }) });
      }
      if (opts.steps || opts.resume || opts.detach) throw new Error('--steps, --resume and --detach need --queue');
      if (!opts.data) throw new Error("required option '--data <dir>' not specified");
      const data = opts.data;
      if (opts.output) await checkOutputFile(opts.output, '--output');
      if (opts.report) await checkOutputFile(opts.report, '--report', { createFolder: true });
      const started = Date.now();
      const summary = await withPipeline(opts.store, async (pipeline, onProgress, signal) => {
        const timings: Record<string, number> = {};
        const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
          const t0 = Date.now();
          process.stderr.write(`[run] ${name}...\n`);
          const result = await work();
          timings[name] = (Date.now() - t0) / 1000;
          return result;
        };
        const loaded = await loaderModule();
        const load = await step('load', () =>
          pipeline.load({ dataDir: data, onProgress, signal }).catch((e: unknown) => {
            if (e instanceof loaded.LoadError) process.stderr.write(`${describeLoad(e.run).map((l) => escapeControl(l)).join('\n')}\n`);
            throw e;
          }),
        );
        const prepare = await step('prepare', () => pipeline.prepare({ seed: opts.seed, onProgress, signal }));
        const train = await step('train', () => pipeline.train({ seed: opts.seed, ...(opts.kind ? { kind: opts.kind } : {}), onProgress, signal }));
        const version = train.model.version;
        const evaluation = await step('evaluate', () => pipeline.evaluate({ model: version, onProgress, ...(opts.report ? { report: opts.report } : {}) }));
        const predictions = await step('predict', () => pipeline.predict({ model: version, onProgress, signal }));
        const submission = opts.output
          ? await step('submission', () =>
              pipeline.predictCsv({
                input: path.join(data, 'X_test_update.csv'),
                imagesDir: path.join(data, 'image_test'),
                output: opts.output as string,
                model: version,
                signal,
              }),
            )
          : null;
        return { load, prepare, train, evaluation, predictions, submission, timings, seconds: (Date.now() - started) / 1000 };
      }, { create: true });
      const s = summary;
      emit(
        opts,
        {
          seconds: s.seconds,
          timings: s.timings,
          modelVersion: s.train.model.version,
          champion: s.train.champion,
          validation: s.train.model.validation,
          test: {
            weightedF1: s.evaluation.metrics.weightedF1,
            textOnlyWeightedF1: s.evaluation.textOnlyWeightedF1,
            withImage: s.evaluation.withImage,
            macroF1: s.evaluation.metrics.macroF1,
            accuracy: s.evaluation.metrics.accuracy,
            latencyTextOnly: s.evaluation.latencyTextOnly,
            latencyWithImage: s.evaluation.latencyWithImage,
            report: s.evaluation.report,
          },
          load: { status: s.load.status, labelledTrainRows: s.load.labelledTrainRows, testRows: s.load.rows.test.stored, quarantineTotal: s.load.quarantineTotal },
          prepare: { splits: s.prepare.splits, duplicateGroups: s.prepare.duplicateGroups },
          predictions: s.predictions,
          submission: s.submission,
        },
        () => [
          `pipeline finished in ${s.seconds.toFixed(1)} s (${Object.entries(s.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})`,
          '',
          ...describeLoad(s.load, 3),
          '',
          ...describePrepare(s.prepare),
          '',
          ...describeTrain(s.train),
          '',
          'held-out test split:',
          ...describeEvaluation(s.evaluation),
          '',
          ...describePrediction(s.predictions),
          ...(s.submission ? describePrediction(s.submission) : []),
          '',
          `SUMMARY  validation weighted F1 ${s.train.model.validation.weightedF1.toFixed(4)} (text only ${s.train.model.validation.textOnlyWeightedF1.toFixed(4)})  |  ` +
            `test weighted F1 ${s.evaluation.metrics.weightedF1.toFixed(4)} (text only ${s.evaluation.textOnlyWeightedF1.toFixed(4)}; ` +
            `${n(s.evaluation.withImage.count)} with image: ${s.evaluation.withImage.weightedF1?.toFixed(4) ?? 'n/a'} vs ${s.evaluation.withImage.textOnlyWeightedF1?.toFixed(4) ?? 'n/a'} text only)`,
        ],
      );
    });
}
