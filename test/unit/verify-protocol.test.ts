import { describe, expect, it } from 'vitest';
import { clientNameFromDovecotId } from '../../src/verify/client-name-from-dovecot-id.js';
import { parseVerifyLine, renderVerifyAnswer } from '../../src/verify/verify-protocol.js';

const enc = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
const line = (s: string) => Buffer.from(s, 'latin1');

describe('verify request lines', () => {
  it('decode every field; a password may hold any byte, tabs and newlines included', () => {
    const pw = 'p\tw\r\n%\u0000ü€';
    const p = parseVerifyLine(
      line(`VERIFY\tuser=alice\tpassword=${enc(pw)}\tservice=sieve\trip=2001:db8::7\trport=51234\tlip=127.0.0.1\tsecured=TLS\tclient_id=${enc('"name" "K-9"')}\tmech=PLAIN\tsession=abc%2Bdef`),
    );
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.req.password.reveal()).toBe(pw);
    expect(p.req).toMatchObject({ user: 'alice', service: 'sieve', rip: '2001:db8::7', rport: 51234, lip: '127.0.0.1', secured: 'TLS', mech: 'PLAIN', session: 'abc+def' });
    expect(p.req.clientId).toBe('"name" "K-9"');
    expect(JSON.stringify(p.req)).not.toContain('p\\tw'); // the secret stays wrapped
  });

  it('ignore unknown keys and leave optional ones empty; a bad address or port becomes none', () => {
    const p = parseVerifyLine(line('VERIFY\tuser=bob\tpassword=\tservice=imap\tfuture=1\trip=not-an-ip\trport=99999'));
    expect(p).toMatchObject({ ok: true, req: { user: 'bob', rip: '', rport: 0, secured: '', clientId: '', session: '' } });
  });

  it.each([
    ['unknown command', 'HELLO\tuser=a', 'unknown-command'],
    ['empty line', '', 'unknown-command'],
    ['no user', 'VERIFY\tpassword=x\tservice=imap', 'missing-user'],
    ['no password', 'VERIFY\tuser=a\tservice=imap', 'missing-password'],
    ['no service', 'VERIFY\tuser=a\tpassword=x', 'missing-service'],
    ['field without =', 'VERIFY\tuser', 'bad-field'],
    ['broken escape', 'VERIFY\tuser=a%4\tpassword=x\tservice=imap', 'bad-escape'],
    ['non-hex escape', 'VERIFY\tuser=a%zz\tpassword=x\tservice=imap', 'bad-escape'],
    ['raw control byte', 'VERIFY\tuser=a\rb\tpassword=x\tservice=imap', 'bad-escape'],
    ['raw NUL', 'VERIFY\tuser=a\u0000\tpassword=x\tservice=imap', 'bad-escape'],
    ['duplicate field', 'VERIFY\tuser=a\tuser=b\tpassword=x\tservice=imap', 'duplicate-field'],
  ])('refuse %s with a reason token', (_name, text, error) => {
    expect(parseVerifyLine(line(text))).toEqual({ ok: false, error });
  });

  it('answers are one line each', () => {
    expect(renderVerifyAnswer({ kind: 'ok' })).toBe('OK\n');
    expect(renderVerifyAnswer({ kind: 'next' })).toBe('NEXT\n');
    expect(renderVerifyAnswer({ kind: 'fail', reason: 'app-code-required' })).toBe('FAIL\tapp-code-required\n');
    expect(renderVerifyAnswer({ kind: 'tempfail', reason: 'throttled' })).toBe('TEMPFAIL\tthrottled\n');
    expect(renderVerifyAnswer({ kind: 'error', reason: 'bad-escape' })).toBe('ERROR\tbad-escape\n');
  });
});

describe("the client name from Dovecot's IMAP ID (imap_id_retain)", () => {
  it.each([
    ['"name" "Thunderbird" "version" "128.3"', 'Thunderbird 128.3'],
    ['"NAME" "K-9 \\"Mail\\"" "os" NIL', 'K-9 "Mail"'],
    ['"vendor" "x" "name" "Mail\u0007App"', 'MailApp'],
    [`"name" "${'x'.repeat(200)}"`, 'x'.repeat(64)],
  ])('%s → %s', (id, name) => {
    expect(clientNameFromDovecotId(id)).toBe(name);
  });

  it.each([[''], ['NIL'], ['"name"'], ['"name" "unterminated'], ['name Thunderbird'], ['"os" "Linux"']])('none from %j', (id) => {
    expect(clientNameFromDovecotId(id)).toBeUndefined();
  });
});
