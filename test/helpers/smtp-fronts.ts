import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { startDovecot, type DovecotInstance } from './dovecot.js';
import { freePort } from './ports.js';
import { postfixSnippet, startPostfix, type PostfixInstance } from './postfix.js';
import { sharedTestCert } from './tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from './twostep-config.js';
import { startServe, type ServeProcess } from './twostep-process.js';

/**
 * twostep's SMTP front end in front of a real Postfix (Dovecot SASL, LMTP delivery into the
 * test Dovecot), in each login mode, each against the service an admin adds from config/postfix
 * (port, chroot and SASL path adapted):
 * - "master": AUTH PLAIN with the user as authorization identity, over STARTTLS to Postfix; no
 *   XCLIENT there, so Postfix sees twostep's address;
 * - "xclient": XCLIENT LOGIN=user over STARTTLS (TLS first, then XCLIENT), the client address
 *   forwarded;
 * - "fwd-master": master login to Postfix's implicit-TLS listener, which allows XCLIENT: twostep
 *   forwards the client address with XCLIENT ADDR before its AUTH.
 * alice has two-step authentication (application code `aliceCode`), bob passes through with
 * "bob-main-pw". The "master" front also serves IMAP over TLS on `imapTlsPort`, to read mail.
 */
export type Mode = 'master' | 'xclient' | 'fwd-master';
export const MODES = ['master', 'xclient', 'fwd-master'] as const;
export const DOMAIN = 'test.example';

export interface Front {
  configPath: string;
  serve: ServeProcess;
  starttlsPort: number;
  tlsPort: number;
}

export interface SmtpFronts {
  dovecot: DovecotInstance;
  postfix: PostfixInstance;
  fronts: Record<Mode, Front>;
  imapTlsPort: number;
  aliceCode: string;
  stop(): Promise<void>;
}

export async function startSmtpFronts(prefix: string): Promise<SmtpFronts> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cert = sharedTestCert();
  const dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
    ],
    master: MASTER,
  });
  const masterPort = await freePort();
  const xclientPort = await freePort();
  const postfix = await startPostfix({
    lmtpSocket: dovecot.lmtpSocket,
    saslPath: `inet:127.0.0.1:${dovecot.authPort}`,
    tls: cert,
    domain: DOMAIN,
    senderLogins: { [`alice@${DOMAIN}`]: 'alice', [`bob@${DOMAIN}`]: 'bob' },
    extraServices: [
      postfixSnippet('master.cf-master-mode', { port: masterPort, saslPath: `inet:127.0.0.1:${dovecot.authPort}` }),
      postfixSnippet('master.cf-xclient-mode', { port: xclientPort, saslPath: `inet:127.0.0.1:${dovecot.authPort}` }),
    ].join('\n'),
  });
  const backends: Record<Mode, { port: number; tls: 'starttls' | 'tls' }> = {
    master: { port: masterPort, tls: 'starttls' },
    xclient: { port: xclientPort, tls: 'starttls' },
    'fwd-master': { port: postfix.smtpsPort, tls: 'tls' },
  };
  const imapTlsPort = await freePort();
  const fronts = {} as Record<Mode, Front>;
  for (const mode of MODES) {
    const starttlsPort = await freePort();
    const tlsPort = await freePort();
    const configPath = writeTestConfig({
      dir,
      cert,
      fileName: `twostep-${mode}.toml`,
      backendImapPort: dovecot.imapPort,
      // One IMAP listener is enough to read what arrived.
      listen: '',
      listenTls: mode === 'master' ? `127.0.0.1:${imapTlsPort}` : '',
      backendCa: cert.cert,
      auth: { revocation_poll_seconds: 1 },
      smtp: {
        listen: `127.0.0.1:${starttlsPort}`,
        listenTls: `127.0.0.1:${tlsPort}`,
        backendPort: backends[mode].port,
        backendTls: backends[mode].tls,
        backendLogin: mode === 'xclient' ? 'xclient' : 'master',
      },
    });
    fronts[mode] = { configPath, starttlsPort, tlsPort, serve: undefined as unknown as ServeProcess };
  }
  await enableTwoStep(fronts.master.configPath, 'alice');
  const aliceCode = await addAppCode(fronts.master.configPath, 'alice', 'Phone');
  await Promise.all(MODES.map(async (mode) => (fronts[mode].serve = await startServe(fronts[mode].configPath))));
  return {
    dovecot,
    postfix,
    fronts,
    imapTlsPort,
    aliceCode,
    async stop() {
      await Promise.all(Object.values(fronts).map((f) => f.serve?.stop()));
      await postfix.stop();
      await dovecot.stop();
    },
  };
}

/** Polls the user's INBOX over twostep's IMAP (with the given password) for a subject; returns the raw message. */
export async function readOverImap(imapTlsPort: number, user: string, pass: string, subject: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: imapTlsPort,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user, pass },
      logger: false,
    });
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const uids = (await client.search({ header: { subject } }, { uid: true })) || [];
        const uid = uids[0];
        if (uid !== undefined) {
          const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
          if (msg && msg.source) return msg.source.toString('utf8');
        }
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
    if (Date.now() > deadline) throw new Error(`no message "${subject}" for ${user}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Postfix's smtpd line for a queue id: "ID: client=unknown[ip], sasl_method=..., sasl_username=...". */
export async function smtpdLine(postfix: PostfixInstance, queueId: string): Promise<string> {
  const log = await postfix.waitForLog(new RegExp(`${queueId}: client=`));
  return log.split('\n').find((l) => l.includes(`${queueId}: client=`)) ?? '';
}

/** The keywords of an EHLO reply ("250-SIZE 10240000" -> "SIZE 10240000"). */
export const keywords = (ehlo: string): string[] => ehlo.split('\r\n').map((l) => l.slice(4));

export function queueId(response: string): string {
  const id = /queued as ([0-9A-F]+)/.exec(response)?.[1];
  if (!id) throw new Error(`no queue id in "${response}"`);
  return id;
}
