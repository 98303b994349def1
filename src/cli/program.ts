import { Command } from 'commander';
import { PACKAGE_VERSION } from '../version.js';
import { registerDemoData } from './commands/demo-data.js';
import { registerLoad } from './commands/load.js';
import { registerModelCommands } from './commands/model.js';
import { registerRun } from './commands/run.js';
import { registerPrepare } from './commands/prepare.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerWorker } from './commands/worker.js';
import { registerSchedule } from './commands/schedule.js';
import { registerDrift } from './commands/drift.js';
import { escapeControl } from './output.js';
import { setCliPlugins } from './context.js';


/** Builds the `rakuten-pipeline` command line. */
export function buildProgram(): Command {
  const program = new Command('rakuten-pipeline')
    .description('Rakuten France product classification pipeline: load, prepare, train, evaluate, predict, serve')
    .version(PACKAGE_VERSION)
    .showHelpAfterError()
    // Commander echoes bad arguments back: escaped like every other message.
    .configureOutput({ writeErr: (text) => process.stderr.write(escapeControl(text, true)) })
    .option('--plugin <module>', 'plugin module (store drivers, model kinds) to load, also in job workers; repeatable (default: $RAKUTEN_PLUGINS, comma-separated)', (value: string, previous: string[] = []) => [...previous, value])
    .hook('preAction', (_program, command) => setCliPlugins(command.optsWithGlobals<{ plugin?: string[] }>().plugin));
  registerLoad(program);
  registerStatus(program);
  registerPrepare(program);
  registerModelCommands(program);
  registerRun(program);
  registerServe(program);
  registerWorker(program);
  registerSchedule(program);
  registerDrift(program);
  registerDemoData(program);
  return program;
}
