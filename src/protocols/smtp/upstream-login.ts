import type net from 'node:net';
import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { LineReader } from '../shared/line-reader.js';
import { encodeSaslPlain } from '../shared/sasl-plain.js';
import { connectUpstream, startUpstreamTls, type UpstreamTarget } from '../shared/upstream-connect.js';
import { withUpstreamDeadline, type UpstreamCredentials, type UpstreamLoginParams } from '../shared/upstream-login-deadline.js';
import { extensionMap } from './ehlo-extensions.js';
import { readSmtpReply, replyText, type SmtpReply } from './read-smtp-reply.js';
import { xclientAddr, xtext } from './xtext.js';

export type SmtpUpstreamCredentials =
  /** Passthrough (AUTH PLAIN relayed) or the Dovecot master login (AUTH PLAIN, user as authorization identity). */
  | UpstreamCredentials
  /** XCLIENT LOGIN=user: Postfix trusts twostep (smtpd_authorized_xclient_hosts); no password at all. */
  | { kind: 'xclient'; user: string };

/** The shared login parameters (the client goes out as XCLIENT ADDR/PORT when offered), plus SMTP's own. */
export interface SmtpUpstreamLoginParams extends Omit<UpstreamLoginParams, 'credentials'> {
  credentials: SmtpUpstreamCredentials;
  /** The client's EHLO name: every EHLO to the backend says it, so Received: names the client's host. */
  helo: string;
}

export type UpstreamLoginResult =
  | { ok: true; socket: net.Socket; leftover: Buffer }
  /** The backend refused the credentials (5xx to AUTH; never temporary: 4xx throws); its reply for the log. */
  | { ok: false; temporary: false; detail: string };

interface BackendConversation {
  socket: net.Socket;
  reader: LineReader;
  /** Sends one command line, returns the reply. */
  command(line: string): Promise<SmtpReply>;
}

/**
 * Logs in to the backend as the client: connect, greeting, EHLO, STARTTLS + EHLO when
 * configured (TLS before anything that matters), then XCLIENT (LOGIN=user for the xclient login;
 * ADDR/PORT whenever the backend offers XCLIENT, so Postfix sees and logs the real client) with
 * its new greeting and a fresh EHLO, then AUTH PLAIN for passthrough and master logins. The
 * session is left right after authentication, in the state the client expects after its AUTH.
 * Network and protocol faults throw TwostepError (BACKEND_UNAVAILABLE / BACKEND_PROTOCOL /
 * TLS_FAILED); the socket is destroyed.
 */
export function upstreamLogin(p: SmtpUpstreamLoginParams): Promise<UpstreamLoginResult> {
  return withUpstreamDeadline(p.deadlineMs, async (track, deadline) => {
    const conv = await openConversation(p.backend, p.helo, track, deadline);
    let ehlo = conv.ehlo;
    const ext = extensionMap(ehlo.lines);
    const cr = p.credentials;
    const xclient = ext.get('XCLIENT');
    if (cr.kind === 'xclient' && !xclient?.includes('LOGIN')) {
      throw new TwostepError('BACKEND_PROTOCOL', 'backend does not offer XCLIENT LOGIN: list twostep in smtpd_authorized_xclient_hosts');
    }
    if (xclient) {
      // LOGIN first, in the same command as ADDR: after ADDR Postfix re-checks XCLIENT rights
      // against the new address, which usually loses them.
      const attrs: string[] = [];
      if (cr.kind === 'xclient') attrs.push(`LOGIN=${xtext(cr.user)}`);
      if (xclient.includes('ADDR')) attrs.push(`ADDR=${xtext(xclientAddr(p.client.ip))}`);
      if (xclient.includes('PORT')) attrs.push(`PORT=${p.client.port}`);
      if (attrs.length) {
        const r = await conv.c.command(`XCLIENT ${attrs.join(' ')}`);
        if (r.code !== 220) throw new TwostepError('BACKEND_PROTOCOL', `XCLIENT refused: ${replyText(r)}`);
        ehlo = await conv.c.command(`EHLO ${p.helo}`);
        if (ehlo.code !== 250) throw new TwostepError('BACKEND_PROTOCOL', `EHLO after XCLIENT refused: ${replyText(ehlo)}`);
      }
    }
    if (cr.kind !== 'xclient') {
      const auth = extensionMap(ehlo.lines).get('AUTH');
      if (!auth?.includes('PLAIN')) throw new TwostepError('BACKEND_PROTOCOL', 'backend does not offer AUTH PLAIN');
      const ir = cr.kind === 'passthrough' ? encodeSaslPlain('', cr.user, cr.password) : encodeSaslPlain(cr.user, cr.masterUser, cr.masterPassword);
      const r = await conv.c.command(`AUTH PLAIN ${ir}`);
      if (r.code === 334) {
        conv.c.socket.write('*\r\n');
        throw new TwostepError('BACKEND_PROTOCOL', 'unexpected continuation to AUTH PLAIN with an initial response');
      }
      if (r.code >= 500) {
        conv.c.socket.destroy();
        return { ok: false, temporary: false, detail: replyText(r) };
      }
      if (r.code !== 235) throw new TwostepError('BACKEND_UNAVAILABLE', `AUTH failed temporarily: ${replyText(r)}`);
    }
    return { ok: true, socket: conv.c.socket, leftover: conv.c.reader.detach() };
  });
}

/**
 * The backend's EHLO reply lines (first line = its host name), from a short probe connection:
 * connect, greeting, EHLO (after STARTTLS when configured), QUIT.
 */
export async function probeEhlo(backend: UpstreamTarget, helo: string, deadlineMs: number = limits.backendLoginMs): Promise<string[]> {
  const probe = await withUpstreamDeadline(deadlineMs, async (track, deadline) => {
    const conv = await openConversation(backend, helo, track, deadline);
    const socket = conv.c.socket;
    conv.c.reader.detach();
    socket.resume(); // read and drop the 221, so the backend's close is seen
    socket.end('QUIT\r\n');
    setTimeout(() => socket.destroy(), limits.closeLingerMs).unref();
    return { ok: true, lines: conv.ehlo.lines };
  });
  return probe.lines;
}

/** Connect, greeting (220), EHLO, and STARTTLS + EHLO again when the backend is 'starttls'. */
async function openConversation(
  backend: UpstreamTarget,
  helo: string,
  track: (s: net.Socket) => void,
  deadline: number,
): Promise<{ c: BackendConversation; ehlo: SmtpReply }> {
  const remaining = (): number => Math.max(1, deadline - Date.now());
  let socket = await connectUpstream(backend, Math.min(limits.backendConnectMs, remaining()));
  track(socket);
  socket.on('error', () => {});
  const c: BackendConversation = {
    socket,
    reader: new LineReader(socket, { maxLineBytes: limits.backendLineBytes }),
    command: async (line) => {
      c.socket.write(`${line}\r\n`);
      return readSmtpReply(c.reader);
    },
  };
  const greeting = await readSmtpReply(c.reader);
  if (greeting.code !== 220) throw new TwostepError('BACKEND_UNAVAILABLE', `backend greeting: ${replyText(greeting)}`);
  let ehlo = await c.command(`EHLO ${helo}`);
  if (ehlo.code !== 250) throw new TwostepError('BACKEND_PROTOCOL', `EHLO refused: ${replyText(ehlo)}`);
  if (backend.tls === 'starttls') {
    const r = await c.command('STARTTLS');
    if (r.code !== 220) throw new TwostepError('TLS_FAILED', `backend refused STARTTLS: ${replyText(r)}`);
    c.reader.detach(); // nothing may follow the 220 in plaintext
    socket = await startUpstreamTls(socket, backend, remaining());
    track(socket);
    socket.on('error', () => {});
    c.socket = socket;
    c.reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });
    // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
    ehlo = await c.command(`EHLO ${helo}`);
    if (ehlo.code !== 250) throw new TwostepError('BACKEND_PROTOCOL', `EHLO after STARTTLS refused: ${replyText(ehlo)}`);
  }
  return { c, ehlo };
}
