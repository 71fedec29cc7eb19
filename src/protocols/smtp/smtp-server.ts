import type { AddressInfo } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type tls from 'node:tls';
import type { SmtpBackendLogin } from '../../config/schema.js';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator } from '../../policy/types.js';
import { newConnectionId } from '../shared/connection-id.js';
import { startListener, type Listener } from '../shared/listener.js';
import type { SessionRegistry } from '../shared/session-registry.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import { BackendExtensions } from './backend-extensions.js';
import { SmtpSession } from './smtp-session.js';
import { probeEhlo } from './upstream-login.js';

export interface SmtpServerOptions {
  authenticator: Authenticator;
  logger: Logger;
  /** "host:port" for submission with STARTTLS (587-style), or '' / undefined for off. */
  listen?: string;
  /** "host:port" for implicit TLS (465-style), or '' / undefined for off. */
  listenTls?: string;
  backend: UpstreamTarget;
  /** How an application code logs in at Postfix: master login (AUTH PLAIN) or XCLIENT LOGIN. */
  backendLogin: SmtpBackendLogin;
  master: { user: string; password: Secret };
  secureContext: tls.SecureContext;
  allowPlaintext: boolean;
  /** Name in the greeting, the EHLO reply and the probe's EHLO; default: the machine's host name. */
  hostname?: string;
  /** Sessions signed in with an application code register here (see revocation-watcher.ts). */
  registry?: SessionRegistry;
  /** Deadline of one backend login; default limits.backendLoginMs (tests shorten it). */
  backendLoginMs?: number;
}

export interface SmtpServer {
  plain?: AddressInfo;
  tls?: AddressInfo;
  /** Stops accepting and ends every live session (proxied ones too). */
  close(): Promise<void>;
  /** Live client connections (pre-auth and proxied). */
  connections(): number;
}

/** Starts the SMTP submission front end: one listener per configured address, one SmtpSession per client. */
export async function startSmtpServer(o: SmtpServerOptions): Promise<SmtpServer> {
  const log = o.logger.child({ proto: 'smtp' });
  const sessions = new Set<SmtpSession>();
  const listeners: Listener[] = [];
  const hostname = o.hostname ?? osHostname();
  const backendLoginMs = o.backendLoginMs ?? limits.backendLoginMs;
  const probeMs = Math.min(limits.smtpProbeMs, backendLoginMs);
  const extensions = new BackendExtensions(() => probeEhlo(o.backend, hostname, probeMs), log);

  const open = async (address: string, implicitTls: boolean): Promise<Listener> => {
    const listener = await startListener({
      address,
      implicitTls: implicitTls ? { secureContext: o.secureContext, handshakeMs: limits.tlsHandshakeMs } : undefined,
      onHandshakeError: (err, remote) => log.debug({ event: 'tls-failed', ip: remote.ip, err: err.message }),
      onConnection: (socket, info) => {
        const session = new SmtpSession({
          socket,
          cid: newConnectionId(),
          tls: info.tls,
          authenticator: o.authenticator,
          logger: o.logger,
          backend: o.backend,
          backendLogin: o.backendLogin,
          master: o.master,
          secureContext: o.secureContext,
          allowPlaintext: o.allowPlaintext,
          hostname,
          extensions: () => extensions.get(),
          backendLoginMs,
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
        await Promise.all(listeners.map((l) => l.close()));
        for (const s of [...sessions]) s.destroy();
      },
    };
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
}
