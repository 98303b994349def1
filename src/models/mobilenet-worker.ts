// Entry of a MobileNet worker thread (see MobileNetPool): loads the folded network on the wasm
// backend once, then computes the features of each batch it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './backend.js';
import { MobileNetFeatures } from './mobilenet-features.js';
import type { MobileNetWorkerData, MobileNetWorkerReply, MobileNetWorkerRequest } from './mobilenet-pool.js';

const port = parentPort;
if (!port) throw new Error('MobileNet worker: not running in a worker thread');
const data = workerData as MobileNetWorkerData;
const reply = (m: MobileNetWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

// No top-level await: the package's modules stay loadable with require() (Node >= 20.19).
void (async () => {
  const backend = await initBackend(data.backend);
  const network = await MobileNetFeatures.load(data.size);
  port.on('message', (m: MobileNetWorkerRequest) => {
    try {
      const features = network.compute(m.images);
      reply({ type: 'done', id: m.id, features }, features.map((f) => f.buffer as ArrayBuffer));
    } catch (e) {
      reply({ type: 'failed', id: m.id, message: message(e) });
    }
  });
  reply({ type: 'ready', backend });
})().catch((e: unknown) => reply({ type: 'failed', id: -1, message: message(e) }));
