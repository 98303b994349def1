// Entry of the NBSVM worker thread (see nbSvmRunner): trains the NBSVM of one run on the
// training matrix it shares with the main thread, one pass per message, and sends back the
// weights after each pass while the main thread runs the fastText epoch.
import { parentPort, workerData } from 'node:worker_threads';
import { NbSvmTrainer } from './text-learners.js';
import type { NbSvmWorkerData, NbSvmWorkerReply } from './text-learner-runner.js';

const port = parentPort;
if (!port) throw new Error('NBSVM worker: not running in a worker thread');
const data = workerData as NbSvmWorkerData;
const trainer = new NbSvmTrainer(data.X, data.y, data.features, data.classes, data.options);
port.on('message', (m: { type: 'pass' }) => {
  if (m.type !== 'pass') return;
  try {
    trainer.pass();
    const weights = trainer.weights();
    const reply: NbSvmWorkerReply = { type: 'weights', weights: weights.weights };
    port.postMessage(reply, [weights.weights.buffer as ArrayBuffer]);
  } catch (error) {
    const reply: NbSvmWorkerReply = { type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    port.postMessage(reply);
  }
});
