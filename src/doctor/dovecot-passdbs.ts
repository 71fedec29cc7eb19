import { readFileSync } from 'node:fs';
import { sectionsOf, type ConfSection } from './dovecot-config-tree.js';
import type { Finding, TwostepSide } from './finding.js';
import { splitNetworks, widerThan } from './networks.js';

/** The shipped script's default socket (config/dovecot/twostep-auth.lua) when TWOSTEP_VERIFY is unset. */
const LUA_DEFAULT_TARGET = '/run/twostep/verify.sock';

export interface PassdbVerdict {
  /** Every password login of every service is put to twostep first, and its refusals are final. */
  guarded: boolean;
  findings: Finding[];
}

const isTwostepPassdb = (p: ConfSection): boolean =>
  p.settings.get('driver') === 'lua' && /(^|\s)file=\S*twostep\S*\.lua(\s|$)/.test(p.settings.get('args') ?? '');

/**
 * Dovecot's passdb list: twostep's Lua passdb must be the first non-master passdb (master
 * passdbs are a list of their own, asked first), apply to every login, and end the lookup on
 * a refusal and on a failure to reach twostep; the auth cache must not answer for it.
 */
export function checkPassdbs(root: ConfSection, side: TwostepSide): PassdbVerdict {
  const normal = sectionsOf(root, 'passdb').filter((p) => p.settings.get('master') !== 'yes');
  const first = normal[0];
  const problems: string[] = [];
  if (!normal.some(isTwostepPassdb)) {
    problems.push("no twostep passdb: install config/dovecot/10-twostep-passdb.conf");
  } else if (!first || !isTwostepPassdb(first)) {
    problems.push(`passdb "${first?.settings.get('driver') ?? '?'}" is asked before twostep's: install the snippet as conf.d/01-twostep-passdb.conf`);
  } else {
    const s = first.settings;
    if (s.get('result_failure') !== 'return-fail') problems.push('result_failure must be return-fail (else the next passdb takes the main password)');
    if (s.get('result_internalfail') !== 'return-fail') problems.push('result_internalfail must be return-fail (else twostep down = main password accepted)');
    for (const k of ['skip', 'mechanisms', 'username_filter']) {
      const v = s.get(k);
      if (v !== undefined && !(k === 'skip' && v === 'never')) problems.push(`${k} = ${v} leaves logins unasked`);
    }
    if (s.get('deny') === 'yes') problems.push('deny = yes');
    const cacheSize = root.settings.get('auth_cache_size');
    const cacheKey = /cache_key=(\S*)/.exec(s.get('args') ?? '')?.[1] ?? '';
    if (cacheSize !== undefined && !/^0\s*\w*$/.test(cacheSize) && !/(%\{passdb|#hidden_use-P_to_show#):twostep\}/.test(cacheKey)) {
      problems.push(`auth_cache_size = ${cacheSize} and a cache key without %{passdb:twostep}: a revoked code could pass for auth_cache_ttl`);
    }
  }
  const findings: Finding[] = [
    problems.length === 0
      ? { item: 'Dovecot passdbs', detail: "twostep's Lua passdb is asked first; refusals and failures are final", status: 'ok' }
      : { item: 'Dovecot passdbs', detail: problems.join('; '), status: 'open' },
  ];
  findings.push(verifyTarget(root, side));
  if (normal.some(isTwostepPassdb) && root.settings.get('imap_id_retain') !== 'yes') {
    // Not a door: the portal's sign-in of two-step accounts fails, and Last Used names no app.
    findings.push({ item: 'imap_id_retain', detail: "not yes: the portal cannot check two-step accounts' passwords through Dovecot", status: 'warn' });
  }
  return { guarded: problems.length === 0, findings };
}

/** Where Dovecot's Lua passdb will connect (TWOSTEP_VERIFY), against where twostep listens. */
function verifyTarget(root: ConfSection, side: TwostepSide): Finding {
  const env = (root.settings.get('import_environment') ?? '').split(/\s+/).find((e) => e.startsWith('TWOSTEP_VERIFY='));
  const target = env ? env.slice('TWOSTEP_VERIFY='.length) : LUA_DEFAULT_TARGET;
  const item = 'TWOSTEP_VERIFY';
  const where = env ? target : `${target} (unset: the script's default)`;
  if (target === side.verifySocket || (side.verifyListen !== '' && target === side.verifyListen)) return { item, detail: where, status: 'ok' };
  const twostep = [side.verifySocket, side.verifyListen].filter(Boolean).join(' or ') || 'nowhere ([dovecot] missing)';
  // Not an open door: Dovecot answers "temporary failure" to everyone until this matches.
  return { item, detail: `${where}, but twostep listens on ${twostep}: every login fails`, status: 'warn' };
}

/**
 * Master passdbs (the proxy's master user) may only be used from twostep's address:
 * allow_real_nets, in override_fields or on every line of its passwd-file. allow_nets checks
 * the client address twostep forwards, so it does not limit the master user to twostep.
 */
export function checkMasterPassdbs(root: ConfSection, side: TwostepSide): Finding[] {
  const masters = sectionsOf(root, 'passdb').filter((p) => p.settings.get('master') === 'yes');
  if (masters.length === 0) return [{ item: 'master passdb', detail: 'none', status: 'ok' }];
  return masters.map((p) => {
    const args = p.settings.get('args') ?? '';
    const item = `master passdb ${p.settings.get('driver') ?? ''} ${args.split(/\s+/).pop() ?? ''}`.trim();
    const fields = `${p.settings.get('override_fields') ?? ''} ${p.settings.get('default_fields') ?? ''}`;
    let nets = /(?:^|\s)allow_real_nets=(\S+)/.exec(fields)?.[1];
    if (nets === undefined && p.settings.get('driver') === 'passwd-file') nets = netsOnEveryLine(args.split(/\s+/).pop() ?? '');
    if (nets === undefined) {
      const why = /(?:^|\s)allow_nets=/.test(fields) ? 'allow_nets checks the forwarded client address; use' : 'not limited to twostep: add';
      return { item, detail: `${why} override_fields = allow_real_nets=${side.addresses.join(',')}`, status: 'open' };
    }
    const wider = widerThan(splitNetworks(nets), side.addresses);
    return wider.length === 0
      ? { item, detail: `allow_real_nets=${nets}`, status: 'ok' }
      : { item, detail: `allow_real_nets=${nets}: ${wider.join(', ')} is not twostep (${side.addresses.join(', ')})`, status: 'open' };
  });
}

/** The allow_real_nets of a passwd-file when every entry has one and all are the same. */
function netsOnEveryLine(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const values = new Set<string | undefined>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const extra = line.split(':').slice(7).join(':');
    values.add(/(?:^|\s)allow_real_nets=(\S+)/.exec(extra)?.[1]);
  }
  return values.size === 1 ? [...values][0] : undefined;
}

/** login_trusted_networks may forward any client address and count as secured: only twostep. */
export function checkTrustedNetworks(root: ConfSection, side: TwostepSide): Finding {
  const value = root.settings.get('login_trusted_networks') ?? '';
  const item = 'login_trusted_networks';
  if (value.trim() === '') return { item, detail: 'none', status: 'ok' };
  const wider = widerThan(splitNetworks(value), side.addresses);
  if (wider.length === 0) return { item, detail: value, status: 'ok' };
  return { item, detail: `${value}: ${wider.join(', ')} may claim any client address and counts as secured`, status: 'warn' };
}
