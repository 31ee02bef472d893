import type { DailyTotal, UsageRecord } from "../storage/usage-repo";
import { BarChart, compact, compactDollars, Gauge, LineChart } from "../ui/charts";
import { money } from "../ui/document";
import { OutcomeHeads } from "./parts";

const DAY = 86_400_000;

/** A count as people read it: 12,345. */
export const count = (n: number) => n.toLocaleString("en-US");

/** Every date from `from` to `to`, inclusive (YYYY-MM-DD, UTC). */
export function daysFrom(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 400; t += DAY) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** One total per day of `days` (zero where there are no records), from daily totals or per-channel records. */
export function perDay(days: string[], rows: Array<DailyTotal | UsageRecord>): DailyTotal[] {
  const byDate = new Map(days.map((date) => [date, { date, sends: 0, costCents: 0, delivered: 0, failed: 0 }]));
  for (const r of rows) {
    const d = byDate.get(r.date);
    if (!d) continue;
    d.sends += r.sends;
    d.costCents += r.costCents;
    d.delivered += r.delivered;
    d.failed += r.failed;
  }
  return [...byDate.values()];
}

const short = (date: string) => date.slice(5); // MM-DD under the axis

/**
 * Daily sends (bars) and cost (a line), and the numbers behind them in a table: what the tenant page
 * and the overview draw. `id` names the figures (tests and the screenshots in docs/ find them by it).
 */
export function DailyCharts(props: { id: string; days: DailyTotal[]; period: string }) {
  const { days } = props;
  const sends = days.reduce((n, d) => n + d.sends, 0);
  const cost = days.reduce((n, d) => n + d.costCents, 0);
  const peak = days.reduce<DailyTotal | null>((p, d) => (p === null || d.sends > p.sends ? d : p), null);
  const first = days[0]?.date ?? "";
  const last = days[days.length - 1]?.date ?? "";
  return (
    <div class="usage-charts">
      <div class="charts">
        <figure class="chart" id={`${props.id}-sends`}>
          <figcaption>Sends a day, {props.period}</figcaption>
          <BarChart
            points={days.map((d) => ({ label: short(d.date), value: d.sends }))}
            summary={`Sends a day from ${first} to ${last}: ${count(sends)} in all${
              peak && peak.sends > 0 ? `, most on ${peak.date} (${count(peak.sends)})` : ""
            }.`}
            format={compact}
            describe={(p) => `${p.label}: ${count(p.value)} sends`}
            integer
          />
        </figure>
        <figure class="chart" id={`${props.id}-cost`}>
          <figcaption>Cost a day, {props.period}</figcaption>
          <LineChart
            points={days.map((d) => ({ label: short(d.date), value: d.costCents }))}
            summary={`Cost a day from ${first} to ${last}: ${money(cost)} in all.`}
            format={compactDollars}
            describe={(p) => `${p.label}: ${money(p.value)}`}
          />
        </figure>
      </div>
      <details class="numbers">
        <summary>The numbers behind these charts</summary>
        <div class="table-wrap">
          <table id={`${props.id}-table`}>
            <caption class="muted">
              Sends, cost and delivery outcomes a day, {props.period} (UTC days, every channel)
            </caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <OutcomeHeads />
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr data-date={d.date}>
                  <th scope="row">{d.date}</th>
                  <td class="num">{count(d.sends)}</td>
                  <td class="num">{money(d.costCents)}</td>
                  <td class="num">{count(d.delivered)}</td>
                  <td class="num">{count(d.failed)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td class="num">{count(sends)}</td>
                <td class="num">{money(cost)}</td>
                <td class="num">{count(days.reduce((n, d) => n + d.delivered, 0))}</td>
                <td class="num">{count(days.reduce((n, d) => n + d.failed, 0))}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      </details>
    </div>
  );
}

/** delivered / (delivered + failed), or null before Zavu has reported any outcome. */
export function successRate(delivered: number, failed: number): number | null {
  return delivered + failed > 0 ? delivered / (delivered + failed) : null;
}

export const percent = (ratio: number) => `${(Math.floor(ratio * 1000) / 10).toFixed(1)}%`;

/** The delivery success rate as a gauge and its numbers in words. */
export function SuccessRate(props: { delivered: number; failed: number; period: string }) {
  const rate = successRate(props.delivered, props.failed);
  if (rate === null) return <p class="muted">No delivery outcomes reported {props.period}.</p>;
  const text = `${percent(rate)} delivered (${count(props.delivered)} delivered, ${count(props.failed)} failed) ${props.period}`;
  return (
    <figure class="chart" id="success-rate">
      <figcaption>Delivery success rate</figcaption>
      <Gauge
        value={props.delivered}
        max={props.delivered + props.failed}
        summary={`Delivery success rate: ${text}`}
        tone={rate >= 0.95 ? "ok" : rate >= 0.8 ? "warn" : "bad"}
      />
      <p data-rate>{text}</p>
    </figure>
  );
}

/** Spend against the credit limit as a gauge, with the amounts in words ("$12.00 of $50.00"). */
export function SpendGauge(props: { spent: number | null; limit: number | null }) {
  if (props.spent === null) return <span class="muted">no data yet</span>;
  if (!props.limit) return <span>{money(props.spent)} (no cap)</span>;
  const ratio = props.spent / props.limit;
  const text = `${money(props.spent)} of ${money(props.limit)}`;
  return (
    <figure class="chart" id="spend-gauge">
      <Gauge
        value={props.spent}
        max={props.limit}
        summary={`Spend against the credit limit: ${text} (${percent(ratio)})`}
        tone={ratio >= 0.8 ? "warn" : "ok"}
      />
      <figcaption>
        {text} ({percent(ratio)} of the credit limit)
      </figcaption>
    </figure>
  );
}
