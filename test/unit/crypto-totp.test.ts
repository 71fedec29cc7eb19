import { describe, expect, it } from 'vitest';
import { generateTotpKey, matchTotp, totpCode, totpStep, totpUri } from '../../src/crypto/index.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10); // 10 s into a step

describe('TOTP', () => {
  const key = generateTotpKey();

  it('generates base32 keys of 160 bits', () => {
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
  });

  it('accepts the current step and ±1, rejects ±2', () => {
    const step = totpStep(T0);
    expect(matchTotp(key, totpCode(key, T0), T0)).toBe(step);
    expect(matchTotp(key, totpCode(key, T0 - 30_000), T0)).toBe(step - 1);
    expect(matchTotp(key, totpCode(key, T0 + 30_000), T0)).toBe(step + 1);
    expect(matchTotp(key, totpCode(key, T0 - 60_000), T0)).toBeNull();
    expect(matchTotp(key, totpCode(key, T0 + 60_000), T0)).toBeNull();
  });

  it('matches the RFC 6238 SHA-1 test vector (last 6 digits)', () => {
    // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082.
    const rfcKey = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(totpCode(rfcKey, 59_000)).toBe('287082');
  });

  it('rejects malformed codes', () => {
    expect(matchTotp(key, '12345', T0)).toBeNull();
    expect(matchTotp(key, 'abcdef', T0)).toBeNull();
  });

  it('builds an otpauth URI', () => {
    expect(totpUri('twostep', 'alice@example.org', 'JBSWY3DPEHPK3PXP')).toBe(
      'otpauth://totp/twostep:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=twostep&algorithm=SHA1&digits=6&period=30',
    );
  });
});
