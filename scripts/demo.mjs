#!/usr/bin/env node
// npm run demo: a private Dovecot on loopback, twostep in front of it, a demo user with
// two-step authentication on and a fresh application code, and the lines to try it with curl.
// `node scripts/demo.mjs --check` runs those curl lines itself, prints the results and exits
// (0 when all behave as promised); the integration tests use it. Needs root (Dovecot's
// private instance) and `npm run build` (npm run demo does both).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticator } from 'otplib';
import { parseConfig } from '../dist/config/load-config.js';
import { createLogger, silentLogger } from '../dist/core/logger.js';
import { openPolicy, serve } from '../dist/main.js';
import { freePort, makeTestCert, startDemoDovecot } from './demo-backend.mjs';

const check = process.argv.includes('--check');

/** The documented default port when it is free, else any free port. */
async function portOr(preferred) {
  const free = await new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

const users = {
  demo: 'demo-main-pw-2026',
  plain: 'plain-main-pw-2026',
};
const dir = mkdtempSync(join(tmpdir(), 'twostep-demo-'));
const masterPassword = `m-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const dovecot = await startDemoDovecot({
  users: Object.entries(users).map(([user, password]) => ({ user, password })),
  master: { user: 'proxymaster', password: masterPassword },
});
let running;
const stopAll = async () => {
  await running?.close().catch(() => {});
  await dovecot.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
};

try {
  for (const user of Object.keys(users)) {
    dovecot.deliver(
      user,
      `From: twostep demo <demo@example.com>\r\nTo: ${user}\r\nSubject: Welcome, ${user}\r\n` +
        `Date: ${new Date().toUTCString()}\r\nMessage-ID: <welcome-${user}@example.com>\r\n\r\n` +
        `This message was read through twostep.\r\n`,
    );
  }
  const cert = makeTestCert(dir);
  writeFileSync(join(dir, 'master-password'), `${masterPassword}\n`, { mode: 0o600 });
  const imapPort = await portOr(1143);
  const imapsPort = await portOr(1993);
  const pop3Port = await portOr(1110);
  const pop3sPort = await portOr(1995);
  const configText = [
    '[store]',
    `path = ${JSON.stringify(join(dir, 'data', 'twostep.db'))}`,
    '[tls]',
    `cert = ${JSON.stringify(cert.cert)}`,
    `key = ${JSON.stringify(cert.key)}`,
    '[backend]',
    'master_user = "proxymaster"',
    `master_password_file = ${JSON.stringify(join(dir, 'master-password'))}`,
    '[imap]',
    `listen = "127.0.0.1:${imapPort}"`,
    `listen_tls = "127.0.0.1:${imapsPort}"`,
    `backend = "127.0.0.1:${dovecot.imapPort}"`,
    '[pop3]',
    `listen = "127.0.0.1:${pop3Port}"`,
    `listen_tls = "127.0.0.1:${pop3sPort}"`,
    `backend = "127.0.0.1:${dovecot.pop3Port}"`,
    '',
  ].join('\n');
  const configPath = join(dir, 'twostep.toml');
  writeFileSync(configPath, configText);
  const config = parseConfig(configText, configPath);

  // What an admin and the user would do with the CLI: allow, enrol, confirm, add a code.
  const admin = openPolicy(config, silentLogger());
  let key;
  let code;
  try {
    admin.policy.setAdminPolicy('demo', 'allowed');
    key = admin.policy.totpEnroll('demo').key;
    admin.policy.totpConfirm('demo', authenticator.generate(key));
    code = (await admin.policy.appCodeAdd('demo', 'Demo mail app')).code;
  } finally {
    admin.close();
  }

  running = await serve(config, check ? silentLogger() : createLogger({ level: 'warn' }));
  const url = `imap://127.0.0.1:${imapPort}/INBOX?ALL`;
  const tryCode = ['curl', '-sS', '-k', '--ssl-reqd', '-u', `demo:${code}`, `'${url}'`];
  const tryMain = ['curl', '-sS', '-k', '--ssl-reqd', '-u', `demo:${users.demo}`, `'${url}'`];
  const tryPlain = ['curl', '-sS', '-k', '--ssl-reqd', '-u', `plain:${users.plain}`, `'${url}'`];
  const tryTls = ['curl', '-sS', '-k', '-u', `demo:${code.toLowerCase()}`, `'imaps://127.0.0.1:${imapsPort}/INBOX;UID=1'`];
  const tryPop3 = ['curl', '-sS', '-k', '--ssl-reqd', '-u', `demo:${code}`, `'pop3://127.0.0.1:${pop3Port}/1'`];
  console.log(`
twostep demo is running (files in ${dir}).
  Dovecot (direct, loopback only): 127.0.0.1:${dovecot.imapPort}
  twostep IMAP:                    127.0.0.1:${imapPort} (STARTTLS)  127.0.0.1:${imapsPort} (implicit TLS)
  twostep POP3:                    127.0.0.1:${pop3Port} (STLS)      127.0.0.1:${pop3sPort} (implicit TLS)
  Users: "demo" has two-step authentication on; "plain" does not.
  demo's application code:         ${code}
  demo's authenticator key:        ${key} (add it to an authenticator app to see codes)

Try it:
  ${tryCode.join(' ')}        # the application code works
  ${tryMain.join(' ')}        # the main password is refused
  ${tryPlain.join(' ')}       # an account without 2FA passes through
  ${tryTls.join(' ')}         # implicit TLS, lower case
  ${tryPop3.join(' ')}        # POP3 (STLS): the same code reads message 1
Admin CLI on this instance: bin/twostep --config ${configPath} appcode list demo
Ctrl-C stops twostep and Dovecot.`);

  if (check) {
    // Asynchronous: twostep runs in this very process and must keep answering while curl talks to it.
    const run = (argv) =>
      new Promise((resolve) => {
        execFile(argv[0], argv.slice(1).map((a) => a.replace(/^'|'$/g, '')), { timeout: 20_000 }, (err, stdout, stderr) =>
          resolve({ ok: !err, out: `${stdout}${stderr}` }),
        );
      });
    const results = [
      ['application code accepted', await run(tryCode), (r) => r.ok && /SEARCH 1/.test(r.out)],
      ['main password refused', await run(tryMain), (r) => !r.ok && /Login denied|denied/i.test(r.out)],
      ['account without 2FA passes through', await run(tryPlain), (r) => r.ok && /SEARCH 1/.test(r.out)],
      ['implicit TLS, lower-case code', await run(tryTls), (r) => r.ok && /Welcome, demo/.test(r.out)],
      ['POP3 with the application code', await run(tryPop3), (r) => r.ok && /Welcome, demo/.test(r.out)],
    ];
    let failed = 0;
    for (const [name, r, pass] of results) {
      const ok = pass(r);
      if (!ok) failed++;
      console.log(`check: ${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `\n${r.out}`}`);
    }
    await stopAll();
    process.exit(failed ? 1 : 0);
  }
  const onSignal = () => {
    stopAll().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll();
  process.exit(1);
}
