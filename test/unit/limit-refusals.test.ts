import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import type { Authenticator } from '../../src/policy/types.js';
import { startImapServer } from '../../src/protocols/imap/imap-server.js';
import { startPop3Server } from '../../src/protocols/pop3/pop3-server.js';
import { ConnectionGate } from '../../src/protocols/shared/connection-gate.js';
import type { FrontEnd } from '../../src/protocols/shared/front-end-server.js';
import { startSmtpServer } from '../../src/protocols/smtp/smtp-server.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { sharedTestCert } from '../helpers/tls.js';

/**
 * The connection limits in each protocol's words, before any backend is asked (so none runs
 * here): over max_connections_per_ip, "busy" after EMFILE, and the shutdown goodbye for a client
 * let in while the server stops; on the plain and the implicit-TLS listener. The refusal is the
 * greeting: one line, then the close. No session line per refused client (the gate logs them).
 */

const never: Authenticator = { authenticate: async () => ({ ok: false, reason: 'invalid-credentials' }) };
const cap = captureLogger();
const gate = new ConnectionGate({ maxConnections: 100, maxPerIp: 1, maxWaiting: 10 }, cap.logger);
let fronts: Record<'imap' | 'pop3' | 'smtp', FrontEnd>;

beforeAll(async () => {
  const cert = sharedTestCert();
  const common = {
    authenticator: never,
    logger: cap.logger,
    master: { user: 'm', password: new Secret('m') },
    secureContext: tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem }),
    allowPlaintext: true,
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: { host: '127.0.0.1', port: 0 },
    backend: { host: '127.0.0.1', port: 9, tls: 'none' as const },
    gate,
  };
  fronts = {
    imap: await startImapServer(common),
    pop3: await startPop3Server(common),
    smtp: await startSmtpServer({ ...common, backendLogin: 'master', hostname: 'twostep.test' }),
  };
});

afterAll(async () => {
  await Promise.all(Object.values(fronts ?? {}).map((f) => f.close()));
});

async function firstLineAndClose(port: number, localAddress: string, useTls = false): Promise<string> {
  const t = new SocketText(await connectTestSocket({ port, localAddress, tls: useTls }), 'utf8');
  const line = await t.until(/./);
  await t.waitClosed();
  return line;
}

const WORDS = {
  'per-ip': {
    imap: '* BYE Too many connections from your address.',
    pop3: '-ERR [SYS/TEMP] Too many connections from your address.',
    smtp: '421 4.7.0 Error: too many connections from your address',
  },
  busy: {
    imap: '* BYE [UNAVAILABLE] Server busy, try again later.',
    pop3: '-ERR [SYS/TEMP] Server busy, try again later.',
    smtp: '421 4.3.2 Error: server busy, try again later',
  },
};

describe('refusals before the greeting', () => {
  it('over max_connections_per_ip: the protocol says so, on the plain and the TLS listener', async () => {
    const held = new SocketText(await connectTestSocket({ port: fronts.imap.plain?.port as number, localAddress: '127.0.0.21' }), 'utf8');
    await held.until(/^\* OK/); // the one client 127.0.0.21 may have before login
    for (const p of ['imap', 'pop3', 'smtp'] as const) {
      expect(await firstLineAndClose(fronts[p].plain?.port as number, '127.0.0.21')).toBe(WORDS['per-ip'][p]);
      expect(await firstLineAndClose(fronts[p].tls?.port as number, '127.0.0.21', true)).toBe(WORDS['per-ip'][p]);
    }
    held.socket.destroy();
    expect(cap.lines.filter((l) => l.event === 'bye' || (l.event === 'close' && l.reason === 'too-many-from-ip'))).toEqual([]);
    expect(cap.lines.filter((l) => l.event === 'connection.refused')).toHaveLength(1);
  });

  it('after EMFILE: "busy" in each protocol\'s words', async () => {
    gate.outOfFiles(Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }), 'accept');
    for (const p of ['imap', 'pop3', 'smtp'] as const) expect(await firstLineAndClose(fronts[p].plain?.port as number, '127.0.0.22')).toBe(WORDS.busy[p]);
  });

  it('a client let in while the server stops hears the shutdown goodbye', async () => {
    gate.drain();
    const words = { imap: '* BYE Server shutting down.', pop3: '-ERR [SYS/TEMP] Server shutting down.', smtp: '421 4.3.2 Service shutting down' };
    for (const p of ['imap', 'pop3', 'smtp'] as const) expect(await firstLineAndClose(fronts[p].plain?.port as number, '127.0.0.23')).toBe(words[p]);
  });
});
