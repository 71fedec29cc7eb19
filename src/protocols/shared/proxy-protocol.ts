import { isIPv4, isIPv6, type Socket } from 'node:net';
import type { AddressList } from '../../core/address-list.js';
import { LogEvent } from '../../core/log-events.js';
import type { Logger } from '../../core/logger.js';

/** The two ends of a client connection as twostep uses them: the client's, and the address it connected to. */
export interface Peer {
  ip: string;
  port: number;
  localIp: string;
  localPort: number;
}

/** A parsed header: the client and destination it names, or 'local' (use the connection's own ends). */
export type ProxyHeader = Peer | 'local';

export type ProxyParse = { header: ProxyHeader; length: number } | 'incomplete' | { error: string };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line, CRLF included (the specification's figure). */
const V1_MAX = 107;

const port = (s: string | undefined): number | null => (s !== undefined && /^(0|[1-9]\d{0,4})$/.test(s) && Number(s) <= 65535 ? Number(s) : null);

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n');
  if (end < 0) return buf.length >= V1_MAX ? { error: 'v1 line too long' } : 'incomplete';
  if (end + 2 > V1_MAX) return { error: 'v1 line too long' };
  const f = buf.subarray(0, end).toString('latin1').split(' ');
  if (f[1] === 'UNKNOWN') return { header: 'local', length: end + 2 };
  const [, proto, src, dst, sport, dport] = f;
  const isFamily = proto === 'TCP4' ? isIPv4 : proto === 'TCP6' ? isIPv6 : null;
  const [p1, p2] = [port(sport), port(dport)];
  if (f.length !== 6 || !isFamily || !isFamily(src ?? '') || !isFamily(dst ?? '') || p1 === null || p2 === null) return { error: 'malformed v1 header' };
  return { header: { ip: src as string, port: p1, localIp: dst as string, localPort: p2 }, length: end + 2 };
}

/** 16 bytes as Node writes an IPv6 address (RFC 5952: the longest run of two or more zero groups as "::"). */
function ipv6(b: Buffer): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return g.join(':');
  const mapped = best.at === 0 && best.len === 5 && g[5] === 'ffff';
  if (mapped) return `::ffff:${[...b.subarray(12)].join('.')}`;
  return `${g.slice(0, best.at).join(':')}::${g.slice(best.at + best.len).join(':')}`;
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return 'incomplete';
  const verCmd = buf[12] as number;
  if (verCmd >> 4 !== 2 || (verCmd & 0x0f) > 1) return { error: 'unsupported v2 version or command' };
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return 'incomplete';
  if ((verCmd & 0x0f) === 0) return { header: 'local', length }; // LOCAL: the balancer's own (health) check
  const body = buf.subarray(16, length);
  const family = buf[13] as number;
  if (family === 0x11 && body.length >= 12) {
    const a = (o: number) => [...body.subarray(o, o + 4)].join('.');
    return { header: { ip: a(0), port: body.readUInt16BE(8), localIp: a(4), localPort: body.readUInt16BE(10) }, length };
  }
  if (family === 0x21 && body.length >= 36) {
    return { header: { ip: ipv6(body.subarray(0, 16)), port: body.readUInt16BE(32), localIp: ipv6(body.subarray(16, 32)), localPort: body.readUInt16BE(34) }, length };
  }
  if (family === 0x11 || family === 0x21) return { error: 'v2 address block too short' };
  return { header: 'local', length }; // UNSPEC, UDP, unix: the specification says to use the connection's ends
}

/** A PROXY protocol v1 or v2 header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  const sig = buf.subarray(0, Math.min(buf.length, 12));
  if (V2_SIGNATURE.subarray(0, sig.length).equals(sig)) return buf.length < 12 ? 'incomplete' : parseV2(buf);
  const pre = buf.subarray(0, Math.min(buf.length, V1_PREFIX.length));
  if (V1_PREFIX.subarray(0, pre.length).equals(pre)) return buf.length < V1_PREFIX.length ? 'incomplete' : parseV1(buf);
  return { error: 'no PROXY protocol header' };
}

/** The first bytes of a connection are a PROXY header (v1 "PROXY ", or v2's 12-byte signature). */
export function looksLikeProxyHeader(chunk: Buffer): boolean {
  return chunk.subarray(0, 6).equals(V1_PREFIX) || (chunk.length >= 12 && chunk.subarray(0, 12).equals(V2_SIGNATURE));
}

/** A socket's own ends (a direct client). */
export const ownEnds = (s: Socket): Peer => ({ ip: s.remoteAddress ?? '', port: s.remotePort ?? 0, localIp: s.localAddress ?? '', localPort: s.localPort ?? 0 });

export interface ProxyProtocolOptions {
  /** [server] proxy_protocol_from: the balancers. */
  from: AddressList;
  logger: Logger;
  /** limits.proxyHeaderMs and limits.proxyHeaderMaxBytes. */
  timeoutMs: number;
  maxBytes: number;
}

/**
 * The PROXY protocol at a listener, as nginx (listen … proxy_protocol) and Dovecot
 * (haproxy = yes) do it: a connection from a balancer ([server] proxy_protocol_from) must begin
 * with a v1 or v2 header, read before anything else (before TLS on an implicit-TLS port), and the
 * client it names is the connection's client from then on; no header within timeoutMs, a
 * malformed or oversized one: the connection is closed. A LOCAL (v2) or UNKNOWN (v1) header
 * keeps the balancer's own address (its health checks). A connection from anywhere else is a
 * client of its own: its address is the socket's, and one that starts with a header anyway is
 * closed (a client naming another address for itself).
 */
export class ProxyProtocolGate {
  readonly #o: ProxyProtocolOptions;

  constructor(o: ProxyProtocolOptions) {
    this.#o = o;
  }

  /**
   * Calls `next` with the connection's ends once they are known (at once for a direct client);
   * a refused connection is destroyed and `next` never called. Returns what ends the wait.
   */
  accept(socket: Socket, next: (peer: Peer) => { destroy(): void } | undefined): { destroy(): void } {
    const own = ownEnds(socket);
    if (!this.#o.from.has(own.ip)) {
      const session = next(own);
      socket.prependOnceListener('data', (chunk: Buffer) => {
        if (!looksLikeProxyHeader(chunk)) return;
        this.#o.logger.warn({ event: LogEvent.proxyUntrusted, ip: own.ip }, 'PROXY protocol header from an address not in proxy_protocol_from: closed');
        session?.destroy();
        socket.destroy();
      });
      return { destroy: () => socket.destroy() };
    }
    let buf = Buffer.alloc(0);
    let over = false;
    const finish = (result: ProxyHeader | { refused: string }, rest?: Buffer): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      if (typeof result === 'object' && 'refused' in result) {
        this.#o.logger.warn({ event: LogEvent.proxyRefused, ip: own.ip, why: result.refused }, 'connection from a balancer without a valid PROXY header: closed');
        socket.destroy();
        return;
      }
      if (rest?.length) socket.unshift(rest);
      // No 'readable' listener left: the socket is back to its initial mode, and the session's
      // reader (or the TLS handshake) takes the bytes that follow the header.
      next(result === 'local' ? own : result);
    };
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) buf = Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      if (r === 'incomplete') {
        if (buf.length > this.#o.maxBytes) finish({ refused: 'header too long' });
        return;
      }
      if ('error' in r) return finish({ refused: r.error });
      if (r.length > this.#o.maxBytes) return finish({ refused: 'header too long' });
      finish(r.header, buf.subarray(r.length));
    };
    const onEnd = (): void => finish({ refused: 'closed before the header' });
    const timer = setTimeout(() => finish({ refused: 'no header in time' }), this.#o.timeoutMs);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    return { destroy: () => finish({ refused: 'listener closed' }) };
  }
}
