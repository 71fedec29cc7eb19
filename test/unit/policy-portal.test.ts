import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { isTwostepError, type ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { totpCode } from '../../src/crypto/index.js';
import { Policy } from '../../src/policy/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { testOnlyRawDatabase } from '../../src/store/sqlite/index.js';

/** The policy rules the portal relies on that the browser suites cannot easily reach. */

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function setup() {
  const store = await openStore(join(mkdtempSync(join(tmpdir(), 'twostep-policy-portal-')), 'twostep.db'));
  opened.push(store);
  const clock = { now: T0 };
  const config = configSchema.parse({ backend: { master_user: 'm', master_password: 'x' }, auth: { failure_delay_ms: 0 } });
  const policy = new Policy({ store, masterKey: Buffer.alloc(32, 3), config, logger: silentLogger(), clock: () => clock.now });
  const actor = { admin: 'root', ip: '192.0.2.1' };
  const enrol = async (user: string) => {
    await policy.setAdminPolicy(user, 'allowed');
    const { key } = await policy.totpEnroll(user);
    await policy.totpConfirm(user, totpCode(key, clock.now));
    return key;
  };
  return { policy, store, clock, actor, enrol };
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | undefined> {
  try {
    await p;
  } catch (err) {
    if (isTwostepError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('portal policy', () => {
  it('a user with no account row is offered nothing; allowed users may set up; required ones may not disable', async () => {
    const { policy, enrol } = await setup();
    expect(await policy.accountOverview('Nobody')).toMatchObject({ username: 'nobody', adminPolicy: null, maySetUp: false, mayDisable: false });
    await policy.setAdminPolicy('carol', 'allowed');
    expect(await policy.accountOverview('carol')).toMatchObject({ maySetUp: true, mayDisable: false });
    await enrol('carol');
    expect(await policy.accountOverview('carol')).toMatchObject({ twofaState: 'on', maySetUp: false, mayDisable: true, oneTimeCodesUnused: 10 });
    await policy.setAdminPolicy('carol', 'required');
    expect(await codeOf(policy.userDisable('carol'))).toBe('USER_NOT_ALLOWED');
    expect((await policy.showUser('carol')).twofaState).toBe('on');
    await policy.setAdminPolicy('carol', 'allowed');
    await policy.userDisable('carol');
    expect((await policy.showUser('carol')).twofaState).toBe('off');
  });

  it('shows the pending key again (the wizard\'s "Previous"), and nothing once confirmed', async () => {
    const { policy, clock } = await setup();
    await policy.setAdminPolicy('dan', 'allowed');
    expect(await policy.totpPendingKey('dan')).toBeNull();
    const { key } = await policy.totpEnroll('dan');
    expect((await policy.totpPendingKey('dan'))?.key).toBe(key);
    await policy.totpConfirm('dan', totpCode(key, clock.now));
    expect(await policy.totpPendingKey('dan')).toBeNull();
  });

  it('reset keeps application codes unless asked; both are audited with the admin', async () => {
    const { policy, actor, enrol } = await setup();
    await enrol('erin');
    await policy.appCodeAdd('erin', 'Phone');
    await policy.trustDevice('erin', 'web');
    await policy.resetUser(actor, 'erin', { revokeAppCodes: false });
    expect(await policy.showUser('erin')).toMatchObject({ twofaState: 'off', appCodes: 1, oneTimeCodesUnused: 0, trustedDevices: 0 });
    await enrol('erin');
    expect((await policy.appCodeList('erin')).map((c) => c.name)).toEqual(['Phone']);
    await policy.resetUser(actor, 'erin', { revokeAppCodes: true });
    expect(await policy.showUser('erin')).toMatchObject({ twofaState: 'off', appCodes: 0 });
    const actions = await policy.auditSearch({ event: 'admin.action' });
    expect(actions).toHaveLength(2);
    expect(actions.every((a) => a.detail.admin === 'root' && a.ip === '192.0.2.1' && a.protocol === 'portal')).toBe(true);
  });

  it('admins: password at least 12 characters, password and code both needed, a code step works once', async () => {
    const { policy, clock } = await setup();
    await expect(policy.admins.add('root', new Secret('short'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const { key, uri } = await policy.admins.add('Root', new Secret('a long admin password'));
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    await expect(policy.admins.add('root', new Secret('a long admin password'))).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    const attempt = (password: string, code: string) => policy.admins.signIn({ name: 'root', password: new Secret(password), code, clientIp: '192.0.2.9' });
    expect(await attempt('a long admin password', '000000')).toMatchObject({ ok: false, reason: 'invalid-credentials' });
    expect(await attempt('wrong password here', totpCode(key, clock.now))).toMatchObject({ ok: false });
    // The key's first use: signed in, but not yet proven (the console asks for a second code).
    expect(await attempt('a long admin password', totpCode(key, clock.now))).toEqual({ ok: true, name: 'root', confirmed: false });
    expect(await attempt('a long admin password', totpCode(key, clock.now))).toMatchObject({ ok: false }); // replay
    const { key: newKey } = await policy.admins.resetTotp('root');
    clock.now += 30_000;
    expect(await attempt('a long admin password', totpCode(key, clock.now))).toMatchObject({ ok: false });
    expect(await attempt('a long admin password', totpCode(newKey, clock.now))).toMatchObject({ ok: true });
    expect((await policy.admins.list()).map((a) => a.name)).toEqual(['root']);
    await policy.admins.remove('root');
    expect(await policy.admins.list()).toEqual([]);
  });

  it('web sessions: the absolute lifetime ends a busy session, a half sign-in lives 10 minutes; sweep deletes stale rows', async () => {
    const { policy, clock, store } = await setup();
    const { token } = await policy.createWebSession('user', 'fay', 'signed-in');
    expect(await policy.readWebSession(token, 'admin')).toBeNull(); // a user's token is no admin session
    for (let i = 1; i < 36; i++) {
      clock.now += 20 * 60_000; // busy: never idle 30 minutes, for 11 h 40 min
      expect((await policy.readWebSession(token, 'user'))?.subject).toBe('fay');
    }
    clock.now += 20 * 60_000; // 12 h: [portal] session_max_hours by default
    expect(await policy.readWebSession(token, 'user')).toBeNull();
    // Password given, code not yet: ten minutes to enter it, however busy.
    const half = await policy.createWebSession('user', 'hal', 'second-factor');
    clock.now += 9 * 60_000;
    expect((await policy.readWebSession(half.token, 'user'))?.stage).toBe('second-factor');
    clock.now += 60_000;
    expect(await policy.readWebSession(half.token, 'user')).toBeNull();
    await policy.createWebSession('user', 'gus', 'signed-in');
    clock.now += 31 * 60_000;
    expect(await policy.sweepWebSessions()).toBe(1);
    expect(testOnlyRawDatabase(store).prepare('SELECT count(*) AS n FROM web_sessions').get()).toEqual({ n: 0 });
  });
});
