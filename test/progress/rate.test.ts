import { describe, expect, it } from 'vitest';
import { speedText } from '../../src/cli/output.js';
import { JobReply } from '../../src/http/schemas.js';
import { withRate, type ProgressEvent } from '../../src/progress.js';

describe('withRate', () => {
  it('adds the phase rate since its first event and the time left', () => {
    let clock = 0;
    const seen: ProgressEvent[] = [];
    const listener = withRate((e) => seen.push(e), () => clock);
    const event = (done: number, phase = 'images_train', total = 1000): ProgressEvent => ({ stage: 'prepare', phase, done, total, unit: 'images' });
    listener?.(event(0));
    clock = 2_000;
    listener?.(event(100));
    clock = 4_000;
    listener?.(event(300));
    // Another phase has its own clock; an unknown total gets a rate and no ETA.
    listener?.(event(0, 'write', 0));
    clock = 5_000;
    listener?.(event(50, 'write', 0));
    expect(seen[0]).toEqual(event(0));
    expect(seen[1]).toEqual({ ...event(100), rate: 50, etaSeconds: 18 });
    expect(seen[2]).toEqual({ ...event(300), rate: 75, etaSeconds: 700 / 75 });
    expect(seen[4]).toEqual({ ...event(50, 'write', 0), rate: 50 });
  });

  it('restarts a phase that starts again and passes events that already carry a rate', () => {
    let clock = 0;
    const seen: ProgressEvent[] = [];
    const listener = withRate((e) => seen.push(e), () => clock);
    const e = (done: number): ProgressEvent => ({ stage: 'train', phase: 'epochs', done, total: 4, unit: 'epochs' });
    listener?.(e(2));
    clock = 1_000;
    listener?.(e(0));
    clock = 3_000;
    listener?.(e(1));
    expect(seen[2]).toEqual({ ...e(1), rate: 0.5, etaSeconds: 6 });
    listener?.({ ...e(3), rate: 9 });
    expect(seen[3]).toEqual({ ...e(3), rate: 9 });
    expect(withRate(undefined)).toBeUndefined();
  });
});

describe('rate and ETA downstream', () => {
  it('shows them beside the CLI progress bar', () => {
    expect(speedText({ unit: 'images' })).toBe('');
    expect(speedText({ unit: 'images', rate: 412.4, etaSeconds: 125 })).toBe('  412 images/s, ETA 2m05s');
    expect(speedText({ unit: 'epochs', rate: 0.0123 })).toBe('  0.012 epochs/s');
    expect(speedText({ unit: 'bytes', rate: 1234567, etaSeconds: 3725 })).toBe('  1,234,567 bytes/s, ETA 1h02m');
  });

  it('declares them in the job schema, so job replies carry them', () => {
    const progress = JobReply.properties.progress.anyOf[0];
    expect(progress.properties).toHaveProperty('rate');
    expect(progress.properties).toHaveProperty('etaSeconds');
    expect(progress.required).not.toContain('rate');
  });
});
