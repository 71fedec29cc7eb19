import { Writable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import type { Authenticator } from '../../src/policy/types.js';
import { startImapServer } from '../../src/protocols/imap/imap-server.js';
import { startPop3Server } from '../../src/protocols/pop3/pop3-server.js';
import type { FrontEnd } from '../../src/protocols/shared/front-end-server.js';
import { startSmtpServer } from '../../src/protocols/smtp/smtp-server.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { RawSmtpClient, saslPlain } from '../helpers/raw-smtp-client.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { sharedTestCert } from '../helpers/tls.js';
import { MASTER } from '../helpers/twostep-config.js';

/**
 * Issue 12 point 1, the protocols' half: FrontEnd.shutdown(graceMs) against the real Dovecot and
 * Postfix. It stops accepting at once; clients that have not logged in hear their protocol's
 * goodbye at once (IMAP "* BYE", POP3 "-ERR [SYS/TEMP]", SMTP "421 4.3.2"); logged-in sessions
 * run on for the grace period, then hear it (at a reply boundary) and are closed.
 */

/**
 * Long enough that "at once" and "at the end of the grace" cannot be confused on a busy machine:
 * with 4 s, the goodbyes before login and the refused connections took longer than the grace once
 * in a full run beside other tests, and the logged-in sessions had already heard theirs.
 */
const GRACE_MS = 10_000;

let dovecot: DovecotInstance;
let postfix: PostfixInstance;
let fronts: { imap: FrontEnd; pop3: FrontEnd; smtp: FrontEnd };
/** What every front end here is started with (but its backend). */
let common: Omit<Parameters<typeof startImapServer>[0], 'backend'>;
const logLines: Record<string, unknown>[] = [];

/** Every user passes through: Dovecot and Postfix judge the password (bob's). */
const passthrough: Authenticator = {
  authenticate: async (req) => ({ ok: true, via: 'passthrough', user: req.user, passthrough: { settle: async () => {} } }),
};

beforeAll(async () => {
  const cert = sharedTestCert();
  dovecot = await startDovecot({ users: [{ user: 'bob', password: 'bob-main-pw' }], master: MASTER });
  postfix = await startPostfix({ lmtpSocket: dovecot.lmtpSocket, saslPath: `inet:127.0.0.1:${dovecot.authPort}`, tls: cert });
  const logger = createLogger({
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) logLines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    }),
  });
  common = {
    authenticator: passthrough,
    logger,
    master: { user: MASTER.user, password: new Secret(MASTER.password) },
    secureContext: createSecureContext({ cert: cert.certPem, key: cert.keyPem }),
    allowPlaintext: true,
    listen: { host: '127.0.0.1', port: 0 },
  };
  fronts = {
    imap: await startImapServer({ ...common, backend: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'none' } }),
    pop3: await startPop3Server({ ...common, backend: { host: '127.0.0.1', port: dovecot.pop3Port, tls: 'none' } }),
    smtp: await startSmtpServer({
      ...common,
      backend: { host: '127.0.0.1', port: postfix.smtpsPort, tls: 'tls', ca: Buffer.from(cert.certPem) },
      backendLogin: 'master',
      hostname: 'twostep.test',
    }),
  };
});

afterAll(async () => {
  await Promise.all(Object.values(fronts ?? {}).map((f) => f.close()));
  await postfix?.stop();
  await dovecot?.stop();
});

const port = (f: FrontEnd): number => f.plain?.port as number;

async function pop3(): Promise<SocketText> {
  const t = new SocketText(await connectTestSocket({ port: port(fronts.pop3) }), 'utf8');
  expect(await t.until(/^\+OK/)).toMatch(/^\+OK/);
  return t;
}

it('says goodbye before login at once, to logged-in sessions at the end of the grace, and accepts no one meanwhile', async () => {
  // Logged in: IMAP in IDLE, POP3 after PASS, SMTP after AUTH (all passthrough, judged by the backends).
  const idle = await RawImapClient.connect({ port: port(fronts.imap) });
  await idle.greeting();
  expect(await idle.command('LOGIN bob bob-main-pw')).toMatch(/^t1 OK/m);
  expect(await idle.command('SELECT INBOX')).toMatch(/^t2 OK/m);
  idle.write('t3 IDLE\r\n');
  await idle.until(/^\+ idling/);
  const pop3In = await pop3();
  pop3In.socket.write('USER bob\r\nPASS bob-main-pw\r\n');
  await pop3In.until(/^\+OK Logged in/);
  const smtpIn = await RawSmtpClient.connect({ port: port(fronts.smtp) });
  await smtpIn.reply();
  await smtpIn.command('EHLO client.example');
  expect(await smtpIn.command(`AUTH PLAIN ${saslPlain('bob', 'bob-main-pw')}`)).toMatch(/^235 /);

  // Not logged in yet.
  const imapOut = await RawImapClient.connect({ port: port(fronts.imap) });
  await imapOut.greeting();
  const pop3Out = await pop3();
  const smtpOut = await RawSmtpClient.connect({ port: port(fronts.smtp) });
  await smtpOut.reply();
  await smtpOut.command('EHLO client.example');

  const ports = Object.values(fronts).map(port);
  const done = Promise.all(Object.values(fronts).map((f) => f.shutdown(GRACE_MS)));

  expect(await imapOut.until(/^\* BYE/)).toBe('* BYE Server shutting down.');
  expect(await pop3Out.until(/^-ERR/)).toBe('-ERR [SYS/TEMP] Server shutting down.');
  expect(await smtpOut.reply()).toBe('421 4.3.2 Service shutting down');
  await Promise.all([imapOut.waitClosed(), pop3Out.waitClosed(), smtpOut.waitClosed()]);

  // Nothing is accepted any more, on any of the three.
  for (const p of ports) await expect(connectTestSocket({ port: p })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

  // The logged-in sessions have heard nothing yet: their goodbye comes at the end of the grace.
  expect(idle.closed).toBe(false);
  expect(pop3In.buffer).toBe('');
  expect(smtpIn.pending()).toBe('');
  expect(await idle.idleBye(GRACE_MS + 10_000)).toBe('* BYE Server shutting down.');
  expect(await pop3In.until(/^-ERR/, 10_000)).toBe('-ERR [SYS/TEMP] Server shutting down.');
  expect(await smtpIn.reply(10_000)).toBe('421 4.3.2 Service shutting down');
  await Promise.all([idle.waitClosed(), pop3In.waitClosed(), smtpIn.waitClosed()]);
  await done;
  expect(Object.values(fronts).map((f) => f.connections())).toEqual([0, 0, 0]);

  const closes = logLines.filter((l) => l.event === 'close').map((l) => `${String(l.proto)} ${String(l.reason)}`);
  expect(closes.sort()).toEqual(['imap shutdown', 'imap shutdown', 'pop3 shutdown', 'pop3 shutdown', 'smtp shutdown', 'smtp shutdown']);
}, GRACE_MS + 30_000);

it("says the goodbye to sessions in IDLE even when Dovecot's keepalive came a moment before it", async () => {
  // Dovecot sends "* OK Still here" every second here: with 8 sessions, some keepalive lands within
  // limits.goodbyeQuietMs (250 ms) before the goodbye nearly every time. The relay waits for the
  // quiet moment after it (it cannot tell a keepalive from the start of a reply) and says its BYE.
  const chatty = await startDovecot({ users: [{ user: 'bob', password: 'bob-main-pw' }], master: MASTER, extraConf: 'imap_idle_notify_interval = 1 secs' });
  const front = await startImapServer({
    ...common,
    logger: createLogger({ destination: new Writable({ write: (_c, _e, done) => done() }) }),
    backend: { host: '127.0.0.1', port: chatty.imapPort, tls: 'none' },
  });
  const sessions: RawImapClient[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const c = await RawImapClient.connect({ port: port(front) });
      sessions.push(c);
      await c.greeting();
      expect(await c.command('LOGIN bob bob-main-pw')).toMatch(/^t1 OK/m);
      expect(await c.command('SELECT INBOX')).toMatch(/^t2 OK/m);
      c.write('t3 IDLE\r\n');
      await c.until(/^\+ idling/);
    }
    // Dovecot's keepalives keep their phase (one a second from each IDLE's start), and the goodbye
    // comes a whole 2 s after shutdown(): started 100 ms after session 0's keepalive, the goodbye
    // lands 100 ms after another of its keepalives (not a wait for something: it sets the phase).
    await sessions[0]?.until(/^\* OK Still here/, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    const grace = 4_000; // the goodbye 2 s in, the cut at 3 s
    const done = front.shutdown(grace);
    const byes = await Promise.all(sessions.map((c) => c.idleBye(grace + 10_000)));
    expect(byes).toEqual(Array(8).fill('* BYE Server shutting down.'));
    await done;
  } finally {
    for (const c of sessions) c.close();
    await front.close();
    await chatty.stop();
  }
}, 60_000);
