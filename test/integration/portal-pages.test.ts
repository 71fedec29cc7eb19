import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { totpCode } from '../../src/crypto/index.js';
import { browserFor, enrol, startPortalHarness, stopPortals, wrongCode } from '../helpers/portal-harness.js';

/**
 * The portal's pages as markup, for people using a screen reader or a keyboard: every field has a
 * label, an error is tied to its fields, headings go down one level at a time, the page has a
 * language. Plus flows that must say what really happened.
 */

afterEach(stopPortals);

/** Ids of visible form fields without a <label for> (hidden inputs and wrapped checkboxes aside). */
function unlabelledFields(page: string): string[] {
  const labelled = new Set([...page.matchAll(/<label[^>]*\bfor="([^"]+)"/g)].map((m) => m[1]));
  const wrapped = [...page.matchAll(/<label[^>]*>\s*<input[^>]*>/g)].map((m) => m[0]);
  const out: string[] = [];
  for (const m of page.matchAll(/<(input|select|textarea)\b[^>]*>/g)) {
    const tag = m[0];
    if (/type="hidden"|\shidden[\s>]/.test(tag) || wrapped.some((w) => w.includes(tag))) continue;
    const id = /\bid="([^"]+)"/.exec(tag)?.[1];
    if (id === undefined || !labelled.has(id)) out.push(tag);
  }
  return out;
}

/** Heading levels in order: none may skip a level on the way down, and there is one h1. */
function headingProblems(page: string): string[] {
  const levels = [...page.matchAll(/<h([1-6])\b/g)].map((m) => Number(m[1]));
  const out: string[] = [];
  if (levels.filter((l) => l === 1).length !== 1) out.push(`h1 count ${levels.filter((l) => l === 1).length}`);
  levels.forEach((l, i) => {
    if (i > 0 && l > (levels[i - 1] as number) + 1) out.push(`h${levels[i - 1]} → h${l}`);
  });
  return out;
}

function expectAccessible(path: string, page: string): void {
  expect(page, path).toMatch(/<html lang="en">/);
  expect(unlabelledFields(page), path).toEqual([]);
  expect(headingProblems(page), path).toEqual([]);
  expect(page, path).toMatch(/<main id="main"/);
}

/** Every field named in `ids` is marked invalid and described by the page's error message. */
function expectErrorTied(page: string, ids: string[]): void {
  expect(page).toMatch(/<p class="error" role="alert" id="page-error">/);
  for (const id of ids) {
    const tag = new RegExp(`<input id="${id}"[^>]*>`).exec(page)?.[0] ?? '';
    expect(tag, id).toContain('aria-invalid="true"');
    expect(tag, id).toContain('aria-describedby="page-error"');
  }
}

describe('portal pages (accessibility)', () => {
  it('labels every field, orders headings and states the language on every page', async () => {
    const h = await startPortalHarness();
    const b = browserFor(h);
    expectAccessible('/sign-in', (await b.get('/sign-in')).body);
    await b.signIn('alice');
    await h.policy.setAdminPolicy('alice', 'allowed');
    const paths = ['/preferences/accounts', '/setup', '/setup/password', '/apps/new', '/no-such-page'];
    for (const p of paths) expectAccessible(p, (await b.get(p)).body);
    await b.post('/setup/password', { password: 'alice-pw' });
    for (const p of ['/setup/app']) expectAccessible(p, (await b.get(p)).body);
    await b.post('/setup/app', {});
    for (const p of ['/setup/key', '/setup/confirm']) expectAccessible(p, (await b.get(p)).body);
    const key = (await h.policy.totpPendingKey('alice'))?.key as string;
    const success = await b.post('/setup/confirm', { code: totpCode(key, h.clock.now) });
    expectAccessible('success', success.body);
    for (const p of ['/preferences/accounts', '/codes', '/codes/print', '/disable', '/devices/revoke-this', '/devices/revoke-others']) {
      expectAccessible(p, (await b.get(p)).body);
    }
    expectAccessible('passcode', (await b.post('/apps', { name: 'Phone' })).body);

    const adminKey = (await h.policy.admins.add('root', new Secret('a-long-admin-password'))).key;
    const a = browserFor(h);
    expectAccessible('/admin/sign-in', (await a.get('/admin/sign-in')).body);
    h.clock.now += 30_000;
    await a.post('/admin/sign-in', { name: 'root', password: 'a-long-admin-password', code: totpCode(adminKey, h.clock.now) });
    expectAccessible('/admin/confirm', (await a.get('/admin/confirm')).body); // a new key: one more code first
    h.clock.now += 30_000;
    expect((await a.post('/admin/confirm', { code: totpCode(adminKey, h.clock.now) })).location).toBe('/admin');
    for (const p of ['/admin', '/admin/users', '/admin/users?q=ali&state=allowed', '/admin/domains', '/admin/audit', '/admin/audit?event=login', '/admin/reset?user=alice']) {
      expectAccessible(p, (await a.get(p)).body);
    }
  });

  it('ties each error message to the fields it is about', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    expectErrorTied((await b.signIn('bob', 'wrong')).body, ['email', 'password']);
    await b.signIn('bob');
    await b.get('/sign-in/code');
    expectErrorTied((await b.post('/sign-in/code', { code: wrongCode(key, h.clock.now) })).body, ['code']);
    h.clock.now += 30_000;
    await b.post('/sign-in/code', { code: totpCode(key, h.clock.now) });
    await b.get('/apps/new');
    expectErrorTied((await b.post('/apps', { name: ' ' })).body, ['app-name']);

    await h.policy.setAdminPolicy('alice', 'allowed');
    const c = browserFor(h);
    await c.signIn('alice');
    await c.get('/setup/password');
    expectErrorTied((await c.post('/setup/password', { password: 'nope' })).body, ['password']);
    await c.post('/setup/password', { password: 'alice-pw' });
    await c.post('/setup/app', {});
    await c.get('/setup/confirm');
    const aliceKey = (await h.policy.totpPendingKey('alice'))?.key as string;
    expectErrorTied((await c.post('/setup/confirm', { code: wrongCode(aliceKey, h.clock.now) })).body, ['code']);

    await h.policy.admins.add('root', new Secret('a-long-admin-password'));
    const a = browserFor(h);
    await a.get('/admin/sign-in');
    expectErrorTied((await a.post('/admin/sign-in', { name: 'root', password: 'wrong', code: '123456' })).body, ['name', 'password', 'code']);
    // Without an error, no field claims to be invalid.
    expect((await a.get('/admin/sign-in')).body).not.toContain('aria-invalid');
  });
});

describe('portal flows say what happened', () => {
  it('"revoke this device" on a browser that was not trusted says so', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    await b.signInWithCode('bob', key);
    await b.get('/devices/revoke-this');
    const r = await b.post('/devices/revoke-this', {});
    expect(r.location).toBe('/preferences/accounts?done=device-not-trusted');
    expect((await b.get(r.location as string)).body).toContain('This device was not trusted');
  });

  it('a form sent after the session ended leads to the sign-in page with a note, not a bare 403', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const b = browserFor(h);
    await b.signInWithCode('bob', key);
    await b.get('/codes');
    h.clock.now += 31 * 60_000; // idle longer than [portal] session_idle_minutes
    const r = await b.post('/codes/regenerate', {});
    expect(r.status).toBe(303);
    expect(r.location).toBe('/sign-in?done=expired');
    expect((await b.get('/sign-in?done=expired')).body).toContain('Your session has ended');
    // A forged form without any session cookie is still refused, with a page that says why.
    const stranger = browserFor(h);
    await stranger.get('/sign-in');
    const forged = await stranger.post('/codes/regenerate', {}, 'forged');
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('This form has expired');
    expect(forged.headers['content-security-policy']).toContain("default-src 'none'");
  });
});

describe('the setup wizard after setup', () => {
  it('sends a reloaded Success page or a step revisited after Finish back to Accounts, not to a "run enroll first" error', async () => {
    const h = await startPortalHarness();
    await h.policy.setAdminPolicy('alice', 'allowed');
    const b = browserFor(h);
    await b.signIn('alice');
    await b.get('/setup/password');
    await b.post('/setup/password', { password: 'alice-pw' });
    await b.post('/setup/app', {});
    await b.get('/setup/confirm');
    const key = (await h.policy.totpPendingKey('alice'))?.key as string;
    const code = totpCode(key, h.clock.now);
    expect((await b.post('/setup/confirm', { code })).body).toContain('Success!');
    // The browser sends the same form again (reload of the Success page).
    const again = await b.post('/setup/confirm', { code });
    expect(again.location).toBe('/preferences/accounts');
    for (const p of ['/setup', '/setup/password', '/setup/app', '/setup/key', '/setup/confirm']) {
      expect((await b.get(p)).location, p).toBe('/preferences/accounts');
    }
    expect((await b.post('/setup/app', {})).location).toBe('/preferences/accounts');
    expect((await h.policy.accountOverview('alice')).twofaState).toBe('on');
  });
});
