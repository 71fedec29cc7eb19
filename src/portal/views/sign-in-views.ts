import { html } from './html.js';
import { csrfField, invalidIf, page } from './layout.js';

export function signInPage(o: { csrf: string; email?: string; error?: string; notice?: string }): string {
  return page(
    { title: 'Sign in', csrf: o.csrf, error: o.error, notice: o.notice },
    html`<h1>Sign in</h1>
<form method="post" action="/sign-in">${csrfField(o.csrf)}
<label for="email">Email address</label>
<input id="email" name="email" type="text" inputmode="email" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${o.email ?? ''}"${invalidIf(o.error)} ${o.email ? '' : html`autofocus`}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalidIf(o.error)} ${o.email ? html`autofocus` : ''}>
<div class="buttons"><button type="submit">Sign in</button></div>
</form>`,
  );
}

export function codePage(o: { csrf: string; user: string; error?: string }): string {
  return page(
    { title: 'Two-step authentication', csrf: o.csrf, error: o.error },
    html`<h1>Two-step authentication</h1>
<p>Enter the 6-digit code from the authenticator app on your phone for <strong>${o.user}</strong>.
If you don't have your phone, enter one of your one-time codes.</p>
<form method="post" action="/sign-in/code">${csrfField(o.csrf)}
<label for="code">Code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus maxlength="32"${invalidIf(o.error)}>
<label class="check"><input type="checkbox" name="trust" value="1"> Trust this computer</label>
<div class="buttons"><button type="submit">Verify</button></div>
</form>
<form method="post" action="/sign-out">${csrfField(o.csrf)}<button type="submit" class="link">Cancel and sign out</button></form>`,
  );
}
