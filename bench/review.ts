/**
 * Review-queue benchmark (issue 14): `npm run bench:review [-- --kind K --n N --seed S --repeats R --no-refit]`.
 *
 * What does correcting the N least certain validation predictions do to a retrained model, compared
 * with correcting N random ones? On the real folder (../shared/data/rakuten or RAKUTEN_DATA, read only),
 * in a fresh embedded store:
 *
 * 1. Load + prepare (default splits, split seed S). T = labeled_train, V = labeled_val, H = labeled_test (held out).
 * 2. V is cut in two with seed S: E (half, every model's early-stopping set, the same for all) and
 *    P (the pool a reviewer would correct). Train M0 of kind K (default: the pipeline's first kind,
 *    text-image-v1) on T with early stopping on E, through the model factory as the Trainer calls it
 *    (seed S, no class weighting, the Trainer's scorer).
 * 3. Predict P with M0 and rank P by margin (p1 - p2, `confidenceOf`, the review queue's order).
 * 4. Arm "least certain": the N rows of P with the lowest margin get their true label ("corrected") and
 *    join the training rows; a model is trained from scratch with the same seed on T + those N, early
 *    stopping on E. Arm "random": N rows of P drawn uniformly (draw seeds S, S+1, ..., R draws;
 *    mean ± sd), same treatment. The least-certain arm is deterministic: one run. The baseline, both
 *    arms and every draw stop on the same E, so their differences are the corrections' doing.
 * 5. Every model is scored on H (weighted F1, `classificationMetrics`) and each arm also on its own rest
 *    of P, beside M0 on the same rows. Also printed: how many of the N picks M0 had wrong.
 *
 * P plays the unlabelled pool a reviewer would correct, so no model trains on it beforehand. The
 * text-image model's refit on train + validation (param `refit`, on by default in the Trainer) refits
 * on E here, the same for every model, so it stays on as in production (`--no-refit` turns it off).
 * Nothing is registered or promoted.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/models/backend.js';
import { TEXT_IMAGE_KIND } from '../src/models/kinds.js';
import type { ModelFactory, ModelInput, ProductClassifier } from '../src/models/types.js';
import { argmax } from '../src/models/util.js';
import { DEFAULTS } from '../src/options.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import { classificationMetrics } from '../src/stages/evaluate/metrics.js';
import { predictLabels, weightedF1Scorer } from '../src/stages/evaluate/score.js';
import { inputsFromLabeled } from '../src/stages/model-inputs.js';
import { confidenceOf } from '../src/stages/predict/confidence.js';
import type { LabeledProduct } from '../src/stages/prepare/types.js';
import { currentSplits, readCommittedSplit } from '../src/stages/views.js';
import type { JsonValue, Store } from '../src/stores/types.js';
import { mulberry32, shuffleInPlace } from '../src/util/random.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env['RAKUTEN_DATA'] ?? path.resolve(here, '../../shared/data/rakuten');
const { values } = parseArgs({
  options: {
    kind: { type: 'string' },
    n: { type: 'string', default: '100' },
    seed: { type: 'string', default: String(DEFAULTS.seed) },
    repeats: { type: 'string', default: '3' },
    'no-refit': { type: 'boolean', default: false },
  },
});
const N = Number(values.n);
const SEED = Number(values.seed);
const REPEATS = Number(values.repeats);
for (const [flag, v, min] of [['--n', N, 1], ['--seed', SEED, 0], ['--repeats', REPEATS, 1]] as const) {
  if (!Number.isInteger(v) || v < min) throw new Error(`${flag}: expected a whole number of at least ${min}, got ${v}`);
}
const say = (line = '') => process.stdout.write(`${line}\n`);
const f4 = (x: number) => x.toFixed(4);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
const secs = (t0: number) => (performance.now() - t0) / 1000;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pm = (xs: readonly number[], show: (x: number) => string = f4, spread: (x: number) => string = f4) =>
  xs.length > 1 ? `${show(mean(xs))} ± ${spread(sd(xs))}` : show(mean(xs));

/** What one trained model scored, and what its training cost. */
interface Outcome {
  /** Weighted F1 on H. */
  testF1: number;
  /** Accuracy on H. */
  testAccuracy: number;
  /** Weighted F1 of this model on its arm's rest of P, and of M0 on the same rows. */
  restF1: number;
  restM0F1: number;
  /** Of the N corrected rows, how many M0 had predicted wrong; their mean M0 margin. */
  wrong: number;
  pickedMargin: number;
  seconds: number;
  epochs: number;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(dataDir, 'X_train_update.csv'))) {
    say(`real folder not found at ${dataDir}: nothing to measure (set RAKUTEN_DATA)`);
    return;
  }
  const started = performance.now();
  const backend = await initBackend();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-review-'));
  const pipeline = await createPipeline({ store: dir });
  try {
    const factory: ModelFactory | undefined = values.kind === undefined ? pipeline.models[0] : pipeline.models.find((m) => m.kind === values.kind);
    if (!factory) throw new Error(`--kind: unknown model kind ${JSON.stringify(values.kind)}; known: ${pipeline.models.map((m) => m.kind).join(', ')}`);
    const refit = !values['no-refit'];
    const params: Record<string, JsonValue> | undefined = factory.kind === TEXT_IMAGE_KIND ? { refit } : undefined;
    say(`bench:review — issue 14: correcting the N least certain vs N random validation predictions, then retraining`);
    say(`${os.cpus().length} cores, Node ${process.version}, TensorFlow.js backend ${backend}; load ${os.loadavg()[0]!.toFixed(2)}`);
    say(`kind ${factory.kind}${params ? ` params ${JSON.stringify(params)}` : ''}, N ${N}, seed ${SEED} (split, model, first random draw), random draws ${REPEATS}`);
    say('protocol: load + prepare (default splits); V cut in E (early stopping, same for all) and P (correction pool);');
    say('  M0 = train on T, early stop on E; rank P by M0 margin p1 - p2;');
    say(`  each arm: T + N rows of P with their true labels, retrained from scratch (same seed), early stop on E;`);
    say(`  score on H = labeled_test (held out) and on the arm's rest of P; least certain: lowest margins; random: draw seeds ${SEED}..${SEED + REPEATS - 1}`);
    if (refit && params) say('  refit on: each model also trains on E at the end (as the Trainer does on V); P is never trained on except the N corrected');

    let t0 = performance.now();
    await pipeline.load({ dataDir });
    await pipeline.prepare({ seed: SEED });
    const store: Store = pipeline.store;
    const { pointer, splits } = await currentSplits(store);
    const [T, V, H] = await Promise.all([splits.train, splits.val, splits.test].map((c) => readCommittedSplit(c, pointer)));
    if (!T || !V || !H) throw new Error('missing split');
    if (N >= Math.floor(V.length / 2)) throw new Error(`--n ${N}: the correction pool (half the validation split) has only ${Math.floor(V.length / 2)} products`);
    const loadSeconds = secs(t0);

    t0 = performance.now();
    const extractor = factory.imageFeatures?.(params) ?? null;
    const inputsOf = (docs: readonly LabeledProduct[], phase: string) =>
      inputsFromLabeled(docs, store.images, { features: { store, extractor, stage: 'bench', phase } });
    const [Tin, VinAll, Hin] = [await inputsOf(T, 'train'), await inputsOf(V, 'val'), await inputsOf(H, 'test')];
    const featureSeconds = secs(t0);
    const labelsOf = (docs: readonly LabeledProduct[]) => docs.map((d) => d.prdtypecode);
    const [Ty, Vall, Hy] = [labelsOf(T), labelsOf(V), labelsOf(H)];
    // E: the early-stopping half of V, the same for every model; P: the pool corrections come from.
    const cut = shuffleInPlace(V.map((_, i) => i), mulberry32(SEED ^ 0x5eed));
    const half = Math.ceil(V.length / 2);
    const [eIdx, pIdx] = [cut.slice(0, half), cut.slice(half)];
    const E = { inputs: eIdx.map((i) => VinAll[i] as ModelInput), labels: eIdx.map((i) => Vall[i] as number) };
    const Vin = pIdx.map((i) => VinAll[i] as ModelInput);
    const Vy = pIdx.map((i) => Vall[i] as number);
    const P = pIdx;
    const pictures = [Tin, VinAll, Hin].reduce((sum, inputs) => sum + inputs.filter((i) => i.image).length, 0);
    const features = extractor ? ` (image features ${extractor.id.split('@')[0]})` : '';
    say(`data: T ${T.length}, V ${V.length} (E ${E.inputs.length} early stopping, P ${P.length} correction pool), H ${H.length} products (${pictures} with an image)`);
    say(`load + prepare ${loadSeconds.toFixed(1)} s, model inputs${features} ${featureSeconds.toFixed(1)} s`);

    /** Trains a model of the kind as the Trainer does (seed, no class weighting, its scorer), early-stopping on `val`. */
    const train = async (inputs: readonly ModelInput[], labels: readonly number[], val: { inputs: readonly ModelInput[]; labels: readonly number[] }) => {
      const t = performance.now();
      const model = await factory.train(inputs, labels, {
        seed: SEED,
        classWeighting: false,
        validation: { inputs: val.inputs, labels: val.labels, score: weightedF1Scorer(val.labels) },
        ...(params ? { params } : {}),
      });
      return { model, seconds: secs(t) };
    };
    const scoreH = async (model: ProductClassifier) => classificationMetrics(Hy, await predictLabels(model, Hin));

    // M0, its held-out predictions on V and their margins.
    const m0 = await train(Tin, Ty, E);
    // P was never trained on (a refit trains on E): these margins are held out.
    const probabilities = await m0.model.predict(Vin);
    const m0Pred = probabilities.map((p) => m0.model.classes[argmax(p)] as number);
    const margins = probabilities.map((p) => confidenceOf(p).margin);
    const m0Test = await scoreH(m0.model);
    const m0Epochs = m0.model.history.length;
    m0.model.dispose();
    const m0ValF1 = classificationMetrics(Vy, m0Pred).weightedF1;
    const m0Wrong = m0Pred.filter((p, i) => p !== Vy[i]).length;
    say(`M0: trained in ${m0.seconds.toFixed(1)} s (epochs: ${m0Epochs}); weighted F1 on P ${f4(m0ValF1)} (${m0Wrong} of ${P.length} wrong), ` +
      `on H ${f4(m0Test.weightedF1)}`);

    /** Corrects the rows `picked` of V (their true labels join T), retrains, scores. */
    const arm = async (picked: readonly number[]): Promise<Outcome> => {
      const chosen = new Set(picked);
      const rest = P.flatMap((_, i) => (chosen.has(i) ? [] : [i]));
      const restInputs = rest.map((i) => Vin[i] as ModelInput);
      const restY = rest.map((i) => Vy[i] as number);
      const { model, seconds } = await train([...Tin, ...picked.map((i) => Vin[i] as ModelInput)], [...Ty, ...picked.map((i) => Vy[i] as number)], E);
      try {
        const test = await scoreH(model);
        // The rest of P is never trained on (a refit trains on E).
        const restPred = await predictLabels(model, restInputs);
        return {
          testF1: test.weightedF1,
          testAccuracy: test.accuracy,
          restF1: classificationMetrics(restY, restPred).weightedF1,
          restM0F1: classificationMetrics(restY, rest.map((i) => m0Pred[i] as number)).weightedF1,
          wrong: picked.filter((i) => m0Pred[i] !== Vy[i]).length,
          pickedMargin: mean(picked.map((i) => margins[i] as number)),
          seconds,
          epochs: model.history.length,
        };
      } finally {
        model.dispose();
      }
    };

    // Least certain: lowest margin first, ties by row index (deterministic).
    const byMargin = P.map((_, i) => i).sort((a, b) => (margins[a] as number) - (margins[b] as number) || a - b);
    const uncertain = await arm(byMargin.slice(0, N));
    say(`least certain: trained in ${uncertain.seconds.toFixed(1)} s (epochs: ${uncertain.epochs}); H ${f4(uncertain.testF1)}`);
    const random: Outcome[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const draw = shuffleInPlace(P.map((_, i) => i), mulberry32(SEED + r)).slice(0, N);
      const outcome = await arm(draw);
      random.push(outcome);
      say(`random draw ${r + 1} (seed ${SEED + r}): trained in ${outcome.seconds.toFixed(1)} s (epochs: ${outcome.epochs}); H ${f4(outcome.testF1)}; ` +
        `M0 had ${outcome.wrong} of ${N} wrong; rest of P ${f4(outcome.restF1)} vs M0 ${f4(outcome.restM0F1)}`);
    }

    const one = (x: number) => x.toFixed(1);
    const col = (xs: Outcome[], pick: (o: Outcome) => number, show?: (x: number) => string, spread?: (x: number) => string) => pm(xs.map(pick), show, spread);
    const trained = (n: number) => (refit && params ? `${n} + ${E.inputs.length} refit` : String(n));
    const rows: [string, string, string, string][] = [
      ['training rows', trained(T.length), trained(T.length + N), trained(T.length + N)],
      ['weighted F1 on H', f4(m0Test.weightedF1), col(random, (o) => o.testF1), f4(uncertain.testF1)],
      ['Δ weighted F1 on H vs baseline', '—', col(random, (o) => o.testF1 - m0Test.weightedF1, signed), signed(uncertain.testF1 - m0Test.weightedF1)],
      ['accuracy on H', f4(m0Test.accuracy), col(random, (o) => o.testAccuracy), f4(uncertain.testAccuracy)],
      [`weighted F1 on the arm's rest of P (${P.length - N} rows)`, '—', col(random, (o) => o.restF1), f4(uncertain.restF1)],
      ['  M0 on the same rows', `${f4(m0ValF1)} (all of P)`, col(random, (o) => o.restM0F1), f4(uncertain.restM0F1)],
      ['  Δ vs M0 on the same rows', '—', col(random, (o) => o.restF1 - o.restM0F1, signed), signed(uncertain.restF1 - uncertain.restM0F1)],
      [`of the N corrected, M0 had wrong`, `${m0Wrong} of ${P.length} in P`, col(random, (o) => o.wrong, one, one), `${uncertain.wrong}`],
      ['mean M0 margin of the N corrected', f4(mean(margins)) + ' (all of P)', col(random, (o) => o.pickedMargin), f4(uncertain.pickedMargin)],
      ['training seconds (epochs)', `${one(m0.seconds)} (${m0Epochs})`, col(random, (o) => o.seconds, one, one), `${one(uncertain.seconds)} (${uncertain.epochs})`],
    ];
    say();
    const draws = REPEATS > 1 ? `mean ± sd of ${REPEATS} draws` : '1 draw';
    say(`| ${factory.kind}, N = ${N}, seed ${SEED} | baseline (no corrections) | ${N} random corrected (${draws}) | ${N} least-certain corrected |`);
    say('|---|---|---|---|');
    for (const r of rows) say(`| ${r.join(' | ')} |`);
    say();
    const gain = uncertain.testF1 - mean(random.map((o) => o.testF1));
    const spread = REPEATS > 1 ? ` (random draws' sd ${f4(sd(random.map((o) => o.testF1)))})` : '';
    say(`least certain − random on H: ${signed(gain)} weighted F1${spread}`);
    say(`total ${secs(started).toFixed(1)} s; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; load ${os.loadavg()[0]!.toFixed(2)}`);
  } finally {
    await pipeline.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
