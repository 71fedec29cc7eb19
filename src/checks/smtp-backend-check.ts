import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { backendTarget } from '../config/runtime-config.js';
import { TwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import { extensionMap } from '../protocols/smtp/ehlo-extensions.js';
import { probeEhlo, upstreamLogin } from '../protocols/smtp/upstream-login.js';
import { backendFault, checkFailure, type CheckedBackend } from './backend-error-line.js';
import { formatHostPort } from '../core/host-port.js';

const README = 'config/postfix/README.md';

/** With [backend] check_user: the whole master login through Postfix's SASL, then QUIT. */
async function masterLoginThroughPostfix(config: Config, b: CheckedBackend, master: { user: string; password: Secret }, user: string): Promise<void> {
  const smtp = config.smtp as NonNullable<Config['smtp']>;
  const r = await upstreamLogin({
    backend: backendTarget(config, smtp.backend, smtp.backend_tls),
    credentials: { kind: 'master', user, masterUser: master.user, masterPassword: master.password },
    client: { ip: '127.0.0.1', port: 0, localIp: '127.0.0.1', localPort: 0 },
    helo: hostname(),
    deadlineMs: limits.startupCheckMs,
  });
  if (!r.ok) {
    throw checkFailure(b, 'CONFIG_INVALID', `master login as ${user} refused (${r.detail}): check that service's Dovecot SASL (${README})`);
  }
  r.socket.resume();
  r.socket.end('QUIT\r\n');
  setTimeout(() => r.socket.destroy(), limits.closeLingerMs).unref();
}

/**
 * [smtp] backend greets and offers what backend_login needs: AUTH PLAIN for "master" (and,
 * with [backend] check_user, the master login works through it); XCLIENT with LOGIN, and AUTH
 * (without smtpd_sasl_auth_enable Postfix ignores XCLIENT LOGIN), for "xclient".
 */
export async function checkSmtpBackend(config: Config, master: { user: string; password: Secret }): Promise<string> {
  const smtp = config.smtp;
  if (!smtp) throw new TwostepError('INTERNAL', 'no [smtp] section');
  const b = { key: 'smtp.backend', address: formatHostPort(smtp.backend) };
  const tlsKeys = 'smtp.backend_tls and backend.ca / backend.servername';
  let lines: string[];
  try {
    lines = await probeEhlo(backendTarget(config, smtp.backend, smtp.backend_tls), hostname(), limits.startupCheckMs);
  } catch (err) {
    throw backendFault(b, err, tlsKeys);
  }
  const ext = extensionMap(lines);
  const auth = ext.get('AUTH');
  if (smtp.backend_login === 'xclient') {
    if (!ext.get('XCLIENT')?.includes('LOGIN')) {
      throw checkFailure(b, 'CONFIG_INVALID', `no XCLIENT LOGIN offered to twostep (smtp.backend_login = "xclient"): list twostep's address in that service's smtpd_authorized_xclient_hosts (${README})`);
    }
    if (!auth) {
      throw checkFailure(b, 'CONFIG_INVALID', `no AUTH offered: Postfix ignores XCLIENT LOGIN unless that service has smtpd_sasl_auth_enable = yes (${README})`);
    }
    return `${b.key} ${b.address}: offers XCLIENT LOGIN and AUTH (backend_login = "xclient")`;
  }
  if (!auth?.includes('PLAIN')) {
    throw checkFailure(b, 'CONFIG_INVALID', `no AUTH PLAIN offered (smtp.backend_login = "master"): that service needs smtpd_sasl_auth_enable = yes${smtp.backend_tls === 'none' ? ' and smtpd_tls_auth_only = no' : ''} (${README})`);
  }
  const user = config.backend.check_user;
  if (user) {
    try {
      await masterLoginThroughPostfix(config, b, master, user);
    } catch (err) {
      throw isConfigLine(err) ? err : backendFault(b, err, tlsKeys);
    }
    return `${b.key} ${b.address}: master login as ${master.user} works (logged in as ${user})`;
  }
  return `${b.key} ${b.address}: offers AUTH PLAIN (backend_login = "master")`;
}

function isConfigLine(err: unknown): boolean {
  return err instanceof TwostepError && err.code === 'CONFIG_INVALID';
}
