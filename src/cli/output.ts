import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Where one CLI run reads and writes: the process's streams when `twostep` runs as a program, or
 * what a caller of runCli(argv, io) gives (the tests run the CLI in their own process this way).
 */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Read for a password when it is not a terminal (see read-password.ts). */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  stdin: process.stdin,
};

const current = new AsyncLocalStorage<CliIo>();

/**
 * Runs one CLI invocation with `io` as its streams (everything it awaits included). The process's
 * own streams need no store (cliIo falls back to them): `twostep serve` then runs without
 * AsyncLocalStorage turned on, whose hooks cost every promise and callback of every session.
 */
export function runWithIo<T>(io: CliIo, fn: () => T): T {
  if (io === processIo && current.getStore() === undefined) return fn();
  return current.run(io, fn);
}

/** The streams of the CLI run in progress (the process's outside one). */
export function cliIo(): CliIo {
  return current.getStore() ?? processIo;
}

/**
 * Writes a large chunk of output, waiting while the process's stdout buffer is full (a pipe to a
 * slow reader); a caller's io (runCli) takes it at once.
 */
export function writeOut(text: string): Promise<void> {
  const io = cliIo();
  if (io !== processIo) {
    io.out(text);
    return Promise.resolve();
  }
  return new Promise((resolve) => (process.stdout.write(text) ? resolve() : process.stdout.once('drain', resolve)));
}

/** Everything the CLI prints goes through here, so tests can capture it and --json stays stable. */
export interface Output {
  line(text?: string): void;
  json(value: unknown): void;
}

export const stdout: Output = {
  line(text = '') {
    cliIo().out(`${text}\n`);
  },
  json(value) {
    cliIo().out(`${JSON.stringify(value, null, 2)}\n`);
  },
};

/** A line on stderr as the CLI says it: "twostep: ...". */
export function sayError(text: string): void {
  cliIo().err(`twostep: ${text}\n`);
}

/** A warning on stderr, one line: "twostep: warning: ...". The command goes on. */
export function warn(text: string): void {
  sayError(`warning: ${text}`);
}

/** A fixed-width text table (header + rows), like `ls -l`: no colours, no box drawing. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}
