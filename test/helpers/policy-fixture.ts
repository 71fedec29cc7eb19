// A Policy over a temp SQLite file with a counting argon2 hasher (at the test suite's cheap cost),
// a settable clock and a recording sleep; shared by the policy unit tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { ARGON2_TEST_PARAMS, createArgon2Hasher, totpCode, type Hasher } from '../../src/crypto/index.js';
import { Policy, type AuthDecision, type AuthRequest, type PassthroughOutcome } from '../../src/policy/index.js';
import { openStore, type Store } from '../../src/store/index.js';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
export const MASTER_KEY = Buffer.alloc(32, 9);
const opened: Store[] = [];

/** Closes it in closeOpenedStores(). */
export function trackStore(s: Store): Store {
  opened.push(s);
  return s;
}

/** Closes every store opened by setup(); call from afterEach. */
export async function closeOpenedStores(): Promise<void> {
  for (const s of opened.splice(0)) await s.close();
}

export interface Counting extends Hasher {
  hashes: number;
  verifies: number;
  reset(): void;
}

/** A real argon2id hasher at the cheap test cost (crypto.test checks the production cost). */
export const testHasher = (): Hasher => createArgon2Hasher(ARGON2_TEST_PARAMS);

export function countingHasher(): Counting {
  const inner = testHasher();
  const h: Counting = {
    hashes: 0,
    verifies: 0,
    reset() {
      h.hashes = 0;
      h.verifies = 0;
    },
    hash: (p) => {
      h.hashes++;
      return inner.hash(p);
    },
    verify: (hash, p) => {
      h.verifies++;
      return inner.verify(hash, p);
    },
  };
  return h;
}

export function makeConfig(
  over: {
    auth?: Partial<Config['auth']>;
    codes?: Partial<Config['codes']>;
    store?: Partial<Config['store']>;
    /** A [notify] section (raw TOML values) turns mail notices on; [portal] public_url comes with it. */
    notify?: Record<string, unknown>;
  } = {},
): Config {
  return configSchema.parse({
    ...(over.notify ? { notify: over.notify, portal: { public_url: 'https://mail.example.com/' } } : {}),
    store: { ...over.store },
    backend: { master_user: 'master', master_password: 'not-used-here' },
    auth: { allow_plaintext: false, ip_failures: 3, user_failures: 5, failure_window_seconds: 60, failure_delay_ms: 0, ...over.auth },
    codes: { max_app_codes: 25, ...over.codes },
    totp: { issuer: 'Example Mail' },
  });
}

export async function setup(over: Parameters<typeof makeConfig>[0] = {}, path?: string) {
  const sleeps: number[] = [];
  const dbPath = path ?? join(mkdtempSync(join(tmpdir(), 'twostep-policy-')), 'twostep.db');
  const store = await openStore(dbPath);
  opened.push(store);
  const clock = { now: T0 };
  const hasher = countingHasher();
  const policy = new Policy({
    store,
    masterKey: MASTER_KEY,
    config: makeConfig(over),
    logger: silentLogger(),
    clock: () => clock.now,
    hasher,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { policy, store, dbPath, clock, hasher, sleeps };
}

let cid = 0;
export function req(user: string, secret: string, over: Partial<AuthRequest> = {}): AuthRequest {
  return {
    protocol: 'imap',
    mechanism: 'LOGIN',
    user,
    secret: new Secret(secret),
    clientIp: '192.0.2.10',
    clientPort: 50000,
    tls: true,
    clientName: 'Thunderbird 128',
    cid: `c${++cid}`,
    ...over,
  };
}

/** alice: allowed, TOTP confirmed (2FA on). Returns the TOTP key and the one-time codes. */
export async function enable2fa(policy: Policy, clock: { now: number }, user = 'alice') {
  await policy.setAdminPolicy(user, 'allowed');
  const { key } = await policy.totpEnroll(user);
  const { oneTimeCodes } = await policy.totpConfirm(user, totpCode(key, clock.now));
  return { key, oneTimeCodes };
}


/** Reports the backend's verdict on a passthrough decision (no-op for any other decision). */
export async function settle(d: AuthDecision, outcome: PassthroughOutcome): Promise<void> {
  if (d.ok && d.via === 'passthrough') await d.passthrough.settle(outcome);
}
