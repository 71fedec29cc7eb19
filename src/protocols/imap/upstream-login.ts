import type net from 'node:net';
import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { LineReader } from '../shared/line-reader.js';
import { encodeSaslPlain } from '../shared/sasl-plain.js';
import { connectUpstream, startUpstreamTls } from '../shared/upstream-connect.js';
import { withUpstreamDeadline, type UpstreamLoginParams } from '../shared/upstream-login-deadline.js';
import { capabilityCode, readBackendResponse } from './read-backend-response.js';
import { ignoreError } from '../shared/ignore-error.js';

export type UpstreamLoginResult =
  | { ok: true; socket: net.Socket; capabilities: string; leftover: Buffer }
  /** The backend refused the credentials (tagged NO/BAD to AUTHENTICATE); temporary for NO [UNAVAILABLE]. */
  | { ok: false; temporary: boolean; text: string };

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Logs in to the backend: connect, greeting, STARTTLS when configured, ID with the client's
 * address, AUTHENTICATE PLAIN (SASL-IR when offered), and the post-login capabilities (from the
 * OK's response code, else an explicit CAPABILITY). Network and protocol faults throw
 * TwostepError (BACKEND_UNAVAILABLE / BACKEND_PROTOCOL / TLS_FAILED); the socket is destroyed.
 */
export function upstreamLogin(p: UpstreamLoginParams): Promise<UpstreamLoginResult> {
  return withUpstreamDeadline(p.deadlineMs, (track, deadline) => exchange(p, track, deadline));
}

async function exchange(
  p: UpstreamLoginParams,
  track: (s: net.Socket) => void,
  deadline: number,
): Promise<UpstreamLoginResult> {
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const connectMs = Math.min(limits.backendConnectMs, remaining());
  let socket = await (p.backend.spares ? p.backend.spares.take(connectMs) : connectUpstream(p.backend, connectMs));
  track(socket);
  socket.on('error', ignoreError);
  let reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });
  let n = 0;
  const nextTag = (): string => `TS${++n}`;

  const greeting = (await reader.readLine()).toString('utf8');
  if (!/^\* OK\b/i.test(greeting)) throw new TwostepError('BACKEND_PROTOCOL', `unexpected greeting: ${greeting.slice(0, 200)}`);
  let caps = capabilityCode(greeting.slice(5));

  const command = async (line: string, onUntagged?: (l: string) => void) => {
    const tag = nextTag();
    socket.write(`${tag} ${line}\r\n`);
    return { tag, reply: await readBackendResponse(reader, tag, onUntagged) };
  };
  const capabilities = async (): Promise<string> => {
    let found = '';
    const { reply } = await command('CAPABILITY', (l) => {
      const m = /^\* CAPABILITY (.*)$/i.exec(l);
      if (m) found = (m[1] as string).trim();
    });
    if (reply.kind !== 'tagged' || reply.status !== 'OK' || !found) throw new TwostepError('BACKEND_PROTOCOL', 'CAPABILITY failed');
    return found;
  };

  if (p.backend.tls === 'starttls') {
    const { reply } = await command('STARTTLS');
    if (reply.kind !== 'tagged' || reply.status !== 'OK') throw new TwostepError('TLS_FAILED', 'backend refused STARTTLS');
    reader.detach(); // nothing may follow the OK in plaintext
    socket = await startUpstreamTls(socket, p.backend, remaining());
    track(socket);
    socket.on('error', ignoreError);
    reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });
    caps = null; // capabilities before TLS are not to be trusted (RFC 3501 §6.2.1)
  }
  caps ??= await capabilities();

  const c = p.client;
  const idTag = nextTag();
  const idLine = `${idTag} ID (${['x-originating-ip', c.ip, 'x-originating-port', String(c.port), 'x-connected-ip', c.localIp, 'x-connected-port', String(c.localPort)].map(quote).join(' ')})\r\n`;
  const cr = p.credentials;
  const ir =
    cr.kind === 'passthrough' ? encodeSaslPlain('', cr.user, cr.password) : encodeSaslPlain(cr.user, cr.masterUser, cr.masterPassword);
  const saslIr = caps.toUpperCase().split(/\s+/).includes('SASL-IR');
  const authTag = nextTag();
  // With SASL-IR the AUTHENTICATE is one line: it goes in the same write as the ID (the backend
  // runs pipelined commands in order, so it has the client's address before the login), which
  // saves a round trip per login. Without, it waits for the ID's answer and the continuation.
  socket.write(saslIr ? `${idLine}${authTag} AUTHENTICATE PLAIN ${ir}\r\n` : idLine);
  const id = await readBackendResponse(reader, idTag);
  if (id.kind !== 'tagged') throw new TwostepError('BACKEND_PROTOCOL', 'unexpected continuation to ID');
  if (!saslIr) socket.write(`${authTag} AUTHENTICATE PLAIN\r\n`);
  let reply = await readBackendResponse(reader, authTag);
  if (reply.kind === 'continuation' && !saslIr) {
    socket.write(`${ir}\r\n`);
    reply = await readBackendResponse(reader, authTag);
  }
  if (reply.kind === 'continuation') {
    socket.write('*\r\n');
    throw new TwostepError('BACKEND_PROTOCOL', 'unexpected continuation during AUTHENTICATE');
  }
  if (reply.status !== 'OK') return { ok: false, temporary: /^\[UNAVAILABLE\]/i.test(reply.text), text: reply.text };

  const postCaps = capabilityCode(reply.text) ?? (await capabilities());
  const leftover = reader.detach();
  return { ok: true, socket, capabilities: postCaps, leftover };
}
