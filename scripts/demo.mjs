#!/usr/bin/env node
// npm run demo: a private Dovecot and Postfix on loopback, twostep in front of them (IMAP, POP3,
// SMTP submission, web portal + admin console), two demo users (one with two-step
// authentication and an application code, one without), an admin, and the lines to try it all.
// Ctrl-C stops everything and removes the demo's temp folder.
//
// `node scripts/demo.mjs --check` starts the same on free ports, runs the printed lines itself,
// walks the portal's sign-in, prints one "check: ok|FAIL" line each and exits 0 when all behave
// as promised (test/integration/demo.test.ts). Both need root (private Dovecot/Postfix) and
// `npm run build` (npm run demo does it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { authenticator } from 'otplib';
import { parseConfig } from '../dist/config/load-config.js';
import { createLogger, silentLogger } from '../dist/core/logger.js';
import { Secret } from '../dist/core/secret.js';
import { openPolicy, serve } from '../dist/main.js';
import { makeTestCert, startDemoBackends } from './demo-backend.mjs';
import { runChecks, shellLine } from './demo-checks.mjs';
import { demoPorts } from './demo-ports.mjs';

const check = process.argv.includes('--check');
const DOMAIN = 'example.test';
const demo = { email: `demo@${DOMAIN}`, password: 'demo-main-pw-2026' };
const plain = { email: `plain@${DOMAIN}`, password: 'plain-main-pw-2026' };
const adminName = 'admin';
const adminPassword = `demo-admin-${randomBytes(6).toString('hex')}`;
const masterPassword = randomBytes(18).toString('base64url');

// Ctrl-C at any moment stops what runs and removes the folder. Installed before the backends
// start, so their helpers leave the signals to us. During the start-up a Ctrl-C is noted and
// acted on between the steps (a half-started backend would otherwise be missed).
let dir;
let backends;
let running;
let starting = true;
let interrupted = false;
let stopping;
const stopAll = () =>
  (stopping ??= (async () => {
    await running?.close().catch(() => {});
    await backends?.stop().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  })());
const stopAndExit = async (code) => {
  await stopAll();
  if (!check) console.log('stopped; demo folder removed.');
  process.exit(code);
};
const onSignal = (sig) => {
  if (interrupted) process.exit(130); // a second Ctrl-C: do not wait any longer
  interrupted = true;
  if (!check) console.log(`\n${sig}: stopping twostep, Postfix and Dovecot ...`);
  if (!starting) void stopAndExit(0);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
/** Between start-up steps: a Ctrl-C that came meanwhile stops here. */
const stopIfInterrupted = async () => {
  if (interrupted) await stopAndExit(0);
};

/** The twostep config the demo runs with (written to the demo folder, so the CLI can use it too). */
function configText(p, cert) {
  return [
    '[store]',
    `path = ${JSON.stringify(join(dir, 'data', 'twostep.db'))}`,
    '[tls]',
    `cert = ${JSON.stringify(cert.cert)}`,
    `key = ${JSON.stringify(cert.key)}`,
    '[backend]',
    'master_user = "proxymaster"',
    `master_password_file = ${JSON.stringify(join(dir, 'master-password'))}`,
    '[imap]',
    `listen = "127.0.0.1:${p.imap}"`,
    `listen_tls = "127.0.0.1:${p.imaps}"`,
    `backend = "127.0.0.1:${backends.dovecot.imapPort}"`,
    '[pop3]',
    `listen = "127.0.0.1:${p.pop3}"`,
    `listen_tls = "127.0.0.1:${p.pop3s}"`,
    `backend = "127.0.0.1:${backends.dovecot.pop3Port}"`,
    '[smtp]',
    `listen = "127.0.0.1:${p.smtp}"`,
    `listen_tls = "127.0.0.1:${p.smtps}"`,
    `backend = "127.0.0.1:${backends.smtpPort}"`,
    'backend_login = "master"',
    '[portal]',
    `listen = "127.0.0.1:${p.portal}"`,
    '',
  ].join('\n');
}

/** What an admin and the user would do with the CLI or the portal: allow, enrol, confirm, add a code; an admin account. */
async function enrol(config) {
  const opened = await openPolicy(config, silentLogger());
  try {
    const { policy } = opened;
    await policy.setAdminPolicy(demo.email, 'allowed');
    const key = (await policy.totpEnroll(demo.email)).key;
    const { oneTimeCodes } = await policy.totpConfirm(demo.email, authenticator.generate(key));
    const code = (await policy.appCodeAdd(demo.email, 'Demo mail app')).code;
    const admin = await policy.admins.add(adminName, new Secret(adminPassword));
    return { key, oneTimeCodes, code, admin };
  } finally {
    await opened.close();
  }
}

/** The lines the demo prints, each with what --check expects of it. */
function tryLines(p, code) {
  const imap = `imap://127.0.0.1:${p.imap}/INBOX?ALL`;
  const curl = ['curl', '-sS', '-k'];
  const subject = 'Hello through twostep';
  return [
    { name: 'IMAP: application code accepted', note: 'the application code works: * SEARCH 1',
      argv: [...curl, '--ssl-reqd', '-u', `${demo.email}:${code}`, imap], pass: (r) => r.ok && /SEARCH 1/.test(r.out) },
    { name: 'IMAP: main password refused', note: 'the main password is refused ("Login denied", after 2 s)',
      argv: [...curl, '--ssl-reqd', '-u', `${demo.email}:${demo.password}`, imap], pass: (r) => !r.ok && /denied/i.test(r.out) },
    { name: 'IMAP: account without 2FA passes through', note: 'no two-step: the main password passes through',
      argv: [...curl, '--ssl-reqd', '-u', `${plain.email}:${plain.password}`, imap], pass: (r) => r.ok && /SEARCH 1/.test(r.out) },
    { name: 'IMAP: implicit TLS, lower-case code', note: 'implicit TLS; codes ignore case',
      argv: [...curl, '-u', `${demo.email}:${code.toLowerCase()}`, `imaps://127.0.0.1:${p.imaps}/INBOX;UID=1`], pass: (r) => r.ok && /Welcome to twostep/.test(r.out) },
    { name: 'POP3: application code reads message 1', note: 'POP3 (STLS), the same code',
      argv: [...curl, '--ssl-reqd', '-u', `${demo.email}:${code}`, `pop3://127.0.0.1:${p.pop3}/1`], pass: (r) => r.ok && /Welcome to twostep/.test(r.out) },
    { name: 'SMTP: mail sent with the application code', note: `SMTP submission (STARTTLS): demo mails plain`,
      argv: ['swaks', '--server', `127.0.0.1:${p.smtp}`, '--tls', '--auth', 'PLAIN', '--auth-user', demo.email, '--auth-password', code,
        '--from', demo.email, '--to', plain.email, '--header', `Subject: ${subject}`, '--body', 'Sent with an application code.'],
      pass: (r) => r.ok && /<~ {2}250 2\.0\.0 Ok: queued as/.test(r.out) },
    { name: 'SMTP: mail arrived, read back over IMAP', note: `plain reads it (a moment later): "Authenticated sender: ${demo.email}"`, after: 'SMTP: mail sent with the application code', retry: true,
      argv: [...curl, '-u', `${plain.email}:${plain.password}`, `imaps://127.0.0.1:${p.imaps}/INBOX;UID=2`],
      pass: (r) => r.ok && r.out.includes(`Subject: ${subject}`) && r.out.includes(`(Authenticated sender: ${demo.email})`) },
    { name: 'SMTP: main password refused', note: 'implicit TLS: sending with the main password is refused too (535)',
      argv: ['swaks', '--server', `127.0.0.1:${p.smtps}`, '--tlsc', '--auth', 'LOGIN', '--auth-user', demo.email, '--auth-password', demo.password, '--quit-after', 'AUTH'],
      pass: (r) => !r.ok && /<~\* {1,2}535 5\.7\.8 .*application code/.test(r.out) },
  ];
}

/**
 * Opens the user's INBOX once, directly at Dovecot, so the welcome message gets UID 1 now; else
 * Dovecot numbers Maildir/new only at the next access, and a mail sent by the printed swaks line
 * could take UID 1 before it (the read-back line reads UID 2).
 */
async function assignUids(imapPort, u) {
  const client = new ImapFlow({ host: '127.0.0.1', port: imapPort, secure: false, doSTARTTLS: false, auth: { user: u.email, pass: u.password }, logger: false });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
  } finally {
    await client.logout();
  }
}

function welcome(to) {
  return (
    `From: twostep demo <postmaster@${DOMAIN}>\r\nTo: ${to}\r\nSubject: Welcome to twostep, ${to}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <welcome-${to.replace('@', '.')}@${DOMAIN}>\r\n\r\n` +
    `This message was read through twostep.\r\n`
  );
}

try {
  // Ports first: a taken port is reported before anything starts.
  const p = await demoPorts(!check);
  dir = mkdtempSync(join(tmpdir(), 'twostep-demo-'));
  const cert = makeTestCert(dir);
  backends = await startDemoBackends({
    dir,
    domain: DOMAIN,
    cert,
    users: [demo, plain].map((u) => ({ user: u.email, password: u.password })),
    master: { user: 'proxymaster', password: masterPassword },
  });
  await stopIfInterrupted();
  for (const u of [demo, plain]) {
    backends.dovecot.deliver(u.email, welcome(u.email));
    await assignUids(backends.dovecot.imapPort, u);
  }
  writeFileSync(join(dir, 'master-password'), `${masterPassword}\n`, { mode: 0o600 });
  const configPath = join(dir, 'twostep.toml');
  const text = configText(p, cert);
  writeFileSync(configPath, text);
  const config = parseConfig(text, configPath);
  const enrolled = await enrol(config);
  await stopIfInterrupted();
  running = await serve(config, check ? silentLogger() : createLogger({ level: 'warn' }));
  starting = false;
  await stopIfInterrupted();

  const lines = tryLines(p, enrolled.code);
  const portal = `http://127.0.0.1:${p.portal}`;
  const cli = relative(process.cwd(), fileURLToPath(new URL('../bin/twostep', import.meta.url)));
  console.log(`
twostep demo is running (files in ${dir}).
  twostep IMAP:         127.0.0.1:${p.imap} (STARTTLS)  127.0.0.1:${p.imaps} (implicit TLS)
  twostep POP3:         127.0.0.1:${p.pop3} (STLS)      127.0.0.1:${p.pop3s} (implicit TLS)
  twostep SMTP:         127.0.0.1:${p.smtp} (STARTTLS)  127.0.0.1:${p.smtps} (implicit TLS)
  twostep web portal:   ${portal}/   admin console: ${portal}/admin
  behind it, loopback:  Dovecot IMAP ${backends.dovecot.imapPort}, POP3 ${backends.dovecot.pop3Port}; Postfix submission ${backends.smtpPort}

Users (their Dovecot passwords):
  ${demo.email} / ${demo.password}     two-step authentication ON
    application code (the password for mail apps): ${enrolled.code}
    authenticator key:  ${enrolled.key}
    one-time codes:     ${enrolled.oneTimeCodes.slice(0, 3).join('  ')}  (each works once instead of the 6-digit code)
  ${plain.email} / ${plain.password}   two-step authentication off: passes through
Admin console ${portal}/admin: ${adminName} / ${adminPassword}
    authenticator key:  ${enrolled.admin.key}  (shown once; the first sign-in also asks for the next code)
No authenticator app at hand? The current 6-digit code of a key:
  node -e "console.log(require('otplib').authenticator.generate(process.argv[1]))" KEY

Try it:
${lines.map((l) => `  # ${l.note}\n  ${shellLine(l.argv)}`).join('\n')}
  # the portal: sign in as ${demo.email} / ${demo.password}, then a code from the app (or a one-time code)
  ${portal}/
  # the CLI on this instance
  ${cli} --config ${configPath} appcode list ${demo.email}

Ctrl-C stops twostep, Postfix and Dovecot and removes ${dir}.`);

  if (check) {
    const failed = await runChecks({
      lines,
      portal: {
        url: portal,
        user: { email: demo.email, password: demo.password, oneTimeCode: enrolled.oneTimeCodes[0] },
        admin: { name: adminName, password: adminPassword, key: enrolled.admin.key },
      },
    });
    await stopAll();
    process.exit(failed ? 1 : 0);
  }
} catch (err) {
  // Ctrl-C reaches openssl and `postfix start` too: their failure is the interruption, not an error.
  if (interrupted) await stopAndExit(0);
  const message = err instanceof Error ? err.message : String(err);
  console.error(`demo failed: ${/EADDRINUSE/.test(message) ? `${message} (a port was taken while the demo started; try again)` : message}`);
  starting = false;
  await stopAll();
  process.exit(1);
}
