import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time (vitest's default is cores - 1: one here). Most files wait on child
    // processes, servers and worker threads more than they compute: 810 s serial, 550 s with two,
    // on the project's 2-core machine while another job ran beside it.
    maxWorkers: 2,
  },
});
