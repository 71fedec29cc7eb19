import type { AdvertisedService } from '../../config/client-settings.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, invalidIf, page } from './layout.js';

/** The protocols a code may be limited to, as the form and the tables name them. */
export const SCOPE_NAMES: Record<string, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' };

/** "IMAP, SMTP", or "All" for a code that may use every protocol. */
export const accessText = (scopes: readonly string[]): string =>
  scopes.length === Object.keys(SCOPE_NAMES).length ? 'All' : scopes.map((s) => SCOPE_NAMES[s] ?? s).join(', ');

/** The lifetimes offered, in days (0 = never), within the configured maximum; the default first selected. */
export interface ExpiryChoice {
  defaultDays: number;
  maxDays: number;
}

const LIFETIMES = [7, 30, 90, 180, 365];

function expirySelect(e: ExpiryChoice, chosen: string | undefined): SafeHtml {
  const days = [...new Set([...LIFETIMES.filter((d) => e.maxDays === 0 || d <= e.maxDays), ...(e.defaultDays > 0 ? [e.defaultDays] : [])])].sort((a, b) => a - b);
  const selected = chosen ?? (e.defaultDays === 0 ? 'never' : String(e.defaultDays));
  const option = (value: string, label: string) => html`<option value="${value}"${value === selected ? html` selected` : html``}>${label}</option>`;
  return html`<select id="app-expires" name="expires" aria-describedby="expires-note">
${e.maxDays === 0 ? option('never', 'Never') : html``}${days.map((d) => option(String(d), `After ${d} days`))}
</select>`;
}

export interface AddAppForm {
  name?: string;
  /** The boxes ticked last time (all by default). */
  scopes?: string[];
  expires?: string;
}

export function addAppPage(o: { csrf: string; user: string; expiry: ExpiryChoice; form?: AddAppForm; error?: string }): string {
  const ticked = o.form?.scopes ?? Object.keys(SCOPE_NAMES);
  return page(
    { title: 'Add Application Code', csrf: o.csrf, signedInAs: { name: o.user, area: 'user' }, error: o.error },
    html`<h1>Add Application Code</h1>
<p>If your application does not support two-step authentication, generate a passcode to authorize the application the first time you use it to sign in to your account.</p>
<form method="post" action="/apps">${csrfField(o.csrf)}
<label for="app-name">Application Name:</label>
<input id="app-name" name="name" type="text" maxlength="64" required autofocus value="${o.form?.name ?? ''}"${invalidIf(o.error)} placeholder="e.g. Outlook on my laptop">
<fieldset class="choices" aria-describedby="scopes-note"><legend>May be used for:</legend>
<input type="hidden" name="scopes_shown" value="1">
${Object.entries(SCOPE_NAMES).map(
  ([value, label]) =>
    html`<label class="check"><input type="checkbox" name="scope_${value}" value="1"${ticked.includes(value) ? html` checked` : html``}> ${label}</label>`,
)}
</fieldset>
<p id="scopes-note" class="detail">IMAP and POP3 read mail (IMAP also covers mail filters); SMTP sends it. A passcode used for anything else is refused.</p>
<label for="app-expires">Passcode expires:</label>
${expirySelect(o.expiry, o.form?.expires)}
<p id="expires-note" class="detail">You get an email a week before it expires.</p>
<div class="buttons"><button type="submit">Next</button> <a class="button secondary" href="/preferences/accounts">Cancel</a></div>
</form>`,
  );
}

const SECURITY: Record<AdvertisedService['security'], string> = { tls: 'SSL/TLS', starttls: 'STARTTLS' };

/** Server settings for an app set up by hand: what [clients] advertises, with the user's name. */
function serverSettings(services: readonly AdvertisedService[], login: string): SafeHtml {
  if (services.length === 0) return html``;
  return html`<h2 id="settings-title">Settings for setting up an application by hand</h2>
<dl class="settings" aria-labelledby="settings-title">
${services.map((s) => html`<dt>${SCOPE_NAMES[s.protocol] ?? s.protocol} server:</dt><dd>${s.host}, port ${s.port}, ${SECURITY[s.security]}</dd>`)}
<dt>User name:</dt><dd>${login}</dd>
<dt>Password:</dt><dd>the passcode above</dd>
</dl>`;
}

/** Shown once: the code is not stored in readable form and cannot be shown again; nor can the profile be downloaded again. */
export function passcodePage(o: {
  csrf: string;
  user: string;
  name: string;
  code: string;
  scopes: readonly string[];
  expiresAt: string | null;
  /** The Apple profile's one-time link, when one is offered. */
  profileUrl?: string;
  services: readonly AdvertisedService[];
}): string {
  const grouped = o.code.replace(/(.{4})(?=.)/g, '$1 ');
  const limits = `${o.scopes.length === 3 ? 'It signs in over IMAP, POP3 and SMTP' : `It signs in over ${o.scopes.map((s) => SCOPE_NAMES[s] ?? s).join(' and ')} only`}, and ${o.expiresAt === null ? 'does not expire' : `expires on ${o.expiresAt.slice(0, 10)}`}.`;
  return page(
    { title: 'Application Passcode', csrf: o.csrf, signedInAs: { name: o.user, area: 'user' } },
    html`<h1>Add Application Code</h1>
<p>Enter this passcode when using the application for the first time to sign in to your account. This passcode gives your application permission to access your account.</p>
<p>Application: <strong>${o.name}</strong></p>
<p>Application Passcode: <strong class="code" id="passcode" data-code="${o.code}">${grouped}</strong>
<button type="button" data-copy="${o.code}" aria-describedby="copied" hidden>Copy</button> <span id="copied" role="status"></span></p>
<p>${limits} Spaces don't matter. This passcode is shown only now; if you lose it, revoke it and add a new one.</p>
${
  o.profileUrl
    ? html`<p><a class="button" id="apple-profile" href="${o.profileUrl}" download>Set up iPhone / iPad / Mac</a></p>
<p class="detail">Downloads a profile that sets up Mail with this passcode: open it on the device (Settings → Profile Downloaded). It can be downloaded once, within 10 minutes.</p>`
    : html``
}
${serverSettings(o.services, o.user)}
<div class="buttons"><a class="button" href="/preferences/accounts" autofocus>Done</a></div>`,
  );
}

/** The profile link was used already, or expired, or belongs to another session. */
export function profileGonePage(o: { csrf: string; user: string }): string {
  return page(
    { title: 'Profile no longer available', csrf: o.csrf, signedInAs: { name: o.user, area: 'user' } },
    html`<h1>This profile is no longer available</h1>
<p>A profile can be downloaded once, within 10 minutes, from the page that showed its passcode. To set up a device now, revoke that application code and add a new one.</p>
<p><a class="button" href="/preferences/accounts">Back to Accounts</a></p>`,
  );
}
