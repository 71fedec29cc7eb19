import type tls from 'node:tls';
import type { BackendTls } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator } from '../../policy/types.js';
import { startFrontEnd, type FrontEnd } from '../shared/front-end-server.js';
import type { SessionRegistry } from '../shared/session-registry.js';
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

export type ImapServer = FrontEnd;

/** Starts the IMAP front end: one listener per configured address, one ImapSession per client. */
export function startImapServer(o: ImapServerOptions): Promise<ImapServer> {
  return startFrontEnd({
    protocol: 'imap',
    logger: o.logger,
    listen: o.listen,
    listenTls: o.listenTls,
    secureContext: o.secureContext,
    newSession: (socket, { cid, tls }) =>
      new ImapSession({
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
