import type { Config } from '../config/schema.js';
import { backendTarget, readMasterPassword } from '../config/runtime-config.js';
import { backendFault } from './backend-error-line.js';
import { probeImapMasterLogin } from './imap-master-probe.js';
import { formatHostPort } from '../core/host-port.js';

export type UserLookup =
  | { verdict: 'known' }
  /** The backend said it has no such user (a typo?). */
  | { verdict: 'unknown'; line: string }
  /** The question could not be asked (backend down, master login refused, ...): why. */
  | { verdict: 'unchecked'; line: string };

/**
 * Does [imap] backend know `user`? One IMAP master login as the user, then LOGOUT: Dovecot
 * answers AUTHORIZATIONFAILED for a user it does not know (with `pass = yes` in the master
 * passdb). Works wherever twostep runs, not only on the Dovecot host (unlike `doveadm user`).
 */
export async function lookupBackendUser(config: Config, user: string): Promise<UserLookup> {
  const where = `imap.backend ${formatHostPort(config.imap.backend)}`;
  try {
    const master = { user: config.backend.master_user, password: readMasterPassword(config) };
    const probe = await probeImapMasterLogin(backendTarget(config, config.imap.backend, config.imap.backend_tls), master, user);
    switch (probe.result) {
      case 'logged-in':
        return { verdict: 'known' };
      case 'no-such-user':
        return { verdict: 'unknown', line: `${where} knows no user ${user}` };
      case 'master-refused':
        return { verdict: 'unchecked', line: `${where}: master login refused (twostep check tells more)` };
      case 'refused':
        return { verdict: 'unchecked', line: `${where}: master login as ${user}: the backend said NO ${probe.text}` };
    }
  } catch (err) {
    const line = err instanceof Error && /^[a-z]+\.[a-z_]+ /.test(err.message) ? err.message : backendFault({ key: 'imap.backend', address: formatHostPort(config.imap.backend) }, err, 'imap.backend_tls').message;
    return { verdict: 'unchecked', line };
  }
}
