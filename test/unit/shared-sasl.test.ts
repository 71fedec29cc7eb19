import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from '../../src/protocols/shared/base64-strict.js';
import { SaslLogin, SaslLoginStep, SASL_LOGIN_PASSWORD_PROMPT, SASL_LOGIN_USERNAME_PROMPT } from '../../src/protocols/shared/sasl-login.js';
import { decodeSaslPlain, encodeSaslPlain } from '../../src/protocols/shared/sasl-plain.js';
import { Secret } from '../../src/core/secret.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describe('SASL PLAIN', () => {
  it('decodes authzid, authcid and password', () => {
    const r = decodeSaslPlain(b64('alice\0proxymaster\0s3cret'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.authzid).toBe('alice');
    expect(r.authcid).toBe('proxymaster');
    expect(r.password).toBeInstanceOf(Secret);
    expect(r.password.reveal()).toBe('s3cret');
    expect(JSON.stringify(r)).not.toContain('s3cret');
  });

  it('accepts an empty authzid and an empty or UTF-8 password', () => {
    const r = decodeSaslPlain(b64('\0bob\0pässwörd'));
    expect(r.ok && r.authzid === '' && r.authcid === 'bob' && r.password.reveal() === 'pässwörd').toBe(true);
    expect(decodeSaslPlain(b64('\0bob\0')).ok).toBe(true);
  });

  it.each([
    ['one NUL', b64('bob\0pw')],
    ['three NULs', b64('\0bob\0pw\0x')],
    ['no NUL', b64('bobpw')],
    ['empty authcid', b64('alice\0\0pw')],
    ['empty', ''],
    ['invalid base64 chars', 'AGJvYgBwdw==!'],
    ['missing padding', 'AGJvYgBwdw'],
    ['whitespace', 'AGJv YgBwdw=='],
    ['invalid UTF-8', Buffer.from([0, 0x62, 0, 0xff, 0xfe]).toString('base64')],
  ])('rejects %s as malformed', (_name, input) => {
    expect(decodeSaslPlain(input).ok).toBe(false);
  });

  it('encodes what it decodes', () => {
    const enc = encodeSaslPlain('alice', 'proxymaster', new Secret('m'));
    expect(Buffer.from(enc, 'base64').toString()).toBe('alice\0proxymaster\0m');
  });

  it('strict base64 refuses what Buffer.from would silently accept', () => {
    expect(decodeBase64Strict('YWJj')?.toString()).toBe('abc');
    expect(decodeBase64Strict('YW Jj')).toBeNull();
    expect(decodeBase64Strict('YWJ')).toBeNull();
    expect(decodeBase64Strict('')?.length).toBe(0);
  });
});

describe('SASL LOGIN', () => {
  it('walks username then password', () => {
    const s = new SaslLogin();
    expect(s.prompt()).toBe(SASL_LOGIN_USERNAME_PROMPT);
    expect(Buffer.from(SASL_LOGIN_USERNAME_PROMPT, 'base64').toString()).toBe('Username:');
    const a = s.feed(b64('alice'));
    expect(a).toEqual({ ok: true, done: false, prompt: SASL_LOGIN_PASSWORD_PROMPT });
    expect(s.step).toBe(SaslLoginStep.Password);
    const b = s.feed(b64('pw 1'));
    expect(b.ok && b.done && b.user === 'alice' && b.password.reveal() === 'pw 1').toBe(true);
    expect(s.step).toBe(SaslLoginStep.Done);
    expect(s.feed(b64('more')).ok).toBe(false);
  });

  it('rejects bad base64, NUL and an empty user name', () => {
    expect(new SaslLogin().feed('!!').ok).toBe(false);
    expect(new SaslLogin().feed(b64('a\0b')).ok).toBe(false);
    expect(new SaslLogin().feed('').ok).toBe(false);
  });
});
