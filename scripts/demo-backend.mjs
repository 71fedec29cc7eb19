// The demo's backends: a private Dovecot (IMAP, POP3, LMTP, auth) and a private Postfix
// (submission, Dovecot SASL, LMTP delivery into that Dovecot), on free loopback ports. Same code
// as the integration tests' helpers (test/helpers/dovecot-core.mjs, postfix-core.mjs); plain JS
// so the demo runs with node alone. Needs root, like the tests.
//
//   const b = await startDemoBackends({ dir, domain: 'example.test', users, master });
//   b.dovecot.imapPort, b.dovecot.pop3Port, b.smtpPort (Postfix, config/postfix master mode)
//   await b.stop();
import { join } from 'node:path';
import { startDovecot } from '../test/helpers/dovecot-core.mjs';
import { freePort } from '../test/helpers/ports.mjs';
import { postfixSnippet, startPostfix } from '../test/helpers/postfix-core.mjs';

// startDemoDovecot: Dovecot alone (bench/run.mjs).
export { startDovecot as startDemoDovecot, startDovecot, findDovecotBinary, renderDovecotConf } from '../test/helpers/dovecot-core.mjs';
export { makeTestCert } from '../test/helpers/tls.mjs';
export { freePort } from '../test/helpers/ports.mjs';

/** The test Dovecot keys users by local part for LMTP; the demo's users are whole addresses. */
function lmtpKeepsDomain(conf) {
  const from = 'auth_username_format = %Ln';
  if (!conf.includes(from)) throw new Error('dovecot-core.mjs: the LMTP auth_username_format line changed');
  return conf.replace(from, 'auth_username_format = %Lu');
}

/**
 * @param {{ dir: string, domain: string, cert: { cert: string, key: string },
 *   users: { user: string, password: string }[], master: { user: string, password: string } }} o
 *   users are full addresses in `domain`; each may send as itself only (sender-login map).
 */
export async function startDemoBackends(o) {
  const dovecot = await startDovecot({
    dir: join(o.dir, 'dovecot'),
    users: o.users,
    master: o.master,
    configOverride: lmtpKeepsDomain,
  });
  try {
    // The service an admin appends from config/postfix/master.cf-master-mode: twostep logs in
    // there (as the user, through the Dovecot master user, for application codes).
    const smtpPort = await freePort();
    const postfix = await startPostfix({
      lmtpSocket: dovecot.lmtpSocket,
      saslPath: `inet:127.0.0.1:${dovecot.authPort}`,
      tls: o.cert,
      domain: o.domain,
      myhostname: `mail.${o.domain}`,
      senderLogins: Object.fromEntries(o.users.map((u) => [u.user, u.user])),
      extraServices: postfixSnippet('master.cf-master-mode', { port: smtpPort, saslPath: `inet:127.0.0.1:${dovecot.authPort}` }),
    });
    return {
      dovecot,
      postfix,
      smtpPort,
      async stop() {
        await postfix.stop().catch(() => {});
        await dovecot.stop().catch(() => {});
      },
    };
  } catch (err) {
    await dovecot.stop().catch(() => {});
    throw err;
  }
}
