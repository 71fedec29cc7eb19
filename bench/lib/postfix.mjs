// The bench's private Postfix (test/helpers/postfix-core.mjs): submission with Dovecot SASL
// against the bench Dovecot, delivery by LMTP into it, and the two services twostep logs in to,
// as an admin adds them from config/postfix (master mode; xclient mode, which nginx's XCLIENT
// uses too). Plus what the SMTP scenario needs between samples: wait until the queue is empty,
// count and delete what arrived.
import fs from 'node:fs';
import path from 'node:path';
import { findPostfixBinary, postfixSnippet, startPostfix } from '../../test/helpers/postfix-core.mjs';
import { freePort } from '../../test/helpers/ports.mjs';
import { sleep } from './proc.mjs';

export const POSTFIX_APT = 'apt-get install -y postfix';
export { findPostfixBinary };

/** Queue folders that hold messages (not logs). */
const QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'];

function countFiles(dir) {
  let n = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

/**
 * @param {{ dovecot: { lmtpSocket: string, authPort: number, dir: string }, cert: { cert: string, key: string },
 *   domain: string, senderLogins: Record<string, string> }} o
 */
export async function startBenchPostfix({ dovecot, cert, domain, senderLogins }) {
  const saslPath = `inet:127.0.0.1:${dovecot.authPort}`;
  const masterPort = await freePort();
  const xclientPort = await freePort();
  const postfix = await startPostfix({
    lmtpSocket: dovecot.lmtpSocket,
    saslPath,
    tls: cert,
    domain,
    myhostname: `mail.${domain}`,
    senderLogins,
    // Only the twostep-xclient service below may use XCLIENT.
    xclientHosts: '',
    // Postfix would pause each new message up to 1 s while deliveries lag behind arrivals
    // (in_flow_delay): the scenario measures the submission path, and waits for the queue to
    // drain between samples anyway.
    extraMainCf: 'in_flow_delay = 0',
    extraServices: [
      postfixSnippet('master.cf-master-mode', { port: masterPort, saslPath }),
      postfixSnippet('master.cf-xclient-mode', { port: xclientPort, saslPath }),
    ].join('\n'),
  });
  const queueDir = path.join(postfix.dir, 'queue');
  const maildirOf = (user) => path.join(dovecot.dir, 'mail', user, 'Maildir');
  return {
    postfix,
    /** Plain Postfix submission: clients AUTH with their own password (Dovecot SASL). */
    submissionPort: postfix.submissionPort,
    /** config/postfix/master.cf-master-mode: twostep's AUTH PLAIN user + Dovecot master login. */
    masterPort,
    /** config/postfix/master.cf-xclient-mode: XCLIENT LOGIN=<user> from 127.0.0.1 (twostep, nginx). */
    xclientPort,
    /** Messages in Postfix's queue (not yet delivered). */
    queued: () => QUEUES.reduce((n, q) => n + countFiles(path.join(queueDir, q)), 0),
    /** Messages in the user's INBOX (new + cur). */
    delivered: (user) => countFiles(path.join(maildirOf(user), 'new')) + countFiles(path.join(maildirOf(user), 'cur')),
    /**
     * Wait until the queue is empty; returns ms. Deferred mail (a failed delivery) is an error
     * at once, with the log's last lines.
     */
    async drain(timeoutMs = 120_000) {
      const t0 = performance.now();
      for (;;) {
        if (countFiles(path.join(queueDir, 'deferred'))) throw new Error(`Postfix deferred mail:\n${tail(postfix.log())}`);
        if (!this.queued()) return performance.now() - t0;
        if (performance.now() - t0 > timeoutMs) throw new Error(`Postfix queue not empty after ${timeoutMs} ms:\n${tail(postfix.log())}`);
        await sleep(5);
      }
    },
    /** Delete the user's delivered messages (keeps the disk use to one sample's mail). */
    clear(user) {
      for (const sub of ['new', 'cur']) {
        const d = path.join(maildirOf(user), sub);
        let names = [];
        try {
          names = fs.readdirSync(d);
        } catch {
          continue;
        }
        for (const n of names) fs.rmSync(path.join(d, n), { force: true });
      }
    },
    /** The maillog's size, bytes (it grows by a few lines per message). */
    logBytes: () => fs.statSync(postfix.logPath).size,
    tail: () => tail(postfix.log()),
    stop: () => postfix.stop(),
  };
}

function tail(text) {
  return text.split('\n').slice(-15).join('\n');
}
