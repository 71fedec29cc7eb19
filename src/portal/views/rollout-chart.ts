import type { RolloutDay, RolloutOverview } from '../../policy/index.js';
import { count } from './admin-labels.js';
import { html, type SafeHtml } from './html.js';

/**
 * The overview's chart of the last 30 days, drawn on the server as inline SVG: no script, and no
 * style attribute (the CSP allows neither) — every colour is a class of portal.css. Four panels
 * share the days: enrolments, application-code logins stacked by protocol, refused main-password
 * logins, lockouts; each has its own scale (logins run to thousands, lockouts to a few). Each bar
 * has a <title> (a tooltip, read by screen readers); the exact numbers are also in a table below.
 */

const W = 760;
const LEFT = 56;
const RIGHT = 8;
const PANEL_H = 70;
const TITLE_H = 22;
const GAP = 14;
const AXIS_H = 22;

/** Protocol colours: a class per position of the protocol in the overview's list (portal.css has p0..p5). */
export const protocolClass = (o: RolloutOverview, p: string): string => `c-p${Math.min(o.protocols.indexOf(p), 5)}`;

interface Panel {
  title: string;
  /** Per day: the stacked parts (class, label, value). */
  parts: (d: RolloutDay) => { cls: string; label: string; n: number }[];
}

function panels(o: RolloutOverview): Panel[] {
  return [
    { title: 'Enrolments (authenticators set up)', parts: (d) => [{ cls: 'c-enrol', label: 'enrolments', n: d.enrolments }] },
    {
      title: 'Application-code logins, by protocol',
      parts: (d) => o.protocols.map((p) => ({ cls: protocolClass(o, p), label: `${p.toUpperCase()} logins`, n: d.appCodeLogins[p] ?? 0 })),
    },
    { title: 'Refused main-password logins', parts: (d) => [{ cls: 'c-refused', label: 'main-password logins refused', n: d.refusedMainPassword }] },
    { title: 'Lockouts', parts: (d) => [{ cls: 'c-lockout', label: 'lockouts', n: d.lockouts }] },
  ];
}

function panel(o: RolloutOverview, p: Panel, top: number): SafeHtml {
  const days = o.days;
  const slot = (W - LEFT - RIGHT) / Math.max(days.length, 1);
  const barW = Math.max(1, slot * 0.7);
  const totals = days.map((d) => p.parts(d).reduce((s, x) => s + x.n, 0));
  const max = Math.max(1, ...totals);
  const y0 = top + TITLE_H + PANEL_H;
  const bars = days.map((d, i) => {
    let y = y0;
    const x = LEFT + i * slot + (slot - barW) / 2;
    return p.parts(d).map((part) => {
      if (part.n === 0) return html``;
      const h = (part.n / max) * PANEL_H;
      y -= h;
      return html`<rect class="${part.cls}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(h, 0.5).toFixed(1)}"><title>${d.date}: ${count(part.n)} ${part.label}</title></rect>`;
    });
  });
  return html`<g class="panel">
<text class="panel-title" x="${LEFT}" y="${top + 15}">${p.title}</text>
<text class="axis" x="${LEFT - 6}" y="${top + TITLE_H + 10}" text-anchor="end">${count(max)}</text>
<text class="axis" x="${LEFT - 6}" y="${y0}" text-anchor="end">0</text>
<line class="grid" x1="${LEFT}" y1="${top + TITLE_H}" x2="${W - RIGHT}" y2="${top + TITLE_H}"></line>
<line class="baseline" x1="${LEFT}" y1="${y0}" x2="${W - RIGHT}" y2="${y0}"></line>
${bars}
</g>`;
}

/** The chart (with its own title for screen readers) and a legend. */
export function rolloutChart(o: RolloutOverview): SafeHtml {
  const ps = panels(o);
  const height = ps.length * (TITLE_H + PANEL_H + GAP) + AXIS_H;
  const slot = (W - LEFT - RIGHT) / Math.max(o.days.length, 1);
  const axisY = height - 6;
  // A date under every 7th day, the last one (today) included.
  const ticks = o.days
    .map((d, i) => ({ d, i }))
    .filter(({ i }) => (o.days.length - 1 - i) % 7 === 0)
    .map(({ d, i }) => html`<text class="axis" x="${(LEFT + i * slot + slot / 2).toFixed(1)}" y="${axisY}" text-anchor="middle">${d.date.slice(5)}</text>`);
  const first = o.days[0]?.date ?? '';
  const last = o.days[o.days.length - 1]?.date ?? '';
  const legend = o.protocols.map((p) => html`<li><span class="swatch ${protocolClass(o, p)}" aria-hidden="true"></span>${p.toUpperCase()}</li>`);
  return html`<figure class="chart">
<svg role="img" aria-labelledby="chart-title" viewBox="0 0 ${W} ${height}" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Two-step authentication from ${first} to ${last} (UTC days): enrolments, application-code logins by protocol, refused main-password logins and lockouts per day</title>
${ps.map((p, k) => panel(o, p, k * (TITLE_H + PANEL_H + GAP)))}
${ticks}
</svg>
<figcaption>Per UTC day, ${first} to ${last}.${o.protocols.length > 0 ? html` Logins by protocol: <ul class="legend">${legend}</ul>` : html``}</figcaption>
</figure>`;
}

/** The chart's numbers as a table (for screen readers, copying, and tests). */
export function rolloutTable(o: RolloutOverview): SafeHtml {
  const rows = o.days.map(
    (d) => html`<tr><th scope="row">${d.date}</th><td>${count(d.enrolments)}</td>${o.protocols.map((p) => html`<td>${count(d.appCodeLogins[p] ?? 0)}</td>`)}<td>${count(d.refusedMainPassword)}</td><td>${count(d.lockouts)}</td></tr>`,
  );
  return html`<details><summary>The numbers of the chart</summary>
<div class="table-wrap"><table id="rollout-days">
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Enrolments</th>${o.protocols.map((p) => html`<th scope="col">${p.toUpperCase()} app-code logins</th>`)}<th scope="col">Refused main-password logins</th><th scope="col">Lockouts</th></tr></thead>
<tbody>${rows}</tbody></table></div></details>`;
}
