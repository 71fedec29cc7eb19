import net from 'node:net';
import { Duplex } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { connectReusingReadBuffer } from '../../src/protocols/shared/reused-read-buffer.js';
import { splice, type Splice } from '../../src/protocols/shared/splice.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * A client side whose writes take their bytes a little later (as a TCP socket's write does when
 * the kernel did not take them all at once: libuv keeps the buffer and sends from it later), so
 * the splice sees each chunk still pending: the case where a read buffer is held.
 */
class SlowClient extends Duplex {
  text = '';
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    setTimeout(() => {
      this.text += chunk.toString('latin1');
      cb();
    }, 2);
  }
}

interface Session {
  client: SlowClient;
  backend: net.Socket;
  spliced: Splice;
}

const servers: net.Server[] = [];
const open: Session[] = [];
/** Ends every session and waits until both sides are closed. */
async function closeAll(): Promise<void> {
  const done = open.splice(0).map((s) => {
    s.spliced.destroy();
    s.backend.destroy();
    return s.spliced.done;
  });
  await Promise.all(done);
  for (const s of servers.splice(0)) s.close();
}
afterEach(closeAll);

/** n spliced sessions: SlowClient <-> a connectReusingReadBuffer socket <-> an outer backend socket. */
async function sessions(n: number): Promise<Session[]> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const out: Session[] = [];
  for (let i = 0; i < n; i++) {
    const proxyBackend = connectReusingReadBuffer({ host: '127.0.0.1', port });
    await new Promise((r) => proxyBackend.once('connect', r));
    while (accepted.length === 0) await new Promise((r) => setTimeout(r, 2));
    const backend = accepted.shift() as net.Socket;
    for (const s of [proxyBackend, backend]) s.on('error', () => {});
    const client = new SlowClient();
    const s = { client, backend, spliced: splice(client, proxyBackend, { idleMs: 60_000, lingerMs: 1000 }) };
    out.push(s);
    open.push(s);
  }
  return out;
}

/** Waits until every session's client got at least as many bytes as text(i) has (or 10 s passed). */
const arrived = async (s: Session[], text: (i: number) => string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!s.every((x, i) => x.client.text.length >= text(i).length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
};

describe('backend connections reading small messages', () => {
  it('hold no read buffer of their own while idle', async () => {
    const n = 64;
    // Once first, so that what a first session allocates for good (pools, the shared buffer) is not counted.
    const first = await sessions(2);
    first.forEach((x, i) => x.backend.write(`* OK warm ${i}\r\n`));
    await arrived(first, (i) => `* OK warm ${i}\r\n`);
    await closeAll();
    gc();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const s = await sessions(n);
    s.forEach((x, i) => x.backend.write(`* OK idling ${i}\r\n`));
    await arrived(s, (i) => `* OK idling ${i}\r\n`);
    expect(s.map((x) => x.client.text)).toEqual(s.map((_, i) => `* OK idling ${i}\r\n`));
    await new Promise((r) => setTimeout(r, 20)); // the pending writes complete
    gc();
    gc();
    const perSession = (process.memoryUsage().arrayBuffers - before) / n;
    // A read buffer of its own would be limits.spliceReadSmallBytes (2 KiB) per session.
    expect(perSession).toBeLessThan(512);
  });

  it('share one read buffer: every session gets exactly its own bytes, in order, while writes are still pending', async () => {
    const s = await sessions(16);
    const expected = s.map(() => '');
    // Interleaved small messages from every backend, many rounds: reads of different sessions
    // follow each other on the event loop while earlier chunks are still being written.
    for (let round = 0; round < 40; round++) {
      s.forEach((x, i) => {
        const line = `* ${round} EXISTS session ${i} ${'x'.repeat((round * 37 + i * 11) % 300)}\r\n`;
        expected[i] += line;
        x.backend.write(line);
      });
      await new Promise((r) => setImmediate(r)); // the next round is read while earlier writes are pending
    }
    await arrived(s, (i) => expected[i] as string);
    expect(s.map((x) => x.client.text)).toEqual(expected);
  });

});
