import type tls from 'node:tls';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator } from '../../policy/types.js';
import { startFrontEnd, type FrontEnd } from '../shared/front-end-server.js';
import type { SessionRegistry } from '../shared/session-registry.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import { Pop3Session } from './pop3-session.js';

export interface Pop3ServerOptions {
  authenticator: Authenticator;
  logger: Logger;
  /** "host:port" for plaintext + STLS, or '' / undefined for off. */
  listen?: string;
  /** "host:port" for implicit TLS (995-style), or '' / undefined for off. */
  listenTls?: string;
  backend: UpstreamTarget;
  master: { user: string; password: Secret };
  secureContext: tls.SecureContext;
  allowPlaintext: boolean;
  greeting?: string;
  /** Sessions signed in with an application code register here (see revocation-watcher.ts). */
  registry?: SessionRegistry;
}

export type Pop3Server = FrontEnd;

/** Starts the POP3 front end: one listener per configured address, one Pop3Session per client. */
export function startPop3Server(o: Pop3ServerOptions): Promise<Pop3Server> {
  return startFrontEnd({
    protocol: 'pop3',
    logger: o.logger,
    listen: o.listen,
    listenTls: o.listenTls,
    secureContext: o.secureContext,
    newSession: (socket, { cid, tls }) =>
      new Pop3Session({
        socket,
        cid,
        tls,
        authenticator: o.authenticator,
        logger: o.logger,
        backend: o.backend,
        master: o.master,
        secureContext: o.secureContext,
        allowPlaintext: o.allowPlaintext,
        greeting: o.greeting,
        registry: o.registry,
      }),
  });
}
