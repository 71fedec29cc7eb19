import type { Config } from '../config/schema.js';
import { backendTarget } from '../config/runtime-config.js';
import type { Secret } from '../core/secret.js';
import { backendFault, checkFailure } from './backend-error-line.js';
import { probeImapMasterLogin } from './imap-master-probe.js';
import { formatHostPort } from '../core/host-port.js';

/** The user the check logs in as when [backend] check_user is unset: no mailbox has this name. */
export const PROBE_USER = 'twostep-check';

/** Which key holds the master password, for the hint of a refused master login. */
export function masterPasswordKey(config: Config): string {
  return config.backend.master_password_file !== undefined ? 'backend.master_password_file' : 'backend.master_password';
}

/**
 * [imap] backend answers and the master login works: "imap.backend 127.0.0.1:143: master login
 * as proxymaster works". Throws one line naming the backend and the keys to check.
 */
export async function checkImapBackend(config: Config, master: { user: string; password: Secret }): Promise<string> {
  const b = { key: 'imap.backend', address: formatHostPort(config.imap.backend) };
  const target = backendTarget(config, config.imap.backend, config.imap.backend_tls);
  const checkUser = config.backend.check_user;
  let probe;
  try {
    probe = await probeImapMasterLogin(target, master, checkUser ?? PROBE_USER);
  } catch (err) {
    throw backendFault(b, err, 'imap.backend_tls and backend.ca / backend.servername');
  }
  const works = `${b.key} ${b.address}: master login as ${master.user} works`;
  switch (probe.result) {
    case 'logged-in':
      return checkUser ? `${works} (logged in as ${checkUser})` : works;
    case 'no-such-user':
      if (checkUser) throw checkFailure(b, 'CONFIG_INVALID', `backend.check_user ${checkUser}: the backend knows no such user`);
      return works;
    case 'master-refused':
      throw checkFailure(
        b,
        'CONFIG_INVALID',
        `master login refused: check backend.master_user / ${masterPasswordKey(config)} and Dovecot's master passdb (config/dovecot/README.md)`,
      );
    case 'refused': {
      const hint = checkUser ? '' : " (a master passdb without pass = yes needs backend.check_user: an existing mailbox)";
      throw checkFailure(b, probe.temporary ? 'BACKEND_UNAVAILABLE' : 'CONFIG_INVALID', `master login: the backend said NO ${probe.text}${hint}`);
    }
  }
}
