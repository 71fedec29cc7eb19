import { randomBytes } from 'node:crypto';
import { domainOf } from '../core/mail-address.js';
import type { NoticeText } from './notice-text.js';

/** RFC 5322 date: "Fri, 01 May 2026 10:00:00 +0000". */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

/** Header values must not break lines: anything but printable ASCII and spaces goes. */
const headerSafe = (s: string): string => s.replace(/[^\x20-\x7e]/g, '');

/**
 * A plain-text mail (RFC 5322, MIME 1.0 text/plain UTF-8), CRLF line ends, ready for DATA
 * (dot-stuffing is the sender's). 8bit only when the body needs it (a code's name in another
 * script); `eightBit` tells the sender to ask for BODY=8BITMIME.
 */
export function noticeMessage(o: { from: string; to: string; text: NoticeText; kind: string; at: number }): { data: Buffer; eightBit: boolean } {
  const body = o.text.lines.map((l) => l.replace(/[\r\n]/g, ' ')).join('\r\n');
  const eightBit = /[\u0080-\uffff]/.test(body);
  const headers = [
    `From: ${headerSafe(o.from)}`,
    `To: ${headerSafe(o.to)}`,
    `Subject: ${headerSafe(o.text.subject)}`,
    `Date: ${rfc5322Date(o.at)}`,
    `Message-ID: <${randomBytes(12).toString('hex')}.notice@${domainOf(o.from) ?? 'twostep.invalid'}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${eightBit ? '8bit' : '7bit'}`,
    // RFC 3834: a machine wrote it; vacation responders must not answer.
    'Auto-Submitted: auto-generated',
    `X-Twostep-Notice: ${headerSafe(o.kind)}`,
  ];
  return { data: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}\r\n`, 'utf8'), eightBit };
}
