import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { findDovecotBinary, instanceProcesses, type DovecotInstance } from './dovecot.js';

/*
 * A backend outage for tests that watch twostep notice it (/readyz): the test Dovecot goes down
 * (every process; its folder, config and ports kept) and comes back on the same ports. The
 * instance's own stop() still ends the revived one (it finds it by instance name).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pidsOf = (d: DovecotInstance): number[] => {
  let master: number[] = [];
  try {
    master = [Number(readFileSync(join(d.dir, 'run', 'master.pid'), 'utf8').trim())].filter((p) => p > 0);
  } catch {
    /* no pid file */
  }
  return [...new Set([...master, ...instanceProcesses(d.instanceName, d.confPath)])];
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to every process of the instance; resolves once they are gone. */
export async function takeDovecotDown(d: DovecotInstance, timeoutMs = 15_000): Promise<void> {
  const pids = pidsOf(d);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) || instanceProcesses(d.instanceName, d.confPath).length > 0) {
    if (Date.now() > deadline) throw new Error(`Dovecot ${d.instanceName} still running`);
    await sleep(20);
  }
}

/** Starts the instance again from its config (same ports); resolves on its first "* OK" greeting. */
export async function bringDovecotBack(d: DovecotInstance, timeoutMs = 15_000): Promise<void> {
  const bin = findDovecotBinary();
  if (!bin) throw new Error('no dovecot binary');
  const baseDir = join(d.dir, 'run');
  rmSync(baseDir, { recursive: true, force: true }); // stale sockets would stop the start
  mkdirSync(baseDir, { mode: 0o755 });
  const child = spawn(bin, ['-F', '-c', d.confPath], { stdio: 'ignore', detached: true, env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (!(await greets(d.imapPort))) {
    if (Date.now() > deadline) throw new Error(`Dovecot ${d.instanceName} did not come back`);
    await sleep(50);
  }
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('* OK')));
  });
}
