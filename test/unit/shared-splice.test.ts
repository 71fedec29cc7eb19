import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startListener, type Listener } from '../../src/protocols/shared/listener.js';
import { splice } from '../../src/protocols/shared/splice.js';
import { connectReusingReadBuffer } from '../../src/protocols/shared/reused-read-buffer.js';
import { newConnectionId } from '../../src/protocols/shared/connection-id.js';
import { parseHostPort } from '../../src/core/host-port.js';

/** Two connected TCP socket pairs: [outer client, proxy's client side] and [proxy's backend side, outer backend]. */
async function pairs(): Promise<{ client: net.Socket; proxyClient: net.Socket; proxyBackend: net.Socket; backend: net.Socket; close(): void }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const connect = async (): Promise<[net.Socket, net.Socket]> => {
    const c = net.connect(port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    if (accepted.length === 0) await once(server, 'connection'); // after the client's connect, maybe
    return [c, accepted.shift() as net.Socket];
  };
  const [client, proxyClient] = await connect();
  const [proxyBackend, backend] = await connect();
  for (const s of [client, proxyClient, proxyBackend, backend]) s.on('error', () => {});
  return { client, proxyClient, proxyBackend, backend, close: () => server.close() };
}

const ended = (s: net.Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));

describe('splice goodbye (server shutdown)', () => {
  const BYE = Buffer.from('* BYE Server shutting down.\r\n');
  /** What the outer client received once the session ended, after the backend said `said` and the goodbye came `quietMs` later. */
  async function goodbyeAfter(said: string, quietMs: number): Promise<{ got: string; end: string }> {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const p = await pairs();
      const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 60_000, lingerMs: 1000 });
      let got = '';
      const arrived = new Promise<void>((r) => p.client.on('data', (d: Buffer) => ((got += d.toString()), got.length >= said.length && r())));
      p.backend.write(said);
      await arrived;
      vi.setSystemTime(Date.now() + quietMs);
      sp.goodbye(BYE);
      const stats = await sp.done;
      await ended(p.client);
      p.close();
      return { got, end: stats.end };
    } finally {
      vi.useRealTimers();
    }
  }

  it('says the goodbye when the backend is quiet at a line end', async () => {
    expect(await goodbyeAfter('+ idling\r\n', 1000)).toEqual({ got: '+ idling\r\n* BYE Server shutting down.\r\n', end: 'shutdown' });
  });

  it('just closes inside a response: a literal announced, or bytes that came a moment ago', async () => {
    expect(await goodbyeAfter('* 1 FETCH (BODY[] {10}\r\n', 1000)).toEqual({ got: '* 1 FETCH (BODY[] {10}\r\n', end: 'shutdown' });
    expect(await goodbyeAfter('* 1 FETCH (FLAGS (\\Seen))\r\n', 0)).toEqual({ got: '* 1 FETCH (FLAGS (\\Seen))\r\n', end: 'shutdown' });
    expect(await goodbyeAfter('* 1 FETCH (BODY[] {10}\r\nhalf', 1000)).toMatchObject({ got: '* 1 FETCH (BODY[] {10}\r\nhalf' });
  });
});

describe('splice goodbye when quiet (server shutdown)', () => {
  const BYE = Buffer.from('* BYE Server shutting down.\r\n');

  it('after a keepalive that came a moment ago, waits for the quiet moment and says the goodbye', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 60_000, lingerMs: 1000 });
    let got = '';
    p.client.on('data', (d: Buffer) => (got += d.toString()));
    const keepalive = '* OK Still here\r\n';
    const arrived = new Promise<void>((r) => p.client.on('data', () => got.length >= keepalive.length && r()));
    p.backend.write(keepalive);
    await arrived;
    sp.goodbyeWhenQuiet(BYE, 10_000);
    const stats = await sp.done;
    await ended(p.client);
    p.close();
    expect(got).toBe(`${keepalive}${BYE.toString()}`);
    expect(stats.end).toBe('shutdown');
  });

  it('a backend that never pauses: closed without a word once the wait is over', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 60_000, lingerMs: 1000 });
    let got = '';
    p.client.on('data', (d: Buffer) => (got += d.toString()));
    const first = new Promise<void>((r) => p.client.once('data', () => r()));
    const chatter = setInterval(() => p.backend.writable && p.backend.write('* 1 EXISTS\r\n'), 20);
    p.backend.on('error', () => {});
    p.backend.write('* 1 EXISTS\r\n');
    await first;
    sp.goodbyeWhenQuiet(BYE, 300);
    const stats = await sp.done;
    clearInterval(chatter);
    await ended(p.client);
    p.close();
    expect(got).not.toContain('BYE');
    expect(got).toMatch(/^(\* 1 EXISTS\r\n)+$/);
    expect(stats.end).toBe('shutdown');
  });
});

/** Resolves once `chunks` (filled by a 'data' listener on `socket`) hold at least n bytes. */
function bytesIn(socket: net.Socket, chunks: Buffer[], n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (Buffer.concat(chunks).length < n) return;
      socket.off('data', check);
      resolve();
    };
    socket.on('data', check);
    check();
  });
}

describe('splice', () => {
  it('copies both ways, counts bytes, and ends both sides when one ends', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 10_000, lingerMs: 1000 });
    const atBackend: Buffer[] = [];
    p.backend.on('data', (d: Buffer) => atBackend.push(d));
    const atClient: Buffer[] = [];
    p.client.on('data', (d: Buffer) => atClient.push(d));
    p.client.write('hello backend');
    p.backend.write('hello client!!');
    await Promise.all([bytesIn(p.backend, atBackend, 13), bytesIn(p.client, atClient, 14)]);
    p.client.end();
    const stats = await sp.done;
    await Promise.all([ended(p.client), ended(p.backend)]);
    expect(Buffer.concat(atBackend).toString()).toBe('hello backend');
    expect(Buffer.concat(atClient).toString()).toBe('hello client!!');
    expect(stats).toEqual({ upBytes: 13, downBytes: 14, end: expect.stringMatching(/closed$/) });
    p.close();
  });

  it('tears both sides down after the idle timeout', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 100, lingerMs: 1000 });
    const stats = await sp.done;
    expect(stats.end).toBe('idle');
    await Promise.all([ended(p.client), ended(p.backend)]);
    p.close();
  });

  it('destroy() ends both sides', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 10_000, lingerMs: 1000 });
    sp.destroy();
    expect((await sp.done).end).toBe('destroyed');
    p.close();
  });
});

describe('splice with a backend that reads into a reused buffer', () => {
  /** [proxy's backend side made by connectReusingReadBuffer, outer backend]. */
  async function reusedPair(): Promise<{ proxyBackend: net.Socket; backend: net.Socket; close(): void }> {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxyBackend = connectReusingReadBuffer({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    await new Promise((r) => proxyBackend.once('connect', r));
    if (accepted.length === 0) await once(server, 'connection'); // after the client's connect, maybe
    const backend = accepted[0] as net.Socket;
    for (const s of [proxyBackend, backend]) s.on('error', () => {});
    return { proxyBackend, backend, close: () => server.close() };
  }

  it('behaves as a normal socket before the splice, then copies 24 MiB byte-exact to a slow reader', async () => {
    const p = await pairs();
    const r = await reusedPair();
    // Before the splice: 'data' events with copies (what the backend login reads).
    const early: Buffer[] = [];
    const onEarly = (d: Buffer): void => void early.push(d);
    r.proxyBackend.on('data', onEarly);
    r.backend.write('* OK greeting\r\n');
    await bytesIn(r.proxyBackend, early, 15);
    expect(Buffer.concat(early).toString()).toBe('* OK greeting\r\n');
    r.proxyBackend.off('data', onEarly);
    r.proxyBackend.pause();

    const sp = splice(p.proxyClient, r.proxyBackend, { idleMs: 10_000, lingerMs: 1000 });
    const total = 24 * 1024 * 1024;
    const data = Buffer.alloc(total);
    for (let i = 0; i < total; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    const got = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((resolve) => {
      p.client.on('data', (d: Buffer) => {
        got.update(d);
        received += d.length;
        // A slow reader now and then: the proxy must stop reading, not overwrite held bytes.
        if (received % 7 === 0 || d.length > 30_000) {
          p.client.pause();
          setTimeout(() => p.client.resume(), 2);
        }
        if (received >= total) resolve();
      });
    });
    r.backend.write(data);
    await done;
    expect(received).toBe(total);
    expect(got.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    r.backend.end();
    const stats = await sp.done;
    expect(stats.downBytes).toBe(total);
    await ended(p.client);
    p.close();
    r.close();
  });
});

describe('listener and small helpers', () => {
  let listener: Listener | undefined;
  afterEach(async () => listener?.close());

  it('binds, counts connections, and close() destroys them', async () => {
    let accepted: () => void = () => {};
    const acceptedOne = new Promise<void>((resolve) => (accepted = resolve));
    listener = await startListener({
      address: { host: '127.0.0.1', port: 0 },
      onConnection: (socket) => {
        accepted();
        return { destroy: () => socket.destroy() };
      },
    });
    expect(listener.address.port).toBeGreaterThan(0);
    const c = net.connect(listener.address.port, '127.0.0.1');
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));
    await acceptedOne; // the server side, which may come after the client's connect
    expect(listener.connections()).toBe(1);
    await listener.close();
    await ended(c);
    expect(listener.connections()).toBe(0);
    listener = undefined;
  });

  it('parses host:port and makes distinct connection ids', () => {
    expect(parseHostPort('127.0.0.1:1143')).toEqual({ host: '127.0.0.1', port: 1143 });
    expect(parseHostPort('[::1]:993')).toEqual({ host: '::1', port: 993 });
    expect(() => parseHostPort('nope')).toThrow();
    const ids = new Set(Array.from({ length: 1000 }, newConnectionId));
    expect(ids.size).toBe(1000);
  });
});

describe('splice with last words (backendGone)', () => {
  const collect = (s: net.Socket): (() => string) => {
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    return () => Buffer.concat(got).toString();
  };

  it('tells the client when the backend closes, after everything the backend sent', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 10_000, lingerMs: 1000, backendGone: () => Buffer.from('421 gone\r\n') });
    const atClient = collect(p.client);
    p.backend.end('354 go ahead\r\n');
    const stats = await sp.done;
    await ended(p.client);
    expect(atClient()).toBe('354 go ahead\r\n421 gone\r\n');
    expect(stats.end).toBe('backend-closed');
    p.close();
  });

  it('tells the client when the backend connection is reset', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 10_000, lingerMs: 1000, backendGone: () => Buffer.from('421 gone\r\n') });
    const atClient = collect(p.client);
    p.backend.resetAndDestroy();
    const stats = await sp.done;
    await ended(p.client);
    expect(atClient()).toBe('421 gone\r\n');
    expect(stats.end).toMatch(/^backend-/);
    p.close();
  });

  it('says nothing when backendGone has no words, and nothing when the client left first', async () => {
    const p = await pairs();
    const sp = splice(p.proxyClient, p.proxyBackend, { idleMs: 10_000, lingerMs: 1000, backendGone: () => undefined });
    const atClient = collect(p.client);
    p.backend.end('221 bye\r\n');
    await sp.done;
    await ended(p.client);
    expect(atClient()).toBe('221 bye\r\n');
    const q = await pairs();
    let asked = 0;
    const sq = splice(q.proxyClient, q.proxyBackend, { idleMs: 10_000, lingerMs: 1000, backendGone: () => (asked++, Buffer.from('x')) });
    q.client.end();
    expect((await sq.done).end).toBe('client-closed');
    expect(asked).toBe(0);
    p.close();
    q.close();
  });
});
