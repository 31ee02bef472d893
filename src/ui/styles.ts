/** One stylesheet for the console and the portal: system fonts, no external assets, readable from 360 px up. */
export const STYLES = `
:root { color-scheme: light; --ink: #1c1f26; --muted: #5b6270; --line: #d9dde5; --bg: #f6f7f9; --card: #fff;
  --accent: #3b4bd8; --accent-ink: #fff; --ok: #13795b; --bad: #b42318; --warn: #9a6700; --radius: 10px; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
header.bar { background: #111827; color: #fff; }
header.bar .in { max-width: 72rem; margin: 0 auto; padding: .75rem 1rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; }
header.bar .brand { font-weight: 700; margin-right: auto; }
header.bar nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
header.bar a, header.bar button.link { color: #e5e7eb; }
header.bar a[aria-current="page"] { color: #fff; font-weight: 700; }
main { max-width: 72rem; margin: 0 auto; padding: 1.25rem 1rem 4rem; }
main.narrow { max-width: 46rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 1.25rem; margin: 0 0 1.25rem; }
.muted, .hint { color: var(--muted); font-size: .9rem; }
.hint { margin: .25rem 0 0; }
label { display: block; font-weight: 600; margin: .9rem 0 .3rem; }
fieldset { border: 0; padding: 0; margin: 0; min-width: 0; }
legend { font-weight: 600; padding: 0; margin-bottom: .5rem; }
input[type=text], input[type=password], input[type=search], input[type=number], input[type=url], select, textarea {
  width: 100%; font: inherit; padding: .55rem .7rem; border: 1px solid #aab1bd; border-radius: 8px; background: #fff; color: var(--ink); }
textarea { min-height: 6rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
[aria-invalid="true"] { border-color: var(--bad); }
.field-error { color: var(--bad); font-size: .9rem; margin: .25rem 0 0; }
button, .button { display: inline-block; font: inherit; font-weight: 600; padding: .55rem 1.1rem; border-radius: 8px;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.link { background: none; border: 0; padding: 0; color: var(--accent); text-decoration: underline; font-weight: 400; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: 1rem; }
.row { display: grid; gap: 0 1rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
.providers { display: grid; gap: .5rem; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); }
.providers label { font-weight: 500; margin: 0; padding: .6rem .75rem; border: 1px solid var(--line); border-radius: 8px; display: flex; gap: .5rem; align-items: center; background: #fff; }
.providers input:checked + span { font-weight: 700; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th, td { text-align: left; padding: .55rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
meter { width: 8rem; height: 1rem; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; }
.s-active, .s-pending, .s-completed { color: var(--ok); }
.s-inactive, .s-expired, .s-provisioning { color: var(--warn); }
.s-deactivated, .s-revoked { color: var(--bad); }
.notice { border-left: 4px solid var(--ok); background: #ecfdf3; padding: .75rem 1rem; border-radius: 6px; margin: 0 0 1rem; }
.alert { border-left: 4px solid var(--bad); background: #fef3f2; padding: .75rem 1rem; border-radius: 6px; margin: 0 0 1rem; }
.checks { list-style: none; padding: 0; margin: 0; }
.checks li { padding: .5rem 0; border-bottom: 1px solid var(--line); }
.checks .mark { font-weight: 700; display: inline-block; min-width: 5.5rem; }
.checks .pass .mark { color: var(--ok); }
.checks .fail .mark { color: var(--bad); }
.checks .warn .mark { color: var(--warn); }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
pre { background: #0f172a; color: #e2e8f0; padding: .9rem; border-radius: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.steps { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; list-style: none; padding: 0; margin: 0 0 1.25rem; color: var(--muted); font-size: .9rem; }
.steps [aria-current="step"] { color: var(--ink); font-weight: 700; }
.stats { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); margin: 0; }
.stats div { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem; }
.stats dt { color: var(--muted); font-size: .85rem; }
.stats dd { margin: 0; font-size: 1.4rem; font-weight: 700; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.copy { display: flex; gap: .5rem; }
.copy input { flex: 1; }
.pager { display: flex; gap: 1rem; margin-top: 1rem; }
.filters { display: grid; gap: 0 1rem; grid-template-columns: 1fr 12rem auto; align-items: end; }
.filters button { margin-bottom: 0; height: 2.6rem; }
.charts { display: grid; gap: 1rem 1.5rem; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); }
figure.chart { margin: 0 0 1rem; min-width: 0; }
figure.chart figcaption { font-weight: 600; margin: 0 0 .5rem; }
.chart-svg { display: block; width: 100%; height: auto; }
.chart-svg text { fill: var(--muted); font-size: 12px; }
.chart-svg text.name { fill: var(--ink); }
.chart-svg .bar { fill: var(--accent); }
.chart-svg .bar.neg { fill: var(--bad); }
.chart-svg .grid { stroke: var(--line); stroke-width: 1; }
.chart-svg .zero { stroke: #8a93a3; stroke-width: 1; }
.chart-svg .line { fill: none; stroke: var(--ok); stroke-width: 2; }
.chart-svg .dot { fill: var(--ok); }
.gauge { display: block; width: 100%; max-width: 24rem; height: auto; margin: .25rem 0; }
.gauge .track { fill: #e5e7eb; }
.gauge.g-ok .fill { fill: var(--ok); }
.gauge.g-warn .fill { fill: var(--warn); }
.gauge.g-bad .fill { fill: var(--bad); }
details.numbers { margin-top: .5rem; }
.actions + .card { margin-top: 1.25rem; }
details.numbers summary { cursor: pointer; color: var(--accent); }
tbody th, tfoot th { text-transform: none; letter-spacing: normal; font-size: inherit; color: inherit; }
.chart-svg.rank { max-width: 48rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
[hidden] { display: none !important; }
@media (max-width: 40rem) {
  h1 { font-size: 1.35rem; }
  .card { padding: 1rem; }
  .filters { grid-template-columns: 1fr; }
  .filters button { margin-top: .75rem; }
  table.stack thead { position: absolute; left: -999px; }
  table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.stack td { display: grid; grid-template-columns: 7.5rem minmax(0, 1fr); border: 0; padding: .2rem 0; overflow-wrap: anywhere; }
  table.stack td::before { content: attr(data-label); color: var(--muted); font-size: .85rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
}
`;
