import type { QuarantineEntry, QuarantineReason } from './types.js';

/**
 * Collects reported inputs. Counts are always exact; the list keeps the first `limit` entries
 * so a run document stays small even when every row of a huge file is reported.
 */
export class Quarantine {
  readonly entries: QuarantineEntry[] = [];
  readonly byReason: Partial<Record<QuarantineReason, number>> = {};
  total = 0;

  constructor(private readonly limit: number) {}

  /** Whether further entries are only counted; lets hot paths skip building them. */
  get full(): boolean {
    return this.entries.length >= this.limit;
  }

  /** Counts an entry without keeping it (the list is full). */
  count(reason: QuarantineReason): void {
    this.total++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
  }

  /** Records one entry. */
  add(entry: QuarantineEntry): void {
    this.count(entry.reason);
    if (!this.full) this.entries.push(entry);
  }
}

/** One line describing an entry, for logs and the CLI. */
export function formatEntry(e: QuarantineEntry): string {
  const at = e.row === 0 ? 'header' : `row ${e.row} (line ${e.line})`;
  return `${e.file} ${at}, field ${JSON.stringify(e.field)}: ${e.message} [${e.reason}, ${e.action}]`;
}
