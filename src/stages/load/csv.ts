import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Options } from 'csv-parse';
import { ENCODING_TRANSFORM_SOURCE, type CsvEncoding } from './encoding.js';
import { escapeControls } from './escape.js';
import { DEFAULT_MAX_CSV_RECORD_BYTES, formatBytes } from './limits.js';

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

/** Options of {@link openCsv}. */
export interface OpenCsvOptions {
  /** Name of the file in messages (default: its path). */
  label?: string;
  /** Largest record in bytes; a larger one stops the parse with a {@link CsvSyntaxError} (default 1 MiB). */
  maxRecordBytes?: number;
  /** Called when the file turns out not to be plain UTF-8, with the encoding it is decoded with. */
  onEncoding?: (encoding: CsvEncoding) => void;
  /** Records per message from the worker (default 256). */
  batch?: number;
  /** Most batches in flight (default 32). */
  window?: number;
}

/** The header row and an iterator over the data records of a CSV file. */
export interface CsvFile {
  /** Header fields. */
  header: string[];
  /** Encoding detected so far (`utf-8` until another is detected; final once the records are read). */
  readonly encoding: CsvEncoding;
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
  | { type: 'encoding'; encoding: CsvEncoding }
  | { type: 'error'; message: string; lines: number | null; code?: string; row?: number; field?: string };

// Parsing runs in a worker thread so that it overlaps with validation and storage on the main
// thread (2 cores). The worker is eval'd CommonJS and gets csv-parse's resolved path, which works
// the same from the sources, the ESM bundle and the CJS bundle. At most WINDOW batches are in
// flight (default 32 x 256 records, a few MB), so memory stays flat however large the file.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createReadStream } = require('node:fs');
const { pipeline } = require('node:stream');
const { parse } = require(workerData.csvParse);
${ENCODING_TRANSFORM_SOURCE}
const WINDOW = workerData.window;
let inFlight = 0;
let wake = null;
parentPort.on('message', () => { inFlight--; if (wake) { const w = wake; wake = null; w(); } });
// Line numbers are counted from the newlines inside fields rather than with csv-parse's info
// option, which triples the cost of short rows; blank lines come through as [''] and are skipped.
const newlines = (s) => { let n = 0, i = -1; while ((i = s.indexOf('\\n', i + 1)) !== -1) n++; return n; };
(async () => {
  const input = createReadStream(workerData.file);
  const decode = encodingTransform((encoding) => parentPort.postMessage({ type: 'encoding', encoding }));
  const parser = parse({ ...workerData.options, skip_empty_lines: false });
  // pipeline, not pipe: a read or decoding error must reach the loop below.
  pipeline(input, decode, parser, () => undefined);
  let records = [], ends = [], line = 0, header = null, rows = 0;
  const flush = async () => {
    parentPort.postMessage({ type: 'batch', records, ends, bytes: input.bytesRead });
    records = []; ends = [];
    if (++inFlight >= WINDOW) await new Promise((r) => { wake = r; });
  };
  try {
    for await (const record of parser) {
      line += 1;
      if (record.length === 1 && record[0] === '') continue;
      if (header === null) header = record; else rows++;
      for (const field of record) line += newlines(field);
      records.push(record); ends.push(line);
      if (records.length >= workerData.batch) await flush();
    }
    if (records.length) await flush();
    parentPort.postMessage({ type: 'end' });
  } catch (e) {
    const error = { type: 'error', message: e.message, lines: typeof e.lines === 'number' ? e.lines : null, code: e.code };
    if (e.code === 'CSV_MAX_RECORD_SIZE') {
      // csv-parse counts the header among its records; the header names the field being read.
      // (Read again here: the records parsed before the error are dropped with the stream.)
      const column = typeof e.column === 'number' ? e.column : null;
      let header = [];
      try {
        const head = parse({ ...workerData.options, max_record_size: 0, to: 1 });
        pipeline(createReadStream(workerData.file), encodingTransform(() => undefined), head, () => undefined);
        for await (const record of head) { header = record; break; }
      } catch {}
      const name = column === null ? '' : header[column] ? header[column] : column === 0 ? 'index' : 'field ' + (column + 1);
      Object.assign(error, { row: typeof e.records === 'number' ? e.records : undefined, field: name });
    }
    parentPort.postMessage(error);
  }
})();
`;

const csvParsePath = createRequire(import.meta.url).resolve('csv-parse');

/**
 * Streams a CSV file record by record with csv-parse, parsing in a worker thread and never
 * holding the file whole. The encoding is detected on the way (UTF-8, UTF-16 with a BOM, else
 * Windows-1252; see `encoding.ts`). Syntax errors, records above `maxRecordBytes` and mixed
 * encodings surface from the iterator as {@link CsvSyntaxError}s naming the file and line.
 *
 * @param labelOrOptions - The file's name in messages, or {@link OpenCsvOptions}.
 */
export async function openCsv(file: string, labelOrOptions: string | OpenCsvOptions = {}): Promise<CsvFile> {
  const options = typeof labelOrOptions === 'string' ? { label: labelOrOptions } : labelOrOptions;
  const { label = file, batch = 256, window = 32, maxRecordBytes = DEFAULT_MAX_CSV_RECORD_BYTES } = options;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, options: { ...CHALLENGE_CSV_OPTIONS, max_record_size: maxRecordBytes }, csvParse: csvParsePath, batch, window },
  });
  const queue: WorkerMessage[] = [];
  let waiting: (() => void) | undefined;
  let encoding: CsvEncoding = 'utf-8';
  const push = (m: WorkerMessage) => {
    if (m.type === 'encoding') {
      encoding = m.encoding;
      options.onEncoding?.(m.encoding);
      return;
    }
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
      const name = escapeControls(label);
      if (m.code === 'CSV_MAX_RECORD_SIZE') {
        const field = m.field ? `, field ${JSON.stringify(m.field)}` : '';
        throw new CsvSyntaxError(
          `${name}: record ${m.row ?? '?'} (near line ${m.lines ?? '?'})${field} is larger than the limit of ` +
            `${formatBytes(maxRecordBytes)} per record (maxCsvRecordBytes); the file is not loaded further`,
          m.lines ?? 0,
        );
      }
      const where = m.lines !== null ? ` near line ${m.lines}` : '';
      // csv-parse quotes the offending text in its messages: no raw control characters.
      throw new CsvSyntaxError(`${name}${where}: ${escapeControls(m.message)}`, m.lines ?? 0);
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
  return {
    header,
    records: records(),
    close,
    get encoding() {
      return encoding;
    },
  };
}
