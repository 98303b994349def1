import cliProgress from 'cli-progress';
import type { ProgressListener } from '../progress.js';

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
      format: ' {phase} |{bar}| {percentage}% {value}/{total} {unit}',
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
      bar = multi.create(e.total || 1, 0, { phase: name.padEnd(14), unit: e.unit });
      bars.set(name, bar);
    }
    if (e.total) bar.setTotal(e.total);
    bar.update(e.done, { phase: name.padEnd(14), unit: e.unit });
  };
  return { listener, stop: () => multi.stop() };
}

/** Prints a result: as JSON on stdout with `--json`, else as the given text lines. */
export function emit(options: OutputOptions, value: unknown, text: () => string[]): void {
  if (options.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${text().join('\n')}\n`);
}

/** Formats a number with thousands separators. */
export function n(value: number): string {
  return value.toLocaleString('en-US');
}
