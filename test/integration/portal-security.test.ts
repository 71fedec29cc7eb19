import { afterEach, describe, expect, it } from 'vitest';
import { secondFactorLimits } from '../../src/core/limits.js';
import { Secret } from '../../src/core/secret.js';
import { totpCode } from '../../src/crypto/index.js';
import { send } from '../helpers/http-client.js';
import { browserFor, csrfOf, enrol, startPortalHarness, stopPortals, wrongCode } from '../helpers/portal-harness.js';
import { testOnlyRawDatabase } from '../../src/store/sqlite/index.js';

/**
 * The portal's web security, over real HTTP(S) to an in-process portal with a real policy and
 * store; the mail server's password check is faked (the browser suites use real Dovecot).
 */

afterEach(stopPortals);

describe('portal web security', () => {
  it('sends the security headers, no inline script or style, and no-store pages', async () => {
    const h = await startPortalHarness();
    const res = await send(`${h.url}/sign-in`);
    expect(res.status).toBe(200);
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    const js = await send(`${h.url}/static/portal.js`);
    expect(js.headers['content-type']).toContain('text/javascript');
  });

  it('sets HttpOnly, SameSite=Strict cookies; Secure with __Host- names and HSTS over HTTPS', async () => {
    const plain = await startPortalHarness();
    const b = browserFor(plain);
    const first = await b.get('/sign-in');
    expect(first.cookies.join('\n')).toMatch(/^twostep_pre=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/m);
    const signed = await b.signIn('alice');
    const session = signed.cookies.find((c) => c.startsWith('twostep_session='));
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).not.toMatch(/Secure/);

    const tls = await startPortalHarness({ tls: true });
    const t = browserFor(tls);
    const page = await t.get('/sign-in');
    expect(page.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(page.cookies[0]).toMatch(/^__Host-twostep_pre=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const s = await t.signIn('alice');
    expect(s.status).toBe(303);
    expect(s.cookies.find((c) => c.startsWith('__Host-twostep_session='))).toMatch(/Secure/);
    expect((await t.get('/preferences/accounts')).status).toBe(200);
  });

  it('refuses every form without the right CSRF token, non-form bodies and oversized bodies', async () => {
    const h = await startPortalHarness();
    const b = browserFor(h);
    await b.get('/sign-in');
    expect((await b.post('/sign-in', { email: 'alice', password: 'alice-pw' }, null)).status).toBe(403);
    expect((await b.post('/sign-in', { email: 'alice', password: 'alice-pw' }, 'forged')).status).toBe(403);
    // Another browser's valid token does not work with this browser's cookie.
    const other = browserFor(h);
    const otherToken = csrfOf((await other.get('/sign-in')).body);
    expect((await b.post('/sign-in', { email: 'alice', password: 'alice-pw' }, otherToken)).status).toBe(403);
    expect(h.checks).toBe(0);

    expect((await b.signIn('alice')).status).toBe(303);
    const accounts = await b.get('/preferences/accounts');
    // Signed in, the token is the session's own: the pre-session one no longer works.
    expect((await b.post('/sign-out-all', {}, otherToken)).status).toBe(403);
    expect(csrfOf(accounts.body)).not.toBe(otherToken);
    const json = await send(`${h.url}/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: b.jar.header() }, body: '{}' });
    expect(json.status).toBe(415);
    const big = await b.post('/sign-in', { email: 'alice', password: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect((await send(`${h.url}/sign-in`, { method: 'PUT' })).status).toBe(405);
  });

  it('rotates the session id at each sign-in step; the old one is dead', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    await b.get('/sign-in');
    await b.post('/sign-in', { email: 'bob', password: 'bob-pw' });
    const halfway = b.jar.values.get('twostep_session') as string;
    expect(halfway).toBeTruthy();
    // Password alone is not signed in.
    expect((await b.get('/preferences/accounts')).location).toBe('/sign-in');
    await b.get('/sign-in/code');
    h.clock.now += 30_000;
    const ok = await b.post('/sign-in/code', { code: totpCode(key, h.clock.now) });
    expect(ok.location).toBe('/preferences/accounts');
    const full = b.jar.values.get('twostep_session') as string;
    expect(full).not.toBe(halfway);
    const stale = await send(`${h.url}/preferences/accounts`, { headers: { cookie: `twostep_session=${halfway}` } });
    expect(stale.location).toBe('/sign-in');
    expect((await b.get('/preferences/accounts')).status).toBe(200);
    // Only hashes are stored.
    const rows = testOnlyRawDatabase(h.store).prepare<[], { token_hash: string }>('SELECT token_hash FROM web_sessions').all();
    expect(rows.map((r) => r.token_hash)).not.toContain(full);
  });

  it('signs out everywhere, and ends idle sessions', async () => {
    const h = await startPortalHarness();
    const one = browserFor(h);
    const two = browserFor(h);
    await one.signIn('alice');
    await two.signIn('alice');
    await one.get('/preferences/accounts');
    expect((await one.post('/sign-out-all', {})).location).toBe('/sign-in?done=signed-out-all');
    expect((await two.get('/preferences/accounts')).location).toBe('/sign-in');

    await one.signIn('alice');
    expect((await one.get('/preferences/accounts')).status).toBe(200);
    h.clock.now += 31 * 60_000; // [portal] session_idle_minutes = 30
    expect((await one.get('/preferences/accounts')).location).toBe('/sign-in');
  });

  it('trusts a computer for trusted_device_days, then asks for the code again', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    await b.signIn('bob');
    await b.get('/sign-in/code');
    h.clock.now += 30_000;
    await b.post('/sign-in/code', { code: totpCode(key, h.clock.now), trust: '1' });
    const device = [...b.jar.values.keys()].find((k) => k === 'twostep_device');
    expect(device).toBe('twostep_device');
    await b.get('/preferences/accounts'); // a page of the new session, whose token the next form carries
    await b.post('/sign-out', {});
    expect((await b.signIn('bob')).location).toBe('/preferences/accounts');
    await b.get('/preferences/accounts');
    await b.post('/sign-out', {});
    h.clock.now += 31 * 24 * 3_600_000;
    expect((await b.signIn('bob')).location).toBe('/sign-in/code');
    // The sign-in that skipped the code step says why in the audit log.
    const methods = (await h.policy.auditSearch({ user: 'bob', event: '2fa.ok', protocol: 'portal' })).map((e) => [e.detail.method, e.ip]);
    expect(methods).toEqual([
      ['trusted-device', '127.0.0.1'],
      ['totp', '127.0.0.1'],
    ]);
  });

  it('throttles failed sign-ins like IMAP logins, audits them as portal, and logs no password', async () => {
    const h = await startPortalHarness({ userFailures: 3 });
    const b = browserFor(h);
    for (let i = 0; i < 3; i++) expect((await b.signIn('alice', `wrong-${i}-secretish`)).status).toBe(401);
    const refused = await b.signIn('alice');
    expect(refused.status).toBe(429);
    expect(refused.body).toContain('Too many failed attempts');
    expect(h.checks).toBe(3); // the throttled attempt never reached the mail server
    const events = (await h.policy.auditSearch({ user: 'alice', protocol: 'portal' })).map((e) => e.event);
    expect(events.filter((e) => e === 'login.fail')).toHaveLength(3);
    expect(events).toContain('login.throttled');
    expect(h.log()).not.toMatch(/secretish|alice-pw/);
  });
});


describe('portal web security (review)', () => {
  const XSS = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

  it('bounds parallel password guesses per user: attempts in flight count until their verdict', async () => {
    const h = await startPortalHarness({ userFailures: 3, checkDelayMs: 100 });
    const browsers = Array.from({ length: 12 }, () => browserFor(h));
    for (const b of browsers) await b.get('/sign-in');
    const replies = await Promise.all(browsers.map((b, i) => b.post('/sign-in', { email: 'alice', password: `guess-${i}` })));
    expect(h.checks).toBeLessThanOrEqual(3);
    expect(replies.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(9);
    // Once the burst has settled, the user is throttled as after three serial failures.
    expect((await browsers[0]?.signIn('alice'))?.status).toBe(429);
  });

  it('bounds parallel admin sign-ins per admin name (password and 6-digit code guesses)', async () => {
    const h = await startPortalHarness({ userFailures: 3 });
    const { key } = await h.policy.admins.add('root', new Secret('a-long-admin-password'));
    const browsers = Array.from({ length: 12 }, () => browserFor(h));
    for (const b of browsers) await b.get('/admin/sign-in');
    const replies = await Promise.all(
      browsers.map((b, i) => b.post('/admin/sign-in', { name: 'root', password: 'a-long-admin-password', code: String(100000 + i) })),
    );
    expect(replies.filter((r) => r.status === 401).length).toBeLessThanOrEqual(3);
    const fails = await h.policy.auditSearch({ event: 'admin.sign-in.fail' });
    expect(fails.length).toBeLessThanOrEqual(3);
    // Now throttled: even the right code is refused until the window passes.
    const b = browserFor(h);
    await b.get('/admin/sign-in');
    expect((await b.post('/admin/sign-in', { name: 'root', password: 'a-long-admin-password', code: totpCode(key, h.clock.now) })).status).toBe(429);
  });

  it('bounds 6-digit code guesses per user, whatever the session or address', async () => {
    const h = await startPortalHarness({ userFailures: 3 });
    const key = await enrol(h, 'bob');
    /** A fresh browser: bob's password (right: step one passes, as issue 10 wants), then a wrong code. */
    const guess = async (): Promise<number> => {
      // The password checks before it are released by a queued write (attempt-guard.ts): until
      // it lands they count as checks under way, which would bound step one instead. Written now,
      // as a person's next sign-in, some seconds later, would find it.
      await h.policy.flush();
      const b = browserFor(h);
      expect((await b.signIn('bob')).location).toBe('/sign-in/code');
      await b.get('/sign-in/code');
      return (await b.post('/sign-in/code', { code: wrongCode(key, h.clock.now) })).status;
    };
    for (let i = 1; i <= secondFactorLimits.secondFactorFreeFailures; i++) expect(await guess(), `wrong code #${i}`).toBe(401);
    // A fresh half session cannot start a new series of guesses: the account's code step waits.
    expect(await guess()).toBe(429);
    h.clock.now += secondFactorLimits.secondFactorFirstWaitMs;
    expect(await guess()).toBe(401);
    expect(await guess()).toBe(429); // and the next wait is longer
    h.clock.now += secondFactorLimits.secondFactorFirstWaitMs;
    expect(await guess()).toBe(429);
  });

  it('audits the code step as portal with the client address, so the admin can filter code guesses', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    await b.signIn('bob');
    await b.get('/sign-in/code');
    await b.post('/sign-in/code', { code: wrongCode(key, h.clock.now) });
    h.clock.now += 30_000;
    await b.post('/sign-in/code', { code: totpCode(key, h.clock.now) });
    const codeEvents = await h.policy.auditSearch({ user: 'bob', event: '2fa', protocol: 'portal' });
    expect(codeEvents.map((e) => [e.event, e.ip])).toEqual([
      ['2fa.ok', '127.0.0.1'],
      ['2fa.fail', '127.0.0.1'],
    ]);
  });

  it("audits the user's own portal actions as portal with the client address; the same actions from the CLI stay without", async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    await b.signInWithCode('bob', key);
    await b.get('/apps/new');
    await b.post('/apps', { name: 'Phone' });
    await b.get('/codes');
    await b.post('/codes/regenerate', {});
    await b.get('/preferences/accounts');
    await b.post('/devices/revoke-others', {});
    await b.post('/apps/revoke', { name: 'Phone' });
    const portal = await h.policy.auditSearch({ user: 'bob', protocol: 'portal' });
    for (const event of ['appcode.add', 'otc.regenerate', 'device.revoke', 'appcode.revoke']) {
      expect(portal.find((e) => e.event === event)?.ip, event).toBe('127.0.0.1');
    }
    // Outside a portal request (the CLI), nothing is made up.
    await h.policy.appCodeAdd('bob', 'Laptop');
    const cli = (await h.policy.auditSearch({ user: 'bob', event: 'appcode.add' }))[0];
    expect([cli?.detail.codeName, cli?.protocol, cli?.ip]).toEqual(['Laptop', null, null]);
  });

  it("ends an admin's console sessions when the password is changed", async () => {
    const h = await startPortalHarness();
    const { key } = await h.policy.admins.add('root', new Secret('a-long-admin-password'));
    const a = browserFor(h);
    await a.adminSignIn('root', 'a-long-admin-password', key);
    expect((await a.get('/admin')).status).toBe(200);
    await h.policy.admins.setPassword('root', new Secret('another-long-password'));
    expect((await a.get('/admin')).location).toBe('/admin/sign-in');
  });

  it('accepts a 6-digit code once: the same code in a second sign-in is refused', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    h.clock.now += 30_000;
    const code = totpCode(key, h.clock.now);
    const one = browserFor(h);
    await one.signIn('bob');
    await one.get('/sign-in/code');
    expect((await one.post('/sign-in/code', { code })).location).toBe('/preferences/accounts');
    const two = browserFor(h);
    await two.signIn('bob');
    await two.get('/sign-in/code');
    expect((await two.post('/sign-in/code', { code })).status).toBe(401);
    expect((await two.get('/preferences/accounts')).location).toBe('/sign-in');
  });

  it('sends the security headers and no-store on errors, 404, refused forms and static files too', async () => {
    const h = await startPortalHarness();
    const b = browserFor(h);
    await b.get('/sign-in');
    const responses = [
      await send(`${h.url}/no-such-page`),
      await send(`${h.url}/static/nothing.js`),
      await send(`${h.url}/static/portal.css`),
      await b.post('/sign-in', { email: 'alice' }, 'forged'),
      await b.post('/sign-in', { email: 'alice', password: 'x'.repeat(20_000) }),
      await send(`${h.url}/sign-in`, { method: 'DELETE' }),
      await send(`${h.url}/sign-in`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
    ];
    for (const r of responses) {
      expect(r.headers['content-security-policy']).toContain("default-src 'none'");
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
    expect(responses[0]?.status).toBe(404);
    expect(responses[0]?.headers['cache-control']).toBe('no-store');
    expect(responses[1]?.status).toBe(404);
  });

  it('changes no state on GET, and sign-out needs the form token', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    expect((await b.signInWithCode('bob', key)).status).toBe(200);
    for (const path of ['/sign-out', '/sign-out-all', '/disable', '/devices/revoke-this', '/devices/revoke-others', '/codes/regenerate', '/apps', '/apps/revoke', '/setup/app', '/admin/sign-out']) {
      await b.get(path);
    }
    expect((await b.get('/preferences/accounts')).status).toBe(200);
    expect((await h.policy.accountOverview('bob')).twofaState).toBe('on');
    // A cross-site "sign out" (no token) is refused and the session lives on.
    expect((await b.post('/sign-out', {}, null)).status).toBe(403);
    expect((await b.post('/sign-out-all', {}, 'forged')).status).toBe(403);
    expect((await b.get('/preferences/accounts')).status).toBe(200);
    // Likewise for the admin console's forms.
    await h.policy.admins.add('root', new Secret('a-long-admin-password'));
    const a = browserFor(h);
    await a.get('/admin/sign-in');
    for (const path of ['/admin/users/policy', '/admin/reset', '/admin/sign-out-all']) {
      expect((await a.post(path, { user: 'bob', policy: 'disallowed' }, 'forged')).status).toBe(403);
    }
    expect((await h.policy.accountOverview('bob')).twofaState).toBe('on');
  });

  it('has no open redirect: a return URL in the query is ignored', async () => {
    const h = await startPortalHarness();
    const b = browserFor(h);
    await b.get('/sign-in?next=https://evil.example/');
    const r = await send(`${h.url}/sign-in?next=https://evil.example/&return=//evil.example`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: b.jar.header() },
      body: new URLSearchParams({ csrf: csrfOf((await b.get('/sign-in')).body), email: 'alice', password: 'alice-pw' }).toString(),
    });
    expect(r.location).toBe('/preferences/accounts');
    expect((await send(`${h.url}//evil.example/`)).location ?? '').not.toContain('evil');
  });

  it('escapes hostile application names, user names and audit fields', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    expect((await b.signInWithCode('bob', key)).status).toBe(200);
    await b.get('/apps/new');
    const added = await b.post('/apps', { name: XSS });
    expect(added.status).toBe(200);
    const accounts = await b.get('/preferences/accounts');
    for (const body of [added.body, accounts.body]) {
      expect(body).not.toContain('<script>alert');
      expect(body).not.toContain('<img src=x');
      expect(body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    }
    // A hostile "email address" at sign-in lands in the audit log the admin reads.
    const stranger = browserFor(h);
    await stranger.signIn(`"><svg onload=alert(1)>${XSS}`, 'whatever');
    const adminKey = (await h.policy.admins.add('root', new Secret('a-long-admin-password'))).key;
    const a = browserFor(h);
    expect((await a.adminSignIn('root', 'a-long-admin-password', adminKey)).location).toBe('/admin');
    const audit = await a.get('/admin/audit');
    expect(audit.body).toContain('appcode.add');
    expect(audit.body).not.toMatch(/<script>alert|<img src=x|<svg onload/);
    const reset = await a.get(`/admin/reset?user=${encodeURIComponent(XSS)}`);
    expect(reset.body).not.toMatch(/<script>alert|<img src=x/);
  });
});
