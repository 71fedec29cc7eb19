import type net from 'node:net';
import { TwostepError, isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { Secret } from '../../core/secret.js';
import type { UpstreamTarget } from './upstream-connect.js';

export type UpstreamCredentials =
  /** The client's own user name and password, judged by the backend. */
  | { kind: 'passthrough'; user: string; password: Secret }
  /** The master login with `user` as authorization identity; never the user's password. */
  | { kind: 'master'; user: string; masterUser: string; masterPassword: Secret };

export interface UpstreamLoginParams {
  backend: UpstreamTarget;
  credentials: UpstreamCredentials;
  /** The real client, forwarded to the backend (IMAP ID x-originating-*, POP3 and SMTP XCLIENT). */
  client: { ip: string; port: number; localIp: string; localPort: number };
  deadlineMs?: number;
}

/**
 * Runs one backend login exchange within its deadline (limits.backendLoginMs by default). The
 * exchange reports each socket it opens through `track`; on a timeout, a fault or a refusal
 * (`ok: false`) that socket is destroyed. Faults come out as TwostepError: a timeout or a
 * closed connection is BACKEND_UNAVAILABLE, the exchange's own codes pass through.
 */
export async function withUpstreamDeadline<R extends { ok: boolean }>(
  deadlineMs: number | undefined,
  exchange: (track: (s: net.Socket) => void, deadline: number) => Promise<R>,
): Promise<R> {
  const ms = deadlineMs ?? limits.backendLoginMs;
  let socket: net.Socket | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket?.destroy();
  }, ms);
  try {
    const result = await exchange((s) => (socket = s), Date.now() + ms);
    if (!result.ok) socket?.destroy();
    return result;
  } catch (err) {
    socket?.destroy();
    if (timedOut) throw new TwostepError('BACKEND_UNAVAILABLE', 'backend login timed out', { cause: err });
    if (isTwostepError(err)) {
      if (err.code === 'BAD_STATE') throw new TwostepError('BACKEND_UNAVAILABLE', 'backend closed the connection', { cause: err });
      throw err;
    }
    throw new TwostepError('BACKEND_UNAVAILABLE', 'backend login failed', { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
