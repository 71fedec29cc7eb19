import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTwostepError } from '../../src/core/errors.js';
import {
  APP_CODE_ALPHABET,
  ARGON2_PARAMS,
  ARGON2_TEST_PARAMS,
  argon2ParamsFrom,
  codeLookup,
  createArgon2Hasher,
  decryptSecret,
  deriveKeys,
  encryptSecret,
  formatOneTimeCode,
  generateAppCode,
  generateOneTimeCode,
  loadOrCreateKeyFile,
  normalizeAppCode,
  normalizeOneTimeCode,
  randomCode,
} from '../../src/crypto/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'twostep-crypto-'));

describe('application codes', () => {
  it('are 16 letters A-Z', () => {
    for (let i = 0; i < 200; i++) expect(generateAppCode()).toMatch(/^[A-Z]{16}$/);
  });

  it('are distinct and roughly uniform over the alphabet', () => {
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const c = generateAppCode();
      seen.add(c);
      for (const ch of c) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(seen.size).toBe(n);
    expect(counts.size).toBe(26);
    const expected = (n * 16) / 26; // ≈ 2462
    for (const ch of APP_CODE_ALPHABET) {
      const c = counts.get(ch) ?? 0;
      expect(c).toBeGreaterThan(expected * 0.85);
      expect(c).toBeLessThan(expected * 1.15);
    }
  });

  it('randomCode is not biased towards low symbols (alphabet not dividing 256)', () => {
    // 200 does not divide 256: a plain byte % 200 would give 0..55 twice the weight.
    const alphabet = Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x100 + i)).join('');
    const s = randomCode(alphabet, 200_000);
    let low = 0;
    for (const ch of s) if (ch.charCodeAt(0) - 0x100 < 56) low++;
    expect(low / s.length).toBeGreaterThan(0.25);
    expect(low / s.length).toBeLessThan(0.31); // unbiased: 56/200 = 0.28; biased would be ≈ 0.44
  });

  it('normalize: case, spaces, dashes; null otherwise', () => {
    expect(normalizeAppCode('RFSALANSXUAFAYDT')).toBe('RFSALANSXUAFAYDT');
    expect(normalizeAppCode('rfsalansxuafaydt')).toBe('RFSALANSXUAFAYDT');
    expect(normalizeAppCode('rfsa lans xuaf aydt')).toBe('RFSALANSXUAFAYDT');
    expect(normalizeAppCode('RFSA-LANS-XUAF-AYDT')).toBe('RFSALANSXUAFAYDT');
    expect(normalizeAppCode(' rfsa-lans xuaf-aydt ')).toBe('RFSALANSXUAFAYDT');
    expect(normalizeAppCode('RFSALANSXUAFAYD')).toBeNull(); // 15
    expect(normalizeAppCode('RFSALANSXUAFAYDTX')).toBeNull(); // 17
    expect(normalizeAppCode('RFSALANSXUAFAYD1')).toBeNull();
    expect(normalizeAppCode('hunter2')).toBeNull();
    expect(normalizeAppCode('RFSALANSXUAFAYDÄ')).toBeNull();
    expect(normalizeAppCode('')).toBeNull();
  });
});

describe('one-time codes', () => {
  it('are 8 digits and normalize spaces and dashes', () => {
    for (let i = 0; i < 100; i++) expect(generateOneTimeCode()).toMatch(/^[0-9]{8}$/);
    expect(normalizeOneTimeCode('1234 5678')).toBe('12345678');
    expect(normalizeOneTimeCode('1234-5678')).toBe('12345678');
    expect(normalizeOneTimeCode(formatOneTimeCode('87654321'))).toBe('87654321');
    expect(normalizeOneTimeCode('1234567')).toBeNull();
    expect(normalizeOneTimeCode('1234567a')).toBeNull();
  });
});

describe('argon2 hasher', () => {
  it('hashes with argon2id at the documented cost and verifies', async () => {
    const h = createArgon2Hasher();
    const hash = await h.hash('RFSALANSXUAFAYDT');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await h.verify(hash, 'RFSALANSXUAFAYDT')).toBe(true);
    expect(await h.verify(hash, 'RFSALANSXUAFAYDX')).toBe(false);
    expect(await h.verify('not a hash', 'x')).toBe(false);
  });

  it('takes the test suite\'s cheap cost only when NODE_ENV=test and TWOSTEP_TEST_ARGON2=cheap are both set', async () => {
    expect(argon2ParamsFrom({ NODE_ENV: 'test', TWOSTEP_TEST_ARGON2: 'cheap' })).toBe(ARGON2_TEST_PARAMS);
    for (const env of [{}, { TWOSTEP_TEST_ARGON2: 'cheap' }, { NODE_ENV: 'production', TWOSTEP_TEST_ARGON2: 'cheap' }, { NODE_ENV: 'test' }, { NODE_ENV: 'test', TWOSTEP_TEST_ARGON2: '1' }]) {
      expect(argon2ParamsFrom(env), JSON.stringify(env)).toBe(ARGON2_PARAMS);
    }
    // A cheap hash is a real argon2id hash: the production hasher verifies it (the cost is in the hash).
    const cheap = await createArgon2Hasher(ARGON2_TEST_PARAMS).hash('RFSALANSXUAFAYDT');
    expect(cheap).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(await createArgon2Hasher().verify(cheap, 'RFSALANSXUAFAYDT')).toBe(true);
  });
});

describe('secret box (AES-256-GCM)', () => {
  const key = Buffer.alloc(32, 7);

  it('round-trips and uses a fresh nonce each time', () => {
    const a = encryptSecret(key, 'JBSWY3DPEHPK3PXP', 'totp:1');
    const b = encryptSecret(key, 'JBSWY3DPEHPK3PXP', 'totp:1');
    expect(a[0]).toBe(1); // version byte
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from('JBSWY3DPEHPK3PXP'))).toBe(false);
    expect(decryptSecret(key, a, 'totp:1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('detects tampering, a wrong key, a wrong context and an unknown version', () => {
    const blob = encryptSecret(key, 'secret', 'totp:1');
    const flipped = Buffer.from(blob);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    const expectInternal = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isTwostepError(e, 'INTERNAL')).toBe(true);
      }
    };
    expectInternal(() => decryptSecret(key, flipped, 'totp:1'));
    expectInternal(() => decryptSecret(Buffer.alloc(32, 8), blob, 'totp:1'));
    expectInternal(() => decryptSecret(key, blob, 'totp:2'));
    const v2 = Buffer.from(blob);
    v2[0] = 2;
    expectInternal(() => decryptSecret(key, v2, 'totp:1'));
    expectInternal(() => decryptSecret(key, blob.subarray(0, 10), 'totp:1'));
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => encryptSecret(Buffer.alloc(16), 'x', 'c')).toThrow(/32 bytes/);
  });
});

describe('key derivation and lookup', () => {
  it('derives distinct subkeys and a stable HMAC lookup', () => {
    const k = deriveKeys(Buffer.alloc(32, 1));
    expect(k.encryptionKey.length).toBe(32);
    expect(k.encryptionKey.equals(k.lookupKey)).toBe(false);
    expect(k.lookupKey.equals(Buffer.alloc(32, 1))).toBe(false);
    const l = codeLookup(k.lookupKey, 'RFSALANSXUAFAYDT');
    expect(l).toMatch(/^[0-9a-f]{64}$/);
    expect(codeLookup(k.lookupKey, 'RFSALANSXUAFAYDT')).toBe(l);
    expect(codeLookup(deriveKeys(Buffer.alloc(32, 2)).lookupKey, 'RFSALANSXUAFAYDT')).not.toBe(l);
    expect(() => deriveKeys(Buffer.alloc(31))).toThrow();
  });
});

describe('key file', () => {
  it('creates a 0600 file (and its directory) holding 32 random bytes, then reloads it', () => {
    const path = join(tmp(), 'sub', 'dir', 'secret.key');
    const k1 = loadOrCreateKeyFile(path);
    expect(k1.length).toBe(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').equals(k1)).toBe(true);
    expect(loadOrCreateKeyFile(path).equals(k1)).toBe(true);
  });

  it('refuses a group/world-readable file', () => {
    const path = join(tmp(), 'secret.key');
    loadOrCreateKeyFile(path);
    chmodSync(path, 0o644);
    try {
      loadOrCreateKeyFile(path);
      expect.unreachable();
    } catch (e) {
      expect(isTwostepError(e, 'CONFIG_INVALID')).toBe(true);
      expect(String((e as Error).message)).toMatch(/chmod 600/);
    }
  });

  it('refuses a key of the wrong length', () => {
    const path = join(tmp(), 'secret.key');
    writeFileSync(path, Buffer.alloc(16, 3).toString('base64') + '\n', { mode: 0o600 });
    expect(() => loadOrCreateKeyFile(path)).toThrow(/exactly 32 bytes/);
    writeFileSync(path, 'not base64 at all!!\n', { mode: 0o600 });
    expect(() => loadOrCreateKeyFile(path)).toThrow(/exactly 32 bytes/);
  });
});
