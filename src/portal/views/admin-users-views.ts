import type { DomainInfo, UserPage, UserQuery } from '../../policy/index.js';
import { ROLLOUT_STATES } from '../../policy/index.js';
import { FOLLOW_DOMAIN, POLICY_LABELS, SOURCE_LABELS, STATE_LABELS, TWOFA_LABELS, domainPolicySelect, pager, policySelect, selectOf } from './admin-labels.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, page } from './layout.js';

/** The list's filters as hidden fields: a form on the page sends them back, to land on the same page after it. */
function keepPlace(q: UserQuery): SafeHtml {
  const fields = { q: q.q, state: q.state, domain: q.domain, after: q.after, before: q.before };
  return html`${Object.entries(fields).map(([k, v]) => (v ? html`<input type="hidden" name="back_${k}" value="${v}">` : html``))}`;
}

function filters(q: UserQuery): SafeHtml {
  return html`<form method="get" action="/admin/users" class="filters" role="search">
<div class="field"><label for="f-q">Find a user (any part of the address)</label><input id="f-q" name="q" type="search" value="${q.q ?? ''}"></div>
<div class="field"><label for="f-state">State</label>${selectOf('f-state', 'state', [['', 'any'], ...ROLLOUT_STATES.map((s) => [s, STATE_LABELS[s]] as const)], q.state ?? '')}</div>
<div class="field"><label for="f-domain">Domain</label><input id="f-domain" name="domain" type="text" value="${q.domain ?? ''}"></div>
<div class="buttons"><button type="submit">Search</button> <a class="button secondary" href="/admin/users">Clear</a></div>
</form>`;
}

export function adminUsersPage(o: { csrf: string; admin: string; query: UserQuery; result: UserPage; notice?: string; error?: string }): string {
  const q = o.query;
  const rows =
    o.result.users.length === 0
      ? html`<tr><td colspan="7">No users match. Allow a user below, or set a domain's policy.</td></tr>`
      : o.result.users.map(
          (u, i) => html`<tr>
<th scope="row">${u.username}</th><td>${TWOFA_LABELS[u.twofaState]}</td><td>${u.appCodes}</td><td>${u.trustedDevices}</td>
<td>${POLICY_LABELS[u.adminPolicy]} <span class="detail">(${SOURCE_LABELS[u.source]})</span></td>
<td><form method="post" action="/admin/users/policy">${csrfField(o.csrf)}<input type="hidden" name="user" value="${u.username}">${keepPlace(q)}
<label class="skip" for="policy-${i}">Two-step authentication for ${u.username}</label>${policySelect(`policy-${i}`, u.source === 'user' ? u.adminPolicy : FOLLOW_DOMAIN, true)}
<button type="submit" class="secondary" aria-label="Save for ${u.username}">Save</button></form></td>
<td><a href="/admin/reset?user=${encodeURIComponent(u.username)}">Reset two-step ...</a></td></tr>`,
        );
  const params = { q: q.q, state: q.state, domain: q.domain };
  return page(
    { title: 'Users', csrf: o.csrf, signedInAs: { name: o.admin, area: 'admin' }, notice: o.notice, error: o.error, wide: true },
    html`<h1>Users</h1>
${filters(q)}
<div class="table-wrap"><table id="users">
<thead><tr><th scope="col">User</th><th scope="col">Two-step</th><th scope="col">App codes</th><th scope="col">Trusted devices</th><th scope="col">Policy</th><th scope="col">Admin setting</th><th scope="col">Lost phone</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${pager('/admin/users', params, o.result.prev, o.result.next)}
<h2>Enable two-step authentication for a user</h2>
<form method="post" action="/admin/users/policy">${csrfField(o.csrf)}${keepPlace(q)}
<label for="new-user">Email address</label><input id="new-user" name="user" type="text" required>
<label for="new-policy">Two-step authentication</label>${policySelect('new-policy', 'allowed', false)}
<div class="buttons"><button type="submit">Save</button></div>
</form>`,
  );
}

export function adminDomainsPage(o: { csrf: string; admin: string; domains: DomainInfo[]; notice?: string; error?: string }): string {
  const rows =
    o.domains.length === 0
      ? html`<tr><td colspan="4">No domain has a policy: users follow only their own settings (two-step authentication is not offered otherwise).</td></tr>`
      : o.domains.map(
          (d, i) => html`<tr><th scope="row">${d.domain}</th><td>${POLICY_LABELS[d.policy]}</td><td><time datetime="${d.updatedAt}">${d.updatedAt.slice(0, 16).replace('T', ' ')}</time></td>
<td><form method="post" action="/admin/domains/policy">${csrfField(o.csrf)}<input type="hidden" name="domain" value="${d.domain}">
<label class="skip" for="dpolicy-${i}">Policy of ${d.domain}</label>${domainPolicySelect(`dpolicy-${i}`, d.policy)}
<button type="submit" class="secondary" aria-label="Save for ${d.domain}">Save</button></form>
<a href="/admin/users?domain=${encodeURIComponent(d.domain)}">Users</a></td></tr>`,
        );
  return page(
    { title: 'Domains', csrf: o.csrf, signedInAs: { name: o.admin, area: 'admin' }, notice: o.notice, error: o.error, wide: true },
    html`<h1>Domains</h1>
<p>A domain's policy applies to every user of the domain who has no setting of their own, also to users twostep has not seen yet. Requiring two-step authentication never locks anyone out of mail: until a user sets it up, the main password keeps working.</p>
<div class="table-wrap"><table id="domains">
<thead><tr><th scope="col">Domain</th><th scope="col">Policy</th><th scope="col">Changed (UTC)</th><th scope="col">Change</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<h2>Set a domain's policy</h2>
<form method="post" action="/admin/domains/policy">${csrfField(o.csrf)}
<label for="new-domain">Domain</label><input id="new-domain" name="domain" type="text" required placeholder="example.com">
<label for="new-domain-policy">Two-step authentication for its users</label>${domainPolicySelect('new-domain-policy', 'allowed')}
<div class="buttons"><button type="submit">Save</button></div>
</form>`,
  );
}
