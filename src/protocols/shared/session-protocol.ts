import type { FailReason } from '../../policy/types.js';
import type { UpstreamRefusal, UpstreamSuccess } from './login-step.js';
import type { SessionState } from './session-state.js';
import type { UpstreamCredentials } from './upstream-login-deadline.js';

/*
 * What a protocol hands the session skeleton (pre-auth-session.ts) besides its greeting and
 * command reader: its command table, its refusal table (HangUp), its login and SASL words.
 */

/**
 * One entry of a protocol's command table. The table is the class's, shared by its sessions
 * (none builds its own), so `run` is given the session it runs in.
 */
export interface CommandSpec<C, S = unknown> {
  /** The states in which the command runs; in any other it gets the protocol's "not now" refusal. */
  states: readonly SessionState[];
  run?(session: S, cmd: C): Promise<void> | void;
}

/** Why a session ends before login; the protocol says its last words for each (refusal table). */
export type HangUp =
  | 'line-too-long'
  | 'too-much-input'
  | 'fatal-syntax'
  | 'timeout'
  | 'too-many-bad-commands'
  | 'too-many-auth-failures'
  | 'shutdown'
  /** Refused before the greeting: [limits] max_connections_per_ip. */
  | 'too-many-from-ip'
  /** Refused before the greeting: no place free after waiting, or no file left. */
  | 'busy';

/** How a login command's outcome is said, and how the protocol logs in at its backend. */
export interface LoginSteps<R extends UpstreamSuccess> {
  /** The reply to a refused login (the protocol's one exhaustive table); passed around unbound. */
  refusal: (reason: FailReason) => string;
  upstream(credentials: UpstreamCredentials): Promise<R | UpstreamRefusal>;
  /** What the client hears once logged in (IMAP relays the backend's capabilities). */
  loggedIn(result: R): string;
}

/** The words of a SASL exchange (AUTHENTICATE, AUTH) in the protocol's wire format. */
export interface SaslReplies {
  /** A server challenge line: "+ <base64>" (IMAP, POP3) or "334 <base64>" (SMTP). */
  challenge(b64: string): string;
  /** The reply to a "*" cancel (counted as a bad command). */
  aborted: string;
  refusal: (reason: FailReason) => string;
}

/** Builds a command table (a Map: no prototype keys answer for a client's command name). */
export function commandTable<C, S>(entries: Record<string, CommandSpec<C, S>>): ReadonlyMap<string, CommandSpec<C, S>> {
  return new Map(Object.entries(entries));
}

