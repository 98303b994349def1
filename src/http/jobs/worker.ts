// Entry of a job worker thread (see workerExecutor): rebuilds the server's pipeline (store,
// plugins, model kinds, preprocessing), runs one job, reports.
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type JobParamsByKind } from '../../pipeline/jobs.js';
import { pipelineFromBlueprint } from '../../pipeline/pipeline.js';
import { scrubSecrets } from '../../stores/uri.js';
import type { JobWorkerData, WorkerReply } from './executor.js';

const port = parentPort;
if (!port) throw new Error('job worker: not running in a worker thread');
const data = workerData as JobWorkerData;
const controller = new AbortController();
port.on('message', (m: { type: string }) => {
  if (m.type === 'cancel') controller.abort(new Error('cancelled'));
});
const reply = (m: WorkerReply) => port.postMessage(m);
// The shared flag is read at each progress event: a training epoch loop does not yield to this
// thread's event loop, so the `cancel` message would only be seen once training is over.
const cancelFlag = new Int32Array(data.cancelFlag);
const checkCancelled = () => {
  if (!controller.signal.aborted && Atomics.load(cancelFlag, 0) === 1) controller.abort(new Error('cancelled'));
};

// Also between progress events (a stage's last check before its commit has none).
setInterval(checkCancelled, 100).unref();

// No top-level await: the package's modules stay loadable with require() (Node >= 20.19).
void (async () => {
  const pipeline = await pipelineFromBlueprint(data.pipeline);
  try {
    const result = await runJob(pipeline, data.kind, data.params as unknown as JobParamsByKind[typeof data.kind], {
      signal: controller.signal,
      onProgress: (event) => {
        checkCancelled();
        reply({ type: 'progress', event });
      },
    });
    reply({ type: 'done', result });
  } finally {
    await pipeline.close();
  }
})()
  .catch((e: unknown) => reply({ type: 'failed', message: scrubSecrets(e instanceof Error ? e.message : String(e), data.pipeline.storeUri) }))
  .finally(() => port.close());
