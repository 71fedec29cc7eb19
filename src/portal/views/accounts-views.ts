import type { AccountOverview, AppCodeInfo } from '../../policy/index.js';
import { html, type SafeHtml } from './html.js';
import { accessText } from './apps-views.js';
import { csrfField, page } from './layout.js';

/** "2026-11-28" from an ISO time (UTC). */
export const day = (iso: string): string => iso.slice(0, 10);
/** "2026-11-28 07:30 UTC" from an ISO time. */
export const minute = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

const PROTOCOL_NAMES: Record<string, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP', portal: 'web portal' };

function lastUsed(a: AppCodeInfo): SafeHtml {
  if (a.lastUsedAt === null) return html`-`;
  const via = [a.lastUsedProtocol ? (PROTOCOL_NAMES[a.lastUsedProtocol] ?? a.lastUsedProtocol) : null, a.lastUsedClient].filter(Boolean).join(', ');
  const detail = `from ${a.lastUsedIp ?? 'unknown address'}${via ? ` via ${via}` : ''}`;
  return html`<time datetime="${a.lastUsedAt}" title="${detail}">${minute(a.lastUsedAt)}</time><span class="detail">${detail}</span>`;
}

function expires(a: AppCodeInfo): SafeHtml {
  if (a.expiresAt === null) return html`Never`;
  return html`<time datetime="${a.expiresAt}">${day(a.expiresAt)}</time>${a.expired ? html`<span class="detail">expired: no longer signs in</span>` : html``}`;
}

function applications(o: AccountOverview, csrf: string): SafeHtml {
  const rows =
    o.appCodes.length === 0
      ? html`<tr><td colspan="6">No results found.</td></tr>`
      : o.appCodes.map(
          (a) => html`<tr><td data-label="Name">${a.name}</td><td data-label="Created"><time datetime="${a.createdAt}">${day(a.createdAt)}</time></td><td data-label="Last Used">${lastUsed(a)}</td>
<td data-label="Access">${accessText(a.scopes)}</td><td data-label="Expires">${expires(a)}</td>
<td><form method="post" action="/apps/revoke">${csrfField(csrf)}<input type="hidden" name="name" value="${a.name}">
<button type="submit" class="secondary" aria-label="Revoke ${a.name}">Revoke</button></form></td></tr>`,
        );
  return html`<h2 id="apps-title">Applications</h2>
<p>Create passcodes for applications that don't support two-step authentication</p>
<div class="table-wrap"><table class="stack" aria-labelledby="apps-title">
<thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last Used</th><th scope="col">Access</th><th scope="col">Expires</th><th scope="col"><span class="skip">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p><a class="button" href="/apps/new">Add Application Code</a></p>`;
}

export function accountsPage(o: { csrf: string; user: string; overview: AccountOverview; notice?: string; error?: string }): string {
  const v = o.overview;
  const on = v.twofaState === 'on';
  let security: SafeHtml;
  if (on) {
    const devices = `You have ${v.trustedDevices} trusted device${v.trustedDevices === 1 ? '' : 's'}`;
    security = html`<dl class="settings">
<dt>Account Security:</dt><dd>Using two-step authentication ${v.mayDisable ? html`<a href="/disable">Disable two-step authentication ...</a>` : html`<span class="detail">(required by your administrator)</span>`}</dd>
<dt>One-time Codes:</dt><dd>${v.oneTimeCodesUnused} unused code${v.oneTimeCodesUnused === 1 ? '' : 's'} <a href="/codes">View</a></dd>
<dt>Trusted Devices:</dt><dd><span id="devices">${devices}</span> <a href="/devices/revoke-this">revoke this device</a> <a href="/devices/revoke-others">revoke all other devices</a></dd>
</dl>
${applications(v, o.csrf)}`;
  } else if (v.maySetUp) {
    security = html`<dl class="settings"><dt>Account Security:</dt><dd>Not using two-step authentication</dd></dl>
${v.adminPolicy === 'required' ? html`<p class="notice">Your administrator requires two-step authentication for this account.</p>` : html``}
<p><a class="button" href="/setup">Setup two-step authentication</a></p>`;
  } else {
    security = html`<dl class="settings"><dt>Account Security:</dt><dd>Not using two-step authentication</dd></dl>
<p>Two-step authentication is not available for this account. Ask your administrator.</p>`;
  }
  return page(
    { title: 'Accounts', csrf: o.csrf, signedInAs: { name: o.user, area: 'user' }, notice: o.notice, error: o.error },
    html`<h1>Preferences</h1><h2>Accounts</h2><p>Email address: <strong>${v.username}</strong></p>${security}`,
  );
}
