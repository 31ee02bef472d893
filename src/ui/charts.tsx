/**
 * Charts drawn on the server as inline SVG: no script, no style attribute (the pages' CSP allows
 * neither), no external asset. Colours come from the shared stylesheet's classes (.chart ...). Each
 * chart is an image with a summary for assistive technology (role="img", aria-label); the screens that
 * draw one put its numbers in a table beside it. The geometry is plain functions, tested on their own
 * (charts.test.ts): scales, empty data, zero and negative values, very large numbers, many bars.
 */

/** A value axis: from lo to hi (lo <= 0 <= hi), in steps of a round number (1, 2 or 5 times a power of ten). */
export interface Scale {
  lo: number;
  hi: number;
  step: number;
  ticks: number[];
}

/** Where a chart draws: its size (the viewBox) and the margins around the plot. */
export interface Box {
  width: number;
  height: number;
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export const DEFAULT_BOX: Box = { width: 640, height: 220, top: 12, right: 12, bottom: 28, left: 64 };

const finite = (n: number) => (Number.isFinite(n) ? n : 0);
/** Two decimals are plenty in a 640-unit viewBox, and keep the markup short. */
const r2 = (n: number) => Math.round(n * 100) / 100;

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return m * power;
}

/**
 * A scale covering every value and zero, with about `ticks` steps. Non-finite values count as 0; no
 * data, or only zeros, gives 0 to 1 (0 to `ticks` for whole numbers). `integer` keeps steps whole.
 */
export function niceScale(values: number[], opts: { ticks?: number; integer?: boolean } = {}): Scale {
  const ticks = Math.max(1, Math.floor(opts.ticks ?? 4));
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    const n = finite(v);
    if (n < lo) lo = n;
    if (n > hi) hi = n;
  }
  if (lo === 0 && hi === 0) hi = opts.integer ? ticks : 1;
  let step = niceStep((hi - lo) / ticks);
  if (opts.integer) step = Math.max(1, Math.round(step));
  const from = Math.floor(lo / step);
  const to = Math.ceil(hi / step);
  // Counted in whole steps, so 0.1 + 0.2 never turns up as a tick.
  const list = Array.from({ length: to - from + 1 }, (_, i) => Number(((from + i) * step).toPrecision(12)));
  return { lo: list[0]!, hi: list[list.length - 1]!, step, ticks: list };
}

/** The y coordinate of `value` on `scale` in `box` (SVG's y grows downwards). */
export function yOf(value: number, scale: Scale, box: Box): number {
  const plot = box.height - box.top - box.bottom;
  return box.height - box.bottom - ((finite(value) - scale.lo) / (scale.hi - scale.lo)) * plot;
}

export interface BarGeometry {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
  negative: boolean;
}

/**
 * Bars from the zero line, up for positive values and down for negative ones: a bar's height is
 * |value| / (hi - lo) of the plot, so heights are in proportion to the values. Slots share the plot's
 * width equally; a gap of a fifth of a slot separates bars while slots are at least 4 units wide.
 */
export function barLayout(values: number[], box: Box = DEFAULT_BOX, opts: { integer?: boolean } = {}) {
  const scale = niceScale(values, opts);
  const plotWidth = box.width - box.left - box.right;
  const slot = values.length > 0 ? plotWidth / values.length : plotWidth;
  const gap = slot >= 4 ? slot * 0.2 : 0;
  const zero = yOf(0, scale, box);
  const bars: BarGeometry[] = values.map((raw, i) => {
    const value = finite(raw);
    const end = yOf(value, scale, box);
    return {
      x: r2(box.left + i * slot + gap / 2),
      y: r2(Math.min(end, zero)),
      width: r2(slot - gap),
      height: r2(Math.abs(zero - end)),
      value,
      negative: value < 0,
    };
  });
  const ticks = scale.ticks.map((value) => ({ value, y: r2(yOf(value, scale, box)) }));
  return { scale, slot, zero: r2(zero), bars, ticks };
}

/** A line through the values (one point a slot, in the slot's middle, as bars would stand): an SVG path. */
export function lineLayout(values: number[], box: Box = DEFAULT_BOX, opts: { integer?: boolean } = {}) {
  const scale = niceScale(values, opts);
  const plotWidth = box.width - box.left - box.right;
  const slot = values.length > 0 ? plotWidth / values.length : plotWidth;
  const points = values.map((v, i) => ({ x: r2(box.left + slot * (i + 0.5)), y: r2(yOf(v, scale, box)), value: v }));
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x} ${p.y}`).join(" ");
  const ticks = scale.ticks.map((value) => ({ value, y: r2(yOf(value, scale, box)) }));
  return { scale, slot, points, path, ticks };
}

/**
 * A gauge's fill: `value` of `max` across `width`, clamped to the track; null when there is no
 * maximum to measure against (no credit limit, nothing delivered or failed yet).
 */
export function gaugeLayout(value: number, max: number | null, width: number) {
  if (max === null || !(max > 0) || !Number.isFinite(max)) return null;
  const ratio = finite(value) / max;
  return { ratio, fill: r2(Math.min(Math.max(ratio, 0), 1) * width), over: ratio > 1 };
}

/** A number in a few characters: 950, 1.2k, 35k, 4.1M, 2B, 7.5T (very large values stay readable). */
export function compact(n: number): string {
  const v = finite(n);
  const abs = Math.abs(v);
  const units: Array<[number, string]> = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const scaled = v / size;
      const text =
        Math.abs(scaled) >= 100 ? Math.round(scaled).toLocaleString("en-US") : String(Number(scaled.toFixed(1)));
      return `${text}${unit}`;
    }
  }
  return String(Number(v.toFixed(2)));
}

/** Cents as a short dollar amount for an axis: $0, $2.5, $1.2k. */
export const compactDollars = (cents: number) => {
  const text = compact(finite(cents) / 100);
  return text.startsWith("-") ? `-$${text.slice(1)}` : `$${text}`;
};

export interface Point {
  /** The slot's name, e.g. a date; shown under the first, middle and last slots, and in each bar's tooltip. */
  label: string;
  value: number;
}

/** Which slots get a label under the axis: the first, the last, and the middle when there is room. */
function labelled(n: number): Set<number> {
  if (n === 0) return new Set();
  return new Set(n >= 5 ? [0, Math.floor((n - 1) / 2), n - 1] : Array.from({ length: n }, (_, i) => i));
}

function Axis(props: {
  box: Box;
  ticks: Array<{ value: number; y: number }>;
  format: (n: number) => string;
  points: Point[];
  slot: number;
}) {
  const { box, ticks, format, points, slot } = props;
  const show = labelled(points.length);
  return (
    <g class="axis">
      {ticks.map((t) => (
        <>
          <line class="grid" x1={box.left} x2={box.width - box.right} y1={t.y} y2={t.y} />
          <text x={box.left - 6} y={t.y + 4} text-anchor="end">
            {format(t.value)}
          </text>
        </>
      ))}
      {points.map((p, i) =>
        show.has(i) ? (
          <text
            x={r2(box.left + slot * (i + 0.5))}
            y={box.height - 8}
            text-anchor={i === 0 && points.length > 1 ? "start" : i === points.length - 1 && i > 0 ? "end" : "middle"}
          >
            {p.label}
          </text>
        ) : null,
      )}
    </g>
  );
}

/** A bar chart of `points`. `summary` is what a screen reader announces for the whole image. */
export function BarChart(props: {
  points: Point[];
  summary: string;
  format: (n: number) => string;
  /** Each bar's tooltip, e.g. "2026-01-05: 12 sends". */
  describe?: (p: Point) => string;
  integer?: boolean;
  box?: Box;
  class?: string;
}) {
  const box = props.box ?? DEFAULT_BOX;
  const layout = barLayout(
    props.points.map((p) => p.value),
    box,
    { integer: props.integer },
  );
  return (
    <svg
      class={`chart-svg${props.class ? ` ${props.class}` : ""}`}
      viewBox={`0 0 ${box.width} ${box.height}`}
      role="img"
      aria-label={props.summary}
      data-lo={layout.scale.lo}
      data-hi={layout.scale.hi}
    >
      <Axis box={box} ticks={layout.ticks} format={props.format} points={props.points} slot={layout.slot} />
      <g class="bars">
        {layout.bars.map((b, i) => (
          <rect
            class={b.negative ? "bar neg" : "bar"}
            x={b.x}
            y={b.y}
            width={b.width}
            height={b.height}
            data-label={props.points[i]!.label}
            data-value={b.value}
          >
            <title>{props.describe ? props.describe(props.points[i]!) : `${props.points[i]!.label}: ${b.value}`}</title>
          </rect>
        ))}
      </g>
      <line class="zero" x1={box.left} x2={box.width - box.right} y1={layout.zero} y2={layout.zero} />
    </svg>
  );
}

/** A line chart of `points`, with a dot at each (its tooltip from `describe`). */
export function LineChart(props: {
  points: Point[];
  summary: string;
  format: (n: number) => string;
  describe?: (p: Point) => string;
  integer?: boolean;
  box?: Box;
}) {
  const box = props.box ?? DEFAULT_BOX;
  const layout = lineLayout(
    props.points.map((p) => p.value),
    box,
    { integer: props.integer },
  );
  return (
    <svg
      class="chart-svg"
      viewBox={`0 0 ${box.width} ${box.height}`}
      role="img"
      aria-label={props.summary}
      data-lo={layout.scale.lo}
      data-hi={layout.scale.hi}
    >
      <Axis box={box} ticks={layout.ticks} format={props.format} points={props.points} slot={layout.slot} />
      {layout.points.length > 1 ? <path class="line" d={layout.path} /> : null}
      <g class="dots">
        {layout.points.map((p, i) => (
          <circle class="dot" cx={p.x} cy={p.y} r={layout.points.length > 60 ? 1.5 : 3} data-value={p.value}>
            <title>{props.describe ? props.describe(props.points[i]!) : `${props.points[i]!.label}: ${p.value}`}</title>
          </circle>
        ))}
      </g>
    </svg>
  );
}

/**
 * A horizontal gauge: `value` of `max` (spend against a credit limit, a success rate). Past the
 * maximum the fill is full and marked as over. Without a maximum, nothing is drawn.
 */
export function Gauge(props: {
  value: number;
  max: number | null;
  summary: string;
  /** The fill's colour: good, a warning or bad (past the maximum it is always bad). */
  tone?: "ok" | "warn" | "bad";
  id?: string;
}) {
  const width = 400;
  const g = gaugeLayout(props.value, props.max, width);
  if (!g) return null;
  return (
    <svg
      class={`gauge g-${g.over ? "bad" : (props.tone ?? "ok")}`}
      viewBox={`0 0 ${width} 16`}
      role="img"
      aria-label={props.summary}
      id={props.id}
      data-ratio={Number(g.ratio.toFixed(6))}
    >
      <rect class="track" x={0} y={0} width={width} height={16} rx={8} />
      <rect class="fill" x={0} y={0} width={g.fill} height={16} rx={8} />
    </svg>
  );
}

/**
 * Horizontal bars for a ranking (each row: its name, a bar, its amount): widths in proportion to
 * the largest value; a negative value draws no bar.
 */
export function rankLayout(values: number[], width: number) {
  const max = Math.max(0, ...values.map(finite));
  return values.map((v) => {
    const value = finite(v);
    return { value, width: max > 0 ? r2((Math.max(value, 0) / max) * width) : 0 };
  });
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function RankChart(props: { rows: Point[]; summary: string; format: (n: number) => string }) {
  const row = 26;
  const width = 640;
  const nameWidth = 200;
  const amountWidth = 90;
  const barWidth = width - nameWidth - amountWidth;
  const bars = rankLayout(
    props.rows.map((r) => r.value),
    barWidth,
  );
  const height = Math.max(row, props.rows.length * row);
  return (
    <svg class="chart-svg rank" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.summary}>
      {props.rows.map((r, i) => (
        <g>
          <text class="name" x={0} y={i * row + 17}>
            {clip(r.label, 28)}
          </text>
          <rect
            class="bar"
            x={nameWidth}
            y={i * row + 5}
            width={bars[i]!.width}
            height={row - 10}
            data-label={r.label}
            data-value={bars[i]!.value}
          />
          <text x={width} y={i * row + 17} text-anchor="end">
            {props.format(r.value)}
          </text>
        </g>
      ))}
    </svg>
  );
}
