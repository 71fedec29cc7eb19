// A private PostgreSQL 15 for tests and the bench (Debian's `postgresql` package): initdb in a
// temp folder, the postmaster started on a free loopback port and a unix socket in that folder,
// stopped by its pid. As root it runs as the `postgres` user (PostgreSQL refuses root).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { isAlive, lookupId, makeParentsTraversable, forgetOnExit, sleep, stopOnExit } from './daemon-tools.mjs';
import { freePort } from './ports.mjs';

/** The folder of initdb and postgres: Debian's newest major version, or those on PATH. */
export function findPostgresBin() {
  const root = '/usr/lib/postgresql';
  try {
    const versions = fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (fs.existsSync(path.join(root, v, 'bin', 'initdb'))) return path.join(root, v, 'bin');
  } catch {
    /* not Debian's layout */
  }
  return null;
}

const USER = 'twostep';

/**
 * @param {{ port?: number }} [opts]
 */
export async function startPostgres(opts = {}) {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL not installed (apt-get install postgresql)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-pg-'));
  makeParentsTraversable(dir);
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  fs.mkdirSync(data, { mode: 0o700 });
  fs.mkdirSync(socketDir, { mode: 0o755 });
  /** @type {{ uid?: number, gid?: number }} */
  const as = {};
  if (process.getuid?.() === 0) {
    as.uid = lookupId('/etc/passwd', 'postgres', 'the postgresql package creates it');
    as.gid = lookupId('/etc/group', 'postgres', 'the postgresql package creates it');
    for (const d of [data, socketDir]) fs.chownSync(d, as.uid, as.gid);
  }
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
    ...as,
    cwd: dir,
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = opts.port ?? (await freePort());
  const logPath = path.join(socketDir, 'postgres.log');
  let child;
  const start = async () => {
    const log = fs.openSync(logPath, 'a');
    fs.chmodSync(logPath, 0o666);
    // fsync off: test data need not survive a power cut, and a busy disk must not slow the tests
    // (commits still reach the WAL before they return, so a killed postgres loses nothing).
    const args = ['-D', data, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
      '-c', 'full_page_writes=off', '-c', 'max_connections=200', '-c', 'log_min_messages=warning'];
    child = spawn(path.join(bin, 'postgres'), args, { ...as, cwd: dir, stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    child.unref();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const c = new pg.Client({ host: socketDir, port, user: USER, database: 'postgres' });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => {});
      }
      if (!isAlive(child.pid) || Date.now() > deadline) throw new Error(`postgres did not start: ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
      await sleep(50);
    }
  };
  const stop = async (signal = 'SIGINT') => {
    const pid = child?.pid;
    if (!pid || !isAlive(pid)) return;
    process.kill(pid, signal); // SIGINT: fast shutdown (clients disconnected); SIGKILL: a crash
    const deadline = Date.now() + 15_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(25);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(25);
    if (signal === 'SIGKILL') {
      // Its backends outlive a killed postmaster for a moment; the next start waits for them.
      const stale = path.join(data, 'postmaster.pid');
      for (let i = 0; i < 200 && fs.existsSync(stale); i++) await sleep(25);
    }
  };
  const handle = { emergencyStop: () => child?.pid && isAlive(child.pid) && process.kill(child.pid, 'SIGKILL') };
  await start();
  stopOnExit(handle);
  let dbs = 0;
  const inst = {
    dir,
    port,
    socketDir,
    get pid() {
      return child.pid;
    },
    /** URL of database `db` over TCP. */
    url: (db = 'postgres') => `postgres://${USER}@127.0.0.1:${port}/${db}`,
    /** URL of database `db` over the unix socket. */
    socketUrl: (db = 'postgres') => `postgresql://${USER}@/${db}?host=${encodeURIComponent(socketDir)}&port=${port}`,
    /** A new empty database; its URL. */
    async createDatabase(name = `t${process.pid}_${++dbs}`) {
      const c = new pg.Client({ host: socketDir, port, user: USER, database: 'postgres' });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return inst.url(name);
    },
    /** The postmaster stopped (SIGINT = fast shutdown; SIGKILL = a crash), data kept. */
    halt: (signal) => stop(signal),
    /** Started again on the same port with the same data. */
    restart: () => start(),
    log: () => fs.readFileSync(logPath, 'utf8'),
    async stop() {
      await stop();
      forgetOnExit(handle);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return inst;
}
