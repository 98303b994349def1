import type { Category, ClassScore, DriftBin } from '../types.js';
import { categoryLabel } from '../state.js';
import { count, percent, score, signed } from '../format.js';
import { Bar } from './common.js';

/** Best classes with their probability bars. */
export function TopClasses({ top, categories }: { top: ClassScore[]; categories: Map<number, Category> }) {
  return (
    <ol class="top-classes" aria-label="Top classes">
      {top.map((c) => {
        const label = categoryLabel(categories, c.prdtypecode, c.name);
        return (
          <li key={c.prdtypecode} data-testid="top-class">
            <span class="label">{label}</span>
            <Bar value={c.probability} label={`${label}: ${percent(c.probability)}`} />
            <span class="num">{percent(c.probability)}</span>
          </li>
        );
      })}
    </ol>
  );
}

/** Per-class F1 of two versions, side by side, with the difference. */
export function F1Bars({ rows, a, b }: { rows: { label: string; a: number | null; b: number | null; delta: number | null }[]; a: number; b: number }) {
  return (
    <div class="f1-bars" role="table" aria-label={`Per-class F1, v${a} against v${b}`}>
      <div class="f1-row f1-head" role="row">
        <span role="columnheader">Class</span>
        <span role="columnheader">
          <i class="swatch tone-a" /> v{a}
        </span>
        <span role="columnheader">
          <i class="swatch tone-b" /> v{b}
        </span>
        <span role="columnheader" class="num">
          Δ (b − a)
        </span>
      </div>
      {rows.map((r) => (
        <div class="f1-row" role="row" key={r.label}>
          <span role="cell" class="label">
            {r.label}
          </span>
          <span role="cell" class="pair">
            <Bar value={r.a ?? 0} tone="a" label={`v${a}: ${score(r.a)}`} />
            <span class="num">{score(r.a)}</span>
          </span>
          <span role="cell" class="pair">
            <Bar value={r.b ?? 0} tone="b" label={`v${b}: ${score(r.b)}`} />
            <span class="num">{score(r.b)}</span>
          </span>
          <span role="cell" class={`num ${r.delta === null ? '' : r.delta > 0.005 ? 'up' : r.delta < -0.005 ? 'down' : ''}`}>{signed(r.delta)}</span>
        </div>
      ))}
    </div>
  );
}

// Diverging scale: blue (fewer in b) - white - red (more in b), after ColorBrewer RdBu.
const NEG: [number, number, number] = [33, 102, 172];
const POS: [number, number, number] = [178, 24, 43];

function mix(t: number): string {
  const end = t < 0 ? NEG : POS;
  const k = Math.min(1, Math.abs(t));
  const c = end.map((v) => Math.round(255 + (v - 255) * k));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * The difference of two confusion matrices (b − a) as an SVG heatmap: rows are true classes,
 * columns predicted ones; red where b puts more products, blue where it puts fewer. On the
 * diagonal red is better, off it blue is.
 */
export function DiffHeatmap({ labels, diff, a, b, categories }: { labels: number[]; diff: number[][]; a: number[][]; b: number[][]; categories: Map<number, Category> }) {
  const n = labels.length;
  const cell = n > 20 ? 18 : 26;
  const left = 52;
  const top = 52;
  const size = n * cell;
  let max = 0;
  for (const row of diff) for (const v of row) max = Math.max(max, Math.abs(v));
  const legendWidth = 220;
  const width = left + size + 16;
  const height = top + size + 64;
  return (
    <figure class="heatmap" data-testid="confusion-diff">
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={`Confusion matrix difference b − a over ${n} classes, largest change ${max}`}>
        <defs>
          <linearGradient id="diverging" x1="0" x2="1" y1="0" y2="0">
            <stop offset="0" stop-color={mix(-1)} />
            <stop offset="0.5" stop-color={mix(0)} />
            <stop offset="1" stop-color={mix(1)} />
          </linearGradient>
        </defs>
        <text x={left + size / 2} y={12} class="axis-title" text-anchor="middle">
          predicted class
        </text>
        <text x={12} y={top + size / 2} class="axis-title" text-anchor="middle" transform={`rotate(-90 12 ${top + size / 2})`}>
          true class
        </text>
        {labels.map((label, i) => (
          <g key={`l${label}`}>
            <text x={left + i * cell + cell / 2} y={top - 6} class="tick" text-anchor="start" transform={`rotate(-60 ${left + i * cell + cell / 2} ${top - 6})`}>
              <title>{categoryLabel(categories, label)}</title>
              {label}
            </text>
            <text x={left - 4} y={top + i * cell + cell / 2 + 3} class="tick" text-anchor="end">
              <title>{categoryLabel(categories, label)}</title>
              {label}
            </text>
          </g>
        ))}
        {diff.map((row, i) =>
          row.map((v, j) => (
            <rect key={`${i}-${j}`} x={left + j * cell} y={top + i * cell} width={cell - 1} height={cell - 1} fill={max > 0 ? mix(v / max) : mix(0)} class={i === j ? 'diag' : undefined}>
              <title>
                {`true ${categoryLabel(categories, labels[i])}, predicted ${categoryLabel(categories, labels[j])}: a ${count(a[i]?.[j])}, b ${count(b[i]?.[j])}, b − a ${v > 0 ? '+' : ''}${v}`}
              </title>
            </rect>
          )),
        )}
        <g transform={`translate(${left}, ${top + size + 22})`} data-testid="heatmap-legend">
          <rect width={legendWidth} height={10} fill="url(#diverging)" stroke="#999" stroke-width="0.5" />
          <text x={0} y={24} class="tick" text-anchor="start">
            −{max} (fewer in b)
          </text>
          <text x={legendWidth / 2} y={24} class="tick" text-anchor="middle">
            0
          </text>
          <text x={legendWidth} y={24} class="tick" text-anchor="end">
            +{max} (more in b)
          </text>
        </g>
      </svg>
      <figcaption class="muted small">Cells: products of the true class (row) predicted as the class of the column, version b minus version a. Hover a cell for its counts.</figcaption>
    </figure>
  );
}

/** Reference against current share of each bin of a drift feature. */
export function BinBars({ bins }: { bins: DriftBin[] }) {
  const max = Math.max(0.0001, ...bins.flatMap((b) => [b.reference, b.current]));
  return (
    <div class="bins" role="table" aria-label="Reference and current share per bin">
      {bins.map((b) => (
        <div class="bin" role="row" key={b.bin}>
          <span class="label" role="cell">
            {b.bin}
          </span>
          <span role="cell" class="pair">
            <Bar value={b.reference} max={max} tone="ref" label={`reference ${percent(b.reference)}`} />
            <span class="num">{percent(b.reference)}</span>
          </span>
          <span role="cell" class="pair">
            <Bar value={b.current} max={max} tone="cur" label={`current ${percent(b.current)}`} />
            <span class="num">{percent(b.current)}</span>
          </span>
        </div>
      ))}
    </div>
  );
}
