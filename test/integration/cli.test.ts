import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliProcess } from '../helpers/twostep-process.js';

// The admin CLI as a script would use it: exit codes, one-line errors, stable --json. Commands run
// in this process (runCli); the exit codes of bin/twostep itself are checked on a real process.
let dir: string;
let config: string;
const cli = (...args: string[]) => runCli(['--config', config, ...args]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-cli-'));
  config = join(dir, 'conf', 'twostep.toml');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// About 25 CLI runs in the admin story, each a node start (over a second on a loaded 2-core machine) and argon2.
describe('twostep CLI', { timeout: 90_000 }, () => {
  it('init writes a config that loads, a 0600 store key and master password, and a certificate', async () => {
    const r = await cli('init', '--data-dir', join(dir, 'data'), '--imap-backend', '127.0.0.1:10143');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(config, 'utf8')).toMatch(/backend\s+= "127\.0\.0\.1:10143"/);
    expect(readFileSync(config, 'utf8')).not.toMatch(/secret_key|master_password =/);
    for (const f of [join(dir, 'data', 'secret.key'), join(dir, 'conf', 'master-password')]) {
      expect(statSync(f).mode & 0o077).toBe(0);
    }
    expect(existsSync(join(dir, 'conf', 'tls', 'cert.pem'))).toBe(true);
    const again = await cli('init');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  // A dozen CLI runs (a node start each): 10 s alone, past 20 s with the whole suite on 2 cores.
  it('runs the whole admin story with stable JSON', { timeout: 90_000 }, async () => {
    expect((await cli('user', 'show', 'carol')).stderr).toMatch(/^twostep: .*carol/);
    expect((await cli('totp', 'enroll', 'carol')).code).toBe(1);
    expect((await cli('user', 'require', 'carol')).code).toBe(0);
    const show = JSON.parse((await cli('user', 'show', 'carol', '--json')).stdout) as Record<string, unknown>;
    expect(show).toMatchObject({ username: 'carol', adminPolicy: 'required', twofaState: 'off', appCodes: 0 });

    const enrol = await cli('totp', 'enroll', 'carol');
    const key = /^key: ([A-Z2-7]+)$/m.exec(enrol.stdout)?.[1] as string;
    expect(enrol.stdout).toMatch(/^uri: otpauth:\/\/totp\/[^?]*carol\?.*secret=[A-Z2-7]+.*issuer=/m);
    expect((await cli('appcode', 'add', 'carol', 'Phone')).code).toBe(1); // not on yet
    const wrong = await cli('totp', 'confirm', 'carol', '000000');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    const ok = await cli('totp', 'confirm', 'carol', authenticator.generate(key));
    expect(ok.code, ok.stderr).toBe(0);
    const once = ok.stdout.trim().split('\n').slice(1);
    expect(once).toHaveLength(10);

    const codes = JSON.parse((await cli('codes', 'show', 'carol', '--json')).stdout) as { unused: string[] };
    expect(codes.unused.sort()).toEqual([...once].sort());
    const regen = await cli('codes', 'regenerate', 'carol');
    expect(regen.stdout.trim().split('\n').slice(1)).toHaveLength(10);
    expect(regen.stdout).not.toContain(once[0] as string);

    const add = await cli('appcode', 'add', 'carol', 'Outlook without connector');
    expect(add.stdout.trimEnd().split('\n').pop()).toMatch(/^[A-Z]{16}$/);
    const dup = await cli('appcode', 'add', 'carol', 'Outlook without connector');
    expect(dup.code).toBe(1);
    const list = JSON.parse((await cli('appcode', 'list', 'carol', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(1);
    expect(Object.keys(list[0] as object).sort()).toEqual(
      ['createdAt', 'expired', 'expiresAt', 'lastUsedAt', 'lastUsedClient', 'lastUsedIp', 'lastUsedProtocol', 'name', 'scopes'].sort(),
    );
    expect(list[0]).toMatchObject({ name: 'Outlook without connector', lastUsedAt: null, scopes: ['imap', 'pop3', 'smtp'], expiresAt: null, expired: false });
    expect((await cli('appcode', 'list', 'carol')).stdout).toMatch(/^Outlook without connector\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+-/m);
    expect((await cli('appcode', 'revoke', 'carol', 'Outlook without connector')).code).toBe(0);
    expect((await cli('appcode', 'revoke', 'carol', 'Outlook without connector')).code).toBe(1);
    expect((await cli('appcode', 'list', 'carol')).stdout.trim()).toBe('No results found.');

    expect((await cli('disable', 'carol')).code).toBe(0);
    const after = JSON.parse((await cli('user', 'show', 'carol', '--json')).stdout) as Record<string, unknown>;
    expect(after).toMatchObject({ twofaState: 'off', adminPolicy: 'required' });

    const audit = JSON.parse((await cli('audit', '--user', 'carol', '--json')).stdout) as Array<{ event: string }>;
    expect(audit.length).toBeGreaterThan(3);
    const raw = readFileSync(join(dir, 'data', 'twostep.db'));
    expect(raw.includes(Buffer.from(key))).toBe(false);
  });

  it('fails at start with exit 2 and one line naming the bad key', async () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[backend]\nmaster_user = "p"\nmaster_password = "x"\n[imap]\nlisten = "localhost"\n');
    const r = await runCliProcess(['--config', bad, 'user', 'show', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^twostep: .*bad\.toml: imap\.listen: must be "host:port"/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const serve = await runCliProcess(['--config', bad, 'serve']);
    expect(serve.code).toBe(2);
    const missing = await runCliProcess(['user', 'show', 'x'], { TWOSTEP_CONFIG: join(dir, 'nope.toml') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.toml: no such config file/);
  });

  it('answers a usage error with exit 2', async () => {
    const r = await runCliProcess(['--config', config, 'appcode', 'add', 'onlyuser']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument/);
  });

  it('says a usage error in one line with the twostep: prefix, a suggestion included', async () => {
    for (const [args, line] of [
      [['usr'], "twostep: unknown command 'usr' (did you mean user?)"],
      [['user', 'alow', 'alice'], "twostep: unknown command 'alow' (did you mean allow?)"],
      [['user', 'allow'], "twostep: missing required argument 'user'"],
      [['--bogus', 'user', 'show', 'x'], "twostep: unknown option '--bogus'"],
    ] as const) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(`${line}\n`);
      expect(r.stdout).toBe('');
    }
  });
});
