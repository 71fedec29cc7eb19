import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtpClient, saslPlain } from '../helpers/raw-smtp-client.js';
import { DOMAIN, keywords, type Mode, MODES, queueId, readOverImap, type SmtpFronts, smtpdLine, startSmtpFronts } from '../helpers/smtp-fronts.js';

/**
 * Issue 10 point 1: after AUTH, Postfix trusts twostep's address (smtpd_authorized_xclient_hosts
 * in xclient mode, and in master mode with XCLIENT ADDR forwarding: "fwd-master"), so a client
 * that reached Postfix with XCLIENT could become anyone. twostep reads the client at command
 * boundaries for the whole session: XCLIENT, XFORWARD, STARTTLS and AUTH get twostep's refusal
 * and never reach Postfix. Postfix's own log is the witness: the session's client line names
 * bob, and its "disconnect" line counts every command Postfix received.
 * Against the real Postfix, in each login mode, on both listeners, from 127.0.0.1.
 */

const LISTENERS = ['starttls', 'implicit'] as const;
type Listener = (typeof LISTENERS)[number];
const INSUFFICIENT = '550 5.7.0 Error: insufficient authorization';

let env: SmtpFronts;

beforeAll(async () => {
  env = await startSmtpFronts('twostep-smtp-after-auth-');
});

afterAll(async () => {
  await env?.stop();
});

/** bob, signed in with his own password over TLS; the EHLO reply he saw before AUTH. */
async function bobSignedIn(mode: Mode, listener: Listener): Promise<{ c: RawSmtpClient; ehlo: string }> {
  const f = env.fronts[mode];
  const c = await RawSmtpClient.connect({ port: listener === 'implicit' ? f.tlsPort : f.starttlsPort, tls: listener === 'implicit' });
  expect(await c.reply()).toMatch(/^220 /);
  let ehlo = await c.command('EHLO client.example');
  if (listener === 'starttls') {
    expect(await c.starttls()).toMatch(/^220 /);
    ehlo = await c.command('EHLO client.example');
  }
  expect(await c.command(`AUTH PLAIN ${saslPlain('bob', 'bob-main-pw')}`)).toMatch(/^235 /);
  return { c, ehlo };
}

/** One message from bob to alice; its queue id. */
async function mailFromBob(c: RawSmtpClient, subject: string): Promise<string> {
  expect(await c.command(`MAIL FROM:<bob@${DOMAIN}>`)).toMatch(/^250 /);
  expect(await c.command(`RCPT TO:<alice@${DOMAIN}>`)).toMatch(/^250 /);
  expect(await c.command('DATA')).toMatch(/^354 /);
  return queueId(await c.command(`Subject: ${subject}\r\n\r\nfrom bob\r\n.`));
}

/**
 * Postfix's record of the session that queued `id`: its client line, and the per-command counts
 * of its "disconnect" line (e.g. { ehlo: '2', auth: '1', xclient: '0/1' }; "n/m" means m
 * received, n accepted). Call after QUIT.
 */
async function postfixSession(id: string): Promise<{ client: string; counts: Record<string, string> }> {
  const client = await smtpdLine(env.postfix, id);
  const pid = /smtpd\[(\d+)\]/.exec(client)?.[1];
  const log = await env.postfix.waitForLog(new RegExp(`${id}: client=[\\s\\S]*smtpd\\[${pid}\\]: disconnect from `));
  const rest = log.slice(log.indexOf(client));
  const disconnect = new RegExp(`smtpd\\[${pid}\\]: disconnect from \\S+ (.*)`).exec(rest)?.[1] ?? '';
  return { client, counts: Object.fromEntries(disconnect.split(' ').map((kv) => kv.split('=') as [string, string])) };
}

/** The commands that must reach Postfix only from twostep's own login: as many, and as accepted, as in a clean session. */
const GUARDED = ['xclient', 'xforward', 'starttls', 'auth'] as const;
const guarded = (counts: Record<string, string>) => Object.fromEntries(GUARDED.map((k) => [k, counts[k]]));

/** bob's clean session (sign in, one message, QUIT): what Postfix counts of twostep's own login in this mode. */
async function cleanSession(mode: Mode, listener: Listener): Promise<Record<string, string>> {
  const { c } = await bobSignedIn(mode, listener);
  const id = await mailFromBob(c, `clean-${mode}-${listener}`);
  expect(await c.command('QUIT')).toMatch(/^221 /);
  return (await postfixSession(id)).counts;
}

describe.each(MODES)('%s', (mode) => {
  describe.each(LISTENERS)('%s listener', (listener) => {
    const tag = `${mode}-${listener}`;
    let clean: Record<string, string>;

    beforeAll(async () => {
      clean = await cleanSession(mode, listener);
      expect(clean.auth).toBe('1');
    });

    it('XCLIENT LOGIN=alice ADDR=6.6.6.6 after bob signed in is refused and never reaches Postfix', async () => {
      const { c } = await bobSignedIn(mode, listener);
      c.write('XCLIENT LOGIN=alice@example.test ADDR=6.6.6.6\r\n');
      expect(await c.reply()).toBe(INSUFFICIENT);
      const id = await mailFromBob(c, `xclient-${tag}`);
      expect(await c.command('QUIT')).toMatch(/^221 /);
      const s = await postfixSession(id);
      expect(s.client).toMatch(/sasl_method=PLAIN, sasl_username=bob$/);
      expect(s.client).not.toMatch(/alice|6\.6\.6\.6/);
      expect(guarded(s.counts)).toEqual(guarded(clean));
      expect(s.counts.commands).toBe(clean.commands);
    });

    it('XFORWARD, a second AUTH and STARTTLS after AUTH get Postfix\'s refusals from twostep', async () => {
      const { c } = await bobSignedIn(mode, listener);
      c.write('XFORWARD ADDR=6.6.6.6 NAME=evil.example\r\n');
      expect(await c.reply()).toBe(INSUFFICIENT);
      expect(await c.command(`AUTH PLAIN ${saslPlain('alice', env.aliceCode)}`)).toBe('503 5.5.1 Error: already authenticated');
      expect(await c.command('STARTTLS')).toBe('554 5.5.1 Error: TLS already active');
      const id = await mailFromBob(c, `refusals-${tag}`);
      expect(await c.command('QUIT')).toMatch(/^221 /);
      const s = await postfixSession(id);
      expect(s.client).toMatch(/sasl_username=bob$/);
      expect(s.client).not.toMatch(/alice|6\.6\.6\.6/);
      expect(guarded(s.counts)).toEqual(guarded(clean));
      expect(s.counts.commands).toBe(clean.commands);
    });

    it('a second EHLO shows the list the client saw, and resets the transaction at Postfix (an RSET in its place)', async () => {
      const { c, ehlo } = await bobSignedIn(mode, listener);
      expect(await c.command(`MAIL FROM:<bob@${DOMAIN}>`)).toMatch(/^250 /);
      const again = await c.command('EHLO again.example');
      expect(keywords(again)).toEqual(keywords(ehlo));
      expect(again).not.toMatch(/XCLIENT|XFORWARD|VRFY|ETRN|STARTTLS/);
      expect(await c.command(`RCPT TO:<alice@${DOMAIN}>`)).toBe('503 5.5.1 Error: need MAIL command');
      expect(await c.command('HELO again.example')).toMatch(/^250 \S+$/);
      const id = await mailFromBob(c, `ehlo-${tag}`);
      expect(await c.command('QUIT')).toMatch(/^221 /);
      const s = await postfixSession(id);
      expect(s.counts).toMatchObject({ rset: '2', rcpt: '1/2' }); // the EHLO's and the HELO's RSET; the RCPT without MAIL
      expect(s.counts.helo).toBeUndefined();
      expect(s.counts.ehlo).toBe(clean.ehlo);
      expect(guarded(s.counts)).toEqual(guarded(clean));
    });

    it('pipelined commands keep their order; DATA, BDAT and a bare-LF end of data pass as bytes; body lines that look like commands arrive unchanged', async () => {
      const { c } = await bobSignedIn(mode, listener);
      c.write(`MAIL FROM:<bob@${DOMAIN}>\r\nXCLIENT LOGIN=alice@example.test\r\nRCPT TO:<alice@${DOMAIN}>\r\nDATA\r\n`);
      expect(await c.reply()).toMatch(/^250 2\.1\.0/);
      expect(await c.reply()).toBe(INSUFFICIENT);
      expect(await c.reply()).toMatch(/^250 2\.1\.5/);
      expect(await c.reply()).toMatch(/^354 /);
      const body = 'XCLIENT LOGIN=alice@example.test ADDR=6.6.6.6\r\nAUTH PLAIN eHl6\r\nEHLO evil.example\r\n';
      c.write(`Subject: pipelined-${tag}\r\n\r\n${body}..leading dot\r\n.\r\n`);
      expect(await c.reply()).toMatch(/^250 2\.0\.0 Ok: queued as/);

      c.write(`MAIL FROM:<bob@${DOMAIN}>\r\nRCPT TO:<alice@${DOMAIN}>\r\n`);
      expect(await c.reply()).toMatch(/^250 2\.1\.0/);
      expect(await c.reply()).toMatch(/^250 2\.1\.5/);
      const chunk = `Subject: bdat-${tag}\r\n\r\nline\r\n.\r\nXCLIENT LOGIN=alice@example.test\r\n`;
      c.write(`BDAT ${chunk.length} LAST\r\n${chunk}NOOP\r\n`);
      expect(await c.reply()).toMatch(/^250 2\.0\.0 Ok: \d+ bytes queued as/);
      expect(await c.reply()).toMatch(/^250 2\.0\.0 Ok/);

      // Postfix 3.7 ends the data at a bare-LF "." line too; so does twostep, and what follows is a command again.
      c.write(`MAIL FROM:<bob@${DOMAIN}>\r\nRCPT TO:<alice@${DOMAIN}>\r\nDATA\r\n`);
      expect(await c.reply()).toMatch(/^250 /);
      expect(await c.reply()).toMatch(/^250 /);
      expect(await c.reply()).toMatch(/^354 /);
      c.write(`Subject: bare-${tag}\r\n\r\nbody\n.\nXCLIENT LOGIN=alice@example.test ADDR=6.6.6.6\r\n`);
      const id = queueId(await c.reply());
      expect(await c.reply()).toBe(INSUFFICIENT);
      expect(await c.command('QUIT')).toMatch(/^221 /);

      const s = await postfixSession(id);
      expect(s.client).toMatch(/sasl_username=bob$/);
      expect(guarded(s.counts)).toEqual(guarded(clean));
      expect(s.counts.bdat).toBe('1');
      expect(await readOverImap(env.imapTlsPort, 'alice', env.aliceCode, `pipelined-${tag}`)).toContain(`\r\n\r\n${body}.leading dot`);
      expect(await readOverImap(env.imapTlsPort, 'alice', env.aliceCode, `bdat-${tag}`)).toContain('line\r\n.\r\nXCLIENT LOGIN=alice@example.test');
    });
  });
});
