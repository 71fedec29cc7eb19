import { isIP } from 'node:net';
import { Secret } from '../core/secret.js';

/**
 * The verify service's wire format, spoken by config/dovecot/twostep-auth.lua (Lua 5.4 with
 * lua-socket, as Dovecot 2.3.19's auth-worker runs it). One request per line, one answer per
 * line, any number on one connection:
 *
 *   VERIFY<TAB>user=alice<TAB>password=%41BC...<TAB>service=imap<TAB>rip=192.0.2.7<TAB>...<LF>
 *   OK<LF> | NEXT<LF> | FAIL<TAB>app-code-required<LF> | TEMPFAIL<TAB>throttled<LF> | ERROR<TAB>bad-escape<LF>
 *
 * Values are percent-encoded (every byte outside A-Z a-z 0-9 - . _ ~ may be, TAB CR LF NUL and
 * % must be), so a password can hold any byte. Unknown keys are ignored (a newer script may send
 * more); user, password and service are required. ERROR means the line itself was wrong.
 */
export interface VerifyRequest {
  /** Dovecot's user name after auth_username_format (%{user}): the name its mailbox goes by. */
  user: string;
  password: Secret;
  /** Dovecot's service: imap, pop3, sieve, submission, smtp (Postfix SASL), ... */
  service: string;
  /** The client's address as Dovecot knows it (forwarded by a trusted proxy), '' when none. */
  rip: string;
  rport: number;
  lip: string;
  /** Dovecot's %{secured}: 'TLS', 'secured' (trusted network / loopback) or ''. */
  secured: string;
  /** IMAP ID as Dovecot kept it (imap_id_retain = yes): `"name" "Thunderbird" "version" "115"`. */
  clientId: string;
  /** SASL mechanism (PLAIN, LOGIN, ...). */
  mech: string;
  /** Dovecot's session id ('' for Postfix SASL). */
  session: string;
}

export type VerifyParse = { ok: true; req: VerifyRequest } | { ok: false; error: string };

export type VerifyAnswer =
  | { kind: 'ok' }
  | { kind: 'next' }
  | { kind: 'fail'; reason: string }
  | { kind: 'tempfail'; reason: string }
  | { kind: 'error'; reason: string };

const TAB = 0x09;
const KEYS = new Set(['user', 'password', 'service', 'rip', 'rport', 'lip', 'secured', 'client_id', 'mech', 'session']);

/** Parses one request line (without its LF). Never throws. */
export function parseVerifyLine(line: Buffer): VerifyParse {
  const fields = splitTabs(line);
  if (fields[0]?.toString('latin1') !== 'VERIFY') return { ok: false, error: 'unknown-command' };
  const values = new Map<string, Buffer>();
  for (const f of fields.slice(1)) {
    const eq = f.indexOf(0x3d); // '='
    if (eq <= 0) return { ok: false, error: 'bad-field' };
    const key = f.subarray(0, eq).toString('latin1');
    if (!KEYS.has(key)) continue;
    if (values.has(key)) return { ok: false, error: 'duplicate-field' };
    const value = percentDecode(f.subarray(eq + 1));
    if (value === null) return { ok: false, error: 'bad-escape' };
    values.set(key, value);
  }
  const text = (k: string): string => values.get(k)?.toString('utf8') ?? '';
  for (const k of ['user', 'password', 'service']) if (!values.has(k)) return { ok: false, error: `missing-${k}` };
  const rport = Number(text('rport'));
  return {
    ok: true,
    req: {
      user: text('user'),
      password: new Secret(text('password')),
      service: text('service'),
      rip: isIP(text('rip')) ? text('rip') : '',
      rport: Number.isInteger(rport) && rport >= 0 && rport <= 65535 ? rport : 0,
      lip: isIP(text('lip')) ? text('lip') : '',
      secured: text('secured'),
      clientId: text('client_id'),
      mech: text('mech'),
      session: text('session'),
    },
  };
}

/** The answer line, LF-terminated. Reasons are twostep's own tokens, never client text. */
export function renderVerifyAnswer(a: VerifyAnswer): string {
  switch (a.kind) {
    case 'ok':
      return 'OK\n';
    case 'next':
      return 'NEXT\n';
    case 'fail':
      return `FAIL\t${a.reason}\n`;
    case 'tempfail':
      return `TEMPFAIL\t${a.reason}\n`;
    case 'error':
      return `ERROR\t${a.reason}\n`;
  }
}

function splitTabs(line: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const tab = line.indexOf(TAB, start);
    if (tab < 0) {
      out.push(line.subarray(start));
      return out;
    }
    out.push(line.subarray(start, tab));
    start = tab + 1;
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** %XX → byte; raw control bytes (CR, LF, NUL, ...) are refused. Null when malformed. */
function percentDecode(v: Buffer): Buffer | null {
  const out = Buffer.allocUnsafe(v.length);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const b = v[i] as number;
    if (b === 0x25) {
      const hex = v.subarray(i + 1, i + 3).toString('latin1');
      if (!HEX.test(hex)) return null;
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else if (b < 0x20 || b === 0x7f) {
      return null;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}
