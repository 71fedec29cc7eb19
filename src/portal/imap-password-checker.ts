import { ImapFlow } from 'imapflow';
import type { BackendTarget } from '../config/runtime-config.js';
import { limits } from '../core/limits.js';
import { logSafeError } from '../core/log-safe-error.js';
import type { Logger } from '../core/logger.js';
import type { Secret } from '../core/secret.js';
import type { PasswordChecker, PasswordVerdict } from '../policy/index.js';

/**
 * Checks a portal password by logging in to the real IMAP backend (Dovecot) as the user, then
 * logging out: the mail server stays the only judge of the main password, which twostep never
 * stores. TLS to the backend as for the proxy ([imap] backend_tls, [backend] ca / servername).
 * The browser's address goes first in ID (x-originating-ip), as for proxied IMAP logins, so
 * Dovecot logs it as rip= and keys its auth failure penalty on it, not on twostep.
 * With `passes` (Dovecot asks twostep through its Lua passdb), ID also carries a one-time pass,
 * so that passdb leaves this one password to Dovecot (see PasswordCheckPasses).
 */
export function imapPasswordChecker(target: BackendTarget, logger: Logger, passes?: { issue(user: string): string | Promise<string> }): PasswordChecker {
  return {
    async check(user: string, password: Secret, clientIp: string): Promise<PasswordVerdict> {
      let pass: string | undefined;
      try {
        pass = passes ? await passes.issue(user) : undefined;
      } catch (err) {
        // With workers the pass comes from the supervisor (src/server/cluster/shared-passes.ts).
        logger.warn({ event: 'portal.password-check-failed', ...logSafeError(err) }, 'no pass for a portal password check');
        return 'backend-unavailable';
      }
      const client = new ImapFlow({
        host: target.host,
        port: target.port,
        secure: target.tls === 'tls',
        doSTARTTLS: target.tls === 'starttls',
        ...(target.servername ? { servername: target.servername } : {}),
        tls: { ...(target.ca ? { ca: target.ca } : {}), ...(target.servername ? { servername: target.servername } : {}) },
        auth: { user, pass: password.reveal() },
        verifyOnly: true,
        // imapflow sends ID before it logs in (Dovecot honours x-originating-ip from login_trusted_networks).
        clientInfo: { name: 'twostep portal', 'x-originating-ip': clientIp, ...(pass !== undefined ? { 'x-twostep-check': pass } : {}) },
        logger: false,
        connectionTimeout: limits.portalPasswordCheckMs,
        greetingTimeout: limits.portalPasswordCheckMs,
        socketTimeout: limits.portalPasswordCheckMs,
        disableCompression: true,
      });
      client.on('error', () => {}); // reported through connect()'s rejection
      try {
        await client.connect();
        return 'ok';
      } catch (err) {
        if ((err as { authenticationFailed?: boolean }).authenticationFailed) return 'rejected';
        logger.warn({ event: 'portal.password-check-failed', ...logSafeError(err) }, 'backend unavailable for a portal password check');
        return 'backend-unavailable';
      } finally {
        client.close();
      }
    },
  };
}
