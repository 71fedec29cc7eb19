import { afterEach, describe, expect, it } from 'vitest';
import { scopeOf } from '../../src/policy/index.js';
import type { Protocol } from '../../src/policy/index.js';
import { closeOpenedStores, enable2fa, req, setup } from '../helpers/policy-fixture.js';

/** Issue 15 part 2: codes limited to some protocols, and codes that expire. */

afterEach(closeOpenedStores);

const DAY = 24 * 60 * 60_000;

/** Rejects with TwostepError('INVALID_INPUT'). */
const invalid = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ name: 'TwostepError', code: 'INVALID_INPUT' });

describe('scopes: a code limited to some protocols', () => {
  it('maps every door to the scope it needs: sieve reads with IMAP, submission sends with SMTP, others need an unlimited code', () => {
    const doors: Record<Protocol, string | null> = { imap: 'imap', sieve: 'imap', pop3: 'pop3', smtp: 'smtp', submission: 'smtp', portal: null, other: null };
    for (const [protocol, scope] of Object.entries(doors)) expect(scopeOf(protocol as Protocol)).toBe(scope);
  });

  it('signs in where allowed; elsewhere it is refused like a wrong code, and the audit says why', async () => {
    const { policy, store, clock } = await setup();
    await enable2fa(policy, clock);
    const added = await policy.appCodeAdd('alice', 'Reader', { scopes: ['IMAP', 'imap'] });
    expect(added.scopes).toEqual(['imap']);
    const code = added.code;
    expect(await policy.authenticate(req('alice', code, { protocol: 'imap' }))).toMatchObject({ ok: true, via: 'app-code' });
    expect(await policy.authenticate(req('alice', code, { protocol: 'sieve', origin: 'passdb' }))).toMatchObject({ ok: true });
    for (const protocol of ['smtp', 'pop3', 'submission', 'other'] as const) {
      expect(await policy.authenticate(req('alice', code, { protocol, clientIp: '198.51.100.9' }))).toEqual({ ok: false, reason: 'app-code-required' });
    }
    await store.flush();
    const refusals = (await policy.audit({ user: 'alice', limit: 100 })).filter((e) => e.event === 'login.fail');
    expect(refusals).toHaveLength(4);
    for (const e of refusals) expect(e.detail).toMatchObject({ reason: 'app-code-required', why: 'scope', codeName: 'Reader' });
    // Last Used tells of the allowed uses only.
    expect((await policy.appCodeList('alice'))[0]?.lastUsedIp).toBe('192.0.2.10');
  });

  it('all three, or none given, is an unlimited code; an unknown or an empty list is refused', async () => {
    const { policy, clock } = await setup();
    await enable2fa(policy, clock);
    expect((await policy.appCodeAdd('alice', 'A', { scopes: ['smtp', 'pop3', 'imap'] })).scopes).toEqual(['imap', 'pop3', 'smtp']);
    const all = await policy.appCodeAdd('alice', 'B');
    expect(await policy.authenticate(req('alice', all.code, { protocol: 'other' }))).toMatchObject({ ok: true });
    await invalid(policy.appCodeAdd('alice', 'C', { scopes: ['imap', 'http'] }));
    await invalid(policy.appCodeAdd('alice', 'D', { scopes: [] }));
    expect((await policy.appCodeList('alice')).map((c) => c.name)).toEqual(['A', 'B']);
  });
});

describe('expiry: a code with a lifetime', () => {
  it('signs in until it expires, then is refused (also from the login cache) with why "expired"', async () => {
    const { policy, store, clock, hasher } = await setup({ auth: { login_cache_seconds: 3600 } });
    await enable2fa(policy, clock);
    const added = await policy.appCodeAdd('alice', 'Laptop', { expiresDays: 1 });
    expect(added.expiresAt).toBe(new Date(clock.now + DAY).toISOString());
    expect(await policy.authenticate(req('alice', added.code))).toMatchObject({ ok: true });
    clock.now += DAY - 60_000;
    hasher.reset();
    expect(await policy.authenticate(req('alice', added.code))).toMatchObject({ ok: true });
    clock.now += 60_000;
    expect(await policy.authenticate(req('alice', added.code))).toEqual({ ok: false, reason: 'app-code-required' });
    expect(hasher.verifies).toBe(1); // the refusal came from the cached verification
    await store.flush();
    expect((await policy.audit({ user: 'alice', limit: 1 }))[0]?.detail).toMatchObject({ why: 'expired', codeName: 'Laptop' });
    expect(await policy.appCodeList('alice')).toEqual([expect.objectContaining({ name: 'Laptop', expired: true, expiresAt: added.expiresAt })]);
  });

  it('ends the live sessions of a code that expired (the revocation watcher asks revokedCodeIds)', async () => {
    const { policy, clock } = await setup();
    await enable2fa(policy, clock);
    const short = await policy.appCodeAdd('alice', 'Short', { expiresDays: 2 });
    const long = await policy.appCodeAdd('alice', 'Long');
    const id = async (code: string) => {
      const d = await policy.authenticate(req('alice', code));
      return d.ok && d.via === 'app-code' ? d.codeId : -1;
    };
    const [s, l] = [await id(short.code), await id(long.code)];
    expect(await policy.revokedCodeIds([s, l])).toEqual([]);
    clock.now += 2 * DAY;
    expect(await policy.revokedCodeIds([s, l])).toEqual([s]);
  });

  it('takes [codes] default_expiry_days, and keeps every code within max_expiry_days', async () => {
    const withDefault = await setup({ codes: { default_expiry_days: 30 } });
    await enable2fa(withDefault.policy, withDefault.clock);
    expect((await withDefault.policy.appCodeAdd('alice', 'A')).expiresAt).toBe(new Date(withDefault.clock.now + 30 * DAY).toISOString());
    expect((await withDefault.policy.appCodeAdd('alice', 'B', { expiresDays: 0 })).expiresAt).toBeNull();

    const bounded = await setup({ codes: { max_expiry_days: 90 } });
    await enable2fa(bounded.policy, bounded.clock);
    expect((await bounded.policy.appCodeAdd('alice', 'A')).expiresAt).toBe(new Date(bounded.clock.now + 90 * DAY).toISOString());
    expect((await bounded.policy.appCodeAdd('alice', 'B', { expiresDays: 7 })).expiresAt).toBe(new Date(bounded.clock.now + 7 * DAY).toISOString());
    await invalid(bounded.policy.appCodeAdd('alice', 'C', { expiresDays: 0 }));
    await invalid(bounded.policy.appCodeAdd('alice', 'D', { expiresDays: 91 }));
    await invalid(bounded.policy.appCodeAdd('alice', 'E', { expiresDays: 1.5 }));
  });
});
