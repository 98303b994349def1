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

  /** Records one entry. */
  add(entry: QuarantineEntry): void {
    this.total++;
    this.byReason[entry.reason] = (this.byReason[entry.reason] ?? 0) + 1;
    if (this.entries.length < this.limit) this.entries.push(entry);
  }
}

/** One line describing an entry, for logs and the CLI. */
export function formatEntry(e: QuarantineEntry): string {
  const at = e.row === 0 ? 'header' : `row ${e.row} (line ${e.line})`;
  return `${e.file} ${at}, field ${JSON.stringify(e.field)}: ${e.message} [${e.reason}, ${e.action}]`;
}
