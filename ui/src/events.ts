// GET /jobs/events read with fetch() and a stream reader (not EventSource, which cannot send the
// key in a header): one `event: job` per change of a job, `: ping` comments in between.
import { apiUrl, askForKey, currentKey, forgetKey } from './api.js';
import type { JobView } from './types.js';

/** One server-sent event. */
export interface ServerEvent {
  event: string;
  data: string;
}

/**
 * Splits a text/event-stream into events. Feed it chunks as they come; it returns the events
 * completed by each chunk (comments and events without data are dropped).
 */
export class EventStreamParser {
  private buffer = '';

  push(chunk: string): ServerEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const events: ServerEvent[] = [];
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) events.push({ event, data: data.join('\n') });
    }
    return events;
  }
}

/** State of the live connection. */
export type LiveState = { state: 'connecting' } | { state: 'live' } | { state: 'retrying'; reason: string; inSeconds: number } | { state: 'stopped'; reason: string };

/**
 * Follows the job events until the returned function is called: `onJob` for each job update,
 * `onState` when the connection changes. Reconnects after a dropped stream (1 s, doubling up to
 * 30 s); stops on a 404 (a server without the route) or when no key is given.
 */
export function followJobs(onJob: (job: JobView) => void, onState: (state: LiveState) => void): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  const run = async () => {
    let delay = 1;
    while (!signal.aborted) {
      onState({ state: 'connecting' });
      let reason: string;
      try {
        const key = currentKey();
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (key) headers['authorization'] = `Bearer ${key}`;
        const response = await fetch(apiUrl('/jobs/events'), { headers, signal, cache: 'no-store', credentials: 'omit' });
        if (response.status === 401) {
          const text = await response.text();
          if (/invalid API key/i.test(text)) forgetKey();
          if (/no API keys configured/i.test(text) || !(await askForKey('Live job updates need an API key on this server.'))) {
            onState({ state: 'stopped', reason: 'an API key is needed to follow jobs' });
            return;
          }
          continue;
        }
        if (response.status === 404) {
          onState({ state: 'stopped', reason: 'this server has no live job events (GET /jobs/events)' });
          return;
        }
        if (!response.ok || !response.body) throw new Error(`GET /jobs/events answered ${response.status}`);
        onState({ state: 'live' });
        delay = 1;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new EventStreamParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) {
            if (event.event !== 'job') continue;
            try {
              onJob(JSON.parse(event.data) as JobView);
            } catch {
              // A malformed event is skipped; the next update of that job replaces it.
            }
          }
        }
        reason = 'the server closed the stream';
      } catch (e) {
        if (signal.aborted) return;
        reason = e instanceof Error ? e.message : String(e);
      }
      onState({ state: 'retrying', reason, inSeconds: delay });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay * 1000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      delay = Math.min(30, delay * 2);
    }
  };
  void run();
  return () => controller.abort();
}
