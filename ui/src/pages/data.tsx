import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { Badge, Bar, ErrorNote, Facts, Loading, Section, stateTone } from '../components/common.js';
import { count, duration, percent, when } from '../format.js';
import { categoryLabel, useCategories, useLoad } from '../state.js';
import type { Category, DataStatus, LoadRun, PrepareRun, SplitSummary } from '../types.js';

const SPLITS = ['train', 'val', 'test'] as const;

/** Data: what the store holds, the last load with its quarantine, the last prepare with its splits. */
export function DataPage() {
  const status = useLoad((signal) => get<DataStatus>('/data-status', signal));
  const categories = useCategories();
  return (
    <>
      <h1>Data</h1>
      <ErrorNote error={status.error} what="Data status" />
      {status.loading && !status.data ? <Loading /> : null}
      {status.data ? (
        <>
          <StoreStatus status={status.data} reload={status.reload} />
          <LastLoad run={status.data.lastLoad} />
          {status.data.lastPrepare !== undefined ? <LastPrepare run={status.data.lastPrepare} categories={categories} /> : null}
        </>
      ) : null}
    </>
  );
}

function StoreStatus({ status, reload }: { status: DataStatus; reload: () => void }) {
  const images = status.images;
  return (
    <Section title="Store" testId="store-status" actions={<button onClick={reload}>Refresh</button>}>
      <Facts
        items={[
          ['Store', <code>{status.store}</code>],
          ['Driver', status.driver],
          ['Labelled training rows', count(status.labelledTrainRows)],
          ['Test rows', count(status.testRows)],
          ['Images stored', count(images?.total)],
        ]}
      />
      {(status.warnings ?? []).map((w) => (
        <p class="warning" key={w}>
          {w}
        </p>
      ))}
      <div class="columns">
        <table class="data" aria-label="Images per split">
          <thead>
            <tr>
              <th>Split</th>
              <th class="num">Rows</th>
              <th class="num">With image</th>
              <th class="num">Missing</th>
              <th class="num">Stored</th>
            </tr>
          </thead>
          <tbody>
            {(['train', 'test'] as const).map((split) => {
              const s = images?.[split];
              return (
                <tr key={split}>
                  <th scope="row">{split}</th>
                  <td class="num">{count(s?.rows)}</td>
                  <td class="num">{count(s?.withImage)}</td>
                  <td class="num">{count(s?.missing)}</td>
                  <td class="num">{count(s?.stored)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <table class="data" aria-label="Collections">
          <thead>
            <tr>
              <th>Collection</th>
              <th class="num">Documents</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(status.collections).map(([name, n]) => (
              <tr key={name}>
                <th scope="row">
                  <code>{name}</code>
                </th>
                <td class="num">{count(n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

function LastLoad({ run }: { run: LoadRun | null }) {
  const [reason, setReason] = useState('');
  if (!run) {
    return (
      <Section title="Last load" testId="last-load">
        <p class="muted">No data loaded yet: start a load on the Jobs page.</p>
      </Section>
    );
  }
  const byReason = Object.entries(run.quarantineByReason ?? {}).sort((x, y) => y[1] - x[1]);
  const maxReason = Math.max(1, ...byReason.map(([, n]) => n));
  const entries = (run.quarantine ?? []).filter((q) => !reason || q.reason === reason);
  const total = run.quarantineTotal ?? run.quarantine?.length ?? 0;
  return (
    <Section title="Last load" testId="last-load">
      <Facts
        items={[
          ['Status', <Badge tone={stateTone(run.status)}>{run.status}</Badge>],
          ['Started', when(run.startedAt)],
          ['Finished', when(run.finishedAt)],
          ['Took', duration(run.seconds)],
          ['Source', run.source ? <code>{run.source}</code> : '–'],
          ['Quarantined inputs', count(total)],
        ]}
      />
      {(run.errors ?? []).map((e, i) => (
        <p class="error" key={`e${i}`}>
          {e}
        </p>
      ))}
      {(run.warnings ?? []).map((w, i) => (
        <p class="warning" key={`w${i}`}>
          {w}
        </p>
      ))}
      <h3>Quarantine by reason</h3>
      {byReason.length === 0 ? (
        <p class="muted">Nothing quarantined.</p>
      ) : (
        <table class="data" aria-label="Quarantine counts by reason" data-testid="quarantine-by-reason">
          <tbody>
            {byReason.map(([r, n]) => (
              <tr key={r}>
                <th scope="row">
                  <code>{r}</code>
                </th>
                <td class="wide">
                  <Bar value={n} max={maxReason} tone="warn" label={`${r}: ${n}`} />
                </td>
                <td class="num">{count(n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(run.quarantine ?? []).length > 0 ? (
        <>
          <h3>Quarantined inputs</h3>
          <div class="toolbar">
            <label>
              Reason{' '}
              <select value={reason} onChange={(e) => setReason(e.currentTarget.value)} aria-label="Filter quarantine by reason">
                <option value="">all</option>
                {byReason.map(([r]) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </label>
            <span class="muted small">
              {entries.length} shown{total > (run.quarantine?.length ?? 0) ? `, ${count(total)} in all (the run kept the first ${run.quarantine?.length ?? 0})` : ''}
            </span>
          </div>
          <div class="scroll tall">
            <table class="data" aria-label="Quarantined inputs" data-testid="quarantine">
              <thead>
                <tr>
                  <th>File</th>
                  <th class="num">Row</th>
                  <th>Field</th>
                  <th>Reason</th>
                  <th>Message</th>
                  <th>Action</th>
                </tr>
              </thead>
              <tbody>
                {entries.slice(0, 500).map((q, i) => (
                  <tr key={i}>
                    <td>{q.file}</td>
                    <td class="num">{q.row}</td>
                    <td>{q.field}</td>
                    <td>
                      <code>{q.reason}</code>
                    </td>
                    <td class="text">{q.message ?? ''}</td>
                    <td>{q.action ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </Section>
  );
}

function splitCounts(s: SplitSummary | undefined): { total: number; classes: Record<string, number> } {
  const classes = s?.perClass ?? s?.classes ?? {};
  const total = s?.total ?? s?.count ?? Object.values(classes).reduce((x, y) => x + y, 0);
  return { total, classes };
}

function LastPrepare({ run, categories }: { run: PrepareRun | null; categories: Map<number, Category> }) {
  if (!run) {
    return (
      <Section title="Last prepare" testId="last-prepare">
        <p class="muted">No prepare run yet: start one on the Jobs page.</p>
      </Section>
    );
  }
  const splits = SPLITS.map((name) => ({ name, ...splitCounts(run.splits?.[name]) }));
  const codes = [...new Set(splits.flatMap((s) => Object.keys(s.classes)))].map(Number).sort((x, y) => x - y);
  let maxShare = 0;
  for (const s of splits) for (const n of Object.values(s.classes)) maxShare = Math.max(maxShare, s.total ? n / s.total : 0);
  const dup = run.duplicateGroups;
  return (
    <Section title="Last prepare" testId="last-prepare">
      <Facts
        items={[
          ['Status', <Badge tone={stateTone(run.status)}>{run.status}</Badge>],
          ['Started', when(run.startedAt)],
          ['Finished', when(run.finishedAt)],
          ...splits.map((s): [string, string] => [`${s.name} rows`, count(s.total)]),
          ['Image failures', count(run.images?.failed ?? run.failures?.length)],
          ['Largest class share gap', run.maxClassShareGapPp === undefined ? '–' : `${run.maxClassShareGapPp.toFixed(2)} pp`],
        ]}
      />
      {(run.errors ?? []).map((e, i) => (
        <p class="error" key={i}>
          {e}
        </p>
      ))}
      <h3>Duplicate groups</h3>
      {dup ? (
        <Facts
          items={[
            ['Groups (2+ products)', count(dup.groups)],
            ['Products in them', count(dup.items)],
            ['Largest group', count(dup.largest)],
            ['Groups with mixed labels', count(dup.mixedLabels)],
            ['Sharing their text', count(dup.byText)],
            ['Sharing their image', count(dup.byImage)],
          ]}
        />
      ) : (
        <p class="muted">Not recorded.</p>
      )}
      <h3>Class distribution per split</h3>
      <div class="scroll">
        <table class="data distribution" aria-label="Class distribution per split" data-testid="class-distribution">
          <thead>
            <tr>
              <th>Class</th>
              {splits.map((s) => (
                <th key={s.name} colSpan={2}>
                  {s.name} ({count(s.total)})
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {codes.map((code) => (
              <tr key={code}>
                <th scope="row">{categoryLabel(categories, code)}</th>
                {splits.map((s) => {
                  const n = s.classes[String(code)] ?? 0;
                  const share = s.total ? n / s.total : 0;
                  return [
                    <td class="num" key={`${s.name}-n`} title={percent(share, 2)}>
                      {count(n)}
                    </td>,
                    <td class="mini" key={`${s.name}-bar`}>
                      <Bar value={share} max={maxShare} label={`${s.name}: ${percent(share, 2)}`} />
                    </td>,
                  ];
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
