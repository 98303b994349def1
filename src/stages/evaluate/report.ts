/**
 * Self-contained HTML evaluation report: key figures, a confusion-matrix heatmap (inline SVG) and a
 * per-class table with weak classes highlighted. The page has no external CSS, scripts, fonts or
 * images, so it renders offline, and the output is a pure function of its inputs (deterministic).
 *
 * @module
 */
import type { ClassificationMetrics, ClassMetrics } from './metrics.js';

/** What the report says about the evaluated model and data, besides the metrics. */
export interface ReportInfo {
  /** Page title, e.g. `"Evaluation — text+image model"`. */
  title: string;
  /** Model version, e.g. `"2024-05-01.3"`. */
  modelVersion: string;
  /** Model kind, e.g. `"tfjs text+image MLP"`. */
  modelKind: string;
  /** What was evaluated, e.g. `"labeled_test, 755 products"`. */
  dataset: string;
  /** When the evaluation ran, as an ISO 8601 string; the only date on the page. */
  createdAt: string;
  /**
   * Extra key figures shown as a definition list, in insertion order, e.g.
   * `{ 'latency p50 (ms)': 4.2, 'weighted F1, text only': 0.781 }`. Numbers are printed with at most
   * 4 decimals.
   */
  extras?: Record<string, string | number>;
  /**
   * Human-readable class names by class code, shown as `code — name` on the matrix axes and in the
   * per-class table; `categoryNameMap()` gives the 27 category names.
   */
  classNames?: Record<number, string>;
  /**
   * A class with support is flagged weak when its F1 is below the weighted F1 by more than this
   * margin. Default 0.1.
   */
  weakMargin?: number;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes `&`, `<`, `>`, `"` and `'` so that any string can go into HTML or SVG text and into
 * quoted attribute values.
 *
 * @param value - Any string (or value converted with `String`).
 * @returns The escaped text.
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** d3 "Blues" (9 steps), light to dark. */
const BLUES: readonly (readonly [number, number, number])[] = [
  [0xf7, 0xfb, 0xff],
  [0xde, 0xeb, 0xf7],
  [0xc6, 0xdb, 0xef],
  [0x9e, 0xca, 0xe1],
  [0x6b, 0xae, 0xd6],
  [0x42, 0x92, 0xc6],
  [0x21, 0x71, 0xb5],
  [0x08, 0x51, 0x9c],
  [0x08, 0x30, 0x6b],
];

/** Colour for position `t` in `[0, 1]` of the palette, as `#rrggbb`. */
function paletteColour(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const f = x - i;
  const a = BLUES[i] as readonly [number, number, number];
  const b = BLUES[i + 1] as readonly [number, number, number];
  return `#${[0, 1, 2]
    .map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f).toString(16).padStart(2, '0'))
    .join('')}`;
}

/**
 * Position on the colour scale of a row share: square root, so a 1 % confusion is already visibly
 * tinted while the diagonal still stands out. Non-zero shares get at least a light tint.
 */
function shareToScale(share: number): number {
  return share > 0 ? Math.max(0.08, Math.sqrt(share)) : 0;
}

/** Fixed 3-decimal score. */
function fmt3(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '—';
}

/** Integer with thin-space thousands separators (locale independent). */
function fmtInt(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
}

/** Extra key figure: strings as is, numbers with at most 4 decimals. */
function fmtExtra(v: string | number): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? fmtInt(v) : String(Number(v.toFixed(4)));
}

/** Percentage with one decimal. */
function fmtPct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;padding:24px 28px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2933;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #e4e7eb}
.meta{color:#52606d;margin:0 0 18px;font-size:13px}
.meta span+span::before{content:"·";margin:0 8px;color:#9aa5b1}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 12px}
.card{border:1px solid #e4e7eb;border-radius:6px;padding:8px 14px;min-width:120px;background:#f8fafc}
.card b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
.card small{color:#52606d;font-size:12px}
.card.main{border-color:#2171b5;background:#eef5fc}
dl.extras{display:grid;grid-template-columns:max-content max-content;gap:3px 18px;margin:6px 0 0;font-size:13px}
dl.extras dt{color:#52606d}
dl.extras dd{margin:0;font-variant-numeric:tabular-nums}
.note{color:#52606d;font-size:12px;margin:4px 0 8px}
svg.cm{display:block;font-family:inherit}
svg.cm .cl{font-size:11px;fill:#3e4c59}
svg.cm .cl.weak{fill:#c81e1e;font-weight:600}
svg.cm .ax{font-size:12px;fill:#1f2933;font-weight:600}
svg.cm .n{font-size:9px;text-anchor:middle;pointer-events:none;fill:#1f2933}
svg.cm .n .w{fill:#fff}
svg.cm .n .s{font-size:7px}
svg.cm g.r rect{stroke:#fff;stroke-width:1}
svg.cm rect.d{stroke:#52606d;stroke-width:1}
svg.cm .lg{font-size:10px;fill:#3e4c59}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:3px 10px;border-bottom:1px solid #eef0f2;text-align:right;white-space:nowrap}
th{background:#f5f7fa;font-weight:600;border-bottom:1px solid #d9dee3}
td.l,th.l{text-align:left}
td.name{max-width:260px;overflow:hidden;text-overflow:ellipsis}
tr.weak td{background:#fdecec}
tr.weak td.f1{color:#b91c1c;font-weight:600}
tr.nosup td{color:#9aa5b1}
.bar{display:inline-block;width:60px;height:8px;background:#eef0f2;border-radius:2px;vertical-align:middle;margin-right:8px;overflow:hidden}
.bar i{display:block;height:100%;background:#6baed6}
tr.weak .bar i{background:#e07070}
.tag{display:inline-block;font-size:10px;padding:0 5px;border-radius:3px;background:#c81e1e;color:#fff;margin-left:6px;vertical-align:1px}
footer{margin-top:28px;color:#9aa5b1;font-size:11px}
`.trim();

/** Cell size of the heatmap, px. */
const CELL = 22;

/** Above this many non-zero cells the per-cell tooltips are left out, to keep the page small. */
const MAX_CELL_TOOLTIPS = 400;

/** Longest class name shown on a matrix axis; longer ones are cut (the tooltip has them whole). */
const MAX_AXIS_NAME = 28;

/** Axis label of a class: `code — name`, or the bare code when it has no name. */
function axisLabel(label: number, names: Record<number, string>): string {
  const name = names[label];
  if (name === undefined || name === '') return String(label);
  return `${label} — ${name.length > MAX_AXIS_NAME ? shorten(name) : name}`;
}

/** `name` cut to {@link MAX_AXIS_NAME} characters with an ellipsis, at a word boundary when one is near. */
function shorten(name: string): string {
  const cut = name.slice(0, MAX_AXIS_NAME - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > MAX_AXIS_NAME / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '')}…`;
}

/** The confusion-matrix heatmap as inline SVG. */
function renderMatrix(m: ClassificationMetrics, weak: ReadonlySet<number>, names: Record<number, string>): string {
  const k = m.labels.length;
  const axisLabels = m.labels.map((label) => axisLabel(label, names));
  // Room for the longest axis label (about 6 px a character at 11 px), so named axes are not clipped.
  const longest = Math.max(0, ...axisLabels.map((l) => l.length)) * 6;
  const left = Math.max(62, 25 + longest);
  const top = Math.max(58, 22 + longest);
  const grid = k * CELL;
  const legendX = left + grid + 18;
  const legendH = Math.max(120, Math.min(grid, 240));
  const width = legendX + 12 + 46;
  const height = top + Math.max(grid, legendH) + 10;
  const out: string[] = [];
  out.push(
    `<svg class="cm" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Confusion matrix, rows true class, columns predicted class">`,
  );
  out.push(
    `<defs><linearGradient id="cm-legend" x1="0" y1="1" x2="0" y2="0">${[0, 0.25, 0.5, 0.75, 1]
      .map((t) => `<stop offset="${t}" stop-color="${paletteColour(t)}"/>`)
      .join('')}</linearGradient></defs>`,
  );
  // axis titles
  out.push(`<text class="ax" x="${left + grid / 2}" y="12" text-anchor="middle">Predicted class</text>`);
  out.push(
    `<text class="ax" transform="translate(12 ${top + grid / 2}) rotate(-90)" text-anchor="middle">True class</text>`,
  );
  // axis labels
  m.labels.forEach((label, i) => {
    const cls = weak.has(label) ? 'cl weak' : 'cl';
    const name = names[label];
    const tip = name === undefined ? '' : `<title>${escapeHtml(`${label} — ${name}`)}</title>`;
    const text = escapeHtml(axisLabels[i] ?? label);
    const c = left + i * CELL + CELL / 2;
    out.push(`<text class="${cls}" transform="translate(${c + 4} ${top - 4}) rotate(-90)">${text}${tip}</text>`);
    out.push(
      `<text class="${cls}" x="${left - 5}" y="${top + i * CELL + CELL / 2 + 4}" text-anchor="end">${text}${tip}</text>`,
    );
  });
  const tooltips = m.confusion.reduce((a, r) => a + r.filter((n) => n > 0).length, 0) <= MAX_CELL_TOOLTIPS;
  // cells: one group of rects and one group of counts per true class (row offsets on the groups)
  m.confusion.forEach((row, i) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    const trueLabel = m.labels[i] as number;
    const rects: string[] = [];
    const counts: string[] = [];
    row.forEach((n, j) => {
      const share = rowTotal ? n / rowTotal : 0;
      const t = shareToScale(share);
      const x = j * CELL;
      const diag = i === j ? ' class="d"' : '';
      if (!n) {
        // zero cells inherit the light fill of the row group
        rects.push(`<rect x="${x}" width="${CELL}" height="${CELL}"${diag}/>`);
        return;
      }
      const fill = paletteColour(t);
      const tip = `${trueLabel}→${m.labels[j]}: ${n} (${fmtPct(share)})`;
      rects.push(
        tooltips
          ? `<rect x="${x}" width="${CELL}" height="${CELL}" fill="${fill}"${diag}><title>${escapeHtml(tip)}</title></rect>`
          : `<rect x="${x}" width="${CELL}" height="${CELL}" fill="${fill}"${diag}/>`,
      );
      const text = String(n);
      const cls = [t > 0.6 ? 'w' : '', text.length >= 4 ? 's' : ''].filter(Boolean).join(' ');
      counts.push(`<text x="${x + CELL / 2}"${cls ? ` class="${cls}"` : ''}>${text}</text>`);
    });
    out.push(`<g class="r" fill="#f3f5f7" transform="translate(${left} ${top + i * CELL})">${rects.join('')}</g>`);
    if (counts.length) out.push(`<g class="n" transform="translate(${left} ${top + i * CELL + CELL / 2 + 3})">${counts.join('')}</g>`);
  });
  // grid outline
  out.push(`<rect x="${left}" y="${top}" width="${grid}" height="${grid}" fill="none" stroke="#cbd2d9"/>`);
  // legend: sqrt scale, ticks at meaningful shares
  out.push(
    `<rect x="${legendX}" y="${top}" width="12" height="${legendH}" fill="url(#cm-legend)" stroke="#cbd2d9"/>`,
  );
  for (const share of [0.01, 0.05, 0.25, 0.5, 1]) {
    const y = top + legendH * (1 - Math.sqrt(share));
    out.push(
      `<line x1="${legendX + 12}" x2="${legendX + 16}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#52606d"/>` +
        `<text class="lg" x="${legendX + 19}" y="${(y + 3.5).toFixed(1)}">${share * 100}%</text>`,
    );
  }
  out.push(
    `<text class="lg" transform="translate(${legendX + 6} ${top + legendH + 10})" text-anchor="middle">of row</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}

/** The most frequent wrong prediction of row `i`, as `code — name (count)`, or an empty string. */
function topConfusion(m: ClassificationMetrics, i: number, names: Record<number, string>): string {
  const row = m.confusion[i] ?? [];
  let best = -1;
  let bestN = 0;
  row.forEach((n, j) => {
    if (j !== i && n > bestN) {
      best = j;
      bestN = n;
    }
  });
  if (best < 0) return '';
  const label = m.labels[best] as number;
  const name = names[label];
  return `${label}${name ? ` — ${name}` : ''} (${bestN})`;
}

/** The per-class table. */
function renderTable(
  m: ClassificationMetrics,
  weak: ReadonlySet<number>,
  names: Record<number, string>,
  hasNames: boolean,
): string {
  const out: string[] = [];
  out.push('<table class="classes">');
  out.push(
    `<thead><tr><th class="l">Code</th>${hasNames ? '<th class="l">Name</th>' : ''}<th>Precision</th><th>Recall</th><th class="l">F1</th><th>Support</th><th class="l">Most confused with</th></tr></thead>`,
  );
  out.push('<tbody>');
  m.perClass.forEach((c: ClassMetrics, i) => {
    const isWeak = weak.has(c.label);
    const cls = isWeak ? ' class="weak"' : c.support === 0 ? ' class="nosup"' : '';
    const name = names[c.label];
    const nameCell = hasNames ? `<td class="l name"${name ? ` title="${escapeHtml(name)}"` : ''}>${escapeHtml(name ?? '')}</td>` : '';
    const bar = `<span class="bar"><i style="width:${Math.round(Math.min(1, Math.max(0, c.f1)) * 100)}%"></i></span>`;
    out.push(
      `<tr${cls}><td class="l">${escapeHtml(c.label)}${isWeak ? '<span class="tag">weak</span>' : ''}</td>${nameCell}` +
        `<td>${fmt3(c.precision)}</td><td>${fmt3(c.recall)}</td><td class="l f1">${bar}${fmt3(c.f1)}</td>` +
        `<td>${fmtInt(c.support)}</td><td class="l">${escapeHtml(topConfusion(m, i, names))}</td></tr>`,
    );
  });
  out.push('</tbody></table>');
  return out.join('\n');
}

/**
 * Renders an evaluation as a small self-contained HTML page: header with the key figures (weighted
 * F1, macro F1, accuracy, count and `info.extras`), the confusion matrix as an SVG heatmap (rows = true
 * class, columns = predicted, coloured by row share, counts in non-zero cells) and a per-class table
 * in which weak classes (F1 more than `info.weakMargin` below the weighted F1) are highlighted.
 *
 * Every string from `metrics` and `info` is HTML-escaped. The page references nothing external
 * and the output depends only on the inputs, so the same inputs always give the same bytes.
 *
 * @param metrics - Output of `classificationMetrics`.
 * @param info - Title, model, data set and optional extras of the report.
 * @returns The complete HTML document.
 * @throws RangeError if `metrics.confusion` is not `k × k` or `metrics.perClass` does not have
 *   one entry per label.
 */
export function renderEvaluationReport(metrics: ClassificationMetrics, info: ReportInfo): string {
  const k = metrics.labels.length;
  if (metrics.confusion.length !== k || metrics.confusion.some((r) => r.length !== k)) {
    throw new RangeError(`confusion matrix must be ${k} × ${k}`);
  }
  if (metrics.perClass.length !== k) throw new RangeError(`perClass must have ${k} entries`);
  const names = info.classNames ?? {};
  const hasNames = metrics.labels.some((l) => names[l] !== undefined);
  const margin = info.weakMargin ?? 0.1;
  const weak = new Set(
    metrics.perClass.filter((c) => c.support > 0 && c.f1 < metrics.weightedF1 - margin).map((c) => c.label),
  );
  const cards: [string, string, boolean][] = [
    ['Weighted F1', fmt3(metrics.weightedF1), true],
    ['Macro F1', fmt3(metrics.macroF1), false],
    ['Accuracy', fmt3(metrics.accuracy), false],
    ['Examples', fmtInt(metrics.count), false],
    ['Classes', String(k), false],
    ['Weak classes', String(weak.size), false],
  ];
  const extras = Object.entries(info.extras ?? {});
  const body: string[] = [];
  body.push(`<header><h1>${escapeHtml(info.title)}</h1>`);
  body.push(
    `<p class="meta"><span>Model <b>${escapeHtml(info.modelKind)}</b> ${escapeHtml(info.modelVersion)}</span>` +
      `<span>Data ${escapeHtml(info.dataset)}</span><span>Created <time datetime="${escapeHtml(info.createdAt)}">${escapeHtml(info.createdAt)}</time></span></p>`,
  );
  body.push(
    `<div class="cards">${cards
      .map(([label, value, main]) => `<div class="card${main ? ' main' : ''}"><b>${value}</b><small>${label}</small></div>`)
      .join('')}</div>`,
  );
  if (extras.length) {
    body.push(
      `<dl class="extras">${extras.map(([key, v]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(fmtExtra(v))}</dd>`).join('')}</dl>`,
    );
  }
  body.push('</header>');
  body.push('<section><h2>Confusion matrix</h2>');
  if (k === 0) {
    body.push('<p class="note">No examples.</p>');
  } else {
    body.push(
      `<p class="note">Rows: true class; columns: predicted class. Colour: share of the row (square-root scale); numbers: counts. Outlined: diagonal.${weak.size ? ' Red codes: weak classes.' : ''}</p>`,
    );
    body.push(renderMatrix(metrics, weak, names));
  }
  body.push('</section>');
  body.push('<section><h2>Per class</h2>');
  body.push(
    `<p class="note">Weak (highlighted): F1 below the weighted F1 (${fmt3(metrics.weightedF1)}) by more than ${escapeHtml(margin)}.</p>`,
  );
  body.push(renderTable(metrics, weak, names, hasNames));
  body.push('</section>');
  body.push(`<footer>rakuten-pipeline evaluation report · ${escapeHtml(info.createdAt)}</footer>`);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(info.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
