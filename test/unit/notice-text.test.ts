import { describe, expect, it } from 'vitest';
import { mailAddressOf } from '../../src/core/mail-address.js';
import { noticeMessage } from '../../src/notify/mail-message.js';
import { noticeText, wrap } from '../../src/notify/notice-text.js';
import { dotStuff } from '../../src/notify/smtp-submit.js';
import { NOTICE_KINDS } from '../../src/policy/index.js';
import type { MailNotice } from '../../src/store/index.js';

const notice = (kind: string, detail: Record<string, unknown> = {}): MailNotice => ({
  id: 1,
  username: 'alice',
  kind,
  detail,
  createdAt: Date.UTC(2026, 4, 1, 10, 0),
  attempts: 0,
  nextAt: 0,
  claimedUntil: null,
  sentAt: null,
  failedAt: null,
  lastError: null,
});

const PORTAL = 'https://mail.example.com/';

describe('notice texts', () => {
  it('every kind has a subject and short plain text with exactly one link, the portal', () => {
    for (const kind of NOTICE_KINDS) {
      const t = noticeText(notice(kind, { codeName: 'Phone', ip: '203.0.113.7', protocol: 'imap' }), { address: 'alice@example.com', portalUrl: PORTAL });
      expect(t?.subject, kind).toMatch(/^[A-Z][\x20-\x7e]+$/);
      const body = t?.lines.join('\n') ?? '';
      expect(body.match(/https?:\/\/\S+/g), kind).toEqual([PORTAL]);
      expect(t?.lines.every((l) => l.length <= 76 || l === PORTAL), kind).toBe(true);
      expect(t?.lines.length, kind).toBeLessThan(20);
    }
    expect(noticeText(notice('made-up'), { address: 'a@b', portalUrl: PORTAL })).toBeNull();
  });

  it('words each event in the guide\'s terms, with what the detail says', () => {
    const text = (kind: string, d: Record<string, unknown>) => noticeText(notice(kind, d), { address: 'alice@example.com', portalUrl: PORTAL })?.lines.join(' ') ?? '';
    expect(text('app-code-added', { codeName: 'Phone', scopes: ['imap', 'smtp'], expiresAt: '2026-06-01T10:00:00.000Z', ip: '203.0.113.7', protocol: 'portal' })).toMatch(
      /An application code named "Phone" was added to your account alice@example.com on 2026-05-01 10:00 UTC from 203\.0\.113\.7 over the web portal\..*IMAP and SMTP only and expires on 2026-06-01/,
    );
    expect(text('app-code-added', { codeName: 'Phone', scopes: 'all', expiresAt: null })).toContain('every protocol (IMAP, POP3 and SMTP) and does not expire');
    expect(text('two-step-off', { by: 'admin' })).toContain('by your administrator');
    expect(text('new-network', { codeName: 'Phone', network: '198.51.100.0/24', ip: '198.51.100.7', protocol: 'smtp', client: 'Outlook 16' })).toContain(
      'signed in over SMTP from a network it had not signed in from before: 198.51.100.0/24 (address 198.51.100.7)',
    );
    expect(text('account-locked', { minutes: 5, ip: '192.0.2.1', protocol: 'pop3' })).toContain('refused for about 5 minutes');
    expect(text('one-time-code-used', { left: 1 })).toContain('You have 1 unused code left.');
    expect(text('code-expiring', { codeName: 'Laptop', expiresAt: '2026-05-08T10:00:00.000Z' })).toContain('"Laptop" expires on 2026-05-08');
  });

  it('wraps at 76 characters without breaking a word', () => {
    expect(wrap('a '.repeat(100).trim()).every((l) => l.length <= 76)).toBe(true);
    expect(wrap(`x ${'y'.repeat(90)} z`)).toEqual(['x', 'y'.repeat(90), 'z']);
  });
});

describe('the mail', () => {
  it('is RFC 5322 text/plain with CRLF lines, marked as automatic; 8bit only when a name needs it', () => {
    const text = noticeText(notice('app-code-revoked', { codeName: 'Phone' }), { address: 'alice@example.com', portalUrl: PORTAL })!;
    const m = noticeMessage({ from: 'twostep@example.com', to: 'alice@example.com', text, kind: 'app-code-revoked', at: Date.UTC(2026, 4, 1, 10, 0) });
    const raw = m.data.toString('utf8');
    expect(m.eightBit).toBe(false);
    expect(raw).toMatch(/^From: twostep@example\.com\r\nTo: alice@example\.com\r\nSubject: Application code revoked\r\nDate: Fri, 01 May 2026 10:00:00 \+0000\r\n/);
    expect(raw).toMatch(/\r\nMessage-ID: <[0-9a-f]{24}\.notice@example\.com>\r\n/);
    expect(raw).toContain('\r\nAuto-Submitted: auto-generated\r\n');
    expect(raw).toContain('\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n');
    expect(raw).toContain('\r\nX-Twostep-Notice: app-code-revoked\r\n\r\nHello,\r\n');
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const utf8 = noticeText(notice('app-code-revoked', { codeName: 'Téléphone' }), { address: 'a@example.com', portalUrl: PORTAL })!;
    expect(noticeMessage({ from: 'f@example.com', to: 'a@example.com', text: utf8, kind: 'k', at: 0 }).eightBit).toBe(true);
  });

  it('dot-stuffs lines that start with a dot and ends the data with CRLF.CRLF', () => {
    expect(dotStuff(Buffer.from('a\r\n.b\r\n..c\r\nd')).toString()).toBe('a\r\n..b\r\n...c\r\nd\r\n.\r\n');
  });

  it('goes to the login name, or the name @ the recipient domain; nothing that could break a header', () => {
    expect(mailAddressOf('Alice@Example.com', undefined)).toBe('alice@example.com');
    expect(mailAddressOf('alice', 'example.com')).toBe('alice@example.com');
    expect(mailAddressOf('alice', undefined)).toBeNull();
    expect(mailAddressOf('a>b@example.com', undefined)).toBeNull();
    expect(mailAddressOf('a\r\nBcc: x@example.com', 'example.com')).toBeNull();
  });
});
