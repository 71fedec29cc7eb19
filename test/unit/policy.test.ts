import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTwostepError, type ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { totpCode } from '../../src/crypto/index.js';
import { Policy } from '../../src/policy/index.js';
import { openStore } from '../../src/store/index.js';
import { closeOpenedStores, enable2fa, MASTER_KEY, makeConfig, req, settle, setup, T0, trackStore } from '../helpers/policy-fixture.js';
import { testOnlyRawDatabase } from '../../src/store/sqlite/index.js';

afterEach(closeOpenedStores);

async function expectCodeAsync(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isTwostepError(e) ? e.code : e).toBe(code);
    return;
  }
  expect.unreachable(`expected TwostepError ${code}`);
}

describe('authenticate: who goes through', () => {
  it('passes an unknown user through with the name as typed (trimmed)', async () => {
    const { policy } = await setup();
    expect(await policy.authenticate(req('  Bob@Example.org ', 'pw'))).toEqual({
      ok: true,
      via: 'passthrough',
      user: 'Bob@Example.org',
      passthrough: { settle: expect.any(Function) },
    });
  });

  it('passes through accounts whose 2FA is off or pending, even when required', async () => {
    const { policy } = await setup();
    await policy.setAdminPolicy('carol', 'required');
    expect(await policy.authenticate(req('carol', 'pw'))).toMatchObject({ ok: true, via: 'passthrough' });
    await policy.totpEnroll('carol');
    expect((await policy.showUser('carol')).twofaState).toBe('pending');
    expect(await policy.authenticate(req('Carol', 'pw'))).toMatchObject({ ok: true, via: 'passthrough', user: 'Carol' });
  });

  it('refuses the main password of a 2FA account without hashing anything', async () => {
    const { policy, clock, hasher } = await setup();
    await enable2fa(policy, clock);
    await policy.appCodeAdd('alice', 'Phone');
    hasher.reset();
    expect(await policy.authenticate(req('alice', 'correct horse battery staple'))).toEqual({
      ok: false,
      reason: 'app-code-required',
    });
    expect(hasher.verifies).toBe(0);
    expect(hasher.hashes).toBe(0);
  });

  it('accepts an application code (any case, spaces, dashes) and records Last Used', async () => {
    const { policy, clock } = await setup();
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Outlook without connector');
    clock.now += 5_000;
    const typed = `${code.slice(0, 4).toLowerCase()} ${code.slice(4, 8)}-${code.slice(8, 12)} ${code.slice(12).toLowerCase()}`;
    const d = await policy.authenticate(req('Alice', typed, { protocol: 'smtp', clientIp: '198.51.100.7', clientName: 'Outlook 16' }));
    expect(d).toMatchObject({ ok: true, via: 'app-code', user: 'alice', codeName: 'Outlook without connector' });
    expect(d.ok && d.via === 'app-code' && typeof d.codeId === 'number').toBe(true);
    const [info] = await policy.appCodeList('alice');
    expect(info).toEqual({
      name: 'Outlook without connector',
      createdAt: new Date(T0).toISOString(),
      lastUsedAt: new Date(T0 + 5_000).toISOString(),
      lastUsedIp: '198.51.100.7',
      lastUsedProtocol: 'smtp',
      lastUsedClient: 'Outlook 16',
      scopes: ['imap', 'pop3', 'smtp'],
      expiresAt: null,
      expired: false,
    });
    expect((await policy.audit({ user: 'alice', limit: 1 }))[0]).toMatchObject({
      event: 'login.ok',
      protocol: 'smtp',
      ip: '198.51.100.7',
      detail: { via: 'app-code', codeName: 'Outlook without connector' },
    });
  });

  it('costs exactly one argon2 verification among 25 codes, and none for a code that is not one of them', async () => {
    const { policy, clock, hasher } = await setup();
    await enable2fa(policy, clock);
    const codes: string[] = [];
    for (let i = 0; i < 25; i++) codes.push((await policy.appCodeAdd('alice', `app ${i}`)).code);
    hasher.reset();
    expect(await policy.authenticate(req('alice', codes[13] as string))).toMatchObject({ ok: true, codeName: 'app 13' });
    expect(hasher.verifies).toBe(1);
    hasher.reset();
    expect(await policy.authenticate(req('alice', 'AAAABBBBCCCCDDDD'))).toEqual({ ok: false, reason: 'app-code-required' });
    expect(hasher.verifies).toBe(0); // no row for its lookup HMAC; the failure delay evens out the timing
  });

  it("refuses a revoked code and another user's code", async () => {
    const { policy, clock } = await setup();
    await enable2fa(policy, clock);
    await enable2fa(policy, clock, 'bob');
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    const bob = await policy.appCodeAdd('bob', 'Phone');
    expect(await policy.authenticate(req('alice', bob.code))).toMatchObject({ ok: false, reason: 'app-code-required' });
    await policy.appCodeRevoke('alice', 'Phone');
    expect(await policy.authenticate(req('alice', code))).toEqual({ ok: false, reason: 'app-code-required' });
  });

  it('refuses an authorization identity other than the user (no impersonation)', async () => {
    const { policy, clock } = await setup();
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    expect(await policy.authenticate(req('alice', code, { mechanism: 'PLAIN', authzid: 'bob' }))).toEqual({
      ok: false,
      reason: 'invalid-credentials',
    });
    expect(await policy.authenticate(req('mallory', 'pw', { mechanism: 'PLAIN', authzid: 'alice' }))).toEqual({
      ok: false,
      reason: 'invalid-credentials',
    });
    expect(await policy.authenticate(req('alice', code, { mechanism: 'PLAIN', authzid: 'ALICE' }))).toMatchObject({ ok: true });
  });

  it('rejects malformed input', async () => {
    const { policy } = await setup({ auth: { ip_failures: 100 } });
    for (const [user, secret] of [
      ['', 'pw'],
      ['   ', 'pw'],
      ['ali\u0000ce', 'pw'],
      ['alice\r\nx', 'pw'],
      ['a'.repeat(256), 'pw'],
      ['alice', 'x'.repeat(1025)],
    ] as const) {
      expect(await policy.authenticate(req(user, secret))).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('requires TLS unless plaintext is allowed', async () => {
    const strict = await setup();
    expect(await strict.policy.authenticate(req('bob', 'pw', { tls: false }))).toEqual({ ok: false, reason: 'tls-required' });
    const lax = await setup({ auth: { allow_plaintext: true } });
    expect(await lax.policy.authenticate(req('bob', 'pw', { tls: false }))).toMatchObject({ ok: true });
  });
});

describe('authenticate: failure delay (like Dovecot auth_failure_delay)', () => {
  it('pauses before answering a refusal, not a success, a TLS demand or a passthrough', async () => {
    const { policy, clock, sleeps } = await setup({ auth: { failure_delay_ms: 2000, ip_failures: 10, user_failures: 10 } });
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    expect(await policy.authenticate(req('alice', code))).toMatchObject({ ok: true });
    expect(await policy.authenticate(req('nobody', 'pw'))).toMatchObject({ ok: true, via: 'passthrough' });
    expect(await policy.authenticate(req('alice', 'pw', { tls: false }))).toMatchObject({ reason: 'tls-required' });
    expect(sleeps).toEqual([]);
    expect(await policy.authenticate(req('alice', 'main password'))).toMatchObject({ reason: 'app-code-required' });
    expect(await policy.authenticate(req('alice', 'AAAABBBBCCCCDDDD'))).toMatchObject({ reason: 'app-code-required' });
    expect(await policy.authenticate(req('alice', code, { authzid: 'bob' }))).toMatchObject({ reason: 'invalid-credentials' });
    expect(sleeps).toEqual([2000, 2000, 2000]);
  });

  it('waits for real with the default sleep', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'twostep-policy-')), 'twostep.db');
    const store = await openStore(dbPath);
    trackStore(store);
    const policy = new Policy({ store, masterKey: MASTER_KEY, config: makeConfig({ auth: { failure_delay_ms: 150 } }), logger: silentLogger() });
    await enable2fa(policy, { now: Date.now() });
    const started = performance.now();
    expect(await policy.authenticate(req('alice', 'main password'))).toMatchObject({ reason: 'app-code-required' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('authenticate: guessing bounds', () => {
  it('per source address: rejections count, an address over its bound gets no check, yet a valid application code signs in from it', async () => {
    const { policy, clock, store } = await setup(); // 3 per address, 5 per account, in 60 s
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    for (let i = 0; i < 3; i++) {
      const d = await policy.authenticate(req(`u${i}`, 'wrong'));
      expect(d).toMatchObject({ ok: true, via: 'passthrough' });
      await settle(d, 'rejected');
      clock.now += 1_000;
    }
    expect(await policy.authenticate(req('nobody', 'pw'))).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 57_000 });
    expect(await policy.authenticate(req('alice', code))).toMatchObject({ ok: true, via: 'app-code' });
    expect(await policy.authenticate(req('alice', 'AAAABBBBCCCCDDDD'))).toMatchObject({ ok: false, reason: 'throttled' });
    expect(await policy.authenticate(req('nobody', 'pw', { clientIp: '192.0.2.99' }))).toMatchObject({ ok: true });
    clock.now += 57_000; // the first failure leaves the window
    expect(await policy.authenticate(req('nobody', 'pw'))).toMatchObject({ ok: true });
    await store.flush(); // audit events are queued (write-behind)
    const throttledRows = (await store.audit.list({ limit: 100 })).filter((e) => e.event === 'login.throttled');
    expect(throttledRows).toHaveLength(1); // one per lockout, not one per refusal
  });

  it('per account: guesses from unknown sources share one bound; a network the owner signed in from keeps its own', async () => {
    const { policy, clock, store } = await setup(); // 5 per account in 60 s
    await settle(await policy.authenticate(req('dave', 'right', { clientIp: '198.51.100.7' })), 'ok'); // home, once
    await store.flush();
    for (let i = 0; i < 5; i++) {
      const d = await policy.authenticate(req('Dave', 'wrong', { clientIp: `203.0.113.${i}` }));
      expect(d).toMatchObject({ ok: true, via: 'passthrough' });
      await settle(d, 'rejected');
      clock.now += 100;
    }
    await store.flush();
    const d = await policy.authenticate(req('dave', 'guess', { clientIp: '203.0.113.200' }));
    expect(d).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 60_000 - 500 });
    // The owner, from another address of his home network: checked, as always.
    expect(await policy.authenticate(req('dave', 'right', { clientIp: '198.51.100.99' }))).toMatchObject({ ok: true, via: 'passthrough' });
    expect(await policy.authenticate(req('erin', 'pw', { clientIp: '203.0.113.200' }))).toMatchObject({ ok: true });
    expect((await policy.audit({ user: 'dave' })).filter((e) => e.event === 'login.fail')).toHaveLength(5);
  });

  it('parallel guesses never get more checks than the bound; parallel logins with one password share one', async () => {
    const { policy, store } = await setup({ auth: { ip_failures: 1000, user_failures: 10 } });
    const burst = Array.from({ length: 45 }, (_, i) => req('frank', `guess${i}`, { clientIp: `203.0.113.${i}` }));
    const decisions = await Promise.all(burst.map((r) => policy.authenticate(r)));
    const checked = decisions.filter((d) => d.ok);
    expect(checked).toHaveLength(10);
    expect(decisions.filter((d) => !d.ok && d.reason === 'throttled')).toHaveLength(35);
    for (const d of checked) await settle(d, 'rejected');
    await store.flush();
    expect(await policy.authenticate(req('frank', 'one-more', { clientIp: '203.0.113.99' }))).toMatchObject({ ok: false, reason: 'throttled' });
    // A mail app (or several devices) opening 40 connections at once with the right password.
    const app = await Promise.all(Array.from({ length: 40 }, () => policy.authenticate(req('grace', 'pw', { clientIp: '198.51.100.1' }))));
    expect(app.every((d) => d.ok && d.via === 'passthrough')).toBe(true);
    for (const d of app) await settle(d, 'ok');
  });

  it('refuses master-user spellings before any backend contact, whatever the case', async () => {
    const { policy } = await setup();
    for (const user of ['alice*master', 'ALICE*Master', 'master', 'MASTER', 'bob*']) {
      expect(await policy.authenticate(req(user, 'master-password')), user).toEqual({ ok: false, reason: 'invalid-credentials' });
    }
    expect(await policy.authenticate(req('alice', 'pw', { mechanism: 'PLAIN', authzid: 'alice*master' }))).toEqual({ ok: false, reason: 'invalid-credentials' });
  });
});

describe('TOTP enrolment and second factor', () => {
  it('enroll needs an allowing admin policy', async () => {
    const { policy } = await setup();
    await expectCodeAsync(policy.totpEnroll('nobody'), 'USER_NOT_ALLOWED');
    await policy.setAdminPolicy('eve', 'disallowed');
    await expectCodeAsync(policy.totpEnroll('eve'), 'USER_NOT_ALLOWED');
    await policy.setAdminPolicy('eve', 'required');
    const { key, uri } = await policy.totpEnroll('Eve');
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri).toBe(
      `otpauth://totp/Example%20Mail:eve?secret=${key}&issuer=Example+Mail&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('re-enrolling while pending replaces the key; a wrong code is INVALID_CODE; confirm gives 10 codes', async () => {
    const { policy, clock } = await setup();
    await policy.setAdminPolicy('alice', 'allowed');
    const first = await policy.totpEnroll('alice');
    const second = await policy.totpEnroll('alice');
    expect(second.key).not.toBe(first.key);
    await expectCodeAsync(policy.totpConfirm('alice', totpCode(first.key, clock.now)), 'INVALID_CODE');
    await expectCodeAsync(policy.totpConfirm('alice', '000000x'), 'INVALID_CODE');
    const { oneTimeCodes } = await policy.totpConfirm('alice', totpCode(second.key, clock.now));
    expect(oneTimeCodes).toHaveLength(10);
    expect(new Set(oneTimeCodes).size).toBe(10);
    for (const c of oneTimeCodes) expect(c).toMatch(/^[0-9]{8}$/);
    expect(await policy.showUser('alice')).toMatchObject({ twofaState: 'on', oneTimeCodesUnused: 10 });
    await expectCodeAsync(policy.totpEnroll('alice'), 'BAD_STATE');
    await expectCodeAsync(policy.totpConfirm('alice', totpCode(second.key, clock.now)), 'BAD_STATE');
  });

  it('accepts the current step and ±1, rejects ±2 and any replay', async () => {
    const { policy, clock } = await setup();
    const { key } = await enable2fa(policy, clock); // confirmed at step(T0)
    expect(await policy.verifySecondFactor('alice', totpCode(key, clock.now))).toBe(false); // replay of the confirm code
    clock.now += 30_000;
    const now1 = totpCode(key, clock.now);
    expect(await policy.verifySecondFactor('alice', now1)).toBe(true);
    expect(await policy.verifySecondFactor('alice', now1)).toBe(false); // replay
    clock.now += 60_000;
    expect(await policy.verifySecondFactor('alice', totpCode(key, clock.now - 30_000))).toBe(true); // -1 step
    expect(await policy.verifySecondFactor('alice', totpCode(key, clock.now + 30_000))).toBe(true); // +1 step
    expect(await policy.verifySecondFactor('alice', totpCode(key, clock.now))).toBe(false); // older than last accepted
    clock.now += 300_000;
    expect(await policy.verifySecondFactor('alice', totpCode(key, clock.now - 60_000))).toBe(false); // -2
    expect(await policy.verifySecondFactor('alice', totpCode(key, clock.now + 60_000))).toBe(false); // +2
    expect(await policy.verifySecondFactor('alice', totpCode(key, clock.now))).toBe(true);
  });

  it('one-time codes work once; show and regenerate', async () => {
    const { policy, clock } = await setup();
    const { oneTimeCodes } = await enable2fa(policy, clock);
    const [c0, c1] = oneTimeCodes as [string, string];
    expect(await policy.oneTimeCodesShow('alice')).toEqual({ unused: oneTimeCodes, usedCount: 0 });
    expect(await policy.verifySecondFactor('alice', `${c0.slice(0, 4)} ${c0.slice(4)}`)).toBe(true);
    expect(await policy.verifySecondFactor('alice', c0)).toBe(false);
    expect(await policy.oneTimeCodesShow('alice')).toEqual({ unused: oneTimeCodes.slice(1), usedCount: 1 });
    const fresh = await policy.oneTimeCodesRegenerate('alice');
    expect(fresh).toHaveLength(10);
    expect(await policy.verifySecondFactor('alice', c1)).toBe(false);
    expect(await policy.oneTimeCodesShow('alice')).toEqual({ unused: fresh, usedCount: 0 });
    expect(await policy.verifySecondFactor('bob', fresh[0] as string)).toBe(false);
  });
});

describe('application code management', () => {
  it('needs 2FA on, unique active names, a limit; revoked names may be reused', async () => {
    const { policy, clock } = await setup({ codes: { max_app_codes: 2 } });
    await policy.setAdminPolicy('alice', 'allowed');
    await expectCodeAsync(policy.appCodeAdd('alice', 'Phone'), 'BAD_STATE');
    await expectCodeAsync(policy.appCodeAdd('ghost', 'Phone'), 'USER_NOT_FOUND');
    await enable2fa(policy, clock);
    const a = await policy.appCodeAdd('alice', '  Phone  ');
    expect(a.name).toBe('Phone');
    expect(a.code).toMatch(/^[A-Z]{16}$/);
    await expectCodeAsync(policy.appCodeAdd('alice', 'Phone'), 'NAME_TAKEN');
    await expectCodeAsync(policy.appCodeAdd('alice', ''), 'INVALID_INPUT');
    await expectCodeAsync(policy.appCodeAdd('alice', 'x'.repeat(65)), 'INVALID_INPUT');
    await expectCodeAsync(policy.appCodeAdd('alice', 'tab\there'), 'INVALID_INPUT');
    await policy.appCodeAdd('alice', 'Tablet');
    await expectCodeAsync(policy.appCodeAdd('alice', 'Laptop'), 'LIMIT_REACHED');
    await policy.appCodeRevoke('alice', 'Phone');
    await expectCodeAsync(policy.appCodeRevoke('alice', 'Phone'), 'NOT_FOUND');
    const again = await policy.appCodeAdd('alice', 'Phone');
    expect(again.code).not.toBe(a.code);
    expect((await policy.appCodeList('alice')).map((c) => c.name)).toEqual(['Tablet', 'Phone']);
    expect((await policy.appCodeList('alice'))[0]).toMatchObject({ lastUsedAt: null, lastUsedIp: null });
  });

  it('a revoke by a second process (the CLI) is seen by the server at once', async () => {
    const server = await setup();
    await enable2fa(server.policy, server.clock);
    const cli = await setup({}, server.dbPath);
    const { code } = await cli.policy.appCodeAdd('alice', 'Phone');
    expect(await server.policy.authenticate(req('alice', code))).toMatchObject({ ok: true, via: 'app-code' });
    await cli.policy.appCodeRevoke('alice', 'Phone');
    expect(await server.policy.authenticate(req('alice', code))).toEqual({ ok: false, reason: 'app-code-required' });
    await cli.policy.disable('alice');
    expect(await server.policy.authenticate(req('alice', 'main-password'))).toMatchObject({ ok: true, via: 'passthrough' });
  });
});

describe('admin', () => {
  it('showUser reports counts, or USER_NOT_FOUND', async () => {
    const { policy, clock } = await setup();
    await expectCodeAsync(policy.showUser('ghost'), 'USER_NOT_FOUND');
    await enable2fa(policy, clock);
    await policy.appCodeAdd('alice', 'Phone');
    await policy.trustDevice('alice', 'laptop');
    expect(await policy.showUser('ALICE')).toEqual({
      username: 'alice',
      adminPolicy: 'allowed',
      source: 'user',
      twofaState: 'on',
      appCodes: 1,
      oneTimeCodesUnused: 10,
      trustedDevices: 1,
      createdAt: new Date(T0).toISOString(),
    });
  });

  it('disallowing wipes everything; the user logs in with the main password again', async () => {
    const { policy, clock, store } = await setup();
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    const token = await policy.trustDevice('alice', 'laptop');
    await policy.setAdminPolicy('alice', 'disallowed');
    expect(await policy.showUser('alice')).toMatchObject({
      adminPolicy: 'disallowed',
      twofaState: 'off',
      appCodes: 0,
      oneTimeCodesUnused: 0,
      trustedDevices: 0,
    });
    expect(await store.accounts.findByUsername('alice')).toMatchObject({ totpSecretEnc: null, totpLastStep: null });
    expect(await policy.isTrustedDevice('alice', token)).toBe(false);
    expect(await policy.authenticate(req('alice', code))).toMatchObject({ ok: true, via: 'passthrough' });
    await expectCodeAsync(policy.totpEnroll('alice'), 'USER_NOT_ALLOWED');
  });

  it('disable turns 2FA off but keeps the admin policy', async () => {
    const { policy, clock } = await setup();
    await enable2fa(policy, clock);
    await policy.appCodeAdd('alice', 'Phone');
    await policy.disable('alice');
    expect(await policy.showUser('alice')).toMatchObject({ adminPolicy: 'allowed', twofaState: 'off', appCodes: 0, oneTimeCodesUnused: 0 });
    await expectCodeAsync(policy.oneTimeCodesShow('alice'), 'BAD_STATE');
    expect((await policy.totpEnroll('alice')).key).toMatch(/^[A-Z2-7]+$/); // may enrol again
  });

  it('trusted devices: check, revoke others, revoke all', async () => {
    const { policy, clock } = await setup();
    await enable2fa(policy, clock);
    const a = await policy.trustDevice('alice', 'laptop');
    const b = await policy.trustDevice('alice', 'desktop');
    expect(await policy.isTrustedDevice('alice', a)).toBe(true);
    expect(await policy.isTrustedDevice('bob', a)).toBe(false);
    expect(await policy.revokeTrustedDevices('alice', { exceptToken: a })).toBe(1);
    expect(await policy.isTrustedDevice('alice', b)).toBe(false);
    expect(await policy.isTrustedDevice('alice', a)).toBe(true);
    expect(await policy.revokeTrustedDevices('alice')).toBe(1);
    expect(await policy.isTrustedDevice('alice', a)).toBe(false);
  });

  it('audit is newest first with ISO times', async () => {
    const { policy, clock } = await setup();
    await policy.setAdminPolicy('alice', 'allowed');
    clock.now += 1000;
    await policy.setAdminPolicy('bob', 'required');
    const all = await policy.audit();
    expect(all.map((e) => [e.user, e.event])).toEqual([
      ['bob', 'admin.policy'],
      ['alice', 'admin.policy'],
    ]);
    expect(all[0]?.at).toBe(new Date(T0 + 1000).toISOString());
    expect(await policy.audit({ user: 'ALICE', limit: 5 })).toHaveLength(1);
  });

  it('prunes audit events past the retention, in batches, keeping the recent ones', async () => {
    const DAY = 24 * 60 * 60_000;
    const { policy, clock } = await setup({ store: { audit_retention_days: 30 } });
    for (let i = 0; i < 7; i++) {
      await policy.setAdminPolicy(`old${i}`, 'allowed');
      clock.now += 1000;
    }
    clock.now += 20 * DAY;
    await policy.setAdminPolicy('recent', 'allowed');
    clock.now += 15 * DAY; // the first seven are now 35 days old, 'recent' 15
    expect(await policy.pruneAudit(3)).toBe(7);
    expect((await policy.audit()).map((e) => e.user)).toEqual(['recent']);
    expect(await policy.pruneAudit(3)).toBe(0);

    const forever = await setup({ store: { audit_retention_days: 0 } });
    await forever.policy.setAdminPolicy('x', 'allowed');
    forever.clock.now += 3650 * DAY;
    expect(await forever.policy.pruneAudit()).toBe(0);
    expect(await forever.policy.audit()).toHaveLength(1);
  });
});

describe('secrets at rest', () => {
  it('no code, key or password appears in the database files', async () => {
    const { policy, clock, store, dbPath } = await setup();
    const { key, oneTimeCodes } = await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    await policy.authenticate(req('alice', code));
    await policy.authenticate(req('alice', 'MainPassword-Secret-123'));
    await policy.authenticate(req('alice', code.toLowerCase() + 'x'));
    const r = req('bob', 'BobPassword-Secret-456');
    await settle(await policy.authenticate(r), 'rejected');
    await store.flush(); // the queued audit events and Last Used are in the files too
    testOnlyRawDatabase(store).pragma('wal_checkpoint(PASSIVE)');
    const files = [dbPath, `${dbPath}-wal`].filter(existsSync).map((p) => readFileSync(p));
    const needles = [code, code.toLowerCase(), key, 'MainPassword-Secret-123', 'BobPassword-Secret-456', ...oneTimeCodes];
    for (const f of files) for (const n of needles) expect(f.includes(Buffer.from(n)), n).toBe(false);
    const rows = JSON.stringify(await policy.audit({ limit: 1000 }));
    for (const n of needles) expect(rows.includes(n)).toBe(false);
    expect(rows).toContain('login.ok');
    expect(rows).toContain('app-code-required');
  });
});
