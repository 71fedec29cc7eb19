import type { MailNotice } from '../store/types.js';
import { isNoticeKind, type NoticeKind } from '../policy/notice-kinds.js';

/** A notice as words: a subject and a plain-text body (lines without line ends). */
export interface NoticeText {
  subject: string;
  lines: string[];
}

const PROTOCOLS: Record<string, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP', portal: 'the web portal', sieve: 'ManageSieve', submission: 'SMTP submission' };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** "2026-05-01 10:00 UTC". */
const when = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const dayOf = (iso: string | undefined): string => (iso ? `${iso.slice(0, 10)} (${iso.slice(11, 16)} UTC)` : 'an unknown day');
const over = (p: string | undefined): string => (p ? ` over ${PROTOCOLS[p] ?? p}` : '');
/** Names a user picked, quoted; they hold printable characters only (app-code-name.ts). */
const named = (v: unknown): string => `"${str(v) ?? 'unnamed'}"`;

function access(scopes: unknown): string {
  if (!Array.isArray(scopes)) return 'every protocol (IMAP, POP3 and SMTP)';
  const names = scopes.filter((s): s is string => typeof s === 'string').map((s) => PROTOCOLS[s] ?? s);
  return names.length === 0 ? 'every protocol (IMAP, POP3 and SMTP)' : `${names.join(' and ')} only`;
}

const IF_NOT_YOU = 'If this was not you, sign in to the web portal at once, check your account and change your password:';

/**
 * The words of each notice, in the user guide's terms (two-step authentication, application
 * code, one-time codes, web portal). No code, key or password is ever in them: only names,
 * times, addresses and protocols from the notice's detail.
 */
function wording(kind: NoticeKind, d: Record<string, unknown>, address: string, at: string, from: string): { subject: string; text: string[]; advice: string } {
  switch (kind) {
    case 'two-step-on':
      return {
        subject: 'Two-step authentication is on',
        text: [`Two-step authentication was turned on for your account ${address} on ${at}${from}.`, 'From now on your password alone no longer signs in to mail apps: each app needs an application code.'],
        advice: IF_NOT_YOU,
      };
    case 'two-step-off':
      return {
        subject: 'Two-step authentication is off',
        text: [
          `Two-step authentication was turned off for your account ${address} on ${at}${d.by === 'admin' ? ' by your administrator' : from}.`,
          'Your password alone signs in again, and your application codes no longer work.',
        ],
        advice: IF_NOT_YOU,
      };
    case 'app-code-added': {
      const expires = str(d.expiresAt);
      return {
        subject: 'New application code',
        text: [
          `An application code named ${named(d.codeName)} was added to your account ${address} on ${at}${from}.`,
          `It signs in over ${access(d.scopes)} and ${expires ? `expires on ${dayOf(expires)}` : 'does not expire'}.`,
        ],
        advice: 'If this was not you, sign in to the web portal, revoke the code under Applications and change your password:',
      };
    }
    case 'app-code-revoked':
      return {
        subject: 'Application code revoked',
        text: [`The application code named ${named(d.codeName)} was revoked on ${at}${from}.`, 'The application that used it can no longer sign in.'],
        advice: IF_NOT_YOU,
      };
    case 'one-time-codes-regenerated':
      return {
        subject: 'New one-time codes',
        text: [`New one-time codes were generated for your account ${address} on ${at}${from}.`, 'The old ones no longer work.'],
        advice: IF_NOT_YOU,
      };
    case 'one-time-code-used': {
      const left = num(d.left);
      return {
        subject: 'A one-time code was used',
        text: [
          `One of your one-time codes was used to sign in to the web portal on ${at}${from}.`,
          ...(left === undefined ? [] : [`You have ${left} unused code${left === 1 ? '' : 's'} left.`]),
        ],
        advice: 'If this was not you, someone has your password and a one-time code: sign in to the web portal at once, generate new one-time codes and change your password:',
      };
    }
    case 'new-browser':
      return {
        subject: 'Sign-in from a new browser',
        text: [`Someone signed in to the web portal with your account ${address} from a browser not used before${str(d.browser) ? ` (${str(d.browser)})` : ''}, on ${at}${from}.`],
        advice: IF_NOT_YOU,
      };
    case 'new-network': {
      const client = str(d.client);
      return {
        subject: 'Application code used from a new network',
        text: [
          `Your application code ${named(d.codeName)} signed in${over(str(d.protocol))} from a network it had not signed in from before: ${str(d.network) ?? 'unknown'} (address ${str(d.ip) ?? 'unknown'}), on ${at}${client ? `, by the app "${client}"` : ''}.`,
        ],
        advice: 'If this was not one of your devices, sign in to the web portal, revoke this application code and change your password:',
      };
    }
    case 'account-locked': {
      const minutes = num(d.minutes) ?? 1;
      return {
        subject: 'Too many failed sign-ins',
        text: [
          `Too many wrong passwords or codes were entered for your account ${address}; the last one${over(str(d.protocol))}${str(d.ip) ? ` from ${str(d.ip)}` : ''}, on ${at}.`,
          `Further attempts from places you have not signed in from before are refused for about ${minutes} minute${minutes === 1 ? '' : 's'}; your own devices keep working.`,
        ],
        advice: 'If these attempts were not yours, someone may be guessing your password: sign in to the web portal and change it:',
      };
    }
    case 'code-expiring':
      return {
        subject: 'Application code expires soon',
        text: [
          `Your application code ${named(d.codeName)} expires on ${dayOf(str(d.expiresAt))}.`,
          'After that, the application that uses it can no longer sign in.',
        ],
        advice: 'To keep it working, sign in to the web portal, add a new application code and enter it in that application:',
      };
  }
}

/** Subject and body of a queued notice; null for a kind this version does not know. */
export function noticeText(n: MailNotice, o: { address: string; portalUrl: string }): NoticeText | null {
  if (!isNoticeKind(n.kind)) return null;
  const d = n.detail;
  const ip = str(d.ip);
  const from = ip ? ` from ${ip}${over(str(d.protocol))}` : '';
  const w = wording(n.kind, d, o.address, when(n.createdAt), from);
  return {
    subject: w.subject,
    lines: ['Hello,', '', ...w.text.flatMap((t) => [...wrap(t), '']), ...wrap(w.advice), o.portalUrl, '', ...wrap('This message was sent automatically by the two-step authentication of your mail service. It never contains a code or a password, and no one will ever ask you for one by mail.')],
  };
}

/** Splits a sentence into lines of at most 76 characters, at spaces (a longer word stays whole). */
export function wrap(text: string, width = 76): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') out.push(line);
  return out;
}
