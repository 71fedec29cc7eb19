import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import type { PasswordChecker } from '../../src/policy/index.js';
import { closeOpenedStores, enable2fa, req, settle, setup } from '../helpers/policy-fixture.js';

/** Issue 15 part 3: which events queue a mail notice, once each, and never with a secret. */

afterEach(closeOpenedStores);

const NOTIFY = { from: 'twostep@example.com' };
const DAY = 24 * 60 * 60_000;
const checker: PasswordChecker = { check: async (_u, p) => (p.reveal() === 'main-pw' ? 'ok' : 'rejected') };

async function noticesOf(s: Awaited<ReturnType<typeof setup>>, user = 'alice') {
  await s.store.flush();
  return (await s.policy.notices.listFor(user)).reverse(); // oldest first
}

describe('mail notices: queued by the policy, one per event', () => {
  it('two-step on and off, codes added and revoked, one-time codes regenerated and used: one each, no secret', async () => {
    const s = await setup({ notify: NOTIFY });
    const { policy, clock } = s;
    const { key, oneTimeCodes } = await enable2fa(policy, clock);
    const added = await policy.appCodeAdd('alice', 'Phone', { scopes: ['imap', 'smtp'], expiresDays: 30 });
    await policy.appCodeRevoke('alice', 'Phone');
    const regenerated = await policy.oneTimeCodesRegenerate('alice');
    clock.now += 60_000;
    expect(await policy.portalSecondFactor('alice', regenerated[0] as string, '203.0.113.5')).toMatchObject({ ok: true });
    await policy.disable('alice');
    const list = await noticesOf(s);
    expect(list.map((n) => n.kind)).toEqual(['two-step-on', 'app-code-added', 'app-code-revoked', 'one-time-codes-regenerated', 'one-time-code-used', 'two-step-off']);
    expect(list[1]?.detail).toEqual({ codeName: 'Phone', scopes: ['imap', 'smtp'], expiresAt: new Date(clock.now - 60_000 + 30 * DAY).toISOString() });
    expect(list[4]?.detail).toMatchObject({ protocol: 'portal', ip: '203.0.113.5', left: 9 });
    const stored = JSON.stringify(list);
    for (const secret of [key, added.code, ...oneTimeCodes, ...regenerated]) expect(stored).not.toContain(secret);
  });

  it('nothing at all without [notify], and nothing of a kind switched off', async () => {
    const off = await setup();
    await enable2fa(off.policy, off.clock);
    await off.policy.appCodeAdd('alice', 'Phone');
    expect(await noticesOf(off)).toEqual([]);

    const some = await setup({ notify: { ...NOTIFY, two_step_changes: false } });
    await enable2fa(some.policy, some.clock);
    await some.policy.appCodeAdd('alice', 'Phone');
    expect((await noticesOf(some)).map((n) => n.kind)).toEqual(['app-code-added']);
  });

  it('an admin turning two-step off (disallow, reset) is told as "by your administrator"; a user without two-step hears nothing', async () => {
    const s = await setup({ notify: NOTIFY });
    await enable2fa(s.policy, s.clock);
    await s.policy.resetUser({ admin: 'root', ip: '192.0.2.1' }, 'alice', { revokeAppCodes: false });
    await s.policy.setAdminPolicy('alice', 'disallowed'); // already off: no second notice
    expect((await noticesOf(s)).map((n) => [n.kind, n.detail.by])).toEqual([
      ['two-step-on', undefined],
      ['two-step-off', 'admin'],
    ]);
    await s.policy.setAdminPolicy('bob', 'allowed');
    await s.policy.setAdminPolicy('bob', 'disallowed');
    expect(await noticesOf(s, 'bob')).toEqual([]);
  });

  it('a code from a network it never used: once per network (and at its first use)', async () => {
    const s = await setup({ notify: NOTIFY });
    await enable2fa(s.policy, s.clock);
    const { code } = await s.policy.appCodeAdd('alice', 'Phone');
    for (const ip of ['192.0.2.10', '192.0.2.99', '198.51.100.7', '2001:db8:1:2::5', '2001:db8:1:ff::9']) {
      expect(await s.policy.authenticate(req('alice', code, { clientIp: ip }))).toMatchObject({ ok: true });
    }
    const networks = (await noticesOf(s)).filter((n) => n.kind === 'new-network');
    expect(networks.map((n) => n.detail.network)).toEqual(['192.0.2.0/24', '198.51.100.0/24', '2001:db8:1::/48']);
    expect(networks[0]?.detail).toMatchObject({ codeName: 'Phone', ip: '192.0.2.10', protocol: 'imap', client: 'Thunderbird 128' });
    // A second code is new to every network again.
    const other = await s.policy.appCodeAdd('alice', 'Tablet');
    await s.policy.authenticate(req('alice', other.code, { clientIp: '192.0.2.10' }));
    expect((await noticesOf(s)).filter((n) => n.kind === 'new-network')).toHaveLength(4);
  });

  it('a portal sign-in from a new browser: once per browser', async () => {
    const s = await setup({ notify: NOTIFY });
    const signIn = (browserToken: string) =>
      s.policy.portalSignIn({ user: 'carol', password: new Secret('main-pw'), clientIp: '203.0.113.9', browserToken, browserLabel: 'Firefox on Linux' }, checker);
    for (const b of ['browser-one-token-aaaaaaaa', 'browser-one-token-aaaaaaaa', 'browser-two-token-bbbbbbbb']) {
      expect(await signIn(b)).toMatchObject({ ok: true, secondFactor: 'not-needed' });
    }
    const list = await noticesOf(s, 'carol');
    expect(list.map((n) => n.kind)).toEqual(['new-browser', 'new-browser']);
    expect(list[0]?.detail).toEqual({ browser: 'Firefox on Linux', ip: '203.0.113.9' });
  });

  it('an account whose guessing bound starts refusing: one notice per lockout, at most one an hour', async () => {
    const s = await setup({ notify: NOTIFY, auth: { user_failures: 3, ip_failures: 1000, failure_window_seconds: 60 } });
    const wrong = async () => {
      const d = await s.policy.authenticate(req('bob', 'wrong', { clientIp: '198.51.100.20' }));
      await settle(d, 'rejected');
      return d;
    };
    for (let i = 0; i < 3; i++) expect(await wrong()).toMatchObject({ ok: true, via: 'passthrough' });
    for (let i = 0; i < 3; i++) expect(await wrong()).toMatchObject({ ok: false, reason: 'throttled' });
    s.clock.now += 61_000; // the window passed; a new lockout within the hour tells no one again
    for (let i = 0; i < 4; i++) await wrong();
    const list = await noticesOf(s, 'bob');
    expect(list.map((n) => n.kind)).toEqual(['account-locked']);
    expect(list[0]?.detail).toMatchObject({ protocol: 'imap', ip: '198.51.100.20', minutes: 1 });
  });

  it('codes expiring within a week: one notice each, queued by the periodic scan', async () => {
    const s = await setup({ notify: NOTIFY });
    await enable2fa(s.policy, s.clock);
    await s.policy.appCodeAdd('alice', 'Short', { expiresDays: 3 });
    await s.policy.appCodeAdd('alice', 'Long', { expiresDays: 10 });
    await s.policy.appCodeAdd('alice', 'Never');
    expect(await s.policy.notices.queueExpiring()).toBe(1);
    expect(await s.policy.notices.queueExpiring()).toBe(0);
    s.clock.now += 4 * DAY;
    expect(await s.policy.notices.queueExpiring()).toBe(1);
    const expiring = (await noticesOf(s)).filter((n) => n.kind === 'code-expiring');
    expect(expiring.map((n) => n.detail.codeName)).toEqual(['Short', 'Long']);
    expect(expiring[0]?.detail.expiresAt).toMatch(/^2026-01-04T/);
  });

  it('the sender side: claim, retry with doubling waits, give up after two days', async () => {
    const s = await setup({ notify: NOTIFY });
    await enable2fa(s.policy, s.clock);
    await s.store.flush();
    const [n] = await s.policy.notices.claim(10);
    expect(n?.kind).toBe('two-step-on');
    expect(await s.policy.notices.claim(10)).toEqual([]); // held by this sender
    expect(await s.policy.notices.retry(n!, 'connect ECONNREFUSED')).toBe('retry');
    s.clock.now += 4_999;
    expect(await s.policy.notices.claim(10)).toEqual([]);
    s.clock.now += 1;
    const [again] = await s.policy.notices.claim(10);
    expect(again?.attempts).toBe(1);
    expect(await s.policy.notices.retry(again!, 'still down')).toBe('retry');
    s.clock.now += 9_999;
    expect(await s.policy.notices.claim(10)).toEqual([]); // 10 s the second time
    s.clock.now += 2 * DAY;
    const [late] = await s.policy.notices.claim(10);
    expect(await s.policy.notices.retry(late!, 'still down')).toBe('failed');
    expect((await s.policy.notices.listFor('alice'))[0]).toMatchObject({ failedAt: s.clock.now, lastError: 'still down', attempts: 3 });
  });
});
