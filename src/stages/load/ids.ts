/**
 * Ids of the challenge CSVs (index, productid, imageid) kept exactly. They are non-negative
 * integers; those above 2^53 cannot be JavaScript numbers without losing digits (9007199254740993
 * would become ...992 and a 23-digit imageid `1e+23`), so they are kept as their digit strings.
 */

/** An id: a number when it is a safe integer, else its exact decimal digits (no leading zeros). */
export type RowId = number | string;

/** Longest id accepted, in digits: longer ones are data errors, not ids. */
export const MAX_ID_DIGITS = 30;

/** Outcome of {@link parseId}. */
export type ParsedId =
  | {
      /** Parsed. */
      ok: true;
      /** The id. */
      id: RowId;
    }
  | {
      /** Refused. */
      ok: false;
      /** Quarantine reason. */
      reason: 'missing_id' | 'invalid_id';
      /** Why, naming the field. */
      message: string;
    };

const DIGITS = /^\d+$/;

/**
 * Parses an id field: surrounding blanks are ignored, leading zeros dropped; returns a number when
 * it is at most `Number.MAX_SAFE_INTEGER`, the exact digit string otherwise. `name` is used in the
 * messages (`productid 12x is not a non-negative integer`).
 */
export function parseId(text: string, name: string): ParsedId {
  const t = text.trim();
  if (t === '') return { ok: false, reason: 'missing_id', message: `${name} is empty` };
  if (!DIGITS.test(t)) return { ok: false, reason: 'invalid_id', message: `${name} ${JSON.stringify(text)} is not a non-negative integer` };
  const digits = t.length > 1 && t.charCodeAt(0) === 48 ? t.replace(/^0+(?=\d)/, '') : t;
  if (digits.length > MAX_ID_DIGITS) {
    return { ok: false, reason: 'invalid_id', message: `${name} has ${digits.length} digits, more than the ${MAX_ID_DIGITS} an id may have` };
  }
  // Up to 15 digits is always safe; 16 digits only up to 2^53 - 1.
  if (digits.length <= 15) return { ok: true, id: Number(digits) };
  const n = Number(digits);
  return { ok: true, id: Number.isSafeInteger(n) && String(n) === digits ? n : digits };
}

/** The id's decimal text, as in file names and document keys. */
export function idText(id: RowId): string {
  return String(id);
}
