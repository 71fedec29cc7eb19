import { hostname as osHostname } from 'node:os';
import type { SmtpBackendLogin } from '../../config/schema.js';
import { limits } from '../../core/limits.js';
import { startFrontEnd, type FrontEnd, type FrontEndSettings } from '../shared/front-end-server.js';
import { BackendExtensions } from './backend-extensions.js';
import { SmtpSession } from './smtp-session.js';
import { probeEhlo } from './upstream-login.js';

/** The shared front-end settings (the greeting names the host instead), plus SMTP's own. */
export interface SmtpServerOptions extends Omit<FrontEndSettings, 'greeting'> {
  /** How an application code logs in at Postfix: master login (AUTH PLAIN) or XCLIENT LOGIN. */
  backendLogin: SmtpBackendLogin;
  /** Name in the greeting, the EHLO reply and the probe's EHLO; default: the machine's host name. */
  hostname?: string;
  /** Deadline of one backend login; default limits.backendLoginMs (tests shorten it). */
  backendLoginMs?: number;
}

export type SmtpServer = FrontEnd;

/**
 * Starts the SMTP submission front end: one listener per configured address (587-style with
 * STARTTLS, 465-style implicit TLS), one SmtpSession per client, and the cached probe of the
 * backend's EHLO extensions they share.
 */
export function startSmtpServer(o: SmtpServerOptions): Promise<SmtpServer> {
  const hostname = o.hostname ?? osHostname();
  const backendLoginMs = o.backendLoginMs ?? limits.backendLoginMs;
  const probeMs = Math.min(limits.smtpProbeMs, backendLoginMs);
  const extensions = new BackendExtensions(() => probeEhlo(o.backend, hostname, probeMs), o.logger.child({ proto: 'smtp' }));
  return startFrontEnd({
    ...o,
    protocol: 'smtp',
    newSession: (settings) =>
      new SmtpSession({ ...settings, backendLogin: o.backendLogin, hostname, extensions: () => extensions.get(), backendLoginMs }),
  });
}
