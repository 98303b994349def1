import { createReadStream } from 'node:fs';
import { parse, type Options } from 'csv-parse';

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
}

interface Parsed {
  record: string[];
  info: { lines: number; bytes: number };
}

/**
 * Streams a CSV file record by record with csv-parse, never holding it whole.
 * Syntax errors surface from the iterator as errors naming the file and line.
 */
export async function openCsv(file: string, label = file): Promise<CsvFile> {
  const parser = createReadStream(file).pipe(parse({ ...CHALLENGE_CSV_OPTIONS, info: true }));
  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<Parsed>;
  const first = await next(iterator, label);
  if (first.done) throw new Error(`${label}: the file is empty (no header row)`);
  let previousEnd = first.value.info.lines;
  async function* records(): AsyncGenerator<CsvRecord> {
    let row = 0;
    try {
      for (;;) {
        const item = await next(iterator, label);
        if (item.done) return;
        const { record, info } = item.value;
        yield { fields: record, row: ++row, line: previousEnd + 1, bytes: info.bytes };
        previousEnd = info.lines;
      }
    } finally {
      parser.destroy();
    }
  }
  return { header: first.value.record, records: records() };
}

async function next(iterator: AsyncIterator<Parsed>, label: string): Promise<IteratorResult<Parsed>> {
  try {
    return await iterator.next();
  } catch (cause) {
    const e = cause as Error & { lines?: number; code?: string };
    const where = e.lines !== undefined ? ` near line ${e.lines}` : '';
    throw new CsvSyntaxError(`${label}${where}: ${e.message}`, e.lines ?? 0, { cause });
  }
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
