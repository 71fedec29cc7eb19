import { html, type SafeHtml } from './html.js';

export interface PageOptions {
  title: string;
  /** The CSRF token forms on this page carry (also used by the sign-out buttons). */
  csrf: string;
  /** Shown in the header with the sign-out buttons when signed in. */
  signedInAs?: { name: string; area: 'user' | 'admin' };
  notice?: string;
  error?: string;
  /** The print page leaves the header out. */
  bare?: boolean;
  /** Wide tables (admin console). */
  wide?: boolean;
}

export const csrfField = (token: string): SafeHtml => html`<input type="hidden" name="csrf" value="${token}">`;

/** With an error on the page: marks a field invalid and ties it to the message (id page-error), read out with the field. */
export const invalidIf = (error: string | undefined): SafeHtml => (error ? html` aria-invalid="true" aria-describedby="page-error"` : html``);

function header(o: PageOptions): SafeHtml {
  if (o.bare) return html``;
  const who = o.signedInAs;
  const base = who?.area === 'admin' ? '/admin' : '';
  const nav =
    who === undefined
      ? html``
      : who.area === 'admin'
        ? html`<nav aria-label="Admin console"><a href="/admin">Overview</a> <a href="/admin/users">Users</a> <a href="/admin/domains">Domains</a> <a href="/admin/audit">Audit log</a></nav>`
        : html`<nav aria-label="Preferences"><a href="/preferences/accounts">Preferences → Accounts</a></nav>`;
  const out =
    who === undefined
      ? html``
      : html`<div class="who"><span>Signed in as <strong>${who.name}</strong></span>
<form method="post" action="${base}/sign-out">${csrfField(o.csrf)}<button type="submit" class="link">Sign out</button></form>
<form method="post" action="${base}/sign-out-all">${csrfField(o.csrf)}<button type="submit" class="link">Sign out everywhere</button></form></div>`;
  return html`<header><a class="brand" href="${who?.area === 'admin' ? '/admin' : '/'}">twostep${who?.area === 'admin' ? ' admin console' : ''}</a>${nav}${out}</header>`;
}

/** One page: the layout, a skip link, and an error or notice announced to screen readers. */
export function page(o: PageOptions, body: SafeHtml): string {
  const msg = o.error
    ? html`<p class="error" role="alert" id="page-error">${o.error}</p>`
    : o.notice
      ? html`<p class="notice" role="status">${o.notice}</p>`
      : html``;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} – twostep</title>
<link rel="stylesheet" href="/static/portal.css">
<script src="/static/portal.js" defer></script>
</head>
<body${o.bare ? html` class="print"` : html``}>
<a class="skip" href="#main">Skip to content</a>
${header(o)}
<main id="main" tabindex="-1"${o.wide ? html` class="wide"` : html``}>
${msg}
${body}
</main>
</body>
</html>
`.value;
}

/** A warning dialog as a page (works without script): the question, the action button, and Cancel. */
export function warningPage(o: PageOptions & { heading: string; text: string; action: string; button: string; cancel: string; fields?: SafeHtml }): string {
  return page(
    o,
    html`<section role="alertdialog" aria-labelledby="dlg-title" aria-describedby="dlg-text" class="dialog">
<h1 id="dlg-title">${o.heading}</h1>
<p id="dlg-text">${o.text}</p>
<form method="post" action="${o.action}">${csrfField(o.csrf)}${o.fields ?? html``}
<div class="buttons"><button type="submit" class="danger" autofocus>${o.button}</button> <a class="button secondary" href="${o.cancel}">Cancel</a></div>
</form>
</section>`,
  );
}
