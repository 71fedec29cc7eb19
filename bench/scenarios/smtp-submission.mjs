// SMTP submission: 200 messages of 100 KiB over one session, 200 sessions of one message each
// (connect, EHLO, AUTH PLAIN, MAIL/RCPT/DATA, QUIT), and 16 sessions at once each sending 10
// messages over its own connection (a busy server's shape), into a private Postfix that delivers
// by LMTP into the bench Dovecot. Sides: Postfix's submission directly (the user's own password,
// Dovecot SASL), twostep with an application code (master mode: AUTH PLAIN through the Dovecot
// master user; and xclient mode: XCLIENT LOGIN), nginx's mail proxy (the user's password checked
// by the auth_http responder, then XCLIENT LOGIN to Postfix) when installed.
// The time is the client's, up to the final 250 after each message's data: the submission path.
// Postfix delivers in the background; each sample waits for the queue to drain (timed apart),
// checks that every message arrived and deletes them, so no side pays for another's deliveries
// and the disk holds at most one sample's mail.
import path from 'node:path';
import { USERS } from '../lib/env.mjs';
import { startAuthHttp, startNginx } from '../lib/nginx.mjs';
import { findPostfixBinary, POSTFIX_APT, startBenchPostfix } from '../lib/postfix.mjs';
import { dotStuffed, SmtpConn } from '../lib/smtp-client.mjs';
import { freePort } from '../../scripts/demo-backend.mjs';
import { median } from '../lib/stats.mjs';
import { message } from './imap-download.mjs';

const KiB = 1024;
const DOMAIN = 'bench.example';
const SENDER = 'tfa'; // two-step on in twostep: an application code there, the own password elsewhere
const RCPT = 'sink';
const SCENARIO = 'smtp-submission';

/** One session: connect, EHLO, AUTH, `count` messages; ms until the last message's final 250. QUIT after the clock. */
async function session(target, count, data) {
  const t0 = performance.now();
  const c = await SmtpConn.open({ port: target.port });
  try {
    await c.ehlo('bench.client.example');
    await c.authPlain(target.user, target.password);
    for (let i = 0; i < count; i++) await c.send({ from: `${SENDER}@${DOMAIN}`, to: `${RCPT}@${DOMAIN}`, data });
    const ms = performance.now() - t0;
    await c.quit();
    return ms;
  } finally {
    c.close();
  }
}

export default {
  id: SCENARIO,
  title: 'SMTP submission',
  async run({ env, rec, quick, log }) {
    if (!findPostfixBinary()) {
      rec.note(SCENARIO, `skipped: Postfix is not installed (${POSTFIX_APT})`);
      return;
    }
    const P = {
      perSession: quick ? 40 : 200, sessions: quick ? 40 : 200, bytes: 100 * KiB, rounds: quick ? 3 : 5,
      concurrent: 16, perConcurrent: quick ? 3 : 10,
    };
    log('starting Postfix (submission, Dovecot SASL, LMTP into the bench Dovecot)');
    const pf = await startBenchPostfix({ dovecot: env.dovecot, cert: env.cert, domain: DOMAIN, senderLogins: { [`${SENDER}@${DOMAIN}`]: SENDER } });
    env.onCleanup(() => pf.stop());
    log('starting twostep with [smtp] (master mode, xclient mode)');
    const master = await env.startTwostep({ name: 'twostep-smtp-master', smtp: { backendPort: pf.masterPort, backendLogin: 'master' } });
    const xclient = await env.startTwostep({ name: 'twostep-smtp-xclient', smtp: { backendPort: pf.xclientPort, backendLogin: 'xclient' } });
    let nginxPort = null;
    if (env.nginxFound) {
      const authPort = await freePort();
      const auth = await startAuthHttp({ port: authPort, backendPort: pf.xclientPort, users: USERS });
      env.onCleanup(() => auth.stop());
      const port = await freePort();
      log(`starting nginx ${env.nginxFound.version} (mail module, SMTP, 1 worker)`);
      try {
        const ng = await startNginx({
          bin: env.nginxFound.bin, module: env.nginxFound.module, dir: path.join(env.root, 'nginx-smtp'), port, authPort, workers: 1, protocol: 'smtp',
        });
        env.onCleanup(() => ng.stop());
        nginxPort = port;
      } catch (err) {
        rec.note(SCENARIO, `nginx column skipped: its SMTP proxy did not start (${err?.message ?? err})`);
      }
    }
    const targets = [
      ['direct', { port: pf.submissionPort, user: SENDER, password: USERS[SENDER] }],
      ['twostep', { port: master.smtpPort, user: SENDER, password: env.appCode }],
      ['twostep xclient', { port: xclient.smtpPort, user: SENDER, password: env.appCode }],
      ...(nginxPort ? [['nginx', { port: nginxPort, user: SENDER, password: USERS[SENDER] }]] : []),
    ];

    const data = dotStuffed(message(P.bytes, 'bench smtp'));
    /** Per measurement and side: ms from the last 250 until Postfix's queue was empty. */
    const drains = {};
    /** Before a sample: nothing queued or delivered left from before (an earlier failure). */
    const before = async () => {
      await pf.drain();
      pf.clear(RCPT);
      pf.clear(SENDER); // bounces would land here
    };
    /** After a sample: drained, every message delivered, deleted. */
    const after = async (key, side, expected) => {
      const ms = await pf.drain();
      const got = pf.delivered(RCPT);
      pf.clear(RCPT);
      if (got !== expected) throw new Error(`${got} of ${expected} messages delivered to ${RCPT}:\n${pf.tail()}`);
      ((drains[key] ??= {})[side] ??= []).push(ms);
    };

    const cases = [
      {
        key: 'one session',
        measurement: `${P.perSession} messages of 100 KiB over one session`,
        async sample(side, target) {
          await before();
          const ms = await session(target, P.perSession, data);
          await after(this.key, side, P.perSession);
          return P.perSession / (ms / 1000);
        },
      },
      {
        key: 'sessions',
        measurement: `${P.sessions} sessions of one 100 KiB message (connect, AUTH, message)`,
        async sample(side, target) {
          await before();
          let ms = 0;
          for (let i = 0; i < P.sessions; i++) ms += await session(target, 1, data);
          await after(this.key, side, P.sessions);
          return P.sessions / (ms / 1000);
        },
      },
      {
        key: 'concurrent',
        measurement: `${P.concurrent} sessions at once, ${P.perConcurrent} messages of 100 KiB each`,
        async sample(side, target) {
          await before();
          const t0 = performance.now();
          await Promise.all(Array.from({ length: P.concurrent }, () => session(target, P.perConcurrent, data)));
          const ms = performance.now() - t0;
          const n = P.concurrent * P.perConcurrent;
          await after(this.key, side, n);
          return n / (ms / 1000);
        },
      },
    ];
    for (const k of cases) {
      await rec.measure({
        scenario: SCENARIO,
        measurement: `${k.measurement}, plaintext`,
        unit: 'messages/s',
        better: 'higher',
        sides: targets.map(([side, target]) => ({ side, sample: () => k.sample(side, target) })),
        rounds: P.rounds,
        warmup: 1,
      });
    }
    const drainText = cases
      .map((k) => `${k.key}: ${Object.entries(drains[k.key] ?? {}).map(([s, v]) => `${s} ${median(v).toFixed(0)}`).join(', ')} ms`)
      .join('; ');
    rec.note(
      SCENARIO,
      'plaintext AUTH PLAIN on loopback for every side (TLS would swamp the comparison); PIPELINING (MAIL/RCPT/DATA in one write) on every side; ' +
        'time = client side until the final 250 after each message; Postfix in_flow_delay = 0; twostep and nginx log in to Postfix as ' +
        'config/postfix/ says (twostep: master = AUTH PLAIN via the Dovecot master user, xclient = XCLIENT LOGIN; nginx: XCLIENT LOGIN after its auth_http check)',
    );
    rec.note(SCENARIO, `Postfix's queue drained (LMTP into Dovecot) after the last 250, median: ${drainText}; every message checked delivered, then deleted`);
  },
};
