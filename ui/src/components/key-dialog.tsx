import { useEffect, useRef, useState } from 'preact/hooks';
import { setKeyAsker } from '../api.js';

interface Pending {
  reason: string;
  resolve: (key: string | null) => void;
}

/**
 * The API key dialog, shown when a request needs a key. The key is read from the password field
 * on submit and the dialog is then removed from the page: it stays in sessionStorage only.
 */
export function KeyDialog() {
  const [pending, setPending] = useState<Pending | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setKeyAsker((reason) => new Promise<string | null>((resolve) => setPending({ reason, resolve })));
    return () => setKeyAsker(null);
  }, []);
  useEffect(() => {
    if (pending) input.current?.focus();
  }, [pending]);
  if (!pending) return null;
  const close = (key: string | null) => {
    if (input.current) input.current.value = '';
    setPending(null);
    pending.resolve(key);
  };
  return (
    <div class="overlay">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="key-title" aria-describedby="key-reason" data-testid="key-dialog">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            close(input.current?.value ?? null);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close(null);
          }}
        >
          <h2 id="key-title">Authorization</h2>
          <p id="key-reason">{pending.reason}</p>
          <p class="muted small">Kept in this tab’s session storage only, sent as an Authorization header; “Forget key” clears it.</p>
          <label>
            Key
            <input ref={input} type="password" name="api-key" autocomplete="off" spellcheck={false} aria-label="API key" required />
          </label>
          <div class="actions">
            <button type="submit" class="primary">
              Use key
            </button>
            <button type="button" onClick={() => close(null)}>
              Cancel
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
