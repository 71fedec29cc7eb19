import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.js';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { startImapServer, type ImapServerOptions } from '../../src/protocols/imap/imap-server.js';
import { LineReader } from '../../src/protocols/shared/line-reader.js';
import { upgradeServerTls } from '../../src/protocols/shared/tls-upgrade.js';
import { FakeAuthenticator, LineClient } from '../helpers/session-fixtures.js';
import { captureLogger, eventLines } from '../helpers/capture-logger.js';
import { sharedTestCert } from '../helpers/tls.js';

// ---------- fixtures: certificate, fake backend, fake authenticator, raw client ----------

let cert: Buffer;
let key: Buffer;
let secureContext: tls.SecureContext;

beforeAll(() => {
  const made = sharedTestCert();
  cert = Buffer.from(made.certPem);
  key = Buffer.from(made.keyPem);
  secureContext = tls.createSecureContext({ cert, key });
});

const MASTER = { user: 'proxymaster', password: 'master-secret' };
const BACKEND_USERS: Record<string, string> = { alice: 'alice-main-pw', bob: 'bob-pw' };
const POST_CAPS = 'IMAP4rev1 LITERAL+ IDLE MOVE SPECIAL-USE X-BACKEND';

interface FakeBackendOptions {
  starttls?: boolean;
  /** Put [CAPABILITY ...] in the AUTHENTICATE OK (else the proxy must ask). */
  capsInOk?: boolean;
  saslIr?: boolean;
}

interface FakeBackend {
  port: number;
  lines: string[];
  auths: { authzid: string; authcid: string; password: string }[];
  close(): Promise<void>;
}

/** Speaks just enough IMAP: greeting, STARTTLS, ID, CAPABILITY, AUTHENTICATE PLAIN; then ECHO mode. */
async function startFakeBackend(o: FakeBackendOptions = {}): Promise<FakeBackend> {
  const lines: string[] = [];
  const auths: FakeBackend['auths'] = [];
  const sockets = new Set<net.Socket>();
  const preCaps = `IMAP4rev1 ${o.saslIr === false ? '' : 'SASL-IR '}LOGIN-REFERRALS ID ENABLE IDLE LITERAL+${o.starttls ? ' STARTTLS' : ''} AUTH=PLAIN`;
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    void (async () => {
      let sock: net.Socket = raw;
      let reader = new LineReader(sock, { maxLineBytes: 100_000 });
      let loggedIn = false;
      sock.write(`* OK [CAPABILITY ${preCaps}] Dovecot ready.\r\n`);
      for (;;) {
        const line = (await reader.readLine()).toString();
        lines.push(line);
        const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
        if (!m) {
          sock.write('* BAD Error in IMAP command received by server.\r\n');
          continue;
        }
        const [, tag, cmdRaw, rest] = m as unknown as [string, string, string, string | undefined];
        const cmd = cmdRaw.toUpperCase();
        if (cmd === 'STARTTLS' && o.starttls && !loggedIn) {
          sock.write(`${tag} OK Begin TLS negotiation now.\r\n`);
          reader.detach();
          sock = await upgradeServerTls(raw, secureContext, 5000);
          sock.on('error', () => {});
          reader = new LineReader(sock, { maxLineBytes: 100_000 });
        } else if (cmd === 'CAPABILITY') {
          sock.write(`* CAPABILITY ${loggedIn ? POST_CAPS : preCaps}\r\n${tag} OK Capability completed.\r\n`);
        } else if (cmd === 'ID') {
          sock.write(`* ID ("name" "Dovecot")\r\n${tag} OK ID completed.\r\n`);
        } else if (cmd === 'AUTHENTICATE' && !loggedIn) {
          let b64 = rest?.split(' ')[1];
          if (b64 === undefined) {
            sock.write('+ \r\n');
            b64 = (await reader.readLine()).toString();
          }
          const [authzid = '', authcid = '', password = ''] = Buffer.from(b64, 'base64').toString().split('\0');
          auths.push({ authzid, authcid, password });
          if (authcid === 'busy') {
            sock.write(`${tag} NO [UNAVAILABLE] Backend says temporary trouble.\r\n`);
            continue;
          }
          const ok =
            (authzid === '' && BACKEND_USERS[authcid] === password) ||
            (authcid === MASTER.user && password === MASTER.password && authzid in BACKEND_USERS);
          if (ok) {
            loggedIn = true;
            sock.write(o.capsInOk === false ? `${tag} OK Logged in\r\n` : `${tag} OK [CAPABILITY ${POST_CAPS}] Logged in\r\n`);
          } else {
            sock.write(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`);
          }
        } else if (cmd === 'ECHO' && loggedIn) {
          sock.write(`${tag} OK echo mode\r\n`);
          const rest2 = reader.detach();
          if (rest2.length) sock.write(rest2);
          sock.pipe(sock);
          return;
        } else if (cmd === 'LOGOUT') {
          sock.end(`* BYE Logging out\r\n${tag} OK Logout completed.\r\n`);
          return;
        } else if (loggedIn) {
          sock.write(`${tag} OK ${cmd} done.\r\n`);
        } else {
          sock.write(`${tag} BAD Error in IMAP command ${cmd}: Unknown command.\r\n`);
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
  /** Sends `tag text` and returns all lines up to and including the tagged reply. */
  async cmd(tag: string, text: string): Promise<string[]> {
    this.send(`${tag} ${text}\r\n`);
    return this.until(tag);
  }

  async until(tag: string): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line();
      out.push(l);
      if (l.startsWith(`${tag} `)) return out;
    }
  }

  async starttls(tag = 'st'): Promise<void> {
    const r = await this.cmd(tag, 'STARTTLS');
    expect(r.at(-1)).toMatch(new RegExp(`^${tag} OK `));
    await this.upgrade();
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

// ---------- harness ----------

interface Harness {
  backend: FakeBackend;
  auth: FakeAuthenticator;
  server: Awaited<ReturnType<typeof startImapServer>>;
  plainPort: number;
  tlsPort: number;
}
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function harness(
  o: { backend?: FakeBackendOptions; server?: Partial<ImapServerOptions>; backendDown?: boolean } = {},
): Promise<Harness> {
  const backend = await startFakeBackend(o.backend);
  cleanups.push(() => backend.close());
  let port = backend.port;
  if (o.backendDown) {
    await backend.close();
    port = backend.port; // closed: connection refused
  }
  const auth = new FakeAuthenticator();
  const server = await startImapServer({
    authenticator: auth,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: { host: '127.0.0.1', port: 0 },
    backend: { host: '127.0.0.1', port, tls: o.backend?.starttls ? 'starttls' : 'none', ca: o.backend?.starttls ? cert : undefined },
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

describe('IMAP session: before TLS', () => {
  it('greets with LOGINDISABLED and STARTTLS and no AUTH= on plaintext', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    const greeting = await c.line();
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 .*\] twostep ready\.$/);
    expect(greeting).toContain('LOGINDISABLED');
    expect(greeting).toContain('STARTTLS');
    expect(greeting).not.toContain('AUTH=');
    const caps = await c.cmd('a', 'CAPABILITY');
    expect(caps[0]).toMatch(/^\* CAPABILITY .*SASL-IR.*LITERAL\+.*STARTTLS LOGINDISABLED$/);
    expect(caps[1]).toMatch(/^a OK /);
  });

  it('refuses LOGIN and AUTHENTICATE before TLS with PRIVACYREQUIRED, without asking the policy', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    await c.line();
    expect((await c.cmd('a', 'LOGIN alice app-code-1234')).at(-1)).toBe(
      'a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
    );
    expect((await c.cmd('b', `AUTHENTICATE PLAIN ${b64('\0alice\0x')}`)).at(-1)).toMatch(/^b NO \[PRIVACYREQUIRED\]/);
    expect(h.auth.requests).toHaveLength(0);
  });

  it('offers AUTH= and accepts plaintext login when allowPlaintext is set', async () => {
    const h = await harness({ server: { allowPlaintext: true } });
    const c = await client(h.plainPort);
    const greeting = await c.line();
    expect(greeting).toContain('AUTH=PLAIN AUTH=LOGIN');
    expect(greeting).not.toContain('LOGINDISABLED');
    expect((await c.cmd('a', 'LOGIN bob bob-pw')).at(-1)).toMatch(/^a OK \[CAPABILITY /);
    expect(h.auth.requests[0]?.tls).toBe(false);
  });
});

describe('IMAP session: STARTTLS and login', () => {
  it('STARTTLS then app-code LOGIN: master PLAIN with authzid, ID with client address, backend caps, bytes both ways', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    await c.line();
    await c.starttls();
    const caps = await c.cmd('c', 'CAPABILITY');
    expect(caps[0]).toContain('AUTH=PLAIN');
    expect(caps[0]).not.toContain('STARTTLS');
    expect(caps[0]).not.toContain('LOGINDISABLED');
    expect((await c.cmd('s2', 'STARTTLS')).at(-1)).toMatch(/^s2 BAD /);
    await c.cmd('i', 'ID ("name" "Thunderbird" "version" "128.0")');
    const login = await c.cmd('l', 'LOGIN alice app-code-1234');
    expect(login.at(-1)).toBe(`l OK [CAPABILITY ${POST_CAPS}] Logged in`);

    const req = h.auth.requests[0];
    expect(req).toMatchObject({ protocol: 'imap', mechanism: 'LOGIN', user: 'alice', tls: true, clientName: 'Thunderbird 128.0', clientIp: '127.0.0.1' });
    expect(req?.secret).toBeInstanceOf(Secret);
    expect(h.backend.auths).toEqual([{ authzid: 'alice', authcid: MASTER.user, password: MASTER.password }]);
    const id = h.backend.lines.find((l) => / ID /.test(l));
    expect(id).toContain(`"x-originating-ip" "127.0.0.1" "x-originating-port" "${c.socket.localPort ?? ''}"`);
    expect(id).toContain(`"x-connected-port" "${h.plainPort}"`);
    expect(h.backend.lines.join('\n')).not.toContain('app-code-1234');
    expect(h.backend.lines.join('\n')).not.toContain(b64('\0alice\0app-code-1234'));

    // After login, bytes are copied both ways: the backend's ECHO mode mirrors 5 MB back.
    expect((await c.cmd('e', 'ECHO')).at(-1)).toBe('e OK echo mode');
    c.reader.detach();
    const payload = randomBytes(5 * 1024 * 1024);
    const received = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      let n = 0;
      c.socket.on('data', (d: Buffer) => {
        chunks.push(d);
        n += d.length;
        if (n >= payload.length) resolve(Buffer.concat(chunks));
      });
      c.socket.resume();
    });
    // Write in pieces, honouring backpressure on the client side too.
    for (let off = 0; off < payload.length; off += 64 * 1024) {
      if (!c.socket.write(payload.subarray(off, off + 64 * 1024))) await new Promise((r) => c.socket.once('drain', r));
    }
    const echoed = await received;
    expect(createHash('sha256').update(echoed).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(h.server.connections()).toBe(1);
  });

  it('discards commands pipelined after STARTTLS (plaintext injection)', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    await c.line();
    c.send('a STARTTLS\r\nb LOGIN bob bob-pw\r\n');
    expect(await c.line()).toBe('a OK Begin TLS negotiation now.');
    await c.upgrade();
    expect(await c.cmd('c', 'NOOP')).toEqual(['c OK NOOP completed.']);
    expect(h.auth.requests).toHaveLength(0);
    expect(c.seen.some((l) => l.startsWith('b '))).toBe(false);
  });

  it('passthrough: relays a backend NO as invalid credentials and reports outcomes', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    expect(await c.line()).not.toContain('STARTTLS');
    expect((await c.cmd('a', 'LOGIN bob wrong')).at(-1)).toBe('a NO [AUTHENTICATIONFAILED] Authentication failed. If this account uses two-step authentication, sign in with an application code.'); // the same words as a two-step refusal
    expect(h.auth.reports).toEqual(['rejected']);
    expect((await c.cmd('b', 'LOGIN bob bob-pw')).at(-1)).toMatch(/^b OK \[CAPABILITY .*X-BACKEND\] Logged in$/);
    expect(h.auth.reports).toEqual(['rejected', 'ok']);
    expect(h.backend.auths.at(-1)).toEqual({ authzid: '', authcid: 'bob', password: 'bob-pw' });
    expect((await c.cmd('n', 'NOOP')).at(-1)).toBe('n OK NOOP done.'); // answered by the backend now
  });

  it('passthrough: a backend NO [UNAVAILABLE] is a temporary failure, not wrong credentials', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect((await c.cmd('a', 'LOGIN busy busy-pw')).at(-1)).toBe('a NO [UNAVAILABLE] Temporary authentication failure.');
    expect(h.auth.reports).toEqual(['backend-unavailable']);
  });

  it('renders policy failures from the one table', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect((await c.cmd('a', 'LOGIN alice alice-main-pw')).at(-1)).toBe(
      'a NO [AUTHENTICATIONFAILED] Authentication failed. If this account uses two-step authentication, sign in with an application code.',
    );
    expect((await c.cmd('b', 'LOGIN throttled x')).at(-1)).toBe('b NO [UNAVAILABLE] Too many failed logins, try again later.');
    expect(h.backend.auths).toHaveLength(0);
  });

  it('hangs up after too many failed logins', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    for (let i = 0; i < limits.preAuthMaxAuthFailures - 1; i++) {
      expect((await c.cmd(`a${i}`, 'LOGIN alice nope')).at(-1)).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
    }
    c.send('z LOGIN alice nope\r\n');
    expect(await c.line()).toMatch(/^z NO \[AUTHENTICATIONFAILED\]/);
    expect(await c.line()).toMatch(/^\* BYE /);
    await c.closed();
  });

  it('backend down: NO [UNAVAILABLE], nothing internal on the wire', async () => {
    const h = await harness({ backendDown: true });
    const c = await client(h.tlsPort, true);
    await c.line();
    expect((await c.cmd('a', 'LOGIN alice app-code-1234')).at(-1)).toBe('a NO [UNAVAILABLE] Temporary authentication failure.');
    expect((await c.cmd('b', 'LOGIN bob bob-pw')).at(-1)).toBe('b NO [UNAVAILABLE] Temporary authentication failure.');
    expect(h.auth.reports).toEqual(['backend-unavailable']);
  });

  it('verified STARTTLS to the backend, and CAPABILITY asked when the OK has none', async () => {
    const h = await harness({ backend: { starttls: true, capsInOk: false, saslIr: false } });
    const c = await client(h.tlsPort, true);
    await c.line();
    expect((await c.cmd('a', 'LOGIN alice app-code-1234')).at(-1)).toBe(`a OK [CAPABILITY ${POST_CAPS}] Logged in`);
    expect(h.backend.lines.slice(0, 1)).toEqual(['TS1 STARTTLS']);
    expect(h.backend.lines).toContainEqual(expect.stringMatching(/^TS\d AUTHENTICATE PLAIN$/)); // no SASL-IR: continuation
    expect(h.backend.lines.at(-1)).toMatch(/^TS\d CAPABILITY$/);
  });

  it('refuses a backend whose certificate does not verify', async () => {
    const h = await harness({ backend: { starttls: true }, server: {} });
    // Restart the server with no CA: the self-signed backend certificate must be refused.
    await h.server.close();
    const auth = new FakeAuthenticator();
    const server = await startImapServer({
      authenticator: auth,
      logger: silentLogger(),
      listenTls: { host: '127.0.0.1', port: 0 },
      backend: { host: '127.0.0.1', port: h.backend.port, tls: 'starttls' },
      master: { user: MASTER.user, password: new Secret(MASTER.password) },
      secureContext,
      allowPlaintext: false,
    });
    cleanups.push(() => server.close());
    const c = await client(server.tls?.port ?? 0, true);
    await c.line();
    expect((await c.cmd('a', 'LOGIN alice app-code-1234')).at(-1)).toMatch(/^a NO \[UNAVAILABLE\]/);
    expect(h.backend.auths).toHaveLength(0);
  });
});

describe('IMAP session: AUTHENTICATE', () => {
  it('PLAIN with SASL-IR', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    expect((await c.cmd('a', `AUTHENTICATE PLAIN ${b64('\0alice\0app-code-1234')}`)).at(-1)).toMatch(/^a OK \[CAPABILITY /);
    expect(h.auth.requests[0]).toMatchObject({ mechanism: 'PLAIN', user: 'alice', authzid: undefined });
  });

  it('PLAIN with a continuation, and an authzid passed to the policy', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    c.send('a AUTHENTICATE PLAIN\r\n');
    expect(await c.line()).toBe('+ ');
    c.send(`${b64('alice\0alice\0app-code-1234')}\r\n`);
    expect((await c.until('a')).at(-1)).toMatch(/^a OK \[CAPABILITY /);
    expect(h.auth.requests[0]).toMatchObject({ user: 'alice', authzid: 'alice' });
  });

  it('LOGIN mechanism with both prompts, and with SASL-IR user name', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    c.send('a AUTHENTICATE LOGIN\r\n');
    expect(await c.line()).toBe('+ VXNlcm5hbWU6');
    c.send(`${b64('alice')}\r\n`);
    expect(await c.line()).toBe('+ UGFzc3dvcmQ6');
    c.send(`${b64('wrong')}\r\n`);
    expect((await c.until('a')).at(-1)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    c.send(`b AUTHENTICATE LOGIN ${b64('bob')}\r\n`);
    expect(await c.line()).toBe('+ UGFzc3dvcmQ6');
    c.send(`${b64('bob-pw')}\r\n`);
    expect((await c.until('b')).at(-1)).toMatch(/^b OK \[CAPABILITY /);
    expect(h.auth.requests.map((r) => r.mechanism)).toEqual(['LOGIN', 'LOGIN']); // the SASL name, as SMTP and POP3 say it
  });

  it('"*" cancels; malformed data and unknown mechanisms are refused', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    c.send('a AUTHENTICATE PLAIN\r\n');
    expect(await c.line()).toBe('+ ');
    c.send('*\r\n');
    expect(await c.line()).toBe('a BAD Authentication aborted by client.');
    expect((await c.cmd('b', 'AUTHENTICATE PLAIN =')).at(-1)).toBe('b BAD Invalid authentication data.');
    expect((await c.cmd('c', `AUTHENTICATE PLAIN ${b64('alice\0app-code-1234')}`)).at(-1)).toMatch(/^c BAD /);
    expect((await c.cmd('d', 'AUTHENTICATE PLAIN !!!!')).at(-1)).toMatch(/^d BAD /);
    expect((await c.cmd('e', 'AUTHENTICATE CRAM-MD5')).at(-1)).toBe('e NO Unsupported authentication mechanism.');
    expect(h.auth.requests).toHaveLength(0);
  });
});

describe('IMAP session: parsing and limits on the wire', () => {
  it('LOGIN with synchronising literals ("+ OK") and with LITERAL+', async () => {
    const h = await harness();
    const c = await client(h.tlsPort, true);
    await c.line();
    c.send('a LOGIN {5}\r\n');
    expect(await c.line()).toBe('+ OK');
    c.send('alice {13}\r\n');
    expect(await c.line()).toBe('+ OK');
    c.send('app-code-1234\r\n');
    expect((await c.until('a')).at(-1)).toMatch(/^a OK \[CAPABILITY /);

    const d = await client(h.tlsPort, true);
    await d.line();
    d.send('b LOGIN {3+}\r\nbob "bob-pw"\r\n');
    expect((await d.until('b')).at(-1)).toMatch(/^b OK \[CAPABILITY /);
    expect(h.auth.requests.map((r) => r.user)).toEqual(['alice', 'bob']);
  });

  it('answers unknown and not-yet-permitted commands like Dovecot', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    await c.line();
    expect(await c.cmd('a', 'FROB x')).toEqual(['a BAD Error in IMAP command FROB: Unknown command.']);
    expect(await c.cmd('b', 'SELECT INBOX')).toEqual(['b BAD Error in IMAP command SELECT: Command not permitted in this state.']);
    expect(await c.cmd('c', 'ID NIL')).toEqual(['* ID ("name" "twostep")', 'c OK ID completed.']);
    expect(await c.cmd('d', 'NOOP')).toEqual(['d OK NOOP completed.']);
    expect(await c.cmd('e', 'LOGIN onlyone')).toEqual(['e BAD Error in IMAP command LOGIN: Invalid arguments.']);
    expect(await c.cmd('f', 'LOGOUT')).toEqual(['* BYE Logging out', 'f OK Logout completed.']);
    await c.closed();
  });

  it('closes after too many bad commands', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    await c.line();
    for (let i = 0; i < limits.preAuthMaxBadCommands; i++) c.send(`t${i} BOGUS\r\n`);
    const lines: string[] = [];
    try {
      for (;;) lines.push(await c.line());
    } catch {
      /* closed */
    }
    expect(lines.filter((l) => / BAD /.test(l))).toHaveLength(limits.preAuthMaxBadCommands);
    expect(lines.at(-1)).toBe('* BYE Too many invalid IMAP commands.');
  });

  it('closes on an over-long line and on an HTTP request', async () => {
    const h = await harness();
    const c = await client(h.plainPort);
    await c.line();
    c.send(`a LOGIN ${'x'.repeat(limits.preAuthLineBytes + 10)}`);
    expect(await c.line()).toMatch(/^\* BAD /);
    expect(await c.line()).toMatch(/^\* BYE /);
    await c.closed();

    const d = await client(h.plainPort);
    await d.line();
    d.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await d.closed();
    expect(d.seen).toHaveLength(1); // the greeting only
  });

  it('says BYE on inactivity', async () => {
    const saved = limits.preAuthIdleMs;
    (limits as { preAuthIdleMs: number }).preAuthIdleMs = 300;
    try {
      const h = await harness();
      const c = await client(h.plainPort);
      await c.line();
      expect(await c.line()).toBe('* BYE Disconnected for inactivity.');
      await c.closed();
    } finally {
      (limits as { preAuthIdleMs: number }).preAuthIdleMs = saved;
    }
  });

  it('close() ends live sessions, proxied ones included', async () => {
    const h = await harness();
    const a = await client(h.tlsPort, true);
    await a.line();
    await a.cmd('l', 'LOGIN bob bob-pw');
    const b = await client(h.plainPort);
    await b.line();
    expect(h.server.connections()).toBe(2);
    await h.server.close();
    await Promise.all([a.closed(), b.closed()]);
    expect(h.server.connections()).toBe(0);
  });
});

describe('IMAP session with a real client (imapflow)', () => {
  it('STARTTLS, ID, login with an application code, NOOP, logout', async () => {
    const h = await harness();
    const flow = new ImapFlow({
      host: '127.0.0.1',
      port: h.plainPort,
      secure: false,
      doSTARTTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'app-code-1234' },
      logger: false,
      clientInfo: { name: 'UnitMail', version: '2.0' },
    });
    cleanups.push(() => flow.close());
    await flow.connect();
    expect(flow.authenticated).toBeTruthy();
    expect(flow.capabilities.has('X-BACKEND')).toBe(true);
    expect(h.auth.requests[0]).toMatchObject({ user: 'alice', tls: true, clientName: 'UnitMail 2.0' });
    expect(h.backend.auths).toEqual([{ authzid: 'alice', authcid: MASTER.user, password: MASTER.password }]);
    await flow.noop();
    await flow.logout();
  });
});

describe('IMAP session logs', () => {
  it('logs login results and the close with byte counts, never a password or code', async () => {
    const log = captureLogger();
    const h = await harness({ server: { logger: log.logger } });
    const c = await client(h.tlsPort, true);
    await c.line();
    await c.cmd('a', 'LOGIN alice alice-main-pw');
    await c.cmd('b', `AUTHENTICATE PLAIN ${b64('\0alice\0app-code-1234')}`);
    await c.cmd('z', 'LOGOUT');
    await c.closed();
    await log.until((lines) => eventLines(lines, 'close').length > 0); // the server's last line may trail the client's close
    const all = log.raw.join('\n');
    for (const secret of ['alice-main-pw', 'app-code-1234', MASTER.password, b64('\0alice\0app-code-1234')]) expect(all).not.toContain(secret);
    const events = log.lines;
    const logins = events.filter((e) => e.event === 'login');
    expect(logins.map((e) => [e.result, e.reason ?? e.via, e.user, e.proto, e.ip])).toEqual([
      ['fail', 'app-code-required', 'alice', 'imap', '127.0.0.1'],
      ['ok', 'app-code', 'alice', 'imap', '127.0.0.1'],
    ]);
    expect(new Set(logins.map((e) => e.cid)).size).toBe(1);
    const close = events.find((e) => e.event === 'close');
    expect(close).toMatchObject({ cid: logins[0]?.cid, proto: 'imap' });
    expect(close?.bytesIn).toBeGreaterThan(50);
    expect(close?.bytesOut).toBeGreaterThan(50);
    expect(typeof close?.durationMs).toBe('number');
  });
});
