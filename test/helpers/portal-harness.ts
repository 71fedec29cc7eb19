import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/core/logger.js';
import type { Secret } from '../../src/core/secret.js';
import { totpCode } from '../../src/crypto/index.js';
import { Policy, type PasswordChecker } from '../../src/policy/index.js';
import { testHasher } from './policy-fixture.js';
import { startPortal, type RunningPortal } from '../../src/portal/portal-server.js';
import { openStore, type Store } from '../../src/store/index.js';
import { CookieJar, send, type HttpResponse } from './http-client.js';
import { sharedTestCert } from './tls.js';

/**
 * An in-process portal over real HTTP(S) with a real policy and store; the mail server's password
 * check is faked (the browser suites use real Dovecot). Call stopPortals() after each test.
 */

export const PASSWORDS: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw' };

export interface Harness {
  url: string;
  policy: Policy;
  store: Store;
  portal: RunningPortal;
  checks: number;
  log: () => string;
  clock: { now: number };
}

const running: Harness[] = [];

export async function stopPortals(): Promise<void> {
  for (const h of running.splice(0)) {
    await h.portal.close();
    await h.store.close();
  }
}

export async function startPortalHarness(opts: { tls?: boolean; userFailures?: number; ipFailures?: number; checkDelayMs?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'twostep-portal-sec-'));
  const config = configSchema.parse({
    backend: { master_user: 'm', master_password: 'x' },
    auth: { user_failures: opts.userFailures ?? 100, ip_failures: opts.ipFailures ?? 1000, failure_delay_ms: 0 },
    portal: { listen: '127.0.0.1:8080', tls: !!opts.tls, trusted_device_days: 30, session_idle_minutes: 30 },
  });
  let logText = '';
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => ((logText += String(c)), cb()) }) });
  const store = await openStore(join(dir, 'db.sqlite'));
  const clock = { now: Date.now() };
  const policy = new Policy({ store, masterKey: Buffer.alloc(32, 7), config, logger, clock: () => clock.now, hasher: testHasher() });
  const h = { checks: 0 } as Harness;
  const checker: PasswordChecker = {
    check: async (user: string, password: Secret) => {
      h.checks++;
      // Like a real IMAP login: the verdict comes later, while other requests are served.
      if (opts.checkDelayMs) await new Promise((r) => setTimeout(r, opts.checkDelayMs));
      return PASSWORDS[user] === password.reveal() ? 'ok' : 'rejected';
    },
  };
  const cert = opts.tls ? sharedTestCert() : undefined;
  const portal = await startPortal({
    policy,
    checker,
    logger,
    settings: {
      listen: '127.0.0.1:0',
      ...(cert ? { tls: { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } } : {}),
      secureCookies: !!opts.tls,
      trustProxy: false,
      trustedDeviceDays: 30,
    },
  });
  Object.assign(h, { url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${portal.port}`, policy, store, portal, log: () => logText, clock });
  running.push(h);
  return h;
}

export const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** A browser: a cookie jar, GET and form POST (with the CSRF token of the last page unless given). */
export function browserFor(h: Harness) {
  const jar = new CookieJar();
  let lastCsrf = '';
  const go = async (path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpResponse> => {
    const res = await send(h.url + path, { ...init, headers: { cookie: jar.header(), ...init.headers } });
    jar.take(res);
    const t = csrfOf(res.body);
    if (t) lastCsrf = t;
    return res;
  };
  return {
    jar,
    get: (path: string) => go(path),
    post: (path: string, fields: Record<string, string>, csrf: string | null = lastCsrf) =>
      go(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(csrf === null ? fields : { csrf, ...fields }).toString(),
      }),
    async signIn(user: string, password = PASSWORDS[user] as string) {
      await go('/sign-in');
      return this.post('/sign-in', { email: user, password });
    },
    /**
     * Admin console: password and the code of the next 30-second step; a new key (admin add,
     * reset-totp) then takes the code of the step after that at /admin/confirm. Returns the last answer.
     */
    async adminSignIn(name: string, password: string, key: string) {
      await go('/admin/sign-in');
      h.clock.now += 30_000;
      const r = await this.post('/admin/sign-in', { name, password, code: totpCode(key, h.clock.now) });
      if (r.location !== '/admin/confirm') return r;
      await go('/admin/confirm');
      h.clock.now += 30_000;
      return this.post('/admin/confirm', { code: totpCode(key, h.clock.now) });
    },
    /** Password, then the code of the next 30-second step; ends on the Accounts page. */
    async signInWithCode(user: string, key: string) {
      await this.signIn(user);
      await go('/sign-in/code');
      h.clock.now += 30_000;
      await this.post('/sign-in/code', { code: totpCode(key, h.clock.now) });
      return go('/preferences/accounts');
    },
  };
}

/** Two-step on for `user` through the policy; returns the TOTP key. */
export async function enrol(h: Harness, user: string): Promise<string> {
  await h.policy.setAdminPolicy(user, 'allowed');
  const { key } = await h.policy.totpEnroll(user);
  await h.policy.totpConfirm(user, totpCode(key, h.clock.now));
  return key;
}

/** A 6-digit code no TOTP step near `now` gives. */
export function wrongCode(key: string, now: number): string {
  const near = new Set([-60_000, -30_000, 0, 30_000, 60_000].map((d) => totpCode(key, now + d)));
  return ['000000', '111111', '222222', '333333', '444444', '555555'].find((c) => !near.has(c)) as string;
}
