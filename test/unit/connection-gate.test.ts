import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { limits } from '../../src/core/limits.js';
import { ConnectionGate, type Ticket } from '../../src/protocols/shared/connection-gate.js';
import { captureLogger } from '../helpers/capture-logger.js';

/** Stands in for an accepted socket: the gate only listens for its 'close'. */
const socket = () => new EventEmitter() as unknown as net.Socket;

function gate(maxConnections: number, maxPerIp: number, maxWaiting: number, clock?: () => number) {
  const { logger, lines } = captureLogger();
  return { g: new ConnectionGate({ maxConnections, maxPerIp, maxWaiting }, logger, clock), lines };
}

const sync = (t: Ticket | Promise<Ticket>): Ticket => {
  if (t instanceof Promise) throw new Error('expected an answer at once');
  return t;
};

const counts = (g: ConnectionGate) => Object.fromEntries([...g.counts()].map(([p, c]) => [p, { ...c }]));

afterEach(() => {
  vi.useRealTimers();
});

describe('ConnectionGate', () => {
  it('refuses the address over max_connections_per_ip until one of its clients logs in or leaves', () => {
    const { g, lines } = gate(100, 2, 10);
    const a = sync(g.enter('imap', '192.0.2.1', socket()));
    const b = sync(g.enter('pop3', '192.0.2.1', socket()));
    expect([a.admission, b.admission]).toEqual(['ok', 'ok']);
    expect(sync(g.enter('smtp', '192.0.2.1', socket())).admission).toBe('per-ip');
    expect(sync(g.enter('imap', '192.0.2.2', socket())).admission).toBe('ok'); // another address
    a.loggedIn(); // a logged-in session no longer counts against its address
    expect(sync(g.enter('imap', '192.0.2.1', socket())).admission).toBe('ok');
    expect(sync(g.enter('imap', '192.0.2.1', socket())).admission).toBe('per-ip');
    b.release();
    expect(sync(g.enter('imap', '192.0.2.1', socket())).admission).toBe('ok');
    const refusals = lines.filter((l) => l.event === 'connection.refused');
    expect(refusals).toHaveLength(1); // rate-limited: one line for both
    expect(refusals[0]).toMatchObject({ reason: 'per-ip', ip: '192.0.2.1', count: 1 });
  });

  it('counts open and logged-in connections per protocol; release is idempotent', () => {
    const { g } = gate(100, 100, 10);
    const a = sync(g.enter('imap', '192.0.2.1', socket()));
    const b = sync(g.enter('imap', '192.0.2.1', socket()));
    sync(g.enter('smtp', '192.0.2.1', socket()));
    a.loggedIn();
    a.loggedIn();
    expect(counts(g)).toEqual({ imap: { open: 2, loggedIn: 1, waiting: 0 }, smtp: { open: 1, loggedIn: 0, waiting: 0 } });
    a.release();
    a.release();
    b.release();
    expect(g.open).toBe(1);
    expect(counts(g).imap).toEqual({ open: 0, loggedIn: 0, waiting: 0 });
  });

  it('with max_connections open, a new client waits for a place, in order; past maxWaiting it hears "busy"', async () => {
    const { g, lines } = gate(2, 100, 2);
    const first = sync(g.enter('imap', '192.0.2.1', socket()));
    sync(g.enter('imap', '192.0.2.2', socket()));
    const w1 = g.enter('pop3', '192.0.2.3', socket());
    const w2 = g.enter('imap', '192.0.2.4', socket());
    expect(w1).toBeInstanceOf(Promise);
    expect(counts(g).pop3).toEqual({ open: 0, loggedIn: 0, waiting: 1 });
    expect(sync(g.enter('imap', '192.0.2.5', socket())).admission).toBe('busy');
    first.release();
    expect((await w1).admission).toBe('ok');
    expect(counts(g).pop3).toEqual({ open: 1, loggedIn: 0, waiting: 0 });
    g.setLimits({ maxConnections: 3, maxPerIp: 100, maxWaiting: 2 }); // a reload's larger limit lets the next in
    expect((await w2).admission).toBe('ok');
    expect(lines.filter((l) => l.event === 'connections.full')).toHaveLength(1);
    expect(lines.find((l) => l.event === 'connection.refused')).toMatchObject({ reason: 'busy' });
  });

  it('a waiting client that finds no place within connectionWaitMs hears "busy"; one that leaves frees its place in line', async () => {
    vi.useFakeTimers();
    const { g } = gate(1, 100, 5);
    sync(g.enter('imap', '192.0.2.1', socket()));
    const gone = socket();
    const leaving = g.enter('imap', '192.0.2.2', gone);
    const waiting = g.enter('imap', '192.0.2.3', socket());
    gone.emit('close');
    expect((await leaving).admission).toBe('busy');
    expect(counts(g).imap?.waiting).toBe(1);
    vi.advanceTimersByTime(limits.connectionWaitMs);
    expect((await waiting).admission).toBe('busy');
    expect(counts(g).imap).toEqual({ open: 1, loggedIn: 0, waiting: 0 });
  });

  it('after EMFILE new clients hear "busy" for fdExhaustedPauseMs, logged once with the count', () => {
    let now = 1_000_000;
    const { g, lines } = gate(100, 100, 10, () => now);
    const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
    g.outOfFiles(emfile, 'accept');
    g.outOfFiles(emfile, 'backend');
    expect(sync(g.enter('imap', '192.0.2.1', socket())).admission).toBe('busy');
    now += limits.fdExhaustedPauseMs;
    expect(sync(g.enter('imap', '192.0.2.1', socket())).admission).toBe('ok');
    const out = lines.filter((l) => l.event === 'files.exhausted');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ where: 'accept', errCode: 'EMFILE' });
    now += limits.limitLogEveryMs;
    g.outOfFiles(emfile, 'accept');
    expect(lines.filter((l) => l.event === 'files.exhausted').at(-1)).toMatchObject({ count: 2 }); // this one and the one held back
  });

  it('at shutdown, waiting clients and any accepted later are told "shutdown"', async () => {
    const { g } = gate(1, 100, 5);
    sync(g.enter('imap', '192.0.2.1', socket()));
    const waiting = g.enter('smtp', '192.0.2.2', socket());
    g.drain();
    expect((await waiting).admission).toBe('shutdown');
    expect(sync(g.enter('imap', '192.0.2.3', socket())).admission).toBe('shutdown');
    expect(counts(g).smtp?.waiting).toBe(0);
  });
});
