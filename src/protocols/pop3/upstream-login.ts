import type net from 'node:net';
import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import type { Logger } from '../../core/logger.js';
import { LineReader } from '../shared/line-reader.js';
import { encodeSaslPlain } from '../shared/sasl-plain.js';
import { connectUpstream, startUpstreamTls } from '../shared/upstream-connect.js';
import { withUpstreamDeadline, type UpstreamLoginParams } from '../shared/upstream-login-deadline.js';
import { readBackendReply } from './read-backend-reply.js';
import { ignoreError } from '../shared/ignore-error.js';

export type Pop3UpstreamLoginResult =
  | { ok: true; socket: net.Socket; leftover: Buffer }
  /**
   * The backend refused the login: `temporary` for -ERR [SYS/TEMP] (RFC 3206: try again later,
   * the credentials were not judged), else the credentials were wrong.
   */
  | { ok: false; temporary: boolean; text: string };

/**
 * Logs in to the backend POP3: connect, greeting, STLS when configured, XCLIENT with the client's
 * address (Dovecot honours it from login_trusted_networks; a refusal is logged, not fatal), AUTH
 * PLAIN with an initial response (RFC 5034). Network and protocol faults throw TwostepError
 * (BACKEND_UNAVAILABLE / BACKEND_PROTOCOL / TLS_FAILED); the socket is destroyed.
 */
export function pop3UpstreamLogin(p: UpstreamLoginParams & { log: Logger }): Promise<Pop3UpstreamLoginResult> {
  return withUpstreamDeadline(p.deadlineMs, (track, deadline) => exchange(p, track, deadline));
}

async function exchange(
  p: UpstreamLoginParams & { log: Logger },
  track: (s: net.Socket) => void,
  deadline: number,
): Promise<Pop3UpstreamLoginResult> {
  const remaining = (): number => Math.max(1, deadline - Date.now());
  let socket = await connectUpstream(p.backend, Math.min(limits.backendConnectMs, remaining()));
  track(socket);
  socket.on('error', ignoreError);
  let reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });

  const greeting = await readBackendReply(reader);
  if (greeting.kind !== 'ok') throw new TwostepError('BACKEND_PROTOCOL', `unexpected greeting: ${greeting.text.slice(0, 200)}`);
  const command = async (line: string) => {
    socket.write(`${line}\r\n`);
    return readBackendReply(reader);
  };

  if (p.backend.tls === 'starttls') {
    const reply = await command('STLS');
    if (reply.kind !== 'ok') throw new TwostepError('TLS_FAILED', 'backend refused STLS');
    reader.detach(); // nothing may follow the +OK in plaintext
    socket = await startUpstreamTls(socket, p.backend, remaining());
    track(socket);
    socket.on('error', ignoreError);
    reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });
  }

  const c = p.client;
  const xclient = await command(`XCLIENT ADDR=${c.ip} PORT=${c.port}`);
  if (xclient.kind === 'continuation') throw new TwostepError('BACKEND_PROTOCOL', 'unexpected continuation to XCLIENT');
  if (xclient.kind === 'err') {
    // The login still works; the backend logs twostep's address instead of the client's.
    p.log.warn({ event: LogEvent.backendXclientRefused, hint: 'put twostep in Dovecot login_trusted_networks' });
  }

  const cr = p.credentials;
  const ir =
    cr.kind === 'passthrough' ? encodeSaslPlain('', cr.user, cr.password) : encodeSaslPlain(cr.user, cr.masterUser, cr.masterPassword);
  const reply = await command(`AUTH PLAIN ${ir}`);
  if (reply.kind === 'continuation') {
    socket.write('*\r\n');
    throw new TwostepError('BACKEND_PROTOCOL', 'unexpected continuation during AUTH');
  }
  if (reply.kind === 'err') return { ok: false, temporary: reply.code === 'SYS/TEMP', text: reply.text };
  return { ok: true, socket, leftover: reader.detach() };
}
