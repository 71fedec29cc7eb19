// Process helpers for the benchmark: RSS from /proc, children of a pid, stop by pid.
import fs from 'node:fs';

/** VmRSS of one process in KiB (0 when it is gone). */
export function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Direct children of pid (from /proc/N/stat). */
export function childPids(pid) {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === pid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Soft and hard "Max open files" of a process. */
export function fdLimits(pid = process.pid) {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? { soft: m[1], hard: m[2] } : null;
  } catch {
    return null;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM a child process, wait up to graceMs for it to exit, then SIGKILL.
 * @param {import('node:child_process').ChildProcess} proc
 */
export async function stopChild(proc, graceMs = 5000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = await Promise.race([exited.then(() => 'exit'), sleep(graceMs).then(() => 'timeout')]);
  if (t === 'timeout') {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await Promise.race([exited, sleep(graceMs)]);
  }
}

/** Clock ticks per second of /proc/N/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/**
 * CPU ms used so far by `pid` and everything it forked: its own user+system time, the time of
 * its children it has reaped (cutime+cstime), and that of its live children. Differences of two
 * readings count a child that lived in between whether or not it has exited since.
 */
export function treeCpuMs(pid) {
  const times = (p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
      return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      return 0;
    }
  };
  let ticks = times(pid);
  for (const c of childPids(pid)) ticks += times(c);
  return (ticks * 1000) / TICKS_PER_S;
}
