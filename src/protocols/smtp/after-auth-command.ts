import { multiline, smtpReply } from './responses.js';
import { heloName } from './smtp-command.js';

/** What twostep does with one client command line after AUTH. */
export type AfterAuth =
  /** Relayed to Postfix; its reply relayed back. */
  | { do: 'relay' }
  /** DATA: relayed; nothing more is read until Postfix answered it (354: message data follows). */
  | { do: 'data' }
  /** BDAT size [LAST]: relayed, and the next `size` bytes with it as they are. */
  | { do: 'bdat'; size: number }
  /** Answered by twostep, never relayed; `refused` names a command kept from Postfix (logged). */
  | { do: 'answer'; lines: string[]; refused?: string }
  /** EHLO / HELO: answered by twostep; an RSET goes to Postfix in its place (it resets the transaction too). */
  | { do: 'hello'; lines: string[] }
  /** Postfix's own answer to it, then the session ends (a malformed BDAT: where its data ends is unknown). */
  | { do: 'hang-up'; line: string };

/** What an after-AUTH answer needs to know of the session. */
export interface AfterAuthContext {
  /** The client connection is TLS. */
  tls: boolean;
  hostname: string;
  /** The text lines of the EHLO reply the client saw before AUTH (host first), without STARTTLS. */
  ehlo: readonly string[];
}

/**
 * Postfix's ISSPACE, and NUL (where its C string of the line ends): the same words as Postfix
 * splits the line into, so twostep and Postfix agree on the verb.
 */
const SEPARATORS = /[ \t\v\f\r\0]+/;

/**
 * Judges one command line (without its line end, as latin1) after AUTH. Postfix trusts
 * twostep's address (smtpd_authorized_xclient_hosts), so XCLIENT and XFORWARD would let a
 * signed-in client become anyone or come from anywhere: refused with Postfix's own "550 5.7.0",
 * as are a second AUTH and STARTTLS. An EHLO gets the list the client saw before, never
 * Postfix's own (STARTTLS, XCLIENT, XFORWARD, VRFY, ETRN).
 */
export function afterAuthCommand(line: string, s: AfterAuthContext): AfterAuth {
  const words = line.split(SEPARATORS).filter((w) => w !== '');
  const verb = (words[0] ?? '').toUpperCase();
  switch (verb) {
    case 'XCLIENT':
    case 'XFORWARD':
      return { do: 'answer', lines: [smtpReply.insufficientAuthorization], refused: verb };
    case 'AUTH':
      return { do: 'answer', lines: [smtpReply.alreadyAuthenticated], refused: verb };
    case 'STARTTLS':
      return { do: 'answer', lines: [s.tls ? smtpReply.tlsActive : smtpReply.starttlsUnavailable], refused: verb };
    case 'EHLO':
    case 'HELO': {
      const name = words.length === 2 ? heloName(words[1] as string) : null;
      if (name === null) return { do: 'answer', lines: [verb === 'EHLO' ? smtpReply.ehloSyntax : smtpReply.heloSyntax] };
      return { do: 'hello', lines: verb === 'EHLO' ? multiline(250, s.ehlo) : [`250 ${s.hostname}`] };
    }
    case 'DATA':
      return { do: 'data' };
    case 'BDAT': {
      // Postfix hangs up on a BDAT it cannot read (521); so does twostep, on the same test.
      const [, count, last] = words;
      const ok = words.length <= 3 && count !== undefined && /^\d{1,15}$/.test(count) && (last === undefined || last.toUpperCase() === 'LAST');
      return ok ? { do: 'bdat', size: Number(count) } : { do: 'hang-up', line: smtpReply.bdatSyntax };
    }
    default:
      return { do: 'relay' };
  }
}
