import type { BackendTarget } from '../config/runtime-config.js';
import { TwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import { LineReader } from '../protocols/shared/line-reader.js';
import { connectUpstream } from '../protocols/shared/upstream-connect.js';

/** What each backend says first when it is up, and how a client leaves before login. */
const GREETINGS = {
  imap: { ok: /^\* OK\b/, bye: 'r LOGOUT\r\n' },
  pop3: { ok: /^\+OK\b/, bye: 'QUIT\r\n' },
  smtp: { ok: /^220[ -]/, bye: 'QUIT\r\n' },
} as const;

export type GreetedProtocol = keyof typeof GREETINGS;

/**
 * The backend answers: a connection (TLS when backend_tls = "tls") and its greeting within
 * `deadlineMs`, then the protocol's goodbye. No login: /readyz asks often, and the start-up
 * checks proved the master login already. Throws a TwostepError naming what failed.
 */
export async function probeGreeting(protocol: GreetedProtocol, target: BackendTarget, deadlineMs: number): Promise<void> {
  const words = GREETINGS[protocol];
  const socket = await connectUpstream(target, deadlineMs);
  socket.on('error', () => {});
  const reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });
  let timer: NodeJS.Timeout | undefined;
  try {
    const line = await Promise.race([
      reader.readLine(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TwostepError('BACKEND_UNAVAILABLE', 'no greeting in time')), deadlineMs);
      }),
    ]);
    const text = line.toString('latin1');
    if (!words.ok.test(text)) throw new TwostepError('BACKEND_UNAVAILABLE', `greeting: ${text.slice(0, 120)}`);
  } finally {
    clearTimeout(timer);
    reader.detach();
    socket.resume();
    socket.end(words.bye);
    setTimeout(() => socket.destroy(), limits.closeLingerMs).unref();
  }
}
