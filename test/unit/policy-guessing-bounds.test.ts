import { afterEach, describe, expect, it } from 'vitest';
import { secondFactorLimits as L } from '../../src/core/limits.js';
import { Secret } from '../../src/core/secret.js';
import { totpCode } from '../../src/crypto/index.js';
import type { PasswordChecker, Protocol } from '../../src/policy/index.js';
import { closeOpenedStores, enable2fa, req, settle, setup } from '../helpers/policy-fixture.js';

/**
 * Issue 10 point 2: nobody locks an account's owner out, and guessing stays bounded where
 * something can be guessed. Simulated time over a real store (the integration suite runs the same
 * against the real Dovecot, Postfix and portal, compressed).
 */

afterEach(closeOpenedStores);

/** The mail server's verdict on alice's main password. */
const checker: PasswordChecker = {
  check: async (_user, password) => (password.reveal() === 'alice-main-pw' ? 'ok' : 'rejected'),
};

const MINUTE = 60_000;
const PROTOCOLS: Protocol[] = ['imap', 'pop3', 'smtp'];

describe('the owner is never locked out by someone else', () => {
  it('50 addresses sending 60 wrong passwords a minute for 10 minutes: her application code and her portal sign-in keep working', async () => {
    const { policy, clock, store } = await setup({ auth: { ip_failures: 100, user_failures: 10, failure_window_seconds: 300 } });
    const { key } = await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    const home = '198.51.100.20';
    const browser = 'alice-browser-token-0123456789';
    // She has signed in to the portal from home with this browser before.
    expect(await policy.portalSignIn({ user: 'alice', password: new Secret('alice-main-pw'), clientIp: home, browserToken: browser }, checker)).toMatchObject({ ok: true, secondFactor: 'required' });
    clock.now += 30_000; // the next TOTP step (the confirmation used this one)
    expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), home, browser)).toMatchObject({ ok: true });
    await store.flush();

    let codeLogins = 0;
    let portalSignIns = 0;
    const end = clock.now + 10 * MINUTE;
    for (let tick = 0; clock.now < end; tick++) {
      // One wrong password a second, from 50 addresses in turn, in every spelling, on every door.
      const ip = `203.0.113.${tick % 50}`;
      const spelling = ['alice', 'ALICE', ' Alice '][tick % 3] as string;
      if (tick % 4 === 3) {
        const r = await policy.portalSignIn({ user: spelling, password: new Secret(`guess-${tick}`), clientIp: ip }, checker);
        expect(r.ok).toBe(false);
      } else {
        const d = await policy.authenticate(req(spelling, `guess-${tick}`, { clientIp: ip, protocol: PROTOCOLS[tick % 3] as Protocol }));
        expect(d.ok).toBe(false);
      }
      if (tick % 10 === 0) {
        // Her phone, on the mobile network (a new address each time), on all three protocols.
        for (const protocol of PROTOCOLS) {
          const d = await policy.authenticate(req('alice', code, { clientIp: `100.64.${tick % 200}.${tick % 250}`, protocol }));
          expect(d, `${protocol} at tick ${tick}`).toMatchObject({ ok: true, via: 'app-code' });
          codeLogins++;
        }
      }
      if (tick % 60 === 30) {
        const r = await policy.portalSignIn({ user: 'alice', password: new Secret('alice-main-pw'), clientIp: home, browserToken: browser }, checker);
        expect(r, `portal at tick ${tick}`).toMatchObject({ ok: true, secondFactor: 'required' });
        expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), home, browser)).toMatchObject({ ok: true });
        portalSignIns++;
      }
      clock.now += 1_000;
    }
    expect(codeLogins).toBeGreaterThanOrEqual(90); // every 10 s of the attack, on IMAP, POP3 and SMTP
    expect(portalSignIns).toBe(10);
  });

  it('a passthrough account: strangers get at most user_failures checks per window, however many addresses; her usual network keeps working', async () => {
    const { policy, clock, store } = await setup({ auth: { ip_failures: 100, user_failures: 10, failure_window_seconds: 300 } });
    await settle(await policy.authenticate(req('bob', 'bob-pw', { clientIp: '198.51.100.5' })), 'ok');
    await store.flush();
    let checks = 0;
    for (let tick = 0; tick < 600; tick++) {
      const d = await policy.authenticate(req('bob', `guess-${tick}`, { clientIp: `203.0.113.${tick % 50}` }));
      if (d.ok) {
        checks++;
        await settle(d, 'rejected');
      }
      if (tick % 60 === 0) {
        const mine = await policy.authenticate(req('bob', 'bob-pw', { clientIp: '198.51.100.77' }));
        expect(mine, `tick ${tick}`).toMatchObject({ ok: true, via: 'passthrough' });
        await settle(mine, 'ok');
      }
      clock.now += 1_000; // 60 a minute for 10 minutes
    }
    // 10 per 5-minute window over 10 minutes: at most 2 full windows (plus the edge).
    expect(checks).toBeLessThanOrEqual(30);
    expect(checks).toBeGreaterThanOrEqual(10);
  });

  it('counters survive a restart (a second policy on the same database)', async () => {
    const first = await setup({ auth: { ip_failures: 100, user_failures: 3, failure_window_seconds: 300 } });
    for (let i = 0; i < 3; i++) await settle(await first.policy.authenticate(req('carl', `g${i}`, { clientIp: `203.0.113.${i}` })), 'rejected');
    await first.store.close();
    const second = await setup({ auth: { ip_failures: 100, user_failures: 3, failure_window_seconds: 300 } }, first.dbPath);
    second.clock.now = first.clock.now + 1_000;
    expect(await second.policy.authenticate(req('carl', 'g4', { clientIp: '203.0.113.9' }))).toMatchObject({ ok: false, reason: 'throttled' });
  });
});

describe('the second step (TOTP or one-time code) is guessable: bounded and escalated', () => {
  it('waits grow after a few wrong codes, then only a one-time code is accepted from unknown browsers; her own browser is not held back', async () => {
    const { policy, clock, store } = await setup();
    const { key, oneTimeCodes } = await enable2fa(policy, clock);
    const mine = 'alice-browser-token-0123456789';
    clock.now += 30_000;
    await policy.portalSecondFactor('alice', totpCode(key, clock.now), '198.51.100.20', mine); // signed in with her browser before
    await store.flush();
    clock.now += 30_000;
    let refusedWait = 0;
    let tries = 0;
    // An attacker who has the password, from a browser without her token, as fast as allowed.
    while (tries < L.secondFactorTotpFailures) {
      const r = await policy.portalSecondFactor('alice', '000000', '203.0.113.5');
      if (!r.ok && r.reason === 'throttled') {
        refusedWait++;
        clock.now += r.retryAfterMs ?? 1000;
        continue;
      }
      expect(r).toEqual({ ok: false, reason: 'invalid-code' });
      tries++;
    }
    expect(refusedWait).toBeGreaterThan(0);
    clock.now += L.secondFactorMaxWaitMs;
    // Now even the right TOTP code is refused from an unknown browser: one-time codes only.
    expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), '203.0.113.5')).toEqual({ ok: false, reason: 'one-time-code-required' });
    clock.now += L.secondFactorMaxWaitMs;
    expect(await policy.portalSecondFactor('alice', oneTimeCodes[0] as string, '203.0.113.5')).toMatchObject({ ok: true });
    await store.flush();
    // Her own browser was never held back, and is told what happened.
    clock.now += 30_000;
    const r = await policy.portalSecondFactor('alice', totpCode(key, clock.now), '198.51.100.20', mine);
    expect(r).toEqual({ ok: true, failedSince: 0 }); // the one-time sign-in above was the latest
    await store.flush();
    const events = (await policy.audit({ user: 'alice', limit: 1000 })).map((e) => e.event);
    expect(events).toContain('2fa.locked');
    expect(events).toContain('2fa.throttled');
  });

  it('tells the owner how many wrong codes were entered since her last sign-in', async () => {
    const { policy, clock, store } = await setup();
    const { key } = await enable2fa(policy, clock);
    clock.now += 30_000;
    expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), '198.51.100.20')).toEqual({ ok: true, failedSince: 0 });
    await store.flush();
    clock.now += 1_000;
    for (let i = 0; i < 3; i++) await policy.portalSecondFactor('alice', '111111', '203.0.113.5');
    clock.now += 30_000;
    expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), '198.51.100.20')).toEqual({ ok: true, failedSince: 3 });
  });
});
