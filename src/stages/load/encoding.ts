/**
 * Text encodings of the challenge CSVs. UTF-8 (with or without BOM) is the norm; files saved by
 * spreadsheet software on Windows are often Windows-1252 (a superset of Latin-1), and some are
 * UTF-16 with a BOM. Decoding those as UTF-8 would store U+FFFD in place of every accented
 * letter, so the encoding is detected while the file streams and recorded with the run.
 */

/** Encoding a CSV file was decoded with. */
export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/**
 * CommonJS source of `encodingTransform(report)`, run in the CSV worker thread (see csv.ts): a
 * Transform stream in front of csv-parse that passes valid UTF-8 through unchanged and
 * transcodes anything else to UTF-8.
 *
 * - A UTF-16 BOM (FF FE or FE FF) selects UTF-16; invalid UTF-16 is an error, never U+FFFD.
 * - Otherwise each chunk is checked with `buffer.isUtf8` (SIMD, a few GB/s), carrying a multi-byte
 *   sequence cut by the chunk boundary over to the next chunk. The first chunk that is not UTF-8
 *   switches to Windows-1252 (every byte decodes, WHATWG mapping) if all bytes before it were
 *   ASCII, which decode the same either way. If valid non-ASCII UTF-8 came before, or the chunk
 *   holds a well-formed multi-byte UTF-8 sequence too, the file mixes encodings: an error naming
 *   the byte range, rather than a guess.
 *
 * `report(encoding)` is called once the encoding is known to differ from plain UTF-8.
 */
export const ENCODING_TRANSFORM_SOURCE = `
const { Transform } = require('node:stream');
const { isUtf8, isAscii } = require('node:buffer');
// Length of buf without a trailing multi-byte sequence that the next chunk completes.
function completeLength(buf) {
  const len = buf.length;
  for (let i = len - 1; i >= 0 && i >= len - 4; i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0x80) return len;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return len - i >= need ? len : i;
  }
  return len;
}
// Whether buf holds a well-formed multi-byte UTF-8 sequence (rare in Windows-1252 text: it
// takes a letter such as Ã followed by a symbol such as ©); only called on a non-UTF-8 chunk.
function hasUtf8Sequence(buf) {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b < 0xc2 || b > 0xf4) continue;
    const need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    let ok = i + need < buf.length;
    for (let k = 1; ok && k <= need; k++) ok = (buf[i + k] & 0xc0) === 0x80;
    if (ok && isUtf8(buf.subarray(i, i + need + 1))) return true;
  }
  return false;
}
function encodingTransform(report) {
  let mode = null;
  let asciiSoFar = true;
  let carry = null;
  let decoder = null;
  let offset = 0;
  const switchTo = (encoding, fatal) => {
    mode = encoding;
    decoder = new TextDecoder(encoding, { fatal });
    report(encoding);
  };
  return new Transform({
    transform(chunk, _enc, done) {
      try {
        let skip = 0;
        if (mode === null) {
          if (chunk[0] === 0xff && chunk[1] === 0xfe) switchTo('utf-16le', true);
          else if (chunk[0] === 0xfe && chunk[1] === 0xff) switchTo('utf-16be', true);
          else {
            mode = 'utf-8';
            if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) skip = 3;
          }
        }
        const start = offset;
        offset += chunk.length;
        if (mode === 'utf-8') {
          const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
          const cut = completeLength(buf);
          const body = cut === buf.length ? buf : buf.subarray(0, cut);
          if (isUtf8(body)) {
            if (asciiSoFar && !isAscii(skip ? body.subarray(skip) : body)) asciiSoFar = false;
            // The cut sequence is held back, so that a switch below can still decode it.
            carry = cut === buf.length ? null : Buffer.from(buf.subarray(cut));
            return done(null, body);
          }
          if (!asciiSoFar || hasUtf8Sequence(buf)) {
            throw new Error('the file mixes UTF-8 with another encoding (valid UTF-8 and invalid UTF-8 bytes, the first ' +
              'invalid ones in bytes ' + start + '-' + offset + '): save it in one encoding, preferably UTF-8');
          }
          switchTo('windows-1252', false);
          return done(null, Buffer.from(decoder.decode(buf, { stream: true }), 'utf8'));
        }
        done(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
      } catch (e) {
        done(mode === 'utf-16le' || mode === 'utf-16be' ? new Error('not valid ' + mode.toUpperCase() + ' (after its BOM) near byte ' + offset) : e);
      }
    },
    flush(done) {
      try {
        if (mode === 'utf-8' && carry) {
          if (!asciiSoFar) throw new Error('the file ends inside a UTF-8 sequence (truncated or mixed encodings)');
          switchTo('windows-1252', false);
          return done(null, Buffer.from(decoder.decode(carry), 'utf8'));
        }
        if (decoder) return done(null, Buffer.from(decoder.decode(), 'utf8'));
        done();
      } catch (e) {
        done(mode && mode.startsWith('utf-16') ? new Error('not valid ' + mode.toUpperCase() + ': the file ends inside a character') : e);
      }
    },
  });
}
`;
