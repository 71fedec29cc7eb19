import type { Finding, TwostepSide } from './finding.js';
import { splitNetworks, widerThan } from './networks.js';

/** Postfix's defaults of the parameters doctor reads (postconf -d). */
const DEFAULTS: Record<string, string> = {
  smtpd_sasl_auth_enable: 'no',
  smtpd_sasl_type: 'cyrus',
  smtpd_authorized_xclient_hosts: '',
};

/** `postconf -n` lines (`name = value`) as a map. */
export function parsePostconf(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const kv = /^([A-Za-z0-9_]+) = ?(.*)$/.exec(line.trim());
    if (kv) m.set(kv[1] as string, kv[2] as string);
  }
  return m;
}

interface Service {
  name: string;
  type: string;
  command: string;
  overrides: Map<string, string>;
}

/** `postconf -M` lines: name type private unpriv chroot wakeup maxproc command args, with -o overrides. */
export function parseMasterCf(text: string): Service[] {
  const services: Service[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const words = tokenize(line);
    if (words.length < 8) continue;
    const overrides = new Map<string, string>();
    const args = words.slice(8);
    for (let i = 0; i < args.length; i++) {
      if (args[i] !== '-o') continue;
      const kv = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/s.exec(args[++i] ?? '');
      if (kv) overrides.set(kv[1] as string, (kv[2] as string).trim());
    }
    services.push({ name: words[0] as string, type: words[1] as string, command: words[7] as string, overrides });
  }
  return services;
}

/** Words, with Postfix 3's `{ name = value with spaces }` as one word (braces dropped). */
function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /\{\s*([^}]*?)\s*\}|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? (m[2] as string));
  return out;
}

/**
 * Every Postfix smtpd service that takes passwords (SASL on): guarded when its SASL goes to
 * Dovecot and Dovecot is guarded; open with Cyrus SASL (twostep never sees those logins), or
 * when XCLIENT is allowed to anyone but twostep (XCLIENT LOGIN= signs in as any user).
 */
export function postfixDoors(main: Map<string, string>, master: Service[], dovecotGuarded: boolean, side: TwostepSide): Finding[] {
  const findings: Finding[] = [];
  for (const s of master.filter((x) => x.command === 'smtpd')) {
    const get = (k: string): string => resolve(s.overrides.get(k) ?? main.get(k) ?? DEFAULTS[k] ?? '', main);
    if (get('smtpd_sasl_auth_enable') !== 'yes') continue;
    const item = `Postfix smtpd ${s.name}${s.type === 'inet' ? '' : ` (${s.type})`}`;
    const type = get('smtpd_sasl_type');
    const xclient = splitNetworks(get('smtpd_authorized_xclient_hosts'));
    const wider = widerThan(xclient, side.addresses);
    if (type !== 'dovecot') {
      findings.push({ item, detail: `SASL via ${type}: twostep never sees these logins; use smtpd_sasl_type = dovecot`, status: 'open' });
    } else if (wider.length > 0) {
      findings.push({ item, detail: `XCLIENT from ${wider.join(', ')} (not twostep): XCLIENT LOGIN= signs in as anyone`, status: 'open' });
    } else {
      const via = xclient.length > 0 ? `SASL via dovecot; XCLIENT from twostep (${xclient.join(', ')})` : 'SASL via dovecot';
      findings.push({ item, detail: dovecotGuarded ? via : `${via}, which is not guarded`, status: dovecotGuarded ? 'guarded' : 'open' });
    }
  }
  if (findings.length === 0) findings.push({ item: 'Postfix', detail: 'no smtpd service takes passwords (SASL off)', status: 'ok' });
  return findings;
}

/** One level of $name / ${name} references to other main.cf parameters. */
function resolve(value: string, main: Map<string, string>): string {
  return value.replace(/\$\{?([A-Za-z0-9_]+)\}?/g, (ref, name: string) => main.get(name) ?? ref);
}
