import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import type { BackendTls } from '../../config/schema.js';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator } from '../../policy/types.js';
import { newConnectionId } from '../shared/connection-id.js';
import { startListener, type Listener } from '../shared/listener.js';
import type { SessionRegistry } from '../shared/session-registry.js';
import { UpstreamSpares } from '../shared/upstream-spares.js';
import { ImapSession } from './imap-session.js';

export interface ImapServerOptions {
  authenticator: Authenticator;
  logger: Logger;
  /** "host:port" for plaintext + STARTTLS, or '' / undefined for off. */
  listen?: string;
  /** "host:port" for implicit TLS, or '' / undefined for off. */
  listenTls?: string;
  backend: { host: string; port: number; tls: BackendTls; ca?: Buffer; servername?: string };
  master: { user: string; password: Secret };
  secureContext: tls.SecureContext;
  allowPlaintext: boolean;
  greeting?: string;
  /** Sessions signed in with an application code register here (see revocation-watcher.ts). */
  registry?: SessionRegistry;
}

export interface ImapServer {
  plain?: AddressInfo;
  tls?: AddressInfo;
  /** Stops accepting and ends every live session (proxied ones too). */
  close(): Promise<void>;
  /** Live client connections (pre-auth and proxied). */
  connections(): number;
}

/** Starts the IMAP front end: one listener per configured address, one ImapSession per client. */
export async function startImapServer(o: ImapServerOptions): Promise<ImapServer> {
  const log = o.logger.child({ proto: 'imap' });
  const sessions = new Set<ImapSession>();
  const listeners: Listener[] = [];
  const spares = new UpstreamSpares(o.backend);
  const backend = { ...o.backend, spares };

  const open = async (address: string, implicitTls: boolean): Promise<Listener> => {
    const listener = await startListener({
      address,
      implicitTls: implicitTls ? { secureContext: o.secureContext, handshakeMs: limits.tlsHandshakeMs } : undefined,
      onHandshakeError: (err, remote) => log.debug({ event: 'tls-failed', ip: remote.ip, err: err.message }),
      onConnection: (socket, info) => {
        const session = new ImapSession({
          socket,
          cid: newConnectionId(),
          tls: info.tls,
          authenticator: o.authenticator,
          logger: o.logger,
          backend,
          master: o.master,
          secureContext: o.secureContext,
          allowPlaintext: o.allowPlaintext,
          greeting: o.greeting,
          registry: o.registry,
        });
        sessions.add(session);
        void session.run().finally(() => sessions.delete(session));
        return session;
      },
    });
    listeners.push(listener);
    log.info({ event: 'listening', address: `${listener.address.address}:${listener.address.port}`, tls: implicitTls });
    return listener;
  };

  try {
    const plain = o.listen ? await open(o.listen, false) : undefined;
    const secure = o.listenTls ? await open(o.listenTls, true) : undefined;
    return {
      plain: plain?.address,
      tls: secure?.address,
      connections: () => sessions.size,
      close: async () => {
        spares.close();
        await Promise.all(listeners.map((l) => l.close()));
        for (const s of [...sessions]) s.destroy();
      },
    };
  } catch (err) {
    spares.close();
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
}
