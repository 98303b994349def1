import { useState } from 'preact/hooks';
import { ApiError, get, write } from '../api.js';
import { BinBars } from '../components/charts.js';
import { Badge, ErrorNote, Facts, Loading, Section } from '../components/common.js';
import { count, score, when } from '../format.js';
import { useLoad } from '../state.js';
import type { DriftReport } from '../types.js';

/** Drift: the newest report (PSI per feature against the training reference), compute now, history. */
export function DriftPage() {
  // 404: no report yet, not an error.
  const latest = useLoad(async (signal) => {
    try {
      return await get<DriftReport>('/drift', signal);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  });
  const history = useLoad((signal) => get<DriftReport[]>('/drift/reports?limit=20', signal));
  const [windowSize, setWindowSize] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [computed, setComputed] = useState<DriftReport | null>(null);
  const compute = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setComputed(await write<DriftReport>('POST', '/drift', windowSize.trim() ? { window: Number(windowSize) } : {}));
      history.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const report = computed ?? latest.data ?? null;
  return (
    <>
      <h1>Drift</h1>
      <Section
        title="Newest report"
        testId="drift-report"
        actions={
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void compute();
            }}
          >
            <label>
              Window{' '}
              <input type="number" min={1} step={1} value={windowSize} onInput={(e) => setWindowSize(e.currentTarget.value)} placeholder="default" aria-label="Window size" class="short" />
            </label>
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Computing…' : 'Compute now'}
            </button>
          </form>
        }
      >
        <ErrorNote error={error} what="Compute" />
        <ErrorNote error={latest.error} what="Drift report" />
        {latest.loading && latest.data === undefined && !computed ? <Loading /> : null}
        {!report && latest.data === null ? (
          <p class="muted" data-testid="no-drift">
            No report yet: “Compute now” compares recent predictions with the training data.
          </p>
        ) : null}
        {report ? <Report report={report} /> : null}
      </Section>
      <Section title="History" testId="drift-history">
        <ErrorNote error={history.error} what="Reports" />
        {history.data && history.data.length === 0 ? <p class="muted">No report yet.</p> : null}
        {history.data && history.data.length > 0 ? (
          <table class="data" aria-label="Drift reports">
            <thead>
              <tr>
                <th>When</th>
                <th>Model</th>
                <th class="num">Window</th>
                <th>Enough data</th>
                <th>Flagged features</th>
              </tr>
            </thead>
            <tbody>
              {history.data.map((r) => (
                <tr key={r.id}>
                  <td>{when(r.createdAt)}</td>
                  <td>{r.modelVersion === null ? '–' : `v${r.modelVersion}`}</td>
                  <td class="num">{count(r.window.size)}</td>
                  <td>{r.enough ? 'yes' : 'no'}</td>
                  <td>{r.flagged.length === 0 ? <Badge tone="ok">none</Badge> : r.flagged.map((f) => <Badge key={f} tone="bad">{f}</Badge>)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}

function Report({ report }: { report: DriftReport }) {
  return (
    <div data-testid="drift-current">
      <Facts
        items={[
          ['Computed', when(report.createdAt)],
          ['Model', report.modelVersion === null ? '–' : `v${report.modelVersion}`],
          ['Window', `${count(report.window.size)} predictions${report.window.online !== undefined ? ` (${count(report.window.online)} online, ${count(report.window.batch)} batch)` : ''}`],
          ['Period', `${when(report.window.from)} – ${when(report.window.to)}`],
          ['Reference', `${count(report.reference.count)} validation products of its training data`],
          ['Flagged', report.flagged.length === 0 ? <Badge tone="ok">none</Badge> : <Badge tone="bad">{report.flagged.length}</Badge>],
        ]}
      />
      {!report.enough ? <p class="warning">The window is below the minimum size: the figures are indicative only.</p> : null}
      {report.note ? <p class="muted text">{report.note}</p> : null}
      <div class="features">
        {report.features.map((f) => (
          <article class={`feature${f.flagged ? ' flagged' : ''}`} key={f.name} data-testid="drift-feature" data-feature={f.name} aria-label={f.label}>
            <header>
              <h3>{f.label}</h3>
              {f.flagged ? <Badge tone="bad">drift</Badge> : <Badge tone="ok">stable</Badge>}
            </header>
            <p class="small">
              {f.measure.toUpperCase()} <strong>{score(f.value)}</strong> (flagged above {score(f.threshold, 2)} + sampling noise {score(f.noise, 2)})
            </p>
            <p class="legend small">
              <i class="swatch tone-ref" /> reference <i class="swatch tone-cur" /> current
            </p>
            <BinBars bins={f.bins} />
          </article>
        ))}
      </div>
    </div>
  );
}
