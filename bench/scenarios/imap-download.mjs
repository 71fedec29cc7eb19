// IMAP download: FETCH 1:* BODY.PEEK[] of a 2,000 x 16 KiB mailbox, and FETCH of one 50 MiB
// message, on an already logged-in connection per side, the sides in alternation.
// Plaintext on every client side (the proxies compared as proxies), then the honest TLS rows:
// direct Dovecot over implicit TLS vs twostep over implicit TLS vs nginx's implicit-TLS listener
// (both -> Dovecot in plaintext on loopback), as a client would use each.
import { ImapConn, quote } from '../lib/imap-client.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;

/** An RFC 5322 message of exactly `bytes` bytes (CRLF lines of 78 bytes). */
export function message(bytes, subject) {
  const head =
    `From: bench <bench@example.com>\r\nTo: bench <bench@example.com>\r\nSubject: ${subject}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${subject.replace(/\W/g, '-')}@bench.example>\r\n` +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const line = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGHIJKL\r\n';
  const n = Math.floor((bytes - head.length) / line.length);
  let body = line.repeat(n);
  const rest = bytes - head.length - body.length;
  if (rest >= 2) body += `${'x'.repeat(rest - 2)}\r\n`;
  return head + body;
}

async function openMailbox(target) {
  const c = await ImapConn.open(target);
  const l = await c.command(`LOGIN ${quote(target.user)} ${quote(target.password)}`);
  if (l.status !== 'OK') throw new Error(`LOGIN: ${l.line}`);
  const e = await c.command('EXAMINE INBOX');
  if (e.status !== 'OK') throw new Error(`EXAMINE: ${e.line}`);
  return c;
}

/** A side whose sample is the ms one FETCH takes on a connection kept open across samples. */
export function fetchSide(side, target, fetch, minBytes, conns) {
  return {
    side,
    async sample() {
      let c = conns.get(side);
      if (!c || c.closed) conns.set(side, (c = await openMailbox(target)));
      const t0 = performance.now();
      const r = await c.command(fetch, 300_000);
      const ms = performance.now() - t0;
      if (r.status !== 'OK' || r.literalBytes < minBytes) throw new Error(`FETCH got ${r.literalBytes} bytes: ${r.line}`);
      return ms;
    },
  };
}

export default {
  id: 'imap-download',
  title: 'IMAP download',
  async run({ env, rec, quick, log }) {
    const P = { messages: 2000, messageBytes: 16 * KiB, bigBytes: 50 * MiB, rounds: quick ? 3 : 9, bigRounds: quick ? 2 : 5 };
    log(`filling mailboxes: ${P.messages} x ${P.messageBytes / KiB} KiB, 1 x ${P.bigBytes / MiB} MiB`);
    for (let i = 0; i < P.messages; i++) env.dovecot.deliver('plain', message(P.messageBytes, `bench ${i}`));
    env.dovecot.deliver('big', message(P.bigBytes, 'bench big'));

    const conns = new Map();
    try {
      const cases = [
        { what: `FETCH 1:* BODY.PEEK[] of ${P.messages} x 16 KiB`, user: 'plain', fetch: 'FETCH 1:* (BODY.PEEK[])', bytes: P.messages * P.messageBytes, rounds: P.rounds },
        { what: 'FETCH BODY.PEEK[] of one 50 MiB message', user: 'big', fetch: 'FETCH 1 (BODY.PEEK[])', bytes: P.bigBytes, rounds: P.bigRounds },
      ];
      for (const k of cases) {
        const t = env.target;
        const plain = [
          fetchSide('direct', t.direct(k.user), k.fetch, k.bytes, conns),
          fetchSide('twostep', t.twostep(k.user), k.fetch, k.bytes, conns),
          ...(env.nginx ? [fetchSide('nginx', t.nginx(k.user), k.fetch, k.bytes, conns)] : []),
        ];
        await rec.measure({
          scenario: 'imap-download',
          measurement: `${k.what}, plaintext`,
          unit: 'ms',
          better: 'lower',
          sides: plain,
          rounds: k.rounds,
          targets: [
            { text: 'twostep <= 1.05 x direct', met: (_m, r) => r.twostep <= 1.05 },
            ...(env.nginx ? [{ text: 'twostep faster than nginx', met: (m) => m.twostep < m.nginx }] : []),
          ],
        });
        await rec.measure({
          scenario: 'imap-download',
          measurement: `${k.what}, client over TLS`,
          unit: 'ms',
          better: 'lower',
          sides: [
            fetchSide('direct TLS', t.directTls(k.user), k.fetch, k.bytes, conns),
            fetchSide('twostep TLS', t.twostepTls(k.user), k.fetch, k.bytes, conns),
            ...(env.nginx ? [fetchSide('nginx TLS', t.nginxTls(k.user), k.fetch, k.bytes, conns)] : []),
          ],
          rounds: k.rounds,
        });
        for (const c of conns.values()) c.close();
        conns.clear();
      }
    } finally {
      for (const c of conns.values()) c.close();
    }
  },
};
