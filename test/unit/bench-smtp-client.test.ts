import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dotStuffed, SmtpConn } from '../../bench/lib/smtp-client.mjs';

/**
 * The bench's SMTP client (bench/lib/smtp-client.mjs) against a scripted fake server: every
 * side of the SMTP benchmark is measured with it, so its pipelining, dot-stuffing and reply
 * parsing must be right.
 */

interface Fake {
  port: number;
  /** Everything the client sent, latin1. */
  received: () => string;
}

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * A fake submission server. pipelining: announce PIPELINING and answer MAIL/RCPT/DATA only once
 * all three arrived (a client that waits for each reply would hang). rcptReply: RCPT's answer.
 */
async function fakeServer(o: { pipelining: boolean; rcptReply?: string }): Promise<Fake> {
  let received = '';
  const server = net.createServer((sock) => {
    sock.setEncoding('latin1');
    let buf = '';
    let inData = false;
    let held: string[] = [];
    sock.write('220 fake ESMTP\r\n');
    sock.on('data', (d: string) => {
      received += d;
      buf += d;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buf = buf.slice(end + 5);
          inData = false;
          sock.write('250 2.0.0 Ok: queued as ABC123\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.split(/[ :]/)[0]?.toUpperCase();
        if (verb === 'EHLO') sock.write(`250-fake\r\n250-SIZE 1000000\r\n${o.pipelining ? '250-PIPELINING\r\n' : ''}250 AUTH PLAIN\r\n`);
        else if (verb === 'AUTH') sock.write(line === `AUTH PLAIN ${Buffer.from('\0u\0p').toString('base64')}` ? '235 2.7.0 ok\r\n' : '535 5.7.8 no\r\n');
        else if (verb === 'QUIT') sock.end('221 2.0.0 bye\r\n');
        else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'DATA') {
          const reply = verb === 'MAIL' ? '250 2.1.0 Ok' : verb === 'RCPT' ? (o.rcptReply ?? '250 2.1.5 Ok') : o.rcptReply ? '554 5.5.1 no valid recipients' : '354 go';
          if (verb === 'DATA' && !o.rcptReply) inData = true;
          if (o.pipelining) {
            held.push(reply);
            if (verb === 'DATA') {
              sock.write(`${held.join('\r\n')}\r\n`);
              held = [];
            }
          } else sock.write(`${reply}\r\n`);
        } else sock.write('502 5.5.2 unknown\r\n');
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, received: () => received };
}

describe('bench SMTP client', () => {
  it('dot-stuffs lines starting with "." and ends with CRLF.CRLF', () => {
    expect(dotStuffed('a\n.b\r\n..c').toString('latin1')).toBe('a\r\n..b\r\n...c\r\n.\r\n');
    expect(dotStuffed('x\r\n').toString('latin1')).toBe('x\r\n.\r\n');
  });

  it.each([true, false])('sends a message (server PIPELINING %s): multi-line EHLO read, AUTH PLAIN, final 250', async (pipelining) => {
    const fake = await fakeServer({ pipelining });
    const c = await SmtpConn.open({ port: fake.port, timeoutMs: 2000 });
    expect(c.greeting).toBe('220 fake ESMTP');
    await c.ehlo('client.example');
    expect(c.extensions.has('PIPELINING')).toBe(pipelining);
    expect(c.extensions.has('SIZE')).toBe(true);
    await c.authPlain('u', 'p');
    const final = await c.send({ from: 'a@x', to: 'b@x', data: dotStuffed('Subject: t\r\n\r\n.hidden\r\n') });
    expect(final).toBe('250 2.0.0 Ok: queued as ABC123');
    // A second message on the same session.
    await c.send({ from: 'a@x', to: 'b@x', data: dotStuffed('Subject: 2\r\n\r\nbody\r\n') });
    await c.quit();
    expect(c.closed).toBe(true);
    expect(fake.received()).toContain('MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nSubject: t\r\n\r\n..hidden\r\n.\r\n');
  });

  it('a refused step is an error naming it (pipelined replies all read first)', async () => {
    const fake = await fakeServer({ pipelining: true, rcptReply: '550 5.1.1 unknown user' });
    const c = await SmtpConn.open({ port: fake.port, timeoutMs: 2000 });
    await c.ehlo('client.example');
    await c.authPlain('u', 'p');
    await expect(c.send({ from: 'a@x', to: 'nobody@x', data: dotStuffed('x') })).rejects.toThrow(/^RCPT TO: 550 5\.1\.1 unknown user/);
    await expect(c.authPlain('u', 'wrong')).rejects.toThrow(/^AUTH PLAIN: 535/);
    c.close();
  });

  it('a server that closes mid-reply rejects the waiting reply', async () => {
    const server = net.createServer((sock) => sock.end('220-first line\r\n'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await expect(SmtpConn.open({ port: (server.address() as net.AddressInfo).port, timeoutMs: 2000 })).rejects.toThrow(/closed/);
  });
});
