import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Options } from 'csv-parse';

/** csv-parse options for the challenge files: BOM, CRLF or LF, quoted multi-line HTML fields. */
export const CHALLENGE_CSV_OPTIONS: Options = {
  bom: true,
  relax_column_count: true,
  skip_empty_lines: true,
};

/** One CSV record with its position. */
export interface CsvRecord {
  /** Fields. */
  fields: string[];
  /** 1-based record number, header excluded. */
  row: number;
  /** 1-based line on which the record starts. */
  line: number;
  /** Bytes of the file consumed so far (for progress). */
  bytes: number;
}

/** The header row and an iterator over the data records of a CSV file. */
export interface CsvFile {
  /** Header fields. */
  header: string[];
  /** Data records, streamed. */
  records: AsyncIterable<CsvRecord>;
  /** Stops parsing; needed only when the records are not read to the end. */
  close(): Promise<void>;
}

/** A CSV file that cannot be parsed further. */
export class CsvSyntaxError extends Error {
  /** Line where parsing stopped (0 if unknown). */
  readonly line: number;
  /** Creates the error. */
  constructor(message: string, line: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

/** Messages from the parsing worker. */
type WorkerMessage =
  | { type: 'batch'; records: string[][]; ends: number[]; bytes: number }
  | { type: 'end' }
  | { type: 'error'; message: string; lines: number | null };

// Parsing runs in a worker thread so that it overlaps with validation and storage on the main
// thread (2 cores). The worker is eval'd CommonJS and gets csv-parse's resolved path, which works
// the same from the sources, the ESM bundle and the CJS bundle. At most WINDOW batches are in
// flight (default 32 x 256 records, a few MB), so memory stays flat however large the file.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createReadStream } = require('node:fs');
const { parse } = require(workerData.csvParse);
const WINDOW = workerData.window;
let inFlight = 0;
let wake = null;
parentPort.on('message', () => { inFlight--; if (wake) { const w = wake; wake = null; w(); } });
// Line numbers are counted from the newlines inside fields rather than with csv-parse's info
// option, which triples the cost of short rows; blank lines come through as [''] and are skipped.
const newlines = (s) => { let n = 0, i = -1; while ((i = s.indexOf('\\n', i + 1)) !== -1) n++; return n; };
(async () => {
  const input = createReadStream(workerData.file);
  const parser = input.pipe(parse({ ...workerData.options, skip_empty_lines: false }));
  let records = [], ends = [], line = 0;
  const flush = async () => {
    parentPort.postMessage({ type: 'batch', records, ends, bytes: input.bytesRead });
    records = []; ends = [];
    if (++inFlight >= WINDOW) await new Promise((r) => { wake = r; });
  };
  try {
    for await (const record of parser) {
      line += 1;
      if (record.length === 1 && record[0] === '') continue;
      for (const field of record) line += newlines(field);
      records.push(record); ends.push(line);
      if (records.length >= workerData.batch) await flush();
    }
    if (records.length) await flush();
    parentPort.postMessage({ type: 'end' });
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: e.message, lines: typeof e.lines === 'number' ? e.lines : null });
  }
})();
`;

const csvParsePath = createRequire(import.meta.url).resolve('csv-parse');

/**
 * Streams a CSV file record by record with csv-parse, parsing in a worker thread and never
 * holding the file whole. Syntax errors surface from the iterator as {@link CsvSyntaxError}s
 * naming the file and line.
 */
export async function openCsv(file: string, label = file, batch = 256, window = 32): Promise<CsvFile> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, options: CHALLENGE_CSV_OPTIONS, csvParse: csvParsePath, batch, window },
  });
  const queue: WorkerMessage[] = [];
  let waiting: (() => void) | undefined;
  const push = (m: WorkerMessage) => {
    queue.push(m);
    waiting?.();
  };
  worker.on('message', push);
  worker.on('error', (e: Error) => push({ type: 'error', message: e.message, lines: null }));
  worker.on('exit', () => push({ type: 'end' }));

  async function nextMessage(): Promise<WorkerMessage> {
    while (queue.length === 0) await new Promise<void>((r) => (waiting = r));
    waiting = undefined;
    return queue.shift() as WorkerMessage;
  }

  let pending: { records: string[][]; ends: number[]; bytes: number } | undefined;
  let finished = false;
  const close = async () => {
    if (finished) return;
    finished = true;
    await worker.terminate();
  };
  async function nextBatch(): Promise<typeof pending> {
    if (finished) return undefined;
    const m = await nextMessage();
    if (m.type === 'batch') {
      worker.postMessage('ack');
      return m;
    }
    await close();
    if (m.type === 'error') {
      const where = m.lines !== null ? ` near line ${m.lines}` : '';
      throw new CsvSyntaxError(`${label}${where}: ${m.message}`, m.lines ?? 0);
    }
    return undefined;
  }

  pending = await nextBatch();
  const header = pending?.records.shift();
  const headerEnd = pending?.ends.shift() ?? 0;
  if (!header) {
    await close();
    throw new Error(`${label}: the file is empty (no header row)`);
  }

  async function* records(): AsyncGenerator<CsvRecord> {
    let row = 0;
    let previousEnd = headerEnd;
    try {
      for (let b = pending; b; b = await nextBatch()) {
        for (let i = 0; i < b.records.length; i++) {
          const end = b.ends[i] ?? previousEnd + 1;
          yield { fields: b.records[i] ?? [], row: ++row, line: previousEnd + 1, bytes: b.bytes };
          previousEnd = end;
        }
      }
    } finally {
      await close();
    }
  }
  return { header, records: records(), close };
}
