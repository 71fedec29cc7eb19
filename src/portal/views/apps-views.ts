import { html } from './html.js';
import { csrfField, invalidIf, page } from './layout.js';

export function addAppPage(o: { csrf: string; user: string; name?: string; error?: string }): string {
  return page(
    { title: 'Add Application Code', csrf: o.csrf, signedInAs: { name: o.user, area: 'user' }, error: o.error },
    html`<h1>Add Application Code</h1>
<p>If your application does not support two-step authentication, generate a passcode to authorize the application the first time you use it to sign in to your account.</p>
<form method="post" action="/apps">${csrfField(o.csrf)}
<label for="app-name">Application Name:</label>
<input id="app-name" name="name" type="text" maxlength="64" required autofocus value="${o.name ?? ''}"${invalidIf(o.error)} placeholder="e.g. Outlook on my laptop">
<div class="buttons"><button type="submit">Next</button> <a class="button secondary" href="/preferences/accounts">Cancel</a></div>
</form>`,
  );
}

/** Shown once: the code is not stored in readable form and cannot be shown again. */
export function passcodePage(o: { csrf: string; user: string; name: string; code: string }): string {
  const grouped = o.code.replace(/(.{4})(?=.)/g, '$1 ');
  return page(
    { title: 'Application Passcode', csrf: o.csrf, signedInAs: { name: o.user, area: 'user' } },
    html`<h1>Add Application Code</h1>
<p>Enter this passcode when using the application for the first time to sign in to your account. This passcode gives your application permission to access your account.</p>
<p>Application: <strong>${o.name}</strong></p>
<p>Application Passcode: <strong class="code" id="passcode" data-code="${o.code}">${grouped}</strong>
<button type="button" data-copy="${o.code}" aria-describedby="copied" hidden>Copy</button> <span id="copied" role="status"></span></p>
<p>Spaces don't matter. This passcode is shown only now; if you lose it, revoke it and add a new one.</p>
<div class="buttons"><a class="button" href="/preferences/accounts" autofocus>Done</a></div>`,
  );
}
