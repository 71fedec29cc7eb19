import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli, startServe } from '../helpers/twostep-process.js';

/**
 * The files an admin installs beside twostep, checked by the tools that will read them:
 * config/systemd/twostep.service with `systemd-analyze verify`, config/fail2ban with
 * `fail2ban-regex` against the log of a real twostep in front of a real Dovecot and with
 * `fail2ban-client -t`, and the CLI wrapper for PATH.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const filter = join(repoRoot, 'config/fail2ban/filter.d/twostep.conf');
let dir: string;

/** Runs a tool; a missing one is a setup error said plainly (.ci/run installs it). */
function run(cmd: string, args: string[], pkg: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return reject(new Error(`${cmd} is not installed: apt-get install ${pkg} (as .ci/run does)`));
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-service-files-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('config/systemd/twostep.service', () => {
  const unit = readFileSync(join(repoRoot, 'config/systemd/twostep.service'), 'utf8');

  it('passes systemd-analyze verify with its paths pointing at this checkout', async () => {
    // verify checks that ExecStart's program exists and is executable: here it is bin/twostep.
    const copy = join(dir, 'twostep.service');
    writeFileSync(copy, unit.replaceAll('/opt/twostep', repoRoot.replace(/\/$/, '')));
    expect(readFileSync(copy, 'utf8')).toMatch(new RegExp(`^ExecStart=${repoRoot.replace(/\/$/, '')}/bin/twostep serve$`, 'm'));
    const r = await run('systemd-analyze', ['verify', copy], 'systemd');
    expect(r.stderr).toBe(''); // verify only warns (exit 0) about unknown or misspelt settings
    expect(r.code).toBe(0);
    const security = await run('systemd-analyze', ['security', '--offline=yes', copy], 'systemd');
    const exposure = Number(/Overall exposure level for twostep\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
    expect(exposure).toBeLessThanOrEqual(2.0);
  });

  it('is hardened the way the service needs', () => {
    for (const line of [
      'User=twostep',
      'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/twostep',
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure',
      'RestartPreventExitStatus=2',
      'Environment=TWOSTEP_CONFIG=/etc/twostep/twostep.toml',
    ]) {
      expect(unit.split('\n'), line).toContain(line);
    }
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m); // V8's JIT needs W+X pages
  });

  it("caps V8's young generation through NODE_OPTIONS, which this Node accepts (a typo there stops the service)", () => {
    const nodeOptions = /^Environment=NODE_OPTIONS=(.+)$/m.exec(unit)?.[1];
    expect(nodeOptions).toBe('--max-semi-space-size=2');
    // Allocates enough to grow the young generation to its cap, then reports the new space's size.
    const script = "const v8=require('v8');let a=[];for(let i=0;i<3e6;i++){a.push({i});if(a.length>1e5)a=[]}" +
      "process.stdout.write(String(v8.getHeapSpaceStatistics().find((s)=>s.space_name==='new_space').space_size))";
    const capped = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' });
    expect(capped.status, capped.stderr).toBe(0);
    const uncapped = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
    expect(Number(capped.stdout)).toBeLessThanOrEqual(4 * 1024 * 1024); // two semi-spaces of 2 MiB
    expect(Number(uncapped.stdout)).toBeGreaterThan(Number(capped.stdout));
  });
});

describe('config/fail2ban', () => {
  let dovecot: DovecotInstance;
  let log = '';
  /** Refused logins that must count, all from 127.0.0.2. */
  let refused = 0;

  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [
        { user: 'alice', password: 'alice-main-pw' },
        { user: 'bob', password: 'bob-main-pw' },
        { user: 'carol', password: 'carol-main-pw' },
      ],
      master: MASTER,
    });
    const plainPort = await freePort();
    const tlsPort = await freePort();
    const config = writeTestConfig({
      dir,
      cert: sharedTestCert(),
      backendImapPort: dovecot.imapPort,
      listen: `127.0.0.1:${plainPort}`,
      listenTls: `127.0.0.1:${tlsPort}`,
      auth: { failure_delay_ms: 0, user_failures: 3 },
    });
    await enableTwoStep(config, 'bob');
    const bobCode = await addAppCode(config, 'bob', 'Phone');
    const serve = await startServe(config);
    try {
      const login = async (user: string, secret: string, from: string, tls = true): Promise<string> => {
        const c = await RawImapClient.connect({ port: tls ? tlsPort : plainPort, tls, localAddress: from });
        try {
          await c.greeting();
          return await c.command(`LOGIN ${JSON.stringify(user)} ${JSON.stringify(secret)}`);
        } finally {
          c.close();
        }
      };
      // Refused, and counted: wrong password, a two-step account's main password, a crafted user
      // name that tries to fake "ip", and a user's throttle (3 failures, then "throttled").
      const counted: [string, string, RegExp][] = [
        ['alice', 'wrong', /^t1 NO \[AUTHENTICATIONFAILED\]/m],
        ['bob', 'bob-main-pw', /^t1 NO \[AUTHENTICATIONFAILED\].*application code/m],
        ['x","ip":"203.0.113.9', 'pw', /^t1 NO \[AUTHENTICATIONFAILED\]/m],
        ['carol', 'guess1', /^t1 NO \[AUTHENTICATIONFAILED\]/m],
        ['carol', 'guess2', /^t1 NO \[AUTHENTICATIONFAILED\]/m],
        ['carol', 'guess3', /^t1 NO \[AUTHENTICATIONFAILED\]/m],
        ['carol', 'guess4', /^t1 NO \[UNAVAILABLE\]/m],
      ];
      for (const [user, secret, answer] of counted) expect(await login(user, secret, '127.0.0.2')).toMatch(answer);
      refused = counted.length;
      // Not counted: successful logins (password, application code) and a login before TLS.
      expect(await login('alice', 'alice-main-pw', '127.0.0.1')).toMatch(/^t1 OK/m);
      expect(await login('bob', bobCode, '127.0.0.1')).toMatch(/^t1 OK/m);
      expect(await login('alice', 'alice-main-pw', '127.0.0.1', false)).toMatch(/^t1 NO \[PRIVACYREQUIRED\]/m);
      log = await serve.waitForLog(/"reason":"tls-required"/);
    } finally {
      await serve.stop();
    }
  }, 120_000);
  afterAll(async () => dovecot?.stop());

  it('finds exactly the refused logins in a real log, with the client address', async () => {
    const file = join(dir, 'twostep.log');
    writeFileSync(file, log);
    expect(log).toMatch(/"event":"login","result":"ok"/); // the log has the successes too
    const r = await run('fail2ban-regex', ['-o', 'ip', file, filter], 'fail2ban');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(Array(refused).fill('127.0.0.2'));
  });

  it('reads the same lines as fail2ban gets them from the journal (host, name[pid]: before the JSON)', async () => {
    const file = join(dir, 'journal-style.log');
    writeFileSync(file, log.split('\n').filter(Boolean).map((l) => `mx twostep[4242]: ${l}`).join('\n'));
    const r = await run('fail2ban-regex', ['-o', 'ip', file, filter], 'fail2ban');
    expect(r.stdout.trim().split('\n')).toEqual(Array(refused).fill('127.0.0.2'));
  });

  it('has a jail that fail2ban accepts, reading the journal for twostep.service', async () => {
    const conf = join(dir, 'fail2ban');
    cpSync('/etc/fail2ban', conf, { recursive: true });
    cpSync(filter, join(conf, 'filter.d/twostep.conf'));
    cpSync(join(repoRoot, 'config/fail2ban/jail.d/twostep.conf'), join(conf, 'jail.d/twostep.conf'));
    // Only this jail: Debian's default sshd jail wants a log this machine may not have.
    writeFileSync(join(conf, 'jail.d/defaults-debian.conf'), '[sshd]\nenabled = false\n');
    const test = await run('fail2ban-client', ['-c', conf, '-t'], 'fail2ban');
    expect(test.stdout + test.stderr).toMatch(/OK: configuration test is successful/);
    expect(test.code).toBe(0);
    const dump = await run('fail2ban-client', ['-c', conf, '-d'], 'fail2ban');
    expect(dump.stdout).toContain("['add', 'twostep', 'systemd']");
    expect(dump.stdout).toContain("['set', 'twostep', 'addjournalmatch', '_SYSTEMD_UNIT=twostep.service']");
  });
});

describe('config/dovecot/99-twostep-ports.conf (the port swap)', () => {
  it("moves the listeners of Debian's own /etc/dovecot to loopback and closes the TLS ones (doveconf)", async () => {
    const conf = join(dir, 'etc-dovecot');
    cpSync('/etc/dovecot', conf, { recursive: true });
    cpSync(join(repoRoot, 'config/dovecot/99-twostep-ports.conf'), join(conf, 'conf.d/99-twostep-ports.conf'));
    const r = await run('doveconf', ['-c', join(conf, 'dovecot.conf'), '-n'], 'dovecot-core');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const [service, plain, port, tls] of [['imap-login', 'imap', 10143, 'imaps'], ['pop3-login', 'pop3', 10110, 'pop3s']] as const) {
      expect(r.stdout).toContain(
        `service ${service} {\n  inet_listener ${plain} {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener ${tls} {\n    port = 0\n  }\n}`,
      );
    }
  });
});

describe('docs/service.md backup: a live database and its key', () => {
  it('copies the database with sqlite3 .backup while serve runs, and the copy with the key works', async () => {
    const home = join(dir, 'backup');
    mkdirSync(home);
    const dovecot = await startDovecot({ users: [{ user: 'bob', password: 'bob-main-pw' }], master: MASTER });
    try {
      const config = writeTestConfig({ dir: home, cert: sharedTestCert(), backendImapPort: dovecot.imapPort, listen: '', listenTls: `127.0.0.1:${await freePort()}` });
      await enableTwoStep(config, 'bob');
      await addAppCode(config, 'bob', 'Phone');
      const serve = await startServe(config);
      const saved = join(home, 'saved');
      mkdirSync(saved);
      try {
        // The recipe: sqlite3's online backup of the live database, and the key file beside it.
        const r = await run('sqlite3', [join(home, 'data', 'twostep.db'), `.backup '${join(saved, 'twostep.db')}'`], 'sqlite3');
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        cpSync(join(home, 'data', 'secret.key'), join(saved, 'secret.key'));
      } finally {
        await serve.stop();
      }
      const check = await run('sqlite3', [join(saved, 'twostep.db'), 'PRAGMA integrity_check'], 'sqlite3');
      expect(check.stdout.trim()).toBe('ok');
      // Restored elsewhere: the enrolled account and its code are all there and readable.
      const restored = join(home, 'restored.toml');
      writeFileSync(restored, readFileSync(config, 'utf8').replace(join(home, 'data', 'twostep.db'), join(saved, 'twostep.db')));
      const show = await runCli(['--config', restored, 'user', 'show', 'bob', '--json']);
      expect(JSON.parse(show.stdout)).toMatchObject({ username: 'bob', twofaState: 'on', appCodes: 1 });
      const codes = await runCli(['--config', restored, 'codes', 'show', 'bob', '--json']);
      expect(codes.code, codes.stderr).toBe(0); // one-time codes decrypt with the saved key
      expect((JSON.parse(codes.stdout) as { unused: string[] }).unused).toHaveLength(10);
    } finally {
      await dovecot.stop();
    }
  }, 120_000);
});

describe('config/systemd/twostep-cli.sh (twostep on PATH)', () => {
  it("runs the CLI as the service's user: the files it makes belong to that user, not root", () => {
    const user = 'nobody';
    const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout);
    const home = join(dir, 'cli');
    const data = join(home, 'var-lib-twostep');
    mkdirSync(data, { recursive: true });
    chmodSync(dir, 0o755);
    chmodSync(home, 0o755);
    chownSync(data, uid, -1);
    const config = join(home, 'twostep.toml');
    writeFileSync(config, `[store]\npath = "${data}/twostep.db"\n[backend]\nmaster_user = "p"\nmaster_password = "unused"\n`, { mode: 0o644 });
    const wrapper = join(home, 'twostep');
    const text = readFileSync(join(repoRoot, 'config/systemd/twostep-cli.sh'), 'utf8')
      .replace('TWOSTEP_HOME=/opt/twostep', `TWOSTEP_HOME=${repoRoot.replace(/\/$/, '')}`)
      .replace('TWOSTEP_USER=twostep', `TWOSTEP_USER=${user}`)
      .replace('TWOSTEP_DATA=/var/lib/twostep', `TWOSTEP_DATA=${data}`)
      .replace('/etc/twostep/twostep.toml', config);
    writeFileSync(wrapper, text, { mode: 0o755 });
    const r = spawnSync(wrapper, ['user', 'disallow', 'zed'], { encoding: 'utf8', env: { ...process.env, TWOSTEP_CONFIG: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('zed: two-step authentication disallowed\n');
    for (const f of ['twostep.db', 'secret.key']) expect(statSync(join(data, f)).uid, f).toBe(uid);
  });
});
