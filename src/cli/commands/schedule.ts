import type { Command } from 'commander';
import { NUMERIC_OPTIONS as N } from '../../options.js';
import { flag } from '../flags.js';
import { emit, type OutputOptions } from '../output.js';
import { openQueue, queueUrl } from '../queue.js';
import { timeZoneProblem, type ScheduleInfo } from '../../http/jobs/queue.js';

const describe = (s: ScheduleInfo) => `${s.id}: ${s.cron}${s.timezone ? ` (${s.timezone})` : ''}  next ${s.next ?? 'unknown'}  run ${JSON.stringify(s.run)}`;

async function withQueue<T>(flagValue: string | undefined, work: (queue: Awaited<ReturnType<typeof openQueue>>) => Promise<T>): Promise<T> {
  const queue = await openQueue(queueUrl(flagValue, true) as string);
  try {
    return await work(queue);
  } finally {
    await queue.close();
  }
}

/** Registers `schedule add|list|remove`: repeatable pipeline runs on a queue. */
export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Repeatable pipeline runs by cron expression, fired by the queue workers (`rakuten-pipeline worker`)');
  schedule
    .command('add <id>')
    .description('Create or replace a schedule: each firing starts an ordinary pipeline run')
    .requiredOption('--cron <expression>', 'cron expression, e.g. "0 3 * * 1" (Mondays at 03:00)')
    .option('--timezone <tz>', 'IANA time zone of the expression (default UTC)')
    .option('--queue <url>', 'Redis URL of the queue (default: $RAKUTEN_QUEUE)')
    .option('--data <dir>', 'data folder of the load step, as the workers see it (required when the run loads)')
    .option('--steps <list>', 'steps to run, comma-separated (default load,prepare,train,evaluate,predict)')
    .addOption(flag(N.seed, 'seed of the split and the model'))
    .option('--kind <kind>', 'model kind (default: the built-in text-image model)')
    .option('--json', 'print the schedule as JSON')
    .action(
      async (
        id: string,
        opts: OutputOptions & {
          cron: string;
          timezone?: string;
          queue?: string;
          data?: string;
          steps?: string;
          seed: number;
          kind?: string;
        }
      ) => {
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new Error(`schedule id ${JSON.stringify(id)}: use 1 to 64 letters, digits, '_', '.' or '-'`);
        if (!opts.data && (opts.steps === undefined || opts.steps.includes('load'))) throw new Error("--data: required (the load step's data folder)");
        const tz = opts.timezone === undefined ? undefined : timeZoneProblem(opts.timezone);
        if (tz) throw new Error(`--timezone: ${tz}`);
        const { runSpec } = await import('./queued-run.js');
        const run = runSpec(opts) as unknown as ScheduleInfo['run'];
        const info = await withQueue(opts.queue, (q) =>
          q
            .upsertSchedule({
              id,
              cron: opts.cron,
              ...(opts.timezone ? { timezone: opts.timezone } : {}),
              run,
            })
            .catch((e: unknown) => {
              throw new Error(`--cron ${JSON.stringify(opts.cron)}: ${(e as Error).message}`, { cause: e });
            })
        );
        emit(opts, info, () => [`schedule ${describe(info)}`]);
      }
    );
  schedule
    .command('list')
    .description('Every schedule, with its next firing')
    .option('--queue <url>', 'Redis URL of the queue (default: $RAKUTEN_QUEUE)')
    .option('--json', 'print the schedules as JSON')
    .action(async (opts: OutputOptions & { queue?: string }) => {
      const list = await withQueue(opts.queue, (q) => q.listSchedules());
      emit(opts, list, () => (list.length ? list.map(describe) : ['no schedules']));
    });
  schedule
    .command('remove <id>')
    .description('Remove a schedule (runs it already started go on)')
    .option('--queue <url>', 'Redis URL of the queue (default: $RAKUTEN_QUEUE)')
    .action(async (id: string, opts: { queue?: string }) => {
      if (!(await withQueue(opts.queue, (q) => q.removeSchedule(id)))) throw new Error(`no schedule ${id}`);
      process.stdout.write(`schedule ${id} removed\n`);
    });
}
