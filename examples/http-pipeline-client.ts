/**
 * Drives the whole pipeline through the HTTP API of a running server: load → prepare → train →
 * evaluate → predict, each a job started with a POST (202) and polled at GET /jobs/{id} with its
 * progress shown; then the model list and one online prediction.
 *
 * Run a server in one terminal (routes that start work need an API key, 16 characters or more):
 *   RAKUTEN_API_KEYS=change-me-please-0123456789 npx rakuten-pipeline serve --store ./my-store --port 8000
 * and the client in another:
 *   RAKUTEN_API_KEY=change-me-please-0123456789 npx tsx examples/http-pipeline-client.ts [DATA_DIR] [--url URL] [--key KEY] [--epochs N]
 *   DATA_DIR  data folder in the challenge layout AS THE SERVER SEES IT (default: a synthetic demo
 *             catalogue generated in a temp folder, for a server on this machine;
 *             ../shared/data/rakuten for the real rows)
 *   --url     base URL of the API (default $RAKUTEN_API_URL or http://127.0.0.1:8000)
 *   --key     API key (default $RAKUTEN_API_KEY)
 *   --epochs  most training epochs (default: the model's own)
 * Ctrl-C while a job runs cancels it on the server.
 */
import path from 'node:path';
import { clientFromArgs, formatTop, type Job } from './api-client.js';
import { dataDirFromArg, progressLine, runMain } from './common.js';

const { client, args, options } = clientFromArgs(['epochs']);

// The job results are JSON summaries; these are the fields printed here.
interface LoadResult { status: string; labelledTrainRows: number; testRows: number; quarantineTotal: number }
interface PrepareResult { splits: Record<string, { total: number; withImage: number }> }
interface TrainResult { version: number; backend: string; epochs: number; trainingSeconds: number; validation: { weightedF1: number }; champion: { promoted: boolean; reason: string } }
interface EvaluateResult { modelVersion: number; count: number; weightedF1: number; textOnlyWeightedF1: number; macroF1: number; accuracy: number }
interface PredictResult { count: number; withImage: number; productsPerSecond: number; output: string }

const seconds = (job: Job) => (job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : 0);

/** Runs one job to its end with a progress display; returns its result. */
async function step<R>(route: string, body: object): Promise<{ job: Job; result: R }> {
  const progress = progressLine();
  console.log(`POST ${route} ${JSON.stringify(body)}`);
  try {
    const job = await client.runJob(route, body, { onProgress: progress });
    progress.done();
    return { job, result: job.result as R };
  } finally {
    progress.done();
  }
}

runMain(async () => {
  const health = await client.call<{ status: string; store: { driver: string }; champion: number | null }>('GET', '/health');
  console.log(`${client.baseUrl}: ${health.status}, store ${health.store.driver}, champion ${health.champion ?? 'none'}\n`);
  const dataDir = path.resolve(await dataDirFromArg(args[0]));

  const load = await step<LoadResult>('/load-data', { dataDir });
  const l = load.result;
  console.log(`  ${l.status}: ${l.labelledTrainRows} labelled rows, ${l.testRows} test rows, ${l.quarantineTotal} quarantined (${seconds(load.job)} s)`);
  const status = await client.call<{ collections: Record<string, number>; images: { total: unknown } }>('GET', '/data-status');
  console.log(`  GET /data-status: ${JSON.stringify(status.collections)}`);

  const prepare = await step<PrepareResult>('/prepare-data', { seed: 42 });
  const s = prepare.result.splits;
  console.log(`  splits: ${Object.entries(s).map(([name, x]) => `${name} ${x.total} (${x.withImage} with image)`).join(', ')} (${seconds(prepare.job)} s)`);

  const train = await step<TrainResult>('/train-model', { seed: 42, ...(options['epochs'] ? { epochs: Number(options['epochs']) } : {}) });
  const t = train.result;
  console.log(
    `  model v${t.version} on ${t.backend}: ${t.epochs} epochs in ${t.trainingSeconds.toFixed(1)} s, validation weighted F1 ${t.validation.weightedF1.toFixed(4)}; ` +
      `${t.champion.promoted ? 'now champion' : `not promoted (${t.champion.reason})`}`,
  );

  const evaluate = await step<EvaluateResult>('/evaluate-model', { model: t.version });
  const e = evaluate.result;
  console.log(
    `  held-out test (${e.count} products): weighted F1 ${e.weightedF1.toFixed(4)} (text only ${e.textOnlyWeightedF1.toFixed(4)}), ` +
      `macro F1 ${e.macroF1.toFixed(4)}, accuracy ${e.accuracy.toFixed(4)} (${seconds(evaluate.job)} s)`,
  );

  const predict = await step<PredictResult>('/predict', { model: t.version });
  const p = predict.result;
  console.log(`  ${p.count} test products predicted (${p.withImage} with image) into ${p.output}, ${p.productsPerSecond.toFixed(0)}/s (${seconds(predict.job)} s)`);

  const models = await client.call<{ champion: number | null; versions: { version: number; kind: string; validation: { weightedF1: number } }[] }>('GET', '/models');
  console.log(`\nGET /models: champion v${models.champion ?? '-'}; ${models.versions.map((v) => `v${v.version} ${v.kind} ${v.validation.weightedF1.toFixed(4)}`).join(', ')}`);
  const answer = await client.predictProduct({ designation: 'Piscine tubulaire ronde 3,66 x 0,76 m avec pompe de filtration', topK: 3 });
  console.log(`POST /predict/product "Piscine tubulaire ronde..." -> ${formatTop(answer)} (model v${answer.modelVersion}, ${answer.ms.toFixed(1)} ms)`);
});
