import type { ComponentChildren } from 'preact';
import { ApiError, messageOf } from '../api.js';

/** An error as a short alert (the API's message is text). */
export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  if (error === undefined || error === null) return null;
  const status = error instanceof ApiError && error.status ? ` (${error.status})` : '';
  return (
    <p class="error" role="alert">
      {what ? `${what}: ` : ''}
      {messageOf(error)}
      {status}
    </p>
  );
}

/** A loading line. */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" aria-live="polite">
      {what}…
    </p>
  );
}

/** A titled block of a page. */
export function Section({ title, children, actions, testId }: { title: string; children: ComponentChildren; actions?: ComponentChildren; testId?: string }) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section class="card" aria-labelledby={id} data-testid={testId}>
      <header class="card-head">
        <h2 id={id}>{title}</h2>
        {actions ? <div class="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** A horizontal bar of `value` in [0, max]. */
export function Bar({ value, max = 1, tone = 'a', label }: { value: number; max?: number; tone?: 'a' | 'b' | 'ok' | 'warn' | 'bad' | 'ref' | 'cur'; label?: string }) {
  const share = max > 0 && Number.isFinite(value) ? Math.max(0, Math.min(1, value / max)) : 0;
  return (
    <span class="bar" role="img" aria-label={label}>
      <span class={`bar-fill tone-${tone}`} style={{ width: `${(share * 100).toFixed(2)}%` }} />
    </span>
  );
}

/** A small coloured label. */
export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** Key-value pairs. */
export function Facts({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Tone of a job or run state. */
export function stateTone(state: string): 'ok' | 'warn' | 'bad' | 'info' | 'muted' {
  if (state === 'succeeded' || state === 'completed' || state === 'ok') return 'ok';
  if (state === 'failed' || state === 'interrupted' || state === 'degraded') return 'bad';
  if (state === 'cancelled' || state === 'completed_with_warnings') return 'warn';
  if (state === 'running' || state === 'queued') return 'info';
  return 'muted';
}
