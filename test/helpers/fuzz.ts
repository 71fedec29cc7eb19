import net from 'node:net';
import { expect } from 'vitest';
import { LogEvent } from '../../src/core/log-events.js';
import { eventLines, type CapturedLog } from './capture-logger.js';

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

/**
 * No session left behind: each of `sessions` logged its close (the server's logger is a
 * captureLogger), the server holds none, and none logged an internal error.
 */
export async function expectNoSessionLeft(server: { connections(): number }, log: CapturedLog, sessions: number): Promise<void> {
  await log.until((lines) => eventLines(lines, LogEvent.close).length >= sessions, PROBE_DEADLINE_MS);
  expect(eventLines(log.lines, LogEvent.close).length, 'sessions that logged their close').toBe(sessions);
  // The front end forgets a session just after its close line (its run() settles): one turn later.
  await new Promise((resolve) => setImmediate(resolve));
  expect(server.connections()).toBe(0);
  expect(log.lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
}
