import { execFile } from 'node:child_process';
import { limits } from '../core/limits.js';

export type CommandOutput = { ok: true; text: string } | { ok: false; missing: boolean; error: string };

/**
 * Runs doveconf / postconf (argv, no shell) and returns what it printed. `missing` when the
 * program is not installed (ENOENT), so doctor can tell "no Postfix here" from a broken one.
 */
export function runConfigCommand(cmd: string, args: string[]): Promise<CommandOutput> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        timeout: limits.doctorCommandMs,
        maxBuffer: limits.doctorOutputBytes,
        // doveconf and postconf live in sbin, which a non-root PATH may lack.
        env: { ...process.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin` },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ ok: true, text: stdout });
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        const why = missing ? 'not installed' : (stderr.trim().split('\n')[0] ?? '') || err.message;
        resolve({ ok: false, missing, error: `${cmd} ${args.join(' ')}: ${why.slice(0, 300)}` });
      },
    );
  });
}

/** `doveconf -n`, of the system's configuration or of `file`. */
export function readDoveconf(file?: string): Promise<CommandOutput> {
  return runConfigCommand('doveconf', file ? ['-c', file, '-n'] : ['-n']);
}

/** `postconf -n` and `postconf -M`, of the system's configuration or of the directory `dir`. */
export async function readPostconf(dir?: string): Promise<{ main: CommandOutput; master: CommandOutput }> {
  const c = dir ? ['-c', dir] : [];
  const [main, master] = await Promise.all([runConfigCommand('postconf', [...c, '-n']), runConfigCommand('postconf', [...c, '-M'])]);
  return { main, master };
}
