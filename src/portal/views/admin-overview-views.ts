import type { RolloutCounts, RolloutOverview } from '../../policy/index.js';
import { POLICY_LABELS, TWOFA_LABELS, count, queryString } from './admin-labels.js';
import { html, type SafeHtml } from './html.js';
import { page } from './layout.js';
import { rolloutChart, rolloutTable } from './rollout-chart.js';

const percentOn = (c: RolloutCounts): string => (c.total === 0 ? '-' : `${Math.floor((c.on / c.total) * 100)} %`);

/** A number that links to the users it counts. */
function countLink(n: number, filter: { state?: string; domain?: string }): SafeHtml {
  return n === 0 ? html`0` : html`<a href="/admin/users${queryString(filter)}">${count(n)}</a>`;
}

function countCells(c: RolloutCounts, domain?: string): SafeHtml {
  return html`<td>${countLink(c.total, { domain })}</td><td>${countLink(c.off, { domain, state: 'off' })}</td><td>${countLink(c.allowed, { domain, state: 'allowed' })}</td><td>${countLink(c.required, { domain, state: 'required' })}</td><td>${countLink(c.on, { domain, state: 'on' })}</td><td>${percentOn(c)}</td>`;
}

/** The console's first page: the rollout per domain and overall, its last 30 days, and who to chase. */
export function adminOverviewPage(o: { csrf: string; admin: string; overview: RolloutOverview; notice?: string }): string {
  const v = o.overview;
  const domainRows = v.domains.map(
    (d) => html`<tr><th scope="row">${d.domain === '' ? '(no domain)' : d.domain}</th><td>${d.policy === null ? '-' : POLICY_LABELS[d.policy]}</td>${countCells(d, d.domain === '' ? undefined : d.domain)}</tr>`,
  );
  const chase =
    v.chase.length === 0
      ? html`<p>Nobody: every user who must use two-step authentication has set it up.</p>`
      : html`<ul id="chase">${v.chase.map((u) => html`<li>${u.username}${u.twofaState === 'pending' ? html` <span class="detail">(${TWOFA_LABELS.pending.toLowerCase()})</span>` : html``}</li>`)}</ul>
<p><a href="/admin/users?state=required">All ${count(v.overall.required)} users who must still set it up</a></p>`;
  return page(
    { title: 'Overview', csrf: o.csrf, signedInAs: { name: o.admin, area: 'admin' }, notice: o.notice, wide: true },
    html`<h1>Overview</h1>
<h2 id="rollout-title">Two-step authentication by domain</h2>
<div class="table-wrap"><table id="rollout" aria-labelledby="rollout-title">
<thead><tr><th scope="col">Domain</th><th scope="col">Domain policy</th><th scope="col">Users</th><th scope="col">Not allowed</th><th scope="col">Allowed, not set up</th><th scope="col">Required, not set up</th><th scope="col">On</th><th scope="col">On (share)</th></tr></thead>
<tbody>${domainRows}</tbody>
<tfoot><tr><th scope="row">All users</th><td></td>${countCells(v.overall)}</tr></tfoot>
</table></div>
${v.moreDomains > 0 ? html`<p>${count(v.moreDomains)} smaller domains are counted in "All users" only.</p>` : html``}
<h2>The last ${v.days.length} days</h2>
${rolloutChart(v)}
${rolloutTable(v)}
<h2>Required but not set up</h2>
${chase}`,
  );
}
