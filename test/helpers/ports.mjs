// Free loopback TCP ports for test servers (and the demo's --check run).
// Plain JS so that scripts/demo-backend.mjs can use it without a TypeScript step.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { isAlive } from './daemon-tools.mjs';

/**
 * Where to look: below the kernel's ephemeral range. Ports from that range (what binding port 0
 * hands out) are also what every outgoing connection takes as its local port, so with hundreds
 * of loopback connections in a test run such a port is often taken again before the server that
 * was meant to get it binds it (EADDRINUSE). Below the range only other listeners compete.
 */
function candidateRange() {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: keep the usual default */
  }
  const top = Math.min(low, 65536) - 1;
  const bottom = Math.max(10000, top - 20000);
  return top - bottom >= 1000 ? { bottom, top } : null;
}

const RANGE = candidateRange();

/** Resolves the port when host:port can be bound right now, else null. */
function tryBind(host, port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(null) : reject(err)));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(bound)));
    });
  });
}

/**
 * Ports handed out, machine-wide: a file per port naming the pid that holds it, created with
 * O_EXCL, so two processes (two test files, a bench beside a test run, the Dovecot harness) never
 * get the same port between its check and its bind, which slices alone only make rare. The files
 * go when the process exits; one left by a process that died is taken over (its pid is gone).
 * A fixed folder, not os.tmpdir(): the test run points TMPDIR at a folder of its own.
 */
const RESERVED = process.env.TWOSTEP_TEST_PORTS_DIR ?? '/tmp/twostep-test-ports';
const mine = new Set();
let cleanupSet = false;

/** True when this process now holds `port` (or the folder cannot be used: slices only, as before). */
function reserve(port) {
  const file = join(RESERVED, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (!cleanupSet) {
        mkdirSync(RESERVED, { recursive: true });
        cleanupSet = true;
        process.once('exit', () => {
          for (const p of mine) {
            try {
              unlinkSync(join(RESERVED, String(p)));
            } catch {
              /* already gone */
            }
          }
        });
      }
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      mine.add(port);
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') return err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'ENOENT';
      const holder = Number(readFileSafe(file));
      // Empty: its holder is between creating and writing it.
      if (!(holder > 0) || holder === process.pid || isAlive(holder)) return false;
      try {
        unlinkSync(file); // its holder died without cleaning up
      } catch {
        /* someone else took it over first */
      }
    }
  }
  return false;
}

/**
 * Removes the holds of processes that are gone, and the folder once empty. vitest ends its
 * workers without their 'exit' handlers, so the test run's global teardown calls this.
 */
export function sweepPortHolds() {
  let names = [];
  try {
    names = readdirSync(RESERVED);
  } catch {
    return;
  }
  for (const name of names) {
    const file = join(RESERVED, name);
    const holder = Number(readFileSafe(file));
    if (holder > 0 ? isAlive(holder) : justMade(file)) continue; // empty: being written, unless it is old
    try {
      unlinkSync(file);
    } catch {
      /* gone already */
    }
  }
  try {
    rmdirSync(RESERVED);
  } catch {
    /* not empty: a process still holds ports */
  }
}

function justMade(file) {
  try {
    return Date.now() - statSync(file).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

function readFileSafe(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Binds to check the port is free now, then holds it for this process. */
async function take(host, port) {
  const got = await tryBind(host, port);
  return got && reserve(got) ? got : null;
}

/** Ports per process slice: each process draws from its own slice first (see freePort). */
const SLICE = 250;
let next = -1;

/**
 * A TCP port that was free on 127.0.0.1 a moment ago, below the ephemeral range. Each process
 * (test worker, demo, Dovecot harness) counts through its own slice of that range, chosen by its
 * pid, so two processes rarely try the same port even when they pick many and bind them seconds
 * later (Dovecot and Postfix start in between); ports in use or held by another process (see
 * RESERVED) are skipped. A process that binds ports without this module may still take it.
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export async function freePort(host = '127.0.0.1') {
  if (RANGE) {
    const slices = Math.floor((RANGE.top - RANGE.bottom + 1) / SLICE);
    const start = RANGE.bottom + (process.pid % slices) * SLICE;
    if (next < 0) next = Math.floor(Math.random() * SLICE);
    for (let i = 0; i < SLICE; i++) {
      const port = start + (next++ % SLICE);
      const got = await take(host, port);
      if (got) return got;
    }
    for (let i = 0; i < 200; i++) {
      const got = await take(host, RANGE.bottom + Math.floor(Math.random() * (RANGE.top - RANGE.bottom + 1)));
      if (got) return got;
    }
  }
  const any = await take(host, 0);
  if (!any) throw new Error('no free port');
  return any;
}

/**
 * Several distinct free ports (distinct from each other; still racy against other processes).
 * @param {number} count
 * @param {string} [host]
 * @returns {Promise<number[]>}
 */
export async function freePorts(count, host = '127.0.0.1') {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
