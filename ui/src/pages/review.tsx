import { useEffect, useState } from 'preact/hooks';
import { blobUrl, get, write } from '../api.js';
import { TopClasses } from '../components/charts.js';
import { Badge, ErrorNote, Loading, Section } from '../components/common.js';
import { score, when } from '../format.js';
import { categoryLabel, useCategories, useLoad } from '../state.js';
import type { Category, Correction, ReviewItem, ReviewReply } from '../types.js';

type Filter = 'uncertain' | 'disagreement' | 'all';

/** Review: the least certain predictions first; accept or correct each one. */
export function ReviewPage() {
  const categories = useCategories();
  const [filter, setFilter] = useState<Filter>('uncertain');
  const queue = useLoad((signal) => get<ReviewReply>(`/review?limit=20&reason=${filter}`, signal), [filter]);
  const corrections = useLoad((signal) => get<Correction[]>('/review/corrections?limit=20', signal));
  const [done, setDone] = useState<Set<string>>(new Set());
  const reviewed = (id: string) => {
    setDone((s) => new Set(s).add(id));
    corrections.reload();
  };
  const items = (queue.data?.items ?? []).filter((i) => !done.has(i.id));
  return (
    <>
      <h1>Review</h1>
      <Section
        title="Queue"
        testId="review-queue"
        actions={
          <>
            <label>
              Show{' '}
              <select value={filter} onChange={(e) => setFilter(e.currentTarget.value as Filter)} aria-label="Review filter">
                <option value="uncertain">uncertain</option>
                <option value="disagreement">text and image disagree</option>
                <option value="all">all</option>
              </select>
            </label>
            <button
              onClick={() => {
                setDone(new Set());
                queue.reload();
              }}
            >
              Refresh
            </button>
          </>
        }
      >
        <ErrorNote error={queue.error} what="Review queue" />
        {queue.loading && !queue.data ? <Loading /> : null}
        {queue.data ? (
          <p class="muted" data-testid="pending">
            {queue.data.pending} prediction{queue.data.pending === 1 ? '' : 's'} waiting for review
          </p>
        ) : null}
        {queue.data && items.length === 0 ? <p class="muted">Nothing to review here.</p> : null}
        {items.map((item) => (
          <ReviewCard key={item.id} item={item} categories={categories} onReviewed={() => reviewed(item.id)} />
        ))}
      </Section>
      <Section title="Recent corrections" testId="corrections">
        <ErrorNote error={corrections.error} what="Corrections" />
        {corrections.data && corrections.data.length === 0 ? <p class="muted">No review yet.</p> : null}
        {corrections.data && corrections.data.length > 0 ? (
          <table class="data" aria-label="Recent corrections">
            <thead>
              <tr>
                <th>When</th>
                <th>Product</th>
                <th>Predicted</th>
                <th>Label given</th>
                <th>Verdict</th>
                <th>Key</th>
              </tr>
            </thead>
            <tbody>
              {corrections.data.map((c) => (
                <tr key={c.id}>
                  <td>{when(c.at)}</td>
                  <td class="text" title={c.predictionId}>
                    {c.designation ?? c.predictionId}
                  </td>
                  <td>{categoryLabel(categories, c.predicted)}</td>
                  <td>{categoryLabel(categories, c.prdtypecode)}</td>
                  <td>{c.accepted ? <Badge tone="ok">accepted</Badge> : <Badge tone="warn">corrected</Badge>}</td>
                  <td>{c.keyId ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}

function ReviewImage({ id }: { id: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    let made: string | null = null;
    blobUrl(`/review/${encodeURIComponent(id)}/image`, controller.signal).then(
      (u) => {
        made = u;
        if (controller.signal.aborted) URL.revokeObjectURL(u);
        else setUrl(u);
      },
      () => !controller.signal.aborted && setFailed(true),
    );
    return () => {
      controller.abort();
      if (made) URL.revokeObjectURL(made);
    };
  }, [id]);
  if (failed) return <p class="muted small">Image unavailable.</p>;
  return url ? <img src={url} alt="Product image" class="thumb" /> : <div class="thumb placeholder" aria-hidden="true" />;
}

function ReviewCard({ item, categories, onReviewed }: { item: ReviewItem; categories: Map<number, Category>; onReviewed: () => void }) {
  const codes = [...categories.keys()].sort((x, y) => x - y);
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const predicted = categoryLabel(categories, item.prdtypecode, item.name);
  const send = async (code: number) => {
    setBusy(true);
    setError(undefined);
    try {
      await write<Correction>('POST', `/review/${encodeURIComponent(item.id)}`, { prdtypecode: code });
      onReviewed();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const options = codes.length > 0 ? codes : [...new Set(item.top.map((t) => t.prdtypecode))];
  return (
    <article class="review" data-testid="review-item" data-id={item.id} aria-label={`Prediction ${item.id}`}>
      {item.input.hasImage ? <ReviewImage id={item.id} /> : <div class="thumb placeholder">no image</div>}
      <div class="review-body">
        <h3 class="text">{item.input.designation}</h3>
        {item.input.description ? <p class="text description">{item.input.description}</p> : null}
        <p class="small muted">
          {item.source} · v{item.modelVersion} · {when(item.predictedAt)} · margin {score(item.confidence.margin)} · entropy {score(item.confidence.entropy)}{' '}
          {item.reasons.map((r) => (
            <Badge key={r} tone={r === 'disagreement' ? 'warn' : 'info'}>
              {r}
            </Badge>
          ))}
        </p>
        <p>
          Predicted: <strong>{predicted}</strong>
        </p>
        {item.disagreement || (item.textClass !== null && item.imageClass !== null && item.textClass !== item.imageClass) ? (
          <p class="warning" data-testid="disagreement">
            Text says {categoryLabel(categories, item.textClass)}; image says {categoryLabel(categories, item.imageClass)}.
          </p>
        ) : null}
        <TopClasses top={item.top} categories={categories} />
        <div class="actions">
          <button class="primary" disabled={busy} onClick={() => void send(item.prdtypecode)} aria-label={`Accept ${predicted} for ${item.id}`}>
            Accept
          </button>
          <label>
            Correct to{' '}
            <select value={target} onChange={(e) => setTarget(e.currentTarget.value)} aria-label={`Correct class for ${item.id}`}>
              <option value="">choose a class…</option>
              {options.map((code) => (
                <option key={code} value={String(code)}>
                  {categoryLabel(categories, code)}
                </option>
              ))}
            </select>
          </label>
          <button disabled={busy || !target} onClick={() => void send(Number(target))} aria-label={`Correct ${item.id}`}>
            Correct
          </button>
        </div>
        <ErrorNote error={error} what="Review" />
      </div>
    </article>
  );
}
