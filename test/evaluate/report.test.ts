import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classificationMetrics, type ClassificationMetrics } from '../../src/stages/evaluate/metrics.js';
import { escapeHtml, renderEvaluationReport, type ReportInfo } from '../../src/stages/evaluate/report.js';
import { mulberry32 } from '../../src/util/random.js';
import { CATEGORIES, categoryNameMap } from '../../src/categories.js';

/** The 27 Rakuten product type codes with an (unofficial) short name and a rough class weight. */
const CLASSES: readonly [code: number, name: string, weight: number][] = [
  [10, 'Used books', 31],
  [40, 'Video games (import)', 25],
  [50, 'Gaming accessories', 17],
  [60, 'Consoles', 8],
  [1140, 'Figurines', 27],
  [1160, 'Trading cards', 40],
  [1180, 'Tabletop miniatures', 8],
  [1280, 'Children toys', 49],
  [1281, 'Board games', 21],
  [1300, 'Model making / RC', 50],
  [1301, 'Baby socks, small games', 8],
  [1302, 'Outdoor games', 25],
  [1320, 'Childcare', 32],
  [1560, 'Furniture', 51],
  [1920, 'Household linen', 43],
  [1940, 'Groceries', 8],
  [2060, 'Decoration', 50],
  [2220, 'Pet supplies', 8],
  [2280, 'Newspapers, magazines', 48],
  [2403, 'Books, comics, scores (lots)', 48],
  [2462, 'Used video games', 14],
  [2522, 'Stationery', 50],
  [2582, 'Garden furniture', 26],
  [2583, 'Pool and spa', 102],
  [2585, 'Garden tools', 25],
  [2705, 'New books', 28],
  [2905, 'PC games', 9],
];
const CODES = CLASSES.map(([c]) => c);
const NAMES: Record<number, string> = Object.fromEntries(CLASSES.map(([c, n]) => [c, n]));

/** A seeded, realistic 27-class evaluation: skewed class sizes, per-class accuracy 45–97 %, errors mostly to a neighbour. */
function example27(seed = 7, n = 755): ClassificationMetrics {
  const rnd = mulberry32(seed);
  const totalWeight = CLASSES.reduce((a, [, , w]) => a + w, 0);
  const acc = CODES.map(() => 0.55 + 0.44 * rnd());
  const neighbour = CODES.map((_, i) => (i + 1 + Math.floor(rnd() * 3)) % CODES.length);
  const yTrue: number[] = [];
  const yPred: number[] = [];
  for (let e = 0; e < n; e++) {
    let r = rnd() * totalWeight;
    let i = 0;
    while (i < CLASSES.length - 1 && (r -= CLASSES[i]![2]) > 0) i++;
    yTrue.push(CODES[i]!);
    const u = rnd();
    if (u < acc[i]!) yPred.push(CODES[i]!);
    else if (u < acc[i]! + (1 - acc[i]!) * 0.6) yPred.push(CODES[neighbour[i]!]!);
    else yPred.push(CODES[Math.floor(rnd() * CODES.length)]!);
  }
  return classificationMetrics(yTrue, yPred, CODES);
}

const INFO: ReportInfo = {
  title: 'Evaluation — text+image model',
  modelVersion: '2024-05-01.3',
  modelKind: 'tfjs text+image MLP',
  dataset: 'labeled_test, 755 products',
  createdAt: '2024-05-01T12:34:56.000Z',
  extras: {
    'latency p50 (ms)': 4.2,
    'latency p95 (ms)': 11.873456,
    'throughput (products/s)': 1843,
    'weighted F1, text only': 0.7812,
    'weighted F1, text + image': 0.8231,
  },
  classNames: NAMES,
};

/** Small 3-class example: a=0 (5), b=1 (3), c=2 (2). */
function small(): ClassificationMetrics {
  return classificationMetrics([0, 0, 0, 0, 0, 1, 1, 1, 2, 2], [0, 0, 0, 1, 2, 1, 1, 0, 2, 2]);
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe('escapeHtml', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;',
    );
    expect(escapeHtml('plain text, é ✓')).toBe('plain text, é ✓');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('renderEvaluationReport', () => {
  it('is a complete HTML document with one rect per matrix cell in the heatmap', () => {
    const m = small();
    const html = renderEvaluationReport(m, INFO);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('</html>');
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    expect(count(html, /<svg\b/g)).toBe(1);
    // k*k cells + grid outline + legend bar
    const cells = count(svg, /<rect x="\d+" width="22" height="22"[ />]/g);
    expect(cells).toBe(9);
    expect(count(svg, /<rect\b/g)).toBe(9 + 2);
  });

  it('has 27*27 cells and every class row for a 27-class example, and stays under 100 KB', () => {
    const m = example27();
    const html = renderEvaluationReport(m, INFO);
    writeFileSync('/tmp/report-example.html', html);
    expect(count(html, /<rect x="\d+" width="22" height="22"[ />]/g)).toBe(27 * 27);
    const rows = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
    expect(count(rows, /<tr\b/g)).toBe(27);
    for (const [code, name] of CLASSES) {
      expect(rows).toContain(`<td class="l">${code}`);
      expect(rows).toContain(escapeHtml(name));
    }
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
  });

  it('stays under 100 KB even for a dense 27-class matrix with 4-digit counts', () => {
    const yTrue: number[] = [];
    const yPred: number[] = [];
    for (const t of CODES) for (const p of CODES) for (let r = 0; r < (t === p ? 1000 : 1); r++) (yTrue.push(t), yPred.push(p));
    const html = renderEvaluationReport(classificationMetrics(yTrue, yPred), INFO);
    expect(html).toContain('>1000</text>');
    expect(count(html, /<rect x="\d+" width="22" height="22"[ />]/g)).toBe(27 * 27);
    expect(html).not.toContain('<title>10→40'); // per-cell tooltips dropped above 400 non-zero cells
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
  });

  it('prints the count in each non-zero cell and none in zero cells', () => {
    const m = small();
    const html = renderEvaluationReport(m, INFO);
    const counts = [...html.matchAll(/<text x="\d+"[^>]*>(\d+)<\/text>/g)].map((x) => Number(x[1]));
    // confusion rows: [3,1,1], [1,2,0], [0,0,2] → non-zero cells in row order
    expect(counts).toEqual([3, 1, 1, 1, 2, 2]);
    expect(html).toContain('<title>0→1: 1 (20.0%)</title>');
  });

  it('shows the key figures, the extras and the info', () => {
    const m = small();
    const html = renderEvaluationReport(m, INFO);
    expect(html).toContain(`<b>${m.weightedF1.toFixed(3)}</b><small>Weighted F1</small>`);
    expect(html).toContain(`<b>${m.macroF1.toFixed(3)}</b><small>Macro F1</small>`);
    expect(html).toContain('<b>0.700</b><small>Accuracy</small>');
    expect(html).toContain('<b>10</b><small>Examples</small>');
    expect(html).toContain('<dt>latency p95 (ms)</dt><dd>11.8735</dd>');
    expect(html).toContain('<dt>throughput (products/s)</dt><dd>1\u2009843</dd>');
    expect(html).toContain('<dt>weighted F1, text only</dt><dd>0.7812</dd>');
    expect(html).toContain('labeled_test, 755 products');
    expect(html).toContain('2024-05-01.3');
    expect(html).toContain('tfjs text+image MLP');
    expect(html).toContain('2024-05-01T12:34:56.000Z');
    expect(html).not.toContain('<dl class="extras">'.repeat(2));
    expect(renderEvaluationReport(m, { ...INFO, extras: undefined })).not.toContain('<dl');
  });

  it('highlights exactly the classes whose F1 is more than 0.1 below the weighted F1', () => {
    const m = example27();
    const html = renderEvaluationReport(m, INFO);
    const expected = m.perClass.filter((c) => c.support > 0 && c.f1 < m.weightedF1 - 0.1).map((c) => c.label);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(27);
    const weakRows = [...html.matchAll(/<tr class="weak"><td class="l">(\d+)/g)].map((x) => Number(x[1]));
    expect(weakRows).toEqual(expected);
    expect(html).toContain(`<b>${expected.length}</b><small>Weak classes</small>`);
    // a custom margin changes the set
    const strict = renderEvaluationReport(m, { ...INFO, weakMargin: 0 });
    expect(count(strict, /<tr class="weak">/g)).toBe(m.perClass.filter((c) => c.support > 0 && c.f1 < m.weightedF1).length);
  });

  it('does not flag or colour a class without support as weak', () => {
    const m = classificationMetrics([0, 1], [0, 1], [0, 1, 2]);
    const html = renderEvaluationReport(m, INFO);
    expect(html).not.toContain('class="weak"');
    expect(html).toContain('<tr class="nosup"><td class="l">2</td>');
  });

  it('escapes every string from the inputs', () => {
    const evil = '<script>alert(1)</script>';
    const html = renderEvaluationReport(small(), {
      title: `${evil} "title"`,
      modelVersion: evil,
      modelKind: evil,
      dataset: evil,
      createdAt: `2024"><script>`,
      extras: { [evil]: evil, n: 1 },
      classNames: { 0: evil, 1: 'a & b', 2: `it's "quoted"` },
    });
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a &amp; b');
    expect(html).toContain('it&#39;s &quot;quoted&quot;');
    expect(html).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt; &quot;title&quot;</title>');
    expect(html).toContain('datetime="2024&quot;&gt;&lt;script&gt;"');
  });

  it('references nothing external', () => {
    const html = renderEvaluationReport(example27(), INFO);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/\/\/[a-z0-9]/i); // protocol-relative URLs
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    for (const m of html.matchAll(/\b(?:src|href|xlink:href)\s*=\s*["']?([^"'\s>]*)/gi)) {
      expect(m[1]).toMatch(/^(#|data:)/);
    }
    for (const m of html.matchAll(/url\(\s*["']?([^)"']*)/gi)) expect(m[1]).toMatch(/^(#|data:)/);
  });

  it('is deterministic', () => {
    const a = renderEvaluationReport(example27(), INFO);
    const b = renderEvaluationReport(example27(), { ...INFO, extras: { ...INFO.extras } });
    expect(a).toBe(b);
    expect(renderEvaluationReport(example27(), { ...INFO, createdAt: 'x' })).not.toBe(a);
  });

  it('handles an empty evaluation and rejects inconsistent metrics', () => {
    const html = renderEvaluationReport(classificationMetrics([], []), INFO);
    expect(html).not.toContain('<svg');
    expect(html).toContain('No examples.');
    const m = small();
    expect(() => renderEvaluationReport({ ...m, confusion: m.confusion.slice(1) }, INFO)).toThrow(RangeError);
    expect(() => renderEvaluationReport({ ...m, perClass: m.perClass.slice(1) }, INFO)).toThrow(RangeError);
  });

  it('shows the category names as "code — name" in the table, on the matrix axes and in the confusions', () => {
    const m = example27();
    const html = renderEvaluationReport(m, { ...INFO, classNames: categoryNameMap() });
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    const rows = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
    for (const c of CATEGORIES) {
      expect(rows).toContain(`<td class="l name" title="${escapeHtml(c.en)}">${escapeHtml(c.en)}</td>`);
      // Both axes, each with the whole name in its tooltip.
      expect(count(svg, new RegExp(`>${c.prdtypecode} — [^<]+<title>${literal(`${c.prdtypecode} — ${escapeHtml(c.en)}`)}</title>`, 'g'))).toBe(2);
    }
    expect(svg).toContain('>10 — Used books<title>');
    // Long names are cut on the axes, not in the tooltips.
    expect(svg).toContain('>2403 — Lots of books, comics and…<title>2403 — Lots of books, comics and magazines</title>');
    // The most frequent confusion of a row names its class.
    expect(rows).toMatch(/<td class="l">\d+ — [^<(]+ \(\d+\)<\/td><\/tr>/);
    // The margins grow with the labels: the grid starts to the right of and below the longest one.
    const grid = /<rect x="(\d+)" y="(\d+)" width="594" height="594" fill="none"/.exec(svg);
    expect(Number(grid?.[1])).toBeGreaterThan(6 * '2403 — Lots of books, comics and…'.length);
    expect(Number(grid?.[2])).toBeGreaterThan(6 * '2403 — Lots of books, comics and…'.length);
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
    // Without names the axes show the bare codes, in the original margins.
    const bare = renderEvaluationReport(m, { ...INFO, classNames: undefined });
    expect(bare).toContain('<rect x="62" y="58" width="594" height="594" fill="none"');
    expect(bare.slice(bare.indexOf('<svg'), bare.indexOf('</svg>'))).not.toContain(' — ');
  });

  it('omits the name column when no class names are given', () => {
    const html = renderEvaluationReport(small(), { ...INFO, classNames: undefined });
    expect(html).not.toContain('<th class="l">Name</th>');
    const named = renderEvaluationReport(small(), { ...INFO, classNames: { 1: 'Second' } });
    expect(named).toContain('<th class="l">Name</th>');
    expect(named).toContain('<td class="l">1</td><td class="l name" title="Second">Second</td>');
    expect(named).toContain('<td class="l">0</td><td class="l name"></td>');
  });
});

/** A regular expression source matching `s` literally. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
