import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli as runInProcess } from '../../src/cli/run-cli.js';

export const BIN = fileURLToPath(new URL('../../bin/twostep', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a CLI command in this process (runCli of src/cli/run-cli.ts) with its output captured, as
 * an admin would type it: the same program, parser and exit codes, without a Node start-up per
 * command. `stdin` is what the command reads when it reads standard input (a password).
 * Commands that must be a process of their own (serve, exit codes of bin/twostep, the
 * environment) use runCliProcess.
 */
export async function runCli(args: string[], o: { stdin?: string } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runInProcess(args, {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    stdin: Readable.from(o.stdin === undefined ? [] : [Buffer.from(o.stdin)]),
  });
  return { code, stdout, stderr };
}

/** Run the built CLI (`node bin/twostep`) as a program. Needs `npm run build` first (npm test does it). */
export function runCliProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServeProcess {
  child: ChildProcess;
  /** Everything the server logged so far (JSON lines on stderr). */
  log(): string;
  /** The log once a line matches `re` (log lines cross a pipe: they may trail the client's answer). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Start `twostep serve` and wait for its "ready" log line (every listener is bound by then).
 * `prefix` runs it under another command, e.g. ['prlimit', '--nofile=256:256'].
 */
export async function startServe(configPath: string, timeoutMs = 15_000, prefix: string[] = []): Promise<ServeProcess> {
  const argv = [...prefix, process.execPath, BIN, '--config', configPath, 'serve'];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`twostep serve did not start:\n${log}`)), timeoutMs);
    const check = () => {
      if (/"event":"ready"/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`twostep serve exited with ${code}:\n${log}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    log: () => log,
    waitForLog(re, timeoutMs = 15_000) {
      return new Promise((resolve) => {
        if (re.test(log)) return resolve(log);
        // Runs after the listener that appends to `log` (registered at spawn).
        const check = () => {
          if (re.test(log)) done();
        };
        const done = () => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
          child.off('exit', done);
          resolve(log);
        };
        const timer = setTimeout(done, timeoutMs);
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        child.once('exit', done);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
