// The bench's world on loopback: a private Dovecot (plain and implicit-TLS IMAP, limits raised
// for 1,000+ connections), twostep `serve` children, and nginx's mail proxy (plain and
// implicit-TLS IMAP) with its auth_http responder when Debian's nginx + libnginx-mod-mail are installed. Scenarios get this object;
// whatever they start themselves they stop through env.onCleanup.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findDovecotBinary, freePort, makeTestCert, startDemoDovecot } from '../../scripts/demo-backend.mjs';
import { findNginx, startAuthHttp, startNginx } from './nginx.mjs';
import { enrolAppCodeUser, startTwostepChild, twostepConfig } from './twostep.mjs';

/**
 * Dovecot users and their own passwords. `tfa` gets two-step in twostep (app code only); `sink`
 * receives the mail the SMTP scenario submits.
 */
export const USERS = { plain: 'plain-main-password', big: 'big-main-password', tfa: 'tfa-main-password', sink: 'sink-main-password' };

/** Enough processes and per-user connections for 1,000 IDLE sessions of one user from one IP. */
function raiseDovecotLimits(conf) {
  return `${conf.replace(/^mail_max_userip_connections = .*$/m, 'mail_max_userip_connections = 20000')}
# twostep bench: room for thousands of concurrent sessions.
default_process_limit = 5000
default_client_limit = 20000
service imap {
  process_limit = 5000
}
service imap-login {
  process_limit = 5000
}
`;
}

/**
 * @param {{ root: string, log: (s: string) => void, onCleanup: (fn: () => unknown) => void }} o
 */
export async function startEnv({ root, log, onCleanup }) {
  const masterPassword = `m-${Math.random().toString(36).slice(2)}`;
  const cert = makeTestCert(path.join(root, 'tls'));
  log('starting Dovecot');
  const dovecot = await startDemoDovecot({
    dir: path.join(root, 'dovecot'),
    users: Object.entries(USERS).map(([user, password]) => ({ user, password })),
    master: { user: 'proxymaster', password: masterPassword },
    tls: { cert: cert.cert, key: cert.key },
    configOverride: raiseDovecotLimits,
  });
  onCleanup(() => dovecot.stop());
  const dovecotVersion = spawnSync(findDovecotBinary(), ['--version'], { encoding: 'utf8' }).stdout.trim();

  const masterPasswordFile = path.join(root, 'master-password');
  fs.writeFileSync(masterPasswordFile, `${masterPassword}\n`, { mode: 0o600 });

  let twostepN = 0;
  /**
   * A `twostep serve` child with its own ports. Same database as the main instance unless
   * storeDir is given. loginCacheSeconds 0 = every app-code login runs argon2. smtp: also an
   * SMTP submission listener, { backendPort, backendLogin: 'master'|'xclient' } (smtpPort).
   * verifySocket: also the verify service for Dovecot's Lua passdb, on that unix socket.
   * workers: `[server] workers = N` in its config; unset: 1 for this checkout (the rows compare
   * one process, and its RSS is the child's), left out for another repoDir (it may predate the
   * key). execPath, nodeArgs, env, repoDir: how Node runs it, and from which checkout (startTwostepChild).
   */
  const startTwostep = async ({
    name = `twostep-${++twostepN}`, storeDir = path.join(root, 'twostep-store'), store, loginCacheSeconds = 300, smtp, verifySocket, workers, execPath, nodeArgs, env, repoDir,
  } = {}) => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const tlsPort = await freePort();
    const smtpPort = smtp ? await freePort() : null;
    const configText = twostepConfig({
      storePath: path.join(storeDir, 'twostep.db'), store, cert: cert.cert, key: cert.key, masterPasswordFile, port, tlsPort,
      backendPort: dovecot.imapPort, logLevel: 'warn', loginCacheSeconds,
      smtp: smtp && { ...smtp, port: smtpPort },
      verifySocket,
      workers: workers ?? (repoDir === undefined ? 1 : undefined),
    });
    const configPath = path.join(dir, 'twostep.toml');
    fs.writeFileSync(configPath, configText);
    const child = await startTwostepChild({ configPath, port, logFile: path.join(dir, 'serve.log'), execPath, nodeArgs, env, repoDir });
    onCleanup(() => child.stop());
    return { ...child, port, tlsPort, smtpPort, configPath, configText };
  };

  /** Enrol `tfa` (two-step on, one app code) in the database of storeDir (or `store`, PostgreSQL); returns the code. */
  const enrol = async (storeDir = path.join(root, 'twostep-store'), store = undefined) => {
    const dir = path.join(storeDir, 'enrol');
    fs.mkdirSync(dir, { recursive: true });
    const text = twostepConfig({
      storePath: path.join(storeDir, 'twostep.db'), store, cert: cert.cert, key: cert.key, masterPasswordFile, port: 1, tlsPort: 2,
      backendPort: dovecot.imapPort, logLevel: 'warn', loginCacheSeconds: 0,
    });
    const configPath = path.join(dir, 'twostep.toml');
    fs.writeFileSync(configPath, text);
    return enrolAppCodeUser(text, configPath, 'tfa');
  };

  const appCode = await enrol();
  log('starting twostep serve');
  const twostep = await startTwostep({ name: 'twostep-main' });

  // nginx + its auth_http responder (own process, like a real one), when installed.
  const ngFound = findNginx();
  let nginx = null;
  if (ngFound.ok) {
    const authPort = await freePort();
    const auth = await startAuthHttp({ port: authPort, backendPort: dovecot.imapPort, users: USERS });
    onCleanup(() => auth.stop());
    const port = await freePort();
    const tlsPort = await freePort();
    log(`starting nginx ${ngFound.version} (mail module, 1 worker; IMAP plaintext and implicit TLS)`);
    const ng = await startNginx({
      bin: ngFound.bin, module: ngFound.module, dir: path.join(root, 'nginx'), port, authPort, workers: 1, tls: { port: tlsPort, cert: cert.cert, key: cert.key },
    });
    onCleanup(() => ng.stop());
    nginx = { ...ng, port, tlsPort, version: ngFound.version };
  } else {
    log(`nginx's mail proxy not found (${ngFound.missing.join(', ')}): nginx columns are skipped`);
  }

  /** IMAP targets: { port, tls?, user, password }. */
  const target = {
    direct: (user) => ({ port: dovecot.imapPort, user, password: USERS[user] }),
    directTls: (user) => ({ port: dovecot.imapsPort, tls: true, user, password: USERS[user] }),
    twostep: (user, ts = twostep) => ({ port: ts.port, user, password: user === 'tfa' ? appCode : USERS[user] }),
    twostepTls: (user, ts = twostep) => ({ port: ts.tlsPort, tls: true, user, password: user === 'tfa' ? appCode : USERS[user] }),
    nginx: (user) => (nginx ? { port: nginx.port, user, password: USERS[user] } : null),
    nginxTls: (user) => (nginx ? { port: nginx.tlsPort, tls: true, user, password: USERS[user] } : null),
  };

  return {
    root, dovecot, dovecotVersion, cert, twostep, startTwostep, enrol, appCode, nginx, nginxFound: ngFound.ok ? ngFound : null,
    target, masterPasswordFile, onCleanup,
  };
}
