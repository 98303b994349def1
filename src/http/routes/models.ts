import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CATEGORIES, categoryNames } from '../../categories.js';
import { COLLECTIONS } from '../../collections.js';
import { guardrailVerdict, type ModelVersion } from '../../models/registry.js';
import { DEFAULTS } from '../../options.js';
import { evaluationReportHtml, type EvaluationRecord } from '../../stages/evaluate/stage.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../context.js';
import { CategoriesReply, CompareQuery, CompareReply, ErrorReply, EvaluationReply, GuardrailReply, VersionParams } from '../schemas.js';

const nameOf = (code: number) => categoryNames(code)?.en ?? null;

/** Reads of what the console's Models page shows: categories, evaluations and reports, comparisons, guardrail verdicts. */
export function registerModelRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const evaluations = ctx.store.documents.collection<EvaluationRecord>(COLLECTIONS.modelEvaluation);

  const version = async (v: number): Promise<ModelVersion> => {
    const found = await ctx.registry.get(v);
    if (!found) throw new HttpError(404, 'MODEL_NOT_FOUND', `no model version ${v}`);
    return found;
  };
  /** The newest evaluation of a version (on `dataset`, when given). */
  const newestEvaluation = async (v: number, dataset?: string): Promise<EvaluationRecord | undefined> => {
    for await (const r of evaluations.find({ modelVersion: v, ...(dataset ? { dataset } : {}) }, { sort: { field: 'createdAt', direction: -1 }, limit: 1 })) return r;
    return undefined;
  };
  const requireEvaluation = async (v: number) => {
    await version(v);
    const record = await newestEvaluation(v);
    if (!record) throw new HttpError(404, 'NOT_EVALUATED', `model version ${v} has not been evaluated: POST /evaluate-model with {"model": ${v}}`);
    return record;
  };

  app.get(
    '/categories',
    { schema: { summary: 'The 27 product type codes and their names', tags: ['models'], response: { 200: CategoriesReply, 401: ErrorReply } } },
    async () => CATEGORIES.map((c) => ({ prdtypecode: c.prdtypecode, fr: c.fr, en: c.en })),
  );

  app.get(
    '/models/:version/evaluation',
    {
      schema: {
        summary: "A version's newest evaluation",
        description: 'Metrics with the confusion matrix and per-class scores; 404 when the version was never evaluated.',
        tags: ['models'],
        params: VersionParams,
        response: { 200: EvaluationReply, 401: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => ctx.forCaller(request, await requireEvaluation(request.params.version)),
  );

  app.get(
    '/models/:version/report',
    {
      schema: {
        summary: "A version's evaluation report (HTML)",
        description: 'The self-contained HTML report of its newest evaluation (confusion heatmap, per-class table).',
        tags: ['models'],
        params: VersionParams,
        produces: ['text/html'],
        response: { 200: { type: 'string' }, 401: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const record = await requireEvaluation(request.params.version);
      const html = evaluationReportHtml(record, await version(request.params.version));
      // The report is inline SVG and CSS only: no script may run in it.
      return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:").send(html);
    },
  );

  app.get(
    '/models/compare',
    {
      schema: {
        summary: 'Compare two versions per class',
        description:
          'Validation F1 per class of both (indicative only when they were trained on different splits), and the difference of the confusion matrices of their newest evaluations on the same dataset.',
        tags: ['models'],
        querystring: CompareQuery,
        response: { 200: CompareReply, 400: ErrorReply, 401: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const [a, b] = await Promise.all([version(request.query.a), version(request.query.b)]);
      const codes = [...new Set([...a.classes, ...b.classes])].sort((x, y) => x - y);
      const f1 = (v: ModelVersion, code: number) => v.validation.perClassF1[String(code)] ?? null;
      const classes = codes.map((code) => {
        const [fa, fb] = [f1(a, code), f1(b, code)];
        return { prdtypecode: code, name: nameOf(code), a: fa, b: fb, delta: fa === null || fb === null ? null : Math.round((fb - fa) * 1e4) / 1e4 };
      });
      const evalA = await newestEvaluation(a.version);
      const evalB = evalA ? await newestEvaluation(b.version, evalA.dataset) : undefined;
      let confusion = null;
      if (evalA && evalB) {
        // Both matrices on the union of their labels, so that the difference is cell by cell.
        const labels = [...new Set([...evalA.metrics.labels, ...evalB.metrics.labels])].sort((x, y) => x - y);
        const expand = (r: EvaluationRecord) => {
          const at = new Map(r.metrics.labels.map((l, i) => [l, i]));
          return labels.map((t) => labels.map((p) => {
            const i = at.get(t);
            const j = at.get(p);
            return i === undefined || j === undefined ? 0 : (r.metrics.confusion[i]?.[j] ?? 0);
          }));
        };
        const [ma, mb] = [expand(evalA), expand(evalB)];
        confusion = { dataset: evalA.dataset, labels, a: ma, b: mb, diff: mb.map((row, i) => row.map((n, j) => n - (ma[i]?.[j] ?? 0))) };
      }
      return {
        a: { version: a.version, weightedF1: a.validation.weightedF1 },
        b: { version: b.version, weightedF1: b.validation.weightedF1 },
        sameSplit: a.prepareRun !== null && a.prepareRun === b.prepareRun,
        classes,
        confusion,
      };
    },
  );

  app.get(
    '/models/:version/guardrail',
    {
      schema: {
        summary: 'What the guardrail says of promoting a version',
        description:
          'A dry run of the automatic promotion rule against the current champion, on their recorded validation scores: promote when the weighted F1 is higher and no class drops by more than the margin. Nothing changes.',
        tags: ['models'],
        params: VersionParams,
        response: { 200: GuardrailReply, 401: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const candidate = await version(request.params.version);
      const championVersion = await ctx.registry.championVersion();
      const margin = DEFAULTS.guardrailMargin;
      const base = { version: candidate.version, champion: championVersion, margin };
      if (championVersion === null) return { ...base, promote: true, sameSplit: true, reason: 'no champion yet', regressions: [] };
      if (championVersion === candidate.version) return { ...base, promote: false, sameSplit: true, reason: `v${candidate.version} is the champion`, regressions: [] };
      const champion = await version(championVersion);
      const verdict = guardrailVerdict(candidate.validation, champion.validation, margin, championVersion);
      const sameSplit = candidate.prepareRun !== null && candidate.prepareRun === champion.prepareRun;
      return {
        ...base,
        promote: verdict.promote,
        sameSplit,
        reason: sameSplit ? verdict.reason : `${verdict.reason} (scored on different validation splits: indicative only)`,
        regressions: verdict.regressions.map((r) => ({ ...r, name: nameOf(r.prdtypecode) })),
      };
    },
  );
}
