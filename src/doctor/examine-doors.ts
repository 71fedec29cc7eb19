import { parseDoveconf } from './dovecot-config-tree.js';
import { dovecotDoors } from './dovecot-doors.js';
import { checkMasterPassdbs, checkPassdbs, checkTrustedNetworks } from './dovecot-passdbs.js';
import type { Finding, TwostepSide } from './finding.js';
import { parseMasterCf, parsePostconf, postfixDoors } from './postfix-doors.js';
import { readDoveconf, readPostconf } from './read-mail-config.js';

export interface DoctorOptions {
  /** A dovecot.conf for `doveconf -c`; default: the system's. */
  dovecotConfig?: string;
  /** A Postfix configuration directory for `postconf -c`; default: the system's. */
  postfixConfig?: string;
}

/**
 * Everything `twostep doctor` reports, in order: Dovecot's passdbs and doors, its master passdbs
 * and trusted networks, then Postfix's smtpd services that take passwords. A configuration that
 * cannot be read is an open finding (nothing can be vouched for), except a Postfix that is not
 * installed or not configured when no directory was named.
 */
export async function examineDoors(opts: DoctorOptions, side: TwostepSide): Promise<Finding[]> {
  const findings: Finding[] = [];
  const dc = await readDoveconf(opts.dovecotConfig);
  let dovecotGuarded = false;
  if (dc.ok) {
    const root = parseDoveconf(dc.text);
    const passdbs = checkPassdbs(root, side);
    dovecotGuarded = passdbs.guarded;
    findings.push(...passdbs.findings, ...dovecotDoors(root, dovecotGuarded), ...checkMasterPassdbs(root, side), checkTrustedNetworks(root, side));
  } else {
    findings.push({ item: 'Dovecot', detail: `cannot read its configuration: ${dc.error}`, status: 'open' });
  }
  const pf = await readPostconf(opts.postfixConfig);
  const failed = !pf.main.ok ? pf.main : !pf.master.ok ? pf.master : null;
  if (failed === null && pf.main.ok && pf.master.ok) {
    findings.push(...postfixDoors(parsePostconf(pf.main.text), parseMasterCf(pf.master.text), dovecotGuarded, side));
  } else if (failed && !opts.postfixConfig && (failed.missing || /main\.cf: No such file/.test(failed.error))) {
    findings.push({ item: 'Postfix', detail: failed.missing ? 'not installed' : 'not configured (no main.cf)', status: 'ok' });
  } else if (failed) {
    findings.push({ item: 'Postfix', detail: `cannot read its configuration: ${failed.error}`, status: 'open' });
  }
  return findings;
}
