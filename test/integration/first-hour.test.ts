import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { sharedTestCert } from '../helpers/tls.js';
import { MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { BIN, runCli } from '../helpers/twostep-process.js';

/**
 * The first hour of an admin, against a real Dovecot: `init`'s master-users file installed with
 * the one recipe (config/dovecot/README.md) gives a working master login; `user allow` with a
 * typo stops unless --force; twostep runs through a symlink on PATH.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const USERS = [{ user: 'alice@example.test', password: 'alice-main-pw' }];
let dir: string;

/** The group id of `dovecot` (the auth process reads master-users as that group). */
const dovecotGid = (): number => Number(execFileSync('getent', ['group', 'dovecot'], { encoding: 'utf8' }).split(':')[2]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-first-hour-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('init and Dovecot agree on one master user', () => {
  let dovecot: DovecotInstance | undefined;
  afterAll(async () => dovecot?.stop());

  it('writes master-users that, installed as the recipe says, gives a working master login', async () => {
    const home = join(dir, 'init');
    mkdirSync(home);
    const config = join(home, 'config', 'twostep.toml');
    const init = await runCli(['--config', config, 'init', '--data-dir', join(home, 'data'), '--imap-backend', '127.0.0.1:1']);
    expect(init.code, init.stderr).toBe(0);
    const masterUsers = join(home, 'config', 'master-users');
    const recipe = `install -o root -g dovecot -m 0640 ${masterUsers} /etc/dovecot/master-users`;
    expect(init.stdout).toContain(`  ${recipe}\n`);
    const password = readFileSync(join(home, 'config', 'master-password'), 'utf8').trim();
    expect(init.stdout).not.toContain(password); // no secret on screen or in a printed command
    expect(readFileSync(masterUsers, 'utf8')).not.toContain(password);
    expect(readFileSync(masterUsers, 'utf8').match(/^proxymaster:/gm)).toHaveLength(1);

    dovecot = await startDovecot({
      users: USERS,
      master: MASTER,
      configOverride: (conf, p) => {
        // The admin's steps: the recipe's install (one file, replaced, root:dovecot 0640), the snippets from config/dovecot.
        const installed = join(p.dir, 'etc-dovecot-master-users');
        execFileSync('sh', ['-c', recipe.replace('/etc/dovecot/master-users', installed)]);
        const snippet = readFileSync(join(repoRoot, 'config/dovecot/10-twostep-master.conf'), 'utf8').replaceAll('/etc/dovecot/master-users', installed);
        writeFileSync(join(p.dir, '10-twostep-master.conf'), snippet);
        const stripped = conf.replace(/^auth_master_user_separator = .*$/m, '').replace(/passdb \{\n[^}]*master = yes[^}]*\}\n/, '');
        return `${stripped}\n!include ${p.dir}/10-twostep-master.conf\n`;
      },
    });
    const st = statSync(join(dovecot.dir, 'etc-dovecot-master-users'));
    expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o777).toString(8) }).toEqual({ uid: 0, gid: dovecotGid(), mode: '640' });

    writeFileSync(config, readFileSync(config, 'utf8').replace('"127.0.0.1:1"', `"127.0.0.1:${dovecot.imapPort}"`));
    const check = await runCli(['--config', config, 'check']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`ok    imap.backend 127.0.0.1:${dovecot.imapPort}: master login as proxymaster works`);
    // And a real master login as a user, with the password from init's file:
    const allow = await runCli(['--config', config, 'user', 'allow', 'alice@example.test']);
    expect(allow.code, allow.stderr).toBe(0);
    expect(allow.stderr).toBe('');
  });
});

describe('user allow checks that the mail server knows the user', () => {
  let dovecot: DovecotInstance;
  let config: string;
  const cli = (...args: string[]) => runCli(['--config', config, ...args]);

  beforeAll(async () => {
    dovecot = await startDovecot({ users: USERS, master: MASTER });
    const sub = join(dir, 'allow');
    mkdirSync(sub);
    config = writeTestConfig({ dir: sub, cert: sharedTestCert(), backendImapPort: dovecot.imapPort, listen: '', listenTls: '' });
  }, 60_000);
  afterAll(async () => dovecot?.stop());

  it('stops at a typo with exit 1 and one line, and changes nothing', async () => {
    const r = await cli('user', 'allow', 'alcie@example.test');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `twostep: imap.backend 127.0.0.1:${dovecot.imapPort} knows no user alcie@example.test (a typo?); --force to allow it anyway\n`,
    );
    const show = await cli('user', 'show', 'alcie@example.test');
    expect(show.code).toBe(1); // no account was made
    expect(show.stderr).toMatch(/^twostep: .*alcie@example\.test/);
    const require = await cli('user', 'require', 'ALCIE@example.test');
    expect(require.code).toBe(1);
    expect(require.stderr).toMatch(/knows no user alcie@example\.test \(a typo\?\); --force to require it anyway\n$/);
  });

  it('goes on with --force, saying so', async () => {
    const r = await cli('user', 'allow', 'alcie@example.test', '--force');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`twostep: warning: imap.backend 127.0.0.1:${dovecot.imapPort} knows no user alcie@example.test; going on (--force)\n`);
    const show = JSON.parse((await cli('user', 'show', 'alcie@example.test', '--json')).stdout) as { adminPolicy: string };
    expect(show.adminPolicy).toBe('allowed');
  });

  it('allows a user the mail server knows, quietly', async () => {
    const r = await cli('user', 'allow', 'Alice@example.test');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Alice@example.test: two-step authentication allowed\n');
  });

  it('warns but goes on when the mail server cannot be asked', async () => {
    const sub = join(dir, 'down');
    mkdirSync(sub);
    const down = await freePort();
    const other = writeTestConfig({ dir: sub, cert: sharedTestCert(), backendImapPort: down, listen: '', listenTls: '' });
    const r = await runCli(['--config', other, 'user', 'allow', 'alice@example.test']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `twostep: warning: could not check that the mail server knows alice@example.test: imap.backend 127.0.0.1:${down}: connection refused (is it running, and listening on that address?)\n`,
    );
  });
});

describe('twostep on PATH', () => {
  it('runs through a symlink to bin/twostep (as /usr/local/bin/twostep)', () => {
    const binDir = join(dir, 'usr-local-bin');
    mkdirSync(binDir);
    symlinkSync(BIN, join(binDir, 'twostep'));
    const out = execFileSync('twostep', ['--help'], { encoding: 'utf8', env: { ...process.env, PATH: `${binDir}:${process.env.PATH}` } });
    expect(out).toMatch(/^Usage: twostep \[options\] \[command\]/);
    expect(out).toMatch(/^ {2}check /m);
  });
});
