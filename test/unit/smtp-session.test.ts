import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import type { AuthDecision, AuthRequest, Authenticator } from '../../src/policy/types.js';
import { SessionRegistry } from '../../src/protocols/shared/session-registry.js';
import { startSmtpServer, type SmtpServer } from '../../src/protocols/smtp/smtp-server.js';
import { RawSmtpClient, saslPlain } from '../helpers/raw-smtp-client.js';
import { sharedTestCert } from '../helpers/tls.js';

/**
 * The SMTP front end in process against smtp-server as a fake Postfix: the pre-AUTH protocol,
 * STARTTLS injection, the AUTH exchanges, the master login the backend sees, and the faults a
 * backend can have (421 greeting, stall, drop mid-DATA): the client always hears a 4xx and
 * twostep serves the next client.
 */

const CODE = 'RFSALANSXUAFAYDT';
const MASTER = { user: 'proxymaster', password: new Secret('master-secret') };

let secureContext: tls.SecureContext;
beforeAll(() => {
  const c = sharedTestCert();
  secureContext = tls.createSecureContext({ cert: c.certPem, key: c.keyPem });
});

/** The mechanism of each request the policy saw (recorded in the audit trail as is). */
const mechanisms: string[] = [];
const authenticator: Authenticator = {
  async authenticate(req: AuthRequest): Promise<AuthDecision> {
    mechanisms.push(req.mechanism);
    if (req.user === 'alice' && req.secret.reveal() === CODE) return { ok: true, via: 'app-code', user: 'alice', codeId: 7, codeName: 'Phone' };
    if (req.user === 'alice') return { ok: false, reason: 'app-code-required' };
    if (req.user === 'bob') return { ok: true, via: 'passthrough', user: 'bob', passthrough: { settle: async () => {} } };
    return { ok: false, reason: 'invalid-credentials' };
  },
};

interface Fake {
  port: number;
  auths: { username: string; password: string; authzid?: string }[];
  messages: string[];
  /** Destroys every backend-side connection now (a crash or a cut cable). */
  dropAll(): void;
  close(): Promise<void>;
}

/** smtp-server as a plaintext Postfix stand-in (SIZE, 8BITMIME, SMTPUTF8, PIPELINING...; AUTH PLAIN/LOGIN). */
async function fakeBackend(o: Partial<SMTPServerOptions> = {}): Promise<Fake> {
  const auths: Fake['auths'] = [];
  const messages: string[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    size: 5_000_000,
    hideENHANCEDSTATUSCODES: false,
    logger: false,
    onAuth(auth, _session, cb) {
      auths.push({ username: auth.username ?? '', password: auth.password ?? '', authzid: (auth as { authzid?: string }).authzid });
      if (auth.username === 'proxymaster' && auth.password === 'master-secret') return cb(null, { user: (auth as { authzid?: string }).authzid || 'proxymaster' });
      if (auth.username === 'bob' && auth.password === 'bob-pw') return cb(null, { user: 'bob' });
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('utf8'));
        cb(null);
      });
    },
    ...o,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  // smtp-server keeps its live connections in a Set; each holds its socket.
  const connections = () => [...(server as unknown as { connections: Set<{ _socket?: net.Socket }> }).connections];
  return {
    port,
    auths,
    messages,
    dropAll: () => {
      for (const c of connections()) c._socket?.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let front: SmtpServer | undefined;
let fake: Fake | undefined;
let extraClose: (() => Promise<void>) | undefined;
const registry = new SessionRegistry();
afterEach(async () => {
  await front?.close();
  await fake?.close();
  await extraClose?.();
  front = fake = extraClose = undefined;
});

async function startFront(backendPort: number, o: { backendLoginMs?: number; allowPlaintext?: boolean } = {}): Promise<SmtpServer> {
  front = await startSmtpServer({
    authenticator,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: { host: '127.0.0.1', port: 0 },
    backend: { host: '127.0.0.1', port: backendPort, tls: 'none' },
    backendLogin: 'master',
    master: MASTER,
    secureContext,
    allowPlaintext: o.allowPlaintext ?? false,
    hostname: 'twostep.test',
    registry,
    backendLoginMs: o.backendLoginMs ?? 3000,
  });
  return front;
}

async function client(server: SmtpServer, implicitTls = false): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ port: (implicitTls ? server.tls : server.plain)!.port, tls: implicitTls });
  expect(await c.reply()).toBe('220 twostep.test ESMTP twostep');
  return c;
}

const keywords = (ehlo: string) => ehlo.split('\r\n').map((l) => l.slice(4));

describe('before AUTH', () => {
  it('EHLO offers the backend transfer extensions, STARTTLS, and no AUTH before TLS', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port));
    const kw = keywords(await c.command('EHLO phone.example'));
    expect(kw[0]).toBe('twostep.test');
    expect(kw).toEqual(expect.arrayContaining(['PIPELINING', 'SIZE 5000000', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS']));
    expect(kw.some((k) => k.startsWith('AUTH'))).toBe(false);
    expect(await c.command('HELO phone.example')).toBe('250 twostep.test');
    expect(await c.command('EHLO')).toMatch(/^501 5\.5\.4 /);
    expect(await c.command('MAIL FROM:<a@b.example>')).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first/);
    expect(await c.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toMatch(/^538 5\.7\.11 /);
    expect(await c.command('NOOP')).toBe('250 2.0.0 Ok');
    expect(await c.command('RSET')).toBe('250 2.0.0 Ok');
    expect(await c.command('XCLIENT LOGIN=alice')).toMatch(/^502 5\.5\.2 /);
    expect(await c.command('')).toMatch(/^500 5\.5\.2 /);
    expect(await c.command('QUIT')).toBe('221 2.0.0 Bye');
    await c.waitClosed();
    expect(fake.auths).toHaveLength(0);
  });

  it('STARTTLS: plaintext pipelined after it is discarded, never executed; then AUTH is offered', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port));
    await c.command('EHLO phone.example');
    c.write('STARTTLS\r\nRSET\r\nNOOP\r\n');
    expect(await c.reply()).toBe('220 2.0.0 Ready to start TLS');
    await c.upgradeTls();
    // The first reply after TLS answers our EHLO: the injected RSET/NOOP got none.
    expect(await c.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toMatch(/^503 5\.5\.1 Error: send HELO\/EHLO first/);
    const kw = keywords(await c.command('EHLO phone.example'));
    expect(kw).toContain('AUTH PLAIN LOGIN');
    expect(kw).not.toContain('STARTTLS');
    expect(await c.command('STARTTLS')).toMatch(/^554 5\.5\.1 /);
    c.close();
  });

  it('AUTH exchanges: unsupported mechanism 504, "*" cancels with 501, bad base64 501 5.5.2, LOGIN prompts', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port), true);
    await c.command('EHLO phone.example');
    expect(await c.command('AUTH CRAM-MD5')).toMatch(/^504 5\.5\.4 /);
    expect(await c.command('AUTH PLAIN')).toBe('334 ');
    expect(await c.command('*')).toBe('501 5.7.0 Authentication aborted');
    expect(await c.command('AUTH PLAIN !!notbase64')).toMatch(/^501 5\.5\.2 /);
    expect(await c.command('AUTH LOGIN')).toBe('334 VXNlcm5hbWU6');
    expect(await c.command(Buffer.from('alice').toString('base64'))).toBe('334 UGFzc3dvcmQ6');
    expect(await c.command(Buffer.from('alice-main-pw').toString('base64'))).toMatch(/^535 5\.7\.8 .*application code/);
    c.close();
  });

  it('AUTH needs EHLO first; AUTH LOGIN takes the user name as initial response', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port), true);
    expect(await c.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toBe('503 5.5.1 Error: send HELO/EHLO first');
    await c.command('EHLO phone.example');
    expect(await c.command(`AUTH LOGIN ${Buffer.from('alice').toString('base64')}`)).toBe('334 UGFzc3dvcmQ6');
    expect(await c.command(Buffer.from(CODE).toString('base64'))).toBe('235 2.7.0 Authentication successful');
    expect(fake.auths).toEqual([{ username: 'proxymaster', password: 'master-secret', authzid: 'alice' }]);
    expect(mechanisms.at(-1)).toBe('LOGIN'); // SMTP's name for AUTH LOGIN reaches the policy (and the audit)
    c.close();
  });

  it('with allow_plaintext, AUTH is offered and accepted before TLS', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port, { allowPlaintext: true }));
    const kw = keywords(await c.command('EHLO phone.example'));
    expect(kw).toEqual(expect.arrayContaining(['STARTTLS', 'AUTH PLAIN LOGIN']));
    expect(await c.command('MAIL FROM:<a@b.example>')).toBe('530 5.7.0 Authentication required');
    expect(await c.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toBe('235 2.7.0 Authentication successful');
    c.close();
  });

  it('three failed logins end the connection with 421', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port), true);
    await c.command('EHLO phone.example');
    for (let i = 0; i < 2; i++) expect(await c.command(`AUTH PLAIN ${saslPlain('carol', 'x')}`)).toMatch(/^535 /);
    c.write(`AUTH PLAIN ${saslPlain('carol', 'x')}\r\n`);
    expect(await c.reply()).toMatch(/^535 /);
    expect(await c.reply()).toBe('421 4.7.0 Error: too many failed authentication attempts');
    await c.waitClosed();
  });

  it('a web request is closed without a reply; too many bad commands end with 421', async () => {
    fake = await fakeBackend();
    const server = await startFront(fake.port);
    const web = await client(server);
    web.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await web.waitClosed();
    expect(web.pending()).toBe('');
    const bad = await client(server);
    for (let i = 0; i < 9; i++) expect(await bad.command('FOO')).toMatch(/^502 /);
    bad.write('FOO\r\n');
    expect(await bad.reply()).toMatch(/^502 /);
    expect(await bad.reply()).toMatch(/^421 4\.7\.0 /);
    await bad.waitClosed();
  });
});

describe('after AUTH', () => {
  it('an application code logs in with the master login (user as authorization identity); pipelined MAIL/RCPT/DATA flow to the backend', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port), true);
    await c.command('EHLO phone.example');
    c.write(`AUTH PLAIN ${saslPlain('alice', CODE)}\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n`);
    expect(await c.reply()).toBe('235 2.7.0 Authentication successful');
    expect(await c.reply()).toMatch(/^250 /);
    expect(await c.reply()).toMatch(/^250 /);
    expect(await c.reply()).toMatch(/^354 /);
    expect(registry.codeIds()).toEqual([7]);
    c.write('Subject: hi\r\n\r\nbody\r\n.\r\n');
    expect(await c.reply()).toMatch(/^250 /);
    expect(await c.command('QUIT')).toMatch(/^221 /);
    await c.waitClosed();
    expect(fake.auths).toEqual([{ username: 'proxymaster', password: 'master-secret', authzid: 'alice' }]);
    expect(fake.messages[0]).toContain('body');
  });

  it('passthrough relays the client AUTH; the backend refusal is 535', async () => {
    fake = await fakeBackend();
    const c = await client(await startFront(fake.port), true);
    await c.command('EHLO phone.example');
    expect(await c.command(`AUTH PLAIN ${saslPlain('bob', 'wrong')}`)).toBe('535 5.7.8 Error: authentication failed. If this account uses two-step authentication, sign in with an application code.'); // the same words as a two-step refusal
    expect(await c.command(`AUTH PLAIN ${saslPlain('bob', 'bob-pw')}`)).toBe('235 2.7.0 Authentication successful');
    expect(fake.auths.map((a) => [a.username, a.authzid ?? ''])).toEqual([
      ['bob', ''],
      ['bob', ''],
    ]);
    c.close();
  });
});

describe('backend faults: a 4xx for the client, and twostep stays up', () => {
  it('a backend that greets with 421 gives 454 4.7.0 at AUTH', async () => {
    fake = await fakeBackend({
      onConnect(_session, cb) {
        cb(Object.assign(new Error('Service not available'), { responseCode: 421 }));
      },
    });
    const server = await startFront(fake.port);
    for (let i = 0; i < 2; i++) {
      const c = await client(server, true);
      await c.command('EHLO phone.example');
      expect(await c.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toBe('454 4.7.0 Temporary authentication failure');
      c.close();
    }
  });

  it('a backend that accepts and never speaks gives 454 4.7.0 after the login deadline', async () => {
    const silent = net.createServer(() => {});
    const sockets = new Set<net.Socket>();
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    extraClose = () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        silent.close(() => r());
      });
    const server = await startFront((silent.address() as AddressInfo).port, { backendLoginMs: 500 });
    const c = await client(server, true);
    const ehlo = keywords(await c.command('EHLO phone.example'));
    expect(ehlo).toEqual(['twostep.test', 'AUTH PLAIN LOGIN']); // backend unknown: only our own
    const t0 = Date.now();
    expect(await c.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toBe('454 4.7.0 Temporary authentication failure');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await c.command('NOOP')).toBe('250 2.0.0 Ok');
    c.close();
  });

  it('a backend that drops the connection mid-DATA gives 421 4.4.2; the next client is served', async () => {
    let drop = true;
    fake = await fakeBackend({
      onData(stream, _session, cb) {
        stream.once('data', () => {
          if (drop) fake?.dropAll();
        });
        stream.on('data', () => {});
        stream.on('end', () => cb(null));
      },
    });
    const front1 = await startFront(fake.port);
    const c = await client(front1, true);
    await c.command('EHLO phone.example');
    expect(await c.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toMatch(/^235 /);
    expect(await c.command('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
    expect(await c.command('RCPT TO:<bob@example.com>')).toMatch(/^250 /);
    expect(await c.command('DATA')).toMatch(/^354 /);
    c.write(`Subject: big\r\n\r\n${'x'.repeat(200)}\r\n`);
    expect(await c.reply()).toBe('421 4.4.2 Error: lost connection to the mail server, try again later');
    await c.waitClosed();
    drop = false;
    const next = await client(front1, true);
    await next.command('EHLO phone.example');
    expect(await next.command(`AUTH PLAIN ${saslPlain('alice', CODE)}`)).toMatch(/^235 /);
    next.close();
  });
});
