import { execFile } from 'node:child_process';
import { RawImapClient } from './raw-imap-client.js';
import { connectTestSocket, SocketText } from './socket-text.js';

/**
 * One password login on each kind of door, as a mail client makes it, reduced to its outcome:
 * 'ok', 'fail' (refused) or 'tempfail' (temporary failure, "try again later"), with the
 * server's answer for the assertion message. `localAddress` (e.g. 127.0.0.2) makes the
 * client's address differ from twostep's own.
 */
export type Outcome = 'ok' | 'fail' | 'tempfail';
export interface LoginResult {
  outcome: Outcome;
  answer: string;
}
export interface DoorTarget {
  port: number;
  tls?: boolean;
  localAddress?: string;
}

const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** IMAP LOGIN (after an ID naming the client, as Thunderbird sends it). */
export async function imapLogin(t: DoorTarget, user: string, pass: string, clientName = 'DoorTest'): Promise<LoginResult> {
  const c = await RawImapClient.connect(t);
  try {
    await c.greeting();
    await c.command(`ID ("name" ${quote(clientName)} "version" "1.0")`);
    const answer = await c.command(`LOGIN ${quote(user)} ${quote(pass)}`);
    const line = answer.split('\r\n').pop() ?? '';
    return { outcome: / OK /.test(line) ? 'ok' : /\[UNAVAILABLE\]/.test(line) ? 'tempfail' : 'fail', answer: line };
  } finally {
    c.close();
  }
}

/** POP3 USER / PASS. */
export async function pop3Login(t: DoorTarget, user: string, pass: string): Promise<LoginResult> {
  const text = new SocketText(await connectTestSocket(t), 'utf8');
  try {
    await text.until(/^\+OK/);
    text.socket.write(`USER ${user}\r\n`);
    await text.until(/^[+-]/);
    text.socket.write(`PASS ${pass}\r\n`);
    const answer = await text.until(/^[+-]/);
    return { outcome: answer.startsWith('+OK') ? 'ok' : /\[SYS\/TEMP\]|\[IN-USE\]/.test(answer) ? 'tempfail' : 'fail', answer };
  } finally {
    text.socket.destroy();
  }
}

/** ManageSieve AUTHENTICATE "PLAIN" (RFC 5804), the way sieve-connect and Roundcube log in. */
export async function sieveLogin(t: DoorTarget, user: string, pass: string): Promise<LoginResult> {
  const text = new SocketText(await connectTestSocket(t), 'utf8');
  try {
    await text.until(/^OK/);
    const plain = Buffer.from(`\0${user}\0${pass}`).toString('base64');
    text.socket.write(`AUTHENTICATE "PLAIN" "${plain}"\r\n`);
    const answer = await text.until(/^(OK|NO|BYE)/);
    return { outcome: answer.startsWith('OK') ? 'ok' : /\(TRYLATER\)|Temporary/i.test(answer) ? 'tempfail' : 'fail', answer };
  } finally {
    text.socket.destroy();
  }
}

/**
 * SMTP AUTH PLAIN with Debian's swaks, over implicit TLS when `tls`, else STARTTLS; quits
 * after AUTH. 235 ok, 454 tempfail, anything else fail.
 */
export function smtpLogin(t: DoorTarget, user: string, pass: string): Promise<LoginResult> {
  const args = ['--server', `127.0.0.1:${t.port}`, t.tls ? '--tlsc' : '--tls', '--auth', 'PLAIN', '--auth-user', user, '--auth-password', pass];
  args.push('--from', `${user}@test.example`, '--to', `${user}@test.example`, '--quit-after', 'AUTH', '--timeout', '30');
  if (t.localAddress) args.push('--local-interface', t.localAddress);
  return new Promise((resolve, reject) => {
    execFile('swaks', args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err?.code === 'ENOENT') return reject(new Error('swaks is not installed: apt-get install swaks (as .ci/run does)'));
      const out = stdout + stderr;
      const answer = /^<~?\*? *(2\d\d|4\d\d|5\d\d) .*$/m.exec(out.split(/^ ~?> AUTH /m)[1] ?? '')?.[0] ?? out.slice(-300);
      const code = /(\d{3})/.exec(answer)?.[1];
      resolve({ outcome: code === '235' ? 'ok' : code?.startsWith('4') ? 'tempfail' : 'fail', answer });
    });
  });
}
