import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressList } from '../../src/core/address-list.js';
import { startListener, type Listener } from '../../src/protocols/shared/listener.js';
import { parseProxyHeader, ProxyProtocolGate, type Peer } from '../../src/protocols/shared/proxy-protocol.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { makeTestCert } from '../helpers/tls.js';

const v2 = (cmd: number, family: number, body: Buffer): Buffer => {
  const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20 | cmd, family, 0, 0]);
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
};
const v2Tcp4 = (src: string, sport: number, dst: string, dport: number, tlvs = Buffer.alloc(0)) => {
  const b = Buffer.alloc(12);
  src.split('.').forEach((x, i) => b.writeUInt8(Number(x), i));
  dst.split('.').forEach((x, i) => b.writeUInt8(Number(x), 4 + i));
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return v2(1, 0x11, Buffer.concat([b, tlvs]));
};

describe('parseProxyHeader', () => {
  it('reads v1 TCP4, TCP6 and UNKNOWN lines', () => {
    const line = 'PROXY TCP4 203.0.113.7 192.0.2.1 51234 993\r\n';
    expect(parseProxyHeader(Buffer.from(`${line}a001 CAPABILITY\r\n`))).toEqual({
      header: { ip: '203.0.113.7', port: 51234, localIp: '192.0.2.1', localPort: 993 },
      length: line.length,
    });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 143\r\n'))).toMatchObject({ header: { ip: '2001:db8::7', localPort: 143 } });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ header: 'local', length: 15 });
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7'))).toBe('incomplete');
    expect(parseProxyHeader(Buffer.from('PRO'))).toBe('incomplete');
  });

  it('refuses malformed v1 lines', () => {
    for (const bad of [
      'PROXY TCP4 203.0.113.7 192.0.2.1 51234\r\n',
      'PROXY TCP4 2001:db8::7 192.0.2.1 1 2\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 65536 993\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 0993 993\r\n',
      'PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n',
      `PROXY TCP4 ${'1'.repeat(120)}\r\n`,
      'a001 LOGIN alice secret\r\n',
    ]) {
      expect(parseProxyHeader(Buffer.from(bad)), bad).toHaveProperty('error');
    }
    expect(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`))).toHaveProperty('error'); // no CRLF within 107 bytes
  });

  it('reads v2 PROXY (IPv4 with TLVs, IPv6) and LOCAL', () => {
    const h = v2Tcp4('198.51.100.4', 40000, '192.0.2.1', 143, Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]));
    expect(parseProxyHeader(Buffer.concat([h, Buffer.from('rest')]))).toEqual({
      header: { ip: '198.51.100.4', port: 40000, localIp: '192.0.2.1', localPort: 143 },
      length: h.length,
    });
    const six = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000007', 'hex').copy(six, 0);
    Buffer.from('00000000000000000000ffffc0000201', 'hex').copy(six, 16);
    six.writeUInt16BE(5555, 32);
    six.writeUInt16BE(993, 34);
    expect(parseProxyHeader(v2(1, 0x21, six))).toMatchObject({ header: { ip: '2001:db8::7', port: 5555, localIp: '::ffff:192.0.2.1', localPort: 993 } });
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).toEqual({ header: 'local', length: 16 });
    expect(parseProxyHeader(h.subarray(0, 20))).toBe('incomplete');
    expect(parseProxyHeader(v2(1, 0x11, Buffer.alloc(4)))).toHaveProperty('error');
    const badVersion = v2(1, 0x11, Buffer.alloc(12));
    badVersion[12] = 0x11;
    expect(parseProxyHeader(badVersion)).toHaveProperty('error');
  });
});

describe('a listener with [server] proxy_protocol_from', () => {
  const listeners: Listener[] = [];
  afterEach(async () => {
    for (const l of listeners.splice(0)) await l.close();
  });

  /** A listener that greets each session with the client address it was given. */
  async function listen(from: string[], o: { timeoutMs?: number; tlsContext?: tls.SecureContext } = {}) {
    const { logger, lines } = captureLogger();
    const peers: Peer[] = [];
    const l = await startListener({
      address: { host: '127.0.0.1', port: 0 },
      proxyProtocol: new ProxyProtocolGate({ from: new AddressList(from), logger, timeoutMs: o.timeoutMs ?? 5_000, maxBytes: 1_024 }),
      ...(o.tlsContext ? { implicitTls: { secureContext: o.tlsContext, handshakeMs: 5_000 } } : {}),
      onConnection: (socket, info) => {
        peers.push(info.peer);
        socket.write(`* OK ${info.peer.ip}:${info.peer.port}\r\n`);
        socket.on('data', (d) => socket.write(`echo ${d.toString()}`));
        return { destroy: () => socket.destroy() };
      },
    });
    listeners.push(l);
    return { port: l.address.port, peers, lines };
  }

  /** Connects (from `localAddress`), sends `first`, and collects what comes back until the server closes or `until` matches. */
  function talk(port: number, first: Buffer | string, o: { localAddress?: string; until?: RegExp } = {}): Promise<{ text: string; closed: boolean }> {
    return new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1', ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
      let text = '';
      s.on('connect', () => s.write(first));
      s.on('data', (d: Buffer) => {
        text += d.toString();
        if (o.until?.test(text)) {
          s.destroy();
          resolve({ text, closed: false });
        }
      });
      s.on('error', () => {});
      s.on('close', () => resolve({ text, closed: true }));
    });
  }

  it('a balancer: the v1 or v2 header names the client; what follows it reaches the session', async () => {
    const { port, peers } = await listen(['127.0.0.1']);
    const r1 = await talk(port, 'PROXY TCP4 203.0.113.7 192.0.2.1 51234 143\r\nhello\r\n', { until: /echo hello/ });
    expect(r1.text).toBe('* OK 203.0.113.7:51234\r\necho hello\r\n');
    const r2 = await talk(port, Buffer.concat([v2Tcp4('198.51.100.4', 40000, '192.0.2.1', 143), Buffer.from('x\r\n')]), { until: /echo x/ });
    expect(r2.text).toMatch(/^\* OK 198\.51\.100\.4:40000\r\n/);
    const r3 = await talk(port, 'PROXY UNKNOWN\r\n', { until: /\* OK/ });
    expect(r3.text).toMatch(/^\* OK 127\.0\.0\.1:\d+/); // its own health check: the balancer's address
    expect(peers.map((p) => p.localPort)).toEqual([143, 143, port]);
  });

  it('a balancer without a valid header is closed, unheard', async () => {
    const { port, peers, lines } = await listen(['127.0.0.0/8'], { timeoutMs: 300 });
    expect(await talk(port, 'a001 LOGIN alice secret\r\n')).toEqual({ text: '', closed: true });
    expect(await talk(port, 'PROXY TCP4 203.0.113.7 192.0.2.1 51234\r\n')).toEqual({ text: '', closed: true });
    expect(await talk(port, '')).toEqual({ text: '', closed: true }); // nothing in time
    expect(peers).toEqual([]);
    expect(lines.filter((l) => l.event === 'proxy.refused').map((l) => l.why)).toEqual(['no PROXY protocol header', 'malformed v1 header', 'no header in time']);
  });

  it('a client from elsewhere keeps its own address, and one sending a header is closed', async () => {
    const { port, peers, lines } = await listen(['192.0.2.10', '2001:db8::/32']);
    const honest = await talk(port, 'hello\r\n', { until: /echo hello/ });
    expect(honest.text).toMatch(/^\* OK 127\.0\.0\.1:\d+\r\necho hello\r\n$/);
    const spoof = await talk(port, 'PROXY TCP4 203.0.113.7 192.0.2.1 51234 143\r\n');
    expect(spoof.closed).toBe(true);
    expect(spoof.text).not.toContain('echo');
    expect(peers.every((p) => p.ip === '127.0.0.1')).toBe(true);
    expect(lines.filter((l) => l.event === 'proxy.untrusted')).toHaveLength(1);
  });

  it('implicit TLS behind a balancer: the header comes before the handshake', async () => {
    const cert = makeTestCert(mkdtempSync(join(tmpdir(), 'twostep-proxy-tls-')));
    const { port } = await listen(['127.0.0.1'], { tlsContext: tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem }) });
    const text = await new Promise<string>((resolve, reject) => {
      const raw = net.connect({ port, host: '127.0.0.1' }, () => {
        raw.write('PROXY TCP6 2001:db8::7 2001:db8::1 4000 993\r\n');
        const s = tls.connect({ socket: raw, rejectUnauthorized: false }, () => s.write('ping\r\n'));
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('echo ping')) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
      });
    });
    expect(text).toBe('* OK 2001:db8::7:4000\r\necho ping\r\n');
  });
});
