import { readFileSync } from 'node:fs';
import { TwostepError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { cliIo } from './output.js';

/** First line of a file (trailing newline dropped), as for [backend] master_password_file. */
function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of cliIo().stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal without echoing what is typed. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { stdin, err } = cliIo();
    err(question);
    let value = '';
    stdin.setRawMode?.(true);
    stdin.resume();
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new TwostepError('INVALID_INPUT', 'cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      err('\n');
    };
    stdin.on('data', onData);
  });
}

/**
 * A password for a CLI command, never from argv (visible in `ps`): --password-file FILE, else
 * standard input when it is not a terminal (first line), else a prompt typed twice.
 */
export async function readNewPassword(opts: { passwordFile?: string }): Promise<Secret> {
  if (opts.passwordFile !== undefined) {
    try {
      return new Secret(firstLine(readFileSync(opts.passwordFile, 'utf8')));
    } catch (err) {
      throw new TwostepError('INVALID_INPUT', `cannot read ${opts.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (!cliIo().stdin.isTTY) return new Secret(firstLine(await readStdin()));
  const a = await prompt('Password: ');
  const b = await prompt('Password again: ');
  if (a !== b) throw new TwostepError('INVALID_INPUT', 'the two passwords differ');
  return new Secret(a);
}
