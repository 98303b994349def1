import { useEffect, useState } from 'preact/hooks';
import { apiUrl, get, write } from '../api.js';
import { DiffHeatmap, F1Bars } from '../components/charts.js';
import { Badge, ErrorNote, Facts, Loading, Section } from '../components/common.js';
import { duration, percent, score, signed, when } from '../format.js';
import { announce, categoryLabel, useAnnounced, useCategories, useLoad } from '../state.js';
import type { Comparison, Guardrail, ModelsReply, ModelVersion } from '../types.js';

/** Models: versions with their scores, champion marked; comparison of two; guarded promotion. */
export function ModelsPage() {
  const models = useLoad((signal) => get<ModelsReply>('/models', signal));
  useAnnounced('jobs', models.reload);
  const versions = [...(models.data?.versions ?? [])].sort((x, y) => y.version - x.version);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [compared, setCompared] = useState<{ a: number; b: number } | null>(null);
  const [promoting, setPromoting] = useState<number | null>(null);
  // Default pick: the champion against the newest other version.
  useEffect(() => {
    if (a || b || versions.length < 2) return;
    const champion = versions.find((v) => v.champion) ?? versions[1];
    const other = versions.find((v) => v.version !== champion?.version);
    if (champion && other) {
      setA(String(champion.version));
      setB(String(other.version));
    }
  }, [versions.length]);
  return (
    <>
      <h1>Models</h1>
      <ErrorNote error={models.error} what="Models" />
      {models.loading && !models.data ? <Loading /> : null}
      <Section title="Versions" testId="model-versions" actions={<button onClick={models.reload}>Refresh</button>}>
        {versions.length === 0 && models.data ? <p class="muted">No model yet: train one on the Jobs page.</p> : null}
        {versions.length > 0 ? <VersionsTable versions={versions} onPromote={setPromoting} /> : null}
      </Section>
      {promoting !== null ? (
        <PromoteDialog
          version={promoting}
          onClose={(done) => {
            setPromoting(null);
            if (done) {
              models.reload();
              announce('models');
            }
          }}
        />
      ) : null}
      <Section title="Compare two versions" testId="compare">
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            if (a && b) setCompared({ a: Number(a), b: Number(b) });
          }}
        >
          <VersionSelect name="a" value={a} onChange={setA} versions={versions} />
          <VersionSelect name="b" value={b} onChange={setB} versions={versions} />
          <button type="submit" class="primary" disabled={!a || !b || a === b}>
            Compare
          </button>
        </form>
        {compared ? <ComparisonView a={compared.a} b={compared.b} /> : <p class="muted">Pick two different versions.</p>}
      </Section>
    </>
  );
}

function VersionsTable({ versions, onPromote }: { versions: ModelVersion[]; onPromote: (v: number) => void }) {
  return (
    <div class="scroll">
      <table class="data" aria-label="Model versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>Kind</th>
            <th>Created</th>
            <th>Backend</th>
            <th class="num">Epochs</th>
            <th class="num">Training</th>
            <th class="num">Weighted F1</th>
            <th class="num">Text-only F1</th>
            <th class="num">Accuracy</th>
            <th class="num">Validated on</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} class={v.champion ? 'champion' : undefined} data-testid="model-version" data-version={v.version}>
              <th scope="row">
                v{v.version} {v.champion ? <Badge tone="ok">champion</Badge> : null}
              </th>
              <td>{v.kind}</td>
              <td>{when(v.createdAt)}</td>
              <td>{v.backend}</td>
              <td class="num">{v.epochs}</td>
              <td class="num">{duration(v.trainingSeconds)}</td>
              <td class="num">{score(v.validation?.weightedF1)}</td>
              <td class="num">{score(v.validation?.textOnlyWeightedF1)}</td>
              <td class="num">{percent(v.validation?.accuracy)}</td>
              <td class="num">{v.validation?.count ?? '–'}</td>
              <td class="actions">
                <button onClick={() => onPromote(v.version)} disabled={v.champion} aria-label={`Promote v${v.version}`}>
                  Promote…
                </button>
                <a href={apiUrl(`/models/${v.version}/report`)} target="_blank" rel="noopener noreferrer" aria-label={`Evaluation report of v${v.version}`}>
                  Report
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ComparisonView({ a, b }: { a: number; b: number }) {
  const categories = useCategories();
  const comparison = useLoad((signal) => get<Comparison>(`/models/compare?a=${a}&b=${b}`, signal), [a, b]);
  if (comparison.error) return <ErrorNote error={comparison.error} what="Comparison" />;
  const c = comparison.data;
  if (!c) return <Loading what="Comparing" />;
  const rows = c.classes.map((k) => ({ label: categoryLabel(categories, k.prdtypecode, k.name), a: k.a, b: k.b, delta: k.delta }));
  const wa = c.a.weightedF1;
  const wb = c.b.weightedF1;
  return (
    <div data-testid="comparison">
      <Facts
        items={[
          [`v${c.a.version} weighted F1`, score(wa)],
          [`v${c.b.version} weighted F1`, score(wb)],
          ['Difference (b − a)', wa !== null && wb !== null ? signed(wb - wa) : '–'],
        ]}
      />
      <h3>Per-class F1 (validation)</h3>
      {c.sameSplit === false ? <p class="warning">The two versions were validated on different splits: per-class differences are indicative only.</p> : null}
      <F1Bars rows={rows} a={c.a.version} b={c.b.version} />
      <h3>Confusion matrix difference</h3>
      {c.confusion ? (
        <>
          <p class="muted small">Evaluation dataset: {c.confusion.dataset}</p>
          <div class="scroll">
            <DiffHeatmap labels={c.confusion.labels} diff={c.confusion.diff} a={c.confusion.a} b={c.confusion.b} categories={categories} />
          </div>
        </>
      ) : (
        <p class="muted">No evaluation of both versions on the same dataset: evaluate them (Jobs page) to compare their confusion matrices.</p>
      )}
    </div>
  );
}

function PromoteDialog({ version, onClose }: { version: number; onClose: (promoted: boolean) => void }) {
  const categories = useCategories();
  const verdict = useLoad((signal) => get<Guardrail>(`/models/${version}/guardrail`, signal), [version]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ champion: number; previous: number | null } | null>(null);
  const promote = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setDone(await write<{ champion: number; previous: number | null }>('POST', `/models/${version}/promote`, { reason: 'promoted from the web console' }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const g = verdict.data;
  return (
    <div class="overlay">
      <div class="dialog wide" role="dialog" aria-modal="true" aria-labelledby="promote-title" data-testid="promote-dialog">
        <h2 id="promote-title">Promote v{version}</h2>
        {verdict.loading && !g ? <Loading what="Checking the guardrail" /> : null}
        <ErrorNote error={verdict.error} what="Guardrail" />
        {g ? (
          <div data-testid="guardrail">
            <p>
              Guardrail verdict: {g.promote ? <Badge tone="ok">would promote</Badge> : <Badge tone="bad">would not promote</Badge>}
            </p>
            <p class="text">{g.reason}</p>
            {g.sameSplit === false ? <p class="warning">The two versions were validated on different splits: the comparison is indicative only.</p> : null}
            <Facts
              items={[
                ['Current champion', g.champion === null ? 'none' : `v${g.champion}`],
                ['Largest per-class drop allowed', score(g.margin)],
              ]}
            />
            {g.regressions.length > 0 ? (
              <table class="data" aria-label="Per-class regressions">
                <thead>
                  <tr>
                    <th>Class</th>
                    <th class="num">F1 before</th>
                    <th class="num">F1 after</th>
                    <th class="num">Change</th>
                  </tr>
                </thead>
                <tbody>
                  {g.regressions.map((r) => (
                    <tr key={r.prdtypecode}>
                      <th scope="row">{categoryLabel(categories, r.prdtypecode, r.name)}</th>
                      <td class="num">{score(r.before)}</td>
                      <td class="num">{score(r.after)}</td>
                      <td class="num down">{signed(r.after - r.before)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </div>
        ) : null}
        {done ? (
          <p class="notice" role="status">
            v{done.champion} is the champion now{done.previous !== null ? ` (was v${done.previous})` : ''}.
          </p>
        ) : null}
        <ErrorNote error={error} what="Promotion" />
        <div class="actions">
          {done ? null : (
            <button class={g && !g.promote ? 'danger' : 'primary'} onClick={promote} disabled={busy || (!g && !verdict.error)}>
              {g && !g.promote ? `Promote v${version} anyway` : `Promote v${version}`}
            </button>
          )}
          <button onClick={() => onClose(done !== null)}>{done ? 'Close' : 'Cancel'}</button>
        </div>
      </div>
    </div>
  );
}

/** A select of the registered versions, the champion marked. */
function VersionSelect({ name, value, onChange, versions }: { name: string; value: string; onChange: (v: string) => void; versions: readonly { version: number; champion: boolean }[] }) {
  return (
    <label>
      Version {name}{' '}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)} aria-label={`Version ${name}`}>
        <option value="">–</option>
        {versions.map((v) => (
          <option key={v.version} value={String(v.version)}>
            v{v.version}
            {v.champion ? ' (champion)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
