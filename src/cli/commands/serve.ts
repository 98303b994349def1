import type { Command } from 'commander';
import { NUMERIC_OPTIONS as N } from '../../options.js';
import { flag } from '../flags.js';
import { cliPlugins } from '../context.js';
import { openQueue, queueUrl } from '../queue.js';


/** Registers `serve`: the HTTP API on a store. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the HTTP API (jobs, /predict/product, /docs, /metrics) and the web console (/ui/) on a store')
    .option('--store <uri>', 'store: a folder path (embedded) or mongodb://host:port/db (default: $RAKUTEN_STORE or .rakuten-store)')
    .addOption(flag(N.port))
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--data <dir>', 'default data folder of POST /load-data')
    .option('--allow-data-dir <dir...>', 'only these folders (and below) may be named in requests')
    .option('--api-keys-file <file>', 'file of API keys, one per line (also: $RAKUTEN_API_KEYS, $RAKUTEN_API_KEYS_FILE)')
    .addOption(flag(N.maxImageBytes))
    .option('--inline-jobs', 'run jobs on the server thread instead of worker threads')
    .option('--queue <url>', 'enqueue jobs on this Redis queue for `rakuten-pipeline worker` processes instead of running them here; enables schedules (default: $RAKUTEN_QUEUE)')
    .option('--quiet', 'no request logs')
    .option('--no-ui', 'do not serve the web console at /ui/')
    .action(
      async (opts: {
        store?: string;
        port: number;
        host: string;
        data?: string;
        allowDataDir?: string[];
        apiKeysFile?: string;
        maxImageBytes: number;
        inlineJobs?: boolean;
        queue?: string;
        quiet?: boolean;
        ui: boolean;
      }) => {
        const url = queueUrl(opts.queue, false);
        const queue = url ? await openQueue(url) : undefined;
        // The HTTP stack (fastify, prom-client, ...) loads for this command only, not for `--help`.
        const [{ apiKeysFromEnv }, { createServer }] = await Promise.all([import('../../http/auth.js'), import('../../http/server.js')]);
        const keys = apiKeysFromEnv(process.env, opts.apiKeysFile ?? process.env.RAKUTEN_API_KEYS_FILE);
        if (keys.size === 0) process.stderr.write('serve: no API keys configured (RAKUTEN_API_KEYS): routes that start work or change state will answer 401\n');
        const app = await createServer({
          ...(opts.store ? { storeUri: opts.store } : {}),
          plugins: cliPlugins(),
          ...(opts.data ? { dataDir: opts.data } : {}),
          ...(opts.allowDataDir ? { allowedDataDirs: opts.allowDataDir } : {}),
          auth: { keys },
          maxImageBytes: opts.maxImageBytes,
          jobs: opts.inlineJobs ? 'inline' : 'worker',
          ...(queue ? { queue } : {}),
          ...(opts.quiet ? { logger: false } : {}),
          ui: opts.ui,
        });
        const address = await app.listen({ port: opts.port, host: opts.host });
        // One machine-readable line on stdout, so scripts and tests can find the port.
        process.stdout.write(`listening on ${address} (docs: ${address}/docs)\n`);
        let closing = false;
        const stop = (signal: string) => {
          if (closing) return;
          closing = true;
          process.stderr.write(`serve: ${signal}: cancelling jobs and closing\n`);
          app.close().then(() => queue?.close()).then(
            () => process.exit(0),
            (e: unknown) => {
              process.stderr.write(`serve: ${(e as Error).message}\n`);
              process.exit(1);
            },
          );
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      },
    );
}
