import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LineReader } from '../../src/protocols/shared/line-reader.js';
import { UpstreamSpares } from '../../src/protocols/shared/upstream-spares.js';
import { freePort } from '../helpers/ports.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

const until = async (cond: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A backend that greets each connection with its number. */
async function greeter(): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    accepted.push(s);
    s.on('error', () => {});
    s.write(`* OK greeting ${accepted.length}\r\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

describe('UpstreamSpares: backend connections opened ahead of logins', () => {
  it('keeps `size` ready; a taken one still has its greeting; a replacement is opened at once', async () => {
    const b = await greeter();
    const spares = new UpstreamSpares({ host: '127.0.0.1', port: b.port, tls: 'none' }, 2);
    cleanup.push(() => spares.close());
    await until(() => spares.ready === 2);
    await new Promise((r) => setTimeout(r, 30)); // greetings have arrived and wait in the sockets
    const socket = await spares.take(1000);
    const line = (await new LineReader(socket, { maxLineBytes: 100 }).readLine()).toString();
    expect(line).toMatch(/^\* OK greeting [12]$/);
    await until(() => spares.ready === 2 && b.accepted.length === 3);
    socket.destroy();
  });

  it('drops a spare the backend closed; the next take() connects anew and refills', async () => {
    const b = await greeter();
    const spares = new UpstreamSpares({ host: '127.0.0.1', port: b.port, tls: 'none' }, 1);
    cleanup.push(() => spares.close());
    await until(() => spares.ready === 1);
    b.accepted[0]?.destroy();
    await until(() => spares.ready === 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.accepted).toHaveLength(1); // not replaced while nobody logs in
    const line = (await new LineReader(await spares.take(1000), { maxLineBytes: 100 }).readLine()).toString();
    expect(line).toMatch(/^\* OK greeting [23]$/);
    await until(() => spares.ready === 1 && b.accepted.length === 3);
  });

  it('with the backend down, take() fails like a plain connect and nothing is kept', async () => {
    const port = await freePort();
    const spares = new UpstreamSpares({ host: '127.0.0.1', port, tls: 'none' }, 2);
    cleanup.push(() => spares.close());
    await expect(spares.take(500)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await new Promise((r) => setTimeout(r, 100));
    expect(spares.ready).toBe(0);
  });

  it('close() ends the ready spares', async () => {
    const b = await greeter();
    const spares = new UpstreamSpares({ host: '127.0.0.1', port: b.port, tls: 'none' }, 2);
    await until(() => spares.ready === 2);
    spares.close();
    expect(spares.ready).toBe(0);
    await until(() => b.accepted.every((s) => s.closed || s.readableEnded));
  });
});
