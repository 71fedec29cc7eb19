import net, { type AddressInfo } from 'node:net';
import { parseHostPort } from '../core/host-port.js';
import { limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import { logSafeError } from '../core/log-safe-error.js';
import type { Authenticator } from '../policy/types.js';
import { LineReadError, LineReader } from '../protocols/shared/line-reader.js';
import type { PasswordPasses } from './password-check-passes.js';
import { listenUnixSocket, removeUnixSocket } from './unix-socket-file.js';
import { answerVerify } from './verify-decision.js';
import { parseVerifyLine, renderVerifyAnswer, type VerifyAnswer } from './verify-protocol.js';

export interface VerifyServerOptions {
  /** Unix socket path; '' for none. */
  socketPath: string;
  socketMode: number;
  socketGid?: number;
  /** Loopback "host:port"; '' for none. */
  listen: string;
  authenticator: Authenticator;
  logger: Logger;
  /** The portal's one-time passes for its own password checks, when it runs. */
  passes?: PasswordPasses;
  /**
   * false: close() leaves the socket file (a worker: the supervisor holds the listening socket
   * for every worker, and the file goes when the last one stops). Default true.
   */
  removeSocketFile?: boolean;
}

export interface RunningVerifyServer {
  /** The bound TCP address, when `listen` was set. */
  address?: AddressInfo;
  /** Live connections (one per Dovecot auth-worker). */
  connections(): number;
  /** Stops accepting, ends live connections, removes the socket file; resolves when closed. */
  close(): Promise<void>;
}

/**
 * The verify service `twostep serve` runs when [dovecot] is configured: Dovecot's Lua passdb
 * (config/dovecot/twostep-auth.lua) asks it about every password login (see verify-protocol.ts
 * for the format, verify-decision.ts for the answers). Each connection is served one request
 * at a time; a line over limits.verifyLineBytes, a malformed request or limits.verifyIdleMs of
 * silence ends it (after an ERROR line where there is something to say).
 */
export async function startVerifyServer(o: VerifyServerOptions): Promise<RunningVerifyServer> {
  const live = new Set<net.Socket>();
  const onConnection = (socket: net.Socket): void => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
    socket.on('error', () => {}); // a peer that went away; the session ends on 'close'
    serveConnection(socket, o).catch((err: unknown) => {
      o.logger.error({ event: 'verify.error', ...logSafeError(err) }, 'verify connection failed');
      socket.destroy();
    });
  };
  const servers: net.Server[] = [];
  const cleanups: (() => void)[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
    for (const s of live) s.destroy();
    live.clear();
    for (const c of cleanups.splice(0)) c();
  };
  let address: AddressInfo | undefined;
  try {
    if (o.socketPath !== '') {
      const server = net.createServer(onConnection);
      server.maxConnections = limits.verifyMaxConnections;
      const ino = await listenUnixSocket(server, o.socketPath, o.socketMode, o.socketGid);
      servers.push(server);
      if (o.removeSocketFile !== false) cleanups.push(() => removeUnixSocket(o.socketPath, ino));
    }
    if (o.listen !== '') {
      const server = net.createServer(onConnection);
      server.maxConnections = limits.verifyMaxConnections;
      const { host, port } = parseHostPort(o.listen);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      address = server.address() as AddressInfo;
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  const running: RunningVerifyServer = { connections: () => live.size, close: closeAll };
  if (address) running.address = address;
  return running;
}

async function serveConnection(socket: net.Socket, o: VerifyServerOptions): Promise<void> {
  const reader = new LineReader(socket, { maxLineBytes: limits.verifyLineBytes });
  socket.setTimeout(limits.verifyIdleMs, () => socket.destroy());
  for (;;) {
    let line: Buffer;
    try {
      line = await reader.readLine();
    } catch (err) {
      if (err instanceof LineReadError && err.reason === 'line-too-long') finish(socket, { kind: 'error', reason: 'line-too-long' });
      else socket.destroy();
      return;
    }
    const parsed = parseVerifyLine(line);
    if (!parsed.ok) {
      o.logger.warn({ event: 'verify.bad-request', reason: parsed.error }, 'verify: bad request');
      finish(socket, { kind: 'error', reason: parsed.error });
      return;
    }
    // Dovecot's worker waits for this answer; a peer that sends more meanwhile is not read
    // (nothing piles up in memory while the policy decides).
    reader.pause();
    const answer = await answerVerify(o.authenticator, parsed.req, o.logger, o.passes);
    if (socket.destroyed) return;
    socket.write(renderVerifyAnswer(answer));
    reader.resume();
  }
}

/** The last answer of a connection, then close (the peer gets the line before the FIN). */
function finish(socket: net.Socket, answer: VerifyAnswer): void {
  if (socket.destroyed) return;
  socket.end(renderVerifyAnswer(answer));
  setTimeout(() => socket.destroy(), limits.closeLingerMs).unref();
}
