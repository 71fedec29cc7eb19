import { startFrontEnd, type FrontEnd, type FrontEndSettings } from '../shared/front-end-server.js';
import { ImapSession } from './imap-session.js';

export type ImapServerOptions = FrontEndSettings;
export type ImapServer = FrontEnd;

/** Starts the IMAP front end: one listener per configured address, one ImapSession per client. */
export function startImapServer(o: ImapServerOptions): Promise<ImapServer> {
  return startFrontEnd({ ...o, protocol: 'imap', newSession: (settings) => new ImapSession(settings) });
}
