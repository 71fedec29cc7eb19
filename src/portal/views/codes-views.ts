import { html } from './html.js';
import { csrfField, page } from './layout.js';

export function codesPage(o: { csrf: string; user: string; unused: string[]; usedCount: number; notice?: string }): string {
  return page(
    { title: 'One-time Codes', csrf: o.csrf, signedInAs: { name: o.user, area: 'user' }, notice: o.notice },
    html`<h1>One-time Codes</h1>
<p>Use one of these codes to sign in when your phone can't give you a code. Each code works once.
${o.usedCount > 0 ? `${o.usedCount} used.` : ''}</p>
${o.unused.length === 0 ? html`<p>No unused codes left. Generate new codes.</p>` : html`<ol class="codes" id="one-time-codes">${o.unused.map((c) => html`<li>${c}</li>`)}</ol>`}
<div class="buttons">
<a class="button" href="/codes/print">Print</a>
<form method="post" action="/codes/regenerate" class="inline">${csrfField(o.csrf)}
<button type="submit" class="secondary" aria-describedby="regen-note">Generate new codes</button></form>
<a class="button secondary" href="/preferences/accounts">Back to Accounts</a>
</div>
<p id="regen-note" class="detail">Generating new codes makes every old code stop working.</p>`,
  );
}

export function codesPrintPage(o: { csrf: string; user: string; unused: string[] }): string {
  return page(
    { title: 'One-time codes (print)', csrf: o.csrf, bare: true },
    html`<h1>One-time codes for ${o.user}</h1>
<p>Each code signs in once, in place of the 6-digit code from your phone. Keep this page somewhere safe.</p>
<ol class="codes" id="one-time-codes">${o.unused.map((c) => html`<li>${c}</li>`)}</ol>
<div class="buttons"><button type="button" data-print hidden>Print</button> <a class="button secondary" href="/codes">Back</a></div>`,
  );
}
