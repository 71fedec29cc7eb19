import net from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.js';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { startPop3Server, type Pop3ServerOptions } from '../../src/protocols/pop3/pop3-server.js';
import { parsePop3Command } from '../../src/protocols/pop3/pop3-command.js';
import { LineReader } from '../../src/protocols/shared/line-reader.js';
import { SessionRegistry } from '../../src/protocols/shared/session-registry.js';
import { upgradeServerTls } from '../../src/protocols/shared/tls-upgrade.js';
import { FakeAuthenticator, LineClient, parsedOrReason } from '../helpers/session-fixtures.js';
import { captureLogger, eventLines } from '../helpers/capture-logger.js';
import { sharedTestCert } from '../helpers/tls.js';

// ---------- fixtures: certificate, fake POP3 backend, fake authenticator, raw client ----------

let cert: Buffer;
let secureContext: tls.SecureContext;

beforeAll(() => {
  const made = sharedTestCert();
  cert = Buffer.from(made.certPem);
  secureContext = tls.createSecureContext({ cert: made.certPem, key: made.keyPem });
});

const MASTER = { user: 'proxymaster', password: 'master-secret' };
const BACKEND_USERS: Record<string, string> = { alice: 'alice-main-pw', bob: 'bob-pw', busy: 'busy-pw' };

interface FakeBackendOptions {
  starttls?: boolean;
  /** Answer XCLIENT with -ERR (twostep not in login_trusted_networks). */
  refuseXclient?: boolean;
}

interface FakeBackend {
  port: number;
  lines: string[];
  auths: { authzid: string; authcid: string; password: string }[];
  close(): Promise<void>;
}

/** Speaks just enough of Dovecot's POP3: greeting, STLS, XCLIENT, AUTH PLAIN; then STAT, ECHO, QUIT. */
async function startFakeBackend(o: FakeBackendOptions = {}): Promise<FakeBackend> {
  const lines: string[] = [];
  const auths: FakeBackend['auths'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    void (async () => {
      let sock: net.Socket = raw;
      let reader = new LineReader(sock, { maxLineBytes: 100_000 });
      let loggedIn = false;
      sock.write('+OK [XCLIENT] Dovecot ready.\r\n');
      for (;;) {
        const line = (await reader.readLine()).toString();
        lines.push(line);
        const [cmdRaw = '', ...rest] = line.split(' ');
        const cmd = cmdRaw.toUpperCase();
        if (cmd === 'STLS' && o.starttls && !loggedIn) {
          sock.write('+OK Begin TLS negotiation now.\r\n');
          reader.detach();
          sock = await upgradeServerTls(raw, secureContext, 5000);
          sock.on('error', () => {});
          reader = new LineReader(sock, { maxLineBytes: 100_000 });
        } else if (cmd === 'XCLIENT') {
          sock.write(o.refuseXclient ? '-ERR You are not from trusted IP\r\n' : '+OK\r\n');
        } else if (cmd === 'AUTH' && !loggedIn) {
          let b64 = rest[1];
          if (b64 === undefined) {
            sock.write('+ \r\n');
            b64 = (await reader.readLine()).toString();
          }
          const [authzid = '', authcid = '', password = ''] = Buffer.from(b64, 'base64').toString().split('\0');
          auths.push({ authzid, authcid, password });
          if (authcid === 'busy') {
            sock.write('-ERR [SYS/TEMP] Dovecot backend says temporary trouble.\r\n');
            continue;
          }
          const ok =
            (authzid === '' && BACKEND_USERS[authcid] === password) ||
            (authcid === MASTER.user && password === MASTER.password && authzid in BACKEND_USERS);
          if (ok) {
            loggedIn = true;
            sock.write('+OK Logged in by Dovecot.\r\n');
          } else {
            sock.write('-ERR [AUTH] Dovecot backend says no.\r\n');
          }
        } else if (cmd === 'STAT' && loggedIn) {
          sock.write('+OK 1 42\r\n');
        } else if (cmd === 'ECHO' && loggedIn) {
          sock.write('+OK echo mode\r\n');
          const rest2 = reader.detach();
          if (rest2.length) sock.write(rest2);
          sock.pipe(sock);
          return;
        } else if (cmd === 'QUIT') {
          sock.end('+OK Logging out.\r\n');
          return;
        } else {
          sock.write('-ERR Unknown command.\r\n');
        }
      }
    })().catch(() => raw.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    lines,
    auths,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

class Client extends LineClient {
  /** Sends one command line and returns the one-line reply. */
  async cmd(text: string): Promise<string> {
    this.send(`${text}\r\n`);
    return this.line();
  }

  /** Sends one command and reads a multi-line reply up to its "." (status line first, dot excluded). */
  async multi(text: string): Promise<string[]> {
    this.send(`${text}\r\n`);
    const out = [await this.line()];
    if (!out[0]?.startsWith('+OK')) return out;
    for (;;) {
      const l = await this.line();
      if (l === '.') return out;
      out.push(l);
    }
  }

  async stls(): Promise<void> {
    expect(await this.cmd('STLS')).toBe('+OK Begin TLS negotiation now.');
    await this.upgrade();
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const HINT = '-ERR [AUTH] Authentication failed. If this account uses two-step authentication, sign in with an application code.';

// ---------- harness ----------

interface Harness {
  backend: FakeBackend;
  auth: FakeAuthenticator;
  server: Awaited<ReturnType<typeof startPop3Server>>;
  plainPort: number;
  tlsPort: number;
}
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function harness(
  o: { backend?: FakeBackendOptions; server?: Partial<Pop3ServerOptions>; backendDown?: boolean } = {},
): Promise<Harness> {
  const backend = await startFakeBackend(o.backend);
  cleanups.push(() => backend.close());
  if (o.backendDown) await backend.close(); // connection refused from now on
  const auth = new FakeAuthenticator();
  const server = await startPop3Server({
    authenticator: auth,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: { host: '127.0.0.1', port: 0 },
    backend: { host: '127.0.0.1', port: backend.port, tls: o.backend?.starttls ? 'starttls' : 'none', ca: o.backend?.starttls ? cert : undefined },
    master: { user: MASTER.user, password: new Secret(MASTER.password) },
    secureContext,
    allowPlaintext: false,
    ...o.server,
  });
  cleanups.push(() => server.close());
  return { backend, auth, server, plainPort: server.plain?.port ?? 0, tlsPort: server.tls?.port ?? 0 };
}

async function client(port: number, implicitTls = false): Promise<Client> {
  const c = await Client.connect(port, implicitTls);
  cleanups.push(() => c.close());
  return c;
}

// ---------- tests ----------

describe('POP3 command parsing', () => {
  it('splits keyword and arguments, keeps spaces in arguments, refuses junk', () => {
    const refused = (line: Buffer) => parsedOrReason(parsePop3Command, line);
    expect(parsePop3Command(Buffer.from('pass my secret  pw'))).toEqual({ name: 'PASS', args: 'my secret  pw' });
    expect(parsePop3Command(Buffer.from('CAPA'))).toEqual({ name: 'CAPA', args: '' });
    expect(refused(Buffer.from(''))).toBe('empty');
    expect(refused(Buffer.from(' USER x'))).toBe('syntax');
    expect(refused(Buffer.from('A'.repeat(limits.pop3CommandNameChars + 1)))).toBe('syntax');
    expect(refused(Buffer.from([0x55, 0x53, 0x45, 0x52, 0x20, 0xff, 0xfe]))).toBe('encoding');
    expect(refused(Buffer.from('USER a\tb'))).toBe('encoding');
    expect(refused(Buffer.from('GET / HTTP/1.1'))).toBe('http-request');
  });
});

describe('POP3 session: before TLS', () => {
  it('greets, and CAPA offers STLS but neither USER nor SASL on plaintext', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    expect(await c.line()).toBe('+OK twostep ready.');
    const capa = await c.multi('CAPA');
    expect(capa[0]).toMatch(/^\+OK/);
    expect(capa.slice(1)).toEqual(['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'STLS']);
  });

  it('refuses USER, PASS-less AUTH and SASL before TLS with [AUTH], without asking the policy', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    await c.line();
    const refusal = '-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.';
    expect(await c.cmd('USER alice')).toBe(refusal);
    expect(await c.cmd(`AUTH PLAIN ${b64('\0alice\0x')}`)).toBe(refusal);
    expect(h.auth.requests).toHaveLength(0);
  });

  it('offers USER and SASL and accepts plaintext login when allowPlaintext is set', async () => {
    const h = await harness({ server: { allowPlaintext: true } });
    const c = await client(h.plainPort);
    await c.line();
    expect((await c.multi('CAPA')).slice(1)).toEqual(['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'STLS', 'USER', 'SASL PLAIN LOGIN']);
    expect(await c.cmd('USER bob')).toMatch(/^\+OK/);
    expect(await c.cmd('PASS bob-pw')).toBe('+OK Logged in.');
    expect(h.auth.requests[0]).toMatchObject({ protocol: 'pop3', mechanism: 'USER', tls: false });
  });
});

describe('POP3 session: STLS and login', () => {
  it('STLS then USER/PASS with an app code: master PLAIN with authzid, XCLIENT with the client address, bytes both ways', async () => {
    const registry = new SessionRegistry();
    const log = captureLogger();
    const h = await harness({ server: { registry, logger: log.logger } });
    const c = await client(h.plainPort);
    await c.line();
    await c.stls();
    const capa = await c.multi('CAPA');
    expect(capa).toContain('USER');
    expect(capa).toContain('SASL PLAIN LOGIN');
    expect(capa).not.toContain('STLS');
    expect(await c.cmd('STLS')).toBe('-ERR TLS is already active.');
    expect(await c.cmd('USER alice')).toMatch(/^\+OK/);
    expect(await c.cmd('PASS app-code-1234')).toBe('+OK Logged in.');

    expect(h.auth.requests[0]).toMatchObject({ protocol: 'pop3', mechanism: 'USER', user: 'alice', tls: true, clientIp: '127.0.0.1' });
    expect(h.backend.auths).toEqual([{ authzid: 'alice', authcid: MASTER.user, password: MASTER.password }]);
    expect(h.backend.lines).toContain(`XCLIENT ADDR=127.0.0.1 PORT=${c.socket.localPort ?? ''}`);
    expect(h.backend.lines.join('\n')).not.toContain('app-code-1234');
    expect(registry.size).toBe(1);
    expect(registry.codeIds()).toEqual([7]);

    expect(await c.cmd('STAT')).toBe('+OK 1 42'); // the backend answers now
    expect(await c.cmd('ECHO')).toBe('+OK echo mode');
    expect(await c.cmd('anything at all')).toBe('anything at all');
    await h.server.close();
    await c.closed();
    await log.until((lines) => eventLines(lines, 'close').length > 0); // its last line, written once it unregistered
    expect(registry.size).toBe(0); // the session unregistered as it ended
  });

  it('discards commands pipelined after STLS (plaintext injection)', async () => {
    const h = await harness({ server: { allowPlaintext: true } });
    const c = await client(h.plainPort);
    await c.line();
    c.send('STLS\r\nUSER bob\r\nPASS bob-pw\r\n');
    expect(await c.line()).toBe('+OK Begin TLS negotiation now.');
    await c.upgrade();
    expect(await c.cmd('PASS bob-pw')).toBe('-ERR No username given.');
    expect(h.auth.requests).toHaveLength(0);
    expect(c.seen).toEqual(['+OK twostep ready.', '+OK Begin TLS negotiation now.', '-ERR No username given.']);
  });

  it('forgets a USER given before STLS', async () => {
    const h = await harness({ server: { allowPlaintext: true } });
    const c = await client(h.plainPort);
    await c.line();
    expect(await c.cmd('USER bob')).toMatch(/^\+OK/);
    await c.stls();
    expect(await c.cmd('PASS bob-pw')).toBe('-ERR No username given.');
  });

  it('passthrough: a backend -ERR is invalid credentials in our words, [SYS/TEMP] is temporary; outcomes are reported', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect(await c.cmd('USER bob')).toMatch(/^\+OK/);
    expect(await c.cmd('PASS wrong')).toBe(HINT); // the same words as a two-step refusal
    expect(await c.cmd('USER busy')).toMatch(/^\+OK/);
    expect(await c.cmd('PASS busy-pw')).toBe('-ERR [SYS/TEMP] Temporary authentication failure.');
    expect(h.auth.reports).toEqual(['rejected', 'backend-unavailable']);
    expect(c.seen.join('\n')).not.toContain('Dovecot backend says');
    expect(await c.cmd(`AUTH PLAIN ${b64('\0bob\0bob-pw')}`)).toBe('+OK Logged in.');
    expect(h.auth.reports).toEqual(['rejected', 'backend-unavailable', 'ok']);
    expect(h.backend.auths.at(-1)).toEqual({ authzid: '', authcid: 'bob', password: 'bob-pw' });
  });

  it('renders policy failures from the one table', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    await c.cmd('USER alice');
    expect(await c.cmd('PASS alice-main-pw')).toBe(HINT);
    expect(await c.cmd(`AUTH PLAIN ${b64('\0throttled\0x')}`)).toBe('-ERR [SYS/TEMP] Too many failed logins, try again later.');
    expect(h.backend.auths).toHaveLength(0);
  });

  it('hangs up after too many failed logins', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    for (let i = 0; i < limits.preAuthMaxAuthFailures; i++) {
      await c.cmd('USER alice');
      expect(await c.cmd('PASS nope')).toBe(HINT);
    }
    await c.closed();
    expect(h.auth.requests).toHaveLength(limits.preAuthMaxAuthFailures);
  });

  it('backend down: -ERR [SYS/TEMP], nothing internal on the wire', async () => {
    const h = await harness({ backendDown: true });
    const c = await client(h.tlsPort, true);
    await c.line();
    expect(await c.cmd(`AUTH PLAIN ${b64('\0alice\0app-code-1234')}`)).toBe('-ERR [SYS/TEMP] Temporary authentication failure.');
    expect(await c.cmd(`AUTH PLAIN ${b64('\0bob\0bob-pw')}`)).toBe('-ERR [SYS/TEMP] Temporary authentication failure.');
    expect(h.auth.reports).toEqual(['backend-unavailable']);
  });

  it('verified STLS to the backend; a refused XCLIENT does not stop the login', async () => {
    const h = await harness({ backend: { starttls: true, refuseXclient: true } });
    const c = await client(h.tlsPort, true);
    await c.line();
    expect(await c.cmd(`AUTH PLAIN ${b64('\0alice\0app-code-1234')}`)).toBe('+OK Logged in.');
    expect(h.backend.lines.slice(0, 2)).toEqual(['STLS', expect.stringMatching(/^XCLIENT ADDR=127\.0\.0\.1 PORT=\d+$/)]);
    expect(await c.cmd('STAT')).toBe('+OK 1 42');
  });
});

describe('POP3 session: SASL (RFC 5034)', () => {
  it('AUTH without arguments lists the mechanisms', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect((await c.multi('AUTH')).slice(1)).toEqual(['PLAIN', 'LOGIN']);
  });

  it('PLAIN with an initial response, with a continuation, and with an authzid passed to the policy', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect(await c.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await c.cmd(b64('bob\0alice\0app-code-1234'))).toBe('+OK Logged in.');
    expect(h.auth.requests[0]).toMatchObject({ mechanism: 'PLAIN', user: 'alice', authzid: 'bob' });
  });

  it('LOGIN with both prompts, and with the user name as initial response', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect(await c.cmd('AUTH LOGIN')).toBe('+ VXNlcm5hbWU6');
    expect(await c.cmd(b64('alice'))).toBe('+ UGFzc3dvcmQ6');
    expect(await c.cmd(b64('alice-main-pw'))).toBe(HINT);
    expect(await c.cmd(`AUTH LOGIN ${b64('alice')}`)).toBe('+ UGFzc3dvcmQ6');
    expect(await c.cmd(b64('app-code-1234'))).toBe('+OK Logged in.');
    expect(h.auth.requests.map((r) => r.mechanism)).toEqual(['LOGIN', 'LOGIN']);
  });

  it('"*" cancels; bad base64, a bad PLAIN layout and unknown mechanisms are refused', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect(await c.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await c.cmd('*')).toBe('-ERR Authentication aborted by client.');
    expect(await c.cmd('AUTH LOGIN')).toBe('+ VXNlcm5hbWU6');
    expect(await c.cmd('*')).toBe('-ERR Authentication aborted by client.');
    expect(await c.cmd('AUTH PLAIN not*base64!')).toBe('-ERR Invalid authentication data.');
    expect(await c.cmd(`AUTH PLAIN ${b64('no-nuls-here')}`)).toBe('-ERR Invalid authentication data.');
    expect(await c.cmd(`AUTH PLAIN ${b64('\0bob\0pw').replace(/=+$/, '')}`)).toBe('-ERR Invalid authentication data.');
    expect(await c.cmd('AUTH CRAM-MD5')).toBe('-ERR Unsupported authentication mechanism.');
    expect(await c.cmd('AUTH PLAIN a b')).toBe('-ERR Invalid arguments.');
    expect(h.auth.requests).toHaveLength(0);
    // Still usable afterwards.
    expect(await c.cmd(`AUTH PLAIN ${b64('\0bob\0bob-pw')}`)).toBe('+OK Logged in.');
  });

  it('"=" is an empty initial response (then the PLAIN blob is malformed)', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect(await c.cmd('AUTH PLAIN =')).toBe('-ERR Invalid authentication data.');
  });
});

describe('POP3 session: hostile input', () => {
  it('answers commands that need a login, PASS without USER and junk with -ERR', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    for (const cmd of ['STAT', 'LIST', 'RETR 1', 'DELE 1', 'APOP alice 0123456789abcdef', 'XCLIENT ADDR=10.0.0.1', 'NOOP']) {
      expect(await c.cmd(cmd)).toBe('-ERR Unknown command.');
    }
    expect(await c.cmd('PASS app-code-1234')).toBe('-ERR No username given.');
    expect(await c.cmd('USER')).toBe('-ERR Invalid arguments.');
    expect(h.auth.requests).toHaveLength(0);
    expect(h.backend.lines).toHaveLength(0);
  });

  it('closes after too many bad commands', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    for (let i = 0; i < limits.pop3PreAuthMaxBadCommands - 1; i++) expect(await c.cmd(`BOGUS${i}`)).toBe('-ERR Unknown command.');
    c.send('BOGUS\r\n');
    expect(await c.line()).toBe('-ERR Unknown command.');
    expect(await c.line()).toBe('-ERR Too many invalid commands.');
    await c.closed();
  });

  it('closes on an over-long line and on an HTTP request', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    c.send(`USER ${'a'.repeat(limits.pop3PreAuthLineBytes + 10)}\r\n`);
    expect(await c.line()).toBe('-ERR Input line too long.');
    await c.closed();

    const d = await client(h.plainPort);
    await d.line();
    d.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await d.closed();
    expect(d.seen).toEqual(['+OK twostep ready.']);
  });

  it('says -ERR on inactivity and closes', async () => {
    const saved = limits.preAuthIdleMs;
    (limits as { preAuthIdleMs: number }).preAuthIdleMs = 300;
    try {
      const h = await harness();
      const c = await client(h.plainPort);
      await c.line();
      expect(await c.line()).toBe('-ERR Disconnected for inactivity.');
      await c.closed();
    } finally {
      (limits as { preAuthIdleMs: number }).preAuthIdleMs = saved;
    }
  });

  it('QUIT says goodbye and closes; close() ends live sessions, proxied ones included', async () => {
    const h = await harness();
    const q = await client(h.tlsPort, true);
    await q.line();
    expect(await q.cmd('QUIT')).toBe('+OK Logging out.');
    await q.closed();

    const a = await client(h.tlsPort, true);
    await a.line();
    expect(await a.cmd(`AUTH PLAIN ${b64('\0bob\0bob-pw')}`)).toBe('+OK Logged in.');
    const b = await client(h.plainPort);
    await b.line();
    expect(h.server.connections()).toBe(2);
    await h.server.close();
    await Promise.all([a.closed(), b.closed()]);
    expect(h.server.connections()).toBe(0);
  });
});

describe('POP3 session logs', () => {
  it('logs login results and the close, never a password or code', async () => {
    const log = captureLogger();
    const h = await harness({ server: { logger: log.logger } });
    const c = await client(h.tlsPort, true);
    await c.line();
    await c.cmd('USER alice');
    await c.cmd('PASS alice-main-pw');
    await c.cmd(`AUTH PLAIN ${b64('\0alice\0app-code-1234')}`);
    await c.cmd('QUIT');
    await c.closed();
    await log.until((lines) => eventLines(lines, 'close').length > 0); // the server's last line may trail the client's close
    const all = log.raw.join('\n');
    for (const secret of ['alice-main-pw', 'app-code-1234', MASTER.password, b64('\0alice\0app-code-1234')]) expect(all).not.toContain(secret);
    const events = log.lines;
    const logins = events.filter((e) => e.event === 'login');
    expect(logins.map((e) => [e.result, e.reason ?? e.via, e.user, e.proto, e.ip])).toEqual([
      ['fail', 'app-code-required', 'alice', 'pop3', '127.0.0.1'],
      ['ok', 'app-code', 'alice', 'pop3', '127.0.0.1'],
    ]);
    const close = events.find((e) => e.event === 'close');
    expect(close).toMatchObject({ cid: logins[0]?.cid, proto: 'pop3' });
  });
});
