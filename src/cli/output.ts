import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressListener } from '../progress.js';
import { escapeControls } from '../stages/load/escape.js';

/** Output settings shared by every command. */
export interface OutputOptions {
  /** Print one machine-readable JSON document on stdout instead of text. */
  json?: boolean;
}

/**
 * A progress listener drawing one bar per phase on stderr (stdout stays clean for `--json`).
 * Bars are drawn only on a terminal; `stop` must be called when the work ends.
 */
export function progressBars(): { listener: ProgressListener; stop: () => void } {
  if (!process.stderr.isTTY) return { listener: () => undefined, stop: () => undefined };
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: ' {phase} |{bar}| {percentage}% {value}/{total} {unit}{speed}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const listener: ProgressListener = (e) => {
    const name = `${e.stage}:${e.phase}`;
    let bar = bars.get(name);
    if (!bar) {
      bar = multi.create(e.total || 1, 0, { phase: name.padEnd(14), unit: e.unit, speed: '' });
      bars.set(name, bar);
    }
    if (e.total) bar.setTotal(e.total);
    bar.update(e.done, { phase: name.padEnd(14), unit: e.unit, speed: speedText(e) });
  };
  return { listener, stop: () => multi.stop() };
}

/** `  123 images/s, ETA 2m05s`: the event's rate and time left, `''` before they are known. */
export function speedText(e: Pick<ProgressEvent, 'rate' | 'etaSeconds' | 'unit'>): string {
  if (e.rate === undefined) return '';
  const rate = e.rate >= 100 ? Math.round(e.rate).toLocaleString('en-US') : e.rate.toPrecision(2);
  return `  ${rate} ${e.unit}/s${e.etaSeconds === undefined ? '' : `, ETA ${duration(e.etaSeconds)}`}`;
}

/** Seconds as `45s`, `2m05s` or `1h02m`. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * `text` with its control characters written as `\x1b`, `\u202e`...: file names and CSV
 * fields reach the terminal, and an ESC in one must not recolour, move the cursor or rewrite
 * what was printed. Newlines are escaped too unless `keepNewlines` (for multi-line messages).
 */
export function escapeControl(text: string, keepNewlines = false): string {
  return keepNewlines ? text.split('\n').map(escapeControls).join('\n') : escapeControls(text);
}

// What JSON.stringify leaves raw but a terminal may act on; \uXXXX is valid JSON for them.
const JSON_UNESCAPED = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Prints a result: as JSON on stdout with `--json` (JSON escapes controls itself), else as the given text lines. */
export function emit(options: OutputOptions, value: unknown, text: () => string[]): void {
  if (options.json) process.stdout.write(`${JSON.stringify(value, null, 2).replace(JSON_UNESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
  else process.stdout.write(`${text().map((line) => escapeControl(line)).join('\n')}\n`);
}

/** Formats a number with thousands separators. */
export function n(value: number): string {
  return value.toLocaleString('en-US');
}
