/**
 * A baseline model: multinomial naive Bayes over the stemmed title tokens. Tiny, deterministic
 * and fast; the reference the built-in model is measured against, and a second implementation
 * of the model interface.
 *
 * @module
 */
import type { JsonValue } from '../stores/types.js';
import type { EpochReport, ModelArtifact, ModelFactory, ModelInput, ProductClassifier } from './types.js';
import { validationScorer } from './util.js';

/** Kind of the baseline model. */
export const NAIVE_BAYES_KIND = 'naive-bayes-v1';

class NaiveBayes implements ProductClassifier {
  readonly kind = NAIVE_BAYES_KIND;
  constructor(
    readonly classes: number[],
    private readonly logPrior: number[],
    private readonly logLikelihood: Map<string, number[]>,
    private readonly unseen: number[],
    readonly history: EpochReport[],
    readonly params: Record<string, JsonValue> = {},
  ) {}

  async predict(inputs: readonly ModelInput[]): Promise<Float32Array[]> {
    return inputs.map((input) => {
      const scores = [...this.logPrior];
      for (const token of input.designationTokens) {
        const ll = this.logLikelihood.get(token) ?? this.unseen;
        for (let c = 0; c < scores.length; c++) scores[c] = (scores[c] as number) + (ll[c] as number);
      }
      const max = Math.max(...scores);
      const exp = scores.map((s) => Math.exp(s - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      return Float32Array.from(exp.map((e) => e / sum));
    });
  }

  async save(): Promise<ModelArtifact> {
    const manifest = { classes: this.classes, logPrior: this.logPrior, unseen: this.unseen, history: this.history as unknown as JsonValue };
    const table = JSON.stringify([...this.logLikelihood]);
    return { kind: this.kind, manifest: manifest as unknown as JsonValue, files: { 'table.json': Buffer.from(table) } };
  }

  dispose(): void {}
}

/** The baseline model's factory: Laplace-smoothed naive Bayes, one pass, no hyper-parameters. */
export const naiveBayesModel: ModelFactory = {
  specificationVersion: 'v1',
  kind: NAIVE_BAYES_KIND,
  async train(inputs, labels, options) {
    const score = validationScorer(options.validation, NAIVE_BAYES_KIND);
    const n = inputs.length;
    const classes = [...new Set(labels)].sort((a, b) => a - b);
    const idx = new Map(classes.map((c, i) => [c, i]));
    const counts = new Map<string, number[]>();
    const totals = classes.map(() => 0);
    const docs = classes.map(() => 0);
    for (let i = 0; i < n; i++) {
      const c = idx.get(labels[i] as number) as number;
      docs[c] = (docs[c] as number) + 1;
      for (const t of (inputs[i] as ModelInput).designationTokens) {
        const row = counts.get(t) ?? classes.map(() => 0);
        row[c] = (row[c] as number) + 1;
        counts.set(t, row);
        totals[c] = (totals[c] as number) + 1;
      }
    }
    const vocab = counts.size + 1;
    const ll = new Map([...counts].map(([t, row]) => [t, row.map((k, c) => Math.log((k + 1) / ((totals[c] as number) + vocab)))]));
    const unseen = totals.map((t) => Math.log(1 / (t + vocab)));
    const prior = docs.map((d) => Math.log((d + 1) / (n + classes.length)));
    const model = new NaiveBayes(classes, prior, ll, unseen, []);
    const f1 = score ? score(await model.predict(options.validation.inputs), classes) : 0;
    const report = { epoch: 1, loss: 0, valWeightedF1: f1, seconds: 0 };
    options.onEpoch?.(report);
    return new NaiveBayes(classes, prior, ll, unseen, [report]);
  },
  async load(artifact) {
    const m = artifact.manifest as unknown as { classes: number[]; logPrior: number[]; unseen: number[]; history: EpochReport[] };
    const table = JSON.parse(Buffer.from(artifact.files['table.json'] ?? new Uint8Array()).toString()) as [string, number[]][];
    return new NaiveBayes(m.classes, m.logPrior, new Map(table), m.unseen, m.history);
  },
};
