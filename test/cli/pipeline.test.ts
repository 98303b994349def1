import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCatalogue, tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { cli } from '../support/cli.js';
import { CATEGORIES } from '../../src/categories.js';

describe('rakuten-pipeline run / train / evaluate / predict / models', () => {
  let data: string;
  beforeAll(async () => {
    data = (await makeCatalogue({ rows: 300, testRows: 30, imageFraction: 0.5 })).outDir;
  });
  afterAll(() => rm(data, { recursive: true, force: true }));

  for (const backend of storeBackends()) {
    it.skipIf(backend.skip)(`runs the whole pipeline, then each step (${backend.name})`, async () => {
      const harness = await backend.create();
      try {
        const early = await cli('train', '--store', harness.uri, '--kind', 'naive-bayes-v1');
        expect(early.code).toBe(1);
        // An empty folder is no store (embedded); an empty MongoDB database has no splits.
        expect(early.stderr).toMatch(/no store at .* holds no store|run `rakuten-pipeline prepare` first/);

        const out = path.join(await tempDir(), 'y.csv');
        const run = await cli('run', '--data', data, '--store', harness.uri, '--kind', 'naive-bayes-v1', '--output', out, '--report', path.join(path.dirname(out), 'run.html'), '--json');
        expect(run.code, run.stderr).toBe(0);
        const summary = JSON.parse(run.stdout) as {
          modelVersion: number;
          validation: { weightedF1: number; textOnlyWeightedF1: number };
          test: { weightedF1: number; textOnlyWeightedF1: number; report: string };
          predictions: { count: number };
          submission: { count: number };
        };
        expect(summary.modelVersion).toBe(1);
        expect(summary.validation.weightedF1).toBeGreaterThan(0.3);
        expect(summary.test.weightedF1).toBeGreaterThan(0.3);
        expect(summary.predictions.count).toBe(30);
        const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
        expect(lines[0]).toBe(',prdtypecode');
        expect(lines).toHaveLength(31);

        const report = path.join(await tempDir(), 'r.html');
        const evaluation = await cli('evaluate', '--store', harness.uri, '--model', '1', '--report', report, '--json');
        expect(evaluation.code, evaluation.stderr).toBe(0);
        expect(JSON.parse(evaluation.stdout)).toMatchObject({ modelVersion: 1, report });
        // The report names the classes: "code — name" on the matrix axes.
        expect(await readFile(report, 'utf8')).toContain('>10 — Used books<title>');
        const trained = await cli('train', '--store', harness.uri, '--kind', 'naive-bayes-v1', '--promote', 'never', '--json');
        expect(JSON.parse(trained.stdout)).toMatchObject({ model: { version: 2 }, champion: { promoted: false } });
        const models = JSON.parse((await cli('models', '--store', harness.uri, '--promote', '2', '--json')).stdout) as {
          champion: number;
          versions: { version: number }[];
        };
        expect(models.champion).toBe(2);
        expect(models.versions.map((v) => v.version)).toEqual([1, 2]);
        // The text summary, with the most predicted classes by code and category name.
        const predicted = await cli('predict', '--store', harness.uri);
        expect(predicted.code, predicted.stderr).toBe(0);
        expect(predicted.stdout).toMatch(/^predicted 30 products \(\d+ with image\) with model v2 /);
        expect(predicted.stdout).toMatch(new RegExp(`\n  most predicted: (?:\\d+ — (?:${CATEGORIES.map((c) => literal(c.en)).join('|')}) \\(\\d+\\)(?:, |\n))+`));
        const bad = await cli('predict', '--store', harness.uri, '--model', 'best');
        expect(bad.code).toBe(1);
        expect(bad.stderr).toMatch(/--model must be one of an integer from 1, "champion", "latest", got "best"/);
      } finally {
        await harness.dispose();
      }
    });
  }
});

/** A regular expression source matching `s` literally. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
