import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { FailReason } from '../../src/policy/types.js';
import { LineReader } from '../../src/protocols/shared/line-reader.js';
import { backendFarewell } from '../../src/protocols/smtp/backend-farewell.js';
import { ehloLines, extensionMap, passedOnExtensions } from '../../src/protocols/smtp/ehlo-extensions.js';
import { readSmtpReply } from '../../src/protocols/smtp/read-smtp-reply.js';
import { multiline, renderFailure } from '../../src/protocols/smtp/responses.js';
import { heloName, parseSmtpCommand } from '../../src/protocols/smtp/smtp-command.js';
import { xclientAddr, xtext } from '../../src/protocols/smtp/xtext.js';
import { exampleConfigText, withSectionUncommented } from '../helpers/example-config.js';
import { parsedOrReason } from '../helpers/session-fixtures.js';

const POSTFIX_EHLO = [
  'mx.test.example',
  'PIPELINING',
  'SIZE 10240000',
  'VRFY',
  'ETRN',
  'STARTTLS',
  'AUTH PLAIN LOGIN',
  'XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT',
  'XFORWARD NAME ADDR PROTO HELO',
  'ENHANCEDSTATUSCODES',
  '8BITMIME',
  'DSN',
  'SMTPUTF8',
  'CHUNKING',
];

describe('EHLO extensions', () => {
  it("passes on the backend's transfer extensions only, never AUTH/STARTTLS/XCLIENT/XFORWARD/VRFY/ETRN", () => {
    expect(passedOnExtensions(POSTFIX_EHLO)).toEqual(['PIPELINING', 'SIZE 10240000', 'ENHANCEDSTATUSCODES', '8BITMIME', 'DSN', 'SMTPUTF8', 'CHUNKING']);
  });

  it('drops malformed lines and odd parameters', () => {
    expect(passedOnExtensions(['h', 'SIZE abc', 'SIZE', '8BITMIME x', 'pipelining', 'DSN\u0007', 'SMTPUTF8'])).toEqual(['SIZE', 'PIPELINING', 'SMTPUTF8']);
  });

  it('adds our own STARTTLS and AUTH as the session allows', () => {
    expect(ehloLines({ host: 'h', backend: ['SIZE 1'], starttls: true, auth: false })).toEqual(['h', 'SIZE 1', 'STARTTLS']);
    expect(ehloLines({ host: 'h', backend: null, starttls: false, auth: true })).toEqual(['h', 'AUTH PLAIN LOGIN']);
    expect(multiline(250, ['h', 'A', 'B'])).toEqual(['250-h', '250-A', '250 B']);
  });

  it('reads the XCLIENT attributes the backend allows', () => {
    expect(extensionMap(POSTFIX_EHLO).get('XCLIENT')).toContain('LOGIN');
    expect(extensionMap(POSTFIX_EHLO).get('AUTH')).toEqual(['PLAIN', 'LOGIN']);
  });
});

describe('XCLIENT values', () => {
  it('xtext-encodes +, = and everything outside ! to ~ (RFC 1891)', () => {
    expect(xtext('alice')).toBe('alice');
    expect(xtext('a+b=c d')).toBe('a+2Bb+3Dc+20d');
    expect(xtext('jörg')).toBe('j+C3+B6rg');
  });

  it('writes IPv6 with the IPV6: prefix and unmaps IPv4-mapped addresses', () => {
    expect(xclientAddr('192.0.2.1')).toBe('192.0.2.1');
    expect(xclientAddr('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(xclientAddr('2001:db8::1')).toBe('IPV6:2001:db8::1');
  });
});

describe('commands', () => {
  it('parses verbs and arguments; refuses junk; spots web requests', () => {
    const refused = (line: Buffer) => parsedOrReason(parseSmtpCommand, line);
    expect(parseSmtpCommand(Buffer.from('ehlo phone.example'))).toEqual({ name: 'EHLO', arg: 'phone.example' });
    expect(parseSmtpCommand(Buffer.from('QUIT  '))).toEqual({ name: 'QUIT', arg: '' });
    expect(refused(Buffer.from(''))).toBe('empty');
    expect(refused(Buffer.from('12 x'))).toBe('syntax');
    expect(refused(Buffer.from([0x45, 0xff]))).toBe('encoding');
    expect(refused(Buffer.from('NOOP a\0b'))).toBe('encoding');
    expect(refused(Buffer.from('POST / HTTP/1.1'))).toBe('http-request');
  });

  it('accepts one printable token as the EHLO name', () => {
    expect(heloName('[192.0.2.1]')).toBe('[192.0.2.1]');
    expect(heloName('bücher.example')).toBe('bücher.example');
    expect(heloName('two words')).toBeNull();
    expect(heloName('x'.repeat(256))).toBeNull();
    expect(heloName('')).toBeNull();
  });
});

describe('replies', () => {
  it('renders every failure with its code and enhanced code', () => {
    const codes: Record<FailReason, RegExp> = {
      'invalid-credentials': /^535 5\.7\.8 /,
      'app-code-required': /^535 5\.7\.8 .*application code/,
      'tls-required': /^538 5\.7\.11 /,
      throttled: /^454 4\.7\.0 /,
      'backend-unavailable': /^454 4\.7\.0 /,
      malformed: /^501 5\.5\.2 /,
    };
    for (const [reason, re] of Object.entries(codes)) expect(renderFailure(reason as FailReason)).toMatch(re);
  });

  it('reads multi-line backend replies and refuses mixed codes', async () => {
    const s = new PassThrough();
    const r = new LineReader(s, { maxLineBytes: 1000 });
    s.write('250-mx\r\n250-SIZE 1\r\n250 DSN\r\n220 ready\r\n250-a\r\n251 b\r\n');
    expect(await readSmtpReply(r)).toEqual({ code: 250, lines: ['mx', 'SIZE 1', 'DSN'] });
    expect(await readSmtpReply(r)).toEqual({ code: 220, lines: ['ready'] });
    await expect(readSmtpReply(r)).rejects.toThrow(/codes differ/);
  });
});

describe('last words when the backend is gone', () => {
  const words = (...chunks: string[]) => {
    const s = new PassThrough();
    const ask = backendFarewell(s);
    for (const c of chunks) s.write(c);
    return ask()?.toString();
  };

  it('421 4.4.2 between replies, nothing after its own 221/421 or mid-line', () => {
    expect(words()).toMatch(/^421 4\.4\.2 /);
    expect(words('250 2.1.0 Ok\r\n354 End data\r\n')).toMatch(/^421 4\.4\.2 /);
    expect(words('221 2.0.0 Bye\r\n')).toBeUndefined();
    expect(words('250 ok\r\n', '421 4.4.2 mx Error: timeout exceeded\r\n')).toBeUndefined();
    expect(words('250 2.1.0 O')).toBeUndefined();
  });
});

describe('[smtp] in the example configuration', () => {
  it('is off as shipped, and the commented section parses once uncommented', () => {
    const text = exampleConfigText();
    expect(parseConfig(text).smtp).toBeUndefined();
    expect(parseConfig(withSectionUncommented(text, 'smtp')).smtp).toEqual({
      listen: { host: '127.0.0.1', port: 1587 },
      listen_tls: { host: '127.0.0.1', port: 1465 },
      backend: { host: '127.0.0.1', port: 587 },
      backend_tls: 'none',
      backend_login: 'master',
    });
  });
});
