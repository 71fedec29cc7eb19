import type { AuditEntry, AuditFilter, UserSummary } from '../../policy/index.js';
import { html } from './html.js';
import { csrfField, invalidIf, page } from './layout.js';

export function adminSignInPage(o: { csrf: string; name?: string; error?: string; notice?: string }): string {
  return page(
    { title: 'Admin console sign in', csrf: o.csrf, error: o.error, notice: o.notice },
    html`<h1>Admin console</h1>
<form method="post" action="/admin/sign-in">${csrfField(o.csrf)}
<label for="name">Admin name</label>
<input id="name" name="name" type="text" autocomplete="username" required autofocus value="${o.name ?? ''}"${invalidIf(o.error)}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalidIf(o.error)}>
<label for="code">6-digit code from your authenticator app</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="7" required${invalidIf(o.error)}>
<div class="buttons"><button type="submit">Sign in</button></div>
</form>`,
  );
}

/** An audit event's detail as "key=value" pairs (the store keeps no secret in it). */
const detailText = (d: Record<string, unknown>): string =>
  Object.entries(d)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

const POLICY_LABELS = { allowed: 'Allowed', required: 'Required', disallowed: 'Not allowed' } as const;
const STATE_LABELS = { off: 'Off', pending: 'Setting up', on: 'On' } as const;

function policySelect(id: string, selected?: string) {
  return html`<select id="${id}" name="policy">${(['allowed', 'required', 'disallowed'] as const).map(
    (p) => html`<option value="${p}"${p === selected ? html` selected` : html``}>${POLICY_LABELS[p]}</option>`,
  )}</select>`;
}

export function adminUsersPage(o: { csrf: string; admin: string; users: UserSummary[]; notice?: string; error?: string }): string {
  const rows =
    o.users.length === 0
      ? html`<tr><td colspan="6">No users yet. Allow a user below.</td></tr>`
      : o.users.map(
          (u, i) => html`<tr>
<th scope="row">${u.username}</th><td>${STATE_LABELS[u.twofaState]}</td><td>${u.appCodes}</td><td>${u.trustedDevices}</td>
<td><form method="post" action="/admin/users/policy">${csrfField(o.csrf)}<input type="hidden" name="user" value="${u.username}">
<label class="skip" for="policy-${i}">Two-step authentication for ${u.username}</label>${policySelect(`policy-${i}`, u.adminPolicy)}
<button type="submit" class="secondary" aria-label="Save for ${u.username}">Save</button></form></td>
<td><a href="/admin/reset?user=${encodeURIComponent(u.username)}">Reset two-step ...</a></td></tr>`,
        );
  return page(
    { title: 'Users', csrf: o.csrf, signedInAs: { name: o.admin, area: 'admin' }, notice: o.notice, error: o.error, wide: true },
    html`<h1>Users</h1>
<div class="table-wrap"><table>
<thead><tr><th scope="col">User</th><th scope="col">Two-step</th><th scope="col">App codes</th><th scope="col">Trusted devices</th><th scope="col">Admin setting</th><th scope="col">Lost phone</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<h2>Enable two-step authentication for a user</h2>
<form method="post" action="/admin/users/policy">${csrfField(o.csrf)}
<label for="new-user">Email address</label><input id="new-user" name="user" type="text" required>
<label for="new-policy">Two-step authentication</label>${policySelect('new-policy', 'allowed')}
<div class="buttons"><button type="submit">Save</button></div>
</form>`,
  );
}

export function adminAuditPage(o: { csrf: string; admin: string; filter: AuditFilter; entries: AuditEntry[] }): string {
  const f = o.filter;
  const rows =
    o.entries.length === 0
      ? html`<tr><td colspan="6">No events.</td></tr>`
      : o.entries.map(
          (e) => html`<tr><td><time datetime="${e.at}">${e.at.slice(0, 19).replace('T', ' ')}</time></td><td>${e.user ?? ''}</td><td>${e.event}</td><td>${e.protocol ?? ''}</td><td>${e.ip ?? ''}</td><td class="detail-cell">${detailText(e.detail)}</td></tr>`,
        );
  return page(
    { title: 'Audit log', csrf: o.csrf, signedInAs: { name: o.admin, area: 'admin' }, wide: true },
    html`<h1>Audit log</h1>
<form method="get" action="/admin/audit" class="filters">
<label for="f-user">User</label><input id="f-user" name="user" type="text" value="${f.user ?? ''}">
<label for="f-event">Event (or its start, e.g. "login")</label><input id="f-event" name="event" type="text" value="${f.event ?? ''}">
<label for="f-protocol">Protocol</label><select id="f-protocol" name="protocol">${['', 'imap', 'pop3', 'smtp', 'portal'].map(
      (p) => html`<option value="${p}"${p === (f.protocol ?? '') ? html` selected` : html``}>${p === '' ? 'any' : p}</option>`,
    )}</select>
<div class="buttons"><button type="submit">Filter</button></div>
</form>
<div class="table-wrap"><table id="audit">
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">User</th><th scope="col">Event</th><th scope="col">Protocol</th><th scope="col">IP</th><th scope="col">Detail</th></tr></thead>
<tbody>${rows}</tbody></table></div>`,
  );
}
