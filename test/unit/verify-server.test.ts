import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { Authenticator } from '../../src/policy/index.js';
import { startVerifyServer, type RunningVerifyServer } from '../../src/verify/verify-server.js';
import { closeOpenedStores, enable2fa, setup } from '../helpers/policy-fixture.js';

/** A client speaking the Lua passdb's side: request lines in, answer lines out. */
class Peer {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  static connect(target: string | number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = typeof target === 'string' ? net.connect(target) : net.connect({ host: '127.0.0.1', port: target });
      s.once('connect', () => resolve(new Peer(s)));
      s.once('error', reject);
    });
  }
  async line(): Promise<string> {
    for (;;) {
      const lf = this.buf.indexOf('\n');
      if (lf >= 0) {
        const l = this.buf.slice(0, lf);
        this.buf = this.buf.slice(lf + 1);
        return l;
      }
      if (this.closed) throw new Error('closed');
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  async ask(fields: Record<string, string>): Promise<string> {
    const enc = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
    this.sock.write(`VERIFY${Object.entries(fields).map(([k, v]) => `\t${k}=${enc(v)}`).join('')}\n`);
    return this.line();
  }
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }
  close(): void {
    this.sock.destroy();
  }
}

const servers: RunningVerifyServer[] = [];
const peers: Peer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  for (const s of servers.splice(0)) await s.close();
  await closeOpenedStores();
});

async function start(authenticator: Authenticator, over: { socketPath?: string; listen?: string; socketMode?: number } = {}) {
  const socketPath = over.socketPath ?? join(mkdtempSync(join(tmpdir(), 'twostep-verify-')), 'run', 'verify.sock');
  const server = await startVerifyServer({ socketPath, socketMode: over.socketMode ?? 0o660, listen: over.listen ?? '', authenticator, logger: silentLogger() });
  servers.push(server);
  return { server, socketPath };
}

async function peer(target: string | number): Promise<Peer> {
  const p = await Peer.connect(target);
  peers.push(p);
  return p;
}

const base = { service: 'imap', rip: '198.51.100.7', rport: '40000', lip: '127.0.0.1', secured: 'TLS', mech: 'PLAIN', session: 's1' };

describe('verify service answers from the policy', () => {
  it('two-step account: main password FAIL, application code OK with Last Used; no failure delay added', async () => {
    const { policy, clock, sleeps } = await setup({ auth: { failure_delay_ms: 2000 } });
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    const { socketPath } = await start(policy);
    const p = await peer(socketPath);
    expect(await p.ask({ ...base, user: 'alice', password: 'alice-main-password' })).toBe('FAIL\tapp-code-required');
    expect(await p.ask({ ...base, user: 'alice', password: code, service: 'sieve', client_id: '"name" "Roundcube" "version" "1.6"' })).toBe('OK');
    expect(sleeps).toEqual([]); // Dovecot has its own auth_failure_delay
    expect((await policy.appCodeList('alice'))[0]).toMatchObject({ lastUsedIp: '198.51.100.7', lastUsedProtocol: 'sieve', lastUsedClient: 'Roundcube 1.6' });
    const events = (await policy.audit({ user: 'alice' })).map((e) => `${e.event}/${e.protocol}/${String(e.detail.origin)}`);
    expect(events).toContain('login.ok/sieve/passdb');
    expect(events).toContain('login.fail/imap/passdb');
  });

  it("a login Dovecot did not secure is decided all the same: Dovecot's disable_plaintext_auth rules there, not allow_plaintext", async () => {
    const { policy, clock } = await setup({ auth: { allow_plaintext: false } });
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Laptop');
    const { socketPath } = await start(policy);
    const p = await peer(socketPath);
    expect(await p.ask({ ...base, secured: '', user: 'alice', password: code })).toBe('OK');
    expect(await p.ask({ ...base, secured: '', user: 'alice', password: 'main' })).toBe('FAIL\tapp-code-required');
    expect(await p.ask({ ...base, secured: '', user: 'bob', password: 'main' })).toBe('NEXT');
    expect((await policy.audit({ user: 'alice' }))[0]?.detail.tls).toBe(false);
  });

  it('no two-step: NEXT every time, nothing audited, the throttle hold released at once', async () => {
    const { policy } = await setup({ auth: { user_failures: 5 } });
    const { socketPath } = await start(policy);
    const p = await peer(socketPath);
    // More than user_failures: a reservation left pending would throttle the rest.
    for (let i = 0; i < 40; i++) expect(await p.ask({ ...base, user: 'bob', password: `guess-${i}` })).toBe('NEXT');
    expect(await policy.audit({ user: 'bob' })).toEqual([]);
  });

  it('a throttled address: TEMPFAIL (Dovecot: temporary failure), as the proxy answers UNAVAILABLE; a valid code still OK', async () => {
    const { policy, clock } = await setup({ auth: { ip_failures: 3 } });
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    const { socketPath } = await start(policy);
    const p = await peer(socketPath);
    for (let i = 0; i < 3; i++) expect(await p.ask({ ...base, user: 'alice', password: `wrong-${i}` })).toBe('FAIL\tapp-code-required');
    expect(await p.ask({ ...base, user: 'alice', password: 'ABCDEFGHIJKLMNOP' })).toBe('TEMPFAIL\tthrottled');
    expect(await p.ask({ ...base, user: 'alice', password: code })).toBe('OK');
  });

  it('a policy fault is TEMPFAIL, never OK or NEXT', async () => {
    const broken: Authenticator = { authenticate: () => Promise.reject(new Error('database is locked')) };
    const { socketPath } = await start(broken);
    const p = await peer(socketPath);
    expect(await p.ask({ ...base, user: 'alice', password: 'x' })).toBe('TEMPFAIL\tbackend-unavailable');
  });
});

describe('verify service input', () => {
  const never: Authenticator = { authenticate: () => Promise.reject(new Error('must not be asked')) };

  it.each([
    ['an over-long line', `VERIFY\tuser=a\tpassword=${'A'.repeat(30 * 1024)}\tservice=imap\n`, 'ERROR\tline-too-long'],
    ['a broken escape', 'VERIFY\tuser=%ZZ\tpassword=x\tservice=imap\n', 'ERROR\tbad-escape'],
    ['an HTTP request', 'GET / HTTP/1.1\r\n', 'ERROR\tunknown-command'],
    ['binary garbage', '\u0000\u00ff\u0001\n', 'ERROR\tunknown-command'],
  ])('%s gets an ERROR line and the connection is closed; the service stays up', async (_n, bytes, answer) => {
    const { socketPath } = await start(never);
    const p = await peer(socketPath);
    p.sock.write(Buffer.from(bytes, 'latin1'));
    expect(await p.line()).toBe(answer);
    await p.waitClosed();
    const again = await peer(socketPath);
    expect(await again.ask({ service: 'imap', user: 'x' })).toBe('ERROR\tmissing-password');
  });
});

describe('verify service socket', () => {
  const policyOf = async () => (await setup()).policy;

  it('has the configured mode, replaces a stale socket file, and is removed on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twostep-verify-'));
    const socketPath = join(dir, 'verify.sock');
    // A twostep that died (SIGKILL): its socket file stays, nobody answers on it.
    const died = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(died.signal).toBe('SIGKILL');
    expect(statSync(socketPath).isSocket()).toBe(true);
    const { server } = await start(await policyOf(), { socketPath, socketMode: 0o600 });
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('refuses a path that is a regular file, or a socket another process serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twostep-verify-'));
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'keep me');
    await expect(start(await policyOf(), { socketPath: file })).rejects.toThrow(/exists and is not a socket/);
    const { socketPath } = await start(await policyOf());
    await expect(start(await policyOf(), { socketPath })).rejects.toThrow(/in use by another process/);
  });

  it('can listen on loopback TCP instead', async () => {
    const { server } = await start(await policyOf(), { socketPath: '', listen: '127.0.0.1:0' });
    const p = await peer(server.address?.port as number);
    expect(await p.ask({ ...base, user: 'nobody', password: 'x' })).toBe('NEXT');
  });
});
