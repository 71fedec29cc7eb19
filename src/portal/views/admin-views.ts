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

/**
 * A new authenticator key (admin add, admin reset-totp): the sign-in used one code of it; one more
 * code, of a later step, proves the app keeps producing them. Nothing else works until then.
 */
export function adminConfirmPage(o: { csrf: string; admin: string; error?: string }): string {
  return page(
    { title: 'Confirm your authenticator', csrf: o.csrf, error: o.error },
    html`<h1>Confirm your authenticator app</h1>
<p>Signed in as <strong>${o.admin}</strong> for the first time with this authenticator key. Wait until your app shows the <strong>next</strong> code (a new one appears every 30 seconds), then enter it. The console opens once the code is confirmed.</p>
<form method="post" action="/admin/confirm">${csrfField(o.csrf)}
<label for="code">Next 6-digit code from your authenticator app</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="7" required autofocus${invalidIf(o.error)}>
<div class="buttons"><button type="submit">Confirm</button></div>
</form>
<form method="post" action="/admin/sign-out">${csrfField(o.csrf)}<button type="submit" class="link">Sign out</button></form>`,
  );
}
