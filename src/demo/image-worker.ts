// Entry of an image worker thread of the demo generator (see image-pool.ts): renders and writes
// the pictures it is sent, answering each with its id (and the error message if it failed).
import { parentPort, workerData } from 'node:worker_threads';
import { writeImage, type ImageJob } from './render.js';
import type { ImageWorkerData, ImageWorkerReply } from './image-pool.js';

const port = parentPort;
if (!port) throw new Error('demo image worker: not running in a worker thread');
const data = workerData as ImageWorkerData;
port.on('message', (m: { id: number; job: ImageJob }) => {
  writeImage(m.job, data.outDir, data.size, data.seed).then(
    () => port.postMessage({ id: m.id } satisfies ImageWorkerReply),
    (e: unknown) => port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies ImageWorkerReply),
  );
});
