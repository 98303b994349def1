// Encoding detection of openCsv on files larger than one read chunk (64 KB): switches late in a
// file, and UTF-8 sequences cut by chunk boundaries.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCsv } from '../../src/stages/load/csv.js';
import type { CsvEncoding } from '../../src/stages/load/encoding.js';
import { tempDir } from '../support/data.js';

async function readAll(bytes: Buffer): Promise<{ rows: string[][]; encoding: CsvEncoding; reported: CsvEncoding[] }> {
  const file = path.join(await tempDir('rp-csv-'), 'x.csv');
  await writeFile(file, bytes);
  const reported: CsvEncoding[] = [];
  const csv = await openCsv(file, { label: 'x.csv', onEncoding: (e) => reported.push(e) });
  const rows: string[][] = [csv.header];
  for await (const r of csv.records) rows.push(r.fields);
  return { rows, encoding: csv.encoding, reported };
}

describe('openCsv encodings', () => {
  it('keeps UTF-8 exact when multi-byte characters straddle chunk boundaries', async () => {
    // 3- and 4-byte characters at every offset: some cross each 64 KB boundary.
    const lines = Array.from({ length: 8000 }, (_, i) => `${i},"é€😀${'ü'.repeat(i % 7)}"`);
    const text = `,designation\n${lines.join('\n')}\n`;
    const { rows, encoding, reported } = await readAll(Buffer.from(text, 'utf8'));
    expect(encoding).toBe('utf-8');
    expect(reported).toEqual([]);
    expect(rows.slice(1).map((r) => `${r[0]},"${r[1]}"`)).toEqual(lines);
  });

  it('switches to Windows-1252 when the first non-UTF-8 byte comes after 200 KB of ASCII', async () => {
    const ascii = Array.from({ length: 10_000 }, (_, i) => `${i},plain ascii title ${i}`).join('\n');
    const bytes = Buffer.concat([Buffer.from(`,designation\n${ascii}\n`), Buffer.from('10000,caf\xe9 cr\xe8me \x80\n', 'latin1')]);
    const { rows, encoding, reported } = await readAll(bytes);
    expect(encoding).toBe('windows-1252');
    expect(reported).toEqual(['windows-1252']);
    expect(rows.at(-1)).toEqual(['10000', 'café crème €']);
    expect(rows).toHaveLength(10_002);
  });

  it('decodes a Latin-1 file whose last byte is accented', async () => {
    const { rows, encoding } = await readAll(Buffer.from(',designation\n1,caf\xe9', 'latin1'));
    expect(encoding).toBe('windows-1252');
    expect(rows[1]).toEqual(['1', 'café']);
  });

  it('refuses invalid UTF-16 rather than storing U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(',designation\n1,a', 'utf16le'), Buffer.from([0x00, 0xd8, 0x41, 0x00])]);
    await expect(readAll(bytes)).rejects.toThrow(/x\.csv.*not valid UTF-16LE/);
  });
});
