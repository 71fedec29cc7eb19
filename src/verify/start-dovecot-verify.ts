import { formatHostPort } from '../core/host-port.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Authenticator } from '../policy/types.js';
import type { PasswordPasses } from './password-check-passes.js';
import { groupId } from './unix-socket-file.js';
import { startVerifyServer, type RunningVerifyServer } from './verify-server.js';

export type { RunningVerifyServer };

/** The verify service as the [dovecot] section describes it (socket, mode, group, loopback listener). */
export function startDovecotVerify(
  section: NonNullable<Config['dovecot']>,
  authenticator: Authenticator,
  logger: Logger,
  passes: PasswordPasses,
  inWorker = false,
): Promise<RunningVerifyServer> {
  const opts = {
    removeSocketFile: !inWorker,
    socketPath: section.verify_socket,
    socketMode: parseInt(section.verify_socket_mode, 8),
    listen: section.verify_listen === null ? '' : formatHostPort(section.verify_listen),
    authenticator,
    logger,
    passes,
  };
  return startVerifyServer(section.verify_socket_group === undefined ? opts : { ...opts, socketGid: groupId(section.verify_socket_group) });
}
