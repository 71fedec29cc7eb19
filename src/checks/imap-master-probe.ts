import type { BackendTarget } from '../config/runtime-config.js';
import { limits } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import { upstreamLogin } from '../protocols/imap/upstream-login.js';

export type MasterProbe =
  /** Logged in as the user (then logged out): the master login works and the mailbox exists. */
  | { result: 'logged-in' }
  /** NO [AUTHORIZATIONFAILED]: the master password is right, the backend has no such user. */
  | { result: 'no-such-user' }
  /** NO [AUTHENTICATIONFAILED]: the master user or its password is wrong. */
  | { result: 'master-refused' }
  /** Any other refusal, as the backend worded it; temporary for NO [UNAVAILABLE]. */
  | { result: 'refused'; temporary: boolean; text: string };

/** The check connects on its own behalf: Dovecot logs rip=127.0.0.1 for it. */
const SELF = { ip: '127.0.0.1', port: 0, localIp: '127.0.0.1', localPort: 0 };

/**
 * One IMAP master login to the backend as `user`, exactly as a login with an application code
 * does it (connect, STARTTLS per backend_tls, ID, AUTHENTICATE PLAIN with the user as
 * authorization identity), then LOGOUT. Dovecot (with `pass = yes` in the master passdb) tells
 * the outcomes apart: AUTHENTICATIONFAILED for a wrong master password, AUTHORIZATIONFAILED for
 * a right one and an unknown user. Network and protocol faults throw (TwostepError).
 */
export async function probeImapMasterLogin(
  backend: BackendTarget,
  master: { user: string; password: Secret },
  user: string,
): Promise<MasterProbe> {
  const r = await upstreamLogin({
    backend,
    credentials: { kind: 'master', user, masterUser: master.user, masterPassword: master.password },
    client: SELF,
    deadlineMs: limits.startupCheckMs,
  });
  if (r.ok) {
    r.socket.end('TS9 LOGOUT\r\n');
    setTimeout(() => r.socket.destroy(), limits.closeLingerMs).unref();
    return { result: 'logged-in' };
  }
  if (/^\[AUTHORIZATIONFAILED\]/i.test(r.text)) return { result: 'no-such-user' };
  if (/^\[AUTHENTICATIONFAILED\]/i.test(r.text)) return { result: 'master-refused' };
  return { result: 'refused', temporary: r.temporary, text: r.text };
}
