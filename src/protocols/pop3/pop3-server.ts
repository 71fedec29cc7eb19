import { startFrontEnd, type FrontEnd, type FrontEndSettings } from '../shared/front-end-server.js';
import { Pop3Session } from './pop3-session.js';

export type Pop3ServerOptions = FrontEndSettings;
export type Pop3Server = FrontEnd;

/** Starts the POP3 front end: one listener per configured address, one Pop3Session per client. */
export function startPop3Server(o: Pop3ServerOptions): Promise<Pop3Server> {
  return startFrontEnd({ ...o, protocol: 'pop3', newSession: (settings) => new Pop3Session(settings) });
}
