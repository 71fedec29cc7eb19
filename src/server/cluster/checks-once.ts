import { awaitBackends } from '../../checks/backend-checks.js';
import { describeCertificate, loadTlsFiles } from '../../checks/tls-files.js';
import { readMasterPassword } from '../../config/runtime-config.js';
import type { Config } from '../../config/schema.js';
import { LogEvent } from '../../core/log-events.js';
import type { Logger } from '../../core/logger.js';
import { removeStaleSocket } from '../../verify/unix-socket-file.js';
import { openPolicy } from '../open-policy.js';

/**
 * What `serve` checks before its first listener, done once by the supervisor of [server]
 * workers before it forks them, in the single process's order: the master password file, the
 * certificate (a warning when expired), the store (opened, migrated, the key file made; closed
 * again, as each worker opens its own), every backend answering with a working master login
 * (waiting [backend] startup_wait_seconds for one still starting). Then a verify socket file left
 * by a twostep that died goes, so the workers can listen there. Throws the single process's errors.
 */
export async function checkBeforeWorkers(config: Config, logger: Logger): Promise<void> {
  const master = { user: config.backend.master_user, password: readMasterPassword(config) };
  const cert = describeCertificate(loadTlsFiles(config).certificate);
  if (cert.expired) logger.warn({ event: LogEvent.tlsCertExpired, path: config.tls.cert }, `tls.cert ${config.tls.cert}: ${cert.text}`);
  const opened = await openPolicy(config, logger);
  try {
    await awaitBackends(config, master, logger);
  } finally {
    await opened.close();
  }
  if (config.dovecot && config.dovecot.verify_socket !== '') await removeStaleSocket(config.dovecot.verify_socket);
}
