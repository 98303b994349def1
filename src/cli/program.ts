import { Command } from 'commander';
import { registerDemoData } from './commands/demo-data.js';
import { registerLoad } from './commands/load.js';
import { registerPrepare } from './commands/prepare.js';
import { registerStatus } from './commands/status.js';

/** Version printed by `--version`, injected at build time. */
declare const __VERSION__: string | undefined;

/** Builds the `rakuten-pipeline` command line. */
export function buildProgram(): Command {
  const program = new Command('rakuten-pipeline')
    .description('Rakuten France product classification pipeline: load, prepare, train, evaluate, predict, serve')
    .version(typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev')
    .showHelpAfterError();
  registerLoad(program);
  registerStatus(program);
  registerPrepare(program);
  registerDemoData(program);
  return program;
}
