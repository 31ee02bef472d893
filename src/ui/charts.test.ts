import { describe, expect, it } from "vitest";
import {
  BarChart,
  barLayout,
  compact,
  compactDollars,
  DEFAULT_BOX,
  Gauge,
  gaugeLayout,
  LineChart,
  lineLayout,
  niceScale,
  RankChart,
  rankLayout,
  yOf,
} from "./charts";

const box = DEFAULT_BOX;
const plotHeight = box.height - box.top - box.bottom;
const plotLeft = box.left;
const plotRight = box.width - box.right;

describe("niceScale", () => {
  it("covers every value and zero in round steps", () => {
    expect(niceScale([3, 7, 12])).toEqual({ lo: 0, hi: 15, step: 5, ticks: [0, 5, 10, 15] });
    expect(niceScale([0.3])).toMatchObject({ lo: 0, hi: 0.3, step: 0.1, ticks: [0, 0.1, 0.2, 0.3] });
    expect(niceScale([101]).hi).toBeGreaterThanOrEqual(101);
  });

  it("gives 0 to 1 (whole numbers: 0 to ticks) for no data or only zeros", () => {
    expect(niceScale([])).toMatchObject({ lo: 0, hi: 1 });
    expect(niceScale([0, 0, 0])).toMatchObject({ lo: 0, hi: 1 });
    expect(niceScale([], { integer: true })).toEqual({ lo: 0, hi: 4, step: 1, ticks: [0, 1, 2, 3, 4] });
  });

  it("keeps whole-number steps whole", () => {
    const s = niceScale([1], { integer: true });
    expect(s.step).toBe(1);
    expect(s.ticks.every(Number.isInteger)).toBe(true);
  });

  it("reaches below zero for negative values (a reconciliation can take cost back)", () => {
    const s = niceScale([-30, 50]);
    expect(s.lo).toBeLessThanOrEqual(-30);
    expect(s.hi).toBeGreaterThanOrEqual(50);
    expect(s.ticks).toContain(0);
    expect(niceScale([-5, -1])).toMatchObject({ hi: 0 });
  });

  it("handles very large numbers and treats non-finite ones as zero", () => {
    const s = niceScale([9e15, 1]);
    expect(s.hi).toBeGreaterThanOrEqual(9e15);
    expect(s.ticks.length).toBeLessThanOrEqual(6);
    expect(niceScale([Number.NaN, Number.POSITIVE_INFINITY, 2])).toMatchObject({ lo: 0 });
    expect(Number.isFinite(niceScale([Number.NaN, Number.POSITIVE_INFINITY, 2]).hi)).toBe(true);
  });

  it("has no floating-point noise in its ticks", () => {
    for (const t of niceScale([0.7]).ticks) expect(String(t).length).toBeLessThan(6);
  });
});

describe("barLayout", () => {
  it("draws bars whose heights are in proportion to the values, from the zero line", () => {
    const { bars, zero, scale } = barLayout([10, 20, 0, 5]);
    expect(zero).toBeCloseTo(box.height - box.bottom);
    expect(bars.map((b) => b.height)).toEqual(
      [10, 20, 0, 5].map((v) => Math.round((v / scale.hi) * plotHeight * 100) / 100),
    );
    expect(bars[1]!.height / bars[0]!.height).toBeCloseTo(2, 2);
    for (const b of bars) expect(b.y + b.height).toBeCloseTo(zero);
  });

  it("draws negative values below the zero line", () => {
    const { bars, zero } = barLayout([40, -20]);
    expect(bars[1]!.negative).toBe(true);
    expect(bars[1]!.y).toBeCloseTo(zero);
    expect(bars[0]!.height / bars[1]!.height).toBeCloseTo(2, 2);
  });

  it("draws nothing for no data, and flat bars for zeros", () => {
    expect(barLayout([]).bars).toEqual([]);
    expect(barLayout([0, 0]).bars.every((b) => b.height === 0)).toBe(true);
  });

  it("fits many days inside the plot, every bar with a width", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const { bars } = barLayout(values);
    expect(bars).toHaveLength(1000);
    for (const b of bars) {
      expect(b.width).toBeGreaterThan(0);
      expect(b.x).toBeGreaterThanOrEqual(plotLeft);
      expect(b.x + b.width).toBeLessThanOrEqual(plotRight + 0.01);
      expect(b.y).toBeGreaterThanOrEqual(box.top - 0.01);
    }
    // Slots never overlap.
    for (let i = 1; i < bars.length; i++) expect(bars[i]!.x).toBeGreaterThanOrEqual(bars[i - 1]!.x);
  });

  it("keeps very large values on the chart", () => {
    const { bars } = barLayout([Number.MAX_SAFE_INTEGER, 1]);
    expect(bars[0]!.y).toBeGreaterThanOrEqual(box.top - 0.01);
    expect(bars[0]!.height).toBeLessThanOrEqual(plotHeight + 0.01);
    expect(bars[1]!.height).toBeGreaterThanOrEqual(0);
  });
});

describe("lineLayout and yOf", () => {
  it("puts one point in the middle of each slot", () => {
    const { points, path } = lineLayout([1, 2, 3]);
    const slot = (plotRight - plotLeft) / 3;
    expect(points.map((p) => p.x)).toEqual([0.5, 1.5, 2.5].map((k) => Math.round((plotLeft + slot * k) * 100) / 100));
    expect(path.startsWith("M")).toBe(true);
    expect(path.match(/L/g)).toHaveLength(2);
    expect(lineLayout([]).path).toBe("");
  });

  it("maps the scale's ends to the plot's edges", () => {
    const s = niceScale([100]);
    expect(yOf(s.lo, s, box)).toBeCloseTo(box.height - box.bottom);
    expect(yOf(s.hi, s, box)).toBeCloseTo(box.top);
  });
});

describe("gaugeLayout", () => {
  it("fills in proportion, clamps past the maximum, and draws nothing without one", () => {
    expect(gaugeLayout(25, 100, 400)).toEqual({ ratio: 0.25, fill: 100, over: false });
    expect(gaugeLayout(150, 100, 400)).toEqual({ ratio: 1.5, fill: 400, over: true });
    expect(gaugeLayout(-5, 100, 400)).toMatchObject({ fill: 0, over: false });
    expect(gaugeLayout(5, null, 400)).toBeNull();
    expect(gaugeLayout(5, 0, 400)).toBeNull();
    expect(gaugeLayout(0, 0, 400)).toBeNull();
  });
});

describe("compact", () => {
  it("writes numbers short", () => {
    expect(compact(0)).toBe("0");
    expect(compact(950)).toBe("950");
    expect(compact(1200)).toBe("1.2k");
    expect(compact(35_000)).toBe("35k");
    expect(compact(-1500)).toBe("-1.5k");
    expect(compact(4_100_000)).toBe("4.1M");
    expect(compact(9e15)).toBe("9,000T");
    expect(compact(Number.NaN)).toBe("0");
    expect(compact(0.25)).toBe("0.25");
    expect(compactDollars(250)).toBe("$2.5");
    expect(compactDollars(-120_000)).toBe("-$1.2k");
  });
});

describe("the SVG", () => {
  it("is an image with its summary, its bars carrying their values, and nothing a CSP refuses", async () => {
    const html = String(
      await BarChart({
        points: [
          { label: "2026-01-01", value: 3 },
          { label: "<b>x</b>", value: 6 },
        ],
        summary: "Sends: 9 in 2 days",
        format: compact,
        integer: true,
      }),
    );
    expect(html).toMatch(/^<svg [^>]*viewBox="0 0 640 220"[^>]*role="img"[^>]*aria-label="Sends: 9 in 2 days"/);
    expect(html.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(html).toContain('data-value="6"');
    expect(html).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(html).not.toMatch(/style=|<script|href=|on[a-z]+=/i);
    const line = String(await LineChart({ points: [{ label: "a", value: 1 }], summary: "s", format: compact }));
    expect(line).toContain('role="img"');
    expect(line).not.toContain("<path"); // one point: no line, just its dot
    expect(Gauge({ value: 50, max: null, summary: "none" })).toBeNull();
    const gauge = String(await Gauge({ value: 150, max: 100, summary: "over", tone: "ok" }));
    expect(gauge).toContain('class="gauge g-bad"');
    expect(gauge).toContain('width="400"');
  });
});

describe("rankLayout", () => {
  it("draws widths in proportion to the largest value; none for zero, negative or no data", () => {
    expect(rankLayout([200, 100, 0, -5], 300).map((b) => b.width)).toEqual([300, 150, 0, 0]);
    expect(rankLayout([0, 0], 300).map((b) => b.width)).toEqual([0, 0]);
    expect(rankLayout([], 300)).toEqual([]);
    expect(rankLayout([Number.MAX_SAFE_INTEGER, 1], 300)[0]!.width).toBe(300);
  });

  it("clips long names in the image (the table beside it has them whole)", async () => {
    const html = String(
      await RankChart({ rows: [{ label: "A".repeat(60), value: 5 }], summary: "top", format: compactDollars }),
    );
    expect(html).toContain(`${"A".repeat(27)}…`);
    expect(html).not.toContain(`>${"A".repeat(28)}`);
  });
});
