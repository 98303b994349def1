import { redactQueueUrl } from '../http/jobs/queue.js';

/** The queue named by `--queue`, else `$RAKUTEN_QUEUE` (empty means unset). */
export function queueUrl(flagValue: string | undefined, required: boolean): string | undefined {
  const url = flagValue ?? (process.env.RAKUTEN_QUEUE || undefined);
  if (url !== undefined && !/^rediss?:\/\//.test(url))
    throw new Error(`--queue: ${JSON.stringify(redactQueueUrl(url))} is not a Redis URL (redis://host:6379)`);
  if (required && !url) throw new Error('--queue: give the Redis URL of the queue (redis://host:6379), or set RAKUTEN_QUEUE');
  return url;
}

/** Opens the BullMQ queue at `url` (BullMQ loads for queue commands only). */
export async function openQueue(url: string) {
  const { bullmqQueue } = await import('../http/jobs/bullmq.js');
  return bullmqQueue(url);
}
