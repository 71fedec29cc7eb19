import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { totpCode } from '../../src/crypto/index.js';
import { applicablePolicy, domainOf } from '../../src/policy/effective-policy.js';
import { AUDIT_CSV_HEADER, auditCsvLine, parseAuditTime, Policy, type PolicyOptions } from '../../src/policy/index.js';
import { openStore } from '../../src/store/index.js';
import { MASTER_KEY, T0, closeOpenedStores, makeConfig, req, settle, trackStore } from '../helpers/policy-fixture.js';

/** The policy side of the admin console (issue 17): domains, the one rule, pages, the overview, exports, admin proof. */

class RecordingPolicy extends Policy {
  readonly ended: string[] = [];
  protected override twoStepEnded(users: readonly string[]): void {
    this.ended.push(...users);
  }
}

afterEach(closeOpenedStores);

async function setup() {
  const store = trackStore(await openStore(join(mkdtempSync(join(tmpdir(), 'twostep-console-')), 'twostep.db')));
  const clock = { now: T0 };
  const opts: PolicyOptions = { store, masterKey: MASTER_KEY, config: makeConfig({ auth: { user_failures: 50, ip_failures: 500 } }), logger: silentLogger(), clock: () => clock.now, sleep: async () => {} };
  const policy = new RecordingPolicy(opts);
  const enrol = async (user: string) => {
    const { key } = await policy.totpEnroll(user);
    await policy.totpConfirm(user, totpCode(key, clock.now));
    return key;
  };
  return { policy, store, clock, enrol };
}

const actor = { admin: 'root', ip: '192.0.2.1' };

describe('which policy applies: the user own, else the domain, else the default', () => {
  it('the rule, and the domain it reads', () => {
    expect(applicablePolicy('allowed', 'required')).toEqual({ policy: 'allowed', source: 'user' });
    expect(applicablePolicy(null, 'required')).toEqual({ policy: 'required', source: 'domain' });
    expect(applicablePolicy(null, null)).toEqual({ policy: 'disallowed', source: 'default' });
    expect(domainOf('a@b.example')).toBe('b.example');
    expect(domainOf('a@b@c.example')).toBe('b@c.example'); // the first '@', as the store's column
    expect(domainOf('plain')).toBe('');
  });

  it('a domain set to require makes a new user of it required (user show says so and where from), without locking them out of mail', async () => {
    const { policy } = await setup();
    await expect(policy.showUser('new@corp.example')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await policy.console.setDomainPolicy('Corp.Example', 'required', actor);
    expect(await policy.showUser('new@corp.example')).toMatchObject({ adminPolicy: 'required', source: 'domain', twofaState: 'off', createdAt: null });
    // Until they set it up, the main password still signs in (the backend judges it).
    const d = await policy.authenticate(req('new@corp.example', 'main-password'));
    expect(d).toMatchObject({ ok: true, via: 'passthrough' });
    await settle(d, 'ok');
    await policy.flush();
    // Their login made the account (following the domain): the rollout counts them now.
    await expect.poll(async () => (await policy.console.findUsers({ state: 'required' })).users.map((u) => u.username)).toEqual(['new@corp.example']);
    expect(await policy.accountOverview('other@corp.example')).toMatchObject({ adminPolicy: 'required', maySetUp: true, mayDisable: false });
    expect(await policy.accountOverview('x@elsewhere.example')).toMatchObject({ adminPolicy: null, maySetUp: false });
  });

  it("a user's own setting overrides the domain's; inherit gives the domain's back", async () => {
    const { policy, enrol } = await setup();
    await policy.console.setDomainPolicy('corp.example', 'required');
    await policy.setAdminPolicy('boss@corp.example', 'allowed');
    expect(await policy.showUser('boss@corp.example')).toMatchObject({ adminPolicy: 'allowed', source: 'user' });
    await enrol('boss@corp.example');
    expect(await policy.accountOverview('boss@corp.example')).toMatchObject({ mayDisable: true });
    expect(await policy.console.followDomain('boss@corp.example')).toEqual({ policy: 'required', source: 'domain' });
    expect(await policy.accountOverview('boss@corp.example')).toMatchObject({ mayDisable: false });
    await expect(policy.userDisable('boss@corp.example')).rejects.toMatchObject({ code: 'USER_NOT_ALLOWED' });
    // The domain's policy goes: the default (not offered) applies, and two-step goes off.
    await policy.console.setDomainPolicy('corp.example', null);
    expect(await policy.showUser('boss@corp.example')).toMatchObject({ adminPolicy: 'disallowed', source: 'default', twofaState: 'off' });
    expect(policy.ended).toEqual(['boss@corp.example']);
  });

  it('a new user of an allowed domain enrols; disallowing the domain turns off those who follow it, not those with their own setting', async () => {
    const { policy, enrol } = await setup();
    await policy.console.setDomainPolicy('corp.example', 'allowed');
    await enrol('fan@corp.example'); // no account before: enrolment makes one that follows the domain
    const { code } = await policy.appCodeAdd('fan@corp.example', 'Phone');
    await policy.setAdminPolicy('own@corp.example', 'allowed');
    await enrol('own@corp.example');
    const r = await policy.console.setDomainPolicy('corp.example', 'disallowed', actor);
    expect(r).toEqual({ followers: 1, wiped: 1 });
    expect(policy.ended).toEqual(['fan@corp.example']);
    expect(await policy.showUser('fan@corp.example')).toMatchObject({ adminPolicy: 'disallowed', source: 'domain', twofaState: 'off', appCodes: 0 });
    expect(await policy.showUser('own@corp.example')).toMatchObject({ adminPolicy: 'allowed', source: 'user', twofaState: 'on' });
    // The revoked code no longer signs in; the main password does again.
    expect(await policy.authenticate(req('fan@corp.example', code))).toMatchObject({ ok: true, via: 'passthrough' });
    await expect(policy.totpEnroll('fan@corp.example')).rejects.toMatchObject({ code: 'USER_NOT_ALLOWED' });
  });

  it('a domain name is checked', async () => {
    const { policy } = await setup();
    for (const bad of ['', 'a b', 'x@y', 'a,b', 'x'.repeat(254)]) {
      await expect(policy.console.setDomainPolicy(bad, 'allowed')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
  });
});

describe('the console: user pages, the overview, the audit log', () => {
  it('pages users with search and state, and the overview counts them per domain', async () => {
    const { policy, store } = await setup();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 120; i++) {
        const a = await tx.accounts.create(`u${String(i).padStart(3, '0')}@${i < 100 ? 'big' : 'small'}.example`, i % 4 === 0 ? 'required' : 'allowed', T0);
        if (i % 10 === 0) {
          await tx.accounts.setTotpPending(a.id, Buffer.alloc(8), T0);
          await tx.accounts.setTwofaOn(a.id, 1, T0);
        }
      }
    });
    const p1 = await policy.console.findUsers({});
    expect(p1.users).toHaveLength(50);
    expect(p1.prev).toBeNull();
    const p2 = await policy.console.findUsers({ after: p1.next! });
    const p3 = await policy.console.findUsers({ after: p2.next! });
    expect(p3.users).toHaveLength(20);
    expect(p3.next).toBeNull();
    expect((await policy.console.findUsers({ before: p3.prev! })).users).toEqual(p2.users);
    expect((await policy.console.findUsers({ before: p2.prev! })).users).toEqual(p1.users);
    expect((await policy.console.findUsers({ q: 'U042' })).users.map((u) => u.username)).toEqual(['u042@big.example']);
    const required = await policy.console.findUsers({ state: 'required', domain: 'small.example' });
    expect(required.users.map((u) => u.username)).toEqual(['u104@small.example', 'u108@small.example', 'u112@small.example', 'u116@small.example']);
    expect(required.users[0]).toMatchObject({ adminPolicy: 'required', source: 'user', state: 'required' });
    await expect(policy.console.findUsers({ q: 'x'.repeat(300) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    const o = await policy.console.overview();
    expect(o.overall).toEqual({ total: 120, on: 12, required: 24, allowed: 84, off: 0 }); // on: every 10th; required: every 4th not on
    expect(o.domains.map((d) => [d.domain, d.total, d.on])).toEqual([['big.example', 100, 10], ['small.example', 20, 2]]);
    expect(o.chase).toHaveLength(20);
    expect(o.chase[0]).toEqual({ username: 'u004@big.example', twofaState: 'off' });
  });

  it("the chart counts each day's enrolments, app-code logins by protocol, refused main passwords and lockouts", async () => {
    const { policy, clock, enrol } = await setup();
    await policy.setAdminPolicy('alice@x.example', 'allowed');
    clock.now = T0 - 2 * 86_400_000;
    await enrol('alice@x.example');
    const { code } = await policy.appCodeAdd('alice@x.example', 'Phone');
    clock.now = T0;
    expect(await policy.authenticate(req('alice@x.example', code))).toMatchObject({ ok: true, via: 'app-code' });
    expect(await policy.authenticate(req('alice@x.example', code, { protocol: 'pop3' }))).toMatchObject({ ok: true });
    expect(await policy.authenticate(req('alice@x.example', 'her main password'))).toMatchObject({ ok: false, reason: 'app-code-required' });
    const o = await policy.console.overview();
    expect(o.days).toHaveLength(30);
    const today = o.days[29]!;
    expect(today.date).toBe(new Date(T0).toISOString().slice(0, 10));
    expect(today).toMatchObject({ appCodeLogins: { imap: 1, pop3: 1 }, refusedMainPassword: 1, enrolments: 0 });
    expect(o.days[27]!.enrolments).toBe(1);
    expect(o.protocols).toEqual(['imap', 'pop3']);
  });

  it('audit pages filter by user, event prefix, protocol, address and time; the export streams them all; CSV cells cannot be formulas', async () => {
    const { policy, store } = await setup();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 250; i++) {
        await tx.audit.insert({ at: T0 - i * 60_000, username: i % 2 ? 'bob' : '=HYPERLINK("http://evil/")', event: i % 3 ? 'login.ok' : 'login.fail', protocol: i % 5 ? 'imap' : 'pop3', ip: `10.0.0.${i % 4}`, detail: { n: i } });
      }
    });
    const p1 = await policy.console.auditPage({ event: 'login' });
    expect(p1.entries).toHaveLength(100);
    const p2 = await policy.console.auditPage({ event: 'login' }, { after: p1.next! });
    const p3 = await policy.console.auditPage({ event: 'login' }, { after: p2.next! });
    expect(p3.entries).toHaveLength(50);
    expect(p3.next).toBeNull();
    expect((await policy.console.auditPage({ event: 'login' }, { before: p2.prev! })).entries).toEqual(p1.entries);
    const since = new Date(T0 - 30 * 60_000).toISOString().slice(0, 16);
    const narrow = await policy.console.auditPage({ user: 'BOB', event: 'login.fail', protocol: 'IMAP', ip: '10.0.0.3', since });
    expect(narrow.entries.map((e) => e.detail.n)).toEqual([3, 27]); // odd, a multiple of 3, 3 mod 4, not a multiple of 5, within 30 min
    expect((await policy.console.auditPage({ event: 'login.ok.nothing' })).entries).toEqual([]);
    await expect(policy.console.auditPage({ since: 'yesterday' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    const all = [];
    for await (const e of policy.console.auditExport({ protocol: 'pop3' })) all.push(e);
    expect(all).toHaveLength(50);
    const line = auditCsvLine(all.find((e) => e.user?.startsWith('='))!);
    expect(line).toMatch(/^[^,]+,"'=HYPERLINK\(""http:\/\/evil\/""\)",login\.(ok|fail),pop3,10\.0\.0\.\d,"\{""n"":\d+\}"\r\n$/);
    expect(AUDIT_CSV_HEADER).toBe('time,user,event,protocol,ip,detail\r\n');
  });

  it('times: dates, UTC minutes, zones and "ago"', () => {
    const now = Date.UTC(2026, 4, 10, 12);
    expect(parseAuditTime('2026-05-01', now)).toBe(Date.UTC(2026, 4, 1));
    expect(parseAuditTime('2026-05-01', now, true)).toBe(Date.UTC(2026, 4, 2)); // an until date: the whole day
    expect(parseAuditTime('2026-05-01T08:30', now)).toBe(Date.UTC(2026, 4, 1, 8, 30));
    expect(parseAuditTime('2026-05-01 08:30:15+02:00', now)).toBe(Date.UTC(2026, 4, 1, 6, 30, 15));
    expect(parseAuditTime('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseAuditTime('90m', now)).toBe(now - 90 * 60_000);
    for (const bad of ['', 'now', '2026-13-01', '2026-02-30', '2026-05-01T25:00', '2026-02-30T10:00', '7y']) expect(() => parseAuditTime(bad, now)).toThrow(/not a time/);
  });
});

describe('an admin proves a new authenticator before the console works', () => {
  it('the first sign-in is unconfirmed; a code of a later step confirms; reset-totp starts over', async () => {
    const { policy, clock } = await setup();
    const { key } = await policy.admins.add('root', new Secret('a long admin password'));
    expect((await policy.admins.list())[0]).toMatchObject({ name: 'root', confirmed: false });
    const signIn = (k: string) => policy.admins.signIn({ name: 'root', password: new Secret('a long admin password'), code: totpCode(k, clock.now), clientIp: '192.0.2.9' });
    expect(await signIn(key)).toEqual({ ok: true, name: 'root', confirmed: false });
    // The same code again (the same step) proves nothing.
    expect(await policy.console.confirmAdminTotp('root', totpCode(key, clock.now), '192.0.2.9')).toEqual({ ok: false, reason: 'invalid-code' });
    expect(await policy.console.confirmAdminTotp('root', '123456', '192.0.2.9')).toEqual({ ok: false, reason: 'invalid-code' });
    clock.now += 30_000;
    expect(await policy.console.confirmAdminTotp('root', totpCode(key, clock.now), '192.0.2.9')).toEqual({ ok: true });
    expect((await policy.admins.list())[0]).toMatchObject({ confirmed: true });
    clock.now += 30_000;
    expect(await signIn(key)).toEqual({ ok: true, name: 'root', confirmed: true });
    const { key: newKey } = await policy.admins.resetTotp('root');
    clock.now += 30_000;
    expect(await signIn(newKey)).toEqual({ ok: true, name: 'root', confirmed: false });
    const events = (await policy.auditSearch({ event: 'admin.totp-confirm' })).map((e) => e.event);
    expect(events).toEqual(['admin.totp-confirm', 'admin.totp-confirm.fail', 'admin.totp-confirm.fail']);
  });
});
