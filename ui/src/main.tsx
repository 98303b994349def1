import { render } from 'preact';
import { apiUrl, forgetKey } from './api.js';
import { Badge } from './components/common.js';
import { KeyDialog } from './components/key-dialog.js';
import { DataPage } from './pages/data.js';
import { DriftPage } from './pages/drift.js';
import { JobsPage } from './pages/jobs.js';
import { ModelsPage } from './pages/models.js';
import { PredictPage } from './pages/predict.js';
import { ReviewPage } from './pages/review.js';
import { useAnnounced, useHasKey, useLoad, useRoute } from './state.js';
import type { Health } from './types.js';
import './styles.css';

const PAGES = [
  { route: 'data', label: 'Data', Page: DataPage },
  { route: 'jobs', label: 'Jobs', Page: JobsPage },
  { route: 'models', label: 'Models', Page: ModelsPage },
  { route: 'predict', label: 'Predict', Page: PredictPage },
  { route: 'review', label: 'Review', Page: ReviewPage },
  { route: 'drift', label: 'Drift', Page: DriftPage },
] as const;

function Header({ route }: { route: string }) {
  const health = useLoad(async (signal) => {
    // 503 still carries the body: a degraded server is shown as such.
    const response = await fetch(apiUrl('/health'), { signal, cache: 'no-store', credentials: 'omit' });
    return (await response.json()) as Health;
  }, [route]);
  useAnnounced('models', health.reload);
  useAnnounced('jobs', health.reload);
  const hasKey = useHasKey();
  const h = health.data;
  return (
    <header class="top">
      <div class="brand">
        <a href="#/data">rakuten-pipeline</a> <span class="muted small">console</span>
      </div>
      <nav aria-label="Pages">
        {PAGES.map((p) => (
          <a key={p.route} href={`#/${p.route}`} aria-current={p.route === route ? 'page' : undefined}>
            {p.label}
          </a>
        ))}
      </nav>
      <div class="status" data-testid="header-status">
        <span data-testid="champion">Champion: {h ? (h.champion === null ? 'none' : `v${h.champion}`) : '…'}</span>{' '}
        <span data-testid="health">
          {h ? <Badge tone={h.status === 'ok' ? 'ok' : 'bad'}>{h.status}</Badge> : health.error ? <Badge tone="bad">unreachable</Badge> : null}
        </span>{' '}
        {h && h.runningJobs > 0 ? <span class="muted small">{h.runningJobs} running</span> : null}{' '}
        <button class="link" onClick={forgetKey} disabled={!hasKey} title={hasKey ? 'Remove the API key from this tab' : 'No key given in this tab'}>
          Forget key
        </button>
      </div>
    </header>
  );
}

function App() {
  const route = useRoute();
  const page = PAGES.find((p) => p.route === route) ?? PAGES[0];
  const { Page } = page;
  return (
    <>
      <Header route={page.route} />
      <main id="main" data-page={page.route}>
        <Page key={page.route} />
      </main>
      <footer class="muted small">
        rakuten-pipeline {__VERSION__} ·{' '}
        <a href={apiUrl('/docs')} target="_blank" rel="noopener noreferrer">
          API documentation
        </a>
      </footer>
      <KeyDialog />
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
