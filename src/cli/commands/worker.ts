import type { Command } from 'commander';
import { NUMERIC_OPTIONS as N } from '../../options.js';
import { flag } from '../flags.js';
import { withPipeline } from '../context.js';
import { openQueue, queueUrl } from '../queue.js';

/** Registers `worker`: a queue worker process. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Process the jobs, pipeline-run steps, schedules and prediction chunks of a queue (run as many as wanted, on any machine)')
    .option('--store <uri>', 'store (default: $RAKUTEN_STORE or .rakuten-store): the one the servers use')
    .option('--queue <url>', 'Redis URL of the queue (default: $RAKUTEN_QUEUE)')
    .addOption(flag(N.concurrency))
    .addOption(flag(N.lockMs))
    .addOption(flag(N.stalledMs))
    .addOption(flag(N.chunkRows))
    .action(async (opts: { store?: string; queue?: string; concurrency: number; lockMs: number; stalledMs: number; chunkRows?: number }) => {
      const url = queueUrl(opts.queue, true) as string;
      await withPipeline(
        opts.store,
        async (pipeline) => {
          const [{ startBullmqWorker }, { startQueueWorker }] = await Promise.all([
            import('../../http/jobs/bullmq.js'),
            import('../../http/jobs/queue-worker.js'),
          ]);
          const queue = await openQueue(url);
          const log = (line: string) => process.stderr.write(`worker: ${line}\n`);
          const worker = await startQueueWorker({
            pipeline,
            queue,
            listen: (handlers, o) => startBullmqWorker(url, handlers, o),
            concurrency: opts.concurrency,
            lockDurationMs: opts.lockMs,
            stalledIntervalMs: opts.stalledMs,
            ...(opts.chunkRows ? { chunkRows: opts.chunkRows } : {}),
            log,
          });
          // One machine-readable line on stdout, so scripts and tests know it is taking work.
          process.stdout.write(`worker ready: queue ${queue.url}, store ${pipeline.store.uri}, concurrency ${opts.concurrency}\n`);
          await new Promise<void>((resolve) => {
            const stop = (signal: string) => {
              log(`${signal}: cancelling running jobs and closing`);
              resolve();
            };
            process.once('SIGINT', () => stop('SIGINT'));
            process.once('SIGTERM', () => stop('SIGTERM'));
          });
          await worker.close();
          await queue.close();
        },
        { create: true }
      );
      // BullMQ's own Redis connections of a close that gave up on a dead Redis keep reconnecting.
      process.exit(process.exitCode ?? 0);
    });
}
