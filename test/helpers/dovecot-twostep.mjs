// The parts of a test Dovecot that twostep's "every door" setup adds (see dovecot-core.mjs):
// the Lua passdb from config/dovecot (the real files, only the script and socket paths
// substituted), a ManageSieve listener, and the auth-worker's user.
import fs from 'node:fs';
import path from 'node:path';

const CONF = new URL('../../config/dovecot/10-twostep-passdb.conf', import.meta.url);
const LUA = new URL('../../config/dovecot/twostep-auth.lua', import.meta.url);
const DEFAULT_SCRIPT = '/etc/dovecot/twostep-auth.lua';
const DEFAULT_SOCKET = '/run/twostep/verify.sock';

/**
 * config/dovecot/10-twostep-passdb.conf as an admin installs it, with the script copied into
 * `dir` (root 0644, as in /etc/dovecot) and TWOSTEP_VERIFY pointing at `socket` (a socket
 * path or host:port).
 * @param {{ dir: string, socket: string }} o
 */
export function twostepPassdbConf(o) {
  const script = path.join(o.dir, 'twostep-auth.lua');
  fs.copyFileSync(LUA, script);
  fs.chmodSync(script, 0o644);
  const text = fs.readFileSync(CONF, 'utf8');
  if (!text.includes(DEFAULT_SCRIPT) || !text.includes(DEFAULT_SOCKET)) {
    throw new Error(`config/dovecot/10-twostep-passdb.conf changed shape: no ${DEFAULT_SCRIPT} or ${DEFAULT_SOCKET}`);
  }
  return text.split(DEFAULT_SCRIPT).join(script).split(DEFAULT_SOCKET).join(o.socket);
}

/**
 * Settings appended to the generated dovecot.conf for the twostep options of startDovecot.
 * @param {{ sievePort?: number, authWorkerUser?: string }} o
 */
export function twostepExtraConf(o) {
  const parts = [];
  if (o.sievePort) {
    parts.push(`# ManageSieve (pigeonhole): a password door of its own.
service managesieve-login {
  inet_listener sieve {
    address = 127.0.0.1
    port = ${o.sievePort}
  }
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}`);
  }
  if (o.authWorkerUser) {
    parts.push(`# The Lua passdb runs in auth-worker processes, as this user.
service auth-worker {
  user = ${o.authWorkerUser}
}`);
  }
  return parts.join('\n');
}
