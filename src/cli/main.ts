#!/usr/bin/env node
import { buildProgram } from './program.js';
import { escapeControl } from './output.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`rakuten-pipeline: ${escapeControl(error instanceof Error ? error.message : String(error), true)}\n`);
    process.exitCode = 1;
  });
