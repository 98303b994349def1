import { useEffect, useState } from 'preact/hooks';
import { get, messageOf, write } from '../api.js';
import { Badge, ErrorNote, Section, stateTone } from '../components/common.js';
import { followJobs, type LiveState } from '../events.js';
import { between, count, duration, when } from '../format.js';
import { announce, useLoad } from '../state.js';
import type { JobView, ModelsReply } from '../types.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const BUILT_IN_KINDS = ['text-image-v1', 'naive-bayes-v1'];

/** Jobs: live progress over GET /jobs/events, cancel, history, and the buttons that start work. */
export function JobsPage() {
  const [jobs, setJobs] = useState<Map<string, JobView>>(new Map());
  const [live, setLive] = useState<LiveState>({ state: 'connecting' });
  const [listError, setListError] = useState<unknown>();
  const upsert = (job: JobView) =>
    setJobs((m) => {
      const next = new Map(m);
      next.set(job.id, job);
      return next;
    });
  useEffect(() => {
    const controller = new AbortController();
    // History older than the stream's first 20 jobs, once; every change after that comes as an event.
    get<JobView[]>('/jobs?limit=100', controller.signal).then(
      (list) =>
        setJobs((m) => {
          const next = new Map(m);
          for (const job of list) if (!next.has(job.id)) next.set(job.id, job);
          return next;
        }),
      (e: unknown) => !controller.signal.aborted && setListError(e),
    );
    const stop = followJobs((job) => {
      upsert(job);
      if (FINAL.has(job.state)) announce('jobs');
    }, setLive);
    return () => {
      controller.abort();
      stop();
    };
  }, []);
  const all = [...jobs.values()].sort((x, y) => y.createdAt.localeCompare(x.createdAt));
  const running = all.filter((j) => !FINAL.has(j.state));
  return (
    <>
      <h1>Jobs</h1>
      <p class="live" data-testid="live-state" aria-live="polite">
        <LiveBadge live={live} />
      </p>
      <StartPanel onStarted={upsert} />
      <Section title="Running" testId="running-jobs">
        {running.length === 0 ? <p class="muted">No job is running.</p> : running.map((job) => <RunningJob key={job.id} job={job} onChange={upsert} />)}
      </Section>
      <Section title="History" testId="job-history">
        <ErrorNote error={listError} what="Job list" />
        <History jobs={all.filter((j) => FINAL.has(j.state))} />
      </Section>
    </>
  );
}

function LiveBadge({ live }: { live: LiveState }) {
  if (live.state === 'live') return <Badge tone="ok">live</Badge>;
  if (live.state === 'connecting') return <Badge tone="muted">connecting…</Badge>;
  if (live.state === 'retrying')
    return (
      <>
        <Badge tone="warn">reconnecting</Badge> <span class="muted small">{`${live.reason}; again in ${live.inSeconds} s`}</span>
      </>
    );
  return (
    <>
      <Badge tone="bad">no live updates</Badge> <span class="muted small">{live.reason}</span>
    </>
  );
}

function RunningJob({ job, onChange }: { job: JobView; onChange: (job: JobView) => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // The elapsed time moves between events too.
  const [, setNow] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const p = job.progress;
  const share = p && p.total > 0 ? Math.min(1, p.done / p.total) : undefined;
  const cancel = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onChange(await write<JobView>('DELETE', `/jobs/${encodeURIComponent(job.id)}`));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <article class="job" data-testid="running-job" data-job-id={job.id} aria-label={`${job.kind} job ${job.id}`}>
      <header class="job-head">
        <strong>{job.kind}</strong> <Badge tone={stateTone(job.state)}>{job.cancelRequested ? 'cancelling' : job.state}</Badge>{' '}
        <span class="muted small">
          {job.id} · started {when(job.startedAt ?? job.createdAt)} · {duration(between(job.startedAt ?? job.createdAt, null))}
        </span>
        <button class="danger" onClick={cancel} disabled={busy || job.cancelRequested} aria-label={`Cancel ${job.kind} job ${job.id}`}>
          Cancel
        </button>
      </header>
      <div
        class={`progress${share === undefined ? ' indeterminate' : ''}`}
        role="progressbar"
        aria-label={`${job.kind} progress`}
        aria-valuemin={0}
        aria-valuemax={p && p.total > 0 ? p.total : undefined}
        aria-valuenow={p && p.total > 0 ? p.done : undefined}
      >
        <span class="progress-fill" style={{ width: share === undefined ? '100%' : `${(share * 100).toFixed(1)}%` }} />
      </div>
      <p class="small">
        {p ? (
          <>
            {p.stage}
            {p.phase ? ` · ${p.phase}` : ''}: {count(p.done)}
            {p.total > 0 ? ` / ${count(p.total)}` : ''} {p.unit}
            {share !== undefined ? ` (${(share * 100).toFixed(1)}%)` : ''}
            {p.rate !== undefined ? ` · ${p.rate.toFixed(p.rate < 10 ? 2 : 0)} ${p.unit}/s` : ''}
            {p.etaSeconds !== undefined ? ` · ETA ${duration(p.etaSeconds)}` : ''}
          </>
        ) : (
          <span class="muted">{job.state === 'queued' ? 'waiting for a worker' : 'starting…'}</span>
        )}
      </p>
      <ErrorNote error={error} what="Cancel" />
    </article>
  );
}

function summary(result: unknown): string {
  if (!result || typeof result !== 'object') return '';
  const r = result as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ['version', 'modelVersion', 'weightedF1', 'rows', 'records', 'predictions', 'status', 'promoted', 'champion']) {
    const v = r[key];
    if (typeof v === 'number') parts.push(`${key} ${Number.isInteger(v) ? v : v.toFixed(3)}`);
    else if (typeof v === 'string' || typeof v === 'boolean') parts.push(`${key} ${String(v)}`);
  }
  return parts.join(' · ');
}

function History({ jobs }: { jobs: JobView[] }) {
  if (jobs.length === 0) return <p class="muted">No finished job yet.</p>;
  return (
    <div class="scroll">
      <table class="data" aria-label="Finished jobs">
        <thead>
          <tr>
            <th>Job</th>
            <th>Kind</th>
            <th>State</th>
            <th>Created</th>
            <th class="num">Took</th>
            <th>Result or error</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id} data-testid="history-job" data-job-id={job.id}>
              <td>
                <code>{job.id}</code>
              </td>
              <td>{job.kind}</td>
              <td>
                <Badge tone={stateTone(job.state)}>{job.state}</Badge>
              </td>
              <td>{when(job.createdAt)}</td>
              <td class="num">{duration(between(job.startedAt, job.finishedAt))}</td>
              <td class={job.error ? 'error-text text' : 'text'}>{job.error ? job.error.message : summary(job.result)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function StartPanel({ onStarted }: { onStarted: (job: JobView) => void }) {
  const models = useLoad((signal) => get<ModelsReply>('/models', signal));
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [dataDir, setDataDir] = useState('');
  const [kind, setKind] = useState('');
  const [epochs, setEpochs] = useState('');
  const [promote, setPromote] = useState('auto');
  const [includeCorrections, setIncludeCorrections] = useState(false);
  const [model, setModel] = useState('champion');
  const versions = models.data?.versions ?? [];
  const kinds = [...new Set([...versions.map((v) => v.kind), ...BUILT_IN_KINDS])];
  const modelRef = (): number | string => (/^\d+$/.test(model) ? Number(model) : model);

  const start = async (path: string, body: Record<string, unknown>) => {
    setBusy(true);
    setError(undefined);
    setNotice('');
    try {
      const job = await write<JobView>('POST', path, body);
      onStarted(job);
      setNotice(`Started ${job.kind} job ${job.id}.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const train = () => {
    const body: Record<string, unknown> = { promote };
    if (kind.trim()) body['kind'] = kind.trim();
    if (epochs.trim()) body['epochs'] = Number(epochs);
    if (includeCorrections) body['includeCorrections'] = true;
    void start('/train-model', body);
  };
  return (
    <Section title="Start work" testId="start-work">
      <div class="start-grid">
        <form
          class="start"
          aria-label="Load data"
          onSubmit={(e) => {
            e.preventDefault();
            void start('/load-data', dataDir.trim() ? { dataDir: dataDir.trim() } : {});
          }}
        >
          <h3>Load</h3>
          <label>
            Data folder <span class="muted small">(empty: the server’s)</span>
            <input value={dataDir} onInput={(e) => setDataDir(e.currentTarget.value)} placeholder="server default" aria-label="Data folder" />
          </label>
          <button type="submit" disabled={busy}>
            Start load
          </button>
        </form>
        <form
          class="start"
          aria-label="Prepare data"
          onSubmit={(e) => {
            e.preventDefault();
            void start('/prepare-data', {});
          }}
        >
          <h3>Prepare</h3>
          <p class="muted small">Preprocesses text and images and splits the labelled rows (train / val / test).</p>
          <button type="submit" disabled={busy}>
            Start prepare
          </button>
        </form>
        <form
          class="start"
          aria-label="Train a model"
          onSubmit={(e) => {
            e.preventDefault();
            train();
          }}
        >
          <h3>Train</h3>
          <label>
            Kind
            <input list="model-kinds" value={kind} onInput={(e) => setKind(e.currentTarget.value)} placeholder="server default" aria-label="Model kind" />
            <datalist id="model-kinds">
              {kinds.map((k) => (
                <option key={k} value={k} />
              ))}
            </datalist>
          </label>
          <label>
            Epochs
            <input type="number" min={1} step={1} value={epochs} onInput={(e) => setEpochs(e.currentTarget.value)} placeholder="default" aria-label="Epochs" />
          </label>
          <label>
            Promote
            <select value={promote} onChange={(e) => setPromote(e.currentTarget.value)} aria-label="Promote policy">
              <option value="auto">auto (guardrail)</option>
              <option value="always">always</option>
              <option value="never">never</option>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" checked={includeCorrections} onChange={(e) => setIncludeCorrections(e.currentTarget.checked)} /> Include review corrections
          </label>
          <button type="submit" disabled={busy}>
            Start training
          </button>
        </form>
        <form
          class="start"
          aria-label="Evaluate or predict"
          onSubmit={(e) => {
            e.preventDefault();
            void start('/evaluate-model', { model: modelRef() });
          }}
        >
          <h3>Evaluate / predict</h3>
          <label>
            Model
            <select value={model} onChange={(e) => setModel(e.currentTarget.value)} aria-label="Model version">
              <option value="champion">champion</option>
              <option value="latest">latest</option>
              {versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  v{v.version} ({v.kind}){v.champion ? ' ★' : ''}
                </option>
              ))}
            </select>
          </label>
          <div class="actions">
            <button type="submit" disabled={busy}>
              Start evaluation
            </button>
            <button type="button" disabled={busy} onClick={() => void start('/predict', { model: modelRef() })}>
              Start batch prediction
            </button>
          </div>
        </form>
      </div>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorNote error={error} what="Could not start" />
      {models.error ? <p class="muted small">{`Model list unavailable: ${messageOf(models.error)}`}</p> : null}
    </Section>
  );
}
