import { execFile } from 'node:child_process';
import { CookieJar, send, type HttpResponse } from './http-client.js';
import { runCli } from './twostep-process.js';

/**
 * A browser for a real `twostep serve` portal over HTTP (cookies, the CSRF token of the last
 * page), enough to sign in with the password and a TOTP code and use the pages.
 */
export class PortalHttp {
  readonly jar = new CookieJar();
  #csrf = '';

  constructor(readonly url: string) {}

  async get(path: string): Promise<HttpResponse> {
    return this.#take(await send(this.url + path, { headers: { cookie: this.jar.header() } }));
  }

  async post(path: string, fields: Record<string, string>): Promise<HttpResponse> {
    const body = new URLSearchParams({ csrf: this.#csrf, ...fields }).toString();
    return this.#take(await send(this.url + path, { method: 'POST', body, headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded' } }));
  }

  /** The raw bytes of a GET (a download), with this browser's cookies. */
  async download(path: string): Promise<{ status: number; type: string | null; disposition: string | null; bytes: Buffer }> {
    const res = await fetch(this.url + path, { headers: { cookie: this.jar.header() }, redirect: 'manual' });
    return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), bytes: Buffer.from(await res.arrayBuffer()) };
  }

  /** Password, then a code (a TOTP code of the phone, or a one-time code); ends signed in. */
  async signIn(user: string, password: string, nextCode: () => Promise<string>): Promise<void> {
    if ((await this.get('/sign-in')).status === 303) {
      // Signed in already: sign out first (from a page, with its form's token), as a person would.
      await this.get('/preferences/accounts');
      await this.post('/sign-out', {});
      await this.get('/sign-in');
    }
    const first = await this.post('/sign-in', { email: user, password });
    if (first.location !== '/sign-in/code') throw new Error(`sign-in: ${first.status} ${first.location ?? first.body.slice(0, 300)}`);
    await this.get('/sign-in/code');
    const second = await this.post('/sign-in/code', { code: await nextCode() });
    if (second.status !== 303 || !second.location?.startsWith('/preferences/accounts')) throw new Error(`code: ${second.status} ${second.body.slice(0, 300)}`);
  }

  #take(res: HttpResponse): HttpResponse {
    this.jar.take(res);
    const t = /name="csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (t) this.#csrf = t;
    return res;
  }
}

/** The passcode and the profile link of an "Add Application Code" result page. */
export function resultPage(body: string): { code: string; profileUrl: string | undefined } {
  const code = /id="passcode" data-code="([A-Z]{16})"/.exec(body)?.[1];
  if (!code) throw new Error(`no passcode on the page: ${body.slice(0, 500)}`);
  return { code, profileUrl: /id="apple-profile" href="([^"]+)"/.exec(body)?.[1] };
}

/** Runs python3 with `script`, `input` on stdin; resolves stdout (the tests parse plists and XML with python's own libraries). */
export function python(script: string, input: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', script], { timeout: 20_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** openssl with `input` on stdin: stdout as bytes, or the error with stderr. */
export function openssl(args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { timeout: 20_000, encoding: 'buffer', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]}: ${stderr.toString()}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** The user's unused one-time codes (the CLI), handed out one per call: a sign-in each without waiting for TOTP steps. */
export async function oneTimeCodes(configPath: string, user: string): Promise<() => Promise<string>> {
  const r = await runCli(['--config', configPath, 'codes', 'show', user, '--json']);
  const codes = (JSON.parse(r.stdout) as { unused: string[] }).unused;
  return async () => {
    const c = codes.shift();
    if (!c) throw new Error('no one-time code left');
    return c;
  };
}
