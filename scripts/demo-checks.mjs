// `node scripts/demo.mjs --check`: runs the command lines the demo prints (curl, swaks) and
// walks the portal's sign-in pages over HTTP, then reports one "check: ok|FAIL <name>" line each.
import { execFile } from 'node:child_process';
import { authenticator } from 'otplib';

const LINE_TIMEOUT_MS = 30_000;
/** Postfix queues, then delivers by LMTP: the read-back line is retried this long. */
const DELIVERY_WAIT_MS = 15_000;

/** A command line as a person would paste it: arguments quoted only where the shell needs it. */
export function shellLine(argv) {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs argv (no shell); never rejects. twostep runs in this process, so this must stay asynchronous. */
export function runLine(argv) {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: LINE_TIMEOUT_MS }, (err, stdout, stderr) => {
      const missing = err && /** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT' ? `${argv[0]} is not installed (apt-get install ${argv[0]})\n` : '';
      resolve({ ok: !err, out: `${missing}${stdout}${stderr}` });
    });
  });
}

/** runLine until pass() holds or the delivery wait is over. */
async function runUntil(argv, pass) {
  const deadline = Date.now() + DELIVERY_WAIT_MS;
  for (;;) {
    const r = await runLine(argv);
    if (pass(r) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 300));
  }
}

/** A browser reduced to what the portal's forms need: cookies, the CSRF field, no redirects followed. */
class Browser {
  cookies = new Map();

  constructor(base) {
    this.base = base;
  }

  async request(path, form) {
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ csrf: this.csrf ?? '', ...form }).toString();
    }
    const res = await fetch(new URL(path, this.base), { method: form ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), value);
    }
    const text = await res.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(text)?.[1];
    if (csrf) this.csrf = csrf;
    return { status: res.status, location: res.headers.get('location') ?? '', text };
  }
}

/**
 * The portal as the demo describes it: the sign-in page, the 2FA user's email + main password
 * then a one-time code, and the admin's name + password + current TOTP code, then the next one
 * (the first sign-in with a new key proves it).
 * @returns {Promise<[string, { ok: boolean, out: string }][]>}
 */
async function portalChecks(o) {
  const step = async (fn) => {
    try {
      return await fn();
    } catch (err) {
      return { ok: false, out: err instanceof Error ? err.message : String(err) };
    }
  };
  const user = new Browser(o.url);
  const userFlow = await step(async () => {
    const page = await user.request('/sign-in');
    if (page.status !== 200 || !page.text.includes('Email address')) return { ok: false, out: `GET /sign-in: ${page.status}` };
    const signIn = await user.request('/sign-in', { email: o.user.email, password: o.user.password });
    if (signIn.location !== '/sign-in/code') return { ok: false, out: `POST /sign-in: ${signIn.status} ${signIn.location}\n${signIn.text.slice(0, 400)}` };
    await user.request('/sign-in/code');
    const code = await user.request('/sign-in/code', { code: o.user.oneTimeCode });
    if (code.location !== '/preferences/accounts') return { ok: false, out: `POST /sign-in/code: ${code.status} ${code.location}` };
    const accounts = await user.request('/preferences/accounts');
    return { ok: accounts.status === 200 && accounts.text.includes(o.user.email), out: `GET /preferences/accounts: ${accounts.status}` };
  });
  const admin = new Browser(o.url);
  const adminFlow = await step(async () => {
    const page = await admin.request('/admin/sign-in');
    if (page.status !== 200) return { ok: false, out: `GET /admin/sign-in: ${page.status}` };
    const signIn = await admin.request('/admin/sign-in', { name: o.admin.name, password: o.admin.password, code: authenticator.generate(o.admin.key) });
    if (signIn.location !== '/admin/confirm') return { ok: false, out: `POST /admin/sign-in: ${signIn.status} ${signIn.location}\n${signIn.text.slice(0, 400)}` };
    // A new key: the next step's code proves it (accepted one step early).
    await admin.request('/admin/confirm');
    const next = await admin.request('/admin/confirm', { code: authenticator.clone({ epoch: Date.now() + 30_000 }).generate(o.admin.key) });
    if (next.location !== '/admin') return { ok: false, out: `POST /admin/confirm: ${next.status} ${next.location}\n${next.text.slice(0, 400)}` };
    const users = await admin.request(`/admin/users?q=${encodeURIComponent(o.user.email)}`);
    return { ok: users.status === 200 && users.text.includes(o.user.email), out: `GET /admin/users: ${users.status}` };
  });
  return [
    ['portal: sign-in page, email + password, one-time code', userFlow],
    ['admin console: name + password + code, then the next code proves the new key', adminFlow],
  ];
}

/**
 * Runs every printed line (concurrently where they do not depend on each other) and the portal
 * walk; prints the verdicts; resolves to the number of failures.
 * @param {{ lines: { name: string, argv: string[], pass: (r: { ok: boolean, out: string }) => boolean, after?: string, retry?: boolean }[],
 *   portal: { url: string, user: { email: string, password: string, oneTimeCode: string }, admin: { name: string, password: string, key: string } } }} o
 *   `after`: the name of a line that must have run first (the read-back after the send); `retry`: keep trying until it passes (delivery).
 */
export async function runChecks(o) {
  const done = new Map();
  const runOne = (line) => {
    if (!done.has(line.name)) {
      done.set(
        line.name,
        (async () => {
          if (line.after) await runOne(o.lines.find((l) => l.name === line.after));
          return line.retry ? runUntil(line.argv, line.pass) : runLine(line.argv);
        })(),
      );
    }
    return done.get(line.name);
  };
  const [lineResults, portalResults] = await Promise.all([
    Promise.all(o.lines.map(async (l) => [l.name, await runOne(l), l.pass])),
    portalChecks(o.portal),
  ]);
  let failed = 0;
  for (const [name, r, pass] of [...lineResults, ...portalResults.map(([n, r]) => [n, r, (x) => x.ok])]) {
    const ok = pass(r);
    if (!ok) failed++;
    console.log(`check: ${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `\n${r.out}`}`);
  }
  return failed;
}
