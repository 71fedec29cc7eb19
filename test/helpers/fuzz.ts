import net from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { LogEvent } from '../../src/core/log-events.js';
import { createLogger, type Logger } from '../../src/core/logger.js';

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Protocol-shaped tokens, random bytes and long runs (for the line and total caps), from `tokens`. */
export function junk(rand: () => number, tokens: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + Math.floor(rand() * 25);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.7) parts.push(Buffer.from(tokens[Math.floor(rand() * tokens.length)] as string));
    else if (r < 0.9) parts.push(Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))));
    else parts.push(Buffer.alloc(Math.floor(rand() * 20_000), 0x41)); // long runs: line and total caps
    if (rand() < 0.4) parts.push(Buffer.from(rand() < 0.5 ? '\r\n' : ' '));
  }
  return Buffer.concat(parts);
}

/** Longest a probe waits for the server to close the connection: generous, for a busy machine. */
const PROBE_DEADLINE_MS = 20_000;

export interface ProbeResult {
  /** Everything the server said (latin1). */
  answer: string;
  /** The server closed the connection (false: still open at the deadline, a hang). */
  closed: boolean;
}

/**
 * Sends the bytes and half-closes (FIN), as a client that has nothing more to say; reads until
 * the server closes the connection, which it does once it has answered what it read. The end is
 * an event, not a silence: a slow server is waited for, a server that never closes is a failure.
 */
export function probe(port: number, payload: Buffer, deadlineMs = PROBE_DEADLINE_MS): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ answer, closed: false });
    }, deadlineMs);
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', () => {}); // a reset is a close too; what was said before it counts
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ answer, closed: true });
    });
    s.once('connect', () => s.end(payload));
  });
}

/** Runs `payloads` against the port, 16 at a time. */
export async function probeAll(port: number, payloads: Buffer[]): Promise<ProbeResult[]> {
  const answers: ProbeResult[] = [];
  for (let i = 0; i < payloads.length; i += 16) {
    answers.push(...(await Promise.all(payloads.slice(i, i + 16).map((p) => probe(port, p)))));
  }
  return answers;
}

/**
 * A logger for the server under test that counts its sessions' last lines (`close`) and keeps
 * its internal errors: the leak check waits for every session's close (an event), then asks the
 * server how many it still holds.
 */
export interface SessionLog {
  logger: Logger;
  /** Lines at level error or above (an internal error in a session). */
  errors: string[];
  /** Resolves with the count of closed sessions once it reaches n (or at the deadline, with less). */
  closes(n: number, deadlineMs?: number): Promise<number>;
}

export function sessionLog(): SessionLog {
  let closed = 0;
  const errors: string[] = [];
  const waiters = new Set<() => void>();
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) {
        if (!l) continue;
        const line = JSON.parse(l) as { event?: string; level?: number };
        if (line.event === LogEvent.close) closed++;
        if ((line.level ?? 0) >= 50) errors.push(l);
      }
      for (const w of waiters) w();
      done();
    },
  });
  return {
    logger: createLogger({ level: 'info', destination }),
    errors,
    closes: (n, deadlineMs = PROBE_DEADLINE_MS) =>
      new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          // The front end forgets a session just after its close line (its run() settles): one turn later.
          setImmediate(() => resolve(closed));
        };
        const check = () => {
          if (closed >= n) done();
        };
        const timer = setTimeout(done, deadlineMs);
        waiters.add(check);
        check();
      }),
  };
}

/**
 * Every input's answer: the server closed the connection, greeted first, and said only lines
 * matching `shaped`. Each assertion names the input (its index in the seeded sequence).
 */
export function expectShapedAnswers(answers: ProbeResult[], greeting: RegExp, shaped: RegExp): void {
  for (const [i, { answer, closed }] of answers.entries()) {
    expect(closed, `input #${i}: the server never closed; it said ${JSON.stringify(answer.slice(-200))}`).toBe(true);
    expect(answer, `input #${i}`).toMatch(greeting);
    for (const line of answer.split('\r\n').filter(Boolean)) expect(line, `input #${i}: ${JSON.stringify(line)}`).toMatch(shaped);
  }
}

/** No session left behind: each of `sessions` logged its close, the server holds none, none failed inside. */
export async function expectNoSessionLeft(server: { connections(): number }, log: SessionLog, sessions: number): Promise<void> {
  expect(await log.closes(sessions), 'sessions that logged their close').toBe(sessions);
  expect(server.connections()).toBe(0);
  expect(log.errors).toEqual([]);
}
