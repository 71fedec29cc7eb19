import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapLogin } from '../helpers/door-logins.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { renderMainCf, renderMasterCf } from '../helpers/postfix.js';
import { MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli } from '../helpers/twostep-process.js';

/**
 * `twostep doctor` against the configurations of real, running Dovecots (read with doveconf -n)
 * and of Postfix (postconf -n / -M): a Dovecot without twostep's passdb is a row of open doors
 * (and the first one really lets the main password in); with the snippet as shipped and the
 * master passdb limited to twostep, none.
 */

let dir: string;
let socket: string;
let configPath: string;
let bare: DovecotInstance; // as it was: no twostep passdb
let guarded: DovecotInstance; // the snippet as shipped, master passdb limited to twostep
const USERS = [{ user: 'alice', password: 'alice-main-pw' }];
/** Each test runs doctor (a CLI start, doveconf, postconf) once or twice: generous on a busy machine. */
const LONG = 120_000;
const limitMaster = (conf: string) => conf.replace('  master = yes\n  pass = yes\n', '  master = yes\n  pass = yes\n  override_fields = allow_real_nets=127.0.0.1/32,::1\n');

/** A Postfix configuration directory as the test harness writes it (not started: postconf reads files). */
function postfixDir(name: string, extraMainCf = '', xclientHosts = '127.0.0.1'): string {
  const d = join(dir, name);
  mkdirSync(d);
  const p = {
    queueDir: join(d, 'queue'),
    dataDir: join(d, 'data'),
    logPath: join(d, 'postfix.log'),
    syslogName: 'postfix-doctor',
    domain: 'test.example',
    myhostname: 'mx.test.example',
    lmtpSocket: '/nonexistent/lmtp',
    saslPath: 'inet:127.0.0.1:12345',
    xclientHosts,
    senderLogins: {},
    cert: '/nonexistent/cert.pem',
    key: '/nonexistent/key.pem',
    extraMainCf,
    submissionPort: 10587,
    smtpsPort: 10465,
  };
  writeFileSync(join(d, 'main.cf'), renderMainCf(p));
  writeFileSync(join(d, 'master.cf'), renderMasterCf(p));
  return d;
}

const doctor = (...args: string[]) => runCli(['--config', configPath, 'doctor', ...args]);
const row = (out: string, item: string) => out.split('\n').find((l) => l.startsWith(item)) ?? `(no row ${item})`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-doctor-it-'));
  chmodSync(dir, 0o755);
  socket = join(dir, 'verify.sock');
  configPath = writeTestConfig({
    dir,
    cert: { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' },
    backendImapPort: 143,
    listen: '',
    listenTls: '127.0.0.1:1993',
    dovecot: { verify_socket: socket },
  });
  [bare, guarded] = await Promise.all([
    startDovecot({ users: USERS, master: MASTER, manageSieve: true }),
    startDovecot({ users: USERS, master: MASTER, manageSieve: true, trustedNetworks: '127.0.0.1/32 ::1', twostepPassdb: { socket }, configOverride: limitMaster }),
  ]);
}, LONG);

afterAll(async () => {
  await Promise.all([bare?.stop(), guarded?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('twostep doctor', () => {
  it('without the snippet: every door that takes a password is open, and exit status 1', async () => {
    // The door is real: alice's main password opens this Dovecot.
    expect((await imapLogin({ port: bare.imapPort }, 'alice', 'alice-main-pw')).outcome).toBe('ok');
    const r = await doctor('--dovecot-config', bare.confPath, '--postfix-config', postfixDir('pf-bare'));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(row(r.stdout, 'Dovecot passdbs')).toMatch(/OPEN +no twostep passdb/);
    for (const door of ['IMAP (imap-login)', 'POP3 (pop3-login)', 'ManageSieve (managesieve-login)', 'Dovecot auth (SASL clients)', 'Postfix smtpd 127.0.0.1:10587', 'Postfix smtpd 127.0.0.1:10465']) {
      expect(row(r.stdout, door), door).toMatch(/ OPEN /);
    }
    expect(row(r.stdout, 'IMAP (imap-login)')).toContain(`imap 127.0.0.1:${bare.imapPort}`);
    expect(row(r.stdout, 'master passdb')).toMatch(/OPEN +not limited to twostep: add override_fields = allow_real_nets=127\.0\.0\.1,::1/);
    expect(row(r.stdout, 'login_trusted_networks')).toMatch(/check +127\.0\.0\.0\/8 ::1: 127\.0\.0\.0\/8 may claim any client address/);
    expect(r.stderr).toMatch(/^twostep: \d+ open: Dovecot passdbs, IMAP/);
  }, LONG);

  it('with the snippet as shipped and the master passdb limited to twostep: no open door, exit status 0', async () => {
    const r = await doctor('--dovecot-config', guarded.confPath, '--postfix-config', postfixDir('pf-guarded'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/ OPEN /);
    expect(row(r.stdout, 'Dovecot passdbs')).toMatch(/ok +twostep's Lua passdb is asked first/);
    for (const door of ['IMAP (imap-login)', 'POP3 (pop3-login)', 'ManageSieve (managesieve-login)', 'Dovecot auth (SASL clients)', 'Postfix smtpd 127.0.0.1:10587']) {
      expect(row(r.stdout, door), door).toMatch(/ guarded /);
    }
    expect(row(r.stdout, 'TWOSTEP_VERIFY')).toMatch(new RegExp(`ok +${socket}`));
    expect(row(r.stdout, 'master passdb')).toMatch(/ok +allow_real_nets=127\.0\.0\.1\/32,::1/);
    expect(r.stdout).toMatch(/No open door/);
  }, LONG);

  it('names what is wrong: a passdb before twostep\'s, Cyrus SASL, XCLIENT from elsewhere, the auth cache', async () => {
    // An admin who dropped the snippet into conf.d under its own name: after Debian's 10-auth.conf.
    const late = join(dir, 'late.conf');
    const conf = readFileSync(guarded.confPath, 'utf8');
    const users = /passdb \{\n {2}driver = passwd-file\n {2}args = scheme=PLAIN username_format=%u \S+users\.passwd\n\}\n/.exec(conf)?.[0] ?? '';
    expect(users).not.toBe('');
    writeFileSync(late, `${users}${conf.replace(users, '')}\nauth_cache_size = 1M\n`);
    const cyrus = postfixDir('pf-cyrus', 'smtpd_sasl_type = cyrus');
    const r = await doctor('--dovecot-config', late, '--postfix-config', cyrus);
    expect(r.code).toBe(1);
    expect(row(r.stdout, 'Dovecot passdbs')).toMatch(/OPEN +passdb "passwd-file" is asked before twostep's/);
    expect(row(r.stdout, 'Postfix smtpd 127.0.0.1:10587')).toMatch(/OPEN +SASL via cyrus/);

    const noKey = join(dir, 'nokey.conf');
    writeFileSync(noKey, `${conf.replace(/ cache_key=\S+/, '')}\nauth_cache_size = 1M\n`);
    const wide = postfixDir('pf-wide', '', '127.0.0.0/8');
    const r2 = await doctor('--dovecot-config', noKey, '--postfix-config', wide);
    expect(r2.code).toBe(1);
    expect(row(r2.stdout, 'Dovecot passdbs')).toMatch(/OPEN +auth_cache_size = 1 ?M and a cache key without %\{passdb:twostep\}/);
    expect(row(r2.stdout, 'Postfix smtpd 127.0.0.1:10587')).toMatch(/OPEN +XCLIENT from 127\.0\.0\.0\/8 \(not twostep\)/);
  }, LONG);
});
