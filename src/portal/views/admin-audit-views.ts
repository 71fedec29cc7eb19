import type { AuditEntry, AuditPage, AuditQuery } from '../../policy/index.js';
import { pager, queryString, selectOf } from './admin-labels.js';
import { html } from './html.js';
import { page } from './layout.js';

/** An audit event's detail as "key=value" pairs (the store keeps no secret in it). */
const detailText = (d: Record<string, unknown>): string =>
  Object.entries(d)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

const PROTOCOLS = ['', 'imap', 'pop3', 'smtp', 'submission', 'sieve', 'portal', 'other'];

const row = (e: AuditEntry) =>
  html`<tr><td><time datetime="${e.at}">${e.at.slice(0, 19).replace('T', ' ')}</time></td><td>${e.user ?? ''}</td><td>${e.event}</td><td>${e.protocol ?? ''}</td><td>${e.ip ?? ''}</td><td class="detail-cell">${detailText(e.detail)}</td></tr>`;

/** The audit log: filters (user, event, protocol, address, time range), pages, and the filtered export. */
export function adminAuditPage(o: { csrf: string; admin: string; filter: AuditQuery; result: AuditPage; events: string[]; error?: string }): string {
  const f = o.filter;
  const params = { user: f.user, event: f.event, protocol: f.protocol, ip: f.ip, since: f.since, until: f.until };
  const rows = o.result.entries.length === 0 ? html`<tr><td colspan="6">No events.</td></tr>` : o.result.entries.map(row);
  return page(
    { title: 'Audit log', csrf: o.csrf, signedInAs: { name: o.admin, area: 'admin' }, error: o.error, wide: true },
    html`<h1>Audit log</h1>
<form method="get" action="/admin/audit" class="filters">
<div class="field"><label for="f-user">User</label><input id="f-user" name="user" type="text" value="${f.user ?? ''}"></div>
<div class="field"><label for="f-event">Event (or its start, e.g. "login")</label><input id="f-event" name="event" type="text" list="event-names" value="${f.event ?? ''}"></div>
<datalist id="event-names">${o.events.map((e) => html`<option value="${e}"></option>`)}</datalist>
<div class="field"><label for="f-protocol">Protocol</label>${selectOf('f-protocol', 'protocol', PROTOCOLS.map((p) => [p, p === '' ? 'any' : p] as const), f.protocol ?? '')}</div>
<div class="field"><label for="f-ip">IP address</label><input id="f-ip" name="ip" type="text" value="${f.ip ?? ''}"></div>
<div class="field"><label for="f-since">From (UTC)</label><input id="f-since" name="since" type="datetime-local" value="${f.since ?? ''}"></div>
<div class="field"><label for="f-until">Until (UTC)</label><input id="f-until" name="until" type="datetime-local" value="${f.until ?? ''}"></div>
<div class="buttons"><button type="submit">Filter</button> <a class="button secondary" href="/admin/audit">Clear</a></div>
</form>
<p class="exports">Download the events of these filters: <a href="/admin/audit/export.csv${queryString(params)}" download>CSV</a> · <a href="/admin/audit/export.json${queryString(params)}" download>JSON</a></p>
<div class="table-wrap"><table id="audit">
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">User</th><th scope="col">Event</th><th scope="col">Protocol</th><th scope="col">IP</th><th scope="col">Detail</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${pager('/admin/audit', params, o.result.prev, o.result.next)}`,
  );
}
