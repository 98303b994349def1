// Liveness of a run is its heartbeat: a setInterval in the run's own thread (RunRecorder, every
// 5 s); 60 s without one and other runs treat it as dead (its generation is collected, its data
// generation unprotected, raw-image GC proceeds). On the embedded store a prepare never yields
// to the event loop while it reads and writes rows: better-sqlite3 is synchronous and
// `for await` over its pages only queues microtasks, so the timer cannot fire. Measured on this
// machine with a 30,000-row text-only catalogue: one event-loop stall of 29.7 s — the whole
// prepare — and 13.2 s in a re-load; the 85k-row real catalogue goes well past 60 s.
// This test: a prepare made to last a few seconds must let timers run at least once a second.
import { describe, expect, it } from 'vitest';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends, useStore } from '../support/stores.js';

const embedded = storeBackends().find((b) => b.name === 'embedded');

describe.skipIf(!embedded)('heartbeat during a long prepare on the embedded store', () => {
  const ctx = useStore(embedded!);

  it('lets timers (the heartbeat) run while it works', async () => {
    const data = await makeCatalogue({ rows: 1_000, testRows: 0, imageFraction: 0 });
    await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
    // Slow text preprocessing (real catalogues have long HTML descriptions): ~3 ms a row (text is
    // prepared once per row).
    const preprocessor = new Preprocessor({ image: { size: 32 } });
    const prepareText = preprocessor.text.prepare.bind(preprocessor.text);
    preprocessor.text.prepare = (row) => {
      const until = performance.now() + 3;
      while (performance.now() < until);
      return prepareText(row);
    };
    let last = Date.now();
    let maxGap = 0; // longest time without the timer running
    const timer = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 50);
    const started = Date.now();
    try {
      await new PrepareStage(ctx.store, preprocessor).run({ seed: 3 });
    } finally {
      clearInterval(timer);
    }
    const took = Date.now() - started;
    maxGap = Math.max(maxGap, Date.now() - last); // the timer may never have fired at all
    console.log(`prepare ${took} ms, longest event-loop stall ${maxGap} ms`);
    expect(took).toBeGreaterThan(2_500);
    expect(maxGap).toBeLessThan(1_000);
  });
});
